#include "pic.h"
#include "idt.h"
#include "x86.h"

#define ICW1_INIT_ICW4  0x11
#define ICW4_8086       0x01
#define MASK_ALL        0xff

void pic_init(void)
{
	outb(PIC1_DATA, MASK_ALL);
	outb(PIC2_DATA, MASK_ALL);
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, IRQ_VECTOR_BASE);
	outb(PIC1_DATA, 1u << PIC_CASCADE_IRQ);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC2_DATA, IRQ_VECTOR_BASE + 8);
	outb(PIC2_DATA, PIC_CASCADE_IRQ);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, MASK_ALL);
	outb(PIC2_DATA, MASK_ALL);
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, OCW2_NONSPEC_EOI);
	outb(PIC1_CMD, OCW2_NONSPEC_EOI);
}
