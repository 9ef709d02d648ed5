/* The device timer registry: every device that interrupts on its own clock (PIT, RTC, and
 * the LAPIC timer to come) publishes its next interrupt and a catch-up callback here, and
 * says itself when that deadline moved (a register write) through dev_clock_moved(). The
 * platform asks one question before each guest entry and when a halted vCPU might wake:
 * catch everyone up to now, and when is the next interrupt due? Events on lines the guest
 * masked need no deadline: the device latches them when it is next caught up. Pure C. */
#ifndef MV_TIMER_REGISTRY_H
#define MV_TIMER_REGISTRY_H
#include "compiler.h"
#include "dev/irq_router.h"

#define TIMER_REGISTRY_MAX 12      /* PIT, RTC, PM1, LAPIC, four e1000s, room to grow */

struct dev_timer {
    const char *name;
    uint32_t hz;                        /* the device's clock rate (its dev_clock ticks/s) */
    unsigned gsi;                       /* the line it interrupts on (but see enabled) */
    uint64_t (*next)(void *dev);        /* device tick of its next interrupt, UINT64_MAX: none */
    void (*catch_up)(void *dev);        /* raise what it owes the guest up to its clock's now */
    void *dev;
    /* If set, whether its interrupt can reach the CPU, instead of asking about gsi: a LAPIC
     * timer has no line. */
    bool (*enabled)(void *dev);
};

struct timer_registry {
    const struct dev_timer *timers[TIMER_REGISTRY_MAX];
    unsigned n;
    uint64_t time_hz;                   /* platform time rate */
    const struct irq_router *irq;
    bool moved;                         /* a deadline or a line's routing changed */
    uint64_t deadline;                  /* platform time of the next event on an enabled line */
    uint64_t next_any;                  /* ... and on any line, masked or not */
    uint64_t updates;                   /* full catch-ups done (for the exit-path cost) */
};

void timer_registry_init(struct timer_registry *r, uint64_t time_hz, const struct irq_router *irq);
bool timer_register(struct timer_registry *r, const struct dev_timer *t);
/* A device's deadline, or which lines reach the CPU, changed (ctx is the registry). */
void timer_moved(void *registry);
/* At platform time now: if a deadline passed or moved, catches every device up and finds the
 * next deadline. Returns it (platform time, UINT64_MAX if none); cheap otherwise. */
uint64_t timers_update(struct timer_registry *r, uint64_t now);
/* Before an interrupt controller is read: if any device, on a masked line too, has an edge due
 * by now, catch everyone up, so what the guest reads is the chip's state at now. */
void timers_sync(struct timer_registry *r, uint64_t now);

/* Device ticks at hz <-> platform time at time_hz, without 128-bit arithmetic: the time of
 * a tick rounds up (a deadline is never early) and saturates at UINT64_MAX (never). */
uint64_t time_to_ticks(uint64_t t, uint32_t hz, uint64_t time_hz);
uint64_t ticks_to_time(uint64_t ticks, uint32_t hz, uint64_t time_hz);
#endif
