/* What the shell shows of the trace facility and of each VM's exit aggregates: `trace` drives
 * the record buffer and dumps it framed for scripts/mvtrace, `exits` and `ports` print the cost
 * tables, `stats reset` clears them. The one place that knows both the VMs and the facility. */
#include "vm.h"
#include "lib.h"
#include "trace/trace.h"
#include "kernel/shell.h"
#include "kernel/console.h"
#include "kernel/version.h"
#include "arch/x86/cpuinfo.h"
#include "arch/x86/serial.h"
#include "arch/x86/tsc.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/vmx_caps.h"
#include "arch/x86/vmx/mmu.h"

/* ---- dump ---- */

struct dump_out {
    struct serial_port *port;           /* NULL: the console */
};

static void out_str(struct dump_out *o, const char *s)
{
    for (; *s; s++) {
        if (o->port) {
            if (*s == '\n')
                serial_putc(o->port, '\r');
            serial_putc(o->port, *s);
        } else {
            console_putc(*s);
        }
    }
}

static void outf(struct dump_out *o, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void outf(struct dump_out *o, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    out_str(o, line);
}

/* Header values may not contain spaces: the CPU brand's spaces become '_'. */
static void no_spaces(char *s)
{
    for (; *s; s++)
        if (*s == ' ')
            *s = '_';
}

static void dump(struct dump_out *o)
{
    struct trace_buf *t = &trace_cpu0;
    char cpu[64], vmlist[256] = "";
    ksnprintf(cpu, sizeof(cpu), "%s", boot_cpu.brand[0] ? boot_cpu.brand : boot_cpu.vendor);
    no_spaces(cpu);
    size_t n = 0;
    for (size_t i = 0; i < nvms && n < sizeof(vmlist); i++)
        n += (size_t)ksnprintf(vmlist + n, sizeof(vmlist) - n, "%s%d:%s:%llu", i ? "," : "", vms[i]->id,
                               vms[i]->cfg.name, (unsigned long long)(vms[i]->cfg.mem >> 20));
    const struct vmx_caps *c = &host_vmx_caps;
    char feats[64];
    ksnprintf(feats, sizeof(feats), "%s%s%s%s", c->ept ? "ept," : "", c->vpid ? "vpid," : "",
              c->unrestricted_guest ? "ug," : "", c->preemption_timer ? "preempt," : "");
    if (feats[0])
        feats[strlen(feats) - 1] = '\0';
    outf(o, "MVTRACE BEGIN v=%d tsc_hz=%llu cpu=%s vmx_rev=%#x vmx=%s mmu=shadow build=%s overhead=%llu records=%u "
         "lost=%llu vms=%s\n",
         TRACE_FORMAT_VERSION, (unsigned long long)tsc_hz, cpu, c->revision, feats[0] ? feats : "-", build_id_string(),
         (unsigned long long)t->overhead, t->count, (unsigned long long)t->lost, vmlist[0] ? vmlist : "-");
    uint32_t lines = 0;
    for (uint32_t i = 0; i < t->count; i += TRACE_DUMP_RECS_PER_LINE, lines++) {
        uint32_t nrec = MIN(TRACE_DUMP_RECS_PER_LINE, t->count - i);
        size_t bytes = nrec * sizeof(struct trace_rec);
        char b64[TRACE_DUMP_RECS_PER_LINE * TRACE_RECORD_SIZE / 3 * 4 + 8];
        base64_encode(&t->recs[i], bytes, b64, sizeof(b64));
        outf(o, "MVT %u %s %08x\n", lines, b64, crc32_update(0, &t->recs[i], bytes));
    }
    outf(o, "MVTRACE END lines=%u records=%u lost=%llu\n", lines, t->count, (unsigned long long)t->lost);
}

/* ---- shell ---- */

static bool parse_classes(int argc, char **argv, uint32_t *mask)
{
    *mask = argc <= 2 ? TRACE_CLASS_ALL : 0;
    for (int a = 2; a < argc; a++) {
        /* Classes may be given as separate words or comma-separated. */
        char *w = argv[a];
        while (*w) {
            char *comma = strchr(w, ',');
            size_t len = comma ? (size_t)(comma - w) : strlen(w);
            bool found = len == 3 && !strncmp(w, "all", 3);
            if (found)
                *mask |= TRACE_CLASS_ALL;
            for (unsigned ev = 1; ev < TRACE_EV_MAX && !found; ev++) {
                if (strlen(trace_class_names[ev]) == len && !strncmp(w, trace_class_names[ev], len)) {
                    *mask |= TRACE_CLASS(ev);
                    found = true;
                }
            }
            if (!found && len) {
                kprintf("error: unknown trace class '%.*s'\n", (int)len, w);
                return false;
            }
            w += len + (comma ? 1 : 0);
        }
    }
    return true;
}

static void print_status(void)
{
    struct trace_buf *t = &trace_cpu0;
    kprintf("trace: %s, classes:", t->classes ? "on" : "off");
    for (unsigned ev = 1; ev < TRACE_EV_MAX; ev++)
        if (t->classes & TRACE_CLASS(ev))
            kprintf(" %s", trace_class_names[ev]);
    kprintf("; %u of %u records used, %llu lost, %llu cycles/record overhead\n", t->count, t->cap,
            (unsigned long long)t->lost, (unsigned long long)t->overhead);
}

static int cmd_trace(int argc, char **argv)
{
    struct trace_buf *t = &trace_cpu0;
    const char *sub = argc > 1 ? argv[1] : "status";
    if (!t->recs && strcmp(sub, "status")) {
        kprintf("error: tracing unavailable (no buffer)\n");
        return -1;
    }
    if (!strcmp(sub, "start")) {
        uint32_t mask;
        if (!parse_classes(argc, argv, &mask))
            return -1;
        t->classes = mask;
        print_status();
    } else if (!strcmp(sub, "stop")) {
        t->classes = 0;
        print_status();
    } else if (!strcmp(sub, "clear")) {
        t->count = 0;
        t->lost = 0;
        print_status();
    } else if (!strcmp(sub, "dump")) {
        struct dump_out o = { NULL };
        if (argc > 2 && !strcmp(argv[2], "com2")) {
            if (!com2.present) {
                kprintf("error: no COM2\n");
                return -1;
            }
            o.port = &com2;
        }
        dump(&o);
        if (o.port)
            kprintf("trace: %u records dumped to COM2\n", t->count);
        t->count = 0;                   /* a dump drains the buffer */
        t->lost = 0;
    } else if (!strcmp(sub, "status")) {
        print_status();
    } else {
        kprintf("usage: trace start [CLASSES]|stop|clear|dump [com2]|status\n"
                "classes: all exit io msr cr pf inject sched dev mmio\n");
        return -1;
    }
    return 0;
}
SHELL_COMMAND(trace, "trace", "start [CLASSES]|stop|clear|dump [com2]", "VM-exit trace buffer", cmd_trace);

static struct vm *vm_arg(int argc, char **argv, int *err)
{
    *err = 0;
    if (argc < 2)
        return NULL;                    /* all VMs */
    struct vm *vm = vm_find(argv[1]);
    if (!vm) {
        kprintf("error: no VM named '%s'\n", argv[1]);
        *err = 1;
    }
    return vm;
}

static void add_stat(struct cost_stat *into, const struct cost_stat *s)
{
    if (!s->count)
        return;
    if (!into->count || s->min < into->min)
        into->min = s->min;
    if (s->max > into->max)
        into->max = s->max;
    into->count += s->count;
    into->total += s->total;
    for (unsigned b = 0; b < COST_HIST_BUCKETS; b++)
        into->hist[b] += s->hist[b];
}

static void print_stat_row(const char *name, const struct cost_stat *s, uint64_t all_count, uint64_t all_cycles)
{
    kprintf("%-22s %10llu %5llu.%01llu%% %5llu.%01llu%% %10llu %10llu %10llu %10llu %10llu\n", name,
            (unsigned long long)s->count,
            (unsigned long long)(s->count * 1000 / all_count / 10), (unsigned long long)(s->count * 1000 / all_count % 10),
            (unsigned long long)(s->total * 1000 / all_cycles / 10), (unsigned long long)(s->total * 1000 / all_cycles % 10),
            (unsigned long long)(s->total / s->count), (unsigned long long)s->min,
            (unsigned long long)cost_stat_percentile(s, 50), (unsigned long long)cost_stat_percentile(s, 95),
            (unsigned long long)s->max);
}

static int cmd_exits(int argc, char **argv)
{
    int err;
    struct vm *only = vm_arg(argc, argv, &err);
    if (err)
        return -1;
    static struct cost_stat sum[EXIT_REASON_MAX];
    memset(sum, 0, sizeof(sum));
    uint64_t all_count = 0, all_cycles = 0;
    for (size_t i = 0; i < nvms; i++) {
        if (only && vms[i] != only)
            continue;
        for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
            add_stat(&sum[r], &vms[i]->vcpu.tr.reasons[r]);
    }
    for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
        all_count += sum[r].count;
        all_cycles += sum[r].total;
    }
    kprintf("exits of %s: %llu exits, %llu cycles in the VMM (exit stub to next entry)\n",
            only ? only->cfg.name : "all VMs", (unsigned long long)all_count, (unsigned long long)all_cycles);
    if (!all_count)
        return 0;
    kprintf("%-22s %10s %7s %7s %10s %10s %10s %10s %10s\n", "reason", "count", "count%", "cycles%",
            "avg", "min", "p50<=", "p95<=", "max");
    static struct cost_stat mmio;
    memset(&mmio, 0, sizeof(mmio));
    for (size_t i = 0; i < nvms; i++)
        if (!only || vms[i] == only)
            add_stat(&mmio, &vms[i]->vcpu.tr.mmio);
    for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
        if (sum[r].count)
            print_stat_row(vmx_exit_reason_name(r), &sum[r], all_count, all_cycles ? all_cycles : 1);
        if (r == EXIT_REASON_EXCEPTION_NMI && mmio.count)   /* the part of those that was MMIO */
            print_stat_row("  of which MMIO", &mmio, all_count, all_cycles ? all_cycles : 1);
    }
    if (only) {
        const struct vcpu *v = &only->vcpu;
        kprintf("shadow MMU: %llu fills (%llu of a whole large-page window, %llu of them one 2 MiB entry), "
                "%llu flushes, %llu PCID switches (%llu without flush), %llu #PF reflected to the guest, "
                "%zu table pages\n",
                (unsigned long long)v->shadow_faults, (unsigned long long)(v->shadow_prefills + v->shadow_large),
                (unsigned long long)v->shadow_large,
                (unsigned long long)v->shadow_flushes, (unsigned long long)v->pcid_switches,
                (unsigned long long)v->pcid_kept, (unsigned long long)v->guest_pf_injected,
                mmu_table_pages(v));
        const struct pc_platform *p = &only->plat;
        kprintf("PIT IRQ0: %llu edges raised, %llu late (several edges merged), %llu onto a request "
                "still in IRR; %llu IRQ0 acknowledged; %llu timer catch-ups\n",
                (unsigned long long)p->pit.out0_edges, (unsigned long long)p->pit.out0_late,
                (unsigned long long)p->irq.merged[PC_IRQ_PIT], (unsigned long long)p->pic.acks[0],
                (unsigned long long)p->timers.updates);
        const struct lapic *l = &p->lapic;
        kprintf("LAPIC: %llu interrupts accepted, %llu EOIs, %llu timer interrupts (%llu periods "
                "stretched to 200 us), %llu self-IPIs, %llu bad register accesses; I/O APIC: %llu "
                "messages delivered, %llu EOIs; %llu MMIO instructions emulated\n",
                (unsigned long long)l->accepted, (unsigned long long)l->eoi,
                (unsigned long long)l->timer_fired, (unsigned long long)l->timer_clamped,
                (unsigned long long)l->ipi_self, (unsigned long long)l->unknown,
                (unsigned long long)p->irq.msgs_delivered, (unsigned long long)p->ioapic.eois,
                (unsigned long long)v->mmio_exits);
    }
    return 0;
}
SHELL_COMMAND(exits, "exits", "[VM]", "per-exit-reason cost table (always on)", cmd_exits);

static int cmd_ports(int argc, char **argv)
{
    int err;
    struct vm *only = vm_arg(argc, argv, &err);
    if (err)
        return -1;
    for (size_t i = 0; i < nvms; i++) {
        struct vm *vm = vms[i];
        if (only && vm != only)
            continue;
        const struct vcpu *v = &vm->vcpu;
        uint64_t all_count = 0, all_cycles = 0;
        for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
            all_count += v->tr.reasons[r].count;
            all_cycles += v->tr.reasons[r].total;
        }
        kprintf("ports of %s (%% of all its exits and exit cycles):\n", vm->cfg.name);
        if (!all_count)
            continue;
        kprintf("%-22s %10s %7s %7s %10s %10s %10s %10s %10s\n", "port dir owner", "count", "count%",
                "cycles%", "avg", "min", "p50<=", "p95<=", "max");
        for (unsigned s = 0; s < PORT_STATS_SLOTS; s++) {
            const struct port_stat *p = &v->tr.ports[s];
            if (!p->used)
                continue;
            char name[32];
            ksnprintf(name, sizeof(name), "%#06x %-3s %s", p->port, p->in ? "in" : "out",
                      ioport_owner_name(&vm->plat.io, p->port));
            print_stat_row(name, &p->s, all_count, all_cycles ? all_cycles : 1);
        }
        if (v->tr.ports_dropped)
            kprintf("(%llu exits on further ports not tabulated)\n", (unsigned long long)v->tr.ports_dropped);
    }
    return 0;
}
SHELL_COMMAND(ports, "ports", "[VM]", "per-I/O-port cost table (always on)", cmd_ports);

static int cmd_stats(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "reset")) {
        kprintf("usage: stats reset [VM]\n");
        return -1;
    }
    int err;
    struct vm *only = vm_arg(argc - 1, argv + 1, &err);
    if (err)
        return -1;
    for (size_t i = 0; i < nvms; i++) {
        if (only && vms[i] != only)
            continue;
        trace_vcpu_reset(&vms[i]->vcpu.tr);
    }
    kprintf("statistics reset\n");
    return 0;
}
SHELL_COMMAND(stats, "stats", "reset [VM]", "clear the exit and port aggregates", cmd_stats);
