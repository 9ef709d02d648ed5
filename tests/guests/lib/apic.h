/* The local APIC (xAPIC page, x2APIC MSRs) and the I/O APIC as guests program them (SDM vol. 3A
 * ch. 11; 82093AA datasheet). The addresses are the architectural defaults, which is where a
 * PC's firmware leaves them and where monovisor's MADT says they are. Defined here, not taken
 * from the VMM's arch/x86/apic_defs.h: a test that shared the VMM's constants would share its
 * mistakes. */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H
#include "types.h"
#include "x86.h"

#define MSR_APIC_BASE       0x1b
#define APIC_BASE_BSP       (1u << 8)
#define APIC_BASE_EXTD      (1u << 10)
#define APIC_BASE_EN        (1u << 11)
#define APIC_BASE_ADDR      0xfffff000u
#define LAPIC_DEFAULT       0xfee00000u
#define MSR_TSC_DEADLINE    0x6e0
#define MSR_X2APIC_FIRST    0x800
#define CPUID1_EDX_APIC     (1u << 9)
#define CPUID1_ECX_X2APIC   (1u << 21)
#define CPUID1_ECX_TSCDL    (1u << 24)

#define LAPIC_ID            0x020
#define LAPIC_VER           0x030
#define LAPIC_TPR           0x080
#define LAPIC_PPR           0x0a0
#define LAPIC_EOI           0x0b0
#define LAPIC_LDR           0x0d0
#define LAPIC_DFR           0x0e0
#define LAPIC_SVR           0x0f0
#define LAPIC_ISR           0x100
#define LAPIC_TMR           0x180
#define LAPIC_IRR           0x200
#define LAPIC_ESR           0x280
#define LAPIC_ICR_LO        0x300
#define LAPIC_ICR_HI        0x310
#define LAPIC_LVT_TIMER     0x320
#define LAPIC_LVT_LINT0     0x350
#define LAPIC_LVT_LINT1     0x360
#define LAPIC_LVT_ERROR     0x370
#define LAPIC_TIMER_ICR     0x380
#define LAPIC_TIMER_CCR     0x390
#define LAPIC_TIMER_DCR     0x3e0
#define LAPIC_SELF_IPI      0x3f0           /* x2APIC only (MSR 0x83f) */

#define SVR_ENABLE          (1u << 8)
#define LVT_MASKED          (1u << 16)
#define LVT_LEVEL           (1u << 15)
#define LVT_DM_NMI          (4u << 8)
#define LVT_DM_EXTINT       (7u << 8)
#define LVT_TIMER_PERIODIC  (1u << 17)
#define LVT_TIMER_TSCDL     (2u << 17)
#define DCR_DIV16           0x3
#define DCR_DIV1            0xb
#define ICR_SHORT_SELF      (1u << 18)
#define ICR_DELIVS          (1u << 12)
#define VER_MAXLVT(v)       (((v) >> 16) & 0xff)

#define IOAPIC_DEFAULT      0xfec00000u
#define IOAPIC_REGSEL       0x00
#define IOAPIC_WIN          0x10
#define IOAPIC_REG_ID       0x00
#define IOAPIC_REG_VER      0x01
#define IOAPIC_REDTBL(n)    (0x10 + 2 * (n))
#define RTE_MASKED          (1u << 16)
#define RTE_LEVEL           (1u << 15)
#define RTE_REMOTE_IRR      (1u << 14)
#define RTE_ACTIVE_LOW      (1u << 13)

static inline u32 lapic_read(u32 reg) { return peek32(LAPIC_DEFAULT + reg); }
static inline void lapic_write(u32 reg, u32 v) { poke32(LAPIC_DEFAULT + reg, v); }
static inline void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }
static inline bool lapic_vector_set(u32 base, u8 vector)
{
	return lapic_read(base + (vector / 32u) * 16u) & (1u << (vector % 32u));
}
static inline u32 ioapic_read(u32 reg)
{
	poke32(IOAPIC_DEFAULT + IOAPIC_REGSEL, reg);
	return peek32(IOAPIC_DEFAULT + IOAPIC_WIN);
}
static inline void ioapic_write(u32 reg, u32 v)
{
	poke32(IOAPIC_DEFAULT + IOAPIC_REGSEL, reg);
	poke32(IOAPIC_DEFAULT + IOAPIC_WIN, v);
}
/* The state a PC BIOS leaves and every APIC test starts from: the LAPIC software-enabled with
 * spurious vector 0xff, TPR 0, LINT0 ExtINT and LINT1 NMI (virtual wire: the 8259 reaches the
 * CPU), the timer stopped and masked (with vector timer_vector), error masked; every I/O APIC
 * pin masked. */
static inline void apic_virtual_wire(u8 timer_vector)
{
	lapic_write(LAPIC_SVR, SVR_ENABLE | 0xff);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | timer_vector);
	lapic_write(LAPIC_TIMER_ICR, 0);
	lapic_write(LAPIC_LVT_LINT0, LVT_DM_EXTINT);
	lapic_write(LAPIC_LVT_LINT1, LVT_DM_NMI);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED | 0xfe);
	for (u32 pin = 0; pin < 24; pin++)
		ioapic_write(IOAPIC_REDTBL(pin), RTE_MASKED);
}
#endif
