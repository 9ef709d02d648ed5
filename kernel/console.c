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

static bool at_line_start = true;

void console_putc(char c)
{
    if (c == '\n')
        serial_putc(&com1, '\r');
    serial_putc(&com1, c);
    at_line_start = c == '\n';
}

bool console_at_line_start(void)
{
    return at_line_start;
}

void console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        console_putc(s[i]);
}

/* Input is drained from the UART by its interrupt into this ring, so a burst of typing while
 * a guest holds the CPU is not lost to the 16-byte FIFO. */
#define RX_RING 512
static uint8_t rx_ring[RX_RING];
static size_t rx_head, rx_tail;        /* free-running; tail - head bytes queued */
static uint64_t rx_dropped;

void console_rx_drain(void)
{
    while (serial_rx_ready(&com1)) {
        int c = serial_getc(&com1);
        if (rx_tail - rx_head < RX_RING)
            rx_ring[rx_tail++ % RX_RING] = (uint8_t)c;
        else
            rx_dropped++;
    }
}

int console_getc(void)
{
    console_rx_drain();
    if (rx_head == rx_tail)
        return -1;
    return rx_ring[rx_head++ % RX_RING];
}

bool console_input_ready(void *unused)
{
    return rx_head != rx_tail || serial_rx_ready(&com1);
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
