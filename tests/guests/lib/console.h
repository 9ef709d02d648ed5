/* COM1 output and a small printf: %s %c %d %i %u %x %X %p %% with flags '0' '-', a width,
 * and the length modifiers l, ll, z. Works in 32-bit and 64-bit code (no libgcc: 64-bit
 * decimal conversion uses shifts only). */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H
#include "types.h"

#define COM1 0x3f8
#define UART_LSR 5
#define LSR_THRE 0x20           /* transmit holding register empty */
#define LSR_TEMT 0x40           /* transmitter completely idle */

void serial_putc(char c);
void serial_flush(void);        /* wait until the UART has sent everything */
void puts_raw(const char *s);   /* no newline added */
int printf(const char *fmt, ...) PRINTF(1, 2);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t n, const char *fmt, ...) PRINTF(3, 4);
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);

#endif
