#include "pc_platform.h"
#include "vm.h"
#include "vmtime.h"
#include "lib.h"
#include "arch/x86/rtc_host.h"
#include "dev/debug_exit.h"

static void irq_line(struct vm *vm, unsigned irq, bool level) { i8259_set_irq(&vm->pic, irq, level); }
static void rtc_irq(void *vm, bool level) { irq_line(vm, PC_IRQ_RTC, level); }
static void com1_irq(void *vm, bool level) { irq_line(vm, PC_IRQ_COM1, level); }
static void com2_irq(void *vm, bool level) { irq_line(vm, PC_IRQ_COM2, level); }
static void kbc_irq(void *vm, unsigned irq, bool level) { irq_line(vm, irq, level); }
static void pci_irq(void *vm, unsigned irq, bool level) { irq_line(vm, irq, level); }

/* A reset from the keyboard controller, port 0x92 or 0xCF9 ends this VM only; the operator
 * (or `vm start`) brings it back. */
static void reset_vm(void *vm, const char *why) { vm_stop(vm, VM_STOPPED, "reset by the guest (%s)", why); }
static void kbc_reset(void *vm) { reset_vm(vm, "keyboard controller pulse"); }
static void com1_tx(void *vm, uint8_t c) { vm_console_putc(vm, (char)c); }
/* COM2 has no wire yet: what the guest sends is counted by the model and dropped. */
static void com2_tx(void *vm, uint8_t c) { }

bool pc_platform_attach(struct vm *vm, char *err, size_t errlen)
{
    struct rtc_time now;
    host_rtc_read(&now);
    uint64_t ext_kb = vm->mem.size > (1u << 20) ? (vm->mem.size >> 10) - 1024 : 0;

    vm_time_power_on(vm);               /* before the devices read their clocks */
    ioport_init(&vm->io);
    i8259_init(&vm->pic);
    i8254_init(&vm->pit, vm_pit_clock, vm);
    mc146818_init(&vm->rtc, &now, PC_BASE_MEM_KB, ext_kb, vm_rtc_clock, rtc_irq, vm);
    ns16550_init(&vm->com1, PC_COM1_BASE, com1_tx, com1_irq, vm);
    ns16550_init(&vm->com2, PC_COM2_BASE, com2_tx, com2_irq, vm);
    i8042_init(&vm->kbc, kbc_reset, kbc_irq, vm);
    sysreset_init(&vm->sysreset, reset_vm, NULL, vm);
    acpi_pmtimer_init(&vm->pmtimer, ACPI_PM_TMR_PORT_DEFAULT, false, vm_pmtimer_clock, vm);
    pci_init(&vm->pci, pci_irq, vm);
    vm->pit_checked = 0;
    vm->pit_ticks = vm->pit_ticks_late = vm->pit_ticks_pending = 0;
    vm->timers_dirty = true;
    if (!i8259_attach(&vm->io, &vm->pic) || !i8254_attach(&vm->io, &vm->pit) ||
        !mc146818_attach(&vm->io, &vm->rtc) || !ns16550_attach(&vm->io, &vm->com1, "com1") ||
        !ns16550_attach(&vm->io, &vm->com2, "com2") || !i8042_attach(&vm->io, &vm->kbc) ||
        !sysreset_attach(&vm->io, &vm->sysreset) || !acpi_pmtimer_attach(&vm->io, &vm->pmtimer) ||
        !pci_attach(&vm->io, &vm->pci) || !debug_exit_attach(vm) ||
        !fw_cfg_attach(vm, &vm->fw_cfg)) {
        ksnprintf(err, errlen, "the VM's port table is full or has overlapping devices");
        return false;
    }
    return true;
}
