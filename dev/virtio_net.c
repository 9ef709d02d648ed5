/* Legacy virtio-net. See virtio_net.h for the interface and virtqueue.h for how malformed
 * rings are handled. A frame and its header are parsed as streams, however the driver splits
 * them into descriptors (the header first, 5.1.6), which ANY_LAYOUT would only make official. */
#include "compiler.h"
#include "lib.h"
#include "dev/dma.h"
#include "dev/nic.h"
#include "dev/virtqueue.h"
#include "dev/virtio_pci.h"
#include "dev/virtio_net.h"

static uint8_t config_byte(void *dev, unsigned off)
{
    const struct virtio_net *n = dev;
    if (off < VIRTIO_NET_CFG_MAC + ETH_ALEN)
        return n->mac[off - VIRTIO_NET_CFG_MAC];
    if (off == VIRTIO_NET_CFG_STATUS)
        return VIRTIO_NET_S_LINK_UP;        /* a cable that is always in */
    return 0;
}

static void net_notify(void *dev, unsigned q)
{
    struct virtio_net *n = dev;
    void (*kick)(void *) = q == VIRTIO_NET_TXQ ? n->hooks->tx_kick : n->hooks->rx_kick;
    if (kick)
        kick(n->ctx);
}

/* Frames held while the driver was not ready (virtio_net_can_receive) can come now: some
 * drivers post their receive buffers before DRIVER_OK and never notify again. */
static void net_driver_ok(void *dev)
{
    struct virtio_net *n = dev;
    if (n->hooks->rx_kick)
        n->hooks->rx_kick(n->ctx);
}

static const struct virtio_pci_ops net_ops = { config_byte, net_notify, NULL, net_driver_ok };

void virtio_net_init(struct virtio_net *n, const uint8_t mac[ETH_ALEN], const struct dma_ops *dma,
                     void (*set_irq)(void *, bool), void *irq_ctx, const struct virtio_net_hooks *hooks,
                     void *ctx)
{
    memset(n, 0, sizeof(*n));
    n->dma = dma;
    n->hooks = hooks;
    n->ctx = ctx;
    memcpy(n->mac, mac, ETH_ALEN);
    for (unsigned q = 0; q < VIRTIO_NET_QUEUES; q++)
        vq_init(&n->vq[q], VIRTIO_NET_QUEUE_SIZE, dma);
    virtio_pci_init(&n->vp, n->vq, VIRTIO_NET_QUEUES, VIRTIO_NET_IO_BAR_SIZE, VIRTIO_NET_FEATURES,
                    &net_ops, n, set_irq, irq_ctx);
}

void virtio_net_reset(struct virtio_net *n) { virtio_pci_reset(&n->vp); }

uint32_t virtio_net_read(struct virtio_net *n, unsigned offset, unsigned size)
{
    return virtio_pci_read(&n->vp, offset, size);
}

void virtio_net_write(struct virtio_net *n, unsigned offset, unsigned size, uint32_t val)
{
    virtio_pci_write(&n->vp, offset, size, val);
}

/* One transmit chain: the frame goes out only if it is a whole, plain Ethernet frame. */
static void send_one(struct virtio_net *n, struct virtqueue *q, int pop)
{
    const struct vq_chain *c = &n->chain;
    if (pop != VQ_POP_OK) {
        n->tx_bad++;
        return;
    }
    if (c->rlen < VIRTIO_NET_HDR_SIZE + ETH_HLEN || c->rlen > sizeof(n->frame)) {
        n->tx_bad++;
        return;
    }
    size_t len = (size_t)c->rlen;
    if (!vq_chain_read(q, c, 0, n->frame, len)) {
        n->tx_dma_errors++;
        return;
    }
    /* GSO was not offered (HOST_TSO*): a driver asking for it broke the negotiation. A
     * NEEDS_CSUM header without F_CSUM is the same. */
    if (n->frame[VIRTIO_NET_HDR_GSO_TYPE] != VIRTIO_NET_HDR_GSO_NONE ||
        (n->frame[VIRTIO_NET_HDR_FLAGS] & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        n->tx_bad++;
        return;
    }
    n->tx_frames++;
    n->tx_bytes += len - VIRTIO_NET_HDR_SIZE;
    if (n->hooks->tx_frame)
        n->hooks->tx_frame(n->ctx, n->frame + VIRTIO_NET_HDR_SIZE, len - VIRTIO_NET_HDR_SIZE);
}

unsigned virtio_net_tx_process(struct virtio_net *n, unsigned budget)
{
    struct virtqueue *q = &n->vq[VIRTIO_NET_TXQ];
    unsigned done = 0;
    bool used = false;
    while (done < budget) {
        int pop = vq_pop(q, &n->chain);
        if (pop == VQ_POP_EMPTY || (pop == VQ_POP_BAD && n->chain.head == VQ_NO_HEAD))
            break;                          /* nothing more, or the ring just broke */
        done++;
        send_one(n, q, pop);
        /* 5.1.6.2: the device writes nothing into a transmit buffer; used len 0. */
        if (vq_push(q, n->chain.head, 0))
            used = true;
    }
    if (used)
        virtio_pci_used(&n->vp, VIRTIO_NET_TXQ);
    return done;
}

bool virtio_net_tx_pending(struct virtio_net *n)
{
    return vq_ready(&n->vq[VIRTIO_NET_TXQ]) && vq_pending(&n->vq[VIRTIO_NET_TXQ]);
}

bool virtio_net_can_receive(struct virtio_net *n)
{
    /* Not before DRIVER_OK (QEMU waits for it too): until then the driver may still be
     * setting the queues up. */
    struct virtqueue *q = &n->vq[VIRTIO_NET_RXQ];
    return (n->vp.status & VIRTIO_CONFIG_S_DRIVER_OK) && vq_ready(q) && vq_pending(q);
}

enum nic_rx_result virtio_net_receive(struct virtio_net *n, const uint8_t *frame, size_t len)
{
    struct virtqueue *q = &n->vq[VIRTIO_NET_RXQ];
    if (len < ETH_HLEN || len > VIRTIO_NET_MAX_FRAME) {
        n->rx_bad++;
        return NIC_RX_DROPPED;
    }
    if (!virtio_net_can_receive(n))
        return NIC_RX_NO_BUFFER;
    int pop = vq_pop(q, &n->rx_chain);
    if (pop == VQ_POP_EMPTY)
        return NIC_RX_NO_BUFFER;
    enum nic_rx_result r = NIC_RX_DROPPED;
    uint32_t used_len = 0;
    if (pop == VQ_POP_BAD) {
        n->rx_bad++;
        if (n->rx_chain.head == VQ_NO_HEAD)
            return NIC_RX_DROPPED;          /* the ring broke: nothing to hand back */
    } else if (n->rx_chain.wlen < VIRTIO_NET_HDR_SIZE + len) {
        n->rx_too_small++;
    } else {
        /* The header says nothing: no checksum state, no GSO (5.1.6.4 with no offloads). */
        uint8_t hdr[VIRTIO_NET_HDR_SIZE] = { 0 };
        if (vq_chain_write(q, &n->rx_chain, 0, hdr, sizeof(hdr)) &&
            vq_chain_write(q, &n->rx_chain, VIRTIO_NET_HDR_SIZE, frame, len)) {
            used_len = (uint32_t)(VIRTIO_NET_HDR_SIZE + len);
            r = NIC_RX_OK;
        } else {
            n->rx_bad++;
        }
    }
    if (!vq_push(q, n->rx_chain.head, used_len)) {
        /* The used ring is not in RAM (the queue is broken now): the driver never sees it. */
        if (r == NIC_RX_OK)
            n->rx_bad++;
        return NIC_RX_DROPPED;
    }
    virtio_pci_used(&n->vp, VIRTIO_NET_RXQ);
    if (r == NIC_RX_OK) {
        n->rx_frames++;
        n->rx_bytes += len;
    }
    return r;
}
