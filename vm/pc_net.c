/* The platform's NICs: up to PC_NICS PCI functions, each an e1000 (82540EM: BAR0 memory,
 * BAR1 I/O) or a legacy virtio-net (BAR0 I/O), INTA# through the PIIX3 router. The chips'
 * frames and kicks go to the VM through the platform hooks; vm/vm_net.c connects them to the
 * switch. All device DMA goes through the platform's dma_ops (the VM's RAM) and nothing else. */
#include "pc_platform.h"
#include "vmtime.h"
#include "acpi_tables.h"
#include "lib.h"
#include "arch/x86/tsc.h"

static const uint8_t nic_slot[PC_NICS] = PC_NIC_SLOTS;

static struct pc_nic *nic_of(struct pci_function *f) { return f->dev; }

static void nic_irq(void *ctx, bool level)
{
    struct pc_nic *n = ctx;
    pci_set_intx(&n->plat->pci, &n->fn, level);
}

static void tx_kick(void *ctx)
{
    struct pc_nic *n = ctx;
    if (n->plat->hooks->nic_tx_kick)
        n->plat->hooks->nic_tx_kick(n->plat->ctx, n->index);
}

static void rx_kick(void *ctx)
{
    struct pc_nic *n = ctx;
    if (n->plat->hooks->nic_rx_kick)
        n->plat->hooks->nic_rx_kick(n->plat->ctx, n->index);
}

static void tx_frame(void *ctx, const uint8_t *frame, size_t len)
{
    struct pc_nic *n = ctx;
    if (n->plat->hooks->nic_tx_frame)
        n->plat->hooks->nic_tx_frame(n->plat->ctx, n->index, frame, len);
}

/* ---- the two models, behind one table so the platform code below names neither ---- */

struct nic_model {
    const struct ioport_ops *io;        /* the I/O BAR */
    unsigned io_bar;
    uint16_t io_len;
    const struct mmio_ops *mmio;        /* BAR0 as memory, NULL: none */
    uint64_t mmio_len;
    bool (*init)(struct pc_platform *p, struct pc_nic *n, const uint8_t mac[ETH_ALEN], char *err, size_t errlen);
    uint32_t (*io_read)(struct pc_nic *n, unsigned off, unsigned size);
    void (*io_write)(struct pc_nic *n, unsigned off, unsigned size, uint32_t val);
    unsigned (*tx_process)(struct pc_nic *n, unsigned budget);
    bool (*tx_pending)(struct pc_nic *n);
    enum nic_rx_result (*receive)(struct pc_nic *n, const uint8_t *frame, size_t len);
    void (*missed)(struct pc_nic *n);   /* a frame found no buffer; NULL: nothing counts it */
};

static const struct nic_model *model_of(const struct pc_nic *n);

static uint32_t nic_io_in(void *dev, uint16_t port, unsigned size)
{
    struct pc_nic *n = dev;
    return model_of(n)->io_read(n, (unsigned)(port - n->io_base), size);
}

static void nic_io_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct pc_nic *n = dev;
    model_of(n)->io_write(n, (unsigned)(port - n->io_base), size, val);
}

static const struct ioport_ops e1000_io_ops = { "e1000", nic_io_in, nic_io_out, false };
static const struct ioport_ops vnet_io_ops = { "virtio-net", nic_io_in, nic_io_out, false };

/* The 82540EM's registers are 32 bits wide; a 64-bit access is two of them (the low first). */
static uint64_t e1000_mmio_rd(void *dev, uint64_t off, unsigned size)
{
    struct e1000 *e = &((struct pc_nic *)dev)->u.e1000;
    if (size == 8)
        return e1000_mmio_read(e, (uint32_t)off, 4) | (uint64_t)e1000_mmio_read(e, (uint32_t)off + 4, 4) << 32;
    return e1000_mmio_read(e, (uint32_t)off, size);
}

static void e1000_mmio_wr(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct e1000 *e = &((struct pc_nic *)dev)->u.e1000;
    if (size == 8) {
        e1000_mmio_write(e, (uint32_t)off, 4, (uint32_t)val);
        e1000_mmio_write(e, (uint32_t)off + 4, 4, (uint32_t)(val >> 32));
        return;
    }
    e1000_mmio_write(e, (uint32_t)off, size, (uint32_t)val);
}

static const struct mmio_ops e1000_mmio_ops = { .name = "e1000", .read = e1000_mmio_rd, .write = e1000_mmio_wr };

/* The BARs follow the guest's programming and PCICMD's decode enables. A BAR the guest puts
 * over another device's range is not decoded (counted) until it is moved. */
static void decode_update(struct pci_function *f)
{
    struct pc_nic *n = nic_of(f);
    struct pc_platform *p = n->plat;
    const struct nic_model *m = model_of(n);
    uint16_t io = pci_bar_enabled(f, m->io_bar) ? (uint16_t)pci_bar_address(f, m->io_bar) : 0;
    if (io != n->io_base) {
        if (n->io_base)
            ioport_unregister(&p->io, n->io_base, n);
        n->io_base = 0;
        if (io && ioport_register(&p->io, io, m->io_len, m->io, n))
            n->io_base = io;
        else if (io)
            n->bar_conflicts++;
    }
    if (!m->mmio)
        return;
    uint64_t mem = pci_bar_enabled(f, 0) ? pci_bar_address(f, 0) : 0;
    if (mem != n->mmio_base) {
        if (n->mmio_base)
            mmio_unregister(&p->mmio, n->mmio_base, n);
        n->mmio_base = 0;
        if (mem && mmio_register(&p->mmio, mem, m->mmio_len, m->mmio, n))
            n->mmio_base = mem;
        else if (mem)
            n->bar_conflicts++;
    }
}

static void bar_changed(struct pci_function *f, unsigned bar, uint32_t o, uint32_t v) { decode_update(f); }
static void command_changed(struct pci_function *f, uint16_t o, uint16_t v) { decode_update(f); }
static const struct pci_function_ops nic_fn_ops = { .bar_changed = bar_changed, .command_changed = command_changed };

/* ---- the e1000's moderation timer, in the platform's timer registry ---- */

static uint64_t nic_ns_clock(void *ctx)
{
    struct pc_nic *n = ctx;
    return time_to_ticks(vm_now(n->plat), E1000_CLOCK_HZ, tsc_hz);
}

static bool timer_enabled(void *ctx)
{
    /* Whichever ISA IRQ or I/O APIC pin the line is routed to: the chip cannot tell, and a
     * deadline on a masked line only costs one early look. */
    return true;
}

static void set_pci_ids(struct pci_function *f, uint16_t subsys_vendor, uint16_t subsys)
{
    f->config[PCI_SUBSYSTEM_VENDOR_ID] = (uint8_t)subsys_vendor;
    f->config[PCI_SUBSYSTEM_VENDOR_ID + 1] = (uint8_t)(subsys_vendor >> 8);
    f->config[PCI_SUBSYSTEM_ID] = (uint8_t)subsys;
    f->config[PCI_SUBSYSTEM_ID + 1] = (uint8_t)(subsys >> 8);
}

static const struct e1000_hooks e1000_hooks = { nic_irq, tx_kick, rx_kick, tx_frame };
static const struct virtio_net_hooks vnet_hooks = { tx_kick, rx_kick, tx_frame };

static bool e1000_attach(struct pc_platform *p, struct pc_nic *n, const uint8_t mac[ETH_ALEN], char *err,
                         size_t errlen)
{
    struct pci_function *f = &n->fn;
    e1000_init(&n->u.e1000, mac, &p->dma, &e1000_hooks, n, nic_ns_clock, n);
    pci_function_init(f, PCI_DEVFN(nic_slot[n->index], 0), E1000_PCI_VENDOR, E1000_PCI_DEVICE_82540EM,
                      E1000_PCI_CLASS << 8 | E1000_PCI_REVISION, E1000_PCI_INT_PIN, &nic_fn_ops, n);
    set_pci_ids(f, E1000_PCI_SUBSYS_VENDOR, E1000_PCI_SUBSYS_ID);
    pci_function_set_bar(f, 0, E1000_MMIO_SIZE, false);
    pci_function_set_bar(f, 1, E1000_IO_SIZE, true);
    dev_clock_on_move(&n->u.e1000.clock, timer_moved, &p->timers);
    n->timer = (struct dev_timer){ "e1000", E1000_CLOCK_HZ, 0, e1000_timer_next, e1000_timer_catch_up,
                                   &n->u.e1000, timer_enabled };
    if (!timer_register(&p->timers, &n->timer)) {
        ksnprintf(err, errlen, "NIC %u: the timer registry is full", n->index);
        return false;
    }
    return true;
}

static bool vnet_attach(struct pc_platform *p, struct pc_nic *n, const uint8_t mac[ETH_ALEN], char *err,
                        size_t errlen)
{
    struct pci_function *f = &n->fn;
    virtio_net_init(&n->u.vnet, mac, &p->dma, nic_irq, n, &vnet_hooks, n);
    pci_function_init(f, PCI_DEVFN(nic_slot[n->index], 0), VIRTIO_PCI_VENDOR, VIRTIO_NET_PCI_DEVICE,
                      VIRTIO_NET_PCI_CLASS_REV, VIRTIO_PCI_INT_PIN, &nic_fn_ops, n);
    set_pci_ids(f, VIRTIO_PCI_SUBSYS_VENDOR, VIRTIO_ID_NET);
    pci_function_set_bar(f, 0, VIRTIO_NET_IO_BAR_SIZE, true);
    return true;
}

static uint32_t e1000_io_rd(struct pc_nic *n, unsigned off, unsigned size) { return e1000_io_read(&n->u.e1000, off, size); }
static void e1000_io_wr(struct pc_nic *n, unsigned off, unsigned size, uint32_t v) { e1000_io_write(&n->u.e1000, off, size, v); }
static unsigned e1000_tx(struct pc_nic *n, unsigned budget) { return e1000_tx_process(&n->u.e1000, budget); }
static bool e1000_pending(struct pc_nic *n) { return e1000_tx_pending(&n->u.e1000); }
static void e1000_missed(struct pc_nic *n) { e1000_rx_missed(&n->u.e1000); }
static enum nic_rx_result e1000_rx(struct pc_nic *n, const uint8_t *frame, size_t len)
{
    STATIC_ASSERT((int)E1000_RX_OK == (int)NIC_RX_OK && (int)E1000_RX_FILTERED == (int)NIC_RX_FILTERED &&
                  (int)E1000_RX_NO_BUFFER == (int)NIC_RX_NO_BUFFER && (int)E1000_RX_DROPPED == (int)NIC_RX_DROPPED,
                  "the e1000's results are the NIC results");
    return (enum nic_rx_result)e1000_receive(&n->u.e1000, frame, len);
}

static uint32_t vnet_io_rd(struct pc_nic *n, unsigned off, unsigned size) { return virtio_net_read(&n->u.vnet, off, size); }
static void vnet_io_wr(struct pc_nic *n, unsigned off, unsigned size, uint32_t v) { virtio_net_write(&n->u.vnet, off, size, v); }
static unsigned vnet_tx(struct pc_nic *n, unsigned budget) { return virtio_net_tx_process(&n->u.vnet, budget); }
static bool vnet_pending(struct pc_nic *n) { return virtio_net_tx_pending(&n->u.vnet); }
static enum nic_rx_result vnet_rx(struct pc_nic *n, const uint8_t *frame, size_t len)
{
    return virtio_net_receive(&n->u.vnet, frame, len);
}

static const struct nic_model models[] = {
    [PC_NIC_E1000] = { &e1000_io_ops, 1, E1000_IO_SIZE, &e1000_mmio_ops, E1000_MMIO_SIZE, e1000_attach,
                       e1000_io_rd, e1000_io_wr, e1000_tx, e1000_pending, e1000_rx, e1000_missed },
    /* virtio-net has no missed-frame counter: the frame is simply not there (5.1.6.3). */
    [PC_NIC_VIRTIO] = { &vnet_io_ops, 0, VIRTIO_NET_IO_BAR_SIZE, NULL, 0, vnet_attach,
                        vnet_io_rd, vnet_io_wr, vnet_tx, vnet_pending, vnet_rx, NULL },
};

static const struct nic_model *model_of(const struct pc_nic *n)
{
    return (unsigned)n->model < ARRAY_SIZE(models) && models[n->model].io ? &models[n->model] : NULL;
}

/* NIC i if the platform has one there. */
static struct pc_nic *nic_at(struct pc_platform *p, unsigned i)
{
    return i < PC_NICS && model_of(&p->nic[i]) ? &p->nic[i] : NULL;
}

bool pc_nics_attach(struct pc_platform *p, const struct pc_nic_config nics[PC_NICS], char *err, size_t errlen)
{
    for (unsigned i = 0; i < PC_NICS; i++) {
        struct pc_nic *n = &p->nic[i];
        memset(n, 0, sizeof(*n));
        n->model = nics[i].model;
        n->plat = p;
        n->index = i;
        const struct nic_model *m = model_of(n);
        if (!m)
            continue;
        if (!m->init(p, n, nics[i].mac, err, errlen))
            return false;
        if (!pci_register(&p->pci, &n->fn)) {
            ksnprintf(err, errlen, "PCI slot %u is taken", nic_slot[i]);
            return false;
        }
    }
    return true;
}

/* Frames arrive whenever another VM sends, so a halted vCPU waits for them while a NIC's line
 * can reach it: its PIRQ's I/O APIC pin, or the ISA IRQ the PIRQ is routed to now (the guest
 * may have rerouted it since the firmware did). */
bool pc_nics_may_interrupt(const struct pc_platform *p)
{
    for (unsigned i = 0; i < PC_NICS; i++) {
        const struct pc_nic *n = &p->nic[i];
        if (!model_of(n))
            continue;
        unsigned gsi = fw_pci_intx_gsi(nic_slot[i], n->fn.config[PCI_INTERRUPT_PIN] - 1u);
        int isa = pci_pirq_route(&p->pci, gsi - FW_PIRQ_GSI_BASE);
        if (irq_line_enabled(&p->irq, gsi) || (isa >= 0 && irq_line_enabled(&p->irq, (unsigned)isa)))
            return true;
    }
    return false;
}

unsigned pc_nic_tx_process(struct pc_platform *p, unsigned i, unsigned budget)
{
    struct pc_nic *n = nic_at(p, i);
    return n ? model_of(n)->tx_process(n, budget) : 0;
}

void pc_nic_missed(struct pc_platform *p, unsigned i)
{
    struct pc_nic *n = nic_at(p, i);
    if (n && model_of(n)->missed)
        model_of(n)->missed(n);
}

bool pc_nic_tx_pending(struct pc_platform *p, unsigned i)
{
    struct pc_nic *n = nic_at(p, i);
    return n && model_of(n)->tx_pending(n);
}

enum nic_rx_result pc_nic_receive(struct pc_platform *p, unsigned i, const uint8_t *frame, size_t len)
{
    struct pc_nic *n = nic_at(p, i);
    return n ? model_of(n)->receive(n, frame, len) : NIC_RX_DROPPED;
}
