/* A device model's view of time: a count of its own input clock, read through a callback the
 * platform provides. The platform's time base is monotonic by construction (vm/vmtime.c), but
 * a model must stay sane whatever it is handed, so every model reads time through
 * dev_clock_now(), which never goes backwards: a clock that jumps back holds still until it has
 * caught up, a jump forward is simply time passing. One rule for every device.
 * It is also how a model tells the platform that its next interrupt moved (a register write
 * reprogrammed it): dev_clock_moved(), wired to the timer registry. */
#ifndef MV_DEVCLOCK_H
#define MV_DEVCLOCK_H
#include "compiler.h"

struct dev_clock {
    uint64_t (*read)(void *ctx);    /* NULL: time stands still at 0 */
    void *ctx;
    uint64_t last;                  /* the latest value handed out */
    void (*moved)(void *ctx);       /* the device's next interrupt moved; may be NULL */
    void *moved_ctx;
};

static inline void dev_clock_init(struct dev_clock *c, uint64_t (*read)(void *), void *ctx)
{
    *c = (struct dev_clock){ .read = read, .ctx = ctx };
    c->last = read ? read(ctx) : 0;
}

static inline void dev_clock_on_move(struct dev_clock *c, void (*moved)(void *), void *ctx)
{
    c->moved = moved;
    c->moved_ctx = ctx;
}

static inline void dev_clock_moved(const struct dev_clock *c)
{
    if (c->moved)
        c->moved(c->moved_ctx);
}

static inline uint64_t dev_clock_now(struct dev_clock *c)
{
    uint64_t t = c->read ? c->read(c->ctx) : c->last;
    if (t > c->last)
        c->last = t;
    return c->last;
}
#endif
