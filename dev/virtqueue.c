/* Legacy split virtqueue, device side. See virtqueue.h for the layout and the policy on
 * malformed rings. All guest memory access is dma_read/dma_write at the time of use. */
#include "compiler.h"
#include "lib.h"
#include "byteorder.h"
#include "dev/dma.h"
#include "dev/virtqueue.h"

STATIC_ASSERT(VQ_MAX_SIZE <= VQ_NO_HEAD, "VQ_NO_HEAD must never be a valid index");
STATIC_ASSERT(VQ_MAX_SEGS >= 3, "a block request needs header, data and status");

/* 2.6.8.2 / Linux virtio_rmb, virtio_wmb, virtio_mb. x86 is TSO, so acquire/release fences
 * only stop the compiler; the full fence (store then load: used idx, then avail flags) is a
 * locked instruction. */
static void rmb(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
static void wmb(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }
static void mb(void)  { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

void vq_init(struct virtqueue *q, uint16_t size, const struct dma_ops *dma)
{
    memset(q, 0, sizeof(*q));
    q->dma = dma;
    /* A non-power-of-two size would break the free-running index arithmetic (65536 % Q). */
    q->size = (size && size <= VQ_MAX_SIZE && !(size & (size - 1))) ? size : 0;
}

void vq_set_pfn(struct virtqueue *q, uint32_t pfn)
{
    /* The driver allocates a zeroed ring, so both sides start at index 0 (2.6.13 / 4.1.5.1.3). */
    q->pfn = pfn;
    q->last_avail = 0;
    q->used_idx = 0;
    q->broken = false;
    q->last_error = VQ_ERR_NONE;
}

bool vq_ready(const struct virtqueue *q)
{
    return q->pfn && q->size && !q->broken;
}

uint64_t vq_desc_addr(const struct virtqueue *q)
{
    return (uint64_t)q->pfn << VQ_PAGE_SHIFT;
}

uint64_t vq_avail_addr(const struct virtqueue *q)
{
    return vq_desc_addr(q) + (uint64_t)q->size * VRING_DESC_SIZE;
}

/* 2.6.2: the used ring starts at the first VQ_ALIGN boundary after the available ring
 * (flags, idx, ring[Q], used_event). */
static uint64_t used_offset(uint16_t size)
{
    uint64_t avail_end = (uint64_t)size * VRING_DESC_SIZE + VRING_AVAIL_RING + 2ull * size + 2;
    return (avail_end + VQ_ALIGN - 1) & ~(uint64_t)(VQ_ALIGN - 1);
}

uint64_t vq_used_addr(const struct virtqueue *q)
{
    return vq_desc_addr(q) + used_offset(q->size);
}

uint64_t vq_ring_bytes(uint16_t size)
{
    return used_offset(size) + VRING_USED_RING + (uint64_t)VRING_USED_ELEM_SIZE * size + 2;
}

static int ring_fail(struct virtqueue *q, struct vq_chain *c, enum vq_error e)
{
    q->broken = true;
    q->ring_errors++;
    q->last_error = e;
    if (c)
        c->head = VQ_NO_HEAD;
    return VQ_POP_BAD;
}

static int chain_fail(struct virtqueue *q, enum vq_error e)
{
    q->bad_chains++;
    q->last_error = e;
    return VQ_POP_BAD;
}

int vq_pop(struct virtqueue *q, struct vq_chain *c)
{
    uint8_t b[VRING_DESC_SIZE];

    c->head = VQ_NO_HEAD;
    c->n = c->nread = 0;
    c->rlen = c->wlen = 0;
    if (!vq_ready(q))
        return VQ_POP_EMPTY;

    uint64_t avail = vq_avail_addr(q);
    if (!dma_read(q->dma, avail + VRING_AVAIL_IDX, b, 2))
        return ring_fail(q, c, VQ_ERR_AVAIL_DMA);
    uint16_t pending = (uint16_t)(get_le16(b) - q->last_avail);
    if (!pending)
        return VQ_POP_EMPTY;
    /* 2.6.6: the driver can have at most Q buffers outstanding; a bigger jump means the index
     * is garbage and the entries behind it are meaningless. */
    if (pending > q->size)
        return ring_fail(q, c, VQ_ERR_AVAIL_IDX);

    rmb();      /* read the ring entry only after seeing the idx that covers it */
    uint16_t mask = (uint16_t)(q->size - 1);
    if (!dma_read(q->dma, avail + VRING_AVAIL_RING + 2ull * (q->last_avail & mask), b, 2))
        return ring_fail(q, c, VQ_ERR_AVAIL_DMA);
    uint16_t head = get_le16(b);
    if (head >= q->size)
        return ring_fail(q, c, VQ_ERR_HEAD);     /* nothing we could complete */

    q->last_avail++;
    q->chains++;
    c->head = head;

    /* A chain of more than Q descriptors must revisit one (a loop); VQ_MAX_SEGS is our own
     * advertised limit. Either bound stops the walk. */
    unsigned limit = MIN((unsigned)q->size, (unsigned)VQ_MAX_SEGS);
    uint64_t desc = vq_desc_addr(q);
    uint16_t i = head;
    for (;;) {
        if (c->n == limit)
            return chain_fail(q, VQ_ERR_TOO_LONG);
        if (!dma_read(q->dma, desc + (uint64_t)i * VRING_DESC_SIZE, b, VRING_DESC_SIZE))
            return ring_fail(q, NULL, VQ_ERR_DESC_DMA);   /* head kept: push will fail anyway */
        uint64_t addr = get_le64(b + VRING_DESC_ADDR);
        uint32_t len = get_le32(b + VRING_DESC_LEN);
        uint16_t flags = get_le16(b + VRING_DESC_FLAGS);
        uint16_t next = get_le16(b + VRING_DESC_NEXT);
        bool write = flags & VRING_DESC_F_WRITE;

        if (flags & VRING_DESC_F_INDIRECT)
            return chain_fail(q, VQ_ERR_INDIRECT);
        if (addr + len < addr)
            return chain_fail(q, VQ_ERR_ADDR);
        /* 2.6.4.2: device-writable descriptors come after all device-readable ones. */
        if (!write && c->n != c->nread)
            return chain_fail(q, VQ_ERR_ORDER);

        struct vq_seg *s = &c->seg[c->n++];
        s->addr = addr;
        s->len = len;
        s->write = write;
        if (write) {
            c->wlen += len;
        } else {
            c->nread++;
            c->rlen += len;
        }
        if (!(flags & VRING_DESC_F_NEXT))
            return VQ_POP_OK;
        if (next >= q->size)
            return chain_fail(q, VQ_ERR_NEXT);
        i = next;
    }
}

bool vq_push(struct virtqueue *q, uint16_t head, uint32_t len)
{
    uint8_t b[VRING_USED_ELEM_SIZE];

    if (!vq_ready(q) || head >= q->size)
        return false;
    uint64_t used = vq_used_addr(q);
    uint16_t mask = (uint16_t)(q->size - 1);
    put_le32(b, head);
    put_le32(b + 4, len);
    if (!dma_write(q->dma, used + VRING_USED_RING + (uint64_t)VRING_USED_ELEM_SIZE * (q->used_idx & mask),
                   b, VRING_USED_ELEM_SIZE)) {
        ring_fail(q, NULL, VQ_ERR_USED_DMA);
        return false;
    }
    wmb();      /* 2.6.8.2: the element must be visible before the index that publishes it */
    put_le16(b, (uint16_t)(q->used_idx + 1));
    if (!dma_write(q->dma, used + VRING_USED_IDX, b, 2)) {
        ring_fail(q, NULL, VQ_ERR_USED_DMA);
        return false;
    }
    q->used_idx++;
    q->pushes++;
    return true;
}

bool vq_interrupt_wanted(struct virtqueue *q)
{
    uint8_t b[2];

    if (!q->pfn || !q->size)
        return false;
    /* The used idx store must be globally visible before the flags load, or a driver that
     * just re-enabled interrupts could miss this completion (Linux virtqueue_kick_prepare's
     * mirror image on the device side). */
    mb();
    if (!dma_read(q->dma, vq_avail_addr(q) + VRING_AVAIL_FLAGS, b, 2))
        return true;
    return !(get_le16(b) & VRING_AVAIL_F_NO_INTERRUPT);
}

bool vq_pending(struct virtqueue *q)
{
    uint8_t b[2];

    if (!vq_ready(q))
        return false;
    if (!dma_read(q->dma, vq_avail_addr(q) + VRING_AVAIL_IDX, b, 2))
        return true;
    return get_le16(b) != q->last_avail;
}

/* Walks the readable (write = false) or writable stream of c and moves len bytes at off. */
static bool chain_copy(struct virtqueue *q, const struct vq_chain *c, bool write, uint64_t off,
                       uint8_t *buf, size_t len)
{
    unsigned first = write ? c->nread : 0, end = write ? c->n : c->nread;
    uint64_t total = write ? c->wlen : c->rlen;

    if (off > total || len > total - off)
        return false;
    for (unsigned i = first; i < end && len; i++) {
        const struct vq_seg *s = &c->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        size_t n = (size_t)MIN((uint64_t)len, s->len - off);
        bool ok = write ? dma_write(q->dma, s->addr + off, buf, n)
                        : dma_read(q->dma, s->addr + off, buf, n);
        if (!ok) {
            q->dma_errors++;
            return false;
        }
        buf += n;
        len -= n;
        off = 0;
    }
    return len == 0;
}

bool vq_chain_read(struct virtqueue *q, const struct vq_chain *c, uint64_t off, void *buf, size_t len)
{
    return chain_copy(q, c, false, off, buf, len);
}

bool vq_chain_write(struct virtqueue *q, const struct vq_chain *c, uint64_t off, const void *buf, size_t len)
{
    return chain_copy(q, c, true, off, (uint8_t *)(uintptr_t)buf, len);
}
