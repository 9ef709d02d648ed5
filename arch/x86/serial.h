/* Host 16550 UART driver (the machine's real serial ports, not the guest model). */
#ifndef MV_X86_SERIAL_H
#define MV_X86_SERIAL_H
#include "compiler.h"

#define COM1_PORT 0x3F8
#define COM2_PORT 0x2F8

struct serial_port {
    uint16_t base;
    bool present;
};

extern struct serial_port com1, com2;

bool serial_init(struct serial_port *p, uint16_t base, uint32_t baud);
void serial_putc(struct serial_port *p, char c);
void serial_write(struct serial_port *p, const char *s, size_t n);
/* Waits until the transmitter is empty: before halting, so the last line is not lost. */
void serial_flush(struct serial_port *p);
int serial_getc(struct serial_port *p);   /* -1 when nothing received */
bool serial_rx_ready(const struct serial_port *p);
/* Received data and an emptied transmit FIFO raise the port's IRQ (the host 8259 line must be
 * unmasked by the caller). */
void serial_enable_irqs(struct serial_port *p);
/* Bytes the transmitter takes now without waiting (0 or the FIFO size). */
size_t serial_tx_room(const struct serial_port *p);
void serial_tx_byte(struct serial_port *p, uint8_t c);
/* For the interrupt handler: IIR's interrupt id (bit 0 set: none pending; reading it also
 * acknowledges a THRE interrupt), and reading LSR/MSR to clear their interrupts. */
uint8_t serial_irq_id(const struct serial_port *p);
void serial_clear_status(const struct serial_port *p);
#endif
