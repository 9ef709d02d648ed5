/* The platform's disks: the PIIX3 IDE function (always there, as on every PIIX3 board, with
 * whatever drives the VM has at hda-hdd) and one legacy virtio-blk function per vdX drive.
 * All device DMA goes through the platform's dma_ops (the VM's guest memory) and nothing else. When a device has a
 * request ready, the platform kicks its VM, which serves it with pc_disk_next/pc_disk_do:
 * inside the exit or from its disk thread (vm/vm_disks.c decides). */
#include "pc_platform.h"
#include "lib.h"

static void kick(struct pc_platform *p)
{
    if (p->hooks->disk_kick)
        p->hooks->disk_kick(p->ctx);
}

static void ide_irq(void *ctx, unsigned irq, bool level) { irq_set(&((struct pc_platform *)ctx)->irq, irq, level); }
static void ide_dma_start(void *ctx, struct piix_ide *ide, unsigned channel) { kick(ctx); }

/* ---- virtio-blk functions ---- */

static unsigned vblk_index(const struct pc_platform *p, const struct virtio_blk *v)
{
    return (unsigned)(v - p->vblk);
}

static struct pc_platform *vblk_platform(struct virtio_blk *v)
{
    return v->notify_ctx;
}

static void vblk_irq(void *ctx, bool level)
{
    struct virtio_blk *v = ctx;
    struct pc_platform *p = vblk_platform(v);
    pci_set_intx(&p->pci, &p->vblk_fn[vblk_index(p, v)], level);
}

static void vblk_notify(void *ctx, struct virtio_blk *v) { kick(ctx); }

static uint32_t vblk_in(void *dev, uint16_t port, unsigned size)
{
    struct virtio_blk *v = dev;
    struct pc_platform *p = vblk_platform(v);
    return virtio_blk_read(v, (unsigned)(port - p->vblk_base[vblk_index(p, v)]), size);
}

static void vblk_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct virtio_blk *v = dev;
    struct pc_platform *p = vblk_platform(v);
    virtio_blk_write(v, (unsigned)(port - p->vblk_base[vblk_index(p, v)]), size, val);
}

static const struct ioport_ops vblk_ops = { "virtio-blk", vblk_in, vblk_out, false };

/* BAR0 follows the guest's programming (and PCICMD's I/O enable). */
static void vblk_decode_update(struct pci_function *f)
{
    struct virtio_blk *v = f->dev;
    struct pc_platform *p = vblk_platform(v);
    unsigned i = vblk_index(p, v);
    uint16_t base = pci_bar_enabled(f, 0) ? (uint16_t)pci_bar_address(f, 0) : 0;
    if (base == p->vblk_base[i])
        return;
    if (p->vblk_base[i])
        ioport_unregister(&p->io, p->vblk_base[i], v);
    p->vblk_base[i] = 0;
    if (base && ioport_register(&p->io, base, VIRTIO_BLK_IO_BAR_SIZE, &vblk_ops, v))
        p->vblk_base[i] = base;
}

static void vblk_bar_changed(struct pci_function *f, unsigned bar, uint32_t o, uint32_t n) { vblk_decode_update(f); }
static void vblk_command_changed(struct pci_function *f, uint16_t o, uint16_t n) { vblk_decode_update(f); }
static const struct pci_function_ops vblk_fn_ops = { .bar_changed = vblk_bar_changed,
                                                     .command_changed = vblk_command_changed };

bool pc_disks_attach(struct pc_platform *p, const struct pc_drive drives[PC_IDE_UNITS + PC_VIRTIO_BLKS], char *err, size_t errlen)
{
    piix_ide_init(&p->ide, &p->dma, ide_irq, p, ide_dma_start, p);
    if (!piix_ide_attach(&p->ide, &p->pci, &p->io)) {
        ksnprintf(err, errlen, "the IDE controller's ports are taken");
        return false;
    }
    for (unsigned u = 0; u < PC_IDE_UNITS; u++) {
        const struct pc_drive *d = &drives[u];
        struct ata_channel *c = &p->ide.ch[u / 2].ata;
        if (d->bd && !(d->cdrom ? ata_attach_cdrom(c, u % 2, d->bd, d->model, d->serial)
                                : ata_attach_disk(c, u % 2, d->bd, d->model, d->serial))) {
            ksnprintf(err, errlen, "IDE drive %u cannot be attached", u);
            return false;
        }
    }
    for (unsigned i = 0; i < PC_VIRTIO_BLKS; i++) {
        const struct pc_drive *d = &drives[PC_IDE_UNITS + i];
        p->vblk_base[i] = 0;
        if (!d->bd)
            continue;
        struct virtio_blk *v = &p->vblk[i];
        virtio_blk_init(v, d->bd, d->serial, &p->dma, vblk_irq, v, vblk_notify, p);
        struct pci_function *f = &p->vblk_fn[i];
        pci_function_init(f, PCI_DEVFN(PC_VIRTIO_BLK_SLOT + i, 0), VIRTIO_PCI_VENDOR, VIRTIO_BLK_PCI_DEVICE,
                          VIRTIO_BLK_PCI_CLASS_REV, VIRTIO_BLK_PCI_INT_PIN, &vblk_fn_ops, v);
        f->config[PCI_SUBSYSTEM_VENDOR_ID] = VIRTIO_PCI_SUBSYS_VENDOR & 0xFF;
        f->config[PCI_SUBSYSTEM_VENDOR_ID + 1] = VIRTIO_PCI_SUBSYS_VENDOR >> 8;
        f->config[PCI_SUBSYSTEM_ID] = VIRTIO_ID_BLOCK;
        pci_function_set_bar(f, 0, VIRTIO_BLK_IO_BAR_SIZE, true);
        if (!pci_register(&p->pci, f)) {
            ksnprintf(err, errlen, "PCI slot %u is taken", PC_VIRTIO_BLK_SLOT + i);
            return false;
        }
    }
    return true;
}

bool pc_disk_next(struct pc_platform *p, struct pc_disk_job *j)
{
    for (unsigned c = 0; c < PIIX_IDE_CHANNELS; c++)
        if (piix_ide_dma_ready(&p->ide, c)) {
            struct ata_channel *a = &p->ide.ch[c].ata;
            bool to_memory = false;
            uint32_t bytes = 0;
            ata_dma_pending(a, &to_memory, &bytes);
            *j = (struct pc_disk_job){ PC_DISK_IDE, c, ata_selected_store(a), 0, 0, !to_memory };
            piix_ide_dma_request(&p->ide, c, &j->lba, &j->sectors);
            return true;
        }
    for (unsigned i = 0; i < PC_VIRTIO_BLKS; i++) {
        struct virtio_blk *v = &p->vblk[i];
        if (p->vblk_base[i] && virtio_blk_work_pending(v)) {
            *j = (struct pc_disk_job){ PC_DISK_VIRTIO, i, v->bd, 0, 0, false };
            if (!virtio_blk_take(v, &j->lba, &j->sectors, &j->write))
                continue;           /* the ring broke: nothing to serve */
            return true;
        }
    }
    return false;
}

void pc_disk_do(struct pc_platform *p, const struct pc_disk_job *j)
{
    if (j->dev == PC_DISK_IDE)
        piix_ide_dma_run(&p->ide, j->index);
    else if (j->index < PC_VIRTIO_BLKS)
        virtio_blk_process_one(&p->vblk[j->index]);     /* the request taken by pc_disk_next */
}
