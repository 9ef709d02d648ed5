/* Fake guest RAM for the device-model tests: a byte array behind dma_ops that refuses (and
 * counts) any access not entirely inside it, little-endian pokes and peeks at the test's
 * `ram` bytes for building rings and descriptors, and a recorder for an INTx line. A test
 * declares its RAM and its DMA as
 *     static struct fake_ram fram = { .bytes = ram, .size = RAM_SIZE };
 *     static const struct dma_ops dma = FAKE_RAM_DMA(&fram);
 * and calls fake_ram_reset(&fram) in its setup. */
#ifndef MV_FAKE_RAM_H
#define MV_FAKE_RAM_H
#include "test.h"
#include "byteorder.h"
#include "dev/dma.h"

struct fake_ram {
    uint8_t *bytes;
    size_t size;
    uint64_t reads, writes, rejects;
    /* Optional: called for each access inside the RAM before it is copied (a driver acting
     * while the device looks, a hole, a check on where the device writes); false refuses the
     * access, which then counts as a reject. */
    bool (*check)(struct fake_ram *r, bool write, uint64_t gpa, size_t len);
};

static inline bool fake_ram_in(const struct fake_ram *r, uint64_t gpa, size_t len)
{
    return gpa <= r->size && len <= r->size - gpa;
}

static inline bool fake_ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct fake_ram *r = ctx;
    if (!fake_ram_in(r, gpa, len) || (r->check && !r->check(r, false, gpa, len))) {
        r->rejects++;
        return false;
    }
    r->reads++;
    memcpy(buf, r->bytes + gpa, len);
    return true;
}

static inline bool fake_ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    struct fake_ram *r = ctx;
    if (!fake_ram_in(r, gpa, len) || (r->check && !r->check(r, true, gpa, len))) {
        r->rejects++;
        return false;
    }
    r->writes++;
    memcpy(r->bytes + gpa, buf, len);
    return true;
}

#define FAKE_RAM_DMA(r) { fake_ram_read, fake_ram_write, (r) }

static inline void fake_ram_reset(struct fake_ram *r) { r->reads = r->writes = r->rejects = 0; }

/* Little-endian pokes and peeks at guest address a in the including test's `ram`. */
#define w16(a, v) put_le16(ram + (a), (v))
#define w32(a, v) put_le32(ram + (a), (v))
#define w64(a, v) put_le64(ram + (a), (v))
#define r16(a)    get_le16(ram + (a))
#define r32(a)    get_le32(ram + (a))

/* A device's interrupt line: it may only change, and each rise and fall is counted. */
struct fake_irq {
    bool level;
    unsigned rises, falls;
};

static inline void fake_irq_set(struct fake_irq *q, bool level)
{
    CHECK(level != q->level);           /* changes only */
    q->level = level;
    level ? q->rises++ : q->falls++;
}
#endif
