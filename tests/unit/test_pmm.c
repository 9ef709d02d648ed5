#include "test.h"
#include "mm/pmm.h"
#include <stdlib.h>

#define MiB (1ull << 20)
static const struct mem_range map[] = {
    { 0, 0x9fc00, MMAP_AVAILABLE },
    { 0x9fc00, 0x400, MMAP_RESERVED },
    { 0x100000, 63 * MiB, MMAP_AVAILABLE },         /* 1 MiB .. 64 MiB */
    { 0x4000000, 0x1000, MMAP_RESERVED },
    { 0x100000000ull, 16 * MiB, MMAP_AVAILABLE },   /* above 4 GiB */
};

static struct pmm p;
static uint8_t *bm;

__attribute__((destructor)) static void teardown(void) { free(bm); }

static void setup(const struct mem_range *resv, size_t nresv)
{
    uint64_t max = pmm_max_addr(map, 5);
    free(bm);
    bm = malloc(pmm_bitmap_bytes(max));
    pmm_init(&p, bm, max, map, 5, resv, nresv);
}

TEST(init_counts_and_reservations)
{
    CHECK_EQ(pmm_max_addr(map, 5), 0x100000000ull + 16 * MiB);
    struct mem_range resv[] = { { 0, MiB, MMAP_RESERVED }, { 0x200000, 0x1800, MMAP_RESERVED } };
    setup(resv, 2);
    /* 63 MiB from 1 MiB, minus 2 frames (0x1800 rounded out), plus 16 MiB high. */
    CHECK_EQ(p.free_frames, (63 * MiB / 4096) - 2 + 16 * MiB / 4096);
    CHECK_EQ(p.usable_frames, p.free_frames);
    CHECK(!pmm_is_free(&p, 0x200000));
    CHECK(!pmm_is_free(&p, 0x201000));
    CHECK(pmm_is_free(&p, 0x202000));
    CHECK(!pmm_is_free(&p, 0x80000));
    CHECK(!pmm_is_free(&p, 0x4000000));             /* hole between ranges */
    CHECK(pmm_is_free(&p, 0x100000000ull));
}

TEST(partial_pages_are_not_usable)
{
    const struct mem_range m[] = { { 0x1800, 0x3000, MMAP_AVAILABLE } };  /* 0x1800..0x4800 */
    uint8_t b[16];
    pmm_init(&p, b, 0x5000, m, 1, NULL, 0);
    CHECK_EQ(p.free_frames, 2);                       /* frames 0x2000 and 0x3000 only */
    CHECK(pmm_is_free(&p, 0x2000) && pmm_is_free(&p, 0x3000));
    CHECK(!pmm_is_free(&p, 0x1000) && !pmm_is_free(&p, 0x4000));
}

TEST(frame_zero_never_allocated)
{
    setup(NULL, 0);
    for (uint64_t a; (a = pmm_alloc(&p)) != 0;)
        CHECK(a != 0);
    CHECK_EQ(p.free_frames, 0);
    CHECK_EQ(pmm_alloc(&p), 0);
}

TEST(alloc_free_roundtrip_and_double_free)
{
    struct mem_range resv[] = { { 0, MiB, MMAP_RESERVED } };
    setup(resv, 1);
    uint64_t before = p.free_frames;
    uint64_t a = pmm_alloc(&p), b = pmm_alloc(&p);
    CHECK(a && b && a != b && !(a & 0xfff) && !(b & 0xfff));
    CHECK_EQ(p.free_frames, before - 2);
    CHECK(pmm_free(&p, a));
    CHECK(!pmm_free(&p, a));                           /* double free refused */
    CHECK(!pmm_free(&p, a + 8));                       /* unaligned refused */
    CHECK(!pmm_free(&p, 1ull << 45));                  /* out of range refused */
    CHECK(pmm_free(&p, b));
    CHECK_EQ(p.free_frames, before);
}

TEST(contiguous_aligned)
{
    struct mem_range resv[] = { { 0, MiB, MMAP_RESERVED } };
    setup(resv, 1);
    pmm_alloc(&p);                                     /* misalign the hint */
    uint64_t a = pmm_alloc_contig(&p, 512, 2 * MiB);
    CHECK(a && a % (2 * MiB) == 0);
    for (uint64_t i = 0; i < 512; i++)
        CHECK(!pmm_is_free(&p, a + i * 4096));
    uint64_t big = pmm_alloc_contig(&p, 8192, 4096);   /* 32 MiB: fits only below 64 MiB */
    CHECK(big && big + 32 * MiB <= 0x4000000);
    CHECK_EQ(pmm_alloc_contig(&p, 64 * 256, 4096), 0); /* 64 MiB contiguous: nowhere */
    CHECK_EQ(pmm_alloc_contig(&p, 1, 3 * 4096), 0);    /* alignment not a power of two */
    CHECK(pmm_free_contig(&p, big, 8192));
    CHECK(pmm_is_free(&p, a + 512 * 4096));
    CHECK(!pmm_free_contig(&p, a, 513));               /* would free a frame not allocated */
    CHECK(!pmm_is_free(&p, a));                        /* ...so nothing was freed */
    CHECK(pmm_free_contig(&p, a, 512));
}

TEST(find_space_avoids_reserved)
{
    struct mem_range resv[] = { { 0x100000, 0x10000, MMAP_RESERVED }, { 0x112000, 0x1000, MMAP_RESERVED } };
    uint64_t a = pmm_find_space(map, 5, resv, 2, 0x3000, MiB);
    CHECK_EQ(a, 0x113000);
    CHECK_EQ(pmm_find_space(map, 5, resv, 2, 0x2000, MiB), 0x110000);
    CHECK_EQ(pmm_find_space(map, 5, resv, 2, 100 * MiB, MiB), 0);
}

TEST(reserved_type_wins_over_overlapping_available)
{
    const struct mem_range m[] = { { 0, 0x10000, MMAP_AVAILABLE }, { 0x4000, 0x1000, MMAP_RESERVED } };
    uint8_t b[4];
    pmm_init(&p, b, 0x10000, m, 2, NULL, 0);
    CHECK(!pmm_is_free(&p, 0x4000));
    CHECK_EQ(p.free_frames, 14);
}
