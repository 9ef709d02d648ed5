/* NS16550A UART model (PC16550D datasheet register set), one per guest COM port.
 * Transmission is instantaneous: a THR write reaches tx() at once, so THRE/TEMT read as 1,
 * but the interrupt sources, their priorities and their clearing rules are the datasheet's.
 * The model owns no clock: the VMM feeds input with ns16550_rx() and reports receiver
 * idleness with ns16550_rx_timeout(). */
#ifndef MV_NS16550_H
#define MV_NS16550_H
#include "compiler.h"
#include "dev/ioport.h"

#define NS16550_FIFO_SIZE 16
#define NS16550_NPORTS    8

/* Register offsets from the base. Offsets 0 and 1 depend on LCR.DLAB; offset 2 is IIR on
 * read and FCR on write. */
#define UART_RBR 0      /* receive buffer (read, DLAB=0) */
#define UART_THR 0      /* transmit holding (write, DLAB=0) */
#define UART_DLL 0      /* divisor latch low (DLAB=1) */
#define UART_IER 1      /* interrupt enable (DLAB=0) */
#define UART_DLM 1      /* divisor latch high (DLAB=1) */
#define UART_IIR 2      /* interrupt identification (read) */
#define UART_FCR 2      /* FIFO control (write) */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_ERBFI  0x01 /* received data available (and character timeout) */
#define IER_ETBEI  0x02 /* transmitter holding register empty */
#define IER_ELSI   0x04 /* receiver line status */
#define IER_EDSSI  0x08 /* modem status */
#define IER_MASK   0x0F /* bits 7:4 are always 0 on a 16550 (Linux autoconfig checks this) */

#define IIR_NO_INT       0x01 /* bit 0 is active low: 1 = nothing pending */
#define IIR_MS           0x00 /* priority 4 */
#define IIR_THRE         0x02 /* priority 3 */
#define IIR_RDA          0x04 /* priority 2 */
#define IIR_RLS          0x06 /* priority 1 (highest) */
#define IIR_CTI          0x0C /* priority 2, below RDA */
#define IIR_ID_MASK      0x0F
#define IIR_FIFO_ENABLED 0xC0 /* both bits set when FCR.0 = 1 */

#define FCR_ENABLE    0x01 /* other bits are only programmed while this is 1 */
#define FCR_CLEAR_RX  0x02 /* self-clearing */
#define FCR_CLEAR_TX  0x04 /* self-clearing */
#define FCR_DMA_MODE  0x08 /* stored, no effect: there is no DMA */
#define FCR_TRIG_1    0x00
#define FCR_TRIG_4    0x40
#define FCR_TRIG_8    0x80
#define FCR_TRIG_14   0xC0
#define FCR_TRIG_MASK 0xC0

/* LCR bits 5:0 (word length, stop bits, parity) are stored only: no framing is emulated. */
#define LCR_BREAK    0x40 /* stored only: no break is sent */
#define LCR_DLAB     0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08   /* on the PC: gates INTRPT onto the IRQ line */
#define MCR_LOOP 0x10
#define MCR_MASK 0x1F   /* bits 7:5 are always 0 */

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_PE   0x04
#define LSR_FE   0x08
#define LSR_BI   0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_RXFE 0x80   /* error in RCVR FIFO: never set, the line has no PE/FE/BI */
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04  /* RI went from 1 to 0 */
#define MSR_DDCD  0x08
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80
#define MSR_DELTAS 0x0F

struct ns16550 {
    uint16_t base;                          /* 0x3f8 for COM1, 0x2f8 for COM2 */
    void (*tx)(void *ctx, uint8_t byte);    /* a byte leaves the transmitter; not in loopback */
    void (*set_irq)(void *ctx, bool level); /* INTRPT gated by MCR.OUT2; only on changes */
    void *ctx;

    uint8_t ier, lcr, mcr, scr, dll, dlm;
    uint8_t fcr;                            /* FCR_ENABLE, FCR_DMA_MODE and trigger bits */
    uint8_t lsr_err;                        /* latched OE/PE/FE/BI, cleared by reading LSR */
    uint8_t msr;                            /* modem inputs in 7:4, deltas in 3:0 */
    uint8_t rbr_last;                       /* what an empty RBR reads: the last byte taken */

    uint8_t rx_fifo[NS16550_FIFO_SIZE];     /* ring; depth 1 (the RBR) in non-FIFO mode */
    uint8_t rx_head, rx_count;
    bool thre_pending;                      /* THRE interrupt latched, not yet acknowledged */
    bool cti_pending;                       /* character timeout reported by the VMM */
    bool irq_level;                         /* last level given to set_irq */

    uint64_t bytes_tx, bytes_rx, rx_overruns, rx_dropped; /* dropped: input during loopback */
    struct ioport_ops ops;                  /* per instance, so each port has its own name */
};

void ns16550_init(struct ns16550 *u, uint16_t base, void (*tx)(void *, uint8_t),
                  void (*set_irq)(void *, bool), void *ctx);
/* Input arriving on the serial line. False (and an overrun recorded) if the RX FIFO/RBR is
 * full: in FIFO mode this byte is lost, without FIFOs it replaces the unread RBR byte, as on
 * the chip. Also false, without an overrun, in loopback mode (the line is disconnected). */
bool ns16550_rx(struct ns16550 *u, uint8_t byte);
/* Room for more input? Lets the console hold bytes back instead of overrunning. */
bool ns16550_rx_ready(const struct ns16550 *u);
/* The receiver has been idle for 4 character times (the VMM owns the clock): raises the
 * character timeout if the FIFO holds bytes below the trigger level. */
void ns16550_rx_timeout(struct ns16550 *u);
uint8_t ns16550_read(struct ns16550 *u, uint16_t offset);      /* offset 0..7 */
void ns16550_write(struct ns16550 *u, uint16_t offset, uint8_t val);
/* Registers base..base+7 in io under name. */
bool ns16550_attach(struct ioport_table *io, struct ns16550 *u, const char *name);
#endif
