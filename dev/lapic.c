/* Local APIC, from the Intel SDM vol. 3A ch. 11 (section numbers as in editions where the
 * APIC is chapter 11). The timer is computed from the clock when asked, never stepped, and
 * every entry point first catches it up to now, so what the guest reads is the state at now.
 * Simplifications: no remote IRR on LINT0/LINT1, no APR (reads 0: it only served the P6
 * bus arbitration), no remote read; delivery is instant, so delivery-status bits read 0; an
 * illegal LVT vector is reported when the interrupt is raised, not when it is written. */
#include "lapic.h"

#define LVT_TIMER_WRITABLE      (LVT_VECTOR_MASK | LVT_MASKED | LVT_TIMER_MODE_MASK)
#define LVT_MODE_WRITABLE       (LVT_VECTOR_MASK | LVT_DELIVERY_MASK | LVT_MASKED)
#define LVT_LINT_WRITABLE       (LVT_MODE_WRITABLE | LVT_POLARITY_LOW | LVT_LEVEL)
#define LVT_ERROR_WRITABLE      (LVT_VECTOR_MASK | LVT_MASKED)
/* Read-only bits a guest may write back as it read them without a #GP in x2APIC mode. */
#define LVT_READ_ONLY           (LVT_DELIVERY_STATUS | LVT_REMOTE_IRR)

#define TIMER_ONESHOT           0u
#define TIMER_PERIODIC          1u
#define TIMER_DEADLINE          2u
#define DCR_LOW_BITS            3u              /* divide value bits 1:0 */
#define DCR_HIGH_SHIFT          1               /* bit 3 becomes bit 2 of the value */
#define DCR_HIGH_BIT            4u
#define DCR_VALUES              8u              /* value v divides by 2^(v+1) mod 8 */
#define BITS_PER_REG            32u
#define REG_HIGH_SHIFT          32
#define X2APIC_ID_LOW_MASK      0xFu
#define XAPIC_LOGICAL_CLUSTER_SHIFT 4
#define XAPIC_CLUSTER_BROADCAST 0xFu
#define XAPIC_CLUSTER_MEMBERS   0xFu
#define X2APIC_CLUSTER_MEMBERS  0xFFFFu
#define LINT_PINS               2
#define NEVER                   UINT64_MAX

static const uint32_t lvt_writable[LAPIC_LVT_COUNT] = {
    [LAPIC_LVT_IDX_TIMER] = LVT_TIMER_WRITABLE,
    [LAPIC_LVT_IDX_THERMAL] = LVT_MODE_WRITABLE,
    [LAPIC_LVT_IDX_PERF] = LVT_MODE_WRITABLE,
    [LAPIC_LVT_IDX_LINT0] = LVT_LINT_WRITABLE,
    [LAPIC_LVT_IDX_LINT1] = LVT_LINT_WRITABLE,
    [LAPIC_LVT_IDX_ERROR] = LVT_ERROR_WRITABLE,
};

/* ---- small helpers ---------------------------------------------------------------------- */

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static bool hw_enabled(const struct lapic *l) { return l->base & APIC_BASE_EN; }
static bool x2apic_mode(const struct lapic *l) { return hw_enabled(l) && (l->base & APIC_BASE_EXTD); }
static bool sw_enabled(const struct lapic *l) { return hw_enabled(l) && (l->svr & LAPIC_SVR_ENABLE); }

static bool test_vec(const uint32_t *bm, unsigned v) { return bm[v / BITS_PER_REG] & (1u << v % BITS_PER_REG); }
static void set_vec(uint32_t *bm, unsigned v) { bm[v / BITS_PER_REG] |= 1u << v % BITS_PER_REG; }
static void clear_vec(uint32_t *bm, unsigned v) { bm[v / BITS_PER_REG] &= ~(1u << v % BITS_PER_REG); }

static int highest_vec(const uint32_t *bm)
{
    for (int i = LAPIC_BITMAP_REGS - 1; i >= 0; i--)
        if (bm[i])
            return i * (int)BITS_PER_REG + (int)BITS_PER_REG - 1 - __builtin_clz(bm[i]);
    return -1;
}

uint32_t lapic_ppr(const struct lapic *l)
{
    /* SDM 11.8.3.1: TPR if its class is at least the in-service class, else that class. */
    int isrv = highest_vec(l->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & LAPIC_PRIO_CLASS;
    uint32_t tpr = l->tpr & LAPIC_TPR_MASK;
    return (tpr & LAPIC_PRIO_CLASS) >= isr_class ? tpr : isr_class;
}

/* ---- errors and acceptance ------------------------------------------------------------- */

static bool accept(struct lapic *l, uint8_t vector, bool level);

/* SDM 11.5.3: errors accumulate until the next ESR write; the error LVT interrupts once per
 * ESR write (the write rearms it). An illegal error vector cannot loop: it is disarmed first. */
static void signal_error(struct lapic *l, uint32_t bits)
{
    l->esr_pending |= bits;
    uint32_t lvt = l->lvt[LAPIC_LVT_IDX_ERROR];
    if (!l->error_armed || (lvt & LVT_MASKED) || !sw_enabled(l))
        return;
    l->error_armed = false;
    accept(l, (uint8_t)(lvt & LVT_VECTOR_MASK), false);
}

static bool accept(struct lapic *l, uint8_t vector, bool level)
{
    if (!sw_enabled(l)) {
        l->dropped++;
        return false;
    }
    if (vector < LAPIC_FIRST_VECTOR) {
        l->illegal_vectors++;
        signal_error(l, LAPIC_ESR_RECV_ILLEGAL);
        return false;
    }
    set_vec(l->irr, vector);
    if (level)
        set_vec(l->tmr, vector);
    else
        clear_vec(l->tmr, vector);
    l->accepted++;
    return true;
}

/* ---- timer ------------------------------------------------------------------------------ */

static uint64_t now_of(struct lapic *l) { return dev_clock_now(&l->clock); }
static unsigned timer_mode(const struct lapic *l)
{
    return (l->lvt[LAPIC_LVT_IDX_TIMER] & LVT_TIMER_MODE_MASK) >> LVT_TIMER_MODE_SHIFT;
}
static bool counting_mode(const struct lapic *l) { return timer_mode(l) <= TIMER_PERIODIC; }

/* SDM Figure 11-10: bits 0, 1 and 3 hold v; the divisor is 2^(v+1), 111b divides by 1. */
static uint64_t divider(const struct lapic *l)
{
    uint32_t v = (l->timer_dcr & DCR_LOW_BITS) | ((l->timer_dcr >> DCR_HIGH_SHIFT) & DCR_HIGH_BIT);
    return 1ull << ((v + 1) % DCR_VALUES);
}

/* Clocks that c counts take at the current rate; a stretched period spreads its counts
 * evenly over LAPIC_MIN_PERIOD (c <= timer_icr < LAPIC_MIN_PERIOD then: no overflow). */
static uint64_t count_ticks(const struct lapic *l, uint32_t c)
{
    if (l->timer_stretched)
        return (uint64_t)c * l->timer_period / l->timer_icr;
    return (uint64_t)c * divider(l);
}

/* The period for the current ICR/DCR/mode; a hostile short periodic timer is stretched. */
static void set_period(struct lapic *l)
{
    l->timer_period = (uint64_t)l->timer_icr * divider(l);
    l->timer_stretched = timer_mode(l) == TIMER_PERIODIC && l->timer_period < LAPIC_MIN_PERIOD;
    if (l->timer_stretched) {
        l->timer_period = LAPIC_MIN_PERIOD;
        l->timer_clamped++;
    }
}

/* Starts counting down from c at clock now. */
static void timer_start(struct lapic *l, uint32_t c, uint64_t now)
{
    l->timer_load = now;
    l->timer_count = c;
    l->timer_first = sat_add(now, count_ticks(l, c));
    l->timer_armed = c != 0;
}

static uint32_t ccr_at(const struct lapic *l, uint64_t now)
{
    if (!l->timer_armed || !counting_mode(l))
        return 0;
    if (now < l->timer_first) {
        uint64_t e = now < l->timer_load ? 0 : now - l->timer_load;
        uint64_t len = l->timer_first - l->timer_load;
        uint64_t done = l->timer_stretched ? e * l->timer_count / len : e / divider(l);
        return l->timer_count - (uint32_t)done;
    }
    if (timer_mode(l) == TIMER_ONESHOT)
        return 0;                       /* stays at 0 until reprogrammed */
    uint64_t e = (now - l->timer_first) % l->timer_period;
    uint64_t done = l->timer_stretched ? e * l->timer_icr / l->timer_period : e / divider(l);
    return l->timer_icr - (uint32_t)done;   /* reloaded at each expiry */
}

/* Expiries at clocks <= x. */
static uint64_t expiries_upto(const struct lapic *l, uint64_t x)
{
    if (!l->timer_armed || x < l->timer_first || l->timer_first == NEVER)
        return 0;
    if (timer_mode(l) == TIMER_ONESHOT)
        return 1;
    return (x - l->timer_first) / l->timer_period + 1;
}

/* The first expiry after clock x, whether or not the guest can see it. */
static uint64_t next_expiry(const struct lapic *l, uint64_t x)
{
    if (timer_mode(l) == TIMER_DEADLINE)
        return l->deadline_tick;
    if (!counting_mode(l) || !l->timer_armed)
        return NEVER;
    if (x < l->timer_first)
        return l->timer_first;
    if (timer_mode(l) == TIMER_ONESHOT)
        return NEVER;
    uint64_t k = (x - l->timer_first) / l->timer_period + 1;
    if (k > (UINT64_MAX - l->timer_first) / l->timer_period)
        return NEVER;
    return l->timer_first + k * l->timer_period;
}

bool lapic_timer_enabled(const struct lapic *l)
{
    return sw_enabled(l) && !(l->lvt[LAPIC_LVT_IDX_TIMER] & LVT_MASKED);
}

uint64_t lapic_timer_next(const struct lapic *l)
{
    return lapic_timer_enabled(l) ? next_expiry(l, l->timer_checked) : NEVER;
}

/* n expiries happened: one interrupt, as IRR holds one bit; a masked timer raises nothing. */
static void timer_expired(struct lapic *l, uint64_t n)
{
    if (!lapic_timer_enabled(l)) {
        l->timer_masked += n;
        return;
    }
    l->timer_fired++;
    l->timer_merged += n - 1;
    accept(l, (uint8_t)(l->lvt[LAPIC_LVT_IDX_TIMER] & LVT_VECTOR_MASK), false);
}

static void disarm_deadline(struct lapic *l)
{
    l->tsc_deadline = 0;
    l->deadline_tick = NEVER;
}

void lapic_timer_catch_up(struct lapic *l)
{
    uint64_t now = now_of(l);
    if (now <= l->timer_checked)
        return;
    uint64_t n = 0;
    if (counting_mode(l)) {
        n = expiries_upto(l, now) - expiries_upto(l, l->timer_checked);
        if (n && timer_mode(l) == TIMER_ONESHOT)
            l->timer_armed = false;
    } else if (timer_mode(l) == TIMER_DEADLINE && l->deadline_tick != NEVER && l->deadline_tick <= now) {
        n = 1;
        disarm_deadline(l);             /* SDM 11.5.4.1: it disarms and clears itself */
    }
    l->timer_checked = now;
    if (n)
        timer_expired(l, n);
}

uint32_t lapic_timer_ccr(struct lapic *l)
{
    lapic_timer_catch_up(l);
    return ccr_at(l, l->timer_checked);
}

static void timer_stop(struct lapic *l)
{
    l->timer_armed = false;
    disarm_deadline(l);
}

/* SDM 11.5.4: a write starts (or restarts) the count; 0 stops it. Ignored in TSC-deadline
 * mode (11.5.4.1) and in the reserved mode. */
static void write_timer_icr(struct lapic *l, uint32_t val)
{
    if (!counting_mode(l))
        return;
    l->timer_icr = val;
    if (!val) {
        l->timer_armed = false;
        return;
    }
    set_period(l);
    timer_start(l, val, l->timer_checked);
}

/* A new divisor: the count goes on from where it is, at the new rate. */
static void write_dcr(struct lapic *l, uint32_t val)
{
    uint64_t now = l->timer_checked;
    bool running = l->timer_armed && counting_mode(l);
    uint32_t c = running ? ccr_at(l, now) : 0;
    l->timer_dcr = val & LAPIC_DCR_MASK;
    if (running) {
        set_period(l);
        timer_start(l, c, now);
    }
}

void lapic_write_tsc_deadline(struct lapic *l, uint64_t deadline, uint64_t tsc_now, uint64_t tsc_hz)
{
    lapic_timer_catch_up(l);
    if (timer_mode(l) != TIMER_DEADLINE || !hw_enabled(l))
        return;                         /* writes outside TSC-deadline mode are ignored */
    uint64_t before = lapic_timer_next(l);
    if (!deadline) {
        disarm_deadline(l);
    } else if (deadline <= tsc_now) {
        disarm_deadline(l);             /* already due: fires now */
        timer_expired(l, 1);
    } else {
        uint64_t delta = deadline - tsc_now, ticks = NEVER;
        if (tsc_hz) {
            /* delta * HZ / tsc_hz rounded up, in 64 bits: whole seconds, then the rest. */
            uint64_t whole = delta / tsc_hz, rem = delta % tsc_hz, hz = tsc_hz;
            while (hz > UINT64_MAX / LAPIC_TIMER_HZ) {      /* absurd rates: less precision */
                hz >>= 1;
                rem >>= 1;
            }
            uint64_t part = rem * LAPIC_TIMER_HZ;
            part = part / hz + (part % hz != 0);
            ticks = whole > UINT64_MAX / LAPIC_TIMER_HZ ? NEVER
                                                        : sat_add(whole * LAPIC_TIMER_HZ, part);
        }
        l->tsc_deadline = deadline;
        l->deadline_tick = sat_add(l->timer_checked, MAX(ticks, 1));
    }
    if (lapic_timer_next(l) != before)
        dev_clock_moved(&l->clock);
}

uint64_t lapic_read_tsc_deadline(struct lapic *l)
{
    lapic_timer_catch_up(l);
    return l->tsc_deadline;
}

/* ---- state ----------------------------------------------------------------------------- */

/* Every register to its power-on value (SDM 11.4.7.1) but the ID and IA32_APIC_BASE. */
static void reset_registers(struct lapic *l)
{
    l->tpr = l->ldr = 0;
    l->dfr = LAPIC_DFR_FLAT | LAPIC_DFR_ONES;
    l->svr = LAPIC_SVR_RESET;
    l->esr = l->esr_pending = 0;
    l->error_armed = true;
    l->icr_lo = l->icr_hi = 0;
    for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
        l->lvt[i] = LVT_RESET;
    for (unsigned i = 0; i < LAPIC_BITMAP_REGS; i++)
        l->isr[i] = l->tmr[i] = l->irr[i] = 0;
    l->timer_icr = l->timer_dcr = 0;
    l->timer_count = 0;
    l->timer_stretched = false;
    l->timer_load = l->timer_first = l->timer_period = 0;
    timer_stop(l);
}

void lapic_reset(struct lapic *l)
{
    bool bsp = l->base & APIC_BASE_BSP;
    l->base = LAPIC_DEFAULT_BASE | APIC_BASE_EN | (bsp ? APIC_BASE_BSP : 0);
    l->id = l->apic_id << LAPIC_ID_SHIFT;     /* the low 8 bits of the x2APIC ID */
    reset_registers(l);
    l->nmi_pending = false;
    l->timer_checked = now_of(l);
    dev_clock_moved(&l->clock);
}

void lapic_init(struct lapic *l, uint32_t apic_id, bool bsp, uint64_t (*clock)(void *ctx),
                void (*eoi_broadcast)(void *ctx, uint8_t vector), void *ctx)
{
    *l = (struct lapic){ .apic_id = apic_id, .x2apic_capable = true,
                         .base = bsp ? APIC_BASE_BSP : 0,
                         .eoi_broadcast = eoi_broadcast, .ctx = ctx };
    dev_clock_init(&l->clock, clock, ctx);
    lapic_reset(l);
}

void lapic_virtual_wire(struct lapic *l)
{
    lapic_timer_catch_up(l);
    l->svr = LAPIC_SVR_ENABLE | LAPIC_SVR_VECTOR;
    l->lvt[LAPIC_LVT_IDX_LINT0] = LVT_DELIVERY_EXTINT | LVT_LEVEL;
    l->lvt[LAPIC_LVT_IDX_LINT1] = LVT_DELIVERY_NMI | LVT_LEVEL;
}

/* ---- interrupt flow -------------------------------------------------------------------- */

bool lapic_accept(struct lapic *l, uint8_t vector, bool level_triggered)
{
    lapic_timer_catch_up(l);
    return accept(l, vector, level_triggered);
}

int lapic_pending(struct lapic *l)
{
    lapic_timer_catch_up(l);
    if (!hw_enabled(l))
        return -1;
    int v = highest_vec(l->irr);
    if (v < 0 || ((uint32_t)v & LAPIC_PRIO_CLASS) <= (lapic_ppr(l) & LAPIC_PRIO_CLASS))
        return -1;                      /* SDM 11.8.4: only a class above PPR's is taken */
    return v;
}

uint8_t lapic_ack(struct lapic *l)
{
    int v = lapic_pending(l);
    if (v < 0) {
        l->spurious++;                  /* SDM 11.9: ISR is not touched */
        return (uint8_t)(l->svr & LAPIC_SVR_VECTOR);
    }
    clear_vec(l->irr, (unsigned)v);
    set_vec(l->isr, (unsigned)v);
    return (uint8_t)v;
}

uint8_t lapic_cr8(const struct lapic *l) { return (uint8_t)((l->tpr & LAPIC_TPR_MASK) >> 4); }
void lapic_set_cr8(struct lapic *l, uint8_t cr8) { l->tpr = ((uint32_t)cr8 & 0xF) << 4; }

bool lapic_take_nmi(struct lapic *l)
{
    bool n = l->nmi_pending;
    l->nmi_pending = false;
    return n;
}

static void raise_nmi(struct lapic *l)
{
    l->nmi_pending = true;
    l->nmis++;
}

/* SDM 11.8.5: EOI retires the highest in-service vector; a level-triggered one is broadcast
 * to the IOAPICs (no suppression offered). */
static void do_eoi(struct lapic *l)
{
    l->eoi++;
    int v = highest_vec(l->isr);
    if (v < 0)
        return;
    clear_vec(l->isr, (unsigned)v);
    if (test_vec(l->tmr, (unsigned)v) && l->eoi_broadcast)
        l->eoi_broadcast(l->ctx, (uint8_t)v);
}

bool lapic_extint_enabled(const struct lapic *l)
{
    if (!hw_enabled(l))
        return true;                    /* no APIC in the path: INTR goes straight to the CPU */
    uint32_t lint0 = l->lvt[LAPIC_LVT_IDX_LINT0];
    return sw_enabled(l) && (lint0 & (LVT_MASKED | LVT_DELIVERY_MASK)) == LVT_DELIVERY_EXTINT;
}

void lapic_lint_edge(struct lapic *l, unsigned pin)
{
    lapic_timer_catch_up(l);
    if (pin >= LINT_PINS)
        return;
    if (!hw_enabled(l)) {
        if (pin == 1)
            raise_nmi(l);               /* LINT1 is the CPU's NMI pin then */
        return;
    }
    uint32_t lvt = l->lvt[pin ? LAPIC_LVT_IDX_LINT1 : LAPIC_LVT_IDX_LINT0];
    if (lvt & LVT_MASKED)
        return;
    switch (lvt & LVT_DELIVERY_MASK) {
    case LVT_DELIVERY_FIXED:
        accept(l, (uint8_t)(lvt & LVT_VECTOR_MASK), lvt & LVT_LEVEL);
        break;
    case LVT_DELIVERY_NMI:
        raise_nmi(l);
        break;
    case LVT_DELIVERY_EXTINT:           /* the platform's path: lapic_extint_enabled() */
        break;
    default:                            /* SMI, INIT, reserved */
        l->ipi_ignored++;
        break;
    }
}

/* ---- IPIs ------------------------------------------------------------------------------ */

/* SDM 11.6.2: is this APIC a destination of dest (no shorthand)? */
static bool dest_is_self(const struct lapic *l, uint32_t dest, bool logical)
{
    if (x2apic_mode(l)) {
        if (dest == LAPIC_X2APIC_BROADCAST)
            return true;
        if (!logical)
            return dest == l->apic_id;
        /* 11.12.10.2: cluster in bits 31:16, a bitmap of 16 members below. */
        return (dest >> X2APIC_LDR_CLUSTER_SHIFT) == (l->ldr >> X2APIC_LDR_CLUSTER_SHIFT) &&
               (dest & l->ldr & X2APIC_CLUSTER_MEMBERS);
    }
    dest &= LAPIC_XAPIC_BROADCAST;
    if (dest == LAPIC_XAPIC_BROADCAST)
        return true;
    if (!logical)
        return dest == l->id >> LAPIC_ID_SHIFT;
    uint32_t lid = l->ldr >> LAPIC_ID_SHIFT;
    if ((l->dfr & LAPIC_DFR_MODEL_MASK) == LAPIC_DFR_FLAT)
        return dest & lid;              /* 11.6.2.2: flat, a bitmap of 8 */
    uint32_t cluster = dest >> XAPIC_LOGICAL_CLUSTER_SHIFT;
    return (cluster == XAPIC_CLUSTER_BROADCAST || cluster == lid >> XAPIC_LOGICAL_CLUSTER_SHIFT) &&
           (dest & lid & XAPIC_CLUSTER_MEMBERS);
}

/* SDM 11.6.1: an ICR low write sends. dest is the destination field in the current mode. */
static void send_ipi(struct lapic *l, uint32_t lo, uint32_t dest)
{
    bool self, others;
    switch (lo & LAPIC_ICR_SH_MASK) {
    case LAPIC_ICR_SH_SELF:   self = true;  others = false; break;
    case LAPIC_ICR_SH_ALL:    self = true;  others = true;  break;
    case LAPIC_ICR_SH_OTHERS: self = false; others = true;  break;
    default:
        self = dest_is_self(l, dest, lo & LAPIC_ICR_LOGICAL);
        others = !self || dest == (x2apic_mode(l) ? LAPIC_X2APIC_BROADCAST : LAPIC_XAPIC_BROADCAST);
        break;
    }
    uint8_t vector = (uint8_t)(lo & LAPIC_ICR_VECTOR);
    switch (lo & LAPIC_ICR_DM_MASK) {
    case LAPIC_ICR_DM_FIXED:
    case LAPIC_ICR_DM_LOWEST:           /* one CPU: the lowest priority one is this one */
        if (vector < LAPIC_FIRST_VECTOR) {
            l->illegal_vectors++;       /* 11.5.2: not sent */
            signal_error(l, LAPIC_ESR_SEND_ILLEGAL);
            return;
        }
        if (others)
            l->ipi_other++;
        if (!self)
            return;
        if ((lo & LAPIC_ICR_LEVEL) && !(lo & LAPIC_ICR_ASSERT))
            return;                     /* a level de-assert message carries no interrupt */
        l->ipi_self++;
        accept(l, vector, lo & LAPIC_ICR_LEVEL);
        break;
    case LAPIC_ICR_DM_NMI:
        if (others)
            l->ipi_other++;
        if (self) {
            l->ipi_self++;
            raise_nmi(l);
        }
        break;
    default:                            /* SMI, INIT, SIPI, reserved: no other CPUs to start */
        l->ipi_ignored++;
        break;
    }
}

/* ---- registers ------------------------------------------------------------------------- */

enum reg_status { REG_OK, REG_WRITE_ONLY, REG_READ_ONLY, REG_RESERVED, REG_BAD_BITS };

static void set_svr(struct lapic *l, uint32_t val)
{
    bool was = l->svr & LAPIC_SVR_ENABLE;
    l->svr = val & LAPIC_SVR_WRITABLE;
    if (was && !(l->svr & LAPIC_SVR_ENABLE))
        for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
            l->lvt[i] |= LVT_MASKED;    /* 11.4.7.2: software disable masks every LVT */
}

static void write_lvt(struct lapic *l, unsigned idx, uint32_t val)
{
    val &= lvt_writable[idx];
    if (!sw_enabled(l))
        val |= LVT_MASKED;              /* 11.4.7.2: unmasking is ignored while disabled */
    unsigned old_mode = timer_mode(l);
    l->lvt[idx] = val;
    if (idx == LAPIC_LVT_IDX_TIMER && timer_mode(l) != old_mode)
        timer_stop(l);                  /* 11.5.4.1: a mode change disarms the timer */
}

static bool in_bitmap(uint32_t reg, uint32_t first)
{
    return reg >= first && reg < first + LAPIC_BITMAP_REGS * LAPIC_REG_STRIDE;
}

static bool is_lvt(uint32_t reg) { return reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR; }
static unsigned lvt_index(uint32_t reg) { return (reg - LAPIC_LVT_TIMER) / LAPIC_REG_STRIDE; }
static unsigned bitmap_index(uint32_t reg, uint32_t first) { return (reg - first) / LAPIC_REG_STRIDE; }

/* A register read at offset reg (16-byte aligned) in the current mode; ICR in x2APIC mode is
 * the MSR layer's. */
static enum reg_status reg_read(struct lapic *l, uint32_t reg, uint32_t *v)
{
    bool x2 = x2apic_mode(l);
    *v = 0;
    if (in_bitmap(reg, LAPIC_ISR)) {
        *v = l->isr[bitmap_index(reg, LAPIC_ISR)];
        return REG_OK;
    }
    if (in_bitmap(reg, LAPIC_TMR)) {
        *v = l->tmr[bitmap_index(reg, LAPIC_TMR)];
        return REG_OK;
    }
    if (in_bitmap(reg, LAPIC_IRR)) {
        *v = l->irr[bitmap_index(reg, LAPIC_IRR)];
        return REG_OK;
    }
    if (is_lvt(reg)) {
        *v = l->lvt[lvt_index(reg)];
        return REG_OK;
    }
    switch (reg) {
    case LAPIC_ID:          *v = x2 ? l->apic_id : l->id; return REG_OK;
    case LAPIC_VERSION:     *v = LAPIC_VERSION_VALUE; return REG_OK;
    case LAPIC_TPR:         *v = l->tpr; return REG_OK;
    case LAPIC_APR:
    case LAPIC_RRD:         return x2 ? REG_RESERVED : REG_OK;     /* read 0 */
    case LAPIC_PPR:         *v = lapic_ppr(l); return REG_OK;
    case LAPIC_EOI:         return REG_WRITE_ONLY;
    case LAPIC_LDR:         *v = l->ldr; return REG_OK;
    case LAPIC_DFR:         *v = l->dfr; return x2 ? REG_RESERVED : REG_OK;
    case LAPIC_SVR:         *v = l->svr; return REG_OK;
    case LAPIC_ESR:         *v = l->esr; return REG_OK;
    case LAPIC_ICR_LO:      *v = l->icr_lo; return REG_OK;          /* BUSY reads 0 */
    case LAPIC_ICR_HI:      *v = l->icr_hi; return x2 ? REG_RESERVED : REG_OK;
    case LAPIC_TIMER_ICR:   *v = l->timer_icr; return REG_OK;
    case LAPIC_TIMER_CCR:   *v = ccr_at(l, l->timer_checked); return REG_OK;
    case LAPIC_TIMER_DCR:   *v = l->timer_dcr; return REG_OK;
    case LAPIC_SELF_IPI:    return x2 ? REG_WRITE_ONLY : REG_RESERVED;
    default:                return REG_RESERVED;  /* CMCI (absent) and the gaps */
    }
}

/* x2APIC mode writes with bits outside allowed set #GP (SDM 11.12.1.3); xAPIC drops them. */
static bool bad_bits(const struct lapic *l, uint32_t val, uint32_t allowed)
{
    return x2apic_mode(l) && (val & ~allowed);
}

static enum reg_status reg_write(struct lapic *l, uint32_t reg, uint32_t val)
{
    bool x2 = x2apic_mode(l);
    if (in_bitmap(reg, LAPIC_ISR) || in_bitmap(reg, LAPIC_TMR) || in_bitmap(reg, LAPIC_IRR))
        return REG_READ_ONLY;
    if (is_lvt(reg)) {
        unsigned idx = lvt_index(reg);
        if (bad_bits(l, val, lvt_writable[idx] | LVT_READ_ONLY))
            return REG_BAD_BITS;
        write_lvt(l, idx, val);
        return REG_OK;
    }
    switch (reg) {
    case LAPIC_ID:
        if (x2)
            return REG_READ_ONLY;
        l->id = val & LAPIC_XAPIC_ID_MASK;
        return REG_OK;
    case LAPIC_VERSION:
    case LAPIC_PPR:
    case LAPIC_TIMER_CCR:
        return REG_READ_ONLY;
    case LAPIC_APR:
    case LAPIC_RRD:
        return x2 ? REG_RESERVED : REG_READ_ONLY;
    case LAPIC_TPR:
        if (bad_bits(l, val, LAPIC_TPR_MASK))
            return REG_BAD_BITS;
        l->tpr = val & LAPIC_TPR_MASK;
        return REG_OK;
    case LAPIC_EOI:
        if (x2 && val)
            return REG_BAD_BITS;        /* x2APIC: only 0 may be written */
        do_eoi(l);
        return REG_OK;
    case LAPIC_LDR:
        if (x2)
            return REG_READ_ONLY;       /* derived from the x2APIC ID */
        l->ldr = val & LAPIC_XAPIC_ID_MASK;
        return REG_OK;
    case LAPIC_DFR:
        if (x2)
            return REG_RESERVED;
        l->dfr = (val & LAPIC_DFR_MODEL_MASK) | LAPIC_DFR_ONES;
        return REG_OK;
    case LAPIC_SVR:
        if (bad_bits(l, val, LAPIC_SVR_WRITABLE))
            return REG_BAD_BITS;
        set_svr(l, val);
        return REG_OK;
    case LAPIC_ESR:
        if (x2 && val)
            return REG_BAD_BITS;
        l->esr = l->esr_pending;        /* 11.5.3: the write latches what accumulated */
        l->esr_pending = 0;
        l->error_armed = true;
        return REG_OK;
    case LAPIC_ICR_LO:
        if (x2)
            return REG_RESERVED;        /* the MSR layer writes the 64-bit ICR */
        l->icr_lo = val & LAPIC_ICR_WRITABLE;
        send_ipi(l, l->icr_lo, l->icr_hi >> LAPIC_ID_SHIFT);
        return REG_OK;
    case LAPIC_ICR_HI:
        if (x2)
            return REG_RESERVED;
        l->icr_hi = val & LAPIC_XAPIC_ID_MASK;
        return REG_OK;
    case LAPIC_TIMER_ICR:
        write_timer_icr(l, val);
        return REG_OK;
    case LAPIC_TIMER_DCR:
        if (bad_bits(l, val, LAPIC_DCR_MASK))
            return REG_BAD_BITS;
        write_dcr(l, val);
        return REG_OK;
    case LAPIC_SELF_IPI:
        if (!x2)
            return REG_RESERVED;
        if (val & ~X2APIC_SELF_IPI_VECTOR)
            return REG_BAD_BITS;
        send_ipi(l, LAPIC_ICR_SH_SELF | LAPIC_ICR_DM_FIXED | val, 0);
        return REG_OK;
    default:
        return REG_RESERVED;
    }
}

/* Runs a register write and tells the registry if the timer's next interrupt moved. */
static enum reg_status write_and_notify(struct lapic *l, uint32_t reg, uint32_t val)
{
    uint64_t before = lapic_timer_next(l);
    enum reg_status s = reg_write(l, reg, val);
    if (lapic_timer_next(l) != before)
        dev_clock_moved(&l->clock);
    return s;
}

static bool mmio_decoded(const struct lapic *l) { return hw_enabled(l) && !x2apic_mode(l); }

uint64_t lapic_mmio_base(const struct lapic *l)
{
    return mmio_decoded(l) ? l->base & APIC_BASE_ADDR_MASK : LAPIC_MMIO_NONE;
}

/* A register offset, or false for the 2nd-4th dwords of a slot and beyond the page. */
static bool mmio_reg(uint32_t offset)
{
    return offset < LAPIC_PAGE_SIZE && !(offset % LAPIC_REG_STRIDE);
}

uint32_t lapic_mmio_read(struct lapic *l, uint32_t offset)
{
    lapic_timer_catch_up(l);
    uint32_t v = 0;
    if (!mmio_decoded(l)) {
        l->unknown++;
        return 0;
    }
    enum reg_status s = mmio_reg(offset) ? reg_read(l, offset, &v) : REG_RESERVED;
    if (s == REG_RESERVED) {
        l->unknown++;
        signal_error(l, LAPIC_ESR_ILLEGAL_REG);
        return 0;
    }
    return s == REG_OK ? v : 0;
}

void lapic_mmio_write(struct lapic *l, uint32_t offset, uint32_t val)
{
    lapic_timer_catch_up(l);
    if (!mmio_decoded(l)) {
        l->unknown++;
        return;
    }
    enum reg_status s = mmio_reg(offset) ? write_and_notify(l, offset, val) : REG_RESERVED;
    if (s == REG_RESERVED)
        signal_error(l, LAPIC_ESR_ILLEGAL_REG);
    if (s != REG_OK)
        l->unknown++;
}

static bool x2apic_reg(const struct lapic *l, uint32_t msr, uint32_t *reg)
{
    if (!x2apic_mode(l) || msr < MSR_X2APIC_BASE || msr > X2APIC_MSR_LAST)
        return false;
    *reg = (msr - MSR_X2APIC_BASE) * LAPIC_REG_STRIDE;
    return true;
}

bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *val)
{
    lapic_timer_catch_up(l);
    uint32_t reg, v;
    *val = 0;
    if (!x2apic_reg(l, msr, &reg)) {
        l->unknown++;
        return false;
    }
    if (reg == LAPIC_ICR_LO) {
        *val = (uint64_t)l->icr_hi << REG_HIGH_SHIFT | l->icr_lo;
        return true;
    }
    if (reg_read(l, reg, &v) != REG_OK) {
        l->unknown++;
        return false;
    }
    *val = v;
    return true;
}

bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t val)
{
    lapic_timer_catch_up(l);
    uint32_t reg;
    if (!x2apic_reg(l, msr, &reg)) {
        l->unknown++;
        return false;
    }
    uint32_t lo = (uint32_t)val, hi = (uint32_t)(val >> REG_HIGH_SHIFT);
    if (reg == LAPIC_ICR_LO) {
        /* One 64-bit register: destination in 63:32; BUSY is ignored, not reserved. */
        if (lo & ~(LAPIC_ICR_WRITABLE | LAPIC_ICR_BUSY)) {
            l->unknown++;
            return false;
        }
        l->icr_lo = lo & LAPIC_ICR_WRITABLE;
        l->icr_hi = hi;
        send_ipi(l, l->icr_lo, hi);
        return true;
    }
    if (hi || write_and_notify(l, reg, lo) != REG_OK) {
        l->unknown++;
        return false;
    }
    return true;
}

/* ---- IA32_APIC_BASE -------------------------------------------------------------------- */

uint64_t lapic_get_base(const struct lapic *l) { return l->base; }

enum apic_mode { MODE_DISABLED, MODE_INVALID, MODE_XAPIC, MODE_X2APIC };

static enum apic_mode mode_of(uint64_t base)
{
    bool en = base & APIC_BASE_EN, extd = base & APIC_BASE_EXTD;
    return en ? (extd ? MODE_X2APIC : MODE_XAPIC) : (extd ? MODE_INVALID : MODE_DISABLED);
}

bool lapic_set_base(struct lapic *l, uint64_t val, unsigned maxphyaddr)
{
    lapic_timer_catch_up(l);
    maxphyaddr = MIN(MAX(maxphyaddr, APIC_MAXPHYADDR_MIN), APIC_MAXPHYADDR_MAX);
    uint64_t reserved = APIC_BASE_RESERVED_LOW | ~0ull << maxphyaddr;
    if (!l->x2apic_capable)
        reserved |= APIC_BASE_EXTD;
    enum apic_mode from = mode_of(l->base), to = mode_of(val);
    /* SDM 11.12.5: x2APIC is left only through disabled, and entered only from xAPIC. */
    if ((val & reserved) || to == MODE_INVALID ||
        (from == MODE_X2APIC && to == MODE_XAPIC) || (from == MODE_DISABLED && to == MODE_X2APIC)) {
        l->unknown++;
        return false;
    }
    uint64_t before = lapic_timer_next(l);
    l->base = (val & ~APIC_BASE_BSP) | (l->base & APIC_BASE_BSP);
    if (to == MODE_DISABLED && from != MODE_DISABLED)
        reset_registers(l);             /* 11.4.3 / 11.12.5: only the ID survives */
    if (to == MODE_X2APIC && from == MODE_XAPIC)   /* 11.12.10.2: the logical x2APIC ID */
        l->ldr = (l->apic_id >> X2APIC_LDR_ID_BITS) << X2APIC_LDR_CLUSTER_SHIFT |
                 1u << (l->apic_id & X2APIC_ID_LOW_MASK);
    if (lapic_timer_next(l) != before)
        dev_clock_moved(&l->clock);
    return true;
}
