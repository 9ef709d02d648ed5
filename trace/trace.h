/* The trace facility: per-exit records with TSC stamps in a per-CPU ring buffer (lost records
 * counted, never overwritten), always-on aggregates per exit reason and per I/O port, a
 * self-calibrated cost of tracing itself, and a framed serial dump (trace/trace_format.h). */
#ifndef MV_TRACE_H
#define MV_TRACE_H
#include "compiler.h"
#include "trace_format.h"
#include "stats.h"

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

/* Per (port, direction) I/O exit cost, in a small open-addressed table: a guest touches few
 * distinct ports, and the exit path must not walk anything long. */
#define PORT_STATS_SLOTS 256
struct port_stat {
    bool used;
    bool in;
    uint16_t port;
    struct cost_stat s;
};

/* Exit reasons tabulated one by one; a larger one counts in slot 0. */
#define TRACE_REASONS 80

/* One vCPU's side of the facility: the exit in flight and the always-on aggregates. The
 * VMM's exit path fills `exit` (it knows the hardware); the facility knows no vCPU. */
struct trace_vcpu {
    uint8_t vm, vcpu;                   /* stamped into its records */
    struct trace_exit exit;             /* the exit being handled, costed at the next entry */
    struct cost_stat reasons[TRACE_REASONS];
    struct cost_stat mmio;              /* exits that emulated an MMIO instruction (TRACE_F_MMIO) */
    struct port_stat ports[PORT_STATS_SLOTS];
    uint64_t ports_dropped;             /* exits on ports the full table had no slot for */
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

extern const char *const trace_class_names[TRACE_EV_MAX];

/* Gives the buffer its memory (NULL: aggregates only) and measures the cost of a record. */
void trace_init(struct trace_rec *recs, uint32_t cap);
/* Right after a VM exit, with what the exit path decoded of it (valid set here). */
void trace_exit_begin(struct trace_vcpu *t, const struct trace_exit *e);
/* Right before the next entry: the exit's cost goes into the aggregates and, if its class is
 * on, a record into the buffer. */
void trace_exit_end(struct trace_vcpu *t, uint64_t entry_tsc);
void trace_inject(const struct trace_vcpu *t, uint8_t vector, uint8_t type);
/* Clears a vCPU's aggregates. */
void trace_vcpu_reset(struct trace_vcpu *t);
#endif
