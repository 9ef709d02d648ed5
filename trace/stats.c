#include "stats.h"

static unsigned bucket_of(uint64_t c)
{
    if (!c)
        return 0;
    unsigned b = 64 - (unsigned)__builtin_clzll(c);     /* floor(log2 c) + 1 */
    return b < COST_HIST_BUCKETS ? b : COST_HIST_BUCKETS - 1;
}

void cost_stat_add(struct cost_stat *s, uint64_t cycles)
{
    if (!s->count || cycles < s->min)
        s->min = cycles;
    if (cycles > s->max)
        s->max = cycles;
    s->count++;
    s->total += cycles;
    s->hist[bucket_of(cycles)]++;
}

uint64_t cost_stat_percentile(const struct cost_stat *s, unsigned pct)
{
    if (!s->count)
        return 0;
    uint64_t rank = (s->count * pct + 99) / 100;        /* nearest rank, 1-based */
    if (!rank)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < COST_HIST_BUCKETS; b++) {
        seen += s->hist[b];
        if (seen >= rank) {
            uint64_t upper = b ? (1ull << b) - 1 : 0;
            return upper < s->max ? upper : s->max;     /* never above what was seen */
        }
    }
    return s->max;
}
