#ifndef MV_X86_PLATFORM_H
#define MV_X86_PLATFORM_H
#define HOST_PIC_VECTOR_BASE 0x20
#include "compiler.h"
/* Host vectors: the machine's 8259 at 0x20-0x2F, the VMM's LAPIC timer and LAPIC spurious. */
#define HOST_IRQ_PIT        0
#define HOST_IRQ_COM1       4
#define HOST_IRQ_SPURIOUS   7
#define HOST_IRQ_SLAVE_SPURIOUS 15
#define HOST_PIC_IRQS       16
#define HOST_TIMER_VECTOR   0xF0
#define HOST_SPURIOUS_VECTOR 0xFF
/* Reprograms the machine's 8259 pair to HOST_PIC_VECTOR_BASE, every line masked. */
void host_pic_disable(void);
/* IRQ 0-15; a slave line also opens the cascade. */
void host_pic_unmask(unsigned irq);
void host_pic_mask(unsigned irq);
/* Level-triggered in the ELCR, as a PCI interrupt line must be; false for the edge-only IRQs. */
bool host_pic_set_level(unsigned irq);
/* End of interrupt for `irq` (the slave's lines: both chips). */
void host_pic_eoi(unsigned irq);
/* For IRQ 7 or 15: true if it was spurious (handled: nothing more to do). */
bool host_pic_spurious(unsigned irq);
#endif
