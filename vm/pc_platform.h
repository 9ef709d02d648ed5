/* The PC a VM sees, as one object: its port table, its IRQ router, its device timer registry,
 * its platform time base and the chips, wired together. The vCPU and the exit path talk to
 * the platform only through the calls below, never to a chip. */
#ifndef MV_PC_PLATFORM_H
#define MV_PC_PLATFORM_H
#include "compiler.h"
#include "dev/ioport.h"
#include "dev/mmio.h"
#include "dev/irq_router.h"
#include "dev/timer_registry.h"
#include "dev/i8259.h"
#include "dev/i8254.h"
#include "dev/mc146818.h"
#include "dev/ns16550.h"
#include "dev/i8042.h"
#include "dev/sysreset.h"
#include "dev/acpi_pmtimer.h"
#include "dev/acpi_pm.h"
#include "dev/pci.h"
#include "dev/fw_cfg.h"
#include "dev/debug_exit.h"
#include "dev/lapic.h"
#include "dev/ioapic.h"

#define PC_IRQ_PIT      0
#define PC_IRQ_COM2     3
#define PC_IRQ_COM1     4
#define PC_IRQ_RTC      8
#define PC_IRQ_SCI      9           /* the ACPI SCI, level (the MADT override says so) */
#define PC_COM1_BASE    0x3F8
#define PC_COM2_BASE    0x2F8
#define PC_BASE_MEM_KB  640
#define PC_IOAPIC_ID    1           /* after the one vCPU's LAPIC ID 0, as the MADT says */

/* What the platform needs from the VM that owns it (ctx is the VM). */
struct pc_platform_hooks {
    void (*reset)(void *ctx, const char *why);              /* i8042 pulse, 0x92, 0xCF9 */
    void (*console_tx)(void *ctx, uint8_t c);               /* COM1 output */
    void (*exit)(void *ctx, uint32_t code, uint16_t port);  /* the exit port */
    void (*power_off)(void *ctx);                           /* ACPI S5 */
};

struct pc_platform {
    uint64_t time_base;             /* host TSC at power-on: platform time 0 (vmtime.h) */
    const struct pc_platform_hooks *hooks;
    void *ctx;
    struct ioport_table io;
    struct mmio_table mmio;
    struct irq_router irq;
    struct timer_registry timers;
    struct dev_timer pit_timer, rtc_timer, lapic_timer, pm_timer;
    struct i8259 pic;
    struct i8254 pit;
    struct mc146818 rtc;
    struct ns16550 com1, com2;
    struct i8042 kbc;
    struct sysreset sysreset;
    struct acpi_pmtimer pmtimer;
    struct acpi_pm pm;              /* PM1 event and control blocks: SCI, S5 */
    struct pci_bus pci;
    struct fw_cfg fw_cfg;
    struct debug_exit debug_exit;
    struct lapic lapic;             /* the one vCPU's */
    struct ioapic ioapic;
    uint64_t lapic_page;            /* where the LAPIC page is decoded, LAPIC_MMIO_NONE: nowhere */
    uint64_t lapic_base_conflicts;  /* IA32_APIC_BASE moved onto another device's region */
    uint32_t fed_lines;             /* lines of devices fed from outside (pc_line_fed_from_outside) */
};

/* Powers the platform on: time 0 now, fresh devices in their power-on state, registered in
 * the port table, the IRQ router and the timer registry. */
bool pc_platform_attach(struct pc_platform *p, uint64_t ram_size, const struct pc_platform_hooks *hooks,
                        void *ctx, char *err, size_t errlen);
/* The APICs (vm/pc_apic.c). The vCPU's IA32_APIC_BASE, x2APIC MSRs, IA32_TSC_DEADLINE and
 * CR8 go to its LAPIC through these; false means #GP. */
bool pc_apic_attach(struct pc_platform *p);
uint64_t pc_apic_base(const struct pc_platform *p);
bool pc_set_apic_base(struct pc_platform *p, uint64_t val, unsigned maxphyaddr);
bool pc_x2apic_read(struct pc_platform *p, uint32_t msr, uint64_t *val);
bool pc_x2apic_write(struct pc_platform *p, uint32_t msr, uint64_t val);
void pc_tsc_deadline_write(struct pc_platform *p, uint64_t deadline, uint64_t guest_tsc);
uint64_t pc_tsc_deadline_read(struct pc_platform *p);
uint8_t pc_cr8(const struct pc_platform *p);
void pc_set_cr8(struct pc_platform *p, uint8_t cr8);
/* An NMI waits (LINT1, an NMI IPI or I/O APIC message): true once. */
bool pc_nmi_pending(const struct pc_platform *p);
bool pc_take_nmi(struct pc_platform *p);

/* Raises what device timers owe the guest up to now; returns the next timer deadline
 * (platform time, UINT64_MAX if none). Cheap unless a deadline passed or moved. */
uint64_t pc_timers_update(struct pc_platform *p);
/* The host TSC at which the next timer deadline falls (UINT64_MAX: none), as of the last
 * update: what a halted vCPU waits for and the preemption timer is armed for. */
uint64_t pc_timer_deadline_host(const struct pc_platform *p);
/* An interrupt waits for the vCPU, and the vCPU takes it (the acknowledge cycle). */
bool pc_intr_pending(struct pc_platform *p);
uint8_t pc_intr_ack(struct pc_platform *p);
/* A device on this line is fed from outside the VM (console input; later a NIC's frames, a
 * disk's completions): its interrupt can come whenever, so a halted vCPU waits for it. */
void pc_line_fed_from_outside(struct pc_platform *p, unsigned line);
/* Could anything still interrupt a halted vCPU: a timer due on an enabled line, or an
 * enabled line of a device fed from outside? False means halted forever. */
bool pc_may_wake(const struct pc_platform *p);
#endif
