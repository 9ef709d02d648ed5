/* NS16550A UART model. See ns16550.h for what is and is not emulated. Every register access
 * ends with irq_update(), so the INTRPT line always follows the IIR, and set_irq() sees
 * edges only. */
#include "compiler.h"
#include "dev/ioport.h"
#include "dev/ns16550.h"

STATIC_ASSERT((NS16550_FIFO_SIZE & (NS16550_FIFO_SIZE - 1)) == 0, "ring index uses a mask");
STATIC_ASSERT(NS16550_FIFO_SIZE <= 255, "rx_count is a uint8_t");

static bool fifo_on(const struct ns16550 *u)
{
    return u->fcr & FCR_ENABLE;
}

/* Non-FIFO mode is a one-byte FIFO: the RBR. */
static unsigned rx_capacity(const struct ns16550 *u)
{
    return fifo_on(u) ? NS16550_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct ns16550 *u)
{
    if (!fifo_on(u))
        return 1;
    switch (u->fcr & FCR_TRIG_MASK) {
    case FCR_TRIG_1:  return 1;
    case FCR_TRIG_4:  return 4;
    case FCR_TRIG_8:  return 8;
    default:          return 14;
    }
}

/* The highest-priority pending source, as IIR bits 3:0. */
static uint8_t iir_id(const struct ns16550 *u)
{
    if ((u->ier & IER_ELSI) && u->lsr_err)
        return IIR_RLS;
    if (u->ier & IER_ERBFI) {
        if (u->rx_count >= rx_trigger(u))
            return IIR_RDA;
        /* The timeout exists only with FIFOs: in non-FIFO mode any byte is already RDA. */
        if (fifo_on(u) && u->cti_pending && u->rx_count)
            return IIR_CTI;
    }
    if ((u->ier & IER_ETBEI) && u->thre_pending)
        return IIR_THRE;
    if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTAS))
        return IIR_MS;
    return IIR_NO_INT;
}

static void irq_update(struct ns16550 *u)
{
    /* The PC routes INTRPT through a buffer enabled by OUT2; without it the IRQ stays low. */
    bool level = iir_id(u) != IIR_NO_INT && (u->mcr & MCR_OUT2);
    if (level == u->irq_level)
        return;
    u->irq_level = level;
    if (u->set_irq)
        u->set_irq(u->ctx, level);
}

static void rx_clear(struct ns16550 *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
    u->cti_pending = false;     /* nothing left to time out */
}

/* A character reaches the receiver, from the line or from the loopback path. */
static bool rx_push(struct ns16550 *u, uint8_t byte)
{
    /* A new character restarts the idle timer, so a reported timeout no longer holds. */
    u->cti_pending = false;
    if (u->rx_count < rx_capacity(u)) {
        u->rx_fifo[(u->rx_head + u->rx_count) & (NS16550_FIFO_SIZE - 1)] = byte;
        u->rx_count++;
        u->bytes_rx++;
        return true;
    }
    u->lsr_err |= LSR_OE;
    u->rx_overruns++;
    /* Datasheet: in FIFO mode the character in the shift register is overwritten and the
     * FIFO kept; without FIFOs the new character replaces the unread one in the RBR. */
    if (!fifo_on(u)) {
        u->rx_fifo[u->rx_head] = byte;
        u->bytes_rx++;
    }
    return false;
}

static uint8_t rbr_read(struct ns16550 *u)
{
    if (u->rx_count) {
        u->rbr_last = u->rx_fifo[u->rx_head];
        u->rx_head = (uint8_t)((u->rx_head + 1) & (NS16550_FIFO_SIZE - 1));
        u->rx_count--;
    }
    /* A CPU read of the FIFO restarts the timeout timer (and clears CTI). */
    u->cti_pending = false;
    return u->rbr_last;         /* an empty RBR still holds the last character */
}

/* MSR bits 7:4 are the modem inputs: a connected terminal normally, MCR in loopback. */
static uint8_t modem_inputs(uint8_t mcr)
{
    if (!(mcr & MCR_LOOP))
        return MSR_DCD | MSR_DSR | MSR_CTS;
    return (uint8_t)(((mcr & MCR_DTR) ? MSR_DSR : 0) | ((mcr & MCR_RTS) ? MSR_CTS : 0) |
                     ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0));
}

static void modem_inputs_set(struct ns16550 *u, uint8_t in)
{
    uint8_t old = u->msr & ~MSR_DELTAS, chg = old ^ in, d = u->msr & MSR_DELTAS;
    if (chg & MSR_CTS)
        d |= MSR_DCTS;
    if (chg & MSR_DSR)
        d |= MSR_DDSR;
    if ((old & MSR_RI) && !(in & MSR_RI))   /* trailing edge only */
        d |= MSR_TERI;
    if (chg & MSR_DCD)
        d |= MSR_DDCD;
    u->msr = (uint8_t)(in | d);
}

static void thr_write(struct ns16550 *u, uint8_t val)
{
    u->thre_pending = false;    /* writing THR acknowledges the THRE interrupt */
    if (u->mcr & MCR_LOOP) {
        rx_push(u, val);        /* TSR feeds the RSR internally; the line stays marking */
    } else {
        u->bytes_tx++;
        if (u->tx)
            u->tx(u->ctx, val);
    }
    /* Transmission takes no time here, so the THR is empty again: a new THRE event. */
    u->thre_pending = true;
}

static void ier_write(struct ns16550 *u, uint8_t val)
{
    uint8_t old = u->ier;
    u->ier = val & IER_MASK;
    /* Enabling ETBEI with the THR empty raises THRE at once (Linux's UART_BUG_THRE probe
     * relies on it); disabling drops the latch, the next enable raises it again. */
    if ((u->ier & IER_ETBEI) && !(old & IER_ETBEI))
        u->thre_pending = true;
    else if (!(u->ier & IER_ETBEI))
        u->thre_pending = false;
}

static void fcr_write(struct ns16550 *u, uint8_t val)
{
    if ((val ^ u->fcr) & FCR_ENABLE)
        rx_clear(u);            /* changing FIFO mode clears both FIFOs (TX is always empty) */
    if (!(val & FCR_ENABLE)) {
        u->fcr = 0;             /* the other bits are only programmed with bit 0 set */
        return;
    }
    if (val & FCR_CLEAR_RX)
        rx_clear(u);
    /* FCR_CLEAR_TX: the transmitter FIFO is always empty already; nothing to do. */
    u->fcr = val & (FCR_ENABLE | FCR_DMA_MODE | FCR_TRIG_MASK);
}

static uint8_t reg_read(struct ns16550 *u, unsigned off)
{
    bool dlab = u->lcr & LCR_DLAB;
    uint8_t v;
    switch (off) {
    case UART_RBR:
        return dlab ? u->dll : rbr_read(u);
    case UART_IER:
        return dlab ? u->dlm : u->ier;
    case UART_IIR:
        v = iir_id(u);
        if (v == IIR_THRE)
            u->thre_pending = false;    /* reading IIR acknowledges THRE when it shows it */
        return (uint8_t)(v | (fifo_on(u) ? IIR_FIFO_ENABLED : 0));
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        v = (uint8_t)((u->rx_count ? LSR_DR : 0) | u->lsr_err | LSR_THRE | LSR_TEMT);
        u->lsr_err = 0;                 /* errors are reported once */
        return v;
    case UART_MSR:
        v = u->msr;
        u->msr &= ~MSR_DELTAS;
        return v;
    default:
        return u->scr;
    }
}

static void reg_write(struct ns16550 *u, unsigned off, uint8_t val)
{
    bool dlab = u->lcr & LCR_DLAB;
    switch (off) {
    case UART_THR:
        if (dlab)
            u->dll = val;
        else
            thr_write(u, val);
        break;
    case UART_IER:
        if (dlab)
            u->dlm = val;
        else
            ier_write(u, val);
        break;
    case UART_FCR:
        fcr_write(u, val);
        break;
    case UART_LCR:
        u->lcr = val;
        break;
    case UART_MCR:
        u->mcr = val & MCR_MASK;
        modem_inputs_set(u, modem_inputs(u->mcr));
        break;
    case UART_LSR:
    case UART_MSR:
        break;                          /* status registers: writes are factory test only */
    default:
        u->scr = val;
        break;
    }
}

uint8_t ns16550_read(struct ns16550 *u, uint16_t offset)
{
    uint8_t v = reg_read(u, offset & 7u);   /* only A2:A0 are decoded */
    irq_update(u);
    return v;
}

void ns16550_write(struct ns16550 *u, uint16_t offset, uint8_t val)
{
    reg_write(u, offset & 7u, val);
    irq_update(u);
}

bool ns16550_rx(struct ns16550 *u, uint8_t byte)
{
    if (u->mcr & MCR_LOOP) {
        u->rx_dropped++;                /* SIN is disconnected from the receiver */
        return false;
    }
    bool ok = rx_push(u, byte);
    irq_update(u);
    return ok;
}

bool ns16550_rx_ready(const struct ns16550 *u)
{
    return !(u->mcr & MCR_LOOP) && u->rx_count < rx_capacity(u);
}

void ns16550_rx_timeout(struct ns16550 *u)
{
    if (fifo_on(u) && u->rx_count && u->rx_count < rx_trigger(u))
        u->cti_pending = true;
    irq_update(u);
}

void ns16550_init(struct ns16550 *u, uint16_t base, void (*tx)(void *, uint8_t),
                  void (*set_irq)(void *, bool), void *ctx)
{
    u->base = base;
    u->tx = tx;
    u->set_irq = set_irq;
    u->ctx = ctx;
    /* Master-reset values from the datasheet; DLL/DLM and SCR are not reset by the chip,
     * so pick 9600 baud (divisor 12), the usual firmware setting. */
    u->ier = u->lcr = u->mcr = u->scr = u->fcr = u->lsr_err = 0;
    u->dll = 12;
    u->dlm = 0;
    u->msr = modem_inputs(0);   /* no deltas at reset */
    u->rbr_last = 0;
    for (unsigned i = 0; i < NS16550_FIFO_SIZE; i++)
        u->rx_fifo[i] = 0;
    rx_clear(u);
    u->thre_pending = false;    /* IER is 0: no THRE event until ETBEI is enabled */
    u->irq_level = false;       /* OUT2 is 0, so the line starts low; no call needed */
    u->bytes_tx = u->bytes_rx = u->rx_overruns = u->rx_dropped = 0;
    u->ops = (struct ioport_ops){ .name = NULL };   /* filled in by ns16550_attach */
}

/* ops.bytewise makes the dispatcher split wider accesses into byte cycles, each reaching
 * the owner of its port, as the ISA bus does for an 8-bit chip: size is always 1 here. */
static uint32_t ns16550_port_in(void *dev, uint16_t port, unsigned size)
{
    struct ns16550 *u = dev;
    return ns16550_read(u, (uint16_t)(port - u->base));
}

static void ns16550_port_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct ns16550 *u = dev;
    ns16550_write(u, (uint16_t)(port - u->base), (uint8_t)val);
}

bool ns16550_attach(struct ioport_table *io, struct ns16550 *u, const char *name)
{
    u->ops = (struct ioport_ops){ .name = name, .in = ns16550_port_in,
                                  .out = ns16550_port_out, .bytewise = true };
    return ioport_register(io, u->base, NS16550_NPORTS, &u->ops, u);
}
