/* A VM's platform time: the host TSC since the VM was powered on. Every device clock (PIT, RTC,
 * ACPI PM timer) and every timer deadline the VMM arms derives from it, so devices keep time
 * whatever the exit rate and stop nothing while another VM runs. It is monotonic and the guest
 * cannot move it: the guest's TSC is the host TSC plus an offset that WRMSR IA32_TSC changes,
 * and it only ever feeds the guest's own TSC reads. */
#ifndef MV_VMTIME_H
#define MV_VMTIME_H
#include "compiler.h"
struct pc_platform;

/* Starts the platform's time at 0 (power-on). */
void vm_time_power_on(struct pc_platform *p);
/* Platform time, in host TSC cycles since power-on. */
uint64_t vm_now(const struct pc_platform *p);
/* The host TSC at platform time t (UINT64_MAX stays UINT64_MAX: no deadline). */
uint64_t vm_time_to_host(const struct pc_platform *p, uint64_t t);
/* Clock callbacks for the device models (ctx is the struct pc_platform). */
uint64_t vm_pit_clock(void *p);
uint64_t vm_rtc_clock(void *p);
uint64_t vm_pmtimer_clock(void *p);
#endif
