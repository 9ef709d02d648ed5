/* Guest memory: chunked backing, exact bounds, no access outside, cleanup on failure. */
#include "test.h"
#include "mm/guest_mem.h"
#include <stdlib.h>

static int live_chunks, fail_after = -1;
static uint64_t alloc_chunk(void *ctx)
{
    if (fail_after == 0)
        return 0;
    if (fail_after > 0)
        fail_after--;
    void *p = aligned_alloc(GMEM_CHUNK_SIZE, GMEM_CHUNK_SIZE);
    memset(p, 0xAA, GMEM_CHUNK_SIZE);       /* "stale host data": must be zeroed by gmem_init */
    live_chunks++;
    return (uint64_t)(uintptr_t)p;
}
static void free_chunk(void *ctx, uint64_t hpa) { free((void *)(uintptr_t)hpa); live_chunks--; }
static void *ptr(void *ctx, uint64_t hpa) { return (void *)(uintptr_t)hpa; }
static const struct gmem_ops ops = { alloc_chunk, free_chunk, ptr, NULL };

TEST(bounds_and_cross_chunk_copies)
{
    struct guest_mem m;
    uint64_t table[3];
    CHECK(gmem_init(&m, 5 << 20, table, &ops));     /* rounded up to 6 MiB */
    CHECK_EQ(m.size, 6 << 20);
    CHECK_EQ(m.nchunks, 3);
    uint8_t z[64] = { 0 }, buf[64];
    CHECK(gmem_read(&m, (6 << 20) - 64, buf, 64));
    CHECK(!memcmp(buf, z, 64));                      /* zeroed, not stale */
    char msg[] = "spans the 2 MiB chunk boundary";
    CHECK(gmem_write(&m, GMEM_CHUNK_SIZE - 10, msg, sizeof(msg)));
    char back[sizeof(msg)];
    CHECK(gmem_read(&m, GMEM_CHUNK_SIZE - 10, back, sizeof(back)));
    CHECK_STR(back, msg);
    CHECK(!gmem_write(&m, (6 << 20) - 4, msg, 8));   /* straddles the end: refused whole */
    CHECK(gmem_read(&m, (6 << 20) - 4, buf, 4));
    CHECK(!memcmp(buf, z, 4));                       /* ...and nothing was written */
    CHECK(!gmem_read(&m, UINT64_MAX - 2, buf, 8));   /* wrap-around */
    CHECK(!gmem_read(&m, 6 << 20, buf, 1));
    CHECK(gmem_read(&m, 6 << 20, buf, 0));           /* empty range at the end is fine */
    CHECK_EQ(gmem_hpa(&m, 6 << 20), GPA_INVALID);
    CHECK_EQ(gmem_hpa(&m, (2 << 20) + 5), table[1] + 5);
    CHECK(gmem_fill(&m, 100, 0x5A, 3 << 20));
    CHECK(gmem_read(&m, (3 << 20) + 99, buf, 2));
    CHECK(buf[0] == 0x5A && buf[1] == 0);
    gmem_destroy(&m);
    CHECK_EQ(live_chunks, 0);
}

TEST(allocation_failure_frees_everything)
{
    struct guest_mem m;
    uint64_t table[4];
    fail_after = 2;
    CHECK(!gmem_init(&m, 8 << 20, table, &ops));
    CHECK_EQ(live_chunks, 0);
    fail_after = -1;
    CHECK(!gmem_init(&m, 0, table, &ops));
    CHECK(!gmem_init(&m, GMEM_MAX_SIZE + 1, table, &ops));
}
