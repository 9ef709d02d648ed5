#include "dev/timer_registry.h"

uint64_t time_to_ticks(uint64_t t, uint32_t hz, uint64_t time_hz)
{
    return t / time_hz * hz + t % time_hz * hz / time_hz;
}

uint64_t ticks_to_time(uint64_t ticks, uint32_t hz, uint64_t time_hz)
{
    if (ticks == UINT64_MAX || ticks / hz >= UINT64_MAX / time_hz)
        return UINT64_MAX;
    return ticks / hz * time_hz + (ticks % hz * time_hz + hz - 1) / hz;
}

void timer_registry_init(struct timer_registry *r, uint64_t time_hz, const struct irq_router *irq)
{
    *r = (struct timer_registry){ .time_hz = time_hz, .irq = irq, .moved = true };
}

bool timer_register(struct timer_registry *r, const struct dev_timer *t)
{
    if (r->n == TIMER_REGISTRY_MAX || !t->hz || !t->next || !t->catch_up)
        return false;
    r->timers[r->n++] = t;
    r->moved = true;
    return true;
}

void timer_moved(void *registry)
{
    ((struct timer_registry *)registry)->moved = true;
}

/* Every device caught up to now, both next deadlines found again. */
static uint64_t catch_up_all(struct timer_registry *r)
{
    r->moved = false;
    r->updates++;
    uint64_t next = UINT64_MAX, any = UINT64_MAX;
    for (unsigned i = 0; i < r->n; i++) {
        const struct dev_timer *t = r->timers[i];
        t->catch_up(t->dev);
        uint64_t at = ticks_to_time(t->next(t->dev), t->hz, r->time_hz);
        any = MIN(any, at);
        if (t->enabled ? t->enabled(t->dev) : irq_line_enabled(r->irq, t->gsi))
            next = MIN(next, at);
    }
    r->deadline = next;                 /* a move signalled meanwhile stays set: looked at again */
    r->next_any = any;
    return next;
}

uint64_t timers_update(struct timer_registry *r, uint64_t now)
{
    if (!r->moved && now < r->deadline)
        return r->deadline;             /* the common case on the exit path */
    return catch_up_all(r);
}

void timers_sync(struct timer_registry *r, uint64_t now)
{
    if (r->moved || now >= r->next_any)
        catch_up_all(r);
}
