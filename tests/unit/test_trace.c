/* The trace facility without a VMM: exit costs into the per-reason, per-port and MMIO
 * aggregates (cost = entry - exit - time yielded away), records only for enabled classes,
 * a full buffer counting losses instead of overwriting, the port table's overflow counter,
 * injection records, and the reset. */
#include "test.h"
#include "trace/trace.h"

static struct trace_rec recs[8];

static void setup(uint32_t classes)
{
    memset(&trace_cpu0, 0, sizeof(trace_cpu0));
    trace_init(recs, 8);
    trace_cpu0.classes = classes;
}

static void one_exit(struct trace_vcpu *t, struct trace_exit e, uint64_t entry)
{
    trace_exit_begin(t, &e);
    trace_exit_end(t, entry);
}

TEST(trace_costs_go_to_reason_port_and_mmio_aggregates)
{
    static struct trace_vcpu t;
    memset(&t, 0, sizeof(t));
    setup(0);
    CHECK(trace_cpu0.overhead > 0);     /* calibrated: emitting a record costs something */
    CHECK_EQ(trace_cpu0.count, 0);      /* calibration leaves the buffer empty */
    one_exit(&t, (struct trace_exit){ .event = TRACE_EV_IO, .reason = 30, .info = 0x3f8, .tsc = 1000 }, 1800);
    one_exit(&t, (struct trace_exit){ .event = TRACE_EV_IO, .reason = 30, .info = 0x3f8, .tsc = 5000,
                                      .away = 300 }, 5500);
    one_exit(&t, (struct trace_exit){ .event = TRACE_EV_IO, .reason = 30, .info = 0x3fd, .flags = TRACE_F_IN,
                                      .tsc = 9000 }, 9100);
    one_exit(&t, (struct trace_exit){ .event = TRACE_EV_PF, .reason = 0, .flags = TRACE_F_MMIO, .tsc = 100 }, 6100);
    one_exit(&t, (struct trace_exit){ .event = TRACE_EV_EXIT, .reason = 500, .tsc = 0 }, 7);
    CHECK_EQ(t.reasons[30].count, 3);
    CHECK_EQ(t.reasons[30].total, 800 + 200 + 100);    /* the yielded 300 is not the exit's */
    CHECK_EQ(t.reasons[30].min, 100);
    CHECK_EQ(t.reasons[30].max, 800);
    CHECK_EQ(t.reasons[0].count, 2);    /* the #PF and the out-of-range reason 500 */
    CHECK_EQ(t.mmio.count, 1);
    CHECK_EQ(t.mmio.total, 6000);
    unsigned out3f8 = 0, in3fd = 0;
    for (unsigned i = 0; i < PORT_STATS_SLOTS; i++) {
        const struct port_stat *p = &t.ports[i];
        if (p->used && p->port == 0x3f8 && !p->in)
            out3f8 += (unsigned)p->s.count;
        if (p->used && p->port == 0x3fd && p->in)
            in3fd += (unsigned)p->s.count;
    }
    CHECK_EQ(out3f8, 2);
    CHECK_EQ(in3fd, 1);
    CHECK_EQ(trace_cpu0.count, 0);      /* tracing off: aggregates only */
    /* An exit costed twice would double-count: the second end is a no-op. */
    trace_exit_end(&t, 99999);
    CHECK_EQ(t.reasons[0].count + t.reasons[30].count, 5);
    trace_vcpu_reset(&t);
    CHECK_EQ(t.reasons[30].count, 0);
    CHECK_EQ(t.mmio.count, 0);
    CHECK(!t.ports[0x3f8 * 2 % PORT_STATS_SLOTS].used);
}

TEST(trace_records_only_enabled_classes_and_counts_losses)
{
    static struct trace_vcpu t;
    memset(&t, 0, sizeof(t));
    t.vm = 3;
    setup(TRACE_CLASS(TRACE_EV_IO) | TRACE_CLASS(TRACE_EV_INJECT));
    one_exit(&t, (struct trace_exit){ .event = TRACE_EV_MSR, .reason = 31, .tsc = 10 }, 20);
    CHECK_EQ(trace_cpu0.count, 0);
    one_exit(&t, (struct trace_exit){ .event = TRACE_EV_IO, .reason = 30, .info = 0x70, .qual = 0x700008,
                                      .tsc = 10, .flags = TRACE_F_IN }, 60);
    CHECK_EQ(trace_cpu0.count, 1);
    const struct trace_rec *r = &recs[0];
    CHECK_EQ(r->event, TRACE_EV_IO);
    CHECK_EQ(r->vm, 3);
    CHECK_EQ(r->reason, 30);
    CHECK_EQ(r->info, 0x70);
    CHECK_EQ(r->flags, TRACE_F_IN);
    CHECK_EQ(r->qual, 0x700008);
    CHECK_EQ(r->tsc, 10);
    CHECK_EQ(r->cost, 50);
    trace_inject(&t, 0x30, 0);
    CHECK_EQ(trace_cpu0.count, 2);
    CHECK_EQ(recs[1].event, TRACE_EV_INJECT);
    CHECK_EQ(recs[1].info, 0x30);
    for (int i = 0; i < 10; i++)
        one_exit(&t, (struct trace_exit){ .event = TRACE_EV_IO, .reason = 30, .tsc = 0 }, 1);
    CHECK_EQ(trace_cpu0.count, 8);      /* full: never overwritten */
    CHECK_EQ(trace_cpu0.lost, 4);
    CHECK_EQ(recs[1].event, TRACE_EV_INJECT);
    /* A cost beyond 32 bits saturates in the record, not in the aggregate. */
    trace_cpu0.count = 0;
    one_exit(&t, (struct trace_exit){ .event = TRACE_EV_IO, .reason = 30, .tsc = 0 }, 1ull << 40);
    CHECK_EQ(recs[0].cost, 0xFFFFFFFFu);
    CHECK_EQ(t.reasons[30].max, 1ull << 40);
}

TEST(trace_port_table_overflow_is_counted)
{
    static struct trace_vcpu t;
    memset(&t, 0, sizeof(t));
    setup(0);
    for (unsigned port = 0; port < PORT_STATS_SLOTS + 10; port++)
        one_exit(&t, (struct trace_exit){ .event = TRACE_EV_IO, .reason = 30, .info = port, .tsc = 0 }, 5);
    CHECK_EQ(t.ports_dropped, 10);
    CHECK_EQ(t.reasons[30].count, PORT_STATS_SLOTS + 10);  /* still in the per-reason table */
    unsigned used = 0;
    for (unsigned i = 0; i < PORT_STATS_SLOTS; i++)
        used += t.ports[i].used;
    CHECK_EQ(used, PORT_STATS_SLOTS);
}

TEST(trace_without_buffer_keeps_aggregates)
{
    static struct trace_vcpu t;
    memset(&t, 0, sizeof(t));
    memset(&trace_cpu0, 0, sizeof(trace_cpu0));
    trace_init(NULL, 0);
    trace_cpu0.classes = 0;             /* the shell refuses `trace start` without a buffer */
    one_exit(&t, (struct trace_exit){ .event = TRACE_EV_IO, .reason = 30, .tsc = 0 }, 5);
    CHECK_EQ(t.reasons[30].count, 1);
    CHECK(!trace_cpu0.recs);
}
