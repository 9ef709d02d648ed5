/* The MMIO region map: registration rules (no overlap, no wrap, a full table), lookup at
 * region edges, dispatch with the guest's access width, accesses that straddle a region's
 * end, unregistration as a moved BAR needs it, and a randomized check against a byte map. */
#include "test.h"
#include "dev/mmio.h"
#include "compiler.h"

struct fake_dev {
    uint64_t last_off, last_val;
    unsigned last_size, reads, writes;
};

static uint64_t fake_read(void *d, uint64_t off, unsigned size)
{
    struct fake_dev *f = d;
    f->reads++;
    f->last_off = off;
    f->last_size = size;
    return 0x1122334455667788ull;
}

static void fake_write(void *d, uint64_t off, unsigned size, uint64_t val)
{
    struct fake_dev *f = d;
    f->writes++;
    f->last_off = off;
    f->last_size = size;
    f->last_val = val;
}

static uint64_t fake_hpa(void *d, uint64_t off) { return 0x100000 + off; }

static const struct mmio_ops trap_ops = { .name = "fake", .read = fake_read, .write = fake_write };
static const struct mmio_ops mem_ops = { .name = "vram", .hpa = fake_hpa };

TEST(mmio_register_rejects_overlap_wrap_and_empty)
{
    struct mmio_table t;
    struct fake_dev a, b;
    mmio_init(&t);
    CHECK(mmio_register(&t, 0xFEE00000, 0x1000, &trap_ops, &a));
    CHECK(!mmio_register(&t, 0xFEE00FFF, 0x10, &trap_ops, &b));      /* last byte shared */
    CHECK(!mmio_register(&t, 0xFEDFFFF0, 0x11, &trap_ops, &b));      /* first byte shared */
    CHECK(!mmio_register(&t, 0xFEE00100, 0x10, &trap_ops, &b));      /* inside */
    CHECK(!mmio_register(&t, 0xFE000000, 0x10000000, &trap_ops, &b)); /* around */
    CHECK(!mmio_register(&t, 0x1000, 0, &trap_ops, &b));
    CHECK(!mmio_register(&t, UINT64_MAX - 0xF, 0x20, &trap_ops, &b)); /* wraps */
    CHECK(mmio_register(&t, UINT64_MAX - 0xF, 0x10, &trap_ops, &b));  /* ends at the top: fine */
    CHECK(mmio_register(&t, 0xFEE01000, 0x1000, &trap_ops, &b));      /* adjacent */
    CHECK(mmio_register(&t, 0xFEDFF000, 0x1000, &trap_ops, &b));
    CHECK_EQ(t.n, 4);
    for (unsigned i = 1; i < t.n; i++)
        CHECK(t.r[i - 1].base + t.r[i - 1].len <= t.r[i].base);
}

TEST(mmio_table_full)
{
    struct mmio_table t;
    struct fake_dev a;
    mmio_init(&t);
    for (unsigned i = 0; i < MMIO_MAX_REGIONS; i++)
        CHECK(mmio_register(&t, 0x10000000ull + (uint64_t)(MMIO_MAX_REGIONS - i) * 0x2000, 0x1000, &trap_ops, &a));
    CHECK(!mmio_register(&t, 0x1000, 0x1000, &trap_ops, &a));
    CHECK(mmio_unregister(&t, 0x10002000, &a));
    CHECK(mmio_register(&t, 0x1000, 0x1000, &trap_ops, &a));
}

TEST(mmio_find_at_edges)
{
    struct mmio_table t;
    struct fake_dev a, b;
    mmio_init(&t);
    mmio_register(&t, 0xFEC00000, 0x1000, &trap_ops, &a);
    mmio_register(&t, 0xFEE00000, 0x1000, &trap_ops, &b);
    CHECK(mmio_find(&t, 0xFEBFFFFF) == NULL);
    CHECK(mmio_find(&t, 0xFEC00000)->dev == &a);
    CHECK(mmio_find(&t, 0xFEC00FFF)->dev == &a);
    CHECK(mmio_find(&t, 0xFEC01000) == NULL);
    CHECK(mmio_find(&t, 0xFEE00000)->dev == &b);
    CHECK(mmio_find(&t, 0xFEE01000) == NULL);
    CHECK(mmio_find(&t, 0) == NULL);
    CHECK(mmio_find(&t, UINT64_MAX) == NULL);
    CHECK(mmio_overlaps(&t, 0xFEBFF000, 0x1001));
    CHECK(!mmio_overlaps(&t, 0xFEBFF000, 0x1000));
    CHECK(mmio_overlaps(&t, 0, UINT64_MAX));
    CHECK(!mmio_overlaps(&t, 0xFEE00000, 0));
}

TEST(mmio_dispatch_keeps_width_and_offset)
{
    struct mmio_table t;
    struct fake_dev a = { 0 };
    uint64_t v;
    mmio_init(&t);
    mmio_register(&t, 0xFEE00000, 0x1000, &trap_ops, &a);
    CHECK(mmio_read(&t, 0xFEE000B0, 4, &v));
    CHECK_EQ(v, 0x55667788);                    /* truncated to the access width */
    CHECK_EQ(a.last_off, 0xB0);
    CHECK_EQ(a.last_size, 4);
    CHECK(mmio_read(&t, 0xFEE00FF8, 8, &v));
    CHECK_EQ(v, 0x1122334455667788ull);
    CHECK(mmio_write(&t, 0xFEE00300, 2, 0xABCDEF));
    CHECK_EQ(a.last_val, 0xCDEF);
    CHECK_EQ(a.last_size, 2);
    CHECK_EQ(t.r[0].reads, 2);
    CHECK_EQ(t.r[0].writes, 1);
    /* Straddling the end, odd sizes, unclaimed: refused, counted, the device not called. */
    unsigned calls = a.reads + a.writes;
    CHECK(!mmio_read(&t, 0xFEE00FFC, 8, &v));
    CHECK(!mmio_write(&t, 0xFEE00FFF, 2, 0));
    CHECK(!mmio_read(&t, 0xFEE00000, 3, &v));
    CHECK(!mmio_read(&t, 0xFED00000, 4, &v));
    CHECK_EQ(a.reads + a.writes, calls);
    CHECK_EQ(t.split_accesses, 2);
    CHECK_EQ(t.unclaimed_reads, 3);
    CHECK_EQ(t.unclaimed_writes, 1);
}

TEST(mmio_tiny_region_refuses_wider_access)
{
    struct mmio_table t;
    struct fake_dev a = { 0 };
    uint64_t v;
    mmio_init(&t);
    mmio_register(&t, 0x5000, 2, &trap_ops, &a);
    CHECK(mmio_read(&t, 0x5000, 2, &v));
    CHECK(!mmio_read(&t, 0x5000, 4, &v));
    CHECK(!mmio_read(&t, 0x5001, 2, &v));
}

TEST(mmio_device_memory_is_not_trapped)
{
    struct mmio_table t;
    struct fake_dev a = { 0 };
    uint64_t v;
    mmio_init(&t);
    mmio_register(&t, 0xE0000000, 0x1000000, &mem_ops, &a);
    const struct mmio_region *r = mmio_find(&t, 0xE0123456);
    CHECK(r && r->ops->hpa);
    CHECK_EQ(r->ops->hpa(r->dev, 0xE0123000 - r->base), 0x223000);
    CHECK(!mmio_read(&t, 0xE0000000, 4, &v));
}

TEST(mmio_unregister_moves_a_bar)
{
    struct mmio_table t;
    struct fake_dev a = { 0 }, b = { 0 };
    mmio_init(&t);
    CHECK(mmio_register(&t, 0xFEBF0000, 0x10000, &trap_ops, &a));
    mmio_register(&t, 0xFEC00000, 0x1000, &trap_ops, &b);
    uint64_t gen = t.generation;
    CHECK(!mmio_unregister(&t, 0xFEBF0000, &b));        /* not b's */
    CHECK(!mmio_unregister(&t, 0xFEBF1000, &a));        /* not its base */
    CHECK_EQ(t.generation, gen);
    CHECK(mmio_unregister(&t, 0xFEBF0000, &a));
    CHECK(t.generation != gen);
    CHECK(mmio_find(&t, 0xFEBF0000) == NULL);
    CHECK(mmio_register(&t, 0xF0000000, 0x20000, &trap_ops, &a));
    CHECK(mmio_find(&t, 0xF001FFFF)->dev == &a);
    CHECK(mmio_find(&t, 0xFEC00000)->dev == &b);
}

/* Random registers, unregisters and lookups against a page-granular reference map. */
TEST(mmio_random_against_reference)
{
    enum { PAGES = 256 };
    static int owner[PAGES];
    static struct fake_dev devs[PAGES];
    struct mmio_table t;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    mmio_init(&t);
    memset(owner, -1, sizeof(owner));
    for (unsigned step = 0; step < 200000; step++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        unsigned p = (unsigned)(x % PAGES), n = (unsigned)MIN((x >> 20) % 8 + 1, PAGES - p);
        if ((x >> 40) & 1) {
            bool free_range = t.n < MMIO_MAX_REGIONS;
            for (unsigned i = p; free_range && i < p + n; i++)
                free_range = owner[i] < 0;
            bool ok = mmio_register(&t, (uint64_t)p << 12, (uint64_t)n << 12, &trap_ops, &devs[p]);
            CHECK_EQ(ok, free_range);
            if (ok)
                for (unsigned i = p; i < p + n; i++)
                    owner[i] = (int)p;
        } else {
            bool is_base = owner[p] == (int)p && (p == 0 || owner[p - 1] != (int)p);
            bool ok = mmio_unregister(&t, (uint64_t)p << 12, &devs[p]);
            CHECK_EQ(ok, is_base);
            for (unsigned i = p; ok && i < PAGES && owner[i] == (int)p; i++)
                owner[i] = -1;
        }
        unsigned q = (unsigned)((x >> 32) % PAGES);
        const struct mmio_region *r = mmio_find(&t, ((uint64_t)q << 12) + (x & 0xFFF));
        CHECK_EQ(r ? (long)((struct fake_dev *)r->dev - devs) : -1, owner[q]);
    }
}
