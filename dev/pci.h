/* PCI bus 0 behind configuration mechanism #1 (PCI Local Bus spec 2.x, 3.2.2.3.2): the
 * CONFIG_ADDRESS/CONFIG_DATA port pair, a registry of type-0 functions for the devices that
 * plug in (IDE, NIC), and the i440FX chipset's two built-in functions: the 82441FX host bridge
 * at 00:00.0 and the 82371SB (PIIX3) PCI-to-ISA bridge at 00:01.0, whose PIRQ route control
 * registers steer the four PCI interrupt lines to ISA IRQs on the PIC. */
#ifndef MV_PCI_H
#define MV_PCI_H
#include "compiler.h"
#include "dev/ioport.h"
#include "dev/pci_regs.h"

/* Intel ids of the built-in functions. */
#define PCI_VENDOR_INTEL        0x8086
#define PCI_DEVICE_I440FX       0x1237
#define PCI_DEVICE_PIIX3_ISA    0x7000
#define PCI_CLASS_HOST_BRIDGE   0x060000u       /* base class 06 bridge, subclass 00 host */
#define PCI_CLASS_ISA_BRIDGE    0x060100u
#define I440FX_REVISION         0x02
#define PIIX3_REVISION          0x00
#define PCI_HOST_BRIDGE_DEVFN   PCI_DEVFN(0, 0)
#define PCI_ISA_BRIDGE_DEVFN    PCI_DEVFN(1, 0)

/* 82441FX registers kept as plain memory: nothing here shadows BIOS ROM or hides SMRAM. */
#define I440FX_PAM0             0x59    /* 0xF0000-0xFFFFF attributes in bits 5:4 */
#define I440FX_PAM6             0x5F
#define I440FX_PAM_MASK         0x33    /* RE/WE for each half; 7:6 and 3:2 reserved */
#define I440FX_PAM0_MASK        0x30    /* PAM0's low nibble is reserved */
#define I440FX_SMRAM            0x72
#define I440FX_SMRAM_MASK       0x78    /* D_OPEN, D_CLS, D_LCK, G_SMRAME */
#define I440FX_SMRAM_DEFAULT    0x02    /* C_BASE_SEG = 010: the 0xA0000 segment, fixed */

/* 82371SB function 0: PIRQ route control, one byte per PIRQ line A-D. */
#define PIIX3_PIRQRC            0x60
#define PIIX3_PIRQS             4
#define PIIX3_PIRQRC_DISABLE    0x80    /* bit 7: not routed */
#define PIIX3_PIRQRC_IRQ_MASK   0x0F    /* bits 3:0: the ISA IRQ */
#define PIIX3_PIRQRC_WMASK      0x8F    /* bits 6:4 reserved */
#define PIIX3_PIRQRC_DEFAULT    0x80
/* IRQs the router may drive: 3-7, 9-12, 14, 15 (0-2, 8 and 13 are the board's own). */
#define PIIX3_PIRQ_VALID_IRQS   0xDEF8u

struct pci_function;
struct pci_function_ops {
    /* Optional hooks. config_read/config_write own the device's registers at offsets >= 0x40
     * (NULL: plain config memory under wmask; a hook may fall back on pci_config_plain_*). */
    uint32_t (*config_read)(struct pci_function *f, unsigned offset, unsigned size);
    void (*config_write)(struct pci_function *f, unsigned offset, unsigned size, uint32_t val);
    /* A BAR's value changed (also by a sizing probe: pci_bar_address tells whether it now holds
     * a usable address), so the device can move its I/O or MMIO window. */
    void (*bar_changed)(struct pci_function *f, unsigned bar, uint32_t old_value, uint32_t new_value);
    /* COMMAND changed: decoding of the I/O or memory BARs, or bus mastering, switched. */
    void (*command_changed)(struct pci_function *f, uint16_t old_value, uint16_t new_value);
};

struct pci_function {
    uint8_t devfn;                    /* device << 3 | function */
    uint8_t config[PCI_CONFIG_SIZE];  /* little-endian config space */
    uint32_t bar_size[PCI_NUM_BARS];  /* power of two, 0 = unimplemented; I/O BARs have bit 0 set in config */
    uint8_t wmask[PCI_CONFIG_SIZE];   /* writable bits per byte */
    const struct pci_function_ops *ops;
    void *dev;
    bool intx_level;                  /* this function asserts its INTx# */
};

struct pci_bus {
    uint32_t config_address;
    struct pci_function *fn[PCI_MAX_DEVICES * PCI_MAX_FUNCTIONS];   /* index devfn */
    struct pci_function host_bridge, isa_bridge;
    void (*set_irq)(void *ctx, unsigned isa_irq, bool level);      /* where routed PIRQs go (the PIC) */
    void *ctx;
    /* Where the PIRQ lines themselves go: on boards with an I/O APIC each PIRQ is also wired
     * to an I/O APIC pin (16-19), whatever PIRQRC says. NULL: nowhere. */
    void (*pirq_changed)(void *ctx, unsigned pirq, bool level);
    uint8_t pirq_level[PIIX3_PIRQS];  /* current level of each PIRQ line (A-D), counting functions asserting it */
    uint16_t isa_irq_out;             /* ISA IRQs this router drives high (one bit per IRQ) */
};

void pci_init(struct pci_bus *b, void (*set_irq)(void *, unsigned, bool), void *ctx);
void pci_on_pirq(struct pci_bus *b, void (*pirq_changed)(void *, unsigned, bool));
/* What a PC BIOS does before it boots an OS: routes PIRQA-D to the given ISA IRQs, gives
 * every implemented BAR of every function an aligned address (I/O from io_base, memory from
 * mem_base, each kind in decreasing size order so nothing is wasted on alignment), records
 * each function's routed IRQ in INTERRUPT_LINE and enables its decoding and bus mastering.
 * Every write goes through pci_config_write, so devices see their BARs move. False if a
 * window overflows (io below PCI_IO_SPACE_SIZE, mem below mem_limit). */
bool pci_firmware_setup(struct pci_bus *b, const uint8_t pirq_irq[PIIX3_PIRQS], uint32_t io_base,
                        uint32_t mem_base, uint32_t mem_limit);
/* Sets up a function's header: ids, class_rev = the dword at PCI_CLASS_REVISION (class code
 * << 8 | revision), interrupt pin (1-4 = INTA#-INTD#, 0 = none); the caller then declares
 * BARs, and may set further config bytes and wmask bits directly. */
void pci_function_init(struct pci_function *f, uint8_t devfn, uint16_t vendor, uint16_t device,
                       uint32_t class_rev, uint8_t int_pin, const struct pci_function_ops *ops, void *dev);
/* A 32-bit non-prefetchable memory or an I/O BAR. size is rounded up to a power of two of at
 * least 16 (I/O: 4); 0, or too big for the space, leaves the BAR unimplemented. */
void pci_function_set_bar(struct pci_function *f, unsigned bar, uint32_t size, bool io);
/* False if devfn is taken. Sets the multi-function bit of function 0 when it gets company. */
bool pci_register(struct pci_bus *b, struct pci_function *f);
/* A function raises/lowers its INTx#; the PIIX3 swizzle (PIRQ = (pin - 1 + device) & 3) and
 * PIRQRC routing pick the ISA IRQ. PIRQs are wired-OR: an IRQ stays high while any source is. */
void pci_set_intx(struct pci_bus *b, struct pci_function *f, bool level);
/* offset + size must stay inside one dword (size 1, 2 or 4); otherwise, or for an absent
 * function, reads return all-ones (of size) and writes are dropped. */
uint32_t pci_config_read(struct pci_bus *b, uint8_t devfn, unsigned offset, unsigned size);
void pci_config_write(struct pci_bus *b, uint8_t devfn, unsigned offset, unsigned size, uint32_t val);
/* Config memory without hooks: what a hook falls back on for the registers it does not own. */
uint32_t pci_config_plain_read(const struct pci_function *f, unsigned offset, unsigned size);
void pci_config_plain_write(struct pci_function *f, unsigned offset, unsigned size, uint32_t val);
/* Decoded base, 0 if unprogrammed: unimplemented, zero, the all-ones sizing value, or an I/O
 * window that does not fit the 64 KiB port space. Ignores COMMAND (see pci_bar_enabled). */
uint32_t pci_bar_address(const struct pci_function *f, unsigned bar);
/* The BAR has an address and COMMAND enables its space: the device should decode it. */
bool pci_bar_enabled(const struct pci_function *f, unsigned bar);
bool pci_bar_is_io(const struct pci_function *f, unsigned bar);
/* The ISA IRQ a PIRQ line (0-3 = A-D) is routed to, or -1 if disabled or invalid. */
int pci_pirq_route(const struct pci_bus *b, unsigned pirq);
bool pci_attach(struct ioport_table *io, struct pci_bus *b);
#endif
