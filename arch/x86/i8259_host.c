/* The machine's own 8259 pair: remapped off the exception vectors and fully masked, since
 * the VMM does not take legacy interrupts (the guest-visible PIC is dev/i8259.c). */
#include "cpu.h"
#include "platform.h"
#include "dev/i8259.h"                  /* port and command names: the same chip */

#define ICW3_MASTER_SLAVE_ON_IRQ2 (1u << I8259_CASCADE_IRQ)
#define ICW3_SLAVE_ID I8259_CASCADE_IRQ
#define PIC_MASK_ALL 0xFF
#define OCW2_NONSPEC_EOI 0x20
#define OCW3_READ_ISR 0x0B
#define PIC_SPURIOUS_IRQ 7

static uint8_t master_mask = PIC_MASK_ALL;

void host_pic_disable(void)
{
    outb(I8259_MASTER_CMD, ICW1_INIT | ICW1_IC4); io_wait();
    outb(I8259_SLAVE_CMD, ICW1_INIT | ICW1_IC4); io_wait();
    outb(I8259_MASTER_DATA, HOST_PIC_VECTOR_BASE); io_wait();
    outb(I8259_SLAVE_DATA, HOST_PIC_VECTOR_BASE + 8); io_wait();
    outb(I8259_MASTER_DATA, ICW3_MASTER_SLAVE_ON_IRQ2); io_wait();
    outb(I8259_SLAVE_DATA, ICW3_SLAVE_ID); io_wait();
    outb(I8259_MASTER_DATA, ICW4_8086); io_wait();
    outb(I8259_SLAVE_DATA, ICW4_8086); io_wait();
    outb(I8259_MASTER_DATA, PIC_MASK_ALL);
    outb(I8259_SLAVE_DATA, PIC_MASK_ALL);
}

void host_pic_unmask(unsigned irq)
{
    /* Only master lines are used by the host (PIT fallback, COM1). */
    master_mask &= (uint8_t)~(1u << irq);
    outb(I8259_MASTER_DATA, master_mask);
}

void host_pic_eoi(void)
{
    outb(I8259_MASTER_CMD, OCW2_NONSPEC_EOI);
}

bool host_pic_spurious(void)
{
    /* A spurious IRQ7 has no ISR bit set and must not be EOIed. */
    outb(I8259_MASTER_CMD, OCW3_READ_ISR);
    return !(inb(I8259_MASTER_CMD) & (1u << PIC_SPURIOUS_IRQ));
}
