/* The machine's own local APIC, as the VMM's timer and interrupt controller (guests never
 * see it: their APIC-base MSR is virtual). x2APIC (MSRs) when the CPU has it, else the
 * xAPIC page mapped uncacheable. */
#ifndef MV_X86_LAPIC_H
#define MV_X86_LAPIC_H
#include "compiler.h"

/* Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + offset / 16. */
#define LAPIC_ID          0x020
#define LAPIC_VERSION     0x030
#define LAPIC_TPR         0x080
#define LAPIC_EOI         0x0B0
#define LAPIC_SVR         0x0F0
#define LAPIC_ESR         0x280
#define LAPIC_LVT_TIMER   0x320
#define LAPIC_LVT_LINT0   0x350
#define LAPIC_LVT_LINT1   0x360
#define LAPIC_LVT_ERROR   0x370
#define LAPIC_TIMER_ICR   0x380
#define LAPIC_TIMER_CCR   0x390
#define LAPIC_TIMER_DCR   0x3E0

#define LAPIC_SVR_ENABLE          BIT(8)
#define LVT_MASKED                BIT(16)
#define LVT_DELIVERY_NMI          (4u << 8)
#define LVT_DELIVERY_EXTINT       (7u << 8)
#define LVT_TIMER_ONESHOT         (0u << 17)
#define LVT_TIMER_TSC_DEADLINE    (2u << 17)
#define LAPIC_DCR_DIV1            0xB

#define APIC_BASE_BSP             BIT(8)
#define APIC_BASE_EXTD            BIT(10)     /* x2APIC mode */
#define APIC_BASE_EN              BIT(11)
#define APIC_BASE_ADDR_MASK       0xFFFFFF000ull

#define MSR_IA32_TSC_DEADLINE     0x6E0
#define MSR_X2APIC_BASE           0x800

#define CPUID1_ECX_X2APIC         BIT(21)
#define CPUID1_ECX_TSC_DEADLINE   BIT(24)
#define CPUID1_EDX_APIC           BIT(9)

/* Software-enables the LAPIC: spurious vector, LINT0 as ExtINT (the 8259 keeps working in
 * virtual-wire mode), LINT1 as NMI, timer masked. False if the CPU has no LAPIC. */
bool lapic_init(uint8_t spurious_vector);
bool lapic_present(void);
bool lapic_x2apic(void);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t val);
void lapic_eoi(void);
#endif
