/* The ACPI PM timer as a guest's reference clock: 3.579545 MHz, 24 bits. It runs off the
 * platform clock, never the TSC, so it is the yardstick for TSC-independent device time.
 * Where a PIIX4 power-management function (00:01.3, 8086:7113) exists, as on QEMU's pc
 * machine, its PMBA register (config 0x40) holds the block the firmware placed; elsewhere (a
 * monovisor VM) the timer is at 0xb008, where the VMM's FADT-to-be will put it. */
#ifndef GUEST_PMTIMER_H
#define GUEST_PMTIMER_H
#include "types.h"
#include "x86.h"

#define PM_TMR_DEFAULT  0xb008
#define PM_TMR_OFFSET   8               /* PM_TMR within the PM I/O block */
#define PM_TMR_MASK     0xffffffu
#define PM_TMR_HZ       3579545u
#define PM_TMR_PER_MS   3580u
#define PCI_CONFIG_ADDR 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_ENABLE      0x80000000u
#define PIIX4_PM_DEVFN  ((1u << 3) | 3)  /* device 1, function 3 */
#define PIIX4_PM_ID     0x71138086u
#define PIIX4_PMBA      0x40
#define PMBA_MASK       0xffc0u

extern u16 pm_tmr_port;

static inline u32 pci_read32(u32 devfn, u32 reg)
{
	outl(PCI_CONFIG_ADDR, PCI_ENABLE | devfn << 8 | reg);
	return inl(PCI_CONFIG_DATA);
}

static inline void pm_init(void)
{
	pm_tmr_port = PM_TMR_DEFAULT;
	if (pci_read32(PIIX4_PM_DEVFN, 0) == PIIX4_PM_ID) {
		u32 base = pci_read32(PIIX4_PM_DEVFN, PIIX4_PMBA) & PMBA_MASK;
		if (base)
			pm_tmr_port = (u16)(base + PM_TMR_OFFSET);
	}
}
static inline u32 pm_read(void) { return inl(pm_tmr_port) & PM_TMR_MASK; }
/* Ticks from 'from' to now, across one 24-bit wrap (4.7 s). */
static inline u32 pm_since(u32 from) { return (pm_read() - from) & PM_TMR_MASK; }
static inline void pm_wait(u32 ticks)
{
	u32 t0 = pm_read();
	while (pm_since(t0) < ticks)
		;
}
#endif
