/* MC146818A RTC. The time and alarm registers are kept as the guest sees them (BCD or
 * binary, 12h or 24h, per register B), exactly like the chip: changing DM or 24/12 does not
 * convert them, software is expected to rewrite the time under SET. Each update decodes
 * them, advances, and re-encodes. The divider is modelled as a schedule of ticks: updates
 * fall every RTC_HZ ticks and periodic flags every 'period' ticks on the same grid. */
#include "dev/mc146818.h"

#define RTC_UIP_TICKS   8u      /* UIP rises 244 us (8 ticks) before each update */
#define SECS_PER_DAY    86400u
#define DAYS_PER_CENTURY 36525u /* 2-digit years with the chip's year%4 leap rule */
#define BASE_MEM_MAX_KB 640u    /* conventional memory cannot exceed 640 KB */
#define KB_PER_64K      64u
#define MEM_16M_KB      (16u * 1024u)
#define MEM_1M_KB       1024u

/* Binary, 24h working copy of the time registers; year is the 2-digit register value. */
struct rtc_bin {
    uint8_t sec, min, hour, wday, day, mon, year;
};

uint8_t rtc_to_bcd(uint8_t v)
{
    v %= 100;                   /* two digits is all a register holds */
    return (uint8_t)(((v / 10) << 4) | (v % 10));
}

uint8_t rtc_from_bcd(uint8_t v)
{
    return (uint8_t)((v >> 4) * 10 + (v & 0x0F));
}

static uint64_t rtc_now(struct mc146818 *r)
{
    return dev_clock_now(&r->clock);
}

static bool divider_running(const struct mc146818 *r)
{
    return (r->cmos[RTC_REG_A] & REGA_DV_MASK) == REGA_DV_32KHZ;
}

static bool binary_mode(const struct mc146818 *r) { return r->cmos[RTC_REG_B] & REGB_DM_BINARY; }

static uint8_t enc(const struct mc146818 *r, uint8_t v)
{
    return binary_mode(r) ? v : rtc_to_bcd(v);
}

static uint8_t dec(const struct mc146818 *r, uint8_t b)
{
    return binary_mode(r) ? b : rtc_from_bcd(b);
}

static uint8_t enc_hour(const struct mc146818 *r, uint8_t h24)
{
    if (r->cmos[RTC_REG_B] & REGB_24H)
        return enc(r, h24);
    uint8_t h12 = h24 % 12 ? h24 % 12 : 12;
    return (uint8_t)(enc(r, h12) | (h24 >= 12 ? RTC_HOUR_PM : 0));
}

static uint8_t clamp(uint8_t v, uint8_t lo, uint8_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Out-of-range values (the chip's behaviour with them is undefined) are clamped. */
static uint8_t dec_hour(const struct mc146818 *r, uint8_t b)
{
    if (r->cmos[RTC_REG_B] & REGB_24H)
        return clamp(dec(r, b), 0, 23);
    uint8_t h = clamp(dec(r, b & (uint8_t)~RTC_HOUR_PM), 1, 12) % 12;
    return (uint8_t)(h + (b & RTC_HOUR_PM ? 12 : 0));
}

static bool leap(uint8_t yy) { return yy % 4 == 0; }   /* the chip's rule, right for 1901-2099 */

static uint8_t days_in_month(uint8_t yy, uint8_t mon)
{
    static const uint8_t dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return (uint8_t)(dim[(mon - 1) % 12] + (mon == 2 && leap(yy)));
}

static void time_load(const struct mc146818 *r, struct rtc_bin *t)
{
    const uint8_t *c = r->cmos;
    t->sec = clamp(dec(r, c[RTC_REG_SEC]), 0, 59);
    t->min = clamp(dec(r, c[RTC_REG_MIN]), 0, 59);
    t->hour = dec_hour(r, c[RTC_REG_HOUR]);
    t->wday = clamp(dec(r, c[RTC_REG_WDAY]), 1, 7);
    t->year = clamp(dec(r, c[RTC_REG_YEAR]), 0, 99);
    t->mon = clamp(dec(r, c[RTC_REG_MONTH]), 1, 12);
    t->day = clamp(dec(r, c[RTC_REG_MDAY]), 1, days_in_month(t->year, t->mon));
}

static void time_store(struct mc146818 *r, const struct rtc_bin *t)
{
    r->cmos[RTC_REG_SEC] = enc(r, t->sec);
    r->cmos[RTC_REG_MIN] = enc(r, t->min);
    r->cmos[RTC_REG_HOUR] = enc_hour(r, t->hour);
    r->cmos[RTC_REG_WDAY] = enc(r, t->wday);
    r->cmos[RTC_REG_MDAY] = enc(r, t->day);
    r->cmos[RTC_REG_MONTH] = enc(r, t->mon);
    r->cmos[RTC_REG_YEAR] = enc(r, t->year);
}

static void time_add(struct rtc_bin *t, uint64_t secs)
{
    uint64_t s = t->sec + 60u * t->min + 3600u * t->hour + secs;
    uint64_t days = s / SECS_PER_DAY;
    s %= SECS_PER_DAY;
    t->hour = (uint8_t)(s / 3600);
    t->min = (uint8_t)(s / 60 % 60);
    t->sec = (uint8_t)(s % 60);
    t->wday = (uint8_t)((t->wday - 1 + days % 7) % 7 + 1);
    days %= DAYS_PER_CENTURY;   /* the calendar repeats every 100 two-digit years */
    while (days) {
        uint64_t left = days_in_month(t->year, t->mon) - t->day;   /* days left this month */
        if (days <= left) {
            t->day = (uint8_t)(t->day + days);
            break;
        }
        days -= left + 1;
        t->day = 1;
        if (++t->mon > 12) {
            t->mon = 1;
            t->year = (uint8_t)((t->year + 1) % 100);   /* the century byte is plain RAM */
        }
    }
}

/* Alarm byte -> binary value it matches: -1 don't care, -2 never matches. Found by encoding
 * every candidate, so it compares exactly as the chip does, byte for byte. */
static int alarm_target(const struct mc146818 *r, uint8_t b, unsigned range, bool hour)
{
    if ((b & RTC_ALARM_DONTCARE) == RTC_ALARM_DONTCARE)
        return -1;
    for (unsigned v = 0; v < range; v++)
        if ((hour ? enc_hour(r, (uint8_t)v) : enc(r, (uint8_t)v)) == b)
            return (int)v;
    return -2;
}

/* Seconds (1..86400) from time t until the time registers next match the alarm, or 0 if
 * they never will. Scans at most a day of minutes. */
static uint32_t alarm_delay(const struct mc146818 *r, const struct rtc_bin *t)
{
    int ts = alarm_target(r, r->cmos[RTC_REG_SEC_ALARM], 60, false);
    int tm = alarm_target(r, r->cmos[RTC_REG_MIN_ALARM], 60, false);
    int th = alarm_target(r, r->cmos[RTC_REG_HOUR_ALARM], 24, true);
    if (ts == -2 || tm == -2 || th == -2)
        return 0;
    unsigned cur_min = 60u * t->hour + t->min;
    for (unsigned k = 0; k <= 24 * 60; k++) {
        unsigned m = (cur_min + k) % (24 * 60);
        if ((th >= 0 && m / 60 != (unsigned)th) || (tm >= 0 && m % 60 != (unsigned)tm))
            continue;
        if (ts >= 0) {
            if (60 * k + (unsigned)ts > t->sec)
                return 60 * k + (unsigned)ts - t->sec;
        } else if (k > 0) {
            return 60 * k - t->sec;             /* second 0 of that minute */
        } else if (t->sec < 59) {
            return 1;                           /* still inside a matching minute */
        }
    }
    return 0;
}

static uint64_t periodic_period(const struct mc146818 *r)
{
    unsigned rs = r->cmos[RTC_REG_A] & REGA_RS_MASK;
    if (rs == 0)
        return 0;
    if (rs <= 2)
        return 1u << (rs + 6);      /* RS 1, 2 give 256 and 128 Hz, not 16384/8192 Hz */
    return 1u << (rs - 1);          /* 32768 >> (RS-1) Hz */
}

/* First tick after 'now' on the periodic grid, which shares its phase with the updates. */
static void periodic_realign(struct mc146818 *r)
{
    uint64_t p = periodic_period(r);
    if (p && divider_running(r))
        r->next_periodic = r->next_update - (r->next_update - r->last - 1) / p * p;
}

static void irq_recompute(struct mc146818 *r)
{
    uint8_t c = r->cmos[RTC_REG_C], b = r->cmos[RTC_REG_B];
    bool irqf = (c & b & (REGC_PF | REGC_AF | REGC_UF)) != 0;   /* flag and enable share a bit */
    r->cmos[RTC_REG_C] = (uint8_t)(irqf ? c | REGC_IRQF : c & ~REGC_IRQF);
    if (irqf == r->irq_level)
        return;
    r->irq_level = irqf;
    if (irqf)
        r->irqs_raised++;
    if (r->set_irq)
        r->set_irq(r->ctx, irqf);
}

void mc146818_update(struct mc146818 *r)
{
    uint64_t now = rtc_now(r);
    if (divider_running(r)) {
        uint64_t p = periodic_period(r);
        if (p && r->next_periodic <= now) {
            uint64_t n = (now - r->next_periodic) / p + 1;
            r->next_periodic += n * p;
            r->periods += n;
            r->cmos[RTC_REG_C] |= REGC_PF;      /* set regardless of PIE */
        }
        if (r->next_update <= now) {
            uint64_t n = (now - r->next_update) / RTC_HZ + 1;
            r->next_update += n * RTC_HZ;
            if (!(r->cmos[RTC_REG_B] & REGB_SET)) {     /* SET inhibits the transfer */
                struct rtc_bin t;
                time_load(r, &t);
                if (!(r->cmos[RTC_REG_C] & REGC_AF)) {
                    uint32_t d = alarm_delay(r, &t);
                    if (d && d <= n)
                        r->cmos[RTC_REG_C] |= REGC_AF;
                }
                time_add(&t, n);
                time_store(r, &t);
                r->updates += n;
                r->cmos[RTC_REG_C] |= REGC_UF;  /* set regardless of UIE */
            }
        }
    }
    r->last = now;
    irq_recompute(r);
}

uint64_t mc146818_next_event(const struct mc146818 *r)
{
    uint8_t b = r->cmos[RTC_REG_B];
    uint64_t ev = UINT64_MAX;
    if (!divider_running(r))
        return ev;
    if ((b & REGB_PIE) && periodic_period(r))
        ev = r->next_periodic;
    if (b & REGB_SET)
        return ev;
    if (b & REGB_UIE)
        ev = MIN(ev, r->next_update);
    if (b & REGB_AIE) {
        struct rtc_bin t;
        time_load(r, &t);
        uint32_t d = alarm_delay(r, &t);
        if (d)
            ev = MIN(ev, r->next_update + (uint64_t)(d - 1) * RTC_HZ);
    }
    return ev;
}

static void write_reg_a(struct mc146818 *r, uint8_t val)
{
    bool was_running = divider_running(r);
    r->cmos[RTC_REG_A] = val & (uint8_t)~REGA_UIP;      /* UIP is read-only */
    if (divider_running(r) && !was_running)
        r->next_update = r->last + RTC_HZ / 2;  /* first update half a second after reset */
    periodic_realign(r);
}

static void write_reg_b(struct mc146818 *r, uint8_t val)
{
    if (val & REGB_SET)
        val &= (uint8_t)~REGB_UIE;              /* datasheet: SET clears UIE */
    r->cmos[RTC_REG_B] = val;
    irq_recompute(r);
}

static uint8_t read_reg(struct mc146818 *r, uint8_t idx)
{
    switch (idx) {
    case RTC_REG_A: {
        uint8_t a = r->cmos[RTC_REG_A];
        bool uip = divider_running(r) && !(r->cmos[RTC_REG_B] & REGB_SET) &&
                   r->next_update - r->last <= RTC_UIP_TICKS;
        return (uint8_t)(uip ? a | REGA_UIP : a);
    }
    case RTC_REG_C: {
        uint8_t c = r->cmos[RTC_REG_C];
        r->cmos[RTC_REG_C] = 0;                 /* reading clears every flag */
        irq_recompute(r);
        return c;
    }
    case RTC_REG_D:
        return REGD_VRT;
    default:
        return r->cmos[idx];
    }
}

static void write_reg(struct mc146818 *r, uint8_t idx, uint8_t val)
{
    switch (idx) {
    case RTC_REG_A:
        write_reg_a(r, val);
        break;
    case RTC_REG_B:
        write_reg_b(r, val);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break;                                  /* read-only */
    default:
        /* Time registers are writable at any time, as on the chip; software uses SET
         * so no update lands between its writes. */
        r->cmos[idx] = val;
        break;
    }
}

uint8_t mc146818_read(struct mc146818 *r, uint16_t port)
{
    if (port == RTC_PORT_INDEX)
        return r->last_index_byte;              /* chosen: the last byte written, NMI bit included */
    if (port != RTC_PORT_DATA)
        return 0xFF;
    mc146818_update(r);
    return read_reg(r, r->index);
}

void mc146818_write(struct mc146818 *r, uint16_t port, uint8_t val)
{
    if (port == RTC_PORT_INDEX) {
        r->last_index_byte = val;
        r->index = val & RTC_INDEX_MASK;
        r->nmi_masked = (val & RTC_INDEX_NMI_MASK) != 0;
    } else if (port == RTC_PORT_DATA) {
        mc146818_update(r);                     /* changes apply from 'now' on */
        write_reg(r, r->index, val);
        dev_clock_moved(&r->clock);             /* rate, enables or alarm may have changed */
    }
}

static uint32_t rtc_io_in(void *dev, uint16_t port, unsigned size) { return mc146818_read(dev, port); }
static void rtc_io_out(void *dev, uint16_t port, unsigned size, uint32_t val) { mc146818_write(dev, port, (uint8_t)val); }

static const struct ioport_ops rtc_ops = { .name = "rtc", .in = rtc_io_in, .out = rtc_io_out, .bytewise = true };

bool mc146818_attach(struct ioport_table *io, struct mc146818 *r)
{
    return ioport_register(io, RTC_PORT_INDEX, 2, &rtc_ops, r);
}

/* Sakamoto's method; 1 = Sunday. */
static uint8_t weekday(unsigned y, unsigned m, unsigned d)
{
    static const uint8_t off[12] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };
    if (m < 3)
        y--;
    return (uint8_t)((y + y / 4 - y / 100 + y / 400 + off[m - 1] + d) % 7 + 1);
}

static void put16(struct mc146818 *r, uint8_t lo, uint64_t v)
{
    r->cmos[lo] = (uint8_t)v;
    r->cmos[lo + 1] = (uint8_t)(v >> 8);
}

void mc146818_init(struct mc146818 *r, const struct rtc_time *start, uint64_t base_mem_kb,
                   uint64_t ext_mem_kb, uint64_t (*clock)(void *), void (*set_irq)(void *, bool),
                   void *ctx)
{
    static const struct rtc_time y2k = { 2000, 1, 1, 0, 0, 0, 7 };
    const struct rtc_time *s = start ? start : &y2k;
    uint8_t *p = (uint8_t *)r;
    for (size_t i = 0; i < sizeof(*r); i++)
        p[i] = 0;
    dev_clock_init(&r->clock, clock, ctx);
    r->set_irq = set_irq;
    r->ctx = ctx;
    r->last = rtc_now(r);
    r->next_update = r->last + RTC_HZ;          /* 'start' is the beginning of a second */

    r->cmos[RTC_REG_A] = REGA_DEFAULT;
    r->cmos[RTC_REG_B] = REGB_DEFAULT;
    r->cmos[RTC_REG_D] = REGD_VRT;
    struct rtc_bin t;
    unsigned year = s->year < 1 ? 2000 : s->year;
    t.year = (uint8_t)(year % 100);
    t.mon = clamp(s->month, 1, 12);
    t.day = clamp(s->day, 1, days_in_month(t.year, t.mon));
    t.hour = clamp(s->hour, 0, 23);
    t.min = clamp(s->min, 0, 59);
    t.sec = clamp(s->sec, 0, 59);
    t.wday = s->wday >= 1 && s->wday <= 7 ? s->wday : weekday(year, t.mon, t.day);
    time_store(r, &t);
    r->cmos[CMOS_CENTURY] = rtc_to_bcd((uint8_t)(year / 100 % 100));

    r->cmos[CMOS_EQUIPMENT] = EQUIP_FPU | EQUIP_DISPLAY_VGA;   /* no floppy, VGA, FPU */
    put16(r, CMOS_BASE_MEM_LO, MIN(base_mem_kb, BASE_MEM_MAX_KB));
    put16(r, CMOS_EXT_MEM_LO, MIN(ext_mem_kb, 0xFFFFu));
    put16(r, CMOS_EXT_MEM2_LO, MIN(ext_mem_kb, 0xFFFFu));
    uint64_t above16 = ext_mem_kb > MEM_16M_KB - MEM_1M_KB ? ext_mem_kb - (MEM_16M_KB - MEM_1M_KB) : 0;
    put16(r, CMOS_HIGH_MEM_LO, MIN(above16 / KB_PER_64K, 0xFFFFu));
    unsigned sum = 0;                           /* the BIOS rejects CMOS with a bad checksum */
    for (unsigned i = CMOS_CSUM_FIRST; i <= CMOS_CSUM_LAST; i++)
        sum += r->cmos[i];
    r->cmos[CMOS_CSUM_HI] = (uint8_t)(sum >> 8);
    r->cmos[CMOS_CSUM_LO] = (uint8_t)sum;
    periodic_realign(r);
}
