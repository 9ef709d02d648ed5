/* The 8259 pair as guests program it: Linux's init sequence (init_8259A) with the IRQs on the
 * vectors after the exceptions, then each test unmasks what it uses. */
#ifndef GUEST_PIC_H
#define GUEST_PIC_H
#include "types.h"

#define PIC1_CMD          0x20
#define PIC1_DATA         0x21
#define PIC2_CMD          0xa0
#define PIC2_DATA         0xa1
#define PIC_CASCADE_IRQ   2
#define OCW2_NONSPEC_EOI  0x20
#define OCW2_SPEC_EOI     0x60
#define OCW3_READ_IRR     0x0a
#define OCW3_READ_ISR     0x0b
#define OCW3_POLL         0x0c

/* IRQ0-7 at IRQ_VECTOR_BASE, IRQ8-15 after them, edge triggered, every line masked. */
void pic_init(void);
/* Non-specific EOI to the slave (for IRQ 8-15) and the master. */
void pic_eoi(unsigned irq);
#endif
