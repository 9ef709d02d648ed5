#include "pc_platform.h"
#include "acpi_tables.h"
#include "vmtime.h"
#include "lib.h"
#include "arch/x86/rtc_host.h"
#include "arch/x86/tsc.h"

static void com1_irq(void *p, bool level) { irq_set(&((struct pc_platform *)p)->irq, PC_IRQ_COM1, level); }
static void com2_irq(void *p, bool level) { irq_set(&((struct pc_platform *)p)->irq, PC_IRQ_COM2, level); }
static void rtc_irq(void *p, bool level) { irq_set(&((struct pc_platform *)p)->irq, PC_IRQ_RTC, level); }
static void sci_irq(void *p, bool level) { irq_set(&((struct pc_platform *)p)->irq, PC_IRQ_SCI, level); }
static void pit_edge(void *p) { irq_pulse(&((struct pc_platform *)p)->irq, PC_IRQ_PIT); }
static void isa_irq(void *p, unsigned irq, bool level) { irq_set(&((struct pc_platform *)p)->irq, irq, level); }
/* PIRQA-D also reach I/O APIC pins 16-19 (the _PRT's and the MP table's GSIs). */
static void pirq_gsi(void *p, unsigned pirq, bool level)
{
    irq_set(&((struct pc_platform *)p)->irq, FW_PIRQ_GSI_BASE + pirq, level);
}

static void reset(void *ctx, const char *why)
{
    struct pc_platform *p = ctx;
    p->hooks->reset(p->ctx, why);
}
static void kbc_reset(void *p) { reset(p, "keyboard controller pulse"); }
static void com1_tx(void *ctx, uint8_t c)
{
    struct pc_platform *p = ctx;
    p->hooks->console_tx(p->ctx, c);
}
/* COM2 has no wire yet: what the guest sends is counted by the model and dropped. */
static void com2_tx(void *p, uint8_t c) { }
static void exit_port(void *ctx, uint32_t code, uint16_t port)
{
    struct pc_platform *p = ctx;
    p->hooks->exit(p->ctx, code, port);
}

static void power_off(void *ctx)
{
    struct pc_platform *p = ctx;
    p->hooks->power_off(p->ctx);
}

/* The 8259 is about to be read or written: edges due by now, on masked lines too, latch first. */
static void sync_lines(void *ctx)
{
    struct pc_platform *p = ctx;
    timers_sync(&p->timers, vm_now(p));
}

static void routing_changed(void *ctx) { timer_moved(&((struct pc_platform *)ctx)->timers); }

static uint64_t pit_next(void *pit) { return i8254_next_irq(pit); }
static void pit_catch_up(void *pit) { i8254_catch_up(pit); }
static uint64_t rtc_next(void *rtc) { return mc146818_next_event(rtc); }
static void rtc_catch_up(void *rtc) { mc146818_update(rtc); }
static uint64_t pm_next(void *pm) { return acpi_pm_next_irq(pm); }
static void pm_catch_up(void *pm) { acpi_pm_catch_up(pm); }

static bool dma_rd(void *mem, uint64_t gpa, void *buf, size_t len) { return gmem_read(mem, gpa, buf, len); }
static bool dma_wr(void *mem, uint64_t gpa, const void *buf, size_t len) { return gmem_write(mem, gpa, buf, len); }

bool pc_platform_attach(struct pc_platform *p, struct guest_mem *mem, const struct pc_platform_hooks *hooks,
                        void *ctx, char *err, size_t errlen)
{
    struct rtc_time now;
    host_rtc_read(&now);
    uint64_t ram_size = mem->size;
    uint64_t ext_kb = ram_size > (1u << 20) ? (ram_size >> 10) - 1024 : 0;

    memset(p, 0, sizeof(*p));
    p->dma = (struct dma_ops){ dma_rd, dma_wr, mem };
    p->hooks = hooks;
    p->ctx = ctx;
    vm_time_power_on(p);                /* before the devices read their clocks */
    ioport_init(&p->io);
    mmio_init(&p->mmio);
    i8259_init(&p->pic, irq_routing_changed, irq_sync_lines, &p->irq);
    irq_router_init(&p->irq, &p->pic, routing_changed, sync_lines, p);
    timer_registry_init(&p->timers, tsc_hz, &p->irq);
    i8254_init(&p->pit, vm_pit_clock, pit_edge, p);
    mc146818_init(&p->rtc, &now, PC_BASE_MEM_KB, ext_kb, vm_rtc_clock, rtc_irq, p);
    dev_clock_on_move(&p->pit.clock, timer_moved, &p->timers);
    dev_clock_on_move(&p->rtc.clock, timer_moved, &p->timers);
    p->pit_timer = (struct dev_timer){ "pit", PIT_HZ, PC_IRQ_PIT, pit_next, pit_catch_up, &p->pit, NULL };
    p->rtc_timer = (struct dev_timer){ "rtc", RTC_HZ, PC_IRQ_RTC, rtc_next, rtc_catch_up, &p->rtc, NULL };
    ns16550_init(&p->com1, PC_COM1_BASE, com1_tx, com1_irq, p);
    pc_line_fed_from_outside(p, PC_IRQ_COM1);   /* the VM's console: typed input any time */
    ns16550_init(&p->com2, PC_COM2_BASE, com2_tx, com2_irq, p);
    i8042_init(&p->kbc, kbc_reset, isa_irq, p);
    sysreset_init(&p->sysreset, reset, NULL, p);
    acpi_pmtimer_init(&p->pmtimer, ACPI_PM_TMR_PORT_DEFAULT, false, vm_pmtimer_clock, p);
    acpi_pm_init(&p->pm, ACPI_PM_BASE_DEFAULT, vm_pmtimer_clock, sci_irq, power_off, p);
    dev_clock_on_move(&p->pm.clock, timer_moved, &p->timers);
    p->pm_timer = (struct dev_timer){ "pm1", PM_TIMER_HZ, PC_IRQ_SCI, pm_next, pm_catch_up, &p->pm, NULL };
    pci_init(&p->pci, isa_irq, p);
    pci_on_pirq(&p->pci, pirq_gsi);
    debug_exit_init(&p->debug_exit, exit_port, p);
    if (!timer_register(&p->timers, &p->pit_timer) || !timer_register(&p->timers, &p->rtc_timer) ||
        !i8259_attach(&p->io, &p->pic) || !i8254_attach(&p->io, &p->pit) ||
        !mc146818_attach(&p->io, &p->rtc) || !ns16550_attach(&p->io, &p->com1, "com1") ||
        !ns16550_attach(&p->io, &p->com2, "com2") || !i8042_attach(&p->io, &p->kbc) ||
        !sysreset_attach(&p->io, &p->sysreset) || !acpi_pmtimer_attach(&p->io, &p->pmtimer) ||
        !acpi_pm_attach(&p->io, &p->pm) || !timer_register(&p->timers, &p->pm_timer) ||
        !pci_attach(&p->io, &p->pci) || !debug_exit_attach(&p->io, &p->debug_exit) ||
        !fw_cfg_attach(&p->io, &p->fw_cfg, ram_size, 1) || !pc_apic_attach(p)) {
        ksnprintf(err, errlen, "the VM's port table, MMIO map or timer registry is full, or devices overlap");
        return false;
    }
    return true;
}

bool pc_pci_firmware_setup(struct pc_platform *p, char *err, size_t errlen)
{
    static const uint8_t pirqs[PIIX3_PIRQS] = PC_PIRQ_IRQS;
    if (!pci_firmware_setup(&p->pci, pirqs, PC_PCI_IO_BASE, PC_PCI_MEM_BASE, PC_PCI_MEM_LIMIT)) {
        ksnprintf(err, errlen, "the PCI BARs do not fit the firmware's windows");
        return false;
    }
    return true;
}

uint64_t pc_timers_update(struct pc_platform *p)
{
    return timers_update(&p->timers, vm_now(p));
}

uint64_t pc_timer_deadline_host(const struct pc_platform *p)
{
    return vm_time_to_host(p, p->timers.deadline);
}

bool pc_intr_pending(struct pc_platform *p) { return irq_pending(&p->irq); }
uint8_t pc_intr_ack(struct pc_platform *p) { return irq_ack(&p->irq); }

void pc_line_fed_from_outside(struct pc_platform *p, unsigned line)
{
    if (line < IRQ_GSI_COUNT)
        p->fed_lines |= 1u << line;
}

bool pc_may_wake(const struct pc_platform *p)
{
    if (p->timers.deadline != UINT64_MAX || p->io_busy || pc_nics_may_interrupt(p))
        return true;
    for (uint32_t lines = p->fed_lines; lines; lines &= lines - 1)
        if (irq_line_enabled(&p->irq, (unsigned)__builtin_ctz(lines)))
            return true;
    return false;
}
