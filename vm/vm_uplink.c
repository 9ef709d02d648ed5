/* The uplink port; see vm_uplink.h. */
#include "vm_uplink.h"
#include "lib.h"
#include "arch/x86/cpu.h"
#include "arch/x86/e1000_host.h"
#include "arch/x86/exception.h"
#include "arch/x86/paging.h"
#include "arch/x86/pci_host.h"
#include "arch/x86/platform.h"
#include "arch/x86/tsc.h"
#include "dev/i8259.h"
#include "mm/heap.h"
#include "mm/memory.h"
#include "mm/pmm.h"
#include "byteorder.h"
#include "kernel/shell.h"
#include "sched/sched.h"

#define PAGE_SIZE           4096u
#define RX_BUDGET           64          /* frames per service call; more after the vCPUs' turn */
#define POLL_MS             1           /* no usable interrupt line: poll this often */
/* Interrupts in a row the NIC did not raise: the line is shared with a device that does not
 * let go of it. Masked then, and polled, so the VMM is not stormed. */
#define UNCLAIMED_LIMIT     10000u
#define PCI_BAR_MEM_TYPE_64 0x04
#define PCI_IRQ_LINE_NONE   0xFF        /* the firmware routed nothing */
/* ARP over Ethernet (RFC 826): the request the VMM's own probe sends, the reply it waits for. */
#define ARP_LEN             28
#define ARP_HTYPE_ETHER     1
#define ARP_OP_REQUEST      1
#define ARP_OP_REPLY        2
#define ARP_HLEN_OFF        4
#define ARP_PLEN_OFF        5
#define ARP_OP_OFF          6
#define ARP_SHA_OFF         8
#define ARP_SPA_OFF         14
#define ARP_THA_OFF         18
#define ARP_TPA_OFF         24
#define IPV4_ALEN           4
#define PROBE_WAIT_MS       1000        /* per request; a link still negotiating may eat the first */
#define PROBE_TRIES         3

static struct {
    bool running;
    const char *part;
    uint8_t bus, devfn;
    unsigned irq;
    bool polled;                        /* no usable line, or given up on it */
    bool storm_reported;
    volatile bool pending;              /* set by the interrupt, cleared by the service */
    unsigned unclaimed_run;
    uint64_t poll_tsc, next_poll;
    volatile uint8_t *regs;
    struct e1000h nic;
    struct vswitch *sw;
    int port;
    struct vswitch_frame *backlog;
    void (*wake)(void);
    uint64_t (*now_ns)(void);
    uint64_t services, link_down_drops;
    uint64_t own_frames;                /* addressed to the NIC itself: the VMM's, not the switch's */
} up = { .port = VSWITCH_NO_PORT };

/* The one ARP question the shell may have out (uplink-arp). */
static struct {
    bool active, answered;
    uint8_t ip[IPV4_ALEN], mac[ETH_ALEN];
    uint64_t answer_tsc;
} probe;

static uint32_t reg_read(void *ctx, uint32_t off)
{
    (void)ctx;
    return *(volatile uint32_t *)(up.regs + off);
}

static void reg_write(void *ctx, uint32_t off, uint32_t val)
{
    (void)ctx;
    *(volatile uint32_t *)(up.regs + off) = val;
}

static void delay_us(void *ctx, unsigned us)
{
    (void)ctx;
    uint64_t t0 = rdtsc(), n = tsc_hz / 1000000 * us;
    while (rdtsc() - t0 < n)
        pause();
}

/* A frame from the switch leaves through the NIC. */
static enum nic_rx_result deliver(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    if (!up.nic.link_up) {
        up.link_down_drops++;
        return NIC_RX_DROPPED;
    }
    if (len < E1000H_MIN_FRAME || len > E1000H_MAX_FRAME)
        return NIC_RX_DROPPED;
    return e1000h_send(&up.nic, frame, len) ? NIC_RX_OK : NIC_RX_NO_BUFFER;
}

static void on_irq(struct exc_frame *f)
{
    (void)f;
    if ((up.irq == HOST_IRQ_SPURIOUS || up.irq == HOST_IRQ_SLAVE_SPURIOUS) && host_pic_spurious(up.irq))
        return;
    /* Reading ICR drops the NIC's request (level-triggered), so the EOI below cannot re-enter. */
    if (e1000h_interrupt(&up.nic)) {
        up.unclaimed_run = 0;
        up.pending = true;
        up.wake();
    } else if (++up.unclaimed_run >= UNCLAIMED_LIMIT) {
        host_pic_mask(up.irq);
        up.polled = true;
        up.next_poll = rdtsc();
        up.pending = true;
        up.wake();
    }
    host_pic_eoi(up.irq);
}

/* A frame for the NIC's own address: no VM has it, so it is the VMM's (a probe's answer). */
static void take_own(const uint8_t *frame, size_t len)
{
    up.own_frames++;
    const uint8_t *a = frame + ETH_HLEN;
    if (!probe.active || len < ETH_HLEN + ARP_LEN || get_be16(frame + ETH_TYPE_OFF) != ETH_TYPE_ARP ||
        get_be16(a) != ARP_HTYPE_ETHER || get_be16(a + 2) != ETH_TYPE_IPV4 || a[ARP_HLEN_OFF] != ETH_ALEN ||
        a[ARP_PLEN_OFF] != IPV4_ALEN || get_be16(a + ARP_OP_OFF) != ARP_OP_REPLY ||
        memcmp(a + ARP_SPA_OFF, probe.ip, IPV4_ALEN))
        return;
    memcpy(probe.mac, a + ARP_SHA_OFF, ETH_ALEN);
    probe.answer_tsc = rdtsc();
    probe.answered = true;
    probe.active = false;
}

static void rx_frame(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    if (len >= ETH_HLEN && !memcmp(frame, up.nic.mac, ETH_ALEN))
        take_own(frame, len);
    else
        vswitch_input(up.sw, up.port, frame, len, up.now_ns());
}

bool vm_uplink_pending(uint64_t now_tsc)
{
    return up.running && (up.pending || (up.polled && now_tsc >= up.next_poll));
}

uint64_t vm_uplink_next_poll(void)
{
    return up.running && up.polled ? up.next_poll : UINT64_MAX;
}

bool vm_uplink_service(void)
{
    if (!up.running)
        return false;
    up.services++;
    up.pending = false;
    if (up.polled) {
        if (!up.storm_reported && up.unclaimed_run >= UNCLAIMED_LIMIT) {
            up.storm_reported = true;
            kprintf("uplink: IRQ %u kept firing without the NIC asking (%u times): masked, polling every %u ms\n",
                    up.irq, up.unclaimed_run, POLL_MS);
        }
        uint64_t now = rdtsc();
        if (now >= up.next_poll) {
            (void)e1000h_interrupt(&up.nic);    /* what the line would have said: link changes */
            up.next_poll = now + up.poll_tsc;
        }
    }
    e1000h_reclaim(&up.nic);
    vswitch_flush(up.sw, up.port);
    e1000h_receive(&up.nic, rx_frame, NULL, RX_BUDGET);
    return e1000h_rx_ready(&up.nic);
}

static const struct pci_host_fn *find_nic(void)
{
    unsigned n;
    const struct pci_host_fn *f = pci_host_functions(&n);
    for (unsigned i = 0; i < n; i++)
        if (f[i].header == PCI_HEADER_TYPE_NORMAL && e1000h_part_name(f[i].vendor, f[i].device))
            return &f[i];
    return NULL;
}

/* The register BAR as the firmware assigned it; 0 and a reason if unusable. */
static uint64_t bar0(const struct pci_host_fn *f, const char **why)
{
    uint32_t b = f->bar[0];
    if (b & PCI_BAR_SPACE_IO) {
        *why = "BAR0 is not a memory BAR";
        return 0;
    }
    if ((b & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 && f->bar[1]) {
        *why = "BAR0 is above 4 GiB (not mapped by the VMM)";
        return 0;
    }
    uint64_t base = b & PCI_BAR_MEM_ADDR_MASK;
    if (!base || base + E1000H_MMIO_SIZE > (1ull << 32)) {
        *why = "BAR0 not assigned by the firmware";
        return 0;
    }
    return base;
}

/* A line the 8259 can take as the NIC's alone: not the cascade, not one the VMM uses already. */
static bool usable_line(unsigned line, unsigned pin)
{
    return pin && line < HOST_PIC_IRQS && line != PCI_IRQ_LINE_NONE && line != HOST_IRQ_PIT &&
           line != HOST_IRQ_COM1 && line != I8259_CASCADE_IRQ && host_pic_set_level(line);
}

/* How frames are noticed: "IRQ 9" / "polled every 1 ms", or tersely "irq9" / "poll1". */
static void irq_mode(char *buf, size_t len, bool terse)
{
    if (up.polled)
        ksnprintf(buf, len, terse ? "poll%u" : "polled every %u ms", POLL_MS);
    else
        ksnprintf(buf, len, terse ? "irq%u" : "IRQ %u", up.irq);
}

void vm_uplink_init(struct vswitch *sw, void (*wake)(void), uint64_t (*now_ns)(void))
{
    if (!pci_host_present()) {
        kprintf("uplink: none (no PCI configuration mechanism)\n");
        return;
    }
    const struct pci_host_fn *f = find_nic();
    if (!f) {
        kprintf("uplink: none (no supported NIC: Intel 8254x copper)\n");
        return;
    }
    const char *part = e1000h_part_name(f->vendor, f->device), *why = NULL;
    char bdf[16];
    ksnprintf(bdf, sizeof(bdf), "%02x:%02x.%u", f->bus, PCI_DEV(f->devfn), PCI_FN(f->devfn));
    uint64_t base = bar0(f, &why);
    uint64_t frames = E1000H_MEM_SIZE / PAGE_SIZE;
    uint64_t dma = base ? pmm_alloc_contig(&host_pmm, frames, E1000H_MEM_ALIGN) : 0;
    if (base && !dma)
        why = "no memory for its rings";
    struct vswitch_frame *backlog = why ? NULL : kzalloc(sizeof(*backlog) * VSWITCH_BACKLOG);
    if (!why && !backlog)
        why = "no memory for its switch port";
    if (why) {
        if (dma)
            pmm_free_contig(&host_pmm, dma, frames);
        kprintf("uplink: none (%s %s at %s: %s)\n", "e1000", part, bdf, why);
        return;
    }
    for (uint64_t off = 0; off < E1000H_MMIO_SIZE; off += PAGE_SIZE)
        paging_map_uncached(base + off);
    up.regs = (volatile uint8_t *)(uintptr_t)base;
    up.bus = f->bus;
    up.devfn = f->devfn;
    up.part = part;
    uint16_t cmd = (uint16_t)pci_host_read32(f->bus, f->devfn, PCI_COMMAND);
    cmd = (uint16_t)((cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER) & ~PCI_COMMAND_INTX_DISABLE);
    pci_host_write32(f->bus, f->devfn, PCI_COMMAND, cmd);   /* status half 0: its RW1C bits stay */

    static const struct e1000h_io io = { reg_read, reg_write, delay_us, NULL };
    const struct e1000h_mem mem = { phys_to_virt(dma), dma };
    why = e1000h_start(&up.nic, f->device, &io, &mem);
    if (why) {
        pci_host_write32(f->bus, f->devfn, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
        pmm_free_contig(&host_pmm, dma, frames);
        kfree(backlog);
        kprintf("uplink: none (e1000 %s at %s: %s)\n", part, bdf, why);
        return;
    }
    up.sw = sw;
    up.wake = wake;
    up.now_ns = now_ns;
    up.backlog = backlog;
    up.port = vswitch_add_port(sw, "uplink", deliver, NULL, backlog);
    if (up.port == VSWITCH_NO_PORT) {
        e1000h_stop(&up.nic);
        pci_host_write32(f->bus, f->devfn, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
        pmm_free_contig(&host_pmm, dma, frames);
        kfree(backlog);
        kprintf("uplink: none (e1000 %s at %s: the switch has no free port)\n", part, bdf);
        return;
    }
    up.poll_tsc = tsc_hz / 1000 * POLL_MS;
    up.irq = f->irq_line;
    up.polled = !usable_line(f->irq_line, f->irq_pin);
    up.running = true;
    if (!up.polled) {
        irq_set_handler((uint8_t)(HOST_PIC_VECTOR_BASE + up.irq), on_irq);
        host_pic_unmask(up.irq);
    }
    const uint8_t *m = up.nic.mac;
    char irq[24];
    irq_mode(irq, sizeof(irq), false);
    kprintf("uplink: e1000 %s at %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, %s, link %s, switch port %d\n", part, bdf,
            m[0], m[1], m[2], m[3], m[4], m[5], irq, up.nic.link_up ? "up" : "down", up.port);
    up.pending = true;                  /* anything that arrived before the handler was in */
    wake();
}

void vm_uplink_print(void)
{
    if (!up.running)
        return;
    const struct vswitch_port_stats *st = &up.sw->port[up.port].st;
    const uint8_t *m = up.nic.mac;
    char mode[16];
    irq_mode(mode, sizeof(mode), true);
    kprintf("%-14s %-3s %-6s %02x:%02x:%02x:%02x:%02x:%02x %-7s %4d %9llu %11llu %9llu %11llu %6llu %6llu %6llu %6u\n",
            "uplink", "-", "e1000", m[0], m[1], m[2], m[3], m[4], m[5], mode, up.port,
            (unsigned long long)st->in_frames, (unsigned long long)st->in_bytes,
            (unsigned long long)st->out_frames, (unsigned long long)st->out_bytes,
            (unsigned long long)st->filtered, (unsigned long long)st->held,
            (unsigned long long)(st->drop_backlog + st->drop_nic + st->drop_size + st->drop_spoof + st->drop_reserved),
            vswitch_backlog(up.sw, up.port));
    const struct e1000h_stats *s = &up.nic.st;
    kprintf("    host e1000 %s: link %s, rx %llu frames %llu bytes, rx errors %llu, overruns %llu, "
            "tx %llu frames %llu bytes, tx ring full %llu, link-down drops %llu, interrupts %llu "
            "(not its own %llu), link changes %llu, services %llu\n",
            up.part, up.nic.link_up ? "up" : "down", (unsigned long long)s->rx_frames,
            (unsigned long long)s->rx_bytes, (unsigned long long)s->rx_errors, (unsigned long long)s->rx_overruns,
            (unsigned long long)s->tx_frames, (unsigned long long)s->tx_bytes, (unsigned long long)s->tx_ring_full,
            (unsigned long long)up.link_down_drops, (unsigned long long)s->irqs,
            (unsigned long long)s->unclaimed_irqs, (unsigned long long)s->link_changes,
            (unsigned long long)up.services);
    kprintf("    frames for the VMM itself: %llu\n", (unsigned long long)up.own_frames);
}

static bool probe_answered(void *arg)
{
    (void)arg;
    return probe.answered;
}

/* Asks the machine's network who has an IPv4 address, from the NIC's own address: whether the
 * uplink reaches anything at all, before a VM relies on it. */
static int cmd_uplink_arp(int argc, char **argv)
{
    uint8_t target[IPV4_ALEN], source[IPV4_ALEN] = { 0 };   /* 0.0.0.0: an RFC 5227 probe */
    if (argc < 2 || argc > 3 || !kparse_ipv4(argv[1], target) || (argc == 3 && !kparse_ipv4(argv[2], source))) {
        kprintf("usage: uplink-arp TARGET-IP [SOURCE-IP]\n");
        return -1;
    }
    if (!up.running) {
        kprintf("error: no uplink\n");
        return -1;
    }
    uint8_t f[ETH_HLEN + ARP_LEN];
    memset(f, 0xFF, ETH_ALEN);
    memcpy(f + ETH_ALEN, up.nic.mac, ETH_ALEN);
    put_be16(f + ETH_TYPE_OFF, ETH_TYPE_ARP);
    uint8_t *a = f + ETH_HLEN;
    put_be16(a, ARP_HTYPE_ETHER);
    put_be16(a + 2, ETH_TYPE_IPV4);
    a[ARP_HLEN_OFF] = ETH_ALEN;
    a[ARP_PLEN_OFF] = IPV4_ALEN;
    put_be16(a + ARP_OP_OFF, ARP_OP_REQUEST);
    memcpy(a + ARP_SHA_OFF, up.nic.mac, ETH_ALEN);
    memcpy(a + ARP_SPA_OFF, source, IPV4_ALEN);
    memset(a + ARP_THA_OFF, 0, ETH_ALEN);
    memcpy(a + ARP_TPA_OFF, target, IPV4_ALEN);
    probe.answered = false;
    memcpy(probe.ip, target, IPV4_ALEN);
    probe.active = true;
    uint64_t t0 = 0;
    unsigned tries = 0;
    while (!probe.answered && tries < PROBE_TRIES) {
        t0 = rdtsc();
        uint64_t deadline = t0 + tsc_hz / 1000 * PROBE_WAIT_MS;
        tries++;
        if (!e1000h_send(&up.nic, f, sizeof(f))) {
            probe.active = false;
            kprintf("error: the NIC's transmit ring is full\n");
            return -1;
        }
        while (!probe.answered && rdtsc() < deadline)
            sched_block(deadline, probe_answered, NULL);
    }
    probe.active = false;
    if (!probe.answered) {
        kprintf("uplink-arp: no answer from %u.%u.%u.%u to %u requests, %u ms apart\n", target[0], target[1],
                target[2], target[3], PROBE_TRIES, PROBE_WAIT_MS);
        return -1;
    }
    uint64_t us = (probe.answer_tsc - t0) / (tsc_hz / 1000000 ? tsc_hz / 1000000 : 1);
    const uint8_t *m = probe.mac;
    kprintf("uplink-arp: %u.%u.%u.%u is at %02x:%02x:%02x:%02x:%02x:%02x (%llu us after request %u)\n", target[0],
            target[1], target[2], target[3], m[0], m[1], m[2], m[3], m[4], m[5], (unsigned long long)us, tries);
    return 0;
}
SHELL_COMMAND(uplink_arp, "uplink-arp", "TARGET-IP [SOURCE-IP]",
              "ask the machine's network (through the uplink NIC) who has an IPv4 address", cmd_uplink_arp);
