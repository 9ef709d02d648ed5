#include "ioport.h"
#include "lib.h"

void ioport_init(struct ioport_table *t)
{
    memset(t, 0, sizeof(*t));
}

bool ioport_register(struct ioport_table *t, uint16_t base, uint16_t count,
                     const struct ioport_ops *ops, void *dev)
{
    if (!count || !ops || (uint32_t)base + count > IOPORT_COUNT)
        return false;
    for (uint32_t p = base; p < (uint32_t)base + count; p++)
        if (t->owner[p])
            return false;
    /* A slot an unregistered range left is reused, so a BAR that moves often never fills
     * the table. */
    unsigned slot = 0;
    while (slot < t->ndevs && t->devs[slot].ops)
        slot++;
    if (slot == IOPORT_MAX_DEVS)
        return false;
    t->devs[slot] = (struct ioport_dev){ ops, dev, base, count };
    if (slot == t->ndevs)
        t->ndevs++;
    for (uint32_t p = base; p < (uint32_t)base + count; p++)
        t->owner[p] = (uint8_t)(slot + 1);
    return true;
}

bool ioport_unregister(struct ioport_table *t, uint16_t base, const void *dev)
{
    for (unsigned i = 0; i < t->ndevs; i++) {
        struct ioport_dev *d = &t->devs[i];
        if (!d->ops || d->base != base || d->dev != dev)
            continue;
        for (uint32_t p = base; p < (uint32_t)base + d->count; p++)
            t->owner[p] = 0;
        *d = (struct ioport_dev){ 0 };
        return true;
    }
    return false;
}

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

uint32_t ioport_in(struct ioport_table *t, uint16_t port, unsigned size)
{
    unsigned o = t->owner[port];
    if (size > 1 && o && t->devs[o - 1].ops->bytewise) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= ioport_in(t, (uint16_t)(port + i), 1) << (8 * i);
        return v;
    }
    if (!o || !t->devs[o - 1].ops->in) {
        t->unowned_reads++;
        t->last_unowned = port;
        return size_mask(size);
    }
    const struct ioport_dev *d = &t->devs[o - 1];
    return d->ops->in(d->dev, port, size) & size_mask(size);
}

void ioport_out(struct ioport_table *t, uint16_t port, unsigned size, uint32_t val)
{
    unsigned o = t->owner[port];
    if (size > 1 && o && t->devs[o - 1].ops->bytewise) {
        for (unsigned i = 0; i < size; i++)
            ioport_out(t, (uint16_t)(port + i), 1, (val >> (8 * i)) & 0xFF);
        return;
    }
    if (!o || !t->devs[o - 1].ops->out) {
        t->unowned_writes++;
        t->last_unowned = port;
        return;
    }
    const struct ioport_dev *d = &t->devs[o - 1];
    d->ops->out(d->dev, port, size, val & size_mask(size));
}

const char *ioport_owner_name(const struct ioport_table *t, uint16_t port)
{
    unsigned o = t->owner[port];
    return o ? t->devs[o - 1].ops->name : "none";
}
