/* Device side of a legacy split virtqueue (Virtio 1.1 2.6 "Split Virtqueues", 2.6.2 "Legacy
 * Interfaces: A Note on Virtqueue Layout"), shared by the virtio device models.
 *
 * The ring lives in guest RAM at PFN * 4096, laid out for the device-chosen power-of-two size Q:
 *   descriptor table   Q * 16 bytes        {addr u64, len u32, flags u16, next u16}
 *   available ring     6 + 2 * Q bytes     {flags u16, idx u16, ring[Q] u16, used_event u16}
 *   (pad to the next 4096-byte boundary: VIRTIO_PCI_VRING_ALIGN)
 *   used ring          6 + 8 * Q bytes     {flags u16, idx u16, ring[Q] {id u32, len u32}, avail_event u16}
 * Every field is read or written through the VM's dma_ops at the moment it is needed: no host
 * pointer into the ring is kept, since the guest may place (and move) it anywhere, including
 * across the end of RAM, and a failed access must simply fail.
 *
 * What the guest can get wrong, and what happens (see vq_pop):
 *  - the ring itself is unusable (avail/used ring or descriptor table not in RAM, avail idx
 *    more than Q ahead, a head index >= Q): the queue is marked broken and serves nothing
 *    until the driver resets it (PFN 0 or a new PFN, device reset) - QEMU's virtio_error;
 *  - one chain is malformed (next >= Q, a loop, longer than VQ_MAX_SEGS, INDIRECT, a readable
 *    descriptor after a writable one, addr + len wrapping): the chain is counted and handed
 *    back by its head only, so the device completes it (used len 0) and the queue goes on.
 * Neither case ever makes the device touch memory outside the VM: all access is via dma_ops.
 *
 * Callers serialise all calls on one queue (the device model's lock, if any). */
#ifndef MV_VIRTQUEUE_H
#define MV_VIRTQUEUE_H
#include "compiler.h"
#include "dev/dma.h"

#define VQ_PAGE_SHIFT       12          /* the legacy QUEUE_PFN unit (VIRTIO_PCI_QUEUE_ADDR_SHIFT) */
#define VQ_ALIGN            4096u       /* legacy used-ring alignment (VIRTIO_PCI_VRING_ALIGN) */
#define VQ_MAX_SIZE         32768u      /* 2.6: queue size is at most 32768 */

/* Longest chain accepted: Linux virtio-blk's seg_max (128, see virtio_blk.h) plus its header
 * and status descriptors. A longer chain is malformed: it broke the advertised limit. */
#define VQ_MAX_SEGS         130

/* Descriptor layout (2.6.5). */
#define VRING_DESC_SIZE     16
#define VRING_DESC_ADDR     0
#define VRING_DESC_LEN      8
#define VRING_DESC_FLAGS    12
#define VRING_DESC_NEXT     14
#define VRING_DESC_F_NEXT       1       /* the chain continues at .next */
#define VRING_DESC_F_WRITE      2       /* device-writable (else device-readable) */
#define VRING_DESC_F_INDIRECT   4       /* 2.6.5.3: only with VIRTIO_RING_F_INDIRECT_DESC, never offered */

/* Available ring (2.6.6), offsets from its start. */
#define VRING_AVAIL_FLAGS   0
#define VRING_AVAIL_IDX     2
#define VRING_AVAIL_RING    4           /* ring[Q] of u16 heads; used_event follows (EVENT_IDX only) */
#define VRING_AVAIL_F_NO_INTERRUPT 1    /* 2.6.7: the driver asks for no used-buffer interrupts */

/* Used ring (2.6.8), offsets from its start. */
#define VRING_USED_FLAGS    0
#define VRING_USED_IDX      2
#define VRING_USED_RING     4           /* ring[Q] of {id u32, len u32}; avail_event follows */
#define VRING_USED_ELEM_SIZE 8
#define VRING_USED_F_NO_NOTIFY 1        /* never set: every kick is welcome */

/* Transport feature bits (6 "Reserved Feature Bits"); this walker supports none of them. */
#define VIRTIO_F_NOTIFY_ON_EMPTY    24  /* legacy */
#define VIRTIO_F_ANY_LAYOUT         27  /* legacy */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX     29

#define VQ_NO_HEAD          0xFFFFu     /* vq_chain.head when the head is unknown (>= any Q) */

/* vq_pop results. */
#define VQ_POP_OK           1
#define VQ_POP_EMPTY        0
#define VQ_POP_BAD          (-1)

/* Why the last chain or ring was refused (for the shell). */
enum vq_error {
    VQ_ERR_NONE,
    VQ_ERR_AVAIL_DMA,       /* available ring not in RAM */
    VQ_ERR_AVAIL_IDX,       /* avail idx more than Q ahead of what was consumed */
    VQ_ERR_HEAD,            /* a head index >= Q in the available ring */
    VQ_ERR_DESC_DMA,        /* descriptor table not in RAM */
    VQ_ERR_USED_DMA,        /* used ring not in RAM */
    VQ_ERR_NEXT,            /* a next index >= Q */
    VQ_ERR_TOO_LONG,        /* more than VQ_MAX_SEGS descriptors, or a loop (more than Q) */
    VQ_ERR_INDIRECT,        /* INDIRECT flag, feature not offered */
    VQ_ERR_ORDER,           /* device-readable after device-writable (2.6.4.2) */
    VQ_ERR_ADDR,            /* addr + len wraps the 64-bit address space */
};

struct vq_seg {
    uint64_t addr;
    uint32_t len;
    bool write;             /* device-writable */
};

/* One popped chain: the readable segments first, then the writable ones. Big (2 KiB): keep it
 * in the device struct, not on the stack. */
struct vq_chain {
    uint16_t head;          /* descriptor index to complete with vq_push, or VQ_NO_HEAD */
    unsigned n;             /* segments; valid only for VQ_POP_OK */
    unsigned nread;         /* seg[0..nread) are device-readable, seg[nread..n) writable */
    uint64_t rlen, wlen;    /* total readable / writable bytes */
    struct vq_seg seg[VQ_MAX_SEGS];
};

struct virtqueue {
    const struct dma_ops *dma;
    uint32_t pfn;           /* ring base / 4096; 0 = not set up */
    uint16_t size;          /* Q, a power of two <= VQ_MAX_SIZE */
    uint16_t last_avail;    /* next available-ring slot to consume (free-running, wraps) */
    uint16_t used_idx;      /* the used idx last published (free-running, wraps) */
    bool broken;            /* the ring is unusable until vq_set_pfn */
    enum vq_error last_error;
    uint64_t chains;        /* chains popped, good or bad */
    uint64_t bad_chains;    /* malformed chains (handed back by head) */
    uint64_t ring_errors;   /* times the queue was marked broken */
    uint64_t dma_errors;    /* vq_chain_read/write that hit memory outside RAM */
    uint64_t pushes;        /* used elements published */
};

/* size must be a power of two in 1..VQ_MAX_SIZE (anything else is a caller bug: size 0 is
 * used instead and the queue never works). The queue starts unset (PFN 0). */
void vq_init(struct virtqueue *q, uint16_t size, const struct dma_ops *dma);
/* The driver wrote QUEUE_PFN: a new ring (indices restart at 0, broken cleared); 0 = reset. */
void vq_set_pfn(struct virtqueue *q, uint32_t pfn);
bool vq_ready(const struct virtqueue *q);               /* PFN set and not broken */
/* Guest-physical addresses of the three parts of the ring (valid once a PFN is set). */
uint64_t vq_desc_addr(const struct virtqueue *q);
uint64_t vq_avail_addr(const struct virtqueue *q);
uint64_t vq_used_addr(const struct virtqueue *q);
/* Bytes the whole ring spans from PFN * 4096 for a queue of this size. */
uint64_t vq_ring_bytes(uint16_t size);

/* Takes the next available chain. VQ_POP_OK: c holds it. VQ_POP_EMPTY: nothing available, or
 * the queue is unset/broken. VQ_POP_BAD: counted; if c->head != VQ_NO_HEAD the chain was
 * malformed and the caller should complete it (vq_push(head, 0)) and carry on; otherwise the
 * ring is unusable and the queue is now broken (later pops return VQ_POP_EMPTY). Each call
 * consumes at most one available entry and reads at most VQ_MAX_SEGS descriptors. */
int vq_pop(struct virtqueue *q, struct vq_chain *c);
/* Publishes {head, len} to the used ring: element first, then (after a write barrier) the
 * index (2.6.8.2). False (and the queue broken) if the used ring is not in RAM; false for a
 * head >= Q or an unset/broken queue. */
bool vq_push(struct virtqueue *q, uint16_t head, uint32_t len);
/* After pushes: does the driver want an interrupt? No EVENT_IDX is offered, so only
 * VRING_AVAIL_F_NO_INTERRUPT counts (2.6.7.2); an unreadable flags word says yes. */
bool vq_interrupt_wanted(struct virtqueue *q);
/* Available entries not yet consumed (avail idx != last_avail) on a usable queue. An
 * unreadable avail idx says yes, so vq_pop gets to report it. */
bool vq_pending(struct virtqueue *q);

/* Copy len bytes at byte offset off of the chain's readable (resp. writable) stream, the
 * segments taken as one contiguous buffer. False if the range is past the stream's end or a
 * segment is not in RAM (counted in dma_errors; earlier segments may have been moved). */
bool vq_chain_read(struct virtqueue *q, const struct vq_chain *c, uint64_t off, void *buf, size_t len);
bool vq_chain_write(struct virtqueue *q, const struct vq_chain *c, uint64_t off, const void *buf, size_t len);
#endif
