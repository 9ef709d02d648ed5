/* The hypervisor console: COM1 when present, silent otherwise (a missing UART must not
 * hang the VMM). Text output converts LF to CRLF for serial terminals. */
#include "console.h"
#include "lib.h"
#include "arch/x86/serial.h"
#include "arch/x86/cpu.h"
#include "sched/sched.h"

#define CONSOLE_BAUD 115200

void console_init(void)
{
    serial_init(&com1, COM1_PORT, CONSOLE_BAUD);
    serial_init(&com2, COM2_PORT, CONSOLE_BAUD);
}

void console_putc(char c)
{
    if (c == '\n')
        serial_putc(&com1, '\r');
    serial_putc(&com1, c);
}

void console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        console_putc(s[i]);
}

int console_getc(void)
{
    return serial_getc(&com1);
}

bool console_input_ready(void *unused)
{
    return serial_rx_ready(&com1);
}

int console_getc_wait(void)
{
    int c;
    while ((c = console_getc()) < 0)
        sched_block(UINT64_MAX, console_input_ready, NULL);
    return c;
}

static void console_sink(void *ctx, char c)
{
    (void)ctx;
    console_putc(c);
}

int kvprintf(const char *fmt, va_list ap)
{
    return kvformat(console_sink, NULL, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}
