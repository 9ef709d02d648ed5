/* A drive's backing store as the disk models see it: 512-byte sectors in VMM memory (a boot
 * module copied at VM creation, kept for the VMM's uptime), with the counters the shell shows.
 * Models reach it only through these helpers, which check every range. */
#ifndef MV_BLOCKDEV_H
#define MV_BLOCKDEV_H
#include "compiler.h"
#include "lib.h"

#define BLOCKDEV_SECTOR 512u

struct blockdev {
    uint8_t *data;              /* sectors * BLOCKDEV_SECTOR bytes */
    uint64_t sectors;
    bool readonly;              /* a CD image */
    uint64_t reads, writes;     /* commands that moved data */
    uint64_t bytes_read, bytes_written;
    uint64_t errors;            /* requests refused: out of range, read-only */
    uint8_t *written;           /* optional: a bit per sector, set when written (LSB first) */
};

/* Copies count sectors from lba into buf; false (and counted) if any is past the end. */
static inline bool blockdev_read(struct blockdev *b, uint64_t lba, uint64_t count, void *buf)
{
    if (!b->data || lba > b->sectors || count > b->sectors - lba) {
        b->errors++;
        return false;
    }
    memcpy(buf, b->data + lba * BLOCKDEV_SECTOR, count * BLOCKDEV_SECTOR);
    b->bytes_read += count * BLOCKDEV_SECTOR;
    return true;
}

/* Copies count sectors from buf to lba; false (and counted) if read-only or past the end. */
static inline bool blockdev_write(struct blockdev *b, uint64_t lba, uint64_t count, const void *buf)
{
    if (!b->data || b->readonly || lba > b->sectors || count > b->sectors - lba) {
        b->errors++;
        return false;
    }
    memcpy(b->data + lba * BLOCKDEV_SECTOR, buf, count * BLOCKDEV_SECTOR);
    if (b->written)
        for (uint64_t s = lba; s < lba + count; s++)
            b->written[s / 8] |= (uint8_t)(1u << (s % 8));
    b->bytes_written += count * BLOCKDEV_SECTOR;
    return true;
}
#endif
