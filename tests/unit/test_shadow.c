/* Shadow page tables: round trips in both formats, rights, INVLPG (4 KiB and guest large
 * pages), flush, allocation failure (all or nothing, no leak), the PAE root's reserved bits,
 * and thousands of random operations against a reference model. */
#include "test.h"
#include "mm/shadow.h"
#include "arch/x86/paging.h"
#include <stdlib.h>

#define PG        4096ull
#define POOL      4096
#define SIZE_4K   (1ull << 12)
#define SIZE_2M   (1ull << 21)
#define SIZE_4M   (1ull << 22)
#define SIZE_1G   (1ull << 30)
/* Reserved in a present PAE PDPTE: 1, 2, 5..8 and 63:52 (63:M with M <= 52). */
#define PAE_PDPTE_RSVD (BIT(1) | BIT(2) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | 0xFFF0000000000000ull)

/* Fake host memory: "hpa" = hpa_base + (slot + 1) * 4 KiB, each slot its own heap page so
 * ASan sees any overrun; new pages are filled with junk (the shadow must zero them). */
static void *pool[POOL];
static int live, fail_after = -1, double_frees, bad_ptrs;
static uint64_t hpa_base;

static uint64_t alloc_page(void *ctx)
{
    if (fail_after == 0)
        return 0;
    if (fail_after > 0)
        fail_after--;
    for (int i = 0; i < POOL; i++) {
        if (!pool[i]) {
            pool[i] = aligned_alloc(PG, PG);
            memset(pool[i], 0xAA, PG);
            live++;
            return hpa_base + (uint64_t)(i + 1) * PG;
        }
    }
    return 0;
}

static int slot(uint64_t hpa)
{
    uint64_t i = (hpa - hpa_base) / PG - 1;
    return hpa > hpa_base && i < POOL && !(hpa & (PG - 1)) ? (int)i : -1;
}

static void free_page(void *ctx, uint64_t hpa)
{
    int i = slot(hpa);
    if (i < 0 || !pool[i]) {
        double_frees++;
        return;
    }
    free(pool[i]);
    pool[i] = NULL;
    live--;
}

static void *to_ptr(void *ctx, uint64_t hpa)
{
    int i = slot(hpa);
    if (i < 0 || !pool[i]) {
        bad_ptrs++;
        static uint64_t dummy[512];
        return dummy;
    }
    return pool[i];
}

static const struct shadow_ops ops = { alloc_page, free_page, to_ptr, NULL };

static void start(struct shadow *s, enum shadow_fmt fmt)
{
    fail_after = -1;
    hpa_base = 0;
    CHECK_EQ(shadow_init(s, fmt, &ops), 0);
    CHECK_EQ(s->pages_in_use, 1);
}

static void finish(struct shadow *s)
{
    CHECK_EQ((size_t)live, s->pages_in_use);
    shadow_destroy(s);
    CHECK_EQ(live, 0);
    CHECK_EQ(double_frees, 0);
    CHECK_EQ(bad_ptrs, 0);
}

static uint64_t *tab(uint64_t hpa) { return to_ptr(NULL, hpa); }

/* Raw entries on gva's path, top first; returns how many exist (stops at a non-present one). */
static int raw_path(const struct shadow *s, uint64_t gva, uint64_t ent[4])
{
    int n = s->fmt == SHADOW_LONG ? 4 : 3;
    uint64_t t = s->root_hpa;
    for (int i = 0; i < n; i++) {
        ent[i] = tab(t)[(gva >> (12 + 9 * (n - 1 - i))) & 511];
        if (!(ent[i] & PTE_P))
            return i;
        t = ent[i] & PTE_ADDR_MASK;
    }
    return n;
}

static bool mapped_to(const struct shadow *s, uint64_t gva, uint64_t hpa)
{
    uint64_t got;
    return shadow_lookup(s, gva, &got, NULL, NULL, NULL) && got == hpa;
}

TEST(init_destroy_and_init_failures)
{
    struct shadow s;
    for (int f = 0; f < 2; f++) {
        start(&s, f ? SHADOW_LONG : SHADOW_PAE);
        CHECK(s.root_hpa != 0);
        CHECK_EQ(live, 1);
        CHECK(!shadow_lookup(&s, 0, NULL, NULL, NULL, NULL));     /* junk page was zeroed */
        CHECK(!shadow_lookup(&s, 0xFFFFF000, NULL, NULL, NULL, NULL));
        finish(&s);
        CHECK_EQ(s.root_hpa, 0);
        CHECK_EQ(s.pages_in_use, 0);
        shadow_destroy(&s);                                       /* twice: harmless */
        shadow_flush(&s);
        CHECK_EQ(shadow_map(&s, 0, 0x1000, true, true, false), SHADOW_EINVAL);
    }
    fail_after = 0;
    CHECK_EQ(shadow_init(&s, SHADOW_LONG, &ops), SHADOW_ENOMEM);
    CHECK_EQ(s.root_hpa, 0);
    CHECK_EQ(live, 0);
    shadow_destroy(&s);
    fail_after = -1;
    /* A PAE root must be addressable by a 32-bit CR3; a 4-level one need not. */
    hpa_base = SHADOW_PAE_ROOT_LIMIT - PG;                        /* first page: exactly 4 GiB */
    CHECK_EQ(shadow_init(&s, SHADOW_PAE, &ops), SHADOW_EINVAL);
    CHECK_EQ(live, 0);
    CHECK_EQ(s.root_hpa, 0);
    CHECK_EQ(shadow_init(&s, SHADOW_LONG, &ops), 0);
    CHECK_EQ(s.root_hpa, SHADOW_PAE_ROOT_LIMIT);
    CHECK_EQ(shadow_map(&s, 0x1000, 0x123456000ull, false, false, false), 0);
    CHECK(mapped_to(&s, 0x1234, 0x123456234ull));
    finish(&s);
    hpa_base = SHADOW_PAE_ROOT_LIMIT - 2 * PG;                    /* root below, tables above */
    CHECK_EQ(shadow_init(&s, SHADOW_PAE, &ops), 0);
    CHECK(s.root_hpa < SHADOW_PAE_ROOT_LIMIT);
    CHECK_EQ(shadow_map(&s, 0x1000, 0x2000, true, false, false), 0);
    CHECK(mapped_to(&s, 0x1000, 0x2000));
    finish(&s);
    hpa_base = 0;
}

TEST(long_round_trips_and_table_counts)
{
    struct shadow s;
    start(&s, SHADOW_LONG);
    static const uint64_t gvas[] = { 0x0, 0x7FFFFFFFF000ull, 0xFFFF800000000000ull, 0xFFFFFFFF80001000ull,
                                     0xFFFFFFFFFFFFF000ull };
    for (size_t i = 0; i < ARRAY_SIZE(gvas); i++)
        CHECK_EQ(shadow_map(&s, gvas[i], 0x100000000ull * (i + 1) + 0xFFF, true, true, false), 0);
    for (size_t i = 0; i < ARRAY_SIZE(gvas); i++) {
        uint64_t hpa = 0;
        bool w = false, u = false, nx = true;
        CHECK(shadow_lookup(&s, gvas[i] | 0xABC, &hpa, &w, &u, &nx));
        CHECK_EQ(hpa, 0x100000000ull * (i + 1) + 0xABC);      /* byte-exact, hpa's low bits dropped */
        CHECK(w && u && !nx);
        CHECK(!shadow_lookup(&s, gvas[i] ^ PG, NULL, NULL, NULL, NULL));
    }
    /* Root, then three tables per path, except the last which shares its PML4E (511) with
     * the one before and needs only a PD and a PT. */
    CHECK_EQ(s.pages_in_use, 1 + 3 + 3 + 3 + 3 + 2);
    /* A second page in an existing page table costs nothing. */
    size_t before = s.pages_in_use;
    CHECK_EQ(shadow_map(&s, 0x1000, 0x5000, false, false, false), 0);
    CHECK_EQ(s.pages_in_use, before);
    /* Addresses the format cannot hold. */
    CHECK_EQ(shadow_map(&s, 0x0000800000000000ull, 0x1000, true, true, false), SHADOW_EINVAL);
    CHECK_EQ(shadow_map(&s, 0xFFFF7FFFFFFFF000ull, 0x1000, true, true, false), SHADOW_EINVAL);
    CHECK_EQ(shadow_map(&s, 0x2000, 1ull << 52, true, true, false), SHADOW_EINVAL);
    CHECK(!shadow_lookup(&s, 0x0000800000000000ull, NULL, NULL, NULL, NULL));
    CHECK_EQ(s.pages_in_use, before);
    finish(&s);
}

TEST(pae_round_trips_and_range)
{
    struct shadow s;
    start(&s, SHADOW_PAE);
    CHECK_EQ(shadow_map(&s, 0x0, 0x7000, true, false, false), 0);
    CHECK_EQ(s.pages_in_use, 3);                                  /* root PDPT, PD, PT */
    CHECK_EQ(shadow_map(&s, 0xFFFFF000, 0xFFFFFFFFF000ull, false, true, true), 0);
    CHECK_EQ(shadow_map(&s, 0x80000000, 0x12345678000ull, true, true, false), 0);
    CHECK_EQ(s.pages_in_use, 7);
    uint64_t hpa;
    bool w, u, nx;
    CHECK(shadow_lookup(&s, 0x0FFF, &hpa, &w, &u, &nx));
    CHECK_EQ(hpa, 0x7FFF);
    CHECK(w && !u && !nx);
    CHECK(shadow_lookup(&s, 0xFFFFFFFF, &hpa, &w, &u, &nx));
    CHECK_EQ(hpa, 0xFFFFFFFFFFFFull);
    CHECK(!w && u && nx);
    CHECK(mapped_to(&s, 0x80000010, 0x12345678010ull));
    CHECK_EQ(shadow_map(&s, 0x100000000ull, 0x1000, true, true, false), SHADOW_EINVAL);
    CHECK_EQ(shadow_map_sized(&s, 0x1000, 0x1000, true, true, false, 8192), SHADOW_EINVAL);
    CHECK(!shadow_lookup(&s, 0x100000000ull, NULL, NULL, NULL, NULL));
    shadow_invlpg(&s, 0x100000000ull);                           /* out of range: no-op */
    CHECK(mapped_to(&s, 0x0, 0x7000));
    finish(&s);
}

TEST(rights_preserved_and_raw_entry_bits)
{
    for (int f = 0; f < 2; f++) {
        struct shadow s;
        start(&s, f ? SHADOW_LONG : SHADOW_PAE);
        for (unsigned k = 0; k < 8; k++) {
            bool w = k & 1, u = k & 2, nx = k & 4;
            uint64_t gva = 0x40000000ull + k * 0x201000ull;       /* different PTs */
            CHECK_EQ(shadow_map(&s, gva, 0x80000000ull + k * PG, w, u, nx), 0);
        }
        for (unsigned k = 0; k < 8; k++) {
            uint64_t gva = 0x40000000ull + k * 0x201000ull, ent[4], hpa;
            bool w, u, nx;
            CHECK(shadow_lookup(&s, gva, &hpa, &w, &u, &nx));
            CHECK_EQ(hpa, 0x80000000ull + k * PG);
            CHECK_EQ(w, (k & 1) != 0);
            CHECK_EQ(u, (k & 2) != 0);
            CHECK_EQ(nx, (k & 4) != 0);
            int n = raw_path(&s, gva, ent);
            CHECK_EQ(n, f ? 4 : 3);
            uint64_t leaf = ent[n - 1];
            CHECK_EQ(leaf & PTE_W, (k & 1) ? PTE_W : 0);
            CHECK_EQ(leaf & PTE_U, (k & 2) ? PTE_U : 0);
            CHECK_EQ(leaf & PTE_NX, (k & 4) ? PTE_NX : 0);
            CHECK_EQ(leaf & (PTE_PS | PTE_PWT | PTE_PCD | PTE_G), 0);
            for (int i = 0; i < n - 1; i++) {
                if (!f && i == 0) {
                    CHECK_EQ(ent[i] & PAE_PDPTE_RSVD, 0);
                } else {
                    CHECK_EQ(ent[i] & (PTE_P | PTE_W | PTE_U), PTE_P | PTE_W | PTE_U);
                    CHECK_EQ(ent[i] & (PTE_NX | PTE_PS), 0);
                }
            }
        }
        finish(&s);
    }
}

TEST(pae_root_entries_have_no_reserved_bits)
{
    struct shadow s;
    start(&s, SHADOW_PAE);
    CHECK(s.root_hpa < SHADOW_PAE_ROOT_LIMIT);
    for (uint64_t q = 0; q < 4; q++) {
        CHECK_EQ(shadow_map(&s, q << 30 | 0x123000, 0x9000, true, true, true), 0);
        CHECK_EQ(shadow_map_sized(&s, q << 30 | 0x400000, 0xA000, true, true, true, SIZE_4M), 0);
        CHECK_EQ(shadow_map_sized(&s, q << 30 | 0x600000, 0xB000, true, true, true, SIZE_2M), 0);
    }
    uint64_t *root = tab(s.root_hpa);
    for (int i = 0; i < 4; i++) {
        CHECK(root[i] & PTE_P);
        CHECK_EQ(root[i] & PAE_PDPTE_RSVD, 0);
    }
    for (int i = 4; i < 512; i++)
        CHECK_EQ(root[i], 0);
    finish(&s);
}

TEST(invlpg_drops_exactly_one_page)
{
    for (int f = 0; f < 2; f++) {
        struct shadow s;
        start(&s, f ? SHADOW_LONG : SHADOW_PAE);
        for (uint64_t i = 0; i < 5; i++)
            CHECK_EQ(shadow_map(&s, 0x1FE000 + i * PG, 0x10000 + i * PG, true, true, false), 0);
        CHECK_EQ(shadow_map(&s, 0x80000000ull, 0x20000, true, true, false), 0);
        size_t pages = s.pages_in_use;
        shadow_invlpg(&s, 0x200ABC);                    /* third page (first of the second PT) */
        for (uint64_t i = 0; i < 5; i++)
            CHECK_EQ(shadow_lookup(&s, 0x1FE000 + i * PG, NULL, NULL, NULL, NULL), i != 2);
        CHECK(mapped_to(&s, 0x80000000ull, 0x20000));
        CHECK_EQ(s.pages_in_use, pages);                /* tables stay until the next flush */
        shadow_invlpg(&s, 0x200000);                    /* again: nothing left to drop */
        shadow_invlpg(&s, 0x7654321000ull & 0xFFFFFFFF);/* never mapped */
        shadow_invlpg(&s, 0x0000800000000000ull);       /* not canonical / out of range */
        for (uint64_t i = 0; i < 5; i++)
            CHECK_EQ(shadow_lookup(&s, 0x1FE000 + i * PG, NULL, NULL, NULL, NULL), i != 2);
        CHECK_EQ(shadow_map(&s, 0x200000, 0x30000, false, false, false), 0);      /* back */
        CHECK(mapped_to(&s, 0x200000, 0x30000));
        CHECK_EQ(s.pages_in_use, pages);
        finish(&s);
    }
}

TEST(remap_replaces_translation)
{
    struct shadow s;
    start(&s, SHADOW_LONG);
    CHECK_EQ(shadow_map(&s, 0x5000, 0x1000, true, true, true), 0);
    CHECK_EQ(shadow_map(&s, 0x5000, 0x2000, false, false, false), 0);
    uint64_t hpa;
    bool w, u, nx;
    CHECK(shadow_lookup(&s, 0x5000, &hpa, &w, &u, &nx));
    CHECK_EQ(hpa, 0x2000);
    CHECK(!w && !u && !nx);
    finish(&s);
}

TEST(flush_drops_all_and_returns_pages)
{
    for (int f = 0; f < 2; f++) {
        struct shadow s;
        start(&s, f ? SHADOW_LONG : SHADOW_PAE);
        for (uint64_t i = 0; i < 300; i++) {
            uint64_t gva = (i * 0x00C03000ull) & 0xFFFFF000ull;
            CHECK_EQ(shadow_map(&s, gva, 0x100000 + i * PG, i & 1, i & 2, false), 0);
        }
        CHECK_EQ(shadow_map_sized(&s, 0x40000000, 0x5000, true, true, false, SIZE_2M), 0);
        CHECK(s.pages_in_use > 50);
        CHECK_EQ((size_t)live, s.pages_in_use);
        uint64_t root = s.root_hpa;
        shadow_flush(&s);
        CHECK_EQ(s.pages_in_use, 1);
        CHECK_EQ(live, 1);
        CHECK_EQ(s.root_hpa, root);                     /* the CPU's CR3 stays valid */
        for (uint64_t i = 0; i < 300; i++)
            CHECK(!shadow_lookup(&s, (i * 0x00C03000ull) & 0xFFFFF000ull, NULL, NULL, NULL, NULL));
        uint64_t *r = tab(s.root_hpa);
        for (int i = 0; i < 512; i++)
            CHECK_EQ(r[i], 0);                          /* marks gone too */
        CHECK_EQ(shadow_map(&s, 0x3000, 0x4000, true, true, false), 0);
        CHECK(mapped_to(&s, 0x3000, 0x4000));
        finish(&s);
    }
}

TEST(allocation_failure_is_all_or_nothing)
{
    for (int f = 0; f < 2; f++) {
        int levels = f ? 4 : 3;
        /* Empty shadow: the map needs levels-1 tables; fail each allocation in turn. */
        for (int k = 0; k < levels - 1; k++) {
            struct shadow s;
            start(&s, f ? SHADOW_LONG : SHADOW_PAE);
            fail_after = k;
            CHECK_EQ(shadow_map(&s, 0x40201000, 0x9000, true, true, false), SHADOW_ENOMEM);
            fail_after = -1;
            CHECK(!shadow_lookup(&s, 0x40201000, NULL, NULL, NULL, NULL));
            CHECK_EQ(s.pages_in_use, 1);
            CHECK_EQ(live, 1);
            uint64_t ent[4];
            CHECK_EQ(raw_path(&s, 0x40201000, ent), 0);                 /* nothing linked */
            CHECK_EQ(tab(s.root_hpa)[(0x40201000ull >> (f ? 39 : 30)) & 511], 0);
            CHECK_EQ(shadow_map(&s, 0x40201000, 0x9000, true, true, false), 0);   /* retry */
            CHECK(mapped_to(&s, 0x40201000, 0x9000));
            CHECK_EQ(s.pages_in_use, (size_t)levels);
            finish(&s);
        }
        /* Part of the path exists: A is mapped, B shares only the top table. */
        struct shadow s;
        start(&s, f ? SHADOW_LONG : SHADOW_PAE);
        CHECK_EQ(shadow_map(&s, 0x1000, 0x1000, true, true, false), 0);
        size_t pages = s.pages_in_use;
        uint64_t b = 0x40000000ull;     /* PDPT index 1: needs a PD and a PT; the PT fails */
        fail_after = 1;
        CHECK_EQ(shadow_map_sized(&s, b, 0x2000, true, true, false, SIZE_2M), SHADOW_ENOMEM);
        fail_after = -1;
        CHECK(!shadow_lookup(&s, b, NULL, NULL, NULL, NULL));
        CHECK(mapped_to(&s, 0x1000, 0x1000));
        CHECK_EQ(s.pages_in_use, pages);
        CHECK_EQ((size_t)live, pages);
        /* Out of memory with the whole path present: a leaf needs nothing. */
        fail_after = 0;
        CHECK_EQ(shadow_map(&s, 0x2000, 0x3000, true, true, false), 0);
        fail_after = -1;
        CHECK(mapped_to(&s, 0x2000, 0x3000));
        finish(&s);
    }
}

/* A guest large page is shadowed in 4 KiB pieces; INVLPG anywhere in it (even on a piece
 * never touched, or in the other half of a 4 MiB page) must drop them all, and nothing
 * outside it. */
TEST(invlpg_in_guest_large_page_drops_all_pieces)
{
    struct shadow s;
    /* 2 MiB, 4-level. */
    start(&s, SHADOW_LONG);
    uint64_t g = 0x7F0000400000ull;
    CHECK_EQ(shadow_map(&s, g - PG, 0x1000, true, true, false), 0);
    CHECK_EQ(shadow_map(&s, g + SIZE_2M, 0x2000, true, true, false), 0);
    uint64_t pieces[] = { 0, 0x5000, 0x1FF000 };
    for (size_t i = 0; i < ARRAY_SIZE(pieces); i++)
        CHECK_EQ(shadow_map_sized(&s, g + pieces[i], 0x800000 + pieces[i], true, false, false, SIZE_2M), 0);
    shadow_invlpg(&s, g + 0x100000);
    for (size_t i = 0; i < ARRAY_SIZE(pieces); i++)
        CHECK(!shadow_lookup(&s, g + pieces[i], NULL, NULL, NULL, NULL));
    CHECK(mapped_to(&s, g - PG, 0x1000));
    CHECK(mapped_to(&s, g + SIZE_2M, 0x2000));
    /* The dropped region's PT was freed; a later 4 KiB map there is a plain one. */
    CHECK_EQ((size_t)live, s.pages_in_use);
    CHECK_EQ(shadow_map(&s, g + 0x3000, 0x3000, true, true, false), 0);
    CHECK_EQ(shadow_map(&s, g + 0x4000, 0x4000, true, true, false), 0);
    shadow_invlpg(&s, g + 0x3000);
    CHECK(mapped_to(&s, g + 0x4000, 0x4000));
    finish(&s);

    /* 4 MiB (32-bit PSE guest) over a PAE shadow: two PDEs. */
    start(&s, SHADOW_PAE);
    uint64_t g4 = 0x00400000;
    CHECK_EQ(shadow_map(&s, g4 - PG, 0x1000, true, true, false), 0);
    CHECK_EQ(shadow_map(&s, g4 + SIZE_4M, 0x2000, true, true, false), 0);
    CHECK_EQ(shadow_map_sized(&s, g4, 0xC00000, true, true, false, SIZE_4M), 0);
    CHECK_EQ(shadow_map_sized(&s, g4 + 0x1000, 0xC01000, true, true, false, SIZE_4M), 0);
    shadow_invlpg(&s, g4 + 0x3FF000);           /* upper half: never mapped, PDE not present */
    CHECK(!shadow_lookup(&s, g4, NULL, NULL, NULL, NULL));
    CHECK(!shadow_lookup(&s, g4 + 0x1000, NULL, NULL, NULL, NULL));
    CHECK(mapped_to(&s, g4 - PG, 0x1000));
    CHECK(mapped_to(&s, g4 + SIZE_4M, 0x2000));
    /* And from the lower half, with pieces in both halves. */
    CHECK_EQ(shadow_map_sized(&s, g4 + 0x3FF000, 0xFFF000, true, true, false, SIZE_4M), 0);
    CHECK_EQ(shadow_map_sized(&s, g4 + 0x000000, 0xC00000, true, true, false, SIZE_4M), 0);
    shadow_invlpg(&s, g4 + 0x10000);
    CHECK(!shadow_lookup(&s, g4 + 0x3FF000, NULL, NULL, NULL, NULL));
    CHECK(!shadow_lookup(&s, g4, NULL, NULL, NULL, NULL));
    CHECK(mapped_to(&s, g4 + SIZE_4M, 0x2000));
    finish(&s);

    /* 1 GiB, 4-level: pieces under different PDs; the whole PD subtree goes. */
    start(&s, SHADOW_LONG);
    uint64_t g1 = 0x0000004000000000ull;
    CHECK_EQ(shadow_map(&s, g1 - PG, 0x1000, true, true, false), 0);
    CHECK_EQ(shadow_map(&s, g1 + SIZE_1G, 0x2000, true, true, false), 0);
    size_t base_pages = s.pages_in_use;
    CHECK_EQ(shadow_map_sized(&s, g1, 0x40000000, true, true, true, SIZE_1G), 0);
    CHECK_EQ(shadow_map_sized(&s, g1 + 0x12345000, 0x52345000, true, true, true, SIZE_1G), 0);
    CHECK_EQ(s.pages_in_use, base_pages + 3);   /* PD + two PTs */
    shadow_invlpg(&s, g1 + 0x3FFFF000);
    CHECK(!shadow_lookup(&s, g1, NULL, NULL, NULL, NULL));
    CHECK(!shadow_lookup(&s, g1 + 0x12345000, NULL, NULL, NULL, NULL));
    CHECK(mapped_to(&s, g1 - PG, 0x1000));
    CHECK(mapped_to(&s, g1 + SIZE_1G, 0x2000));
    CHECK_EQ(s.pages_in_use, base_pages);
    CHECK_EQ((size_t)live, base_pages);
    finish(&s);
}

/* A 2 MiB shadow leaf (a PDE with PS, SDM vol. 3 4.5.4 / 4.4.2) for a guest large page over
 * one contiguous host chunk. Its host range lies outside the fake pool, so a walker that took
 * the leaf for a table (reading, freeing) shows up as a bad pointer or a double free. */
#define CHUNK_HPA 0x40000000ull             /* 1 GiB: not a pool page */

TEST(large_leaf_maps_a_whole_window_without_a_page_table)
{
    struct shadow s;
    start(&s, SHADOW_LONG);
    uint64_t g = 0x7F0000400000ull;
    CHECK_EQ(shadow_map_large(&s, g, CHUNK_HPA, true, false, true, SIZE_2M), 0);
    CHECK_EQ(s.pages_in_use, 3);                /* root, PDPT, PD: no PT */
    uint64_t hpa;
    bool w, u, nx;
    CHECK(shadow_lookup(&s, g + 0x123456, &hpa, &w, &u, &nx));
    CHECK_EQ(hpa, CHUNK_HPA + 0x123456);
    CHECK(w && !u && nx);
    CHECK(mapped_to(&s, g + SIZE_2M - 1, CHUNK_HPA + SIZE_2M - 1));
    CHECK(!shadow_lookup(&s, g + SIZE_2M, NULL, NULL, NULL, NULL));
    CHECK(!shadow_lookup(&s, g - 1, NULL, NULL, NULL, NULL));
    uint64_t ent[4];
    uint64_t pd = tab(tab(tab(s.root_hpa)[(g >> 39) & 511] & PTE_ADDR_MASK)[(g >> 30) & 511] & PTE_ADDR_MASK)[(g >> 21) & 511];
    CHECK(pd & PTE_PS);
    CHECK((pd & PTE_D) && (pd & PTE_A) && (pd & PTE_W) && !(pd & PTE_U));
    CHECK_EQ(pd & BIT(12), 0);                  /* PAT clear: write-back */
    CHECK_EQ(raw_path(&s, g - SIZE_2M, ent), 2);    /* the neighbour PDE is empty */
    /* Misaligned addresses are refused and change nothing. */
    CHECK_EQ(shadow_map_large(&s, g + PG, CHUNK_HPA, true, true, false, SIZE_2M), SHADOW_EINVAL);
    CHECK_EQ(shadow_map_large(&s, g, CHUNK_HPA + PG, true, true, false, SIZE_2M), SHADOW_EINVAL);
    CHECK_EQ(shadow_map_large(&s, g, CHUNK_HPA, true, true, false, 12345), SHADOW_EINVAL);
    CHECK_EQ(s.pages_in_use, 3);
    finish(&s);
}

TEST(large_leaf_replaces_small_pieces_and_small_map_replaces_it)
{
    struct shadow s;
    start(&s, SHADOW_LONG);
    uint64_t g = 0x40000000ull;
    CHECK_EQ(shadow_map(&s, g + 0x5000, 0x5000, true, true, false), 0);
    CHECK_EQ(shadow_map(&s, g + SIZE_2M, 0x6000, true, true, false), 0);
    CHECK_EQ(s.pages_in_use, 5);                /* root, PDPT, PD, two PTs */
    CHECK_EQ(shadow_map_large(&s, g, CHUNK_HPA, false, true, false, SIZE_2M), 0);
    CHECK_EQ(s.pages_in_use, 4);                /* the window's PT went */
    CHECK(mapped_to(&s, g + 0x5000, CHUNK_HPA + 0x5000));
    CHECK(mapped_to(&s, g + SIZE_2M, 0x6000));
    CHECK_EQ((size_t)live, s.pages_in_use);
    /* A 4 KiB translation inside the window (the guest remapped it): the large leaf goes. */
    CHECK_EQ(shadow_map(&s, g + 0x7000, 0x7000, true, true, false), 0);
    CHECK(mapped_to(&s, g + 0x7000, 0x7000));
    CHECK(!shadow_lookup(&s, g + 0x5000, NULL, NULL, NULL, NULL));
    CHECK(!shadow_lookup(&s, g, NULL, NULL, NULL, NULL));
    CHECK_EQ(s.pages_in_use, 5);
    /* A run (shadow_map_run) over a large leaf likewise. */
    CHECK_EQ(shadow_map_large(&s, g, CHUNK_HPA, true, true, false, SIZE_2M), 0);
    CHECK_EQ(shadow_map_run(&s, g, CHUNK_HPA + SIZE_2M, 512, true, true, false, SIZE_2M), 0);
    CHECK(mapped_to(&s, g + 0x1FF000, CHUNK_HPA + SIZE_2M + 0x1FF000));
    /* Remapping a large leaf with other rights overwrites it in place. */
    CHECK_EQ(shadow_map_large(&s, g, CHUNK_HPA, false, false, false, SIZE_2M), 0);
    CHECK_EQ(shadow_map_large(&s, g, CHUNK_HPA, true, false, false, SIZE_2M), 0);
    bool w;
    CHECK(shadow_lookup(&s, g + 0x10, NULL, &w, NULL, NULL) && w);
    CHECK_EQ(s.pages_in_use, 4);
    finish(&s);
}

TEST(large_leaf_invlpg_and_flush)
{
    struct shadow s;
    start(&s, SHADOW_LONG);
    uint64_t g = 0x200000ull;
    CHECK_EQ(shadow_map(&s, g - PG, 0x1000, true, true, false), 0);
    CHECK_EQ(shadow_map_large(&s, g, CHUNK_HPA, true, true, false, SIZE_2M), 0);
    CHECK_EQ(shadow_map_large(&s, g + SIZE_2M, CHUNK_HPA + SIZE_2M, true, true, false, SIZE_2M), 0);
    shadow_invlpg(&s, g + 0x1F0000);            /* anywhere in the window drops all of it */
    CHECK(!shadow_lookup(&s, g, NULL, NULL, NULL, NULL));
    CHECK(mapped_to(&s, g + SIZE_2M, CHUNK_HPA + SIZE_2M));
    CHECK(mapped_to(&s, g - PG, 0x1000));
    /* Paging off maps windows with no guest page size: a 4 KiB INVLPG still drops the leaf. */
    CHECK_EQ(shadow_map_large(&s, g, CHUNK_HPA, true, true, false, SIZE_4K), 0);
    shadow_invlpg(&s, g + 0x3000);
    CHECK(!shadow_lookup(&s, g + 0x100000, NULL, NULL, NULL, NULL));
    shadow_flush(&s);
    CHECK_EQ(s.pages_in_use, 1);
    CHECK(!shadow_lookup(&s, g + SIZE_2M, NULL, NULL, NULL, NULL));
    finish(&s);

    /* A 4 MiB guest page (32-bit PSE) over a PAE shadow: two 2 MiB leaves, one INVLPG. */
    start(&s, SHADOW_PAE);
    uint64_t g4 = 0x00400000;
    CHECK_EQ(shadow_map_large(&s, g4, CHUNK_HPA, true, true, false, SIZE_4M), 0);
    CHECK_EQ(shadow_map_large(&s, g4 + SIZE_2M, CHUNK_HPA + SIZE_2M, true, true, false, SIZE_4M), 0);
    CHECK_EQ(s.pages_in_use, 2);                /* root, one PD */
    CHECK(mapped_to(&s, g4 + 0x3FFFFF, CHUNK_HPA + 0x3FFFFF));
    shadow_invlpg(&s, g4 + 0x1000);
    CHECK(!shadow_lookup(&s, g4 + SIZE_2M, NULL, NULL, NULL, NULL));
    CHECK(!shadow_lookup(&s, g4, NULL, NULL, NULL, NULL));
    /* 1 GiB guest page: large leaves in two PDs under it; INVLPG takes the whole GiB. */
    finish(&s);
    start(&s, SHADOW_LONG);
    uint64_t g1 = 0x0000004000000000ull;
    CHECK_EQ(shadow_map_large(&s, g1, CHUNK_HPA, true, true, false, SIZE_1G), 0);
    CHECK_EQ(shadow_map_large(&s, g1 + 0x3FE00000, CHUNK_HPA + 0x3FE00000, true, true, false, SIZE_1G), 0);
    shadow_invlpg(&s, g1 + 0x12345678);
    CHECK(!shadow_lookup(&s, g1, NULL, NULL, NULL, NULL));
    CHECK(!shadow_lookup(&s, g1 + 0x3FE00000, NULL, NULL, NULL, NULL));
    CHECK_EQ(s.pages_in_use, 2);                /* the PD under the GiB went */
    finish(&s);
}

TEST(large_leaf_allocation_failure_changes_nothing)
{
    struct shadow s;
    start(&s, SHADOW_LONG);
    fail_after = 1;                             /* the PDPT, not the PD */
    CHECK_EQ(shadow_map_large(&s, 0x600000, CHUNK_HPA, true, true, false, SIZE_2M), SHADOW_ENOMEM);
    CHECK_EQ(s.pages_in_use, 1);
    CHECK_EQ((size_t)live, 1);
    fail_after = -1;
    CHECK(!shadow_lookup(&s, 0x600000, NULL, NULL, NULL, NULL));
    finish(&s);
}

/* ---- random operations against a reference model ----------------------------------------- */

struct model_entry { bool mapped, touched; uint64_t hpa; bool w, u, nx; };

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Tables a shadow must hold for the touched pages: distinct prefixes per level. */
static size_t expected_pages(enum shadow_fmt fmt, const uint64_t *gva, const struct model_entry *m, int n)
{
    static uint64_t keys[4096];
    size_t total = 1;
    int levels = fmt == SHADOW_LONG ? 4 : 3;
    for (int l = 0; l < levels - 1; l++) {
        unsigned shift = 12 + 9 * (levels - 1 - l);     /* a table below each level-l entry */
        int k = 0;
        for (int i = 0; i < n; i++)
            if (m[i].touched)
                keys[k++] = (gva[i] & 0xFFFFFFFFFFFFull) >> shift;
        qsort(keys, k, sizeof(keys[0]), cmp_u64);
        for (int i = 0; i < k; i++)
            total += i == 0 || keys[i] != keys[i - 1];
    }
    return total;
}

static void check_model(const struct shadow *s, const uint64_t *gva, const struct model_entry *m, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t hpa;
        bool w, u, nx;
        bool found = shadow_lookup(s, gva[i] + (i & 0xFFF), &hpa, &w, &u, &nx);
        CHECK_EQ(found, m[i].mapped);
        if (found && m[i].mapped) {
            CHECK_EQ(hpa, m[i].hpa + (i & 0xFFF));
            CHECK(w == m[i].w && u == m[i].u && nx == m[i].nx);
        }
    }
    CHECK_EQ(s->pages_in_use, expected_pages(s->fmt, gva, m, n));
    CHECK_EQ((size_t)live, s->pages_in_use);
}

TEST(random_operations_match_reference_model)
{
    enum { N = 2048, OPS = 40000 };
    static uint64_t gva[N];
    static struct model_entry m[N];
    for (int f = 0; f < 2; f++) {
        struct shadow s;
        start(&s, f ? SHADOW_LONG : SHADOW_PAE);
        /* Candidate pages: clustered (so tables are shared) in a handful of regions, some
         * straddling table boundaries, plus the top of the address space. Distinct. */
        static const uint64_t pae_regions[] = { 0x0, 0x3FE00000, 0x7FF00000, 0xC0000000, 0xFFC00000 };
        static const uint64_t long_regions[] = { 0x0, 0x7FFFFFE00000ull, 0x00003FFFFFF00000ull,
                                                 0xFFFF800000000000ull, 0xFFFFFFFFFFC00000ull };
        const uint64_t *regions = f ? long_regions : pae_regions;
        for (int i = 0; i < N; i++) {
            uint64_t r = regions[i % 5] + (uint64_t)(i / 5) * PG * 3;   /* 3 pages apart */
            if (!f)
                r &= 0xFFFFFFFFull;
            else if (r >> 47)
                r |= 0xFFFF000000000000ull;
            gva[i] = r;
            m[i] = (struct model_entry){ 0 };
        }
        /* Distinctness of the candidates (the model would be wrong otherwise). */
        static uint64_t sorted[N];
        memcpy(sorted, gva, sizeof(gva));
        qsort(sorted, N, sizeof(sorted[0]), cmp_u64);
        for (int i = 1; i < N; i++)
            CHECK(sorted[i] != sorted[i - 1]);

        int maps = 0, drops = 0, flushes = 0;
        for (int op = 0; op < OPS; op++) {
            int i = rnd() % N;
            unsigned r = rnd() % 1000;
            if (r < 600) {
                uint64_t hpa = (rnd() & 0x000FFFFFFFFFF000ull);
                bool w = rnd() & 1, u = rnd() & 1, nx = rnd() & 1;
                CHECK_EQ(shadow_map(&s, gva[i], hpa | (rnd() & 0xFFF), w, u, nx), 0);
                m[i] = (struct model_entry){ true, true, hpa, w, u, nx };
                maps++;
            } else if (r < 850) {
                shadow_invlpg(&s, gva[i] + (rnd() & 0xFFF));
                m[i].mapped = false;
                drops++;
            } else if (r < 998) {
                uint64_t hpa;
                bool found = shadow_lookup(&s, gva[i], &hpa, NULL, NULL, NULL);
                CHECK_EQ(found, m[i].mapped);
                if (found)
                    CHECK_EQ(hpa, m[i].hpa);
            } else {
                shadow_flush(&s);
                for (int j = 0; j < N; j++)
                    m[j].mapped = m[j].touched = false;
                flushes++;
            }
            if (op % 5000 == 4999)
                check_model(&s, gva, m, N);
        }
        check_model(&s, gva, m, N);
        CHECK(maps > 1000 && drops > 1000 && flushes > 10);
        finish(&s);
    }
}

/* 4 KiB maps, 2 MiB leaves, INVLPG and flushes at random over a few windows, against a model
 * that knows what each does to a window: a large leaf replaces the window and marks it; a
 * 4 KiB map into a large leaf drops the leaf; INVLPG in a marked window drops all of it (and
 * the mark with it), else one page. Every page is looked up after every operation. */
#define WINDOWS 4
#define WPAGES  512

struct window_model {
    bool large, marked;
    bool mapped[WPAGES];
    uint64_t hpa[WPAGES];
    bool w[WPAGES];
};

static void check_windows(const struct shadow *s, const uint64_t *base, const struct window_model *wm)
{
    for (int k = 0; k < WINDOWS; k++)
        for (int p = 0; p < WPAGES; p++) {
            uint64_t hpa;
            bool w;
            bool found = shadow_lookup(s, base[k] + (uint64_t)p * PG + 0x10, &hpa, &w, NULL, NULL);
            CHECK_EQ(found, wm[k].mapped[p]);
            if (found && wm[k].mapped[p]) {
                CHECK_EQ(hpa, wm[k].hpa[p] + 0x10);
                CHECK_EQ(w, wm[k].w[p]);
            }
        }
    CHECK_EQ((size_t)live, s->pages_in_use);
}

TEST(random_large_and_small_maps_match_a_window_model)
{
    static struct window_model wm[WINDOWS];
    static const uint64_t long_base[WINDOWS] = { 0x40000000, 0x40200000, 0x7FFFFFE00000ull, 0xFFFF800000000000ull };
    static const uint64_t pae_base[WINDOWS] = { 0x0, 0x200000, 0x3FE00000, 0xFFE00000 };
    for (int f = 0; f < 2; f++) {
        const uint64_t *base = f ? long_base : pae_base;
        struct shadow s;
        start(&s, f ? SHADOW_LONG : SHADOW_PAE);
        memset(wm, 0, sizeof(wm));
        int larges = 0, smalls = 0, drops = 0;
        for (int op = 0; op < 6000; op++) {
            int k = rnd() % WINDOWS, p = rnd() % WPAGES;
            struct window_model *m = &wm[k];
            unsigned r = rnd() % 100;
            bool w = rnd() & 1;
            if (r < 20) {
                uint64_t h = CHUNK_HPA + (rnd() % 64) * SIZE_2M;
                CHECK_EQ(shadow_map_large(&s, base[k], h, w, true, false, SIZE_2M), 0);
                m->large = m->marked = true;
                for (int q = 0; q < WPAGES; q++)
                    m->mapped[q] = true, m->hpa[q] = h + (uint64_t)q * PG, m->w[q] = w;
                larges++;
            } else if (r < 65) {
                uint64_t h = (rnd() % 4000 + 1) * PG;       /* pool-range values: never dereferenced */
                CHECK_EQ(shadow_map(&s, base[k] + (uint64_t)p * PG, h, w, true, false), 0);
                if (m->large)
                    memset(m->mapped, 0, sizeof(m->mapped));
                m->large = false;
                m->mapped[p] = true, m->hpa[p] = h, m->w[p] = w;
                smalls++;
            } else if (r < 97) {
                shadow_invlpg(&s, base[k] + (uint64_t)p * PG + (rnd() & 0xFFF));
                if (m->marked || m->large) {
                    memset(m->mapped, 0, sizeof(m->mapped));
                    m->marked = m->large = false;
                } else {
                    m->mapped[p] = false;
                }
                drops++;
            } else {
                shadow_flush(&s);
                memset(wm, 0, sizeof(wm));
            }
            if (op % 100 == 99)
                check_windows(&s, base, wm);
        }
        check_windows(&s, base, wm);
        CHECK(larges > 500 && smalls > 1500 && drops > 1000);
        finish(&s);
    }
}

TEST(map_run_fills_a_window_with_one_walk)
{
    struct shadow s;
    start(&s, SHADOW_LONG);
    uint64_t g = 0xFFFF888000200000ull;         /* a 2 MiB-aligned kernel direct-map window */
    CHECK_EQ(shadow_map_run(&s, g, 0x40000000ull, 512, false, false, true, SIZE_2M), 0);
    CHECK_EQ(s.pages_in_use, 4);                /* root + PDPT + PD + one PT */
    for (uint64_t o = 0; o < SIZE_2M; o += PG) {
        uint64_t hpa;
        bool w, u, nx;
        CHECK(shadow_lookup(&s, g + o + 0x123, &hpa, &w, &u, &nx));
        CHECK_EQ(hpa, 0x40000000ull + o + 0x123);
        CHECK(!w && !u && nx);
    }
    CHECK(!shadow_lookup(&s, g + SIZE_2M, NULL, NULL, NULL, NULL));
    /* The run is one guest large page: INVLPG anywhere in it drops all 512 pieces. */
    shadow_invlpg(&s, g + 0x1FF000);
    CHECK(!shadow_lookup(&s, g, NULL, NULL, NULL, NULL));
    CHECK(!shadow_lookup(&s, g + 0x100000, NULL, NULL, NULL, NULL));
    /* A partial run from the middle stops at the table's end; a run past it is refused. */
    CHECK_EQ(shadow_map_run(&s, g + 0x100000, 0x8000000, 256, true, true, false, SIZE_2M), 0);
    CHECK(mapped_to(&s, g + 0x1FF000, 0x80FF000));
    CHECK(!shadow_lookup(&s, g + 0xFF000, NULL, NULL, NULL, NULL));
    CHECK_EQ(shadow_map_run(&s, g + 0x100000, 0x8000000, 257, true, true, false, SIZE_2M), SHADOW_EINVAL);
    CHECK_EQ(shadow_map_run(&s, g, 0x8000000, 0, true, true, false, SIZE_2M), SHADOW_EINVAL);
    /* Out of memory: nothing mapped, nothing leaked. */
    shadow_flush(&s);
    fail_after = 1;
    CHECK_EQ(shadow_map_run(&s, g, 0x40000000ull, 512, true, true, false, SIZE_2M), SHADOW_ENOMEM);
    CHECK(!shadow_lookup(&s, g, NULL, NULL, NULL, NULL));
    fail_after = -1;
    finish(&s);
}

/* A flush visits only the entries its summaries name, and beyond SHADOW_SUMMARIES upper tables
 * it looks through the rest whole: either way every table goes back and the root is all zero
 * again (marks too), round after round. */
TEST(flush_with_and_beyond_summaries_leaves_nothing)
{
    for (int f = 0; f < 2; f++) {
        struct shadow s;
        start(&s, f ? SHADOW_LONG : SHADOW_PAE);
        for (int round = 0; round < 3; round++) {
            unsigned n = f ? 40 + 20 * round : 4;
            for (unsigned k = 0; k < n; k++) {
                /* 4-level: each k its own PDPT (k < 16) or PD: more upper tables than summaries */
                uint64_t gva = f ? (k < 16 ? (uint64_t)k << 39 : (16ull << 39) | (uint64_t)k << 30) : (uint64_t)k << 30;
                CHECK_EQ(shadow_map(&s, gva | 0x5000, 0x7000, true, false, false), 0);
                CHECK_EQ(shadow_map_sized(&s, gva | 0x400000, 0x8000, true, false, false, SIZE_4M), 0);
                CHECK(mapped_to(&s, gva | 0x5000, 0x7000));
            }
            CHECK((size_t)live == s.pages_in_use && s.pages_in_use > n);
            shadow_flush(&s);
            CHECK_EQ(s.pages_in_use, 1);
            CHECK_EQ(live, 1);
            const uint64_t *root = tab(s.root_hpa);
            unsigned dirty = 0;
            for (unsigned i = 0; i < 512; i++)
                dirty += root[i] != 0;
            CHECK_EQ(dirty, 0);
            CHECK(!shadow_lookup(&s, 0x5000, NULL, NULL, NULL, NULL));
        }
        finish(&s);
    }
}
