/* MC146818A RTC/CMOS model, checked against the datasheet behaviour with a fake 32.768 kHz
 * clock and a fake IRQ8 line. */
#include "test.h"
#include "dev/ioport.h"
#include "dev/mc146818.h"

static uint64_t now;                 /* fake clock, RTC_HZ ticks */
static bool line;                    /* fake IRQ8 level */
static unsigned edges;               /* rising edges seen on IRQ8 */
static struct mc146818 rtc;

static uint64_t fake_clock(void *ctx) { return now; }
static void fake_irq(void *ctx, bool level)
{
    if (level && !line)
        edges++;
    line = level;
}

static void setup(uint16_t y, uint8_t mo, uint8_t d, uint8_t h, uint8_t mi, uint8_t s)
{
    struct rtc_time t = { y, mo, d, h, mi, s, 0 };
    now = 1000;                      /* not zero, so phases are not trivially aligned */
    line = false;
    edges = 0;
    mc146818_init(&rtc, &t, 640, 31 * 1024, fake_clock, fake_irq, NULL);
}

static uint8_t rd(uint8_t idx)
{
    mc146818_write(&rtc, RTC_PORT_INDEX, idx);
    return mc146818_read(&rtc, RTC_PORT_DATA);
}

static void wr(uint8_t idx, uint8_t v)
{
    mc146818_write(&rtc, RTC_PORT_INDEX, idx);
    mc146818_write(&rtc, RTC_PORT_DATA, v);
}

static void advance(uint64_t ticks)
{
    now += ticks;
    mc146818_update(&rtc);
}

/* Set the date and time as an OS does: SET, write binary or BCD per B, clear SET. */
static void set_time(uint8_t b, uint8_t y, uint8_t mo, uint8_t d, uint8_t wd, uint8_t h, uint8_t mi, uint8_t s)
{
    wr(RTC_REG_B, (uint8_t)(b | REGB_SET));
    wr(RTC_REG_YEAR, y);
    wr(RTC_REG_MONTH, mo);
    wr(RTC_REG_MDAY, d);
    wr(RTC_REG_WDAY, wd);
    wr(RTC_REG_HOUR, h);
    wr(RTC_REG_MIN, mi);
    wr(RTC_REG_SEC, s);
    wr(RTC_REG_B, b);
}

#define CHECK_TIME(y, mo, d, wd, h, mi, s) do { \
    CHECK_EQ(rd(RTC_REG_YEAR), y); CHECK_EQ(rd(RTC_REG_MONTH), mo); CHECK_EQ(rd(RTC_REG_MDAY), d); \
    CHECK_EQ(rd(RTC_REG_WDAY), wd); CHECK_EQ(rd(RTC_REG_HOUR), h); CHECK_EQ(rd(RTC_REG_MIN), mi); \
    CHECK_EQ(rd(RTC_REG_SEC), s); } while (0)

TEST(rtc_bcd_helpers)
{
    CHECK_EQ(rtc_to_bcd(0), 0x00);
    CHECK_EQ(rtc_to_bcd(59), 0x59);
    CHECK_EQ(rtc_to_bcd(99), 0x99);
    CHECK_EQ(rtc_from_bcd(0x59), 59);
    CHECK_EQ(rtc_from_bcd(0x12), 12);
    for (uint8_t v = 0; v < 100; v++)
        CHECK_EQ(rtc_from_bcd(rtc_to_bcd(v)), v);
}

TEST(rtc_read_time_bcd_defaults)
{
    setup(2024, 3, 15, 13, 45, 30);
    CHECK_TIME(0x24, 0x03, 0x15, 6, 0x13, 0x45, 0x30);     /* 2024-03-15 was a Friday */
    CHECK_EQ(rd(CMOS_CENTURY), 0x20);
    CHECK_EQ(rd(RTC_REG_A), REGA_DEFAULT);
    CHECK_EQ(rd(RTC_REG_B), REGB_DEFAULT);
    CHECK_EQ(rd(RTC_REG_C), 0);
    CHECK_EQ(rd(RTC_REG_D), REGD_VRT);
    advance(RTC_HZ);
    CHECK_EQ(rd(RTC_REG_SEC), 0x31);
    CHECK_EQ(rtc.updates, 1);
}

TEST(rtc_binary_mode)
{
    setup(2024, 3, 15, 13, 45, 30);
    set_time(REGB_DM_BINARY | REGB_24H, 24, 3, 15, 6, 23, 59, 58);
    CHECK_TIME(24, 3, 15, 6, 23, 59, 58);
    advance(RTC_HZ);
    CHECK_EQ(rd(RTC_REG_SEC), 59);
    advance(RTC_HZ);
    CHECK_TIME(24, 3, 16, 7, 0, 0, 0);
    /* Changing DM does not convert the registers (datasheet); the bytes stay as they were. */
    wr(RTC_REG_B, REGB_24H);
    CHECK_EQ(rd(RTC_REG_MDAY), 16);
}

TEST(rtc_12h_mode_pm_bit)
{
    setup(2024, 3, 15, 13, 45, 30);
    set_time(0, 0x24, 0x03, 0x15, 6, 0x11, 0x59, 0x59);     /* BCD, 12h: 11:59:59 AM */
    CHECK_EQ(rd(RTC_REG_HOUR), 0x11);
    advance(RTC_HZ);
    CHECK_EQ(rd(RTC_REG_HOUR), RTC_HOUR_PM | 0x12);          /* noon is 12 PM */
    CHECK_EQ(rd(RTC_REG_MIN), 0x00);
    set_time(0, 0x24, 0x03, 0x15, 6, RTC_HOUR_PM | 0x11, 0x59, 0x59);  /* 11:59:59 PM */
    advance(RTC_HZ);
    CHECK_TIME(0x24, 0x03, 0x16, 7, 0x12, 0x00, 0x00);       /* midnight is 12 AM */
    advance(RTC_HZ * 3600);
    CHECK_EQ(rd(RTC_REG_HOUR), 0x01);
    set_time(REGB_DM_BINARY, 24, 3, 16, 7, RTC_HOUR_PM | 12, 59, 59);  /* binary 12:59:59 PM */
    advance(RTC_HZ);
    CHECK_EQ(rd(RTC_REG_HOUR), RTC_HOUR_PM | 1);
}

TEST(rtc_set_freezes_and_clears_uie)
{
    setup(2024, 3, 15, 13, 45, 30);
    advance(RTC_HZ / 2);             /* mid-second: the divider keeps its phase across SET */
    wr(RTC_REG_B, REGB_24H | REGB_UIE);
    wr(RTC_REG_B, REGB_SET | REGB_UIE | REGB_24H);
    CHECK_EQ(rd(RTC_REG_B), REGB_SET | REGB_24H);            /* SET clears UIE */
    wr(RTC_REG_HOUR, 0x08);
    wr(RTC_REG_MIN, 0x00);
    wr(RTC_REG_SEC, 0x00);
    rd(RTC_REG_C);
    advance(RTC_HZ * 5);
    CHECK_EQ(rd(RTC_REG_SEC), 0x00);                         /* frozen */
    CHECK_EQ(rd(RTC_REG_HOUR), 0x08);
    CHECK_EQ(rd(RTC_REG_C) & REGC_UF, 0);                    /* no update cycles under SET */
    CHECK_EQ(rtc.updates, 0);
    wr(RTC_REG_B, REGB_24H);
    advance(RTC_HZ / 2 - 1);
    CHECK_EQ(rd(RTC_REG_SEC), 0x00);
    advance(1);                      /* next boundary of the unchanged phase */
    CHECK_EQ(rd(RTC_REG_SEC), 0x01);
    CHECK_EQ(rd(RTC_REG_HOUR), 0x08);
    CHECK_EQ(edges, 0);
}

TEST(rtc_uip_window)
{
    setup(2024, 3, 15, 13, 45, 30);
    uint64_t upd = now + RTC_HZ;
    now = upd - 9;
    CHECK_EQ(rd(RTC_REG_A), 0x26);
    now = upd - 8;
    CHECK_EQ(rd(RTC_REG_A), REGA_UIP | 0x26);
    CHECK_EQ(rd(RTC_REG_SEC), 0x30);                         /* not updated yet */
    now = upd - 1;
    CHECK_EQ(rd(RTC_REG_A), REGA_UIP | 0x26);
    now = upd;
    CHECK_EQ(rd(RTC_REG_A), 0x26);
    CHECK_EQ(rd(RTC_REG_SEC), 0x31);
    /* SET hides UIP, and so does a stopped divider. */
    now = upd + RTC_HZ - 4;
    wr(RTC_REG_B, REGB_SET | REGB_24H);
    CHECK_EQ(rd(RTC_REG_A), 0x26);
    wr(RTC_REG_B, REGB_24H);
    CHECK_EQ(rd(RTC_REG_A), REGA_UIP | 0x26);
    wr(RTC_REG_A, REGA_UIP | REGA_DV_RESET | 6);             /* UIP is read-only */
    CHECK_EQ(rd(RTC_REG_A), REGA_DV_RESET | 6);
}

TEST(rtc_update_interrupt)
{
    setup(2024, 3, 15, 13, 45, 30);
    advance(RTC_HZ);
    CHECK(!line);                                            /* UIE=0: flag only */
    CHECK_EQ(rd(RTC_REG_C), REGC_PF | REGC_UF);              /* PF too: RS=6 runs without PIE */
    CHECK_EQ(edges, 0);
    wr(RTC_REG_B, REGB_24H | REGB_UIE);
    for (int i = 0; i < 5; i++) {
        advance(RTC_HZ - 1);
        CHECK(!line);
        advance(1);
        CHECK(line);
        CHECK_EQ(rd(RTC_REG_C) & ~REGC_PF, REGC_IRQF | REGC_UF);
        CHECK(!line);
    }
    CHECK_EQ(edges, 5);
    CHECK_EQ(rd(RTC_REG_SEC), 0x36);
    /* A flag already pending raises the line as soon as its enable is set. */
    wr(RTC_REG_B, REGB_24H);
    advance(RTC_HZ);
    CHECK(!line);
    wr(RTC_REG_B, REGB_24H | REGB_UIE);
    CHECK(line);
    CHECK_EQ(edges, 6);
    CHECK_EQ(rtc.irqs_raised, 6);
}

/* Linux's handler: on each interrupt, read C. Step in small slices as a VMM timer would. */
static unsigned count_edges(uint64_t ticks, uint64_t step, uint8_t flag)
{
    unsigned start = edges;
    for (uint64_t t = 0; t < ticks; t += step) {
        advance(step);
        if (line) {
            uint8_t c = rd(RTC_REG_C);
            CHECK(c & REGC_IRQF);
            CHECK(c & flag);
        }
    }
    return edges - start;
}

TEST(rtc_periodic_1024hz)
{
    setup(2024, 3, 15, 13, 45, 30);
    wr(RTC_REG_B, REGB_24H | REGB_PIE);
    CHECK_EQ(count_edges(RTC_HZ, 1, REGC_PF), 1024);
    CHECK_EQ(count_edges(RTC_HZ, 8, REGC_PF), 1024);
    CHECK_EQ(rd(RTC_REG_SEC), 0x32);
    CHECK_EQ(rtc.periods, 2048);
}

TEST(rtc_periodic_rates)
{
    setup(2024, 3, 15, 13, 45, 30);
    wr(RTC_REG_A, REGA_DV_32KHZ | 15);                       /* 2 Hz */
    wr(RTC_REG_B, REGB_24H | REGB_PIE);
    CHECK_EQ(count_edges(3 * RTC_HZ, 64, REGC_PF), 6);
    wr(RTC_REG_A, REGA_DV_32KHZ | 1);                        /* 256 Hz, not 16384 */
    CHECK_EQ(count_edges(RTC_HZ, 16, REGC_PF), 256);
    wr(RTC_REG_A, REGA_DV_32KHZ | 2);                        /* 128 Hz */
    CHECK_EQ(count_edges(RTC_HZ, 16, REGC_PF), 128);
    wr(RTC_REG_A, REGA_DV_32KHZ | 3);                        /* 8192 Hz */
    CHECK_EQ(count_edges(RTC_HZ / 4, 1, REGC_PF), 2048);
    wr(RTC_REG_A, REGA_DV_32KHZ);                            /* RS=0: none */
    rd(RTC_REG_C);
    CHECK_EQ(count_edges(RTC_HZ, 64, REGC_PF), 0);
    CHECK_EQ(rd(RTC_REG_C) & REGC_PF, 0);
    /* PF is set without PIE, but raises nothing. */
    wr(RTC_REG_B, REGB_24H);
    wr(RTC_REG_A, REGA_DEFAULT);
    advance(RTC_HZ / 1024);
    CHECK(!line);
    CHECK_EQ(rd(RTC_REG_C), REGC_PF);
}

TEST(rtc_alarm_dont_care)
{
    setup(2024, 3, 15, 12, 0, 0);
    uint64_t t0 = now;
    wr(RTC_REG_SEC_ALARM, 0x30);
    wr(RTC_REG_MIN_ALARM, 0xFF);                             /* every minute at :30 */
    wr(RTC_REG_HOUR_ALARM, 0xC0);
    wr(RTC_REG_B, REGB_24H | REGB_AIE);
    CHECK_EQ(mc146818_next_event(&rtc), t0 + 30 * RTC_HZ);
    advance(29 * RTC_HZ);
    CHECK(!line);
    CHECK_EQ(rd(RTC_REG_C) & ~REGC_PF, REGC_UF);
    advance(RTC_HZ);
    CHECK(line);
    CHECK_EQ(rd(RTC_REG_C) & ~REGC_PF, REGC_IRQF | REGC_AF | REGC_UF);
    CHECK(!line);
    CHECK_EQ(mc146818_next_event(&rtc), t0 + 90 * RTC_HZ);
    advance(60 * RTC_HZ);
    CHECK(line);
    CHECK_EQ(edges, 2);
    rd(RTC_REG_C);
    /* A fixed hh:mm:ss alarm: fires once a day; a long gap still catches it. */
    wr(RTC_REG_HOUR_ALARM, 0x06);
    wr(RTC_REG_MIN_ALARM, 0x00);
    wr(RTC_REG_SEC_ALARM, 0x00);
    advance(3600 * RTC_HZ);
    CHECK(!line);
    advance(2 * 86400ull * RTC_HZ);
    CHECK(line);
    CHECK(rd(RTC_REG_C) & REGC_AF);
    /* Seconds don't-care: every second of the matching minute. */
    rd(RTC_REG_C);
    uint8_t m = rd(RTC_REG_MIN);
    wr(RTC_REG_SEC_ALARM, 0xFF);
    wr(RTC_REG_MIN_ALARM, (uint8_t)(m + 1));                 /* BCD, and m is not x9 here */
    wr(RTC_REG_HOUR_ALARM, 0xFF);
    uint64_t next_min = rtc.next_update + (uint64_t)(59 - rtc_from_bcd(rd(RTC_REG_SEC))) * RTC_HZ;
    CHECK_EQ(mc146818_next_event(&rtc), next_min);
    now = next_min - 1;
    mc146818_update(&rtc);
    CHECK(!line);
    for (int i = 0; i < 3; i++) {
        advance(1);
        CHECK(line);
        CHECK(rd(RTC_REG_C) & REGC_AF);
        CHECK_EQ(mc146818_next_event(&rtc), now + RTC_HZ);   /* still inside the minute */
        advance(RTC_HZ - 1);
    }
    /* A byte that no time can equal never matches. */
    wr(RTC_REG_SEC_ALARM, 0x61);
    CHECK_EQ(mc146818_next_event(&rtc), UINT64_MAX);
    advance(2 * 86400ull * RTC_HZ);
    CHECK(!line);
}

TEST(rtc_regc_read_clears_and_lowers)
{
    setup(2024, 3, 15, 13, 45, 30);
    wr(RTC_REG_B, REGB_24H | REGB_PIE);
    advance(RTC_HZ / 1024);
    CHECK(line);
    CHECK_EQ(rd(RTC_REG_C), REGC_IRQF | REGC_PF);
    CHECK(!line);
    CHECK_EQ(rd(RTC_REG_C), 0);
    wr(RTC_REG_C, 0xFF);                                     /* read-only */
    CHECK_EQ(rd(RTC_REG_C), 0);
    CHECK(!line);
}

TEST(rtc_regd_vrt)
{
    setup(2024, 3, 15, 13, 45, 30);
    CHECK_EQ(rd(RTC_REG_D), REGD_VRT);
    wr(RTC_REG_D, 0x00);
    CHECK_EQ(rd(RTC_REG_D), REGD_VRT);
    wr(RTC_REG_D, 0x7F);
    CHECK_EQ(rd(RTC_REG_D), REGD_VRT);
}

TEST(rtc_rollover)
{
    setup(2024, 2, 28, 23, 59, 59);
    advance(2 * RTC_HZ);
    CHECK_TIME(0x24, 0x02, 0x29, 5, 0x00, 0x00, 0x01);
    setup(2024, 2, 29, 23, 59, 59);
    advance(RTC_HZ);
    CHECK_TIME(0x24, 0x03, 0x01, 6, 0x00, 0x00, 0x00);
    setup(2023, 2, 28, 23, 59, 59);                          /* not a leap year */
    advance(RTC_HZ);
    CHECK_TIME(0x23, 0x03, 0x01, 4, 0x00, 0x00, 0x00);
    setup(2023, 12, 31, 23, 59, 59);
    advance(RTC_HZ);
    CHECK_TIME(0x24, 0x01, 0x01, 2, 0x00, 0x00, 0x00);
    CHECK_EQ(rd(CMOS_CENTURY), 0x20);
    setup(2024, 4, 30, 12, 0, 0);
    advance(RTC_HZ * 86400);
    CHECK_TIME(0x24, 0x05, 0x01, 4, 0x12, 0x00, 0x00);
    /* A whole leap year in one step. */
    setup(2024, 1, 1, 0, 0, 0);
    advance(366ull * 86400 * RTC_HZ);
    CHECK_TIME(0x25, 0x01, 0x01, 4, 0x00, 0x00, 0x00);
    /* The chip wraps 99 -> 00; the century byte is plain RAM and stays. */
    setup(2099, 12, 31, 23, 59, 59);
    CHECK_EQ(rd(RTC_REG_WDAY), 5);
    advance(RTC_HZ);
    CHECK_TIME(0x00, 0x01, 0x01, 6, 0x00, 0x00, 0x00);
    CHECK_EQ(rd(CMOS_CENTURY), 0x20);
}

TEST(rtc_cmos_memory_bytes)
{
    setup(2024, 3, 15, 13, 45, 30);                          /* 640 KB base, 31 MiB extended */
    CHECK_EQ(rd(CMOS_BASE_MEM_LO), 0x80);
    CHECK_EQ(rd(CMOS_BASE_MEM_HI), 0x02);
    CHECK_EQ(rd(CMOS_EXT_MEM_LO), 0x00);                     /* 31744 KB = 0x7c00 */
    CHECK_EQ(rd(CMOS_EXT_MEM_HI), 0x7C);
    CHECK_EQ(rd(CMOS_EXT_MEM2_LO), 0x00);
    CHECK_EQ(rd(CMOS_EXT_MEM2_HI), 0x7C);
    CHECK_EQ(rd(CMOS_HIGH_MEM_LO), 0x00);                    /* 16 MiB above 16 MiB = 256 x 64 KiB */
    CHECK_EQ(rd(CMOS_HIGH_MEM_HI), 0x01);
    CHECK_EQ(rd(CMOS_FLOPPY), 0);
    CHECK_EQ(rd(CMOS_EQUIPMENT), EQUIP_FPU);
    CHECK_EQ(rd(CMOS_CENTURY), 0x20);
    unsigned sum = 0;
    for (uint8_t i = CMOS_CSUM_FIRST; i <= CMOS_CSUM_LAST; i++)
        sum += rd(i);
    CHECK_EQ(rd(CMOS_CSUM_HI), sum >> 8);
    CHECK_EQ(rd(CMOS_CSUM_LO), sum & 0xFF);
    mc146818_init(&rtc, NULL, 1024, 8ull << 20, fake_clock, fake_irq, NULL);   /* 8 GiB: caps */
    CHECK_EQ(rd(CMOS_BASE_MEM_LO) | rd(CMOS_BASE_MEM_HI) << 8, 640);
    CHECK_EQ(rd(CMOS_EXT_MEM_LO) | rd(CMOS_EXT_MEM_HI) << 8, 0xFFFF);
    CHECK_EQ(rd(CMOS_HIGH_MEM_LO) | rd(CMOS_HIGH_MEM_HI) << 8, 0xFFFF);
    CHECK_TIME(0x00, 0x01, 0x01, 7, 0x00, 0x00, 0x00);       /* NULL start: 2000-01-01, Saturday */
    mc146818_init(&rtc, NULL, 640, 8 * 1024, fake_clock, fake_irq, NULL);     /* below 16 MiB */
    CHECK_EQ(rd(CMOS_HIGH_MEM_LO) | rd(CMOS_HIGH_MEM_HI) << 8, 0);
    /* General CMOS RAM keeps what is written. */
    wr(0x50, 0xA5);
    CHECK_EQ(rd(0x50), 0xA5);
}

TEST(rtc_next_event)
{
    setup(2024, 3, 15, 13, 45, 30);
    uint64_t t0 = now;
    CHECK_EQ(mc146818_next_event(&rtc), UINT64_MAX);        /* nothing enabled */
    wr(RTC_REG_B, REGB_24H | REGB_UIE);
    CHECK_EQ(mc146818_next_event(&rtc), t0 + RTC_HZ);
    wr(RTC_REG_B, REGB_24H | REGB_UIE | REGB_PIE);
    CHECK_EQ(mc146818_next_event(&rtc), t0 + 32);            /* 1024 Hz */
    wr(RTC_REG_A, REGA_DV_32KHZ | 15);
    CHECK_EQ(mc146818_next_event(&rtc), t0 + RTC_HZ / 2);   /* 2 Hz, on the update grid */
    advance(RTC_HZ / 2 + 1);
    CHECK_EQ(mc146818_next_event(&rtc), t0 + RTC_HZ);
    wr(RTC_REG_A, REGA_DV_32KHZ | 1);
    CHECK_EQ(mc146818_next_event(&rtc), t0 + RTC_HZ / 2 + 128);
    wr(RTC_REG_B, REGB_24H);
    wr(RTC_REG_SEC_ALARM, 0x35);
    wr(RTC_REG_MIN_ALARM, 0x45);
    wr(RTC_REG_HOUR_ALARM, 0x13);
    wr(RTC_REG_B, REGB_24H | REGB_AIE);
    CHECK_EQ(mc146818_next_event(&rtc), t0 + 5 * RTC_HZ);
    wr(RTC_REG_B, REGB_24H | REGB_AIE | REGB_SET);           /* SET: no update, no alarm */
    CHECK_EQ(mc146818_next_event(&rtc), UINT64_MAX);
    wr(RTC_REG_B, REGB_24H | REGB_PIE);
    wr(RTC_REG_A, REGA_DV_RESET | 6);                        /* divider held: nothing at all */
    CHECK_EQ(mc146818_next_event(&rtc), UINT64_MAX);
}

TEST(rtc_divider_reset_restarts_half_second_later)
{
    setup(2024, 3, 15, 13, 45, 30);
    wr(RTC_REG_A, REGA_DV_RESET | 6);
    advance(5 * RTC_HZ);
    CHECK_EQ(rd(RTC_REG_SEC), 0x30);
    CHECK_EQ(rd(RTC_REG_C), 0);
    uint64_t t = now;
    wr(RTC_REG_A, REGA_DEFAULT);
    advance(RTC_HZ / 2 - 1);
    CHECK_EQ(rd(RTC_REG_SEC), 0x30);
    advance(1);
    CHECK_EQ(rd(RTC_REG_SEC), 0x31);
    CHECK_EQ(now, t + RTC_HZ / 2);
    advance(RTC_HZ);
    CHECK_EQ(rd(RTC_REG_SEC), 0x32);
}

TEST(rtc_index_port_and_nmi)
{
    setup(2024, 3, 15, 13, 45, 30);
    mc146818_write(&rtc, RTC_PORT_INDEX, RTC_INDEX_NMI_MASK | RTC_REG_B);
    CHECK(rtc.nmi_masked);
    CHECK_EQ(rtc.index, RTC_REG_B);
    CHECK_EQ(mc146818_read(&rtc, RTC_PORT_INDEX), 0x8B);
    CHECK_EQ(mc146818_read(&rtc, RTC_PORT_DATA), REGB_DEFAULT);
    mc146818_write(&rtc, RTC_PORT_INDEX, 0x7F);
    CHECK(!rtc.nmi_masked);
    mc146818_write(&rtc, RTC_PORT_DATA, 0x42);
    mc146818_write(&rtc, RTC_PORT_INDEX, 0xFF);              /* bit 7 is NMI: index 0x7f again */
    CHECK_EQ(mc146818_read(&rtc, RTC_PORT_DATA), 0x42);
    CHECK_EQ(mc146818_read(&rtc, 0x72), 0xFF);               /* not ours */
}

TEST(rtc_attach_ioport)
{
    static struct ioport_table io;
    ioport_init(&io);
    setup(2024, 3, 15, 13, 45, 30);
    CHECK(mc146818_attach(&io, &rtc));
    CHECK(!mc146818_attach(&io, &rtc));                      /* already taken */
    CHECK_STR(ioport_owner_name(&io, RTC_PORT_INDEX), "rtc");
    CHECK_STR(ioport_owner_name(&io, RTC_PORT_DATA), "rtc");
    ioport_out(&io, RTC_PORT_INDEX, 1, RTC_REG_MIN);
    CHECK_EQ(ioport_in(&io, RTC_PORT_DATA, 1), 0x45);
    ioport_out(&io, RTC_PORT_INDEX, 2, 0x5A50);              /* index 0x50, data 0x5a */
    ioport_out(&io, RTC_PORT_INDEX, 1, 0x50);
    CHECK_EQ(ioport_in(&io, RTC_PORT_DATA, 1), 0x5A);
    CHECK_EQ(ioport_in(&io, RTC_PORT_INDEX, 2), 0x5A50);
}

TEST(rtc_garbage)
{
    static struct ioport_table io;
    uint32_t x = 0x12345678;
    setup(2024, 3, 15, 13, 45, 30);
    ioport_init(&io);
    CHECK(mc146818_attach(&io, &rtc));
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;             /* xorshift32 */
        uint8_t v = (uint8_t)(x >> 8);
        switch (x % 9) {
        case 0: mc146818_write(&rtc, RTC_PORT_INDEX, v); break;
        case 1: mc146818_write(&rtc, RTC_PORT_DATA, v); break;
        case 2: mc146818_read(&rtc, RTC_PORT_INDEX); break;
        case 3: mc146818_read(&rtc, RTC_PORT_DATA); break;
        case 4: now += (x >> 16) % (2 * RTC_HZ); mc146818_update(&rtc); break;
        case 5: (void)mc146818_next_event(&rtc); break;
        case 6: ioport_out(&io, (uint16_t)(RTC_PORT_INDEX + (x >> 20) % 2), 1u << ((x >> 24) % 3), x); break;
        case 7: (void)ioport_in(&io, (uint16_t)(RTC_PORT_INDEX + (x >> 20) % 2), 1u << ((x >> 24) % 3)); break;
        default:
            if ((x >> 12) % 64 == 0)
                now += (uint64_t)x << 8;                     /* occasional long jump */
            else if ((x >> 12) % 64 == 1)
                now /= 2;                                    /* or a jump backwards */
            mc146818_write(&rtc, (uint16_t)(x >> 16), v);
            break;
        }
        /* The line always mirrors IRQF, and the next event is never in the past while enabled. */
        CHECK_EQ(line, (rtc.cmos[RTC_REG_C] & REGC_IRQF) != 0);
        uint64_t ev = mc146818_next_event(&rtc);
        CHECK(ev == UINT64_MAX || ev > rtc.last);
    }
    CHECK_EQ(edges, rtc.irqs_raised);
}

/* Issue 18: a clock that jumps back holds the RTC still (no update cycle, UIP and periodic
 * flags as they were) until time catches up; a jump forward by 2^63 ticks is a long time
 * passing (the calendar moves on and stays valid BCD); the periodic interrupt and the update
 * cycle keep their rates afterwards. */
TEST(rtc_clock_jumps_back_and_forward)
{
    setup(2024, 3, 15, 13, 45, 30);
    wr(RTC_REG_B, REGB_24H | REGB_PIE | REGB_UIE);
    advance(RTC_HZ / 2);
    uint8_t sec = rd(RTC_REG_SEC);
    uint64_t held = rtc.last;
    for (int rep = 0; rep < 4; rep++) {
        now = 0;                                             /* back to 0 */
        mc146818_update(&rtc);
        CHECK_EQ(rtc.last, held);
        CHECK_EQ(rd(RTC_REG_SEC), sec);
        CHECK(mc146818_next_event(&rtc) > rtc.last);
        (void)rd(RTC_REG_A);
        (void)rd(RTC_REG_C);
    }
    now = held + ((uint64_t)1 << 63);                        /* forward by 2^63 */
    mc146818_update(&rtc);
    static const uint8_t regs[] = { RTC_REG_SEC, RTC_REG_MIN, RTC_REG_HOUR, RTC_REG_MDAY, RTC_REG_MONTH, RTC_REG_YEAR };
    static const uint8_t max[] = { 0x59, 0x59, 0x23, 0x31, 0x12, 0x99 };
    for (unsigned i = 0; i < ARRAY_SIZE(regs); i++) {
        uint8_t v = rd(regs[i]);
        CHECK((v & 0x0F) <= 9 && v <= max[i]);               /* still valid BCD */
    }
    CHECK(mc146818_next_event(&rtc) > rtc.last);
    CHECK(rd(RTC_REG_C) & REGC_UF);
    now = 5;                                                 /* and back again: nothing moves */
    mc146818_update(&rtc);
    CHECK(!line);
    sec = rd(RTC_REG_SEC);
    now = rtc.last;                                          /* time resumes from the held clock */
    CHECK_EQ(count_edges(RTC_HZ, 8, REGC_PF | REGC_UF), 1024);
    CHECK_EQ(rd(RTC_REG_SEC), rtc_to_bcd((uint8_t)((rtc_from_bcd(sec) + 1) % 60)));
}
