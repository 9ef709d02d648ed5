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
}

void irq_pulse(struct irq_router *r, unsigned gsi)
{
    irq_set(r, gsi, true);
    irq_set(r, gsi, false);
}

bool irq_line_enabled(const struct irq_router *r, unsigned gsi)
{
    return gsi < I8259_IRQS && i8259_line_enabled(r->pic, gsi);
}

bool irq_pending(const struct irq_router *r)
{
    return i8259_intr(r->pic);
}

uint8_t irq_ack(struct irq_router *r)
{
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
