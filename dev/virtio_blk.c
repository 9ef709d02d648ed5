/* Legacy virtio-blk. See virtio_blk.h for the interface and virtqueue.h for how malformed
 * rings are handled. Requests are parsed the way QEMU does, which is what 5.2.6 requires of a
 * device that has not negotiated ANY_LAYOUT and is harmless beyond it: the header is the
 * first 16 bytes of the device-readable stream, the status the last byte of the
 * device-writable stream, and data whatever lies between, however it is split into
 * descriptors. */
#include "compiler.h"
#include "lib.h"
#include "byteorder.h"
#include "dev/dma.h"
#include "dev/blockdev.h"
#include "dev/virtqueue.h"
#include "dev/virtio_blk.h"

STATIC_ASSERT(VIRTIO_BLK_SECTOR == BLOCKDEV_SECTOR, "virtio sectors are blockdev sectors");

static void blk_notify(void *dev, unsigned q);
static uint8_t config_byte(void *dev, unsigned off);

static void blk_queue_reset(void *dev, unsigned q)
{
    ((struct virtio_blk *)dev)->held = false;   /* a fetched request goes with its ring */
}

static const struct virtio_pci_ops blk_ops = { config_byte, blk_notify, blk_queue_reset, NULL };

void virtio_blk_reset(struct virtio_blk *v)
{
    virtio_pci_reset(&v->vp);
}

void virtio_blk_init(struct virtio_blk *v, struct blockdev *bd, const char *serial,
                     const struct dma_ops *dma, void (*set_irq)(void *, bool), void *irq_ctx,
                     void (*notify)(void *, struct virtio_blk *), void *notify_ctx)
{
    memset(v, 0, sizeof(*v));
    v->bd = bd;
    v->dma = dma;
    v->notify = notify;
    v->notify_ctx = notify_ctx;
    uint32_t features = VIRTIO_BLK_FEATURES_BASE;
    if (bd->readonly)
        features |= (uint32_t)BIT(VIRTIO_BLK_F_RO);   /* 5.2.5: the driver must not write */
    for (unsigned i = 0; serial && serial[i] && i < VIRTIO_BLK_ID_BYTES; i++)
        v->serial[i] = serial[i];
    vq_init(&v->vq, VIRTIO_BLK_QUEUE_SIZE, dma);
    virtio_pci_init(&v->vp, &v->vq, 1, VIRTIO_BLK_IO_BAR_SIZE, features, &blk_ops, v, set_irq, irq_ctx);
}

/* One byte of the device config (5.2.4), little-endian. */
static uint8_t config_byte(void *dev, unsigned off)
{
    const struct virtio_blk *v = dev;
    uint64_t val;
    unsigned base;

    if (off < VIRTIO_BLK_CFG_SIZE_MAX) {
        val = v->bd->sectors;
        base = VIRTIO_BLK_CFG_CAPACITY;
    } else if (off >= VIRTIO_BLK_CFG_SEG_MAX && off < VIRTIO_BLK_CFG_CYLINDERS) {
        val = VIRTIO_BLK_SEG_MAX;
        base = VIRTIO_BLK_CFG_SEG_MAX;
    } else if (off >= VIRTIO_BLK_CFG_CYLINDERS && off < VIRTIO_BLK_CFG_HEADS) {
        /* 5.2.4 geometry is advisory; the usual 16 heads x 63 sectors, cylinders clamped. */
        val = MIN(v->bd->sectors / (VIRTIO_BLK_GEOM_HEADS * VIRTIO_BLK_GEOM_SECTORS),
                  (uint64_t)VIRTIO_BLK_GEOM_MAX_CYL);
        base = VIRTIO_BLK_CFG_CYLINDERS;
    } else if (off == VIRTIO_BLK_CFG_HEADS) {
        return VIRTIO_BLK_GEOM_HEADS;
    } else if (off == VIRTIO_BLK_CFG_SECTORS) {
        return VIRTIO_BLK_GEOM_SECTORS;
    } else if (off >= VIRTIO_BLK_CFG_BLK_SIZE && off < VIRTIO_BLK_CFG_SIZE) {
        val = VIRTIO_BLK_SECTOR;
        base = VIRTIO_BLK_CFG_BLK_SIZE;
    } else {
        return 0;       /* size_max (not offered) and everything past blk_size */
    }
    return (uint8_t)(val >> (8 * (off - base)));
}

uint32_t virtio_blk_read(struct virtio_blk *v, unsigned offset, unsigned size)
{
    return virtio_pci_read(&v->vp, offset, size);
}

void virtio_blk_write(struct virtio_blk *v, unsigned offset, unsigned size, uint32_t val)
{
    virtio_pci_write(&v->vp, offset, size, val);
}

static void blk_notify(void *dev, unsigned q)
{
    struct virtio_blk *v = dev;
    if (v->notify)
        v->notify(v->notify_ctx, v);
    else
        virtio_blk_process(v);
}

static uint8_t refuse(struct virtio_blk *v)
{
    v->bd->errors++;        /* the blockdev's own count of refused requests */
    return VIRTIO_BLK_S_IOERR;
}

/* 5.2.6.2: data must be whole 512-byte sectors and inside the disk. One request moves at
 * most VIRTIO_BLK_MAX_REQUEST (what one serving step may take; Linux's requests are far
 * smaller), so a guest cannot hold the CPU with one huge chain. */
static bool range_ok(const struct virtio_blk *v, uint64_t sector, uint64_t bytes)
{
    uint64_t count = bytes / VIRTIO_BLK_SECTOR;
    return bytes % VIRTIO_BLK_SECTOR == 0 && bytes <= VIRTIO_BLK_MAX_REQUEST &&
           sector <= v->bd->sectors && count <= v->bd->sectors - sector;
}

/* Disk to guest, through the bounce buffer; *written counts the data bytes delivered. */
static uint8_t do_in(struct virtio_blk *v, uint64_t sector, uint64_t bytes, uint32_t *written)
{
    if (!range_ok(v, sector, bytes))
        return refuse(v);
    for (uint64_t done = 0; done < bytes; ) {
        size_t chunk = (size_t)MIN(bytes - done, (uint64_t)VIRTIO_BLK_BOUNCE);
        if (!blockdev_read(v->bd, sector + done / VIRTIO_BLK_SECTOR, chunk / VIRTIO_BLK_SECTOR, v->bounce))
            return VIRTIO_BLK_S_IOERR;
        if (!vq_chain_write(&v->vq, &v->chain, done, v->bounce, chunk))
            return VIRTIO_BLK_S_IOERR;      /* a data segment outside RAM */
        done += chunk;
        *written = (uint32_t)done;
    }
    v->bd->reads++;
    v->reads++;
    return VIRTIO_BLK_S_OK;
}

/* Guest to disk. A segment outside RAM fails the request at that chunk; the chunks before it
 * are already written, as on a disk that reports an error mid-transfer. */
static uint8_t do_out(struct virtio_blk *v, uint64_t sector, uint64_t bytes)
{
    if (v->bd->readonly || !range_ok(v, sector, bytes))
        return refuse(v);
    for (uint64_t done = 0; done < bytes; ) {
        size_t chunk = (size_t)MIN(bytes - done, (uint64_t)VIRTIO_BLK_BOUNCE);
        if (!vq_chain_read(&v->vq, &v->chain, VIRTIO_BLK_HDR_SIZE + done, v->bounce, chunk))
            return VIRTIO_BLK_S_IOERR;
        if (!blockdev_write(v->bd, sector + done / VIRTIO_BLK_SECTOR, chunk / VIRTIO_BLK_SECTOR, v->bounce))
            return VIRTIO_BLK_S_IOERR;
        done += chunk;
    }
    v->bd->writes++;
    v->writes++;
    return VIRTIO_BLK_S_OK;
}

/* 5.2.6: the serial as 20 bytes, NUL-padded (no terminator when it is 20 long), cut to the
 * driver's buffer. */
static uint8_t do_get_id(struct virtio_blk *v, uint64_t room, uint32_t *written)
{
    size_t n = (size_t)MIN(room, (uint64_t)VIRTIO_BLK_ID_BYTES);
    for (size_t i = 0; i < VIRTIO_BLK_ID_BYTES; i++)
        v->bounce[i] = (uint8_t)v->serial[i];
    if (!vq_chain_write(&v->vq, &v->chain, 0, v->bounce, n))
        return VIRTIO_BLK_S_IOERR;
    *written = (uint32_t)n;
    v->get_ids++;
    return VIRTIO_BLK_S_OK;
}

/* Serves v->chain; returns the used length: bytes written into the chain. */
static uint32_t serve(struct virtio_blk *v)
{
    const struct vq_chain *c = &v->chain;
    uint8_t hdr[VIRTIO_BLK_HDR_SIZE];
    uint32_t written = 0;
    uint8_t st;

    if (c->wlen == 0) {
        v->bad_requests++;      /* nowhere to report anything: complete with len 0 */
        return 0;
    }
    uint64_t room = c->wlen - 1;            /* writable bytes before the status byte */
    if (c->rlen < VIRTIO_BLK_HDR_SIZE || !vq_chain_read(&v->vq, c, 0, hdr, sizeof(hdr))) {
        st = VIRTIO_BLK_S_IOERR;
    } else {
        uint32_t type = get_le32(hdr + VIRTIO_BLK_HDR_TYPE) & ~VIRTIO_BLK_T_BARRIER;
        uint64_t sector = get_le64(hdr + VIRTIO_BLK_HDR_SECTOR);
        switch (type) {
        case VIRTIO_BLK_T_IN:
            st = do_in(v, sector, room, &written);
            break;
        case VIRTIO_BLK_T_OUT:
            st = do_out(v, sector, c->rlen - VIRTIO_BLK_HDR_SIZE);
            break;
        case VIRTIO_BLK_T_FLUSH:
            /* The backing store is VMM memory: nothing is cached, so a flush is complete. */
            st = VIRTIO_BLK_S_OK;
            v->flushes++;
            break;
        case VIRTIO_BLK_T_GET_ID:
            st = do_get_id(v, room, &written);
            break;
        default:
            st = VIRTIO_BLK_S_UNSUPP;
            v->unsupported++;
            break;
        }
    }
    if (st == VIRTIO_BLK_S_IOERR)
        v->errors++;
    if (!vq_chain_write(&v->vq, c, room, &st, 1)) {
        v->bad_requests++;      /* the status byte is outside RAM */
        return written;
    }
    return written + 1;
}

bool virtio_blk_take(struct virtio_blk *v, uint64_t *sector, uint32_t *sectors, bool *write)
{
    *sector = 0;
    *sectors = 0;
    *write = false;
    if (!v->held) {
        int r = vq_pop(&v->vq, &v->chain);
        if (r == VQ_POP_EMPTY || (r == VQ_POP_BAD && v->chain.head == VQ_NO_HEAD))
            return false;       /* nothing, or the ring is broken: nothing to complete */
        v->held = true;
        v->held_bad = r == VQ_POP_BAD;
    }
    uint8_t hdr[VIRTIO_BLK_HDR_SIZE];
    const struct vq_chain *c = &v->chain;
    if (!v->held_bad && c->rlen >= VIRTIO_BLK_HDR_SIZE && vq_chain_read(&v->vq, c, 0, hdr, sizeof(hdr))) {
        uint32_t type = get_le32(hdr + VIRTIO_BLK_HDR_TYPE) & ~VIRTIO_BLK_T_BARRIER;
        uint64_t bytes = type == VIRTIO_BLK_T_OUT ? c->rlen - VIRTIO_BLK_HDR_SIZE
                         : c->wlen ? c->wlen - 1 : 0;
        uint64_t first = get_le64(hdr + VIRTIO_BLK_HDR_SECTOR);
        /* A request that will be refused costs the drive nothing. */
        if ((type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT) && range_ok(v, first, bytes)) {
            *sector = first;
            *sectors = (uint32_t)MIN(bytes / VIRTIO_BLK_SECTOR, UINT32_MAX);
            *write = type == VIRTIO_BLK_T_OUT;
        }
    }
    return true;
}

bool virtio_blk_complete(struct virtio_blk *v)
{
    if (!v->held)
        return false;
    v->held = false;
    v->requests++;
    uint32_t len;
    if (v->held_bad) {
        v->bad_requests++;
        len = 0;
    } else {
        len = serve(v);
    }
    return vq_push(&v->vq, v->chain.head, len);
}

static void interrupt(struct virtio_blk *v)
{
    virtio_pci_used(&v->vp, 0);
}

bool virtio_blk_process_one(struct virtio_blk *v)
{
    uint64_t sector;
    uint32_t sectors;
    bool write;
    if (!virtio_blk_take(v, &sector, &sectors, &write))
        return false;
    if (virtio_blk_complete(v))
        interrupt(v);
    return true;
}

unsigned virtio_blk_process(struct virtio_blk *v)
{
    unsigned served = 0;
    bool completed = false;
    uint64_t sector;
    uint32_t sectors;
    bool write;

    /* At most one ring's worth: a driver refilling concurrently cannot keep us here. */
    for (unsigned i = 0; i < v->vq.size && virtio_blk_take(v, &sector, &sectors, &write); i++) {
        served++;
        if (virtio_blk_complete(v))
            completed = true;
    }
    if (completed)
        interrupt(v);
    return served;
}

bool virtio_blk_work_pending(struct virtio_blk *v)
{
    return v->held || vq_pending(&v->vq);
}
