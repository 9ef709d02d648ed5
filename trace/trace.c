/* The trace facility proper: the record buffer and the per-vCPU aggregates. It knows no vCPU,
 * VM or shell: the exit path hands it decoded exits, vm/vmstats.c shows what it holds. */
#include "trace.h"
#include "lib.h"
#include "arch/x86/cpu.h"

#define CALIBRATION_RUNS    1024
#define COST_SATURATE       0xFFFFFFFFull

struct trace_buf trace_cpu0;

const char *const trace_class_names[TRACE_EV_MAX] = {
    [TRACE_EV_EXIT] = "exit", [TRACE_EV_IO] = "io", [TRACE_EV_MSR] = "msr", [TRACE_EV_CR] = "cr",
    [TRACE_EV_PF] = "pf", [TRACE_EV_INJECT] = "inject", [TRACE_EV_SCHED] = "sched",
    [TRACE_EV_DEVICE] = "dev", [TRACE_EV_MMIO] = "mmio",
};

static inline void emit(struct trace_buf *t, const struct trace_rec *r)
{
    if (t->count == t->cap) {
        t->lost++;
        return;
    }
    t->recs[t->count++] = *r;
}

/* The cost of tracing itself: emitting into the ring, timed over many records (the minimum of
 * batches, since interference only adds). Reported in the dump header so the parser can
 * subtract it from per-exit costs. */
static void calibrate(struct trace_buf *t)
{
    struct trace_rec r = { 0 };
    uint64_t best = UINT64_MAX;
    uint32_t saved = t->count;
    uint64_t saved_lost = t->lost;      /* a buffer smaller than a batch fills: not a loss */
    for (int batch = 0; batch < 4; batch++) {
        t->count = 0;
        uint64_t t0 = rdtsc();
        for (int i = 0; i < CALIBRATION_RUNS; i++) {
            r.tsc = t0;
            r.qual = (uint64_t)i;
            emit(t, &r);
        }
        uint64_t per = (rdtsc() - t0) / CALIBRATION_RUNS;
        if (per < best)
            best = per;
    }
    t->count = saved;
    t->lost = saved_lost;
    t->overhead = best;
}

void trace_init(struct trace_rec *recs, uint32_t cap)
{
    struct trace_buf *t = &trace_cpu0;
    if (!recs) {
        kprintf("trace: no memory for the trace buffer: tracing disabled (aggregates still on)\n");
        return;
    }
    t->recs = recs;
    t->cap = cap;
    calibrate(t);
    kprintf("trace: %u-record buffer, %llu cycles per record (self-calibrated)\n", t->cap,
            (unsigned long long)t->overhead);
}

void trace_exit_begin(struct trace_vcpu *t, const struct trace_exit *e)
{
    t->exit = *e;
    t->exit.valid = true;
}

static void port_add(struct trace_vcpu *t, uint16_t port, bool in, uint64_t cycles)
{
    unsigned h = (port * 2u + in) % PORT_STATS_SLOTS;
    for (unsigned i = 0; i < PORT_STATS_SLOTS; i++, h = (h + 1) % PORT_STATS_SLOTS) {
        struct port_stat *p = &t->ports[h];
        if (!p->used)
            *p = (struct port_stat){ .used = true, .in = in, .port = port };
        else if (p->port != port || p->in != in)
            continue;
        cost_stat_add(&p->s, cycles);
        return;
    }
    t->ports_dropped++;
}

void trace_exit_end(struct trace_vcpu *t, uint64_t entry_tsc)
{
    struct trace_exit *e = &t->exit;
    if (!e->valid)
        return;
    e->valid = false;
    uint64_t cost = entry_tsc - e->tsc - e->away;
    cost_stat_add(&t->reasons[e->reason < TRACE_REASONS ? e->reason : 0], cost);
    if (e->event == TRACE_EV_IO)
        port_add(t, (uint16_t)e->info, e->flags & TRACE_F_IN, cost);
    if (e->flags & TRACE_F_MMIO)
        cost_stat_add(&t->mmio, cost);
    struct trace_buf *b = &trace_cpu0;
    if (b->classes & TRACE_CLASS(e->event)) {
        struct trace_rec r = {
            .tsc = e->tsc, .event = e->event, .vm = t->vm, .vcpu = t->vcpu,
            .reason = e->reason, .flags = e->flags, .info = e->info,
            .cost = (uint32_t)(cost > COST_SATURATE ? COST_SATURATE : cost), .qual = e->qual,
        };
        emit(b, &r);
    }
}

void trace_inject(const struct trace_vcpu *t, uint8_t vector, uint8_t type)
{
    struct trace_buf *b = &trace_cpu0;
    if (!(b->classes & TRACE_CLASS(TRACE_EV_INJECT)))
        return;
    struct trace_rec r = { .tsc = rdtsc(), .event = TRACE_EV_INJECT, .vm = t->vm, .vcpu = t->vcpu,
                           .reason = type, .info = vector };
    emit(b, &r);
}

void trace_vcpu_reset(struct trace_vcpu *t)
{
    memset(t->reasons, 0, sizeof(t->reasons));
    memset(&t->mmio, 0, sizeof(t->mmio));
    memset(t->ports, 0, sizeof(t->ports));
    t->ports_dropped = 0;
}
