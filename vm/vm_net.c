/* The VMs' network: every NIC is a port of the VMM's one switch (net/vswitch.c). A NIC moves
 * frames in one of two ways, chosen per NIC (nic=MODEL:MODE):
 *   event   inside the exit that queued them: the sender's TDT write (or queue notify) sends
 *           its frames through the switch straight into the receivers' rings, interrupts
 *           raised, so a halted receiver wakes at the next scheduler pass; a receiver with no
 *           free buffer gets the frame when it next gives buffers (its RDT write). The seed
 *           paper's event-driven device model.
 *   pollN   the net thread, a VMM thread, every N ms: it sends what the NIC queued since the
 *           last poll and hands it what arrived meanwhile (held by its switch port). The
 *           seed's polled model (QEMU's 100 ms timer, or 5 ms).
 * The shell shows the ports and their counters (`net`), the address table (`net fdb`), and
 * changes a NIC's mode while it runs (`net-mode`). */
#include "vm.h"
#include "lib.h"
#include "kernel/shell.h"
#include "sched/sched.h"
#include "mm/heap.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "dev/timer_registry.h"
#include "vm_uplink.h"

/* Descriptors one kick sends at most inside the exit; more wait for the net thread, so a
 * guest that keeps refilling its ring cannot hold the CPU. */
#define NET_TX_BUDGET       256
/* Per poll: a few rings' worth, then the next poll. */
#define NET_POLL_BUDGET     (4 * NET_TX_BUDGET)
#define NS_PER_S            1000000000u

static struct vswitch vsw;
static bool vsw_ready;
static struct thread *net_thread;

static struct vswitch *sw(void)
{
    if (!vsw_ready) {
        vswitch_init(&vsw);
        vsw_ready = true;
    }
    return &vsw;
}

static uint64_t now_ns(void) { return time_to_ticks(rdtsc(), NS_PER_S, tsc_hz); }

static uint64_t ms_to_tsc(unsigned ms) { return tsc_hz / 1000 * ms; }

bool vm_net_create(struct vm *vm, char *err, size_t errlen)
{
    for (unsigned i = 0; i < VM_NICS; i++) {
        struct vm_nic *n = &vm->nics[i];
        *n = (struct vm_nic){ .vm = vm, .index = i, .port = VSWITCH_NO_PORT };
        if (i >= vm->cfg.nnics)
            continue;
        n->present = true;
        n->poll_ms = vm->cfg.nic[i].poll_ms;
        /* A locally administered unicast address (IEEE 802 bit 1 of the first octet): 02, then
         * "MV", then the VM and the NIC, so a test can tell from the address who is who. */
        const uint8_t mac[ETH_ALEN] = { 0x02, 0x4D, 0x56, 0x00, (uint8_t)vm->id, (uint8_t)i };
        memcpy(n->mac, mac, ETH_ALEN);
        n->backlog = kzalloc(sizeof(struct vswitch_frame) * VSWITCH_BACKLOG);
        if (!n->backlog) {
            vm_net_free(vm);
            ksnprintf(err, errlen, "out of memory for NIC %u's switch port", i);
            return false;
        }
    }
    return true;
}

void vm_net_free(struct vm *vm)
{
    for (unsigned i = 0; i < VM_NICS; i++) {
        kfree(vm->nics[i].backlog);
        vm->nics[i].backlog = NULL;
    }
}

static enum nic_rx_result deliver(void *ctx, const uint8_t *frame, size_t len)
{
    struct vm_nic *n = ctx;
    if (n->vm->state != VM_RUNNING)
        return NIC_RX_DROPPED;
    return pc_nic_receive(&n->vm->plat, n->index, frame, len);
}

/* A frame for the NIC fell off its full port backlog: the NIC counts a missed packet. */
static void lost(void *ctx)
{
    struct vm_nic *n = ctx;
    if (n->vm->state == VM_RUNNING)
        pc_nic_missed(&n->vm->plat, n->index);
}

static void wake_net_thread(void);

static void set_mode(struct vm_nic *n, uint16_t poll_ms)
{
    n->poll_ms = poll_ms;
    n->next_poll_tsc = rdtsc() + ms_to_tsc(poll_ms);
    vswitch_set_hold(sw(), n->port, poll_ms != 0);
    if (!poll_ms)
        vswitch_flush(sw(), n->port);   /* what a poll would have delivered goes now */
    wake_net_thread();
}

bool vm_net_attach(struct vm *vm, char *err, size_t errlen)
{
    static const enum pc_nic_model model_of[] = { [VM_NIC_NONE] = PC_NIC_NONE, [VM_NIC_E1000] = PC_NIC_E1000,
                                                  [VM_NIC_VIRTIO] = PC_NIC_VIRTIO };
    struct pc_nic_config pc[PC_NICS] = { 0 };
    STATIC_ASSERT(VM_NICS == PC_NICS, "the platform has a place for every NIC");
    vm_net_detach(vm);
    for (unsigned i = 0; i < VM_NICS; i++) {
        struct vm_nic *n = &vm->nics[i];
        if (!n->present)
            continue;
        pc[i].model = model_of[vm->cfg.nic[i].model];
        memcpy(pc[i].mac, n->mac, ETH_ALEN);
    }
    if (!pc_nics_attach(&vm->plat, pc, err, errlen))
        return false;
    for (unsigned i = 0; i < VM_NICS; i++) {
        struct vm_nic *n = &vm->nics[i];
        if (!n->present)
            continue;
        char name[VSWITCH_PORT_NAME];
        ksnprintf(name, sizeof(name), "%s.%u", vm->cfg.name, i);
        n->port = vswitch_add_port(sw(), name, deliver, n, n->backlog);
        if (n->port == VSWITCH_NO_PORT) {
            ksnprintf(err, errlen, "the switch has no free port for NIC %u (%d ports)", i, VSWITCH_MAX_PORTS);
            vm_net_detach(vm);
            return false;
        }
        vswitch_lock_port(sw(), n->port, n->mac);
        vswitch_on_lost(sw(), n->port, lost);
        n->more_tx = false;
        set_mode(n, n->poll_ms);
    }
    return true;
}

void vm_net_detach(struct vm *vm)
{
    for (unsigned i = 0; i < VM_NICS; i++) {
        struct vm_nic *n = &vm->nics[i];
        if (n->port != VSWITCH_NO_PORT) {
            n->last = sw()->port[n->port].st;
            vswitch_remove_port(sw(), n->port);
        }
        n->port = VSWITCH_NO_PORT;
    }
}

static struct vm_nic *nic_of(void *ctx, unsigned i)
{
    struct vm *vm = ctx;
    return i < VM_NICS && vm->nics[i].present && vm->nics[i].port != VSWITCH_NO_PORT ? &vm->nics[i] : NULL;
}

void vm_nic_tx_frame(void *ctx, unsigned i, const uint8_t *frame, size_t len)
{
    struct vm_nic *n = nic_of(ctx, i);
    if (n)
        vswitch_input(sw(), n->port, frame, len, now_ns());
}

void vm_nic_tx_kick(void *ctx, unsigned i)
{
    struct vm_nic *n = nic_of(ctx, i);
    if (!n)
        return;
    n->tx_kicks++;
    if (n->poll_ms)
        return;                         /* the next poll sends it */
    n->tx_exits_frames += pc_nic_tx_process(&n->vm->plat, i, NET_TX_BUDGET);
    if (pc_nic_tx_pending(&n->vm->plat, i)) {
        n->more_tx = true;
        wake_net_thread();
    }
}

void vm_nic_rx_kick(void *ctx, unsigned i)
{
    struct vm_nic *n = nic_of(ctx, i);
    if (n && !n->poll_ms)
        vswitch_flush(sw(), n->port);
}

/* ---- the net thread: polled NICs, and event-driven sends left over a kick's budget ---- */

static bool uplink_more;                /* more arrived than one service moved */

static bool any_more(void *unused)
{
    if (uplink_more || vm_uplink_pending(rdtsc()))
        return true;
    for (size_t v = 0; v < nvms; v++)
        for (unsigned i = 0; i < VM_NICS; i++)
            if (vms[v]->nics[i].more_tx)
                return true;
    return false;
}

static void net_thread_main(void *unused)
{
    for (;;) {
        uint64_t now = rdtsc(), next = vm_uplink_next_poll();
        uplink_more = (uplink_more || vm_uplink_pending(now)) && vm_uplink_service();
        for (size_t v = 0; v < nvms; v++) {
            struct vm *vm = vms[v];
            for (unsigned i = 0; i < VM_NICS; i++) {
                struct vm_nic *n = &vm->nics[i];
                if (vm->state != VM_RUNNING || n->port == VSWITCH_NO_PORT) {
                    n->more_tx = false;
                    continue;
                }
                if (n->more_tx) {
                    n->more_tx = false;
                    pc_nic_tx_process(&vm->plat, i, NET_TX_BUDGET);
                    if (pc_nic_tx_pending(&vm->plat, i) && !n->poll_ms)
                        n->more_tx = true;
                }
                if (!n->poll_ms)
                    continue;
                if (now >= n->next_poll_tsc) {
                    n->polls++;
                    pc_nic_tx_process(&vm->plat, i, NET_POLL_BUDGET);
                    vswitch_flush(sw(), n->port);
                    /* On the period's grid; a poll that came late does not make the next early. */
                    n->next_poll_tsc += ms_to_tsc(n->poll_ms);
                    if (n->next_poll_tsc <= now)
                        n->next_poll_tsc = now + ms_to_tsc(n->poll_ms);
                }
                next = MIN(next, n->next_poll_tsc);
            }
        }
        if (any_more(NULL))
            sched_yield();              /* more to send at once: let the vCPUs run first */
        else
            sched_block(next, any_more, NULL);
    }
}

static void wake_net_thread(void)
{
    if (!net_thread)
        net_thread = thread_create("net", THREAD_VMM, net_thread_main, NULL);
    if (net_thread)
        sched_wake(net_thread, rdtsc());
}

void vm_net_init(void)
{
    vm_uplink_init(sw(), wake_net_thread, now_ns);
}

/* ---- shell ---- */

static const char *mode_name(const struct vm_nic *n, char *buf, size_t len)
{
    if (!n->poll_ms)
        return "event";
    ksnprintf(buf, len, "poll%u", n->poll_ms);
    return buf;
}

static void print_mac(const uint8_t *m)
{
    kprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void print_nic_counters(struct vm *vm, unsigned i)
{
    const struct pc_nic *pn = &vm->plat.nic[i];
    if (pn->model == PC_NIC_E1000) {
        const struct e1000 *e = &pn->u.e1000;
        kprintf("    e1000: tx %llu frames %llu bytes, rx %llu frames %llu bytes, tx dma errors %llu, "
                "bad descriptors %llu, oversize %llu, rx dma errors %llu, rx too long %llu, interrupts %llu, "
                "bad accesses %llu\n",
                (unsigned long long)e->tx_frames, (unsigned long long)e->tx_bytes,
                (unsigned long long)e->rx_frames, (unsigned long long)e->rx_bytes,
                (unsigned long long)e->tx_dma_errors, (unsigned long long)e->tx_bad_desc,
                (unsigned long long)e->tx_oversize, (unsigned long long)e->rx_dma_errors,
                (unsigned long long)e->rx_too_long, (unsigned long long)e->interrupts,
                (unsigned long long)e->bad_accesses);
    } else if (pn->model == PC_NIC_VIRTIO) {
        const struct virtio_net *v = &pn->u.vnet;
        kprintf("    virtio-net: tx %llu frames %llu bytes, rx %llu frames %llu bytes, tx bad %llu, "
                "tx dma errors %llu, rx buffer too small %llu, rx bad %llu, interrupts %llu, "
                "ring errors %llu/%llu\n",
                (unsigned long long)v->tx_frames, (unsigned long long)v->tx_bytes,
                (unsigned long long)v->rx_frames, (unsigned long long)v->rx_bytes,
                (unsigned long long)v->tx_bad, (unsigned long long)v->tx_dma_errors,
                (unsigned long long)v->rx_too_small, (unsigned long long)v->rx_bad,
                (unsigned long long)v->vp.interrupts, (unsigned long long)v->vq[VIRTIO_NET_RXQ].ring_errors,
                (unsigned long long)v->vq[VIRTIO_NET_TXQ].ring_errors);
    }
    if (pn->bar_conflicts)
        kprintf("    BARs placed over another device: %llu\n", (unsigned long long)pn->bar_conflicts);
}

static void cmd_net_fdb(void)
{
    uint64_t now = now_ns();
    const struct vswitch *s = sw();
    kprintf("%-17s %-16s %8s\n", "address", "port", "age s");
    for (unsigned i = 0; i < VSWITCH_FDB_SIZE; i++) {
        const struct vswitch_fdb_entry *e = &s->fdb[i];
        if (e->port == VSWITCH_NO_PORT || vswitch_lookup(s, e->mac, now) != e->port)
            continue;
        print_mac(e->mac);
        kprintf(" %-16s %8llu\n", s->port[e->port].name, (unsigned long long)((now - e->seen_ns) / NS_PER_S));
    }
    kprintf("learned %llu, moved %llu, evicted %llu\n", (unsigned long long)s->learned,
            (unsigned long long)s->moved, (unsigned long long)s->evicted);
}

static int cmd_net(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "fdb")) {
        cmd_net_fdb();
        return 0;
    }
    if (argc > 2) {
        kprintf("usage: net [NAME|uplink|fdb]\n");
        return -1;
    }
    kprintf("%-14s %-3s %-6s %-17s %-7s %4s %9s %11s %9s %11s %6s %6s %6s %6s\n", "vm", "nic", "model", "mac",
            "mode", "port", "in", "in bytes", "out", "out bytes", "filt", "held", "drop", "bklog");
    for (size_t v = 0; v < nvms; v++) {
        struct vm *vm = vms[v];
        if (argc == 2 && strcmp(argv[1], vm->cfg.name))
            continue;
        for (unsigned i = 0; i < VM_NICS; i++) {
            struct vm_nic *n = &vm->nics[i];
            if (!n->present)
                continue;
            char mb[12];
            kprintf("%-14s %-3u %-6s ", vm->cfg.name, i, vm_nic_model_name(vm->cfg.nic[i].model));
            print_mac(n->mac);
            bool on = n->port != VSWITCH_NO_PORT;
            const struct vswitch_port_stats *st = on ? &sw()->port[n->port].st : &n->last;
            char pb[8] = "-";
            if (on)
                ksnprintf(pb, sizeof(pb), "%d", n->port);
            kprintf(" %-7s %4s %9llu %11llu %9llu %11llu %6llu %6llu %6llu %6u\n", mode_name(n, mb, sizeof(mb)),
                    pb, (unsigned long long)st->in_frames, (unsigned long long)st->in_bytes,
                    (unsigned long long)st->out_frames, (unsigned long long)st->out_bytes,
                    (unsigned long long)st->filtered, (unsigned long long)st->held,
                    (unsigned long long)(st->drop_backlog + st->drop_nic + st->drop_size + st->drop_spoof +
                                         st->drop_reserved),
                    on ? vswitch_backlog(sw(), n->port) : 0);
            uint64_t refused = st->drop_size + st->drop_spoof + st->drop_reserved;
            if (st->drop_backlog + st->drop_nic + refused)
                kprintf("    drops: backlog full %llu, NIC lost %llu; refused from it: bad size %llu, "
                        "not its address %llu, reserved group %llu\n",
                        (unsigned long long)st->drop_backlog, (unsigned long long)st->drop_nic,
                        (unsigned long long)st->drop_size, (unsigned long long)st->drop_spoof,
                        (unsigned long long)st->drop_reserved);
            kprintf("    kicks %llu, polls %llu, flooded %llu\n", (unsigned long long)n->tx_kicks,
                    (unsigned long long)n->polls, (unsigned long long)st->flooded);
            print_nic_counters(vm, i);
        }
    }
    if (argc == 1 || !strcmp(argv[1], "uplink"))
        vm_uplink_print();
    return 0;
}
SHELL_COMMAND(net, "net", "[NAME|uplink|fdb]",
              "the switch: each NIC's port (- once the VM stopped: its last counters), mode and counters, the "
              "machine's own NIC (uplink), or the address table",
              cmd_net);

static int cmd_net_mode(int argc, char **argv)
{
    struct vm *vm = argc == 4 ? vm_find(argv[1]) : NULL;
    uint64_t idx = 0;
    struct vm_nic_config parsed;
    char spec[24];
    if (!vm || !kparse_u64(argv[2], &idx) || idx >= VM_NICS || !vm->nics[idx].present) {
        kprintf("usage: net-mode NAME NIC event|pollN   (NIC: 0-%d, a NIC the VM has)\n", VM_NICS - 1);
        return -1;
    }
    /* The mode is the part of a nic= word after the model: reuse its parser. */
    ksnprintf(spec, sizeof(spec), "nic=%s:%s", vm_nic_model_name(vm->cfg.nic[idx].model), argv[3]);
    if (!vmconfig_parse_nic(spec + 4, &parsed)) {
        kprintf("error: mode '%s' is not event or poll1-poll%d\n", argv[3], VM_NIC_POLL_MAX_MS);
        return -1;
    }
    struct vm_nic *n = &vm->nics[idx];
    vm->cfg.nic[idx].poll_ms = parsed.poll_ms;      /* kept across vm start */
    if (n->port != VSWITCH_NO_PORT)
        set_mode(n, parsed.poll_ms);
    else
        n->poll_ms = parsed.poll_ms;
    char mb[12];
    kprintf("vm %s nic %u: %s\n", vm->cfg.name, (unsigned)idx, mode_name(n, mb, sizeof(mb)));
    return 0;
}
SHELL_COMMAND(net_mode, "net-mode", "NAME NIC event|pollN", "a NIC moves frames in its exits or every N ms",
              cmd_net_mode);
