/* Host 16550A driver: polled, 8N1. Absence is detected (scratch register plus loopback),
 * so a machine without COM1 does not make every print spin forever. */
#include "serial.h"
#include "cpu.h"
#include "dev/ns16550.h"                /* register offsets and bits: the same chip */

#define LCR_8N1     0x03

#define UART_CLOCK_DIV_BASE 115200u
#define TX_SPIN_LIMIT 200000u

struct serial_port com1, com2;

bool serial_init(struct serial_port *p, uint16_t base, uint32_t baud)
{
    p->base = base;
    p->present = false;

    outb(base + UART_SCR, 0x5A);
    if (inb(base + UART_SCR) != 0x5A)
        return false;
    outb(base + UART_SCR, 0xA5);
    if (inb(base + UART_SCR) != 0xA5)
        return false;

    uint16_t div = (uint16_t)(UART_CLOCK_DIV_BASE / (baud ? baud : UART_CLOCK_DIV_BASE));
    outb(base + UART_IER, 0);
    outb(base + UART_LCR, LCR_DLAB);
    outb(base + UART_DLL, div & 0xFF);
    outb(base + UART_DLM, div >> 8);
    outb(base + UART_LCR, LCR_8N1);
    outb(base + UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX | FCR_TRIG_14);

    /* Loopback self-test: a byte sent must come back. */
    outb(base + UART_MCR, MCR_LOOP | MCR_RTS | MCR_DTR);
    outb(base + UART_THR, 0xAE);
    bool echoed = false;
    for (unsigned i = 0; i < 100000 && !echoed; i++)
        if (inb(base + UART_LSR) & LSR_DR)
            echoed = inb(base + UART_RBR) == 0xAE;
    outb(base + UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
    if (!echoed)
        return false;
    while (inb(base + UART_LSR) & LSR_DR)
        (void)inb(base + UART_RBR);
    p->present = true;
    return true;
}

void serial_putc(struct serial_port *p, char c)
{
    if (!p->present)
        return;
    for (unsigned i = 0; i < TX_SPIN_LIMIT; i++)
        if (inb(p->base + UART_LSR) & LSR_THRE)
            break;
    outb(p->base + UART_THR, (uint8_t)c);
}

void serial_write(struct serial_port *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        serial_putc(p, s[i]);
}

void serial_flush(struct serial_port *p)
{
    for (unsigned i = 0; p->present && i < TX_SPIN_LIMIT; i++)
        if (inb(p->base + UART_LSR) & LSR_TEMT)
            return;
}

bool serial_rx_ready(const struct serial_port *p)
{
    return p->present && (inb(p->base + UART_LSR) & LSR_DR);
}

int serial_getc(struct serial_port *p)
{
    if (!p->present || !(inb(p->base + UART_LSR) & LSR_DR))
        return -1;
    return inb(p->base + UART_RBR);
}

void serial_enable_irqs(struct serial_port *p)
{
    /* OUT2 (already set by serial_init) gates the UART's interrupt onto the PC's IRQ line. */
    outb(p->base + UART_IER, IER_ERBFI | IER_ETBEI);
}

size_t serial_tx_room(const struct serial_port *p)
{
    /* THRE in FIFO mode: the whole transmit FIFO is empty. */
    return p->present && (inb(p->base + UART_LSR) & LSR_THRE) ? NS16550_FIFO_SIZE : 0;
}

void serial_tx_byte(struct serial_port *p, uint8_t c)
{
    outb(p->base + UART_THR, c);
}

uint8_t serial_irq_id(const struct serial_port *p)
{
    return inb(p->base + UART_IIR) & IIR_ID_MASK;
}

void serial_clear_status(const struct serial_port *p)
{
    (void)inb(p->base + UART_LSR);
    (void)inb(p->base + UART_MSR);
}
