#include "dev/piix_ide.h"
#include "lib.h"

#define ALL_ONES        0xFFFFFFFFu
#define BYTE_BITS       8u

static const struct { uint16_t cmd, ctl; unsigned irq, idetim; } channel_res[PIIX_IDE_CHANNELS] = {
    { PIIX_IDE_PRI_CMD, PIIX_IDE_PRI_CTL, PIIX_IDE_PRI_IRQ, PIIX_IDETIM_PRI },
    { PIIX_IDE_SEC_CMD, PIIX_IDE_SEC_CTL, PIIX_IDE_SEC_IRQ, PIIX_IDETIM_SEC },
};

static uint16_t cfg16(const struct pci_function *f, unsigned off)
{
    return (uint16_t)(f->config[off] | f->config[off + 1] << BYTE_BITS);
}

/* PCICMD I/O enable gates every port of the function; IDETIM's decode enable a channel's. */
static bool channel_decoded(const struct piix_ide_channel *ch)
{
    const struct pci_function *f = &ch->ide->fn;
    return (cfg16(f, PCI_COMMAND) & PCI_COMMAND_IO) &&
           (cfg16(f, channel_res[ch->index].idetim) & PIIX_IDETIM_DECODE);
}

/* ---- drive <-> bus master ---- */

static bool tgt_pending(void *ctx, bool *to_memory, uint32_t *bytes)
{
    return ata_dma_pending(&((struct piix_ide_channel *)ctx)->ata, to_memory, bytes);
}
static size_t tgt_rw(void *ctx, void *buf, size_t len)
{
    return ata_dma_rw(&((struct piix_ide_channel *)ctx)->ata, buf, len);
}
static void tgt_end(void *ctx, bool bus_error)
{
    ata_dma_end(&((struct piix_ide_channel *)ctx)->ata, bus_error);
}

/* The drive's INTRQ goes to the bus master's status (its interrupt bit) and to the IRQ pin. */
static void drive_irq(void *ctx, bool level)
{
    struct piix_ide_channel *ch = ctx;
    bmdma_drive_irq(&ch->bm, level);
    ch->ide->set_irq(ch->ide->irq_ctx, ch->irq, level);
}

bool piix_ide_dma_ready(const struct piix_ide *p, unsigned channel)
{
    if (channel >= PIIX_IDE_CHANNELS)
        return false;
    const struct piix_ide_channel *ch = &p->ch[channel];
    bool to_memory;
    uint32_t bytes;
    /* Without bus mastering in PCICMD the engine cannot get the bus: nothing to serve
     * until the guest turns it on (command_changed starts it then). */
    return (cfg16(&p->fn, PCI_COMMAND) & PCI_COMMAND_MASTER) && bmdma_armed(&ch->bm) &&
           ata_dma_pending(&ch->ata, &to_memory, &bytes);
}

void piix_ide_dma_run(struct piix_ide *p, unsigned channel)
{
    if (channel >= PIIX_IDE_CHANNELS)
        return;
    /* Without bus mastering in PCICMD the engine cannot get the bus: nothing moves. */
    if (!(cfg16(&p->fn, PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        p->dma_blocked++;
        return;
    }
    bmdma_run(&p->ch[channel].bm);
}

bool piix_ide_dma_request(const struct piix_ide *p, unsigned channel, uint64_t *lba, uint32_t *sectors)
{
    return channel < PIIX_IDE_CHANNELS && ata_dma_request(&p->ch[channel].ata, lba, sectors);
}

/* Both orders start a transfer: the bus master started after the drive's DMA command (what
 * Linux does), or the command written to a drive whose channel's engine is already started. */
static void maybe_start(struct piix_ide_channel *ch)
{
    struct piix_ide *p = ch->ide;
    if (!piix_ide_dma_ready(p, ch->index))
        return;
    if (p->dma_start)
        p->dma_start(p->dma_ctx, p, ch->index);
    else
        piix_ide_dma_run(p, ch->index);
}

static void bm_started(void *ctx, struct ide_bmdma *b)
{
    maybe_start(ctx);
}

/* ---- ports ---- */

static uint32_t data_in(void *dev, uint16_t port, unsigned size)
{
    struct piix_ide_channel *ch = dev;
    if (!channel_decoded(ch))
        return ALL_ONES;
    /* 8-bit data transfers are not an ATA PIO mode (only with SET FEATURES 01h on CFA):
     * a byte read takes the low byte of a word. */
    return ata_read(&ch->ata, ATA_REG_DATA, size == 1 ? 2 : size);
}

static void data_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct piix_ide_channel *ch = dev;
    if (!channel_decoded(ch))
        return;
    ata_write(&ch->ata, ATA_REG_DATA, size == 1 ? 2 : size, val);
    maybe_start(ch);                    /* the last CDB byte can begin an ATAPI DMA phase */
}

static uint32_t regs_in(void *dev, uint16_t port, unsigned size)
{
    struct piix_ide_channel *ch = dev;
    if (!channel_decoded(ch))
        return ALL_ONES;
    return ata_read(&ch->ata, (unsigned)(port - ch->cmd_base), 1);
}

static void regs_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct piix_ide_channel *ch = dev;
    if (!channel_decoded(ch))
        return;
    unsigned reg = (unsigned)(port - ch->cmd_base);
    ata_write(&ch->ata, reg, 1, val & 0xFF);
    if (reg == ATA_REG_COMMAND)
        maybe_start(ch);
}

static uint32_t ctl_in(void *dev, uint16_t port, unsigned size)
{
    struct piix_ide_channel *ch = dev;
    return channel_decoded(ch) ? ata_altstatus(&ch->ata) : ALL_ONES;
}

static void ctl_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct piix_ide_channel *ch = dev;
    if (channel_decoded(ch))
        ata_devctl(&ch->ata, (uint8_t)val);
}

static uint32_t bm_in(void *dev, uint16_t port, unsigned size)
{
    struct piix_ide *p = dev;
    unsigned off = (unsigned)(port - p->bm_base);
    struct piix_ide_channel *ch = &p->ch[off / BMDMA_SECONDARY];
    return bmdma_read(&ch->bm, off % BMDMA_SECONDARY, size);
}

static void bm_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct piix_ide *p = dev;
    unsigned off = (unsigned)(port - p->bm_base);
    struct piix_ide_channel *ch = &p->ch[off / BMDMA_SECONDARY];
    bmdma_write(&ch->bm, off % BMDMA_SECONDARY, size, val);
}

static const struct ioport_ops data_ops = { "ide-data", data_in, data_out, false };
static const struct ioport_ops regs_ops = { "ide", regs_in, regs_out, true };
static const struct ioport_ops ctl_ops = { "ide-ctl", ctl_in, ctl_out, true };
static const struct ioport_ops bm_ops = { "ide-bm", bm_in, bm_out, false };

/* ---- BAR4: the bus-master block follows the guest's BMIBA and PCICMD ---- */

static void bm_decode_update(struct piix_ide *p)
{
    uint16_t base = pci_bar_enabled(&p->fn, PIIX_IDE_BMIBA_BAR)
                        ? (uint16_t)pci_bar_address(&p->fn, PIIX_IDE_BMIBA_BAR) : 0;
    if (base == p->bm_base || !p->io)
        return;
    if (p->bm_base)
        ioport_unregister(p->io, p->bm_base, p);
    p->bm_base = 0;
    /* A window onto ports another device owns is not decoded (the PCI bus would conflict). */
    if (base && ioport_register(p->io, base, PIIX_IDE_BMIBA_SIZE, &bm_ops, p))
        p->bm_base = base;
}

static void bar_changed(struct pci_function *f, unsigned bar, uint32_t old_value, uint32_t new_value)
{
    bm_decode_update(f->dev);
}

static void command_changed(struct pci_function *f, uint16_t old_value, uint16_t new_value)
{
    struct piix_ide *p = f->dev;
    bm_decode_update(p);
    if (!(old_value & PCI_COMMAND_MASTER) && (new_value & PCI_COMMAND_MASTER))
        for (unsigned i = 0; i < PIIX_IDE_CHANNELS; i++)
            maybe_start(&p->ch[i]);
}

static const struct pci_function_ops fn_ops = { .bar_changed = bar_changed, .command_changed = command_changed };


void piix_ide_init(struct piix_ide *p, const struct dma_ops *dma,
                   void (*set_irq)(void *, unsigned, bool), void *irq_ctx,
                   void (*dma_start)(void *, struct piix_ide *, unsigned), void *dma_ctx)
{
    memset(p, 0, sizeof(*p));
    p->set_irq = set_irq;
    p->irq_ctx = irq_ctx;
    p->dma_start = dma_start;
    p->dma_ctx = dma_ctx;
    pci_function_init(&p->fn, PIIX_IDE_DEVFN, PCI_VENDOR_INTEL, PCI_DEVICE_PIIX3_IDE,
                      PIIX_IDE_CLASS_REV, 0, &fn_ops, p);
    pci_function_set_bar(&p->fn, PIIX_IDE_BMIBA_BAR, PIIX_IDE_BMIBA_SIZE, true);
    /* Legacy mode uses IRQ 14/15, not an INTx# pin (interrupt pin reads 0). */
    for (unsigned i = 0; i < PIIX_IDE_CHANNELS; i++) {
        unsigned t = channel_res[i].idetim;
        p->fn.wmask[t] = PIIX_IDETIM_WMASK & 0xFF;
        p->fn.wmask[t + 1] = PIIX_IDETIM_WMASK >> BYTE_BITS;
        /* The BIOS enables both channels' decode before it boots anything. */
        p->fn.config[t + 1] = PIIX_IDETIM_DECODE >> BYTE_BITS;
    }
    p->fn.wmask[PIIX_SIDETIM] = PIIX_SIDETIM_WMASK;
    for (unsigned i = 0; i < PIIX_IDE_CHANNELS; i++) {
        struct piix_ide_channel *ch = &p->ch[i];
        ch->ide = p;
        ch->index = i;
        ch->cmd_base = channel_res[i].cmd;
        ch->ctl_port = channel_res[i].ctl;
        ch->irq = channel_res[i].irq;
        ata_init(&ch->ata, drive_irq, ch);
        const struct bmdma_target t = { tgt_pending, tgt_rw, tgt_end, ch };
        bmdma_init(&ch->bm, &t, dma, bm_started, ch);
    }
}

bool piix_ide_attach(struct piix_ide *p, struct pci_bus *bus, struct ioport_table *io)
{
    p->bus = bus;
    p->io = io;
    if (!pci_register(bus, &p->fn))
        return false;
    for (unsigned i = 0; i < PIIX_IDE_CHANNELS; i++) {
        struct piix_ide_channel *ch = &p->ch[i];
        if (!ioport_register(io, ch->cmd_base, 1, &data_ops, ch) ||
            !ioport_register(io, (uint16_t)(ch->cmd_base + 1), PIIX_IDE_CMD_PORTS - 1, &regs_ops, ch) ||
            !ioport_register(io, ch->ctl_port, 1, &ctl_ops, ch))
            return false;
    }
    bm_decode_update(p);
    return true;
}
