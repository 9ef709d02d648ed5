/* System control ports, from the PS/2 technical reference (port 0x92) and the Intel PIIX4 /
 * ICH datasheets (reset control register 0xCF9). */
#include "dev/sysreset.h"

#define SYSCTL_A_MASK   (SYSCTL_A_FAST_RESET | SYSCTL_A_A20)    /* the bits modelled */
#define RESET_CTL_MASK  (RESET_CTL_STICKY | RESET_CTL_RST_CPU)
#define OPEN_BUS        0xFF

void sysreset_init(struct sysreset *s, void (*reset)(void *, const char *), void (*set_a20)(void *, bool), void *ctx)
{
    *s = (struct sysreset){ .reset = reset, .set_a20 = set_a20, .ctx = ctx, .port92 = SYSCTL_A_DEFAULT };
}

static void do_reset(struct sysreset *s, const char *why)
{
    if (s->reset)
        s->reset(s->ctx, why);
}

uint8_t sysreset_read(struct sysreset *s, uint16_t port)
{
    switch (port) {
    case PORT_POST:      return s->post;
    case PORT_SYSCTL_A:  return s->port92 & (uint8_t)~SYSCTL_A_FAST_RESET;
    case PORT_RESET_CTL: return s->cf9;
    default:             return OPEN_BUS;
    }
}

void sysreset_write(struct sysreset *s, uint16_t port, uint8_t val)
{
    if (port == PORT_POST) {
        s->post = val;
        s->post_writes++;
    } else if (port == PORT_SYSCTL_A) {
        uint8_t old = s->port92;
        s->port92 = val & SYSCTL_A_MASK;
        if (((old ^ val) & SYSCTL_A_A20) && s->set_a20)
            s->set_a20(s->ctx, val & SYSCTL_A_A20);
        /* Only the edge resets: a guest must write 0 before it can pulse again. */
        if ((val & SYSCTL_A_FAST_RESET) && !(old & SYSCTL_A_FAST_RESET))
            do_reset(s, "port 0x92 fast reset");
    } else if (port == PORT_RESET_CTL) {
        /* RST_CPU is stored as 0: the reset it starts is over once a read can see it, so
         * every write with bit 2 set is a 0->1 transition (Linux writes 0x02, then 0x06). */
        s->cf9 = val & RESET_CTL_STICKY;
        if (val & RESET_CTL_RST_CPU)
            do_reset(s, (val & RESET_CTL_STICKY) ? "0xCF9 hard reset" : "0xCF9 soft reset");
    }
}

static uint32_t sysreset_in(void *dev, uint16_t port, unsigned size) { return sysreset_read(dev, port); }
static void sysreset_out(void *dev, uint16_t port, unsigned size, uint32_t val) { sysreset_write(dev, port, (uint8_t)val); }

static const struct ioport_ops post_ops = { .name = "post", .in = sysreset_in, .out = sysreset_out, .bytewise = true };
static const struct ioport_ops port92_ops = { .name = "port92", .in = sysreset_in, .out = sysreset_out, .bytewise = true };
static const struct ioport_ops cf9_ops = { .name = "reset-cf9", .in = sysreset_in, .out = sysreset_out, .bytewise = true };

bool sysreset_attach(struct ioport_table *io, struct sysreset *s)
{
    return ioport_register(io, PORT_POST, 1, &post_ops, s) &&
           ioport_register(io, PORT_SYSCTL_A, 1, &port92_ops, s) &&
           ioport_register(io, PORT_RESET_CTL, 1, &cf9_ops, s);
}
