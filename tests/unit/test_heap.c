#include "test.h"
#include "mm/heap.h"
#include <stdlib.h>

static struct heap h;

TEST(alloc_is_aligned_disjoint_and_reused)
{
    static uint8_t arena[65536] __attribute__((aligned(16)));
    heap_init(&h, NULL, NULL);
    heap_add_arena(&h, arena + 3, sizeof(arena) - 3);   /* unaligned arena is trimmed */
    void *p[64];
    for (int i = 0; i < 64; i++) {
        p[i] = heap_alloc(&h, 1 + i * 7);
        CHECK(p[i] != NULL);
        CHECK(((uintptr_t)p[i] & 15) == 0);
        memset(p[i], i, 1 + i * 7);
    }
    for (int i = 0; i < 64; i++) {
        uint8_t *b = p[i];
        for (int j = 0; j < 1 + i * 7; j++)
            if (b[j] != i) { CHECK(!"overlapping allocations"); break; }
    }
    CHECK_EQ(h.nallocs, 64);
    for (int i = 0; i < 64; i += 2)
        CHECK(heap_free(&h, p[i]));
    for (int i = 1; i < 64; i += 2)
        CHECK(heap_free(&h, p[i]));
    CHECK_EQ(h.nallocs, 0);
    CHECK_EQ(h.used_bytes, 0);
    /* Everything coalesced back: one allocation of nearly the whole arena fits. */
    void *big = heap_alloc(&h, sizeof(arena) - 64);
    CHECK(big != NULL);
    CHECK(heap_free(&h, big));
}

TEST(bad_frees_are_refused)
{
    static uint8_t arena[4096] __attribute__((aligned(16)));
    heap_init(&h, NULL, NULL);
    heap_add_arena(&h, arena, sizeof(arena));
    char *a = heap_alloc(&h, 100);
    CHECK(a);
    CHECK(!heap_free(&h, a + 16));      /* interior pointer */
    CHECK(!heap_free(&h, a + 1));       /* misaligned */
    CHECK(!heap_free(&h, NULL));
    CHECK(heap_free(&h, a));
    CHECK(!heap_free(&h, a));           /* double free */
    CHECK_EQ(heap_alloc(&h, 0), NULL);
    CHECK_EQ(heap_alloc(&h, 8192), NULL);   /* no grow callback: exhaustion is NULL */
}

static int grows;
static void *arenas[8];
static void *grow(void *ctx, size_t min, size_t *size)
{
    (void)ctx;
    if (grows == 8)
        return NULL;
    *size = min;
    return arenas[grows++] = aligned_alloc(16, (min + 15) & ~15ul);
}

TEST(grows_on_demand)
{
    heap_init(&h, grow, NULL);
    grows = 0;
    void *a = heap_alloc(&h, 100);
    CHECK(a && grows == 1);
    void *b = heap_alloc(&h, 3u << 20);             /* larger than the default arena */
    CHECK(b && grows == 2);
    memset(b, 0xAB, 3u << 20);
    CHECK(heap_free(&h, a) && heap_free(&h, b));
    for (int i = 0; i < grows; i++)
        free(arenas[i]);
}

TEST(random_workload_keeps_invariants)
{
    static uint8_t arena[1 << 20] __attribute__((aligned(16)));
    heap_init(&h, NULL, NULL);
    heap_add_arena(&h, arena, sizeof(arena));
    void *live[256] = { 0 };
    size_t sz[256] = { 0 };
    srand(7);
    for (int it = 0; it < 200000; it++) {
        int i = rand() % 256;
        if (live[i]) {
            for (size_t j = 0; j < sz[i]; j++)
                if (((uint8_t *)live[i])[j] != (uint8_t)i) { CHECK(!"corrupted"); return; }
            CHECK(heap_free(&h, live[i]));
            live[i] = NULL;
        } else {
            sz[i] = 1 + rand() % 4000;
            live[i] = heap_alloc(&h, sz[i]);
            if (live[i])
                memset(live[i], i, sz[i]);
        }
    }
    for (int i = 0; i < 256; i++)
        if (live[i])
            CHECK(heap_free(&h, live[i]));
    CHECK_EQ(h.used_bytes, 0);
    CHECK(heap_alloc(&h, sizeof(arena) - 64) != NULL);  /* fully coalesced */
}
