/* Device DMA into guest memory: every bus-master or virtqueue access a disk or NIC model makes
 * goes through these two callbacks, which the VMM wires to the VM's one bounds-checked
 * guest-memory path (mm/guest_mem.c). A false return means the range is not entirely the
 * VM's RAM: nothing was read or written, and the model must fail that transfer the way its
 * hardware reports a master abort or a bad descriptor. */
#ifndef MV_DMA_H
#define MV_DMA_H
#include "compiler.h"

struct dma_ops {
    bool (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
    bool (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
    void *ctx;
};

static inline bool dma_read(const struct dma_ops *d, uint64_t gpa, void *buf, size_t len)
{
    return d->read(d->ctx, gpa, buf, len);
}

static inline bool dma_write(const struct dma_ops *d, uint64_t gpa, const void *buf, size_t len)
{
    return d->write(d->ctx, gpa, buf, len);
}
#endif
