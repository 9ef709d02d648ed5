#include "uart_tx.h"
#include "vm/vm.h"

#define UART_THR 0
#define UART_LSR 5
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

static uint32_t uart_tx_in(void *dev, uint16_t port, unsigned size)
{
    return port - GUEST_COM1_BASE == UART_LSR ? LSR_THRE | LSR_TEMT : 0;
}

static void uart_tx_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    if (port - GUEST_COM1_BASE == UART_THR)
        vm_console_putc(dev, (char)val);
}

static const struct ioport_ops uart_tx_ops = { .name = "com1-tx", .in = uart_tx_in, .out = uart_tx_out };

void uart_tx_attach(struct vm *vm)
{
    ioport_register(&vm->io, GUEST_COM1_BASE, GUEST_COM1_SIZE, &uart_tx_ops, vm);
}
