#include "vmtime.h"
#include "pc_platform.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"

void vm_time_power_on(struct pc_platform *p) { p->time_base = rdtsc(); }
uint64_t vm_now(const struct pc_platform *p) { return rdtsc() - p->time_base; }

uint64_t vm_time_to_host(const struct pc_platform *p, uint64_t t)
{
    return t >= UINT64_MAX - p->time_base ? UINT64_MAX : t + p->time_base;
}

uint64_t vm_pit_clock(void *p) { return time_to_ticks(vm_now(p), PIT_HZ, tsc_hz); }
uint64_t vm_pmtimer_clock(void *p) { return time_to_ticks(vm_now(p), PM_TIMER_HZ, tsc_hz); }
uint64_t vm_rtc_clock(void *p) { return time_to_ticks(vm_now(p), RTC_HZ, tsc_hz); }
