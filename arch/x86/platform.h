#ifndef MV_X86_PLATFORM_H
#define MV_X86_PLATFORM_H
#define HOST_PIC_VECTOR_BASE 0x20
#include "compiler.h"
/* Host vectors: the machine's 8259 at 0x20-0x2F, the VMM's LAPIC timer and LAPIC spurious. */
#define HOST_IRQ_PIT        0
#define HOST_IRQ_COM1       4
#define HOST_IRQ_SPURIOUS   7
#define HOST_TIMER_VECTOR   0xF0
#define HOST_SPURIOUS_VECTOR 0xFF
/* Reprograms the machine's 8259 pair to HOST_PIC_VECTOR_BASE, every line masked. */
void host_pic_disable(void);
void host_pic_unmask(unsigned irq);
void host_pic_eoi(void);
/* For IRQ7: true if it was spurious (no EOI then). */
bool host_pic_spurious(void);
#endif
