/* The machine's own 8259 pair: remapped off the exception vectors and fully masked, since
 * the VMM does not take legacy interrupts (the guest-visible PIC is dev/i8259.c). */
#include "cpu.h"
#include "platform.h"
#include "dev/i8259.h"                  /* port and command names: the same chip */

#define ICW3_MASTER_SLAVE_ON_IRQ2 (1u << I8259_CASCADE_IRQ)
#define ICW3_SLAVE_ID I8259_CASCADE_IRQ
#define PIC_MASK_ALL 0xFF

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
