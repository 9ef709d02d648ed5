/* A drive's own service time, for a disk whose data sits in RAM and so has none: the
 * mechanical model of Ruemmler & Wilkes ("An Introduction to Disk Drive Modeling", IEEE
 * Computer 1994): a seek that grows with the square root of the distance travelled, half a
 * revolution of rotational latency on average, the media transfer rate, and a fixed command
 * overhead. A request that starts where the previous one ended streams from the track
 * (read-ahead, write-behind): transfer time only. Deterministic and pure: the same requests
 * cost the same, which the A/B comparisons need. */
#ifndef MV_DISK_TIMING_H
#define MV_DISK_TIMING_H
#include "compiler.h"

struct disk_class {
    const char *name;
    uint32_t overhead_ns;           /* controller and command processing */
    uint32_t track_seek_ns;         /* one-track seek: the shortest */
    uint32_t full_seek_ns;          /* full-stroke seek */
    uint32_t rpm;
    uint32_t media_kib_s;           /* sustained media rate, KiB/s */
};

/* A 2006 desktop SATA disk (7200 rpm, ~9 ms average seek, ~65 MB/s): the class of the seed
 * paper's test machines. */
extern const struct disk_class disk_class_hdd2006;

struct disk_timing {
    const struct disk_class *cls;   /* NULL: no service time */
    uint64_t sectors;               /* capacity: seek distances are fractions of it */
    uint64_t head;                  /* the LBA after the last request: where the heads are */
};

void disk_timing_init(struct disk_timing *t, const struct disk_class *cls, uint64_t sectors);
/* The time in ns the drive needs for count sectors at lba, and the heads move there. */
uint64_t disk_service_ns(struct disk_timing *t, uint64_t lba, uint64_t count);
#endif
