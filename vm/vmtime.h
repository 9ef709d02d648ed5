/* A VM's clocks. Guest time is its TSC (host TSC + the VMCS offset); every device clock (PIT,
 * RTC, ACPI PM timer) is derived from it, so devices keep time whatever the exit rate, and
 * stop nothing while another VM runs. */
#ifndef MV_VMTIME_H
#define MV_VMTIME_H
#include "compiler.h"
struct vm;

uint64_t vm_guest_tsc(const struct vm *vm);
/* Guest TSC -> clocks of a device running at hz, and back (rounded up, for deadlines). */
uint64_t vm_tsc_to_ticks(uint64_t tsc, uint32_t hz);
uint64_t vm_ticks_to_tsc(uint64_t ticks, uint32_t hz);
/* Raises the interrupts that device timers owe the guest up to now. Cheap unless a deadline
 * passed or vm->timers_dirty says a guest port write may have moved one. Leaves the next
 * deadline (guest TSC, UINT64_MAX if none) in vm->timer_deadline. */
/* Clock callbacks for the device models (ctx is the struct vm). */
uint64_t vm_pit_clock(void *vm);
uint64_t vm_rtc_clock(void *vm);
uint64_t vm_pmtimer_clock(void *vm);
void vm_timers_update(struct vm *vm);
#endif
