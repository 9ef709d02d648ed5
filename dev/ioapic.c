/* 82093AA I/O APIC, from the Intel 82093AA datasheet (order no. 290566), section 3 (registers),
 * and SDM vol. 3A chapter 11 (the messages the local APICs receive). Choices:
 *  - Delivery is immediate: a message is accepted the moment it is sent, so delivery status
 *    (RTE bit 12) always reads 0 (idle) and a level entry's remote IRR is set as it is sent.
 *  - Masked pins: "Edge-sensitive interrupts signaled on a masked interrupt pin are ignored
 *    (i.e., not delivered or held pending). Level-asserts or negates occurring on a masked
 *    level-sensitive pin are also ignored" (3.2.4, bit 16). An edge on a masked pin is lost;
 *    a level pin is looked at again when it is unmasked, and sends if it is still asserted.
 *  - Remote IRR is cleared by the EOI broadcast (the 82093AA has no EOI register) and by
 *    setting the entry's trigger mode to edge. The datasheet only says remote IRR is
 *    "undefined for edge triggered interrupts"; Linux's __eoi_ioapic_pin() clears a stuck
 *    remote IRR on IOAPICs below version 0x20 by writing the entry masked+edge and then back
 *    (the Spraul/Rozycki erratum workaround), and KVM, QEMU and Xen all model the clearing
 *    because those guests rely on it on real parts.
 *  - SMI, NMI, INIT and ExtINT "require an edge trigger mode" (3.2.4, bits 10:8): such entries
 *    are edge sensitive whatever bit 15 says, and never set remote IRR. The reserved delivery
 *    modes 011 and 110 send nothing (counted in 'dropped').
 *  - Writing an entry makes no edge, even if it flips the polarity of an asserted pin; edges
 *    come only from the pins.
 *  - MMIO: the chip decodes IOREGSEL (D/I# = 0) and IOWIN (D/I# = 1, on SA4). IOREGSEL may be
 *    written as a byte (section 3.0: "a byte memory write ... loads the IOREGSEL Register");
 *    IOWIN "must be accessed as a Dword". Reads of 1, 2 or 4 bytes return those bytes of the
 *    addressed dword; an IOWIN write that is not a full dword is ignored. The rest of the
 *    page (no aliases modelled, no EOI register at 0x40) reads 0 and ignores writes. Those
 *    and unknown indirect registers count in 'bad_access'. */
#include "ioapic.h"

#define DWORD_BYTES         4u
#define DWORD_OFF_MASK      (DWORD_BYTES - 1)
#define BITS_PER_BYTE       8u
#define IOREGSEL_MASK       0xFFu           /* bits 7:0; 31:8 reserved */
#define ID_SHIFT            24              /* IOAPICID / IOAPICARB bits 27:24 */
#define ID_MASK             0x0Fu
#define VER_MRE_SHIFT       16              /* maximum redirection entry, bits 23:16 */
#define RTE_HIGH_SHIFT      32
#define RTE_LOW_HALF        0x00000000FFFFFFFFull
#define RTE_HIGH_HALF       0xFFFFFFFF00000000ull
#define RTE_DM_RESERVED_1   3u
#define RTE_DM_RESERVED_2   6u
/* R/W fields; bits 55:17 are reserved and read 0, bits 12 and 14 are read-only. */
#define RTE_WRITABLE        (IOAPIC_RTE_VECTOR_MASK | IOAPIC_RTE_DELMODE_MASK | IOAPIC_RTE_DESTMODE | \
                             IOAPIC_RTE_POLARITY | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED | IOAPIC_RTE_DEST_MASK)

static unsigned delivery_mode(uint64_t e)
{
    return (unsigned)((e & IOAPIC_RTE_DELMODE_MASK) >> IOAPIC_RTE_DELMODE_SHIFT);
}

/* Level semantics (remote IRR, EOI) apply only where the delivery mode allows them. */
static bool level_sensitive(uint64_t e)
{
    unsigned dm = delivery_mode(e);
    return (e & IOAPIC_RTE_LEVEL) && (dm == IOAPIC_DM_FIXED || dm == IOAPIC_DM_LOWEST);
}

bool ioapic_pin_asserted(const struct ioapic *io, unsigned pin)
{
    if (pin >= IOAPIC_PINS)
        return false;
    bool high = (io->levels >> pin) & 1;
    bool active_low = (io->redir[pin] & IOAPIC_RTE_POLARITY) != 0;
    return high != active_low;
}

bool ioapic_pin_enabled(const struct ioapic *io, unsigned pin)
{
    return pin < IOAPIC_PINS && !(io->redir[pin] & IOAPIC_RTE_MASKED);
}

bool ioapic_any_enabled(const struct ioapic *io)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        if (ioapic_pin_enabled(io, pin))
            return true;
    return false;
}

/* Puts the entry's message on the bus. The entry is updated first, so the receiver (and a
 * test's invariant check) sees the state the message left behind. */
static void send(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->redir[pin];
    unsigned dm = delivery_mode(e);
    if (dm == RTE_DM_RESERVED_1 || dm == RTE_DM_RESERVED_2) {
        io->dropped++;
        return;
    }
    bool level = level_sensitive(e);
    if (level)
        io->redir[pin] = e | IOAPIC_RTE_REMOTE_IRR;
    io->delivered[pin]++;
    struct ioapic_msg m = {
        .vector = (uint8_t)(e & IOAPIC_RTE_VECTOR_MASK),
        .delivery_mode = (uint8_t)dm,
        .dest_logical = (e & IOAPIC_RTE_DESTMODE) != 0,
        .dest = (uint8_t)(e >> IOAPIC_RTE_DEST_SHIFT),
        .level = level,
        .pin = (uint8_t)pin,
    };
    if (io->deliver)
        io->deliver(io->ctx, &m);
}

/* A level entry sends whenever it is asserted, unmasked and not awaiting an EOI. */
static void service_level(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->redir[pin];
    if (level_sensitive(e) && !(e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) && ioapic_pin_asserted(io, pin))
        send(io, pin);
}

void ioapic_init(struct ioapic *io, uint8_t id, void (*deliver)(void *ctx, const struct ioapic_msg *m),
                 void (*masks_changed)(void *ctx), void *ctx)
{
    *io = (struct ioapic){
        .id = id & ID_MASK,
        .arb = id & ID_MASK,
        .deliver = deliver,
        .masks_changed = masks_changed,
        .ctx = ctx,
    };
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        io->redir[pin] = IOAPIC_RTE_MASKED;
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
    if (pin >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << pin;
    if (((io->levels & bit) != 0) == level)
        return;
    io->levels = level ? io->levels | bit : io->levels & ~bit;
    if (!ioapic_pin_asserted(io, pin))
        return;                 /* a deassertion sends nothing; remote IRR waits for the EOI */
    uint64_t e = io->redir[pin];
    if (e & IOAPIC_RTE_MASKED)
        io->masked_edges++;
    else if (!level_sensitive(e))
        send(io, pin);
    else if (e & IOAPIC_RTE_REMOTE_IRR)
        io->coalesced++;        /* the one in service covers it: the EOI re-sends if still high */
    else
        send(io, pin);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    io->eois++;
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->redir[pin];
        if (!(e & IOAPIC_RTE_REMOTE_IRR) || (e & IOAPIC_RTE_VECTOR_MASK) != vector)
            continue;
        io->redir[pin] = e & ~IOAPIC_RTE_REMOTE_IRR;
        io->eoi_cleared++;
        service_level(io, pin);
    }
}

static void write_rte(struct ioapic *io, unsigned pin, bool high, uint32_t val)
{
    uint64_t half = high ? RTE_HIGH_HALF : RTE_LOW_HALF;
    uint64_t v = high ? (uint64_t)val << RTE_HIGH_SHIFT : val;
    uint64_t old = io->redir[pin];
    uint64_t e = (old & ~(half & RTE_WRITABLE)) | (v & half & RTE_WRITABLE);
    if (!(e & IOAPIC_RTE_LEVEL))
        e &= ~IOAPIC_RTE_REMOTE_IRR;    /* what Linux's edge-and-back EOI relies on */
    io->redir[pin] = e;
    bool mask_flipped = ((old ^ e) & IOAPIC_RTE_MASKED) != 0;
    if ((mask_flipped || (old != e && !(e & IOAPIC_RTE_MASKED))) && io->masks_changed)
        io->masks_changed(io->ctx);
    service_level(io, pin);             /* unmasked, or made level, while asserted */
}

uint32_t ioapic_reg_read(struct ioapic *io, uint8_t index)
{
    switch (index) {
    case IOAPIC_REG_ID:
        return (uint32_t)io->id << ID_SHIFT;
    case IOAPIC_REG_VER:
        return (uint32_t)(IOAPIC_PINS - 1) << VER_MRE_SHIFT | IOAPIC_VERSION;
    case IOAPIC_REG_ARB:
        return (uint32_t)io->arb << ID_SHIFT;
    default:
        break;
    }
    if (index >= IOAPIC_REG_REDTBL && index < IOAPIC_REG_REDTBL_END) {
        unsigned rel = index - IOAPIC_REG_REDTBL;
        uint64_t e = io->redir[rel / 2];
        return (uint32_t)((rel & 1) ? e >> RTE_HIGH_SHIFT : e);
    }
    io->bad_access++;
    return 0;
}

void ioapic_reg_write(struct ioapic *io, uint8_t index, uint32_t val)
{
    if (index == IOAPIC_REG_ID) {
        io->id = (uint8_t)((val >> ID_SHIFT) & ID_MASK);
        io->arb = io->id;               /* "same data is loaded into both" (3.2.1) */
    } else if (index >= IOAPIC_REG_REDTBL && index < IOAPIC_REG_REDTBL_END) {
        unsigned rel = index - IOAPIC_REG_REDTBL;
        write_rte(io, rel / 2, rel & 1, val);
    } else {
        io->bad_access++;               /* IOAPICVER, IOAPICARB are read-only; others absent */
    }
}

/* An access of size 1, 2 or 4 that stays in one dword of the page. */
static bool access_ok(uint64_t off, unsigned size)
{
    return off < IOAPIC_MMIO_SIZE && (size == 1 || size == 2 || size == DWORD_BYTES) &&
           (off & DWORD_OFF_MASK) + size <= DWORD_BYTES;
}

uint32_t ioapic_mmio_read(struct ioapic *io, uint64_t off, unsigned size)
{
    if (!access_ok(off, size)) {
        io->bad_access++;
        return 0;
    }
    uint64_t reg = off & ~(uint64_t)DWORD_OFF_MASK;
    uint32_t dword;
    if (reg == IOAPIC_IOREGSEL) {
        dword = io->ioregsel;
    } else if (reg == IOAPIC_IOWIN) {
        if (size != DWORD_BYTES)
            io->bad_access++;           /* answered anyway: a read has no side effect */
        dword = ioapic_reg_read(io, io->ioregsel);
    } else {
        io->bad_access++;
        return 0;
    }
    unsigned shift = (unsigned)(off & DWORD_OFF_MASK) * BITS_PER_BYTE;
    uint32_t mask = size == DWORD_BYTES ? UINT32_MAX : (1u << (size * BITS_PER_BYTE)) - 1;
    return (dword >> shift) & mask;
}

void ioapic_mmio_write(struct ioapic *io, uint64_t off, unsigned size, uint32_t val)
{
    if (!access_ok(off, size)) {
        io->bad_access++;
        return;
    }
    uint64_t reg = off & ~(uint64_t)DWORD_OFF_MASK;
    if (reg == IOAPIC_IOREGSEL && (off & DWORD_OFF_MASK) == 0)
        io->ioregsel = (uint8_t)(val & IOREGSEL_MASK);  /* a byte, word or dword holding bits 7:0 */
    else if (reg == IOAPIC_IOWIN && size == DWORD_BYTES)
        ioapic_reg_write(io, io->ioregsel, val);
    else
        io->bad_access++;               /* reserved IOREGSEL bytes, partial IOWIN, elsewhere */
}
