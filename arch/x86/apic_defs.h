/* Local APIC architecture (SDM vol. 3A, ch. 11): register offsets, bits, MSRs and CPUID
 * flags, shared by the machine's own LAPIC driver (lapic_host.c) and the guest LAPIC model
 * (dev/lapic.c). Definitions only. */
#ifndef MV_X86_APIC_DEFS_H
#define MV_X86_APIC_DEFS_H
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
/* The page address, bits 12 to MAXPHYADDR-1 (SDM 11.4.4): this is the architectural 52-bit
 * limit; the bits at and above the CPU's MAXPHYADDR are reserved and checked apart. */
#define APIC_BASE_ADDR_MASK       0x000FFFFFFFFFF000ull

#define MSR_IA32_TSC_DEADLINE     0x6E0
#define MSR_X2APIC_BASE           0x800

#define CPUID1_ECX_X2APIC         BIT(21)
#define CPUID1_ECX_TSC_DEADLINE   BIT(24)
#define CPUID1_EDX_APIC           BIT(9)
#endif
