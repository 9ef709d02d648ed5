/* Guest COM1, transmit side only: the stand-in until the full NS16550A model (platform issue).
 * THR writes reach the console with the VM's name as prefix; LSR always says "transmitter
 * empty"; every other register reads 0. */
#ifndef MV_UART_TX_H
#define MV_UART_TX_H
struct vm;
#define GUEST_COM1_BASE 0x3F8
#define GUEST_COM1_SIZE 8
void uart_tx_attach(struct vm *vm);
#endif
