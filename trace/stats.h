/* Always-on, loss-free cost aggregates: count, total, min, max and a log2 histogram. */
#ifndef MV_TRACE_STATS_H
#define MV_TRACE_STATS_H
#include "compiler.h"

#define COST_HIST_BUCKETS 33    /* bucket 0: cost 0; bucket i: [2^(i-1), 2^i); last: >= 2^31 */

struct cost_stat {
    uint64_t count, total, min, max;
    uint32_t hist[COST_HIST_BUCKETS];
};

void cost_stat_add(struct cost_stat *s, uint64_t cycles);
/* Upper bound of the histogram bucket holding the pct-th percentile (nearest rank). */
uint64_t cost_stat_percentile(const struct cost_stat *s, unsigned pct);
#endif
