/* The MMIO region map: a small sorted array, searched by bisection. A VM has a handful of
 * regions (LAPIC, IOAPIC, a few BARs), so an array beats anything cleverer. */
#include "dev/mmio.h"

void mmio_init(struct mmio_table *t)
{
    *t = (struct mmio_table){ 0 };
}

/* Index of the first region whose end is above gpa (n if none). */
static unsigned lower_bound(const struct mmio_table *t, uint64_t gpa)
{
    unsigned lo = 0, hi = t->n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (t->r[mid].base + (t->r[mid].len - 1) < gpa)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool mmio_overlaps(const struct mmio_table *t, uint64_t gpa, uint64_t len)
{
    if (len == 0)
        return false;
    unsigned i = lower_bound(t, gpa);
    uint64_t last = gpa + (len - 1) < gpa ? UINT64_MAX : gpa + (len - 1);
    return i < t->n && t->r[i].base <= last;
}

bool mmio_register(struct mmio_table *t, uint64_t base, uint64_t len, const struct mmio_ops *ops, void *dev)
{
    if (len == 0 || base + (len - 1) < base || t->n == MMIO_MAX_REGIONS || !ops)
        return false;
    if (mmio_overlaps(t, base, len))
        return false;
    unsigned i = lower_bound(t, base);
    for (unsigned j = t->n; j > i; j--)
        t->r[j] = t->r[j - 1];
    t->r[i] = (struct mmio_region){ .base = base, .len = len, .ops = ops, .dev = dev };
    t->n++;
    t->generation++;
    return true;
}

bool mmio_unregister(struct mmio_table *t, uint64_t base, const void *dev)
{
    for (unsigned i = 0; i < t->n; i++) {
        if (t->r[i].base != base || t->r[i].dev != dev)
            continue;
        for (unsigned j = i; j + 1 < t->n; j++)
            t->r[j] = t->r[j + 1];
        t->n--;
        t->generation++;
        return true;
    }
    return false;
}

const struct mmio_region *mmio_find_const(const struct mmio_table *t, uint64_t gpa)
{
    unsigned i = lower_bound(t, gpa);
    return i < t->n && t->r[i].base <= gpa ? &t->r[i] : NULL;
}

struct mmio_region *mmio_find(struct mmio_table *t, uint64_t gpa)
{
    return (struct mmio_region *)mmio_find_const(t, gpa);
}

static struct mmio_region *trapped(struct mmio_table *t, uint64_t gpa, unsigned size)
{
    if (size != 1 && size != 2 && size != 4 && size != 8)
        return NULL;
    struct mmio_region *r = mmio_find(t, gpa);
    if (!r || !r->ops->read || !r->ops->write)
        return NULL;
    if (size > r->len || gpa - r->base > r->len - size) {        /* runs past the region's end */
        t->split_accesses++;
        return NULL;
    }
    return r;
}

bool mmio_read(struct mmio_table *t, uint64_t gpa, unsigned size, uint64_t *val)
{
    struct mmio_region *r = trapped(t, gpa, size);
    if (!r) {
        t->unclaimed_reads++;
        return false;
    }
    r->reads++;
    uint64_t v = r->ops->read(r->dev, gpa - r->base, size);
    *val = size == 8 ? v : v & ((1ull << (size * 8)) - 1);
    return true;
}

bool mmio_write(struct mmio_table *t, uint64_t gpa, unsigned size, uint64_t val)
{
    struct mmio_region *r = trapped(t, gpa, size);
    if (!r) {
        t->unclaimed_writes++;
        return false;
    }
    r->writes++;
    r->ops->write(r->dev, gpa - r->base, size, size == 8 ? val : val & ((1ull << (size * 8)) - 1));
    return true;
}
