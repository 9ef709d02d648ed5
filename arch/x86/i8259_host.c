/* The machine's own 8259 pair: remapped off the exception vectors and fully masked, since
 * the VMM does not take legacy interrupts (the guest-visible PIC is dev/i8259.c). */
#include "cpu.h"
#include "platform.h"

#define PIC1_CMD    0x20
#define PIC1_DATA   0x21
#define PIC2_CMD    0xA0
#define PIC2_DATA   0xA1
#define ICW1_INIT   0x10
#define ICW1_ICW4   0x01
#define ICW3_MASTER_SLAVE_ON_IRQ2 0x04
#define ICW3_SLAVE_ID 0x02
#define ICW4_8086   0x01
#define PIC_MASK_ALL 0xFF

void host_pic_disable(void)
{
    outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4); io_wait();
    outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4); io_wait();
    outb(PIC1_DATA, HOST_PIC_VECTOR_BASE); io_wait();
    outb(PIC2_DATA, HOST_PIC_VECTOR_BASE + 8); io_wait();
    outb(PIC1_DATA, ICW3_MASTER_SLAVE_ON_IRQ2); io_wait();
    outb(PIC2_DATA, ICW3_SLAVE_ID); io_wait();
    outb(PIC1_DATA, ICW4_8086); io_wait();
    outb(PIC2_DATA, ICW4_8086); io_wait();
    outb(PIC1_DATA, PIC_MASK_ALL);
    outb(PIC2_DATA, PIC_MASK_ALL);
}
