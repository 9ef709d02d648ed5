/* A VM's clocks. Platform time is the host TSC since the VM was powered on: every device clock
 * (PIT, RTC, ACPI PM timer, and the timer deadlines the VMM arms) derives from it, so devices
 * keep time whatever the exit rate and stop nothing while another VM runs. It is monotonic
 * and the guest cannot move it: the guest's TSC is platform time plus an offset that
 * WRMSR IA32_TSC changes, and it only ever feeds the guest's own TSC reads. */
#ifndef MV_VMTIME_H
#define MV_VMTIME_H
#include "compiler.h"
struct vm;

/* Starts the VM's platform time at 0 (power-on). */
void vm_time_power_on(struct vm *vm);
/* Platform time, in host TSC cycles since power-on. */
uint64_t vm_now(const struct vm *vm);
/* The host TSC at platform time t (UINT64_MAX stays UINT64_MAX: no deadline). */
uint64_t vm_time_to_host(const struct vm *vm, uint64_t t);
/* Platform time -> clocks of a device running at hz, and back (rounded up, for deadlines;
 * saturates at UINT64_MAX rather than wrapping into the past). */
uint64_t vm_tsc_to_ticks(uint64_t tsc, uint32_t hz);
uint64_t vm_ticks_to_tsc(uint64_t ticks, uint32_t hz);
/* Clock callbacks for the device models (ctx is the struct vm). */
uint64_t vm_pit_clock(void *vm);
uint64_t vm_rtc_clock(void *vm);
uint64_t vm_pmtimer_clock(void *vm);
/* Raises the interrupts that device timers owe the guest up to now. Cheap unless a deadline
 * passed or vm->timers_dirty says a guest port write may have moved one. Leaves the next
 * deadline (platform time, UINT64_MAX if none) in vm->timer_deadline. */
void vm_timers_update(struct vm *vm);
#endif
