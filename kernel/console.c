/* The hypervisor console: COM1 when present, silent otherwise (a missing UART must not
 * hang the VMM). Text output converts LF to CRLF for serial terminals. */
#include "console.h"
#include "lib.h"
#include "arch/x86/serial.h"
#include "dev/ns16550.h"                /* IIR ids: the same chip */
#include "arch/x86/cpu.h"
#include "sched/sched.h"

#define CONSOLE_BAUD 115200

void console_init(void)
{
    serial_init(&com1, COM1_PORT, CONSOLE_BAUD);
    serial_init(&com2, COM2_PORT, CONSOLE_BAUD);
}

static bool at_line_start = true;

/* Output goes through a ring that the UART's transmit-empty interrupt drains, so printing a
 * guest's line does not stall the VMM for the line's time on the wire (87 us a byte at
 * 115200 baud). Until the interrupt is wired up, and when the ring is full, it waits. */
#define TX_RING (64 * 1024)
static char tx_ring[TX_RING];
static size_t tx_head, tx_tail;        /* free-running; tail - head bytes queued */
static bool tx_async;

static void tx_pump(void)
{
    for (size_t room = serial_tx_room(&com1); room && tx_head != tx_tail; room--)
        serial_tx_byte(&com1, (uint8_t)tx_ring[tx_head++ % TX_RING]);
}

static void tx_put(char c)
{
    if (!tx_async) {
        serial_putc(&com1, c);
        return;
    }
    while (tx_tail - tx_head == TX_RING) {
        if (!com1.present)
            return;
        tx_pump();                      /* full: wait for the wire, as the synchronous path does */
        pause();
    }
    tx_ring[tx_tail++ % TX_RING] = c;
}

void console_putc(char c)
{
    if (c == '\n')
        tx_put('\r');
    tx_put(c);
    at_line_start = c == '\n';
    if (tx_async)
        tx_pump();
}

void console_flush(void)
{
    while (com1.present && tx_head != tx_tail) {
        tx_pump();
        pause();
    }
    serial_flush(&com1);
}

void console_enable_irqs(void)
{
    if (!com1.present)
        return;
    serial_enable_irqs(&com1);
    tx_async = true;
}

bool console_irq(void)
{
    bool input = false;
    /* Until IIR says nothing is pending, so the IRQ line drops and the next event is an edge. */
    for (int i = 0; i < 32; i++) {
        uint8_t id = serial_irq_id(&com1);
        if (id & IIR_NO_INT)
            break;
        if (id == IIR_RDA || id == IIR_CTI) {
            console_rx_drain();
            input = true;
        } else if (id == IIR_THRE) {
            tx_pump();
        } else {
            serial_clear_status(&com1);
        }
    }
    tx_pump();
    return input;
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
