#include "vmtime.h"
#include "vm.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"

void vm_time_power_on(struct vm *vm) { vm->time_base = rdtsc(); }
uint64_t vm_now(const struct vm *vm) { return rdtsc() - vm->time_base; }

uint64_t vm_time_to_host(const struct vm *vm, uint64_t t)
{
    return t >= UINT64_MAX - vm->time_base ? UINT64_MAX : t + vm->time_base;
}

/* tsc * hz / tsc_hz without overflow or 128-bit division: split tsc at tsc_hz. */
uint64_t vm_tsc_to_ticks(uint64_t tsc, uint32_t hz)
{
    return tsc / tsc_hz * hz + tsc % tsc_hz * hz / tsc_hz;
}

uint64_t vm_ticks_to_tsc(uint64_t ticks, uint32_t hz)
{
    if (ticks / hz >= UINT64_MAX / tsc_hz)
        return UINT64_MAX;              /* centuries away: never */
    return ticks / hz * tsc_hz + (ticks % hz * tsc_hz + hz - 1) / hz;
}

uint64_t vm_pit_clock(void *ctx) { return vm_tsc_to_ticks(vm_now(ctx), PIT_HZ); }
uint64_t vm_pmtimer_clock(void *ctx) { return vm_tsc_to_ticks(vm_now(ctx), PM_TIMER_HZ); }
uint64_t vm_rtc_clock(void *ctx) { return vm_tsc_to_ticks(vm_now(ctx), RTC_HZ); }

/* The platform time at which the next device timer event is due, UINT64_MAX if none. Events on
 * masked lines need no deadline: the request latches when the VMM next looks. */
static uint64_t next_timer_tsc(const struct vm *vm)
{
    uint64_t next = UINT64_MAX;
    uint64_t e = i8254_next_rising_edge(&vm->pit, 0, vm->pit_checked);
    if (e != UINT64_MAX && i8259_line_enabled(&vm->pic, PC_IRQ_PIT))
        next = vm_ticks_to_tsc(e, PIT_HZ);
    uint64_t r = mc146818_next_event(&vm->rtc);
    if (r != UINT64_MAX && i8259_line_enabled(&vm->pic, PC_IRQ_RTC))
        next = MIN(next, vm_ticks_to_tsc(r, RTC_HZ));
    return next;
}

void vm_timers_update(struct vm *vm)
{
    /* The common case on the exit path: nothing is due and no device was reprogrammed. */
    if (!vm->timers_dirty && vm_now(vm) < vm->timer_deadline)
        return;
    /* Edges that passed while the VM did not run make one request, as the PIC latches one. */
    uint64_t now = vm_pit_clock(vm);
    uint64_t edge = i8254_next_rising_edge(&vm->pit, 0, vm->pit_checked);
    if (edge <= now) {
        /* Ticks lost to merging, for `exits VM`: more edges since the last look, or the
         * previous request still latched in IRR. */
        vm->pit_ticks++;
        if (i8254_next_rising_edge(&vm->pit, 0, edge) <= now)
            vm->pit_ticks_late++;
        if (vm->pic.chip[0].irr & BIT(PC_IRQ_PIT))
            vm->pit_ticks_pending++;
        i8259_pulse_irq(&vm->pic, PC_IRQ_PIT);
    }
    vm->pit_checked = now;
    mc146818_update(&vm->rtc);
    vm->timer_deadline = next_timer_tsc(vm);
    vm->timers_dirty = false;
}
