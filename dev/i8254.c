/* 8254 PIT, from the Intel 8254 datasheet (order no. 231164). The counter state is computed
 * from the clock when read, never stepped, so a guest that is not running loses no time.
 * Simplifications: a count takes effect on the clock it is written (the datasheet loads it on
 * the next CLK); in mode 3 an odd count's counting element reads as for the even count below. */
#include "i8254.h"

#define CTRL_SC_SHIFT       6
#define CTRL_SC_READBACK    3
#define CTRL_RW_SHIFT       4
#define CTRL_RW_MASK        3
#define CTRL_RW_LATCH       0
#define RW_LSB              1
#define RW_MSB              2
#define RW_LSB_MSB          3
#define CTRL_MODE_SHIFT     1
#define CTRL_MODE_MASK      7
#define CTRL_BCD            BIT(0)
#define READBACK_NO_COUNT   BIT(5)
#define READBACK_NO_STATUS  BIT(4)
#define READBACK_CH_SHIFT   1
#define STATUS_OUT          BIT(7)
#define STATUS_NULL_COUNT   BIT(6)
#define STATUS_CTRL_MASK    0x3F
#define SYSCTL_WRITABLE     0x0F
#define SYSCTL_REFRESH      BIT(4)
#define REFRESH_HALF_PERIOD 18      /* the DRAM refresh request toggles every ~15 us */
#define CH_SPEAKER          2
#define BINARY_MODULUS      65536u
#define BCD_MODULUS         10000u

static uint32_t modulus(const struct i8254_channel *c) { return c->bcd ? BCD_MODULUS : BINARY_MODULUS; }

/* The count and elapsed clocks the counting element is at; false if it is not counting. */
static bool elapsed(const struct i8254_channel *c, uint64_t now, uint32_t *n, uint64_t *d)
{
    if (!c->counting)
        return false;
    if (c->frozen) {
        *n = c->count;
        *d = c->frozen_d;
    } else if (now < c->load && c->old_count) { /* a new mode 2/3 count waits for the period's end */
        *n = c->old_count;
        *d = now - c->old_load;
    } else if (now < c->load) {         /* cannot happen with a monotonic clock: start afresh */
        *n = c->count;
        *d = 0;
    } else {
        *n = c->count;
        *d = now - c->load;
    }
    return true;
}

bool i8254_out(const struct i8254 *pit, unsigned ch, uint64_t now)
{
    const struct i8254_channel *c = &pit->ch[ch];
    uint32_t n;
    uint64_t d;
    if (!elapsed(c, now, &n, &d))
        return c->mode != 0;            /* mode 0 starts low, the others high */
    switch (c->mode) {
    case 0:
    case 1:
        return d >= n;
    case 2:
        return c->frozen || n < 2 || d % n != n - 1;
    case 3:
        return c->frozen || d % n < (n + 1) / 2;
    default:                            /* 4, 5: one clock low at terminal count */
        return c->frozen || d != n;
    }
}

uint64_t i8254_next_rising_edge(const struct i8254 *pit, unsigned ch, uint64_t after)
{
    const struct i8254_channel *c = &pit->ch[ch];
    if (!c->counting || c->frozen)
        return UINT64_MAX;
    uint64_t edge;
    switch (c->mode) {
    case 0:
    case 1:
        edge = c->load + c->count;
        break;
    case 2:
    case 3:
        if (after < c->load)            /* the pending period boundary, or the first period */
            return c->old_count ? c->load : c->load + c->count;
        edge = c->load + ((after - c->load) / c->count + 1) * c->count;
        break;
    default:
        edge = c->load + c->count + 1;
        break;
    }
    return edge > after ? edge : UINT64_MAX;
}

uint16_t i8254_counter(const struct i8254 *pit, unsigned ch, uint64_t now)
{
    const struct i8254_channel *c = &pit->ch[ch];
    uint32_t n, ce;
    uint64_t d;
    if (!elapsed(c, now, &n, &d))
        return (uint16_t)c->count_reg;  /* not started: holds what was written */
    uint32_t mod = modulus(c);
    switch (c->mode) {
    case 2:
        ce = n - (uint32_t)(d % n);
        break;
    case 3: {
        uint32_t p = (uint32_t)(d % n), high = (n + 1) / 2;
        ce = (n & ~1u) - 2 * (p < high ? p : p - high);
        break;
    }
    default:                            /* 0, 1, 4, 5 count down through 0 and wrap */
        ce = (uint32_t)((n + mod - d % mod) % mod);
        break;
    }
    if (ce == mod)
        ce = 0;                         /* a full count reads as 0 */
    if (c->bcd)
        ce = (ce / 1000) << 12 | (ce / 100 % 10) << 8 | (ce / 10 % 10) << 4 | ce % 10;
    return (uint16_t)ce;
}

static uint64_t now_of(struct i8254 *pit) { return dev_clock_now(&pit->clock); }

/* A new count in the count register reaches the counting element as the mode says. */
static void load_count(struct i8254_channel *c, uint32_t raw, uint64_t now)
{
    uint32_t n = raw;
    if (c->bcd)
        n = (raw >> 12 & 0xF) * 1000 + (raw >> 8 & 0xF) * 100 + (raw >> 4 & 0xF) * 10 + (raw & 0xF);
    if (n == 0)
        n = modulus(c);
    c->count_reg = n;
    c->null_until = now + 1;
    switch (c->mode) {
    case 1:
    case 5:
        c->null_until = UINT64_MAX;     /* waits for a gate trigger */
        break;
    case 2:
    case 3:
        if (c->counting && !c->frozen && now >= c->load) {
            /* The current period runs out first. */
            uint64_t end = c->load + ((now - c->load) / c->count + 1) * c->count;
            c->old_count = c->count;
            c->old_load = c->load;
            c->count = n;
            c->load = end;
            c->null_until = end;
            break;
        }
        /* fall through */
    default:
        c->count = n;
        c->load = now;
        c->old_count = 0;
        c->counting = true;
        c->frozen = !c->gate;           /* 0/4: paused at the full count; 2/3: OUT held high */
        c->frozen_d = 0;
        break;
    }
}

static void write_counter(struct i8254_channel *c, uint8_t val, uint64_t now)
{
    switch (c->rw) {
    case RW_LSB: load_count(c, val, now); break;
    case RW_MSB: load_count(c, (uint32_t)val << 8, now); break;
    default:
        if (!c->write_msb) {
            c->write_lsb = val;
            c->write_msb = true;
            if (c->mode == 0)
                c->counting = false;    /* the first byte stops a mode 0 count (OUT low) */
        } else {
            c->write_msb = false;
            load_count(c, (uint32_t)val << 8 | c->write_lsb, now);
        }
        break;
    }
}

static void latch_count(struct i8254_channel *c, uint16_t value)
{
    if (c->count_latched)
        return;                         /* the first latch holds until it is read */
    c->count_latched = true;
    c->latch_msb = false;
    c->latch = value;
}

static uint8_t read_counter(struct i8254 *pit, unsigned ch)
{
    struct i8254_channel *c = &pit->ch[ch];
    uint64_t now = now_of(pit);
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t value = c->count_latched ? c->latch : i8254_counter(pit, ch, now);
    bool msb;
    if (c->rw == RW_LSB_MSB) {
        bool *ff = c->count_latched ? &c->latch_msb : &c->read_msb;
        msb = *ff;
        *ff = !*ff;
        if (msb)
            c->count_latched = false;
    } else {
        msb = c->rw == RW_MSB;
        c->count_latched = false;
    }
    return msb ? value >> 8 : value & 0xFF;
}

static void write_control(struct i8254 *pit, uint8_t val)
{
    uint64_t now = now_of(pit);
    unsigned sc = val >> CTRL_SC_SHIFT;
    if (sc == CTRL_SC_READBACK) {
        for (unsigned ch = 0; ch < I8254_CHANNELS; ch++) {
            struct i8254_channel *c = &pit->ch[ch];
            if (!(val & BIT(READBACK_CH_SHIFT + ch)))
                continue;
            if (!(val & READBACK_NO_COUNT))
                latch_count(c, i8254_counter(pit, ch, now));
            if (!(val & READBACK_NO_STATUS) && !c->status_latched) {
                c->status_latched = true;
                c->status = (uint8_t)((i8254_out(pit, ch, now) ? STATUS_OUT : 0) |
                                      (now < c->null_until ? STATUS_NULL_COUNT : 0) |
                                      (c->rw << CTRL_RW_SHIFT) | (c->mode << CTRL_MODE_SHIFT) |
                                      (c->bcd ? CTRL_BCD : 0));
            }
        }
        return;
    }
    struct i8254_channel *c = &pit->ch[sc];
    unsigned rw = (val >> CTRL_RW_SHIFT) & CTRL_RW_MASK;
    if (rw == CTRL_RW_LATCH) {
        latch_count(c, i8254_counter(pit, sc, now));
        return;
    }
    unsigned mode = (val >> CTRL_MODE_SHIFT) & CTRL_MODE_MASK;
    c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode);   /* 6 and 7 are modes 2 and 3 */
    c->rw = (uint8_t)rw;
    c->bcd = val & CTRL_BCD;
    c->counting = c->frozen = false;
    c->old_count = 0;
    c->write_msb = c->read_msb = false;
    c->count_latched = c->status_latched = false;
    c->null_until = UINT64_MAX;
}

static void set_gate(struct i8254 *pit, unsigned ch, bool gate)
{
    struct i8254_channel *c = &pit->ch[ch];
    if (gate == c->gate)
        return;
    uint64_t now = now_of(pit);
    c->gate = gate;
    switch (c->mode) {
    case 0:
    case 4:                             /* the gate pauses counting */
        if (!c->counting)
            break;
        if (!gate) {
            uint32_t n;
            elapsed(c, now, &n, &c->frozen_d);
            c->frozen = true;
        } else if (c->frozen) {
            c->load = now - c->frozen_d;
            c->frozen = false;
        }
        break;
    case 1:
    case 5:                             /* a rising gate (re)triggers with the count register */
        if (gate && c->count_reg) {
            c->count = c->count_reg;
            c->load = now;
            c->old_count = 0;
            c->counting = true;
            c->null_until = now + 1;
        }
        break;
    default:                            /* 2, 3: low holds OUT high; rising reloads */
        if (!c->counting)
            break;
        if (!gate) {
            c->frozen = true;
            c->frozen_d = 0;
        } else {
            c->frozen = false;
            c->load = now;
            c->old_count = 0;
        }
        break;
    }
}

uint8_t i8254_read(struct i8254 *pit, uint16_t port)
{
    if (port == PORT_SYSCTL_B) {
        uint64_t now = now_of(pit);
        return (uint8_t)((pit->sysctl & SYSCTL_WRITABLE) |
                         ((now / REFRESH_HALF_PERIOD) & 1 ? SYSCTL_REFRESH : 0) |
                         (i8254_out(pit, CH_SPEAKER, now) ? SYSCTL_OUT2 : 0));
    }
    if (port >= I8254_PORT_CH0 && port < I8254_PORT_CH0 + I8254_CHANNELS)
        return read_counter(pit, port - I8254_PORT_CH0);
    return 0xFF;                        /* the control word register cannot be read */
}

void i8254_write(struct i8254 *pit, uint16_t port, uint8_t val)
{
    if (port == PORT_SYSCTL_B) {
        pit->sysctl = val & SYSCTL_WRITABLE;
        set_gate(pit, CH_SPEAKER, val & SYSCTL_GATE2);  /* channel 2 drives no IRQ */
        return;
    }
    if (port == I8254_PORT_CMD)
        write_control(pit, val);
    else if (port >= I8254_PORT_CH0 && port < I8254_PORT_CH0 + I8254_CHANNELS)
        write_counter(&pit->ch[port - I8254_PORT_CH0], val, now_of(pit));
    else
        return;
    dev_clock_moved(&pit->clock);       /* channel 0 may have been reprogrammed */
}

void i8254_catch_up(struct i8254 *pit)
{
    uint64_t now = now_of(pit);
    uint64_t edge = i8254_next_rising_edge(pit, 0, pit->out0_checked);
    if (edge <= now) {
        pit->out0_edges++;
        if (i8254_next_rising_edge(pit, 0, edge) <= now)
            pit->out0_late++;
        if (pit->out0_edge)
            pit->out0_edge(pit->ctx);
    }
    pit->out0_checked = now;
}

uint64_t i8254_next_irq(const struct i8254 *pit)
{
    return i8254_next_rising_edge(pit, 0, pit->out0_checked);
}

void i8254_init(struct i8254 *pit, uint64_t (*clock)(void *ctx), void (*out0_edge)(void *ctx), void *ctx)
{
    *pit = (struct i8254){ .out0_edge = out0_edge, .ctx = ctx };
    dev_clock_init(&pit->clock, clock, ctx);
    pit->out0_checked = pit->clock.last;
    for (unsigned ch = 0; ch < I8254_CHANNELS; ch++) {
        pit->ch[ch].rw = RW_LSB_MSB;
        pit->ch[ch].null_until = UINT64_MAX;
        pit->ch[ch].gate = ch != CH_SPEAKER;    /* gates 0/1 are tied high; 2 is port 0x61 bit 0 */
    }
}

static uint32_t pit_in(void *dev, uint16_t port, unsigned size) { return i8254_read(dev, port); }
static void pit_out(void *dev, uint16_t port, unsigned size, uint32_t val) { i8254_write(dev, port, (uint8_t)val); }
static const struct ioport_ops pit_ops = { .name = "pit", .in = pit_in, .out = pit_out, .bytewise = true };
static const struct ioport_ops sysctl_ops = { .name = "port61", .in = pit_in, .out = pit_out, .bytewise = true };

bool i8254_attach(struct ioport_table *io, struct i8254 *pit)
{
    return ioport_register(io, I8254_PORT_CH0, 4, &pit_ops, pit) &&
           ioport_register(io, PORT_SYSCTL_B, 1, &sysctl_ops, pit);
}
