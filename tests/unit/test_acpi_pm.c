/* ACPI PM1 event and control blocks (ACPI 6.x 4.8.3.1 PM1 Event Grouping, 4.8.3.2 PM1 Control
 * Grouping, 4.8.3.3 Power Management Timer): write-1-to-clear status, enables, SCI_EN fixed at
 * 1 (no SMI command port, 4.8.2.1.1 / FADT SMI_CMD = 0), SLP_EN write-only, S5 soft-off, the
 * PM timer's bit-23 TMR_STS, the SCI level, byte/word/dword decoding, and a fuzz. Time is a
 * fake clock in PM timer ticks. The bit positions here are the spec's (tables 4-16 to 4-18). */
#include "test.h"
#include "dev/acpi_pm.h"
#include "dev/acpi_pmtimer.h"

#define BASE        0xB000
#define STS         (BASE + 0)
#define EN          (BASE + 2)
#define CNT         (BASE + 4)
/* PM1_STS / PM1_EN (table 4-16, 4-17) */
#define TMR         (1u << 0)
#define BM_STS      (1u << 4)
#define GBL         (1u << 5)
#define PWRBTN      (1u << 8)
#define SLPBTN      (1u << 9)
#define RTC         (1u << 10)
#define PCIEXP_WAKE (1u << 14)
#define WAK_STS     (1u << 15)
#define EN_DEFINED  (TMR | GBL | PWRBTN | SLPBTN | RTC | PCIEXP_WAKE)
/* PM1_CNT (table 4-18) */
#define SCI_EN      (1u << 0)
#define BM_RLD      (1u << 1)
#define GBL_RLS     (1u << 2)
#define SLP_TYP(t)  ((unsigned)(t) << 10)
#define SLP_TYP_MASK SLP_TYP(7)
#define SLP_EN      (1u << 13)
#define MSB_PERIOD  (1ull << 23)        /* bit 23 of the 24-bit timer toggles this often */

static struct acpi_pm pm;
static struct ioport_table io;
static uint64_t now;
static unsigned power_offs, sci_calls, moves;
static bool sci;

static uint64_t fake_clock(void *ctx) { return now; }
static void sci_line(void *ctx, bool level)
{
    CHECK(level != sci);                /* only changes are reported */
    sci = level;
    sci_calls++;
}
static void power_off(void *ctx) { power_offs++; }
static void moved(void *ctx) { moves++; }

static void reset_at(uint64_t t)
{
    now = t;
    power_offs = sci_calls = moves = 0;
    sci = false;
    ioport_init(&io);
    acpi_pm_init(&pm, BASE, fake_clock, sci_line, power_off, NULL);
    dev_clock_on_move(&pm.clock, moved, NULL);
    CHECK(acpi_pm_attach(&io, &pm));
}
static void reset(void) { reset_at(0); }
static uint32_t in(uint16_t port, unsigned size) { return ioport_in(&io, port, size); }
static void out(uint16_t port, unsigned size, uint32_t v) { ioport_out(&io, port, size, v); }

TEST(power_on_state)
{
    reset();
    CHECK_EQ(in(STS, 2), 0);
    CHECK_EQ(in(EN, 2), 0);
    CHECK_EQ(in(CNT, 2), SCI_EN);       /* ACPI mode from the start: no SMI_CMD to enable it */
    CHECK(!sci);
    CHECK_EQ(acpi_pm_next_irq(&pm), UINT64_MAX);
    CHECK_EQ(ACPI_PM_PORTS, 6);
    CHECK(!acpi_pm_attach(&io, &pm));   /* the ports are taken */
    /* The PM timer's ports at +8 are left to its own device, and +6/+7 to nobody. */
    static const struct ioport_ops timer_ops = { .name = "timer" };
    CHECK(ioport_register(&io, BASE + ACPI_PM_TMR_OFF, ACPI_PM_TMR_LEN, &timer_ops, NULL));
    CHECK_STR(ioport_owner_name(&io, BASE + 5), "acpi-pm1");
    CHECK_STR(ioport_owner_name(&io, BASE + 6), "none");
}

TEST(status_bits_are_write_one_to_clear)
{
    reset();
    acpi_pm_power_button(&pm);
    now = MSB_PERIOD;                   /* TMR_STS too */
    CHECK_EQ(in(STS, 2), PWRBTN | TMR);
    out(STS, 2, 0);                     /* zeros leave everything */
    CHECK_EQ(in(STS, 2), PWRBTN | TMR);
    out(STS, 2, 0xFFFF & ~PWRBTN);      /* ones clear, and never set */
    CHECK_EQ(in(STS, 2), PWRBTN);
    out(STS, 2, PWRBTN);
    CHECK_EQ(in(STS, 2), 0);
    out(STS, 2, 0xFFFF);
    CHECK_EQ(in(STS, 2), 0);
}

TEST(enable_bits_hold_what_is_written)
{
    reset();
    out(EN, 2, 0xFFFF);
    CHECK_EQ(in(EN, 2), EN_DEFINED);    /* GBL_EN and RTC_EN stick: ACPICA reads them back */
    out(EN, 2, GBL);
    CHECK_EQ(in(EN, 2), GBL);
    out(EN, 2, 0);
    CHECK_EQ(in(EN, 2), 0);
    CHECK_EQ(in(STS, 2), 0);            /* the enables are not status bits */
}

TEST(control_register_sci_en_fixed_slp_en_write_only)
{
    reset();
    out(CNT, 2, 0);
    CHECK_EQ(in(CNT, 2), SCI_EN);       /* cannot leave ACPI mode */
    out(CNT, 2, SLP_TYP(3) | BM_RLD | GBL_RLS);
    CHECK_EQ(in(CNT, 2), SCI_EN | BM_RLD | SLP_TYP(3));    /* SLP_TYP read/write, GBL_RLS write-only */
    out(CNT, 2, SLP_TYP(3) | SLP_EN);
    CHECK_EQ(in(CNT, 2) & SLP_EN, 0);   /* write-only: reads 0 */
    out(CNT, 2, 0xFFFF & ~SLP_EN);
    CHECK_EQ(in(CNT, 2), SCI_EN | BM_RLD | SLP_TYP_MASK);   /* reserved bits read 0 */
    CHECK_EQ(power_offs, 0);
}

TEST(s5_powers_off_exactly_once)
{
    reset();
    CHECK_EQ(ACPI_SLP_TYP_S5, 7);
    out(CNT, 2, SLP_TYP(ACPI_SLP_TYP_S5));          /* ACPICA: SLP_TYP first, ... */
    CHECK_EQ(power_offs, 0);
    out(CNT, 2, SLP_TYP(ACPI_SLP_TYP_S5) | SLP_EN); /* ... then SLP_EN with it */
    CHECK_EQ(power_offs, 1);
    CHECK(pm.off);
    out(CNT, 2, SLP_TYP(ACPI_SLP_TYP_S5) | SLP_EN);
    CHECK_EQ(power_offs, 1);            /* off stays off */
    CHECK_EQ(pm.sleeps_ignored, 0);
}

TEST(s5_by_byte_write_to_the_high_byte)
{
    reset();
    /* SLP_TYP (12:10) and SLP_EN (13) both live in the high byte at base + 5. */
    out(CNT + 1, 1, (SLP_TYP(ACPI_SLP_TYP_S5) | SLP_EN) >> 8);
    CHECK_EQ(power_offs, 1);
    reset();
    out(CNT, 2, SLP_TYP(ACPI_SLP_TYP_S5));
    out(CNT, 1, SCI_EN);                /* a low-byte write: no SLP_EN */
    CHECK_EQ(power_offs, 0);
    CHECK_EQ(in(CNT, 2), SCI_EN | SLP_TYP(ACPI_SLP_TYP_S5));
}

TEST(other_sleep_types_are_ignored_and_counted)
{
    for (unsigned typ = 0; typ < 8; typ++) {
        if (typ == ACPI_SLP_TYP_S5)
            continue;
        reset();
        out(CNT, 2, SLP_TYP(typ) | SLP_EN);
        CHECK_EQ(power_offs, 0);
        CHECK_EQ(pm.sleeps_ignored, 1);
        /* A sleep that ends at once: WAK_STS, which an OS polls after SLP_EN. */
        CHECK(in(STS, 2) & WAK_STS);
        out(STS, 2, WAK_STS);
        CHECK_EQ(in(STS, 2) & WAK_STS, 0);
        CHECK(!sci);                    /* WAK_STS has no enable: no SCI */
    }
}

TEST(tmr_sts_when_bit_23_toggles)
{
    reset();
    now = MSB_PERIOD - 1;
    CHECK_EQ(in(STS, 2) & TMR, 0);
    now = MSB_PERIOD;                   /* bit 23: 0 -> 1 */
    CHECK(in(STS, 2) & TMR);
    out(STS, 2, TMR);
    now = 2 * MSB_PERIOD - 1;
    CHECK_EQ(in(STS, 2) & TMR, 0);
    now = 2 * MSB_PERIOD;               /* bit 23: 1 -> 0, the 24-bit counter wraps */
    CHECK(in(STS, 2) & TMR);
    out(STS, 2, TMR);
    now = 7 * MSB_PERIOD + 5;           /* several toggles unseen: one status bit */
    CHECK(in(STS, 2) & TMR);
    out(STS, 2, TMR);
    CHECK_EQ(in(STS, 2) & TMR, 0);
    /* Powered on mid-period: the first toggle is at the next multiple of 2^23. */
    reset_at(5 * MSB_PERIOD + 1234);
    now = 6 * MSB_PERIOD - 1;
    CHECK_EQ(in(STS, 2) & TMR, 0);
    now = 6 * MSB_PERIOD;
    CHECK(in(STS, 2) & TMR);
}

TEST(tmr_interrupt_next_and_catch_up)
{
    reset_at(100);
    CHECK_EQ(acpi_pm_next_irq(&pm), UINT64_MAX);    /* TMR_EN clear */
    out(EN, 2, TMR);
    CHECK_EQ(moves, 1);                 /* the registry is told */
    CHECK_EQ(acpi_pm_next_irq(&pm), MSB_PERIOD);
    now = MSB_PERIOD - 1;
    acpi_pm_catch_up(&pm);
    CHECK(!sci);
    now = MSB_PERIOD + 10;
    acpi_pm_catch_up(&pm);
    CHECK(sci);                         /* level: TMR_STS & TMR_EN */
    CHECK_EQ(acpi_pm_next_irq(&pm), UINT64_MAX);    /* asserted until cleared */
    unsigned m = moves;
    out(STS, 2, TMR);                   /* the handler clears it */
    CHECK(!sci);
    CHECK_EQ(moves, m + 1);
    CHECK_EQ(acpi_pm_next_irq(&pm), 2 * MSB_PERIOD);
    out(EN, 2, 0);
    CHECK_EQ(acpi_pm_next_irq(&pm), UINT64_MAX);
    now = 3 * MSB_PERIOD;
    acpi_pm_catch_up(&pm);
    CHECK(!sci);                        /* the status is set, the SCI is not */
    CHECK(in(STS, 2) & TMR);
    out(EN, 2, TMR);
    CHECK(sci);                         /* enabling a set status raises it */
    /* Writes that change nothing the registry cares about do not bother it. */
    m = moves;
    out(CNT, 2, 0);
    out(EN, 2, TMR | GBL);
    CHECK_EQ(moves, m);
}

TEST(sci_follows_sts_and_en)
{
    reset();
    CHECK(!acpi_pm_power_button(&pm));  /* not enabled: the guest sees no SCI */
    CHECK(!sci);
    out(EN, 2, PWRBTN);
    CHECK(sci);
    out(EN, 2, 0);
    CHECK(!sci);
    out(EN, 2, PWRBTN);
    CHECK(sci);
    out(STS, 2, PWRBTN);
    CHECK(!sci);
    CHECK(acpi_pm_power_button(&pm));
    CHECK(sci);
    CHECK(acpi_pm_power_button(&pm));   /* still set: no new edge, no new call */
    CHECK_EQ(sci_calls, 5);
    CHECK_EQ(pm.pwrbtn_presses, 3);
    out(STS, 2, PWRBTN);
    CHECK(!sci);
}

TEST(byte_word_dword_accesses)
{
    reset();
    out(EN, 2, PWRBTN | TMR);
    acpi_pm_power_button(&pm);
    CHECK_EQ(in(BASE, 4), (uint32_t)(PWRBTN | TMR) << 16 | PWRBTN);    /* EN << 16 | STS */
    CHECK_EQ(in(BASE + 1, 1), PWRBTN >> 8);
    CHECK_EQ(in(BASE + 2, 1), TMR);
    CHECK_EQ(in(BASE + 3, 1), PWRBTN >> 8);
    CHECK_EQ(in(BASE + 1, 2), (TMR << 8) | (PWRBTN >> 8));    /* straddles STS and EN */
    CHECK_EQ(in(CNT, 1), SCI_EN);
    CHECK_EQ(in(CNT + 1, 1), 0);
    CHECK_EQ(in(CNT, 4), 0xFFFF0000u | SCI_EN);   /* past the block: open bus */
    /* A dword write: clear PWRBTN_STS and rewrite the enables at once. */
    out(BASE, 4, (uint32_t)GBL << 16 | PWRBTN);
    CHECK_EQ(in(STS, 2), 0);
    CHECK_EQ(in(EN, 2), GBL);
    /* Byte writes touch their own byte only. */
    out(EN + 1, 1, PWRBTN >> 8);
    CHECK_EQ(in(EN, 2), GBL | PWRBTN);
    out(EN, 1, 0);
    CHECK_EQ(in(EN, 2), PWRBTN);
    acpi_pm_power_button(&pm);
    out(STS, 1, 0xFF);                  /* low byte: PWRBTN_STS is in the high byte */
    CHECK_EQ(in(STS, 2), PWRBTN);
    out(STS + 1, 1, 0xFF);
    CHECK_EQ(in(STS, 2), 0);
    /* A dword write at base + 4 reaches PM1_CNT; the rest falls off the block. */
    out(CNT, 4, 0xFFFF0000u | SLP_TYP(2));
    CHECK_EQ(in(CNT, 2), SCI_EN | SLP_TYP(2));
    /* Direct calls with ports outside the block (the table never makes them). */
    CHECK_EQ(acpi_pm_read(&pm, BASE - 1, 1), 0xFF);
    CHECK_EQ(acpi_pm_read(&pm, BASE + 6, 2), 0xFFFF);
    acpi_pm_write(&pm, BASE - 2, 4, 0xFFFFFFFF);
    acpi_pm_write(&pm, BASE + 7, 4, 0xFFFFFFFF);
    CHECK_EQ(power_offs, 0);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random accesses of every size around the block, random time steps, random button presses.
 * After each step: reserved bits read 0, SCI_EN 1, SLP_EN 0, the SCI line is what STS & EN
 * say, power_off came at most once and only after an S5 request, and a due TMR interrupt is
 * never missed. */
TEST(fuzz_random_port_io)
{
    reset();
    static const unsigned sizes[] = { 1, 2, 4 };
    bool s5_requested = false;
    for (unsigned i = 0; i < 200000; i++) {
        uint64_t r = xorshift();
        uint16_t port = (uint16_t)(BASE - 2 + r % 12);
        unsigned size = sizes[(r >> 8) % 3];
        uint32_t val = (uint32_t)xorshift();
        switch ((r >> 16) % 8) {
        case 0: case 1: case 2:
            /* Would this write request S5? Work out PM1_CNT's high byte from the lanes. */
            for (unsigned b = 0; b < size; b++)
                if (port + b == CNT + 1 && (val >> (8 * b) & (SLP_EN >> 8)) &&
                    (val >> (8 * b) & (SLP_TYP_MASK >> 8)) == (SLP_TYP(ACPI_SLP_TYP_S5) >> 8))
                    s5_requested = true;
            out(port, size, val);
            break;
        case 3: case 4:
            (void)in(port, size);
            break;
        case 5:
            now += xorshift() % (MSB_PERIOD / 2);
            break;
        case 6: {
            uint64_t next = acpi_pm_next_irq(&pm);
            if (next != UINT64_MAX) {
                CHECK(next > pm.tmr_checked);
                now = next;
                acpi_pm_catch_up(&pm);
                CHECK(sci);             /* the promised interrupt came */
            }
            break;
        }
        default:
            if (r >> 40 & 1)
                acpi_pm_power_button(&pm);
            else
                acpi_pm_catch_up(&pm);
            break;
        }
        uint32_t sts = in(STS, 2), en = in(EN, 2), cnt = in(CNT, 2);
        CHECK_EQ(sts & ~(TMR | BM_STS | GBL | PWRBTN | SLPBTN | RTC | PCIEXP_WAKE | WAK_STS), 0);
        CHECK_EQ(en & ~EN_DEFINED, 0);
        CHECK_EQ(cnt & (SCI_EN | SLP_EN | GBL_RLS), SCI_EN);
        CHECK_EQ(cnt & ~(SCI_EN | BM_RLD | SLP_TYP_MASK), 0);
        CHECK_EQ(sci, (sts & en & (TMR | GBL | PWRBTN | SLPBTN | RTC)) != 0);
        CHECK(power_offs <= 1);
        CHECK_EQ(power_offs, s5_requested);
        if (test_failed_checks)
            break;                      /* one report, not 200000 */
    }
    CHECK(s5_requested);                /* the fuzz did reach the power-off path */
}
