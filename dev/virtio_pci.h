/* The legacy (transitional) virtio PCI transport shared by every virtio device model: the PCI
 * identity rules and the common register header at the start of the I/O BAR (Virtio 1.1
 * 4.1.2.3 "Legacy Interfaces: A Note on PCI Device Discovery", 4.1.4.8 "Legacy Interfaces: A
 * Note on PCI Device Layout"), as Linux's virtio_pci_legacy drives it. No MSI-X, so the
 * device-specific config starts at 0x14 and the interrupt is INTx, following the ISR. */
#ifndef MV_VIRTIO_PCI_H
#define MV_VIRTIO_PCI_H
#include "compiler.h"
#include "dev/virtqueue.h"

/* Device ids 0x1000-0x103f with revision 0 (Linux vp_legacy_probe wants exactly that, its
 * VIRTIO_PCI_ABI_VERSION); the virtio device type is the subsystem device id. */
#define VIRTIO_PCI_VENDOR           0x1AF4
#define VIRTIO_PCI_LEGACY_REVISION  0x00
#define VIRTIO_PCI_SUBSYS_VENDOR    0x1AF4
#define VIRTIO_PCI_INT_PIN          1       /* INTA# */

/* Legacy common header in BAR0 (4.1.4.8), little-endian. */
#define VIRTIO_PCI_HOST_FEATURES    0x00    /* u32 RO: device features 31:0 */
#define VIRTIO_PCI_GUEST_FEATURES   0x04    /* u32 RW: driver features 31:0 */
#define VIRTIO_PCI_QUEUE_PFN        0x08    /* u32 RW: ring address >> 12 of the selected queue */
#define VIRTIO_PCI_QUEUE_NUM        0x0C    /* u16 RO: size of the selected queue, 0 = none */
#define VIRTIO_PCI_QUEUE_SEL        0x0E    /* u16 RW */
#define VIRTIO_PCI_QUEUE_NOTIFY     0x10    /* u16 WO: the queue index with new buffers */
#define VIRTIO_PCI_STATUS           0x12    /* u8 RW: writing 0 resets the device */
#define VIRTIO_PCI_ISR              0x13    /* u8 RO: read returns and clears, deasserting INTx */
#define VIRTIO_PCI_CONFIG_OFF       0x14    /* device config (0x18 with MSI-X, never here) */

#define VIRTIO_PCI_ISR_QUEUE        0x01    /* a used buffer */
#define VIRTIO_PCI_ISR_CONFIG       0x02    /* config changed */

/* Device status (2.1). */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE 0x01
#define VIRTIO_CONFIG_S_DRIVER      0x02
#define VIRTIO_CONFIG_S_DRIVER_OK   0x04
#define VIRTIO_CONFIG_S_FEATURES_OK 0x08    /* not used by legacy drivers */
#define VIRTIO_CONFIG_S_NEEDS_RESET 0x40    /* 1.0 only: a legacy driver would not look */
#define VIRTIO_CONFIG_S_FAILED      0x80

/* What a device model adds to the common header. */
struct virtio_pci_ops {
    /* Byte off of the device config (at VIRTIO_PCI_CONFIG_OFF in the BAR); off is below the
     * BAR's end. The device config is read-only here (no device offers writable fields). */
    uint8_t (*config_byte)(void *dev, unsigned off);
    /* The driver notified queue q, whose ring is set up (legacy devices serve a queue once its
     * PFN is set, without waiting for DRIVER_OK: some old drivers kick before it, and QEMU
     * keeps the same leniency). */
    void (*notify)(void *dev, unsigned q);
    /* The driver set or cleared queue q's ring, or reset the device (q = all queues):
     * whatever the device holds from that ring goes with it. May be NULL. */
    void (*queue_reset)(void *dev, unsigned q);
    /* The driver set DRIVER_OK (it was clear): the device is live now. May be NULL. */
    void (*driver_ok)(void *dev);
};
#define VIRTIO_PCI_ALL_QUEUES       (~0u)

/* The common half of a legacy virtio function: feature words, queue selection, status and
 * the ISR with its INTx level. The device owns its virtqueues; this only sets their rings. */
struct virtio_pci {
    struct virtqueue *vq;
    unsigned nvq;
    unsigned bar_size;                          /* header + config, a power of two */
    const struct virtio_pci_ops *ops;
    void *dev;
    void (*set_irq)(void *ctx, bool level);     /* INTx level; called on changes only */
    void *irq_ctx;
    uint32_t host_features;
    uint32_t guest_features;
    uint16_t queue_sel;
    uint8_t status;
    uint8_t isr;
    bool irq_level;
    uint64_t notifies, interrupts;
    uint64_t bad_accesses;                      /* register writes of the wrong width/offset */
};

void virtio_pci_init(struct virtio_pci *t, struct virtqueue *vq, unsigned nvq, unsigned bar_size,
                     uint32_t host_features, const struct virtio_pci_ops *ops, void *dev,
                     void (*set_irq)(void *, bool), void *irq_ctx);
/* Device reset (a status write of 0, or the system's): features, selection, status, ISR and
 * every ring cleared, INTx deasserted; counters kept. */
void virtio_pci_reset(struct virtio_pci *t);
/* BAR accesses, offset from the BAR base, size 1, 2 or 4. Reads may have any width and
 * alignment (bytes past the BAR read 0xFF); a read covering the ISR byte clears it. Writes
 * must match a writable register's offset and width. */
uint32_t virtio_pci_read(struct virtio_pci *t, unsigned offset, unsigned size);
void virtio_pci_write(struct virtio_pci *t, unsigned offset, unsigned size, uint32_t val);
/* Used buffers were published on q: the queue interrupt, unless the driver suppressed it. */
void virtio_pci_used(struct virtio_pci *t, unsigned q);
bool virtio_pci_has_feature(const struct virtio_pci *t, unsigned bit);     /* negotiated */
#endif
