/* Intel 82093AA I/O APIC (version 0x11, 24 pins): the guest's IOAPIC. Pure model: devices
 * drive its input pins (through the IRQ router), it sends interrupt messages to the local
 * APICs through a callback, and the LAPIC's EOI broadcast comes back through ioapic_eoi().
 * The registers are reached through the two memory-mapped IOREGSEL/IOWIN windows. */
#ifndef MV_IOAPIC_H
#define MV_IOAPIC_H
#include "compiler.h"

#define IOAPIC_DEFAULT_BASE     0xFEC00000ull   /* MP spec / PIIX3 APICBASE default */
#define IOAPIC_MMIO_SIZE        0x1000u         /* one 4 KiB page per IOAPIC (MP spec) */
#define IOAPIC_IOREGSEL         0x00u           /* MMIO offset: register select */
#define IOAPIC_IOWIN            0x10u           /* MMIO offset: data window */
#define IOAPIC_PINS             24
#define IOAPIC_VERSION          0x11u           /* 82093AA: no EOI register (that is 0x20) */

/* Indirect registers (selected by IOREGSEL bits 7:0) */
#define IOAPIC_REG_ID           0x00u
#define IOAPIC_REG_VER          0x01u
#define IOAPIC_REG_ARB          0x02u
#define IOAPIC_REG_REDTBL       0x10u           /* entry n: low dword 0x10+2n, high 0x11+2n */
#define IOAPIC_REG_REDTBL_END   (IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS)

/* Redirection table entry fields */
#define IOAPIC_RTE_VECTOR_MASK  0xFFull
#define IOAPIC_RTE_DELMODE_SHIFT 8
#define IOAPIC_RTE_DELMODE_MASK (7ull << IOAPIC_RTE_DELMODE_SHIFT)
#define IOAPIC_RTE_DESTMODE     BIT(11)         /* 1 = logical */
#define IOAPIC_RTE_DELIVS       BIT(12)         /* RO: delivery status (always idle here) */
#define IOAPIC_RTE_POLARITY     BIT(13)         /* 1 = active low */
#define IOAPIC_RTE_REMOTE_IRR   BIT(14)         /* RO: level interrupt accepted, awaiting EOI */
#define IOAPIC_RTE_LEVEL        BIT(15)         /* trigger mode: 1 = level */
#define IOAPIC_RTE_MASKED       BIT(16)
#define IOAPIC_RTE_DEST_SHIFT   56
#define IOAPIC_RTE_DEST_MASK    (0xFFull << IOAPIC_RTE_DEST_SHIFT)

/* Delivery modes (bits 10:8) */
#define IOAPIC_DM_FIXED         0u
#define IOAPIC_DM_LOWEST        1u
#define IOAPIC_DM_SMI           2u
#define IOAPIC_DM_NMI           4u
#define IOAPIC_DM_INIT          5u
#define IOAPIC_DM_EXTINT        7u

/* One interrupt message as the IOAPIC puts it on the APIC bus. */
struct ioapic_msg {
    uint8_t vector;         /* meaningless for SMI/NMI/INIT/ExtINT (ExtINT: the 8259 supplies it) */
    uint8_t delivery_mode;  /* IOAPIC_DM_* */
    bool dest_logical;      /* destination mode */
    uint8_t dest;           /* RTE bits 63:56 as programmed (physical mode: the 82093AA uses 59:56) */
    bool level;             /* level triggered: the LAPIC must broadcast an EOI for it */
    uint8_t pin;            /* the input pin that sent it (for tracing) */
};

struct ioapic {
    uint8_t id;                     /* IOAPICID bits 27:24 (4 bits) */
    uint8_t arb;                    /* IOAPICARB: loaded with the ID on every ID write */
    uint8_t ioregsel;               /* IOREGSEL bits 7:0 */
    uint64_t redir[IOAPIC_PINS];
    uint32_t levels;                /* electrical pin levels as the devices drive them */
    /* The platform hands the message to the LAPIC(s). Called after the entry's remote IRR is
     * updated. Must not re-enter the IOAPIC. */
    void (*deliver)(void *ctx, const struct ioapic_msg *m);
    /* Called when a write changed a mask bit, or changed an unmasked entry: which pins can
     * interrupt (or where to) changed, so cached timer deadlines must be looked at again. */
    void (*masks_changed)(void *ctx);
    void *ctx;
    uint64_t delivered[IOAPIC_PINS];    /* messages sent, per pin */
    uint64_t eois;                  /* EOI broadcasts received */
    uint64_t eoi_cleared;           /* remote IRR bits they cleared */
    uint64_t coalesced;             /* assertions on unmasked level pins with remote IRR set */
    uint64_t masked_edges;          /* assertions on masked pins (lost, datasheet 3.2.4 bit 16) */
    uint64_t dropped;               /* messages not sent: reserved delivery mode 011/110 */
    uint64_t bad_access;            /* IOWIN not as a dword, unknown offset or register, RO write */
};

/* Power-on state: every entry masked and otherwise 0, all pins low, IOREGSEL 0. The ID (low 4
 * bits used) is what the BIOS would have programmed; the arbitration ID follows it. Either
 * callback may be NULL. */
void ioapic_init(struct ioapic *io, uint8_t id, void (*deliver)(void *ctx, const struct ioapic_msg *m),
                 void (*masks_changed)(void *ctx), void *ctx);
/* Drives input pin (0-23; others are ignored) to an electrical level; the entry's polarity
 * says which level asserts it. Edge entries send one message per asserting edge while
 * unmasked; level entries send while asserted, unmasked and remote IRR is clear. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* The local APIC's EOI broadcast for vector: clears remote IRR of the level entries with that
 * vector, and sends again for those whose pin is still asserted and unmasked. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);
/* The page at the IOAPIC's base: off 0..0xFFF, size 1, 2 or 4 within one dword. */
uint32_t ioapic_mmio_read(struct ioapic *io, uint64_t off, unsigned size);
void ioapic_mmio_write(struct ioapic *io, uint64_t off, unsigned size, uint32_t val);
/* The indirect register index as a dword IOWIN access would reach it. */
uint32_t ioapic_reg_read(struct ioapic *io, uint8_t index);
void ioapic_reg_write(struct ioapic *io, uint8_t index, uint32_t val);
/* The pin's entry is unmasked: a timer on it needs a deadline. False for pins beyond 23. */
bool ioapic_pin_enabled(const struct ioapic *io, unsigned pin);
/* Some entry is unmasked (the guest uses the IOAPIC at all). */
bool ioapic_any_enabled(const struct ioapic *io);
/* The pin is asserted as its entry's polarity reads the level. */
bool ioapic_pin_asserted(const struct ioapic *io, unsigned pin);
#endif
