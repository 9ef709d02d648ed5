/* The legacy virtio PCI common header (see virtio_pci.h). */
#include "compiler.h"
#include "lib.h"
#include "dev/virtqueue.h"
#include "dev/virtio_pci.h"

STATIC_ASSERT(VIRTIO_PCI_CONFIG_OFF == VIRTIO_PCI_ISR + 1, "the config follows the ISR (no MSI-X)");

static void irq_update(struct virtio_pci *t)
{
    /* Legacy INTx is level-triggered and follows the ISR (4.1.4.5): high while any bit is set. */
    bool level = t->isr != 0;
    if (level == t->irq_level)
        return;
    t->irq_level = level;
    if (t->set_irq)
        t->set_irq(t->irq_ctx, level);
}

static void queue_reset(struct virtio_pci *t, unsigned q)
{
    if (t->ops->queue_reset)
        t->ops->queue_reset(t->dev, q);
}

void virtio_pci_reset(struct virtio_pci *t)
{
    t->guest_features = 0;
    t->queue_sel = 0;
    t->status = 0;
    t->isr = 0;
    for (unsigned q = 0; q < t->nvq; q++)
        vq_set_pfn(&t->vq[q], 0);
    queue_reset(t, VIRTIO_PCI_ALL_QUEUES);
    irq_update(t);
}

void virtio_pci_init(struct virtio_pci *t, struct virtqueue *vq, unsigned nvq, unsigned bar_size,
                     uint32_t host_features, const struct virtio_pci_ops *ops, void *dev,
                     void (*set_irq)(void *, bool), void *irq_ctx)
{
    memset(t, 0, sizeof(*t));
    t->vq = vq;
    t->nvq = nvq;
    t->bar_size = bar_size;
    t->host_features = host_features;
    t->ops = ops;
    t->dev = dev;
    t->set_irq = set_irq;
    t->irq_ctx = irq_ctx;
    virtio_pci_reset(t);
}

static struct virtqueue *selected(const struct virtio_pci *t)
{
    return t->queue_sel < t->nvq ? &t->vq[t->queue_sel] : NULL;
}

static uint8_t reg_byte(const struct virtio_pci *t, unsigned off)
{
    uint32_t val;
    unsigned base;
    const struct virtqueue *q = selected(t);

    if (off >= t->bar_size)
        return 0xFF;
    if (off >= VIRTIO_PCI_CONFIG_OFF)
        return t->ops->config_byte(t->dev, off - VIRTIO_PCI_CONFIG_OFF);
    switch (off) {
    case VIRTIO_PCI_STATUS:
        return t->status;
    case VIRTIO_PCI_ISR:
        return t->isr;
    }
    if (off < VIRTIO_PCI_GUEST_FEATURES) {
        val = t->host_features;
        base = VIRTIO_PCI_HOST_FEATURES;
    } else if (off < VIRTIO_PCI_QUEUE_PFN) {
        val = t->guest_features;
        base = VIRTIO_PCI_GUEST_FEATURES;
    } else if (off < VIRTIO_PCI_QUEUE_NUM) {
        val = q ? q->pfn : 0;
        base = VIRTIO_PCI_QUEUE_PFN;
    } else if (off < VIRTIO_PCI_QUEUE_SEL) {
        /* 4.1.4.8: a size of 0 says the queue does not exist (Linux setup_vq: -ENOENT). */
        val = q ? q->size : 0;
        base = VIRTIO_PCI_QUEUE_NUM;
    } else if (off < VIRTIO_PCI_QUEUE_NOTIFY) {
        val = t->queue_sel;
        base = VIRTIO_PCI_QUEUE_SEL;
    } else {
        return 0;       /* queue notify is write-only */
    }
    return (uint8_t)(val >> (8 * (off - base)));
}

uint32_t virtio_pci_read(struct virtio_pci *t, unsigned offset, unsigned size)
{
    uint32_t val = 0;

    if (size != 1 && size != 2 && size != 4)
        return 0xFFFFFFFFu;
    for (unsigned i = 0; i < size; i++)
        val |= (uint32_t)reg_byte(t, offset + i) << (8 * i);
    /* 4.1.4.5.1: reading the ISR resets it to 0 and deasserts the interrupt. */
    if (offset <= VIRTIO_PCI_ISR && offset + size > VIRTIO_PCI_ISR && t->isr) {
        t->isr = 0;
        irq_update(t);
    }
    return val;
}

void virtio_pci_write(struct virtio_pci *t, unsigned offset, unsigned size, uint32_t val)
{
    struct virtqueue *q = selected(t);
    switch (offset) {
    case VIRTIO_PCI_GUEST_FEATURES:
        if (size != 4)
            break;
        /* Bits the device did not offer are dropped (QEMU does the same). */
        t->guest_features = val & t->host_features;
        return;
    case VIRTIO_PCI_QUEUE_PFN:
        if (size != 4)
            break;
        if (q) {
            queue_reset(t, t->queue_sel);
            vq_set_pfn(q, val);         /* 0 = the driver deleted the queue */
        }
        return;
    case VIRTIO_PCI_QUEUE_SEL:
        if (size != 2)
            break;
        t->queue_sel = (uint16_t)val;
        return;
    case VIRTIO_PCI_QUEUE_NOTIFY:
        if (size != 2)
            break;
        t->notifies++;
        if ((uint16_t)val < t->nvq && t->vq[(uint16_t)val].pfn)
            t->ops->notify(t->dev, (uint16_t)val);
        return;
    case VIRTIO_PCI_STATUS:
        if (size != 1)
            break;
        if ((uint8_t)val == 0) {
            virtio_pci_reset(t);        /* 2.1.2 / 4.1.4.8: writing 0 resets the device */
        } else {
            bool was_ok = t->status & VIRTIO_CONFIG_S_DRIVER_OK;
            t->status = (uint8_t)val;
            if (!was_ok && (t->status & VIRTIO_CONFIG_S_DRIVER_OK) && t->ops->driver_ok)
                t->ops->driver_ok(t->dev);
        }
        return;
    }
    t->bad_accesses++;      /* read-only registers, config space, odd widths */
}

void virtio_pci_used(struct virtio_pci *t, unsigned q)
{
    if (q < t->nvq && vq_interrupt_wanted(&t->vq[q])) {
        t->isr |= VIRTIO_PCI_ISR_QUEUE;
        t->interrupts++;
        irq_update(t);
    }
}

bool virtio_pci_has_feature(const struct virtio_pci *t, unsigned bit)
{
    return bit < 32 && (t->guest_features & (1u << bit));
}
