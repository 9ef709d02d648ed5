/* The machine's own 8259 pair: remapped off the exception vectors and masked except for the
 * lines the VMM itself takes (the PIT fallback, COM1, its uplink NIC's PCI line); the
 * guest-visible PIC is dev/i8259.c. */
#include "cpu.h"
#include "platform.h"
#include "dev/i8259.h"                  /* port and command names: the same chip */

#define ICW3_MASTER_SLAVE_ON_IRQ2 (1u << I8259_CASCADE_IRQ)
#define ICW3_SLAVE_ID I8259_CASCADE_IRQ
#define PIC_MASK_ALL 0xFF
#define OCW2_NONSPEC_EOI 0x20
#define OCW3_READ_ISR 0x0B
#define PIC_LINES 8
#define PIC_SPURIOUS_LINE 7             /* a spurious request shows as a chip's lowest-priority line */
/* The edge/level control registers of the PIIX/ICH south bridges (PIIX4 datasheet 3.7.1-2):
 * one bit per IRQ; IRQ 0, 1, 2, 8 and 13 must stay edge. */
#define ELCR_MASTER 0x4D0
#define ELCR_SLAVE  0x4D1
#define ELCR_EDGE_ONLY ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 8) | (1u << 13))

static uint8_t mask[2] = { PIC_MASK_ALL, PIC_MASK_ALL };

void host_pic_disable(void)
{
    outb(I8259_MASTER_CMD, ICW1_INIT | ICW1_IC4); io_wait();
    outb(I8259_SLAVE_CMD, ICW1_INIT | ICW1_IC4); io_wait();
    outb(I8259_MASTER_DATA, HOST_PIC_VECTOR_BASE); io_wait();
    outb(I8259_SLAVE_DATA, HOST_PIC_VECTOR_BASE + PIC_LINES); io_wait();
    outb(I8259_MASTER_DATA, ICW3_MASTER_SLAVE_ON_IRQ2); io_wait();
    outb(I8259_SLAVE_DATA, ICW3_SLAVE_ID); io_wait();
    outb(I8259_MASTER_DATA, ICW4_8086); io_wait();
    outb(I8259_SLAVE_DATA, ICW4_8086); io_wait();
    outb(I8259_MASTER_DATA, PIC_MASK_ALL);
    outb(I8259_SLAVE_DATA, PIC_MASK_ALL);
}

static void write_masks(void)
{
    outb(I8259_MASTER_DATA, mask[0]);
    outb(I8259_SLAVE_DATA, mask[1]);
}

void host_pic_unmask(unsigned irq)
{
    if (irq >= HOST_PIC_IRQS)
        return;
    mask[irq / PIC_LINES] &= (uint8_t)~(1u << (irq % PIC_LINES));
    if (irq >= PIC_LINES)
        mask[0] &= (uint8_t)~(1u << I8259_CASCADE_IRQ);     /* the slave reaches the CPU through IRQ2 */
    write_masks();
}

void host_pic_mask(unsigned irq)
{
    if (irq >= HOST_PIC_IRQS || irq == I8259_CASCADE_IRQ)
        return;
    mask[irq / PIC_LINES] |= (uint8_t)(1u << (irq % PIC_LINES));
    write_masks();
}

bool host_pic_set_level(unsigned irq)
{
    if (irq >= HOST_PIC_IRQS || (ELCR_EDGE_ONLY & (1u << irq)))
        return false;
    uint16_t port = irq < PIC_LINES ? ELCR_MASTER : ELCR_SLAVE;
    outb(port, (uint8_t)(inb(port) | (1u << (irq % PIC_LINES))));
    return true;
}

void host_pic_eoi(unsigned irq)
{
    if (irq >= PIC_LINES)
        outb(I8259_SLAVE_CMD, OCW2_NONSPEC_EOI);
    outb(I8259_MASTER_CMD, OCW2_NONSPEC_EOI);
}

bool host_pic_spurious(unsigned irq)
{
    /* A spurious request has no ISR bit and must not be EOIed on its chip; one from the slave
     * did take the master's IRQ2, which does need its EOI. */
    uint16_t cmd = irq >= PIC_LINES ? I8259_SLAVE_CMD : I8259_MASTER_CMD;
    outb(cmd, OCW3_READ_ISR);
    if (inb(cmd) & (1u << PIC_SPURIOUS_LINE))
        return false;
    if (irq >= PIC_LINES)
        outb(I8259_MASTER_CMD, OCW2_NONSPEC_EOI);
    return true;
}
