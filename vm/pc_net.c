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

/* ---- register access ---- */

static uint32_t nic_io_in(void *dev, uint16_t port, unsigned size)
{
    struct pc_nic *n = dev;
    unsigned off = (unsigned)(port - n->io_base);
    return n->model == PC_NIC_E1000 ? e1000_io_read(&n->u.e1000, off, size)
                                    : virtio_net_read(&n->u.vnet, off, size);
}

static void nic_io_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct pc_nic *n = dev;
    unsigned off = (unsigned)(port - n->io_base);
    if (n->model == PC_NIC_E1000)
        e1000_io_write(&n->u.e1000, off, size, val);
    else
        virtio_net_write(&n->u.vnet, off, size, val);
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
    unsigned io_bar = n->model == PC_NIC_E1000 ? 1 : 0;
    uint16_t io = pci_bar_enabled(f, io_bar) ? (uint16_t)pci_bar_address(f, io_bar) : 0;
    if (io != n->io_base) {
        if (n->io_base)
            ioport_unregister(&p->io, n->io_base, n);
        n->io_base = 0;
        const struct ioport_ops *ops = n->model == PC_NIC_E1000 ? &e1000_io_ops : &vnet_io_ops;
        uint16_t len = n->model == PC_NIC_E1000 ? E1000_IO_SIZE : VIRTIO_NET_IO_BAR_SIZE;
        if (io && ioport_register(&p->io, io, len, ops, n))
            n->io_base = io;
        else if (io)
            n->bar_conflicts++;
    }
    if (n->model != PC_NIC_E1000)
        return;
    uint64_t mem = pci_bar_enabled(f, 0) ? pci_bar_address(f, 0) : 0;
    if (mem != n->mmio_base) {
        if (n->mmio_base)
            mmio_unregister(&p->mmio, n->mmio_base, n);
        n->mmio_base = 0;
        if (mem && mmio_register(&p->mmio, mem, E1000_MMIO_SIZE, &e1000_mmio_ops, n))
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

bool pc_nics_attach(struct pc_platform *p, const struct pc_nic_config nics[PC_NICS], char *err, size_t errlen)
{
    for (unsigned i = 0; i < PC_NICS; i++) {
        struct pc_nic *n = &p->nic[i];
        memset(n, 0, sizeof(*n));
        n->model = nics[i].model;
        n->plat = p;
        n->index = i;
        struct pci_function *f = &n->fn;
        uint8_t devfn = PCI_DEVFN(nic_slot[i], 0);
        if (n->model == PC_NIC_E1000) {
            e1000_init(&n->u.e1000, nics[i].mac, &p->dma, &e1000_hooks, n, nic_ns_clock, n);
            pci_function_init(f, devfn, E1000_PCI_VENDOR, E1000_PCI_DEVICE_82540EM,
                              E1000_PCI_CLASS << 8 | E1000_PCI_REVISION, E1000_PCI_INT_PIN, &nic_fn_ops, n);
            set_pci_ids(f, E1000_PCI_SUBSYS_VENDOR, E1000_PCI_SUBSYS_ID);
            pci_function_set_bar(f, 0, E1000_MMIO_SIZE, false);
            pci_function_set_bar(f, 1, E1000_IO_SIZE, true);
            dev_clock_on_move(&n->u.e1000.clock, timer_moved, &p->timers);
            n->timer = (struct dev_timer){ "e1000", E1000_CLOCK_HZ, 0, e1000_timer_next, e1000_timer_catch_up,
                                           &n->u.e1000, timer_enabled };
            if (!timer_register(&p->timers, &n->timer)) {
                ksnprintf(err, errlen, "NIC %u: the timer registry is full", i);
                return false;
            }
        } else if (n->model == PC_NIC_VIRTIO) {
            virtio_net_init(&n->u.vnet, nics[i].mac, &p->dma, nic_irq, n, &vnet_hooks, n);
            pci_function_init(f, devfn, VIRTIO_PCI_VENDOR, VIRTIO_NET_PCI_DEVICE, VIRTIO_NET_PCI_CLASS_REV,
                              VIRTIO_PCI_INT_PIN, &nic_fn_ops, n);
            set_pci_ids(f, VIRTIO_PCI_SUBSYS_VENDOR, VIRTIO_ID_NET);
            pci_function_set_bar(f, 0, VIRTIO_NET_IO_BAR_SIZE, true);
        } else {
            continue;
        }
        if (!pci_register(&p->pci, f)) {
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
        if (n->model == PC_NIC_NONE)
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
    struct pc_nic *n = i < PC_NICS ? &p->nic[i] : NULL;
    if (!n || n->model == PC_NIC_NONE)
        return 0;
    return n->model == PC_NIC_E1000 ? e1000_tx_process(&n->u.e1000, budget)
                                    : virtio_net_tx_process(&n->u.vnet, budget);
}

void pc_nic_missed(struct pc_platform *p, unsigned i)
{
    /* virtio-net has no such counter: the frame is simply not there (5.1.6.3). */
    if (i < PC_NICS && p->nic[i].model == PC_NIC_E1000)
        e1000_rx_missed(&p->nic[i].u.e1000);
}

bool pc_nic_tx_pending(struct pc_platform *p, unsigned i)
{
    struct pc_nic *n = i < PC_NICS ? &p->nic[i] : NULL;
    if (!n || n->model == PC_NIC_NONE)
        return false;
    return n->model == PC_NIC_E1000 ? e1000_tx_pending(&n->u.e1000) : virtio_net_tx_pending(&n->u.vnet);
}

enum nic_rx_result pc_nic_receive(struct pc_platform *p, unsigned i, const uint8_t *frame, size_t len)
{
    struct pc_nic *n = i < PC_NICS ? &p->nic[i] : NULL;
    if (!n || n->model == PC_NIC_NONE)
        return NIC_RX_DROPPED;
    if (n->model == PC_NIC_VIRTIO)
        return virtio_net_receive(&n->u.vnet, frame, len);
    STATIC_ASSERT((int)E1000_RX_OK == (int)NIC_RX_OK && (int)E1000_RX_FILTERED == (int)NIC_RX_FILTERED &&
                  (int)E1000_RX_NO_BUFFER == (int)NIC_RX_NO_BUFFER && (int)E1000_RX_DROPPED == (int)NIC_RX_DROPPED,
                  "the e1000's results are the NIC results");
    return (enum nic_rx_result)e1000_receive(&n->u.e1000, frame, len);
}
