/* Legacy (transitional) virtio-blk over an I/O BAR: Virtio 1.1 4.1.4.8 "Legacy Interfaces: A
 * Note on PCI Device Layout" for the registers, 2.6 (via dev/virtqueue.h) for the one request
 * queue, and 5.2 "Block Device" for the requests - what Linux's virtio_pci_legacy and
 * virtio_blk drivers drive. No MSI-X (so the device config starts at 0x14), INTx only.
 *
 * The glue owns the PCI function (ids below, BAR0 = I/O of VIRTIO_BLK_IO_BAR_SIZE, INTA#),
 * forwards BAR0 accesses to virtio_blk_read/write, wires set_irq to the function's INTx and
 * dma to the VM's guest memory. A queue-notify write calls notify(), which runs
 * virtio_blk_process at once or wakes a VMM thread that does; either way the glue serialises
 * all calls into one struct virtio_blk. Requests complete synchronously against the
 * blockdev (VMM memory), so there is never anything in flight across calls. */
#ifndef MV_VIRTIO_BLK_H
#define MV_VIRTIO_BLK_H
#include "compiler.h"
#include "dev/dma.h"
#include "dev/blockdev.h"
#include "dev/virtqueue.h"
#include "dev/virtio_pci.h"

/* PCI identity (4.1.2.3): a transitional block device has device id 0x1001. Base class 01
 * mass storage, subclass 00 SCSI, prog-if 00: what QEMU's virtio-blk-pci reports by default
 * (class_code PCI_CLASS_STORAGE_SCSI, 0x0100). Drivers match on ids only. */
#define VIRTIO_BLK_PCI_DEVICE       0x1001
#define VIRTIO_ID_BLOCK             2       /* 5 "Device Types": subsystem device id */
#define VIRTIO_BLK_PCI_CLASS        0x010000u
#define VIRTIO_BLK_PCI_CLASS_REV    (VIRTIO_BLK_PCI_CLASS << 8 | VIRTIO_PCI_LEGACY_REVISION)
#define VIRTIO_BLK_PCI_INT_PIN      VIRTIO_PCI_INT_PIN

/* Block feature bits (5.2.3; BARRIER and SCSI are 5.2.3.1 legacy). */
#define VIRTIO_BLK_F_BARRIER        0
#define VIRTIO_BLK_F_SIZE_MAX       1
#define VIRTIO_BLK_F_SEG_MAX        2
#define VIRTIO_BLK_F_GEOMETRY       4
#define VIRTIO_BLK_F_RO             5
#define VIRTIO_BLK_F_BLK_SIZE       6
#define VIRTIO_BLK_F_SCSI           7
#define VIRTIO_BLK_F_FLUSH          9
#define VIRTIO_BLK_F_TOPOLOGY       10
#define VIRTIO_BLK_F_CONFIG_WCE     11
#define VIRTIO_BLK_F_MQ             12
/* Offered: seg_max (Linux sizes its chains by it), geometry, blk_size, flush (so Linux treats
 * the cache as write-back and its flushes reach us), and RO for a read-only blockdev. No
 * INDIRECT_DESC, EVENT_IDX, ANY_LAYOUT or NOTIFY_ON_EMPTY. */
#define VIRTIO_BLK_FEATURES_BASE \
    ((uint32_t)(BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_GEOMETRY) | \
                BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH)))

/* struct virtio_blk_config (5.2.4), offsets from VIRTIO_PCI_CONFIG_OFF. */
#define VIRTIO_BLK_CFG_CAPACITY     0       /* u64: 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX     8       /* u32: not offered, reads 0 */
#define VIRTIO_BLK_CFG_SEG_MAX      12      /* u32 */
#define VIRTIO_BLK_CFG_CYLINDERS    16      /* u16 */
#define VIRTIO_BLK_CFG_HEADS        18      /* u8 */
#define VIRTIO_BLK_CFG_SECTORS      19      /* u8 */
#define VIRTIO_BLK_CFG_BLK_SIZE     20      /* u32 */
#define VIRTIO_BLK_CFG_SIZE         24      /* what is modelled; the BAR's rest reads 0 */

/* BAR0: header + config rounded up to a power of two, as PCI needs. */
#define VIRTIO_BLK_IO_BAR_SIZE      0x40u
STATIC_ASSERT(VIRTIO_PCI_CONFIG_OFF + VIRTIO_BLK_CFG_SIZE <= VIRTIO_BLK_IO_BAR_SIZE, "config fits BAR0");

#define VIRTIO_BLK_QUEUE_SIZE       256     /* Linux's vring needs a power of two; 3 pages */
/* Data segments per request: Linux then builds chains of seg_max + 2 (header, status)
 * descriptors, which must fit the ring without INDIRECT_DESC and fit VQ_MAX_SEGS. */
#define VIRTIO_BLK_SEG_MAX          (VQ_MAX_SEGS - 2)
STATIC_ASSERT(VIRTIO_BLK_SEG_MAX + 2 <= VIRTIO_BLK_QUEUE_SIZE, "a full request fits the ring");
#define VIRTIO_BLK_GEOM_HEADS       16
#define VIRTIO_BLK_GEOM_SECTORS     63
#define VIRTIO_BLK_GEOM_MAX_CYL     65535u

/* Requests (5.2.6): a 16-byte device-readable header, data, a 1-byte device-writable status. */
#define VIRTIO_BLK_HDR_SIZE         16
#define VIRTIO_BLK_HDR_TYPE         0       /* u32 */
#define VIRTIO_BLK_HDR_IOPRIO       4       /* u32: "reserved" in 1.0, ioprio in legacy; ignored */
#define VIRTIO_BLK_HDR_SECTOR       8       /* u64: in 512-byte units, whatever blk_size says */
#define VIRTIO_BLK_T_IN             0
#define VIRTIO_BLK_T_OUT            1
#define VIRTIO_BLK_T_SCSI_CMD       2       /* legacy, F_SCSI not offered: UNSUPP */
#define VIRTIO_BLK_T_FLUSH          4
#define VIRTIO_BLK_T_GET_ID         8
#define VIRTIO_BLK_T_DISCARD        11      /* not offered: UNSUPP */
#define VIRTIO_BLK_T_WRITE_ZEROES   13      /* not offered: UNSUPP */
#define VIRTIO_BLK_T_BARRIER        0x80000000u /* legacy flag ORed into type: ignored, as QEMU does */
#define VIRTIO_BLK_S_OK             0
#define VIRTIO_BLK_S_IOERR          1
#define VIRTIO_BLK_S_UNSUPP         2
#define VIRTIO_BLK_ID_BYTES         20      /* GET_ID: serial, NUL-padded, not terminated at 20 */
#define VIRTIO_BLK_SECTOR           512u

#define VIRTIO_BLK_MAX_REQUEST      (32u << 20)     /* bytes one request may move: else IOERR */
#define VIRTIO_BLK_BOUNCE           4096u   /* data moves through this many bytes at a time */
STATIC_ASSERT(VIRTIO_BLK_BOUNCE % VIRTIO_BLK_SECTOR == 0, "whole sectors per chunk");

struct virtio_blk {
    struct virtio_pci vp;                       /* the common header: features, status, ISR, INTx */
    struct blockdev *bd;
    const struct dma_ops *dma;
    /* A queue-notify write for queue 0 with a ring set up: run virtio_blk_process now or soon.
     * NULL: virtio_blk_write runs it itself. */
    void (*notify)(void *ctx, struct virtio_blk *v);
    void *notify_ctx;
    char serial[VIRTIO_BLK_ID_BYTES + 1];

    struct virtqueue vq;
    struct vq_chain chain;                      /* the request being served (too big for a stack) */
    bool held, held_bad;                        /* chain taken (malformed), not yet completed */
    uint8_t bounce[VIRTIO_BLK_BOUNCE];

    uint64_t requests;                          /* chains served, including malformed ones */
    uint64_t reads, writes, flushes, get_ids;   /* successful requests by type */
    uint64_t errors;                            /* completed with IOERR */
    uint64_t unsupported;                       /* completed with UNSUPP */
    uint64_t bad_requests;                      /* malformed chain or no status byte: used len 0 */
};

/* serial: up to 20 characters (more are cut), NULL = none. Leaves the device reset. */
void virtio_blk_init(struct virtio_blk *v, struct blockdev *bd, const char *serial,
                     const struct dma_ops *dma, void (*set_irq)(void *, bool), void *irq_ctx,
                     void (*notify)(void *, struct virtio_blk *), void *notify_ctx);
/* Device reset (status write of 0, or the glue's system reset): features, queue and ISR
 * cleared, INTx deasserted; counters kept. */
void virtio_blk_reset(struct virtio_blk *v);
/* BAR0 accesses, offset from the BAR base, size 1, 2 or 4. Reads may have any width and
 * alignment (bytes past the BAR read 0xFF); a read covering the ISR byte clears it. Writes
 * must match a writable register's offset and width (config space is read-only). */
uint32_t virtio_blk_read(struct virtio_blk *v, unsigned offset, unsigned size);
void virtio_blk_write(struct virtio_blk *v, unsigned offset, unsigned size, uint32_t val);
/* Serves the available requests, at most one ring's worth (Q) per call so a guest that keeps
 * refilling cannot hold the caller; raises the interrupt if any completed and the driver has
 * not suppressed it. Returns the chains consumed. */
unsigned virtio_blk_process(struct virtio_blk *v);
/* The driver has made requests available that process has not taken yet (or one is taken
 * and not completed). */
bool virtio_blk_work_pending(struct virtio_blk *v);
/* The same work one request at a time, for a glue that spends a drive's service time between
 * fetching a request and completing it. take: the next chain is fetched and held (true; a
 * held one is kept), with the sectors it reads or writes (0 for other requests or malformed
 * chains); false if none. complete: serves the held chain and puts it in the used ring (true
 * if published). process_one: both, then the interrupt if the driver wants one. */
bool virtio_blk_take(struct virtio_blk *v, uint64_t *sector, uint32_t *sectors, bool *write);
bool virtio_blk_complete(struct virtio_blk *v);
bool virtio_blk_process_one(struct virtio_blk *v);
#endif
