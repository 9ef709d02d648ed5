#include "dev/disk_timing.h"

#define NS_PER_S        1000000000ull
#define NS_PER_MIN      (60ull * NS_PER_S)
#define SECTOR_BYTES    512u
#define KIB             1024u
/* Square roots in fixed point: the seek curve maps distance/capacity in [0, 1] to [0, 1]. */
#define FRAC_BITS       16
#define FRAC_ONE        (1ull << FRAC_BITS)

/* Seagate Barracuda 7200.10 class (2006): 8.5 ms average read seek, 0.8 ms track-to-track,
 * ~17 ms full stroke, 7200 rpm, up to 78 MB/s outer zone; 65 MB/s is a mid-zone average. */
const struct disk_class disk_class_hdd2006 = {
    .name = "hdd2006", .overhead_ns = 100000, .track_seek_ns = 800000, .full_seek_ns = 17000000,
    .rpm = 7200, .media_kib_s = 63500,
};

void disk_timing_init(struct disk_timing *t, const struct disk_class *cls, uint64_t sectors)
{
    t->cls = cls;
    t->sectors = sectors ? sectors : 1;
    t->head = 0;
}

static uint64_t isqrt(uint64_t v)
{
    uint64_t r = 0;
    for (uint64_t bit = 1ull << 62; bit; bit >>= 2) {
        if (v >= r + bit) {
            v -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return r;
}

uint64_t disk_service_ns(struct disk_timing *t, uint64_t lba, uint64_t count)
{
    const struct disk_class *c = t->cls;
    if (!c)
        return 0;
    /* Per sector first, so no count can overflow the product. */
    uint64_t sector_ns = SECTOR_BYTES * NS_PER_S / ((uint64_t)c->media_kib_s * KIB);
    uint64_t ns = c->overhead_ns + MIN(count, t->sectors) * sector_ns;
    if (lba != t->head) {
        uint64_t dist = lba > t->head ? lba - t->head : t->head - lba;
        if (dist > t->sectors)
            dist = t->sectors;
        /* frac = dist / capacity in 16.16; the curve is sqrt(frac), also in 16.16. */
        uint64_t frac = (dist << FRAC_BITS) / t->sectors;
        uint64_t curve = isqrt(frac << FRAC_BITS);
        ns += c->track_seek_ns + (uint64_t)(c->full_seek_ns - c->track_seek_ns) * curve / FRAC_ONE;
        ns += NS_PER_MIN / c->rpm / 2;  /* on average the sector is half a turn away */
    }
    t->head = lba + count;
    return ns;
}
