#include "dev/irq_router.h"

void irq_router_init(struct irq_router *r, struct i8259 *pic, void (*routing_changed)(void *),
                     void (*sync_lines)(void *), void *ctx)
{
    *r = (struct irq_router){ .pic = pic, .routing_changed = routing_changed, .sync_lines = sync_lines, .ctx = ctx };
}

/* The 8259's request latch for an ISA line, to count edges that merge into one request. */
static bool pic_latched(const struct i8259 *p, unsigned irq)
{
    return p->chip[irq >> 3].irr & (1u << (irq & 7));
}

/* An I/O APIC message reaches the LAPIC when its destination names it (SDM 11.6.2): physical,
 * the APIC ID or the broadcast ID; logical, the LDR in the flat or cluster model. */
static bool lapic_matches(const struct lapic *l, const struct ioapic_msg *m)
{
    uint8_t id = (uint8_t)(l->base & APIC_BASE_EXTD ? l->apic_id : l->id >> LAPIC_ID_SHIFT);
    if (!m->dest_logical)
        return m->dest == id || m->dest == LAPIC_XAPIC_BROADCAST;
    uint8_t ldr = (uint8_t)(l->ldr >> LAPIC_ID_SHIFT);
    if ((l->dfr & LAPIC_DFR_MODEL_MASK) == LAPIC_DFR_FLAT)
        return (ldr & m->dest) != 0;
    return (ldr >> 4) == (m->dest >> 4) && (ldr & m->dest & 0xF) != 0;
}

static void ioapic_deliver(void *ctx, const struct ioapic_msg *m)
{
    struct irq_router *r = ctx;
    bool ok = false;
    if (r->lapic && lapic_matches(r->lapic, m)) {
        switch (m->delivery_mode) {
        case IOAPIC_DM_FIXED:
        case IOAPIC_DM_LOWEST:      /* one CPU: it is the lowest priority one */
            ok = lapic_accept(r->lapic, m->vector, m->level);
            break;
        case IOAPIC_DM_NMI:
            r->lapic->nmi_pending = true;
            ok = true;
            break;
        default:                    /* SMI, INIT, ExtINT through the I/O APIC: not wired */
            break;
        }
    }
    if (ok)
        r->msgs_delivered++;
    else
        r->msgs_unclaimed++;
}

void irq_eoi_broadcast(struct irq_router *r, uint8_t vector)
{
    if (r->ioapic)
        ioapic_eoi(r->ioapic, vector);
}

void irq_router_attach_apics(struct irq_router *r, struct ioapic *io, struct lapic *l)
{
    r->ioapic = io;
    r->lapic = l;
    if (io) {
        io->deliver = ioapic_deliver;
        io->masks_changed = irq_routing_changed;
        io->ctx = r;
        /* PCI interrupt lines are active low (the MADT and _PRT say so): at rest they are high. */
        for (unsigned gsi = I8259_IRQS; gsi < IRQ_GSI_COUNT; gsi++)
            ioapic_set_irq(io, gsi, !(r->level & (1u << gsi)));
    }
}

unsigned irq_ioapic_pin(unsigned line)
{
    return line == 0 ? IRQ_PIT_IOAPIC_PIN : line;
}

void irq_set(struct irq_router *r, unsigned gsi, bool level)
{
    if (gsi >= IRQ_GSI_COUNT)
        return;
    uint32_t bit = 1u << gsi;
    bool was = r->level & bit;
    if (level == was)
        return;
    r->level = level ? r->level | bit : r->level & ~bit;
    if (level) {
        r->edges[gsi]++;
        if (gsi < I8259_IRQS && pic_latched(r->pic, gsi))
            r->merged[gsi]++;
    }
    if (gsi < I8259_IRQS)
        i8259_set_irq(r->pic, gsi, level);
    if (r->ioapic)
        ioapic_set_irq(r->ioapic, irq_ioapic_pin(gsi), gsi < I8259_IRQS ? level : !level);
}

void irq_pulse(struct irq_router *r, unsigned gsi)
{
    irq_set(r, gsi, true);
    irq_set(r, gsi, false);
}

/* The 8259's INTR reaches the CPU: no LAPIC, or its LINT0 passes ExtINT (or it is off). */
static bool pic_reaches_cpu(const struct irq_router *r)
{
    return !r->lapic || lapic_extint_enabled(r->lapic);
}

/* I/O APIC messages reach the CPU: its LAPIC is globally and software enabled. */
static bool ioapic_reaches_cpu(const struct irq_router *r)
{
    return r->ioapic && r->lapic && (r->lapic->base & APIC_BASE_EN) && (r->lapic->svr & LAPIC_SVR_ENABLE);
}

bool irq_line_enabled(const struct irq_router *r, unsigned gsi)
{
    if (gsi < I8259_IRQS && pic_reaches_cpu(r) && i8259_line_enabled(r->pic, gsi))
        return true;
    return gsi < IRQ_GSI_COUNT && ioapic_reaches_cpu(r) && ioapic_pin_enabled(r->ioapic, irq_ioapic_pin(gsi));
}

bool irq_pending(struct irq_router *r)
{
    if (r->lapic && lapic_pending(r->lapic) >= 0)
        return true;
    return pic_reaches_cpu(r) && i8259_intr(r->pic);
}

uint8_t irq_ack(struct irq_router *r)
{
    if (r->lapic && lapic_pending(r->lapic) >= 0)
        return lapic_ack(r->lapic);
    return i8259_ack(r->pic);
}

void irq_routing_changed(void *router)
{
    struct irq_router *r = router;
    if (r->routing_changed)
        r->routing_changed(r->ctx);
}

void irq_sync_lines(void *router)
{
    struct irq_router *r = router;
    if (r->sync_lines)
        r->sync_lines(r->ctx);
}
