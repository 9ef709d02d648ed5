/* The trace facility: per-exit records with TSC stamps in a per-CPU ring buffer (lost records
 * counted, never overwritten), always-on aggregates per exit reason and per I/O port, a
 * self-calibrated cost of tracing itself, and a framed serial dump (trace/trace_format.h). */
#ifndef MV_TRACE_H
#define MV_TRACE_H
#include "compiler.h"
#include "trace_format.h"
#include "stats.h"

struct vcpu;

struct trace_rec {
    uint64_t tsc;
    uint16_t event;
    uint8_t vm, vcpu;
    uint16_t reason, flags;
    uint32_t info, cost;
    uint64_t qual;
};
STATIC_ASSERT(sizeof(struct trace_rec) == TRACE_RECORD_SIZE, "trace record layout");

/* What is known of an exit when it happens; its cost is known at the next VM entry. */
struct trace_exit {
    bool valid;
    uint16_t event, reason, flags;
    uint32_t info;
    uint64_t qual, tsc;
    uint64_t away;              /* time the vCPU thread yielded to others: not the exit's cost */
};

#define TRACE_CLASS(ev) (1u << (ev))
#define TRACE_CLASS_ALL ((1u << TRACE_EV_MAX) - 2)

struct trace_buf {
    struct trace_rec *recs;
    uint32_t cap, count;
    uint64_t lost;
    uint32_t classes;           /* enabled TRACE_CLASS bits; 0 = off */
    uint64_t overhead;          /* calibrated cycles per emitted record */
};
extern struct trace_buf trace_cpu0;

void trace_init(void);
/* Called right after a VM exit and right before the next entry. */
void trace_exit_begin(struct vcpu *v);
void trace_exit_end(struct vcpu *v, uint64_t entry_tsc);
void trace_inject(struct vcpu *v, uint8_t vector, uint8_t type);
#endif
