/* The platform's APICs: the vCPU's local APIC (its page at IA32_APIC_BASE, its x2APIC MSRs,
 * its timer in the device timer registry) and the I/O APIC at 0xFEC00000, both behind the IRQ
 * router. The MMIO regions are registered here, next to the models' wiring, and the LAPIC's
 * follows the guest's IA32_APIC_BASE writes. */
#include "pc_platform.h"
#include "vmtime.h"
#include "lib.h"
#include "arch/x86/tsc.h"

static uint64_t lapic_clock(void *p) { return time_to_ticks(vm_now(p), LAPIC_TIMER_HZ, tsc_hz); }
static void lapic_eoi(void *ctx, uint8_t vector) { irq_eoi_broadcast(&((struct pc_platform *)ctx)->irq, vector); }
static uint64_t lapic_next(void *l) { return lapic_timer_next(l); }
static void lapic_catch_up(void *l) { lapic_timer_catch_up(l); }
static bool lapic_enabled(void *l) { return lapic_timer_enabled(l); }

/* Registers whose writes change whether the 8259 or the I/O APIC reaches the CPU. */
static bool routes_interrupts(uint32_t off)
{
    return off == LAPIC_SVR || off == LAPIC_LVT_LINT0 || off == LAPIC_LVT_LINT1 || off == LAPIC_LVT_TIMER;
}

/* The SDM leaves accesses other than aligned dwords undefined: a read returns the bytes of
 * the dword (or two) it covers, other writes are dropped and counted. */
static uint64_t lapic_page_read(void *ctx, uint64_t off, unsigned size)
{
    struct pc_platform *p = ctx;
    timers_sync(&p->timers, vm_now(p));         /* IRR and CCR as of now */
    uint64_t v = lapic_mmio_read(&p->lapic, (uint32_t)(off & ~3ull));
    if (size == 8)
        v |= (uint64_t)lapic_mmio_read(&p->lapic, (uint32_t)((off & ~3ull) + 4)) << 32;
    return v >> ((off & 3) * 8);
}

static void lapic_page_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
    struct pc_platform *p = ctx;
    if (size != 4 || (off & 3)) {
        p->lapic.unknown++;
        return;
    }
    lapic_mmio_write(&p->lapic, (uint32_t)off, (uint32_t)val);
    if (routes_interrupts((uint32_t)off))
        irq_routing_changed(&p->irq);
}

static uint64_t ioapic_page_read(void *ctx, uint64_t off, unsigned size)
{
    struct pc_platform *p = ctx;
    timers_sync(&p->timers, vm_now(p));         /* remote IRR and pin levels as of now */
    return size > 4 ? ioapic_mmio_read(&p->ioapic, off, 4) : ioapic_mmio_read(&p->ioapic, off, size);
}

static void ioapic_page_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
    struct pc_platform *p = ctx;
    timers_sync(&p->timers, vm_now(p));
    ioapic_mmio_write(&p->ioapic, off, size, (uint32_t)val);
}

static const struct mmio_ops lapic_ops = { .name = "lapic", .read = lapic_page_read, .write = lapic_page_write };
static const struct mmio_ops ioapic_ops = { .name = "ioapic", .read = ioapic_page_read, .write = ioapic_page_write };

bool pc_apic_attach(struct pc_platform *p)
{
    lapic_init(&p->lapic, 0, true, lapic_clock, lapic_eoi, p);
    p->lapic.x2apic_capable = true;
    lapic_virtual_wire(&p->lapic);      /* as a PC BIOS leaves it: the 8259 reaches the CPU */
    dev_clock_on_move(&p->lapic.clock, timer_moved, &p->timers);
    ioapic_init(&p->ioapic, PC_IOAPIC_ID, NULL, NULL, NULL);
    irq_router_attach_apics(&p->irq, &p->ioapic, &p->lapic);
    p->lapic_timer = (struct dev_timer){ "lapic", LAPIC_TIMER_HZ, 0, lapic_next, lapic_catch_up, &p->lapic,
                                         lapic_enabled };
    p->lapic_page = lapic_mmio_base(&p->lapic);
    return timer_register(&p->timers, &p->lapic_timer) &&
           mmio_register(&p->mmio, IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_SIZE, &ioapic_ops, p) &&
           mmio_register(&p->mmio, p->lapic_page, LAPIC_PAGE_SIZE, &lapic_ops, p);
}

uint64_t pc_apic_base(const struct pc_platform *p) { return lapic_get_base(&p->lapic); }

/* The page moves with the base; disabled or in x2APIC mode it is not decoded at all. A base
 * over another device's region leaves the LAPIC page undecoded (counted): the guest broke its
 * own APIC, nobody else's. Over RAM, the LAPIC wins, as on real parts. */
bool pc_set_apic_base(struct pc_platform *p, uint64_t val, unsigned maxphyaddr)
{
    if (!lapic_set_base(&p->lapic, val, maxphyaddr))
        return false;
    uint64_t page = lapic_mmio_base(&p->lapic);
    if (page != p->lapic_page) {
        if (p->lapic_page != LAPIC_MMIO_NONE)
            mmio_unregister(&p->mmio, p->lapic_page, p);
        if (page != LAPIC_MMIO_NONE && !mmio_register(&p->mmio, page, LAPIC_PAGE_SIZE, &lapic_ops, p)) {
            p->lapic_base_conflicts++;
            page = LAPIC_MMIO_NONE;
        }
        p->lapic_page = page;
    }
    irq_routing_changed(&p->irq);
    return true;
}

bool pc_x2apic_read(struct pc_platform *p, uint32_t msr, uint64_t *val)
{
    timers_sync(&p->timers, vm_now(p));
    return lapic_msr_read(&p->lapic, msr, val);
}

bool pc_x2apic_write(struct pc_platform *p, uint32_t msr, uint64_t val)
{
    if (!lapic_msr_write(&p->lapic, msr, val))
        return false;
    if (routes_interrupts((msr - MSR_X2APIC_BASE) * LAPIC_REG_STRIDE))
        irq_routing_changed(&p->irq);
    return true;
}

void pc_tsc_deadline_write(struct pc_platform *p, uint64_t deadline, uint64_t guest_tsc)
{
    lapic_write_tsc_deadline(&p->lapic, deadline, guest_tsc, tsc_hz);
}

uint64_t pc_tsc_deadline_read(struct pc_platform *p)
{
    timers_sync(&p->timers, vm_now(p));
    return lapic_read_tsc_deadline(&p->lapic);
}

/* CR8 is TPR[7:4] whatever mode the APIC is in (SDM vol. 3A, "Interaction of Task Priorities
 * between CR8 and APIC"). */
uint8_t pc_cr8(const struct pc_platform *p) { return lapic_cr8(&p->lapic); }
void pc_set_cr8(struct pc_platform *p, uint8_t cr8) { lapic_set_cr8(&p->lapic, cr8); }

bool pc_nmi_pending(const struct pc_platform *p) { return p->lapic.nmi_pending; }
bool pc_take_nmi(struct pc_platform *p) { return lapic_take_nmi(&p->lapic); }
