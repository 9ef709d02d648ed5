/* The service-time model (Ruemmler & Wilkes 1994): streaming costs the media rate only, a
 * seek grows with the square root of its distance up to the full stroke, and a random
 * request pays half a revolution. */
#include "test.h"
#include "dev/disk_timing.h"

#define SECTORS (1ull << 28)            /* a 128 GiB disk */

TEST(no_class_costs_nothing)
{
    struct disk_timing t;
    disk_timing_init(&t, NULL, SECTORS);
    CHECK_EQ(disk_service_ns(&t, 12345, 256), 0);
}

TEST(streaming_is_media_rate)
{
    struct disk_timing t;
    disk_timing_init(&t, &disk_class_hdd2006, SECTORS);
    uint64_t first = disk_service_ns(&t, 0, 128);   /* heads start at 0: no seek */
    uint64_t next = disk_service_ns(&t, 128, 128);
    CHECK_EQ(first, next);
    /* 64 KiB at 63500 KiB/s = 1.008 ms, plus the 0.1 ms overhead. */
    CHECK(next > 1100000 && next < 1115000);
    /* 100 MiB sequentially: about 1.6 s, i.e. ~63 MB/s (the class's rate). */
    uint64_t total = 0;
    for (uint64_t lba = 256; lba < 256 + 204800; lba += 256)
        total += disk_service_ns(&t, lba, 256);
    CHECK(total > 1600000000ull && total < 1700000000ull);
}

TEST(seeks_grow_with_sqrt_distance)
{
    struct disk_timing t;
    disk_timing_init(&t, &disk_class_hdd2006, SECTORS);
    const uint64_t half_turn = 60000000000ull / 7200 / 2;   /* 4.17 ms */
    uint64_t xfer = disk_service_ns(&t, 0, 8);
    /* One sector away: a track seek and the rotational latency. */
    uint64_t near = disk_service_ns(&t, 9, 8) - xfer;
    CHECK(near >= 800000 + half_turn && near < 810000 + half_turn);
    /* Full stroke. */
    disk_timing_init(&t, &disk_class_hdd2006, SECTORS);
    uint64_t full = disk_service_ns(&t, SECTORS - 8, 8) - xfer;
    CHECK(full > 16990000 + half_turn && full <= 17000000 + half_turn);
    /* A quarter of the stroke costs half the seek range (sqrt(1/4) = 1/2). */
    disk_timing_init(&t, &disk_class_hdd2006, SECTORS);
    uint64_t quarter = disk_service_ns(&t, SECTORS / 4, 8) - xfer - half_turn;
    uint64_t expect = 800000 + (17000000 - 800000) / 2;
    CHECK(quarter > expect - 1000 && quarter < expect + 1000);
    /* Monotonic in distance, both directions alike. */
    uint64_t prev = 0;
    for (uint64_t d = 1; d < SECTORS; d *= 3) {
        disk_timing_init(&t, &disk_class_hdd2006, SECTORS);
        t.head = SECTORS / 2;
        uint64_t up = disk_service_ns(&t, SECTORS / 2 + MIN(d, SECTORS / 2 - 8), 8);
        t.head = SECTORS / 2;
        uint64_t down = disk_service_ns(&t, SECTORS / 2 - MIN(d, SECTORS / 2 - 8), 8);
        CHECK_EQ(up, down);
        CHECK(up >= prev);
        prev = up;
    }
    /* Hostile numbers: a request far past the end is capped at a full stroke. */
    disk_timing_init(&t, &disk_class_hdd2006, SECTORS);
    CHECK(disk_service_ns(&t, UINT64_MAX / 2, 1) < 30000000);
}
