/* Legacy (transitional) virtio-net over an I/O BAR: Virtio 1.1 5.1 "Network Device" on the
 * legacy PCI transport (dev/virtio_pci.h), as Linux's virtio_net drives it. Two queues, receive
 * (0) and transmit (1); no control queue. Offered: MAC (the address is in the config space)
 * and STATUS (the link is up). No checksum or segmentation offload, no mergeable receive
 * buffers: every frame is one standard Ethernet frame, preceded in its buffers by a 10-byte
 * struct virtio_net_hdr that says nothing (5.1.6).
 *
 * The glue owns the PCI function (ids below, BAR0 = I/O of VIRTIO_NET_IO_BAR_SIZE, INTA#),
 * forwards BAR0 accesses, wires set_irq to the function's INTx and dma to the VM's guest
 * memory. Frames leave through hooks->tx_frame from virtio_net_tx_process, which the glue
 * calls when hooks->tx_kick says the driver queued some (at once, or at its next poll), and
 * arrive through virtio_net_receive.
 *
 * What the driver can get wrong, and what happens: a broken ring (virtqueue.h) serves nothing
 * until reset; a transmit chain shorter than the header plus an Ethernet header, longer than
 * a frame, or asking for GSO that was not offered is completed and counted, never sent; a
 * receive buffer too small for the frame is handed back empty (used len 0) and the frame is
 * dropped, counted; a buffer outside RAM loses that frame, counted. */
#ifndef MV_VIRTIO_NET_H
#define MV_VIRTIO_NET_H
#include "compiler.h"
#include "dev/dma.h"
#include "dev/nic.h"
#include "dev/virtqueue.h"
#include "dev/virtio_pci.h"

/* 4.1.2.3: a transitional network device has device id 0x1000; class 02 network, subclass 00
 * Ethernet, what QEMU's virtio-net-pci reports. */
#define VIRTIO_NET_PCI_DEVICE       0x1000
#define VIRTIO_ID_NET               1       /* 5 "Device Types": subsystem device id */
#define VIRTIO_NET_PCI_CLASS        0x020000u
#define VIRTIO_NET_PCI_CLASS_REV    (VIRTIO_NET_PCI_CLASS << 8 | VIRTIO_PCI_LEGACY_REVISION)

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM           0
#define VIRTIO_NET_F_GUEST_CSUM     1
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_GUEST_TSO4     7
#define VIRTIO_NET_F_HOST_TSO4      11
#define VIRTIO_NET_F_MRG_RXBUF      15
#define VIRTIO_NET_F_STATUS         16
#define VIRTIO_NET_F_CTRL_VQ        17
#define VIRTIO_NET_FEATURES         ((uint32_t)(BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS)))

/* struct virtio_net_config (5.1.4), offsets from VIRTIO_PCI_CONFIG_OFF. */
#define VIRTIO_NET_CFG_MAC          0       /* u8[6] */
#define VIRTIO_NET_CFG_STATUS       6       /* u16 */
#define VIRTIO_NET_CFG_SIZE         8
#define VIRTIO_NET_S_LINK_UP        1
#define VIRTIO_NET_IO_BAR_SIZE      0x20u
STATIC_ASSERT(VIRTIO_PCI_CONFIG_OFF + VIRTIO_NET_CFG_SIZE <= VIRTIO_NET_IO_BAR_SIZE, "config fits BAR0");

/* struct virtio_net_hdr without MRG_RXBUF (5.1.6): flags u8, gso_type u8, hdr_len u16,
 * gso_size u16, csum_start u16, csum_offset u16. */
#define VIRTIO_NET_HDR_SIZE         10
#define VIRTIO_NET_HDR_FLAGS        0
#define VIRTIO_NET_HDR_GSO_TYPE     1
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_GSO_NONE     0

#define VIRTIO_NET_RXQ              0
#define VIRTIO_NET_TXQ              1
#define VIRTIO_NET_QUEUES           2
#define VIRTIO_NET_QUEUE_SIZE       256
#define VIRTIO_NET_MAX_FRAME        ETH_FRAME_MAX

struct virtio_net_hooks {
    void (*tx_kick)(void *ctx);     /* the driver queued frames to send */
    void (*rx_kick)(void *ctx);     /* the driver gave receive buffers */
    void (*tx_frame)(void *ctx, const uint8_t *frame, size_t len);  /* one frame leaves */
};

struct virtio_net {
    struct virtio_pci vp;
    const struct dma_ops *dma;
    const struct virtio_net_hooks *hooks;
    void *ctx;
    uint8_t mac[ETH_ALEN];
    struct virtqueue vq[VIRTIO_NET_QUEUES];
    struct vq_chain chain;          /* the transmit chain being served (too big for a stack) */
    struct vq_chain rx_chain;       /* the receive buffer being filled: a delivery never
                                       borrows the sender's state, whoever sends */
    uint8_t frame[VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MAX_FRAME];

    uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
    uint64_t tx_bad;                /* malformed chains, short, long or GSO frames: not sent */
    uint64_t tx_dma_errors;         /* a readable segment outside RAM */
    uint64_t rx_too_small;          /* a receive buffer smaller than the frame */
    uint64_t rx_bad;                /* malformed receive chains, buffers outside RAM */
};

/* Leaves the device reset. */
void virtio_net_init(struct virtio_net *n, const uint8_t mac[ETH_ALEN], const struct dma_ops *dma,
                     void (*set_irq)(void *, bool), void *irq_ctx, const struct virtio_net_hooks *hooks,
                     void *ctx);
void virtio_net_reset(struct virtio_net *n);
uint32_t virtio_net_read(struct virtio_net *n, unsigned offset, unsigned size);
void virtio_net_write(struct virtio_net *n, unsigned offset, unsigned size, uint32_t val);
/* Sends up to budget queued chains through hooks->tx_frame, completes them, interrupts if the
 * driver wants it. Returns the chains consumed. */
unsigned virtio_net_tx_process(struct virtio_net *n, unsigned budget);
bool virtio_net_tx_pending(struct virtio_net *n);
/* A frame (no FCS) for the guest: into the next receive buffer. */
enum nic_rx_result virtio_net_receive(struct virtio_net *n, const uint8_t *frame, size_t len);
bool virtio_net_can_receive(struct virtio_net *n);
#endif
