/* The VMM's one-shot wake-up timer and idle: when no thread can run, the CPU halts until the
 * earliest thread deadline (a guest PIT/RTC event for a halted vCPU, a sleep) or a console
 * interrupt. Timer sources, best first: LAPIC TSC-deadline, LAPIC one-shot (calibrated
 * against the TSC), 8254 channel 0 one-shot through the 8259. */
#ifndef MV_X86_HOSTTIMER_H
#define MV_X86_HOSTTIMER_H
#include "compiler.h"

/* Longest halt without a deadline: a safety net for consoles whose interrupt does not reach
 * the CPU (odd firmware routing); input is then polled at this rate. */
#define HOST_IDLE_POLL_MS 10

struct host_idle_stats {
    uint64_t halts;             /* HLTs executed when nothing could run */
    uint64_t timer_irqs;        /* wake-ups by the one-shot timer */
    uint64_t console_irqs;      /* by the host COM1 receive interrupt */
    uint64_t spurious_irqs;
};
extern struct host_idle_stats host_idle_stats;

/* After tsc_calibrate(): picks and programs the timer, enables the COM1 receive interrupt. */
void host_timer_init(void);
const char *host_timer_name(void);
/* Fires once at host TSC `tsc` (UINT64_MAX: cancel). It may fire early only by the
 * timer's resolution; callers re-check their deadlines anyway. */
void host_timer_arm(uint64_t tsc);
/* Halts until an interrupt, at the latest around wake_tsc; returns at once if it has passed.
 * Spins instead when there is no usable timer. Called with interrupts off, returns so. */
void host_idle(uint64_t wake_tsc);
#endif
