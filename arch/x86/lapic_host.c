#include "lapic_host.h"
#include "cpu.h"
#include "cpuinfo.h"
#include "paging.h"

static bool present, x2apic;
static volatile uint32_t *mmio;

bool host_lapic_present(void) { return present; }
bool host_lapic_x2apic(void) { return x2apic; }

uint32_t host_lapic_read(uint32_t reg)
{
    if (x2apic)
        return (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
    return mmio[reg / 4];
}

void host_lapic_write(uint32_t reg, uint32_t val)
{
    if (x2apic)
        wrmsr(MSR_X2APIC_BASE + (reg >> 4), val);
    else
        mmio[reg / 4] = val;
}

void host_lapic_eoi(void)
{
    host_lapic_write(LAPIC_EOI, 0);
}

bool host_lapic_init(uint8_t spurious_vector)
{
    if (!(boot_cpu.leaf1_edx & CPUID1_EDX_APIC))
        return false;
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    /* x2APIC needs no MMIO mapping and its MSR accesses are cheaper than uncached loads. */
    x2apic = boot_cpu.leaf1_ecx & CPUID1_ECX_X2APIC;
    if (x2apic) {
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EN);   /* xAPIC first: EXTD needs EN set */
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
    } else {
        wrmsr(MSR_IA32_APIC_BASE, (base & ~APIC_BASE_EXTD) | APIC_BASE_EN);
        uint64_t pa = base & APIC_BASE_ADDR_MASK;
        paging_map_uncached(pa);
        mmio = (volatile uint32_t *)(uintptr_t)pa;
    }
    present = true;
    host_lapic_write(LAPIC_TPR, 0);
    host_lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    host_lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
    host_lapic_write(LAPIC_LVT_LINT0, LVT_DELIVERY_EXTINT);
    host_lapic_write(LAPIC_LVT_LINT1, LVT_DELIVERY_NMI);
    host_lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | spurious_vector);
    return true;
}
