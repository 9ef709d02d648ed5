/* MP tables, from the Intel MultiProcessor Specification version 1.4 (order no. 242016),
 * chapter 4: the floating pointer (4.1), the configuration table header (4.2) and the base
 * table entries (4.3), which must appear sorted by entry type. Laid out byte by byte. */
#include "vm/mptable.h"
#include "lib.h"

#define BYTE_BITS           8
#define SPEC_REV_1_4        4

/* Floating pointer structure (4.1, table 4-1). */
#define FPS_SIGNATURE       "_MP_"
#define FPS_SIG_LEN         4
#define FPS_PHYSPTR         4
#define FPS_LENGTH          8           /* in 16-byte paragraphs */
#define FPS_SPEC_REV        9
#define FPS_CHECKSUM        10
#define FPS_FEATURE1        11          /* 0: a configuration table is present */
#define FPS_FEATURE2        12          /* bit 7 IMCRP: 0 = virtual wire mode, no IMCR */
#define FPS_SIZE            16
#define FPS_PARAGRAPH       16
#define FPS_PARAGRAPHS      (FPS_SIZE / FPS_PARAGRAPH)
#define FPS_CONFIG_PRESENT  0
#define FPS_VIRTUAL_WIRE    0

/* Configuration table header (4.2, table 4-2). */
#define CT_SIGNATURE        "PCMP"
#define CT_BASE_LENGTH      4
#define CT_SPEC_REV         6
#define CT_CHECKSUM         7
#define CT_OEM_ID           8
#define CT_PRODUCT_ID       16
#define CT_OEM_TABLE_PTR    28
#define CT_OEM_TABLE_SIZE   32
#define CT_ENTRY_COUNT      34
#define CT_LAPIC_ADDR       36
#define CT_EXT_LENGTH       40
#define CT_EXT_CHECKSUM     42
#define CT_HEADER_SIZE      44
#define CT_OEM_ID_STR       "MONOVI  "          /* 8 bytes, space padded */
#define CT_PRODUCT_ID_STR   "MONOVISOR   "      /* 12 bytes */
#define CT_OEM_ID_LEN       8
#define CT_PRODUCT_ID_LEN   12

/* Base table entries (4.3). */
#define ENT_PROCESSOR       0
#define ENT_BUS             1
#define ENT_IOAPIC          2
#define ENT_IO_INT          3
#define ENT_LOCAL_INT       4
#define PROCESSOR_SIZE      20
#define OTHER_ENTRY_SIZE    8
#define CPU_EN              0x01
#define CPU_BP              0x02
#define BUS_TYPE_LEN        6
#define BUS_TYPE_PCI        "PCI   "
#define BUS_TYPE_ISA        "ISA   "
#define IOAPIC_VERSION      0x11        /* 82093AA */
#define IOAPIC_EN           0x01
#define INT_TYPE_INT        0           /* vectored, from the IOAPIC redirection table */
#define INT_TYPE_NMI        1
#define INT_TYPE_EXTINT     3           /* the 8259's vector */
/* Interrupt flags: polarity 1:0 (01 high, 11 low), trigger 3:2 (01 edge, 11 level); 0 is
 * "conforms to the bus" (ISA: edge/high, PCI: level/low). */
#define INT_FLAGS_CONFORM   0x0
#define INT_PO_HIGH         0x1
#define INT_PO_LOW          0x3
#define INT_EL_LEVEL        (0x3 << 2)
#define PCI_IRQ_SLOT_SHIFT  2           /* PCI source bus IRQ: slot 6:2, INTx 1:0 */
#define LAPIC_ALL           0xFF
#define LINT0               0
#define LINT1               1
#define ALL_SLOTS           0xFFFFFFFFu

struct mpw {
    uint8_t *buf;
    size_t cap, len;
    bool error;
    unsigned entries;
};

static void b(struct mpw *w, uint8_t v)
{
    if (w->len >= w->cap) {
        w->error = true;
        return;
    }
    w->buf[w->len++] = v;
}

static void le(struct mpw *w, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        b(w, (uint8_t)(v >> (i * BYTE_BITS)));
}

static void zeros(struct mpw *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b(w, 0);
}

static void str(struct mpw *w, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b(w, (uint8_t)s[i]);
}

static void put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (i * BYTE_BITS));
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

/* An I/O (type 3) or local (type 4) interrupt assignment entry: both are laid out alike. */
static void int_entry(struct mpw *w, uint8_t type, uint8_t int_type, uint16_t flags,
                      uint8_t src_bus, uint8_t src_irq, uint8_t dst_id, uint8_t dst_pin)
{
    b(w, type);
    b(w, int_type);
    le(w, flags, sizeof(uint16_t));
    b(w, src_bus);
    b(w, src_irq);
    b(w, dst_id);
    b(w, dst_pin);
    w->entries++;
}

static void entries(struct mpw *w, const struct mptable_config *c)
{
    for (unsigned i = 0; i < c->ncpus; i++) {
        b(w, ENT_PROCESSOR);
        b(w, (uint8_t)i);               /* local APIC ID */
        b(w, c->lapic_version);
        b(w, (uint8_t)(CPU_EN | (i == 0 ? CPU_BP : 0)));
        le(w, c->cpu_signature, sizeof(uint32_t));
        le(w, c->cpu_features, sizeof(uint32_t));
        le(w, 0, sizeof(uint64_t));     /* reserved */
        w->entries++;
    }
    b(w, ENT_BUS);
    b(w, MP_BUS_PCI);
    str(w, BUS_TYPE_PCI, BUS_TYPE_LEN);
    w->entries++;
    b(w, ENT_BUS);
    b(w, MP_BUS_ISA);
    str(w, BUS_TYPE_ISA, BUS_TYPE_LEN);
    w->entries++;

    b(w, ENT_IOAPIC);
    b(w, c->ioapic_id);
    b(w, IOAPIC_VERSION);
    b(w, IOAPIC_EN);
    le(w, c->ioapic_addr, sizeof(uint32_t));
    w->entries++;

    for (unsigned irq = 0; irq < FW_ISA_IRQS; irq++) {
        if (irq == FW_CASCADE_IRQ)
            continue;                   /* nothing is wired behind the cascade input */
        uint8_t pin = (uint8_t)(irq == FW_PIT_IRQ ? FW_PIT_GSI : irq);
        uint16_t flags = c->sci_irq && irq == c->sci_irq ? INT_EL_LEVEL | INT_PO_HIGH : INT_FLAGS_CONFORM;
        int_entry(w, ENT_IO_INT, INT_TYPE_INT, flags, MP_BUS_ISA, (uint8_t)irq, c->ioapic_id, pin);
    }
    uint32_t slots = c->pci_slots ? c->pci_slots : ALL_SLOTS;
    for (unsigned slot = 0; slot < FW_PCI_SLOTS; slot++) {
        if (!(slots & BIT(slot)))
            continue;
        for (unsigned pin = 0; pin < FW_PCI_PINS; pin++)
            int_entry(w, ENT_IO_INT, INT_TYPE_INT, INT_EL_LEVEL | INT_PO_LOW, MP_BUS_PCI,
                      (uint8_t)(slot << PCI_IRQ_SLOT_SHIFT | pin), c->ioapic_id,
                      (uint8_t)fw_pci_intx_gsi(slot, pin));
    }

    /* The 8259 reaches every LAPIC's LINT0 (virtual wire), NMI their LINT1. */
    int_entry(w, ENT_LOCAL_INT, INT_TYPE_EXTINT, INT_FLAGS_CONFORM, MP_BUS_ISA, 0, LAPIC_ALL, LINT0);
    int_entry(w, ENT_LOCAL_INT, INT_TYPE_NMI, INT_FLAGS_CONFORM, MP_BUS_ISA, 0, LAPIC_ALL, LINT1);
}

size_t mptable_build(const struct mptable_config *c, uint64_t base, uint8_t *buf, size_t cap)
{
    if (c->ncpus < 1 || c->ncpus > MP_MAX_CPUS || base % MP_FPS_ALIGN || base >= BIT(32) ||
        c->sci_irq >= FW_ISA_IRQS || c->sci_irq == FW_CASCADE_IRQ || !c->lapic_addr)
        return 0;
    struct mpw w = { .buf = buf, .cap = cap };
    zeros(&w, FPS_SIZE);                /* the floating pointer, filled in below */
    size_t ct = w.len;
    zeros(&w, CT_HEADER_SIZE);
    entries(&w, c);
    if (w.error || base + w.len > BIT(32) || w.len - ct > UINT16_MAX)
        return 0;

    uint8_t *h = buf + ct;
    memcpy(h, CT_SIGNATURE, FPS_SIG_LEN);
    put(h + CT_BASE_LENGTH, w.len - ct, sizeof(uint16_t));
    h[CT_SPEC_REV] = SPEC_REV_1_4;
    memcpy(h + CT_OEM_ID, CT_OEM_ID_STR, CT_OEM_ID_LEN);
    memcpy(h + CT_PRODUCT_ID, CT_PRODUCT_ID_STR, CT_PRODUCT_ID_LEN);
    put(h + CT_OEM_TABLE_PTR, 0, sizeof(uint32_t));     /* no OEM table */
    put(h + CT_OEM_TABLE_SIZE, 0, sizeof(uint16_t));
    put(h + CT_ENTRY_COUNT, w.entries, sizeof(uint16_t));
    put(h + CT_LAPIC_ADDR, c->lapic_addr, sizeof(uint32_t));
    put(h + CT_EXT_LENGTH, 0, sizeof(uint16_t));        /* no extended entries */
    h[CT_EXT_CHECKSUM] = 0;
    h[CT_CHECKSUM] = checksum(h, w.len - ct);

    uint8_t *f = buf;
    memcpy(f, FPS_SIGNATURE, FPS_SIG_LEN);
    put(f + FPS_PHYSPTR, base + ct, sizeof(uint32_t));
    f[FPS_LENGTH] = FPS_PARAGRAPHS;
    f[FPS_SPEC_REV] = SPEC_REV_1_4;
    f[FPS_FEATURE1] = FPS_CONFIG_PRESENT;
    f[FPS_FEATURE2] = FPS_VIRTUAL_WIRE;
    f[FPS_CHECKSUM] = checksum(f, FPS_SIZE);
    return w.len;
}
