#ifndef MV_CONSOLE_H
#define MV_CONSOLE_H
#include "compiler.h"
void console_init(void);
void console_putc(char c);
void console_write(const char *s, size_t n);
int console_getc(void);         /* -1 if no input pending */
int console_getc_wait(void);    /* blocks this thread (others run) until a byte arrives */
bool console_input_ready(void *unused);
/* Moves received bytes from the UART into the console's input ring (the COM1 interrupt). */
void console_rx_drain(void);
/* False while a partial line (e.g. the shell prompt) is on the terminal. */
bool console_at_line_start(void);
/* From host_timer_init: output becomes interrupt-driven. */
void console_enable_irqs(void);
/* The host COM1 interrupt: drains input, refills the transmitter. True if input arrived. */
bool console_irq(void);
/* Waits until every queued byte is on the wire (before a halt, reset or panic stop). */
void console_flush(void);
#endif
