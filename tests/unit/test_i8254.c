/* 8254 PIT: the modes as the datasheet draws them, the latch and read-back commands, and the
 * sequences Linux uses (periodic tick in mode 2, one-shot in mode 4, TSC calibration on
 * channel 2 through port 0x61). Time is a fake clock in PIT input clocks. */
#include "test.h"
#include "dev/i8254.h"

static struct i8254 pit;
static uint64_t now;

static uint64_t fake_clock(void *ctx) { return now; }
static void out(uint16_t port, uint8_t v) { i8254_write(&pit, port, v); }
static uint8_t in(uint16_t port) { return i8254_read(&pit, port); }
static void reset(void) { now = 1000; i8254_init(&pit, fake_clock, NULL, NULL); }

static void program(unsigned ch, uint8_t ctrl, uint16_t count)
{
    out(0x43, (uint8_t)(ch << 6 | ctrl));
    out((uint16_t)(0x40 + ch), count & 0xFF);
    out((uint16_t)(0x40 + ch), count >> 8);
}

static uint16_t read16(unsigned ch)
{
    uint8_t lo = in((uint16_t)(0x40 + ch));
    return (uint16_t)(lo | in((uint16_t)(0x40 + ch)) << 8);
}

static unsigned edges_between(unsigned ch, uint64_t from, uint64_t to)
{
    unsigned n = 0;
    for (uint64_t e = i8254_next_rising_edge(&pit, ch, from); e <= to; e = i8254_next_rising_edge(&pit, ch, e))
        n++;
    return n;
}

TEST(mode2_linux_periodic_tick_1000hz)
{
    reset();
    program(0, 0x34, 1193);             /* Linux: PIT_LATCH for HZ=1000, mode 2, LSB/MSB */
    uint64_t t0 = now;
    CHECK(i8254_out(&pit, 0, now));
    CHECK_EQ(edges_between(0, t0, t0 + PIT_HZ), 1000);
    CHECK_EQ(i8254_next_rising_edge(&pit, 0, t0), t0 + 1193);
    CHECK(!i8254_out(&pit, 0, t0 + 1192));  /* low for the one clock before reload */
    CHECK(i8254_out(&pit, 0, t0 + 1193));
    now = t0 + 100;
    CHECK_EQ(read16(0), 1093);
    now = t0 + 1193 + 5;
    CHECK_EQ(read16(0), 1188);          /* reloaded */
}

TEST(mode3_square_wave)
{
    reset();
    program(0, 0x36, 100);
    uint64_t t0 = now;
    CHECK(i8254_out(&pit, 0, t0 + 49));
    CHECK(!i8254_out(&pit, 0, t0 + 50));
    CHECK(!i8254_out(&pit, 0, t0 + 99));
    CHECK(i8254_out(&pit, 0, t0 + 100));
    CHECK_EQ(edges_between(0, t0, t0 + 1000), 10);
    now = t0 + 10;
    CHECK_EQ(read16(0), 80);            /* counts down by two */
    program(0, 0x36, 0);                /* 0 = 65536: 18.2 Hz, the BIOS default */
    CHECK_EQ(edges_between(0, now, now + PIT_HZ), 18);
}

TEST(mode0_interrupt_on_terminal_count)
{
    reset();
    program(0, 0x30, 500);
    uint64_t t0 = now;
    CHECK(!i8254_out(&pit, 0, t0));
    CHECK(!i8254_out(&pit, 0, t0 + 499));
    CHECK(i8254_out(&pit, 0, t0 + 500));
    CHECK(i8254_out(&pit, 0, t0 + 70000));  /* stays high */
    CHECK_EQ(edges_between(0, t0, t0 + 200000), 1);
    now = t0 + 501;
    CHECK_EQ(read16(0), 0xFFFF);        /* keeps counting through zero */
    out(0x43, 0x30);                    /* rewriting the mode sets OUT low */
    CHECK(!i8254_out(&pit, 0, now));
    out(0x40, 0x10);                    /* first byte: counting stopped */
    CHECK_EQ(i8254_next_rising_edge(&pit, 0, now), UINT64_MAX);
    out(0x40, 0x00);
    CHECK_EQ(i8254_next_rising_edge(&pit, 0, now), now + 16);
}

TEST(mode4_linux_oneshot)
{
    reset();
    program(0, 0x38, 1000);             /* Linux's PIT clockevent in oneshot mode */
    uint64_t t0 = now;
    CHECK(i8254_out(&pit, 0, t0 + 999));
    CHECK(!i8254_out(&pit, 0, t0 + 1000));  /* one clock low at terminal count */
    CHECK(i8254_out(&pit, 0, t0 + 1001));
    CHECK_EQ(edges_between(0, t0, t0 + 500000), 1);
    CHECK_EQ(i8254_next_rising_edge(&pit, 0, t0), t0 + 1001);
}

TEST(mode1_and_mode5_gate_triggered)
{
    reset();
    out(0x61, 0x00);
    program(2, 0x32, 300);              /* mode 1 on channel 2 */
    CHECK(i8254_out(&pit, 2, now));     /* high until triggered */
    CHECK_EQ(i8254_next_rising_edge(&pit, 2, now), UINT64_MAX);
    now += 10;
    out(0x61, 0x01);                    /* rising gate triggers */
    uint64_t t = now;
    CHECK(!i8254_out(&pit, 2, t + 299));
    CHECK(i8254_out(&pit, 2, t + 300));
    now = t + 100;
    out(0x61, 0x00);
    out(0x61, 0x01);                    /* retrigger restarts the count */
    CHECK(!i8254_out(&pit, 2, now + 299));
    CHECK(i8254_out(&pit, 2, now + 300));
    program(2, 0x3A, 50);               /* mode 5 */
    CHECK_EQ(i8254_next_rising_edge(&pit, 2, now), UINT64_MAX);
    out(0x61, 0x00);
    out(0x61, 0x01);
    CHECK_EQ(i8254_next_rising_edge(&pit, 2, now), now + 51);
}

TEST(linux_pit_calibrate_tsc_channel2)
{
    /* pit_calibrate_tsc(): gate high, speaker off, mode 0 LSB/MSB, poll port 0x61 bit 5. */
    reset();
    out(0x61, (in(0x61) & ~0x02) | 0x01);
    out(0x43, 0xB0);
    out(0x42, 11932 & 0xFF);
    out(0x42, 11932 >> 8);
    uint64_t t0 = now, polls = 0;
    while (!(in(0x61) & 0x20)) {
        now += 7;
        polls++;
    }
    CHECK(now - t0 >= 11932 && now - t0 < 11932 + 7);
    CHECK_EQ(polls, (11932 + 6) / 7);
    CHECK_EQ(in(0x61) & 0x0F, 0x01);
}

TEST(linux_quick_pit_calibrate_msb_reads)
{
    reset();
    out(0x61, (in(0x61) & ~0x02) | 0x01);
    out(0x43, 0xB0);
    out(0x42, 0xFF);
    out(0x42, 0xFF);
    /* It reads LSB then MSB without latching and expects MSB to step down every 256 clocks. */
    uint64_t t0 = now;
    for (unsigned k = 0; k < 200; k++) {
        now = t0 + (uint64_t)k * 256 + 3;
        (void)in(0x42);
        CHECK_EQ(in(0x42), 0xFF - k);
    }
}

TEST(gate_low_pauses_mode0)
{
    reset();
    out(0x61, 0x00);
    program(2, 0xB0, 1000);
    uint64_t t0 = now;
    now += 500;
    CHECK_EQ(read16(2), 1000);          /* gate low: not counting */
    out(0x61, 0x01);
    now += 300;
    CHECK_EQ(read16(2), 700);
    out(0x61, 0x00);
    now += 5000;
    CHECK_EQ(read16(2), 700);
    CHECK(!(in(0x61) & 0x20));
    out(0x61, 0x01);
    CHECK_EQ(i8254_next_rising_edge(&pit, 2, now), now + 700);
    (void)t0;
}

TEST(mode2_gate_low_holds_out_high_and_reloads)
{
    reset();
    program(2, 0xB4, 100);              /* gate 2 is low after reset */
    CHECK(i8254_out(&pit, 2, now + 99));
    out(0x61, 0x01);
    uint64_t t = now;
    CHECK(!i8254_out(&pit, 2, t + 99));
    now = t + 30;
    out(0x61, 0x00);
    CHECK(i8254_out(&pit, 2, now + 69));
    out(0x61, 0x01);
    CHECK_EQ(i8254_next_rising_edge(&pit, 2, now), now + 100);
}

TEST(counter_latch_command)
{
    reset();
    program(0, 0x34, 5000);
    now += 1234;
    out(0x43, 0x00);                    /* latch channel 0 */
    now += 1000;
    out(0x43, 0x00);                    /* a second latch before reading is ignored */
    CHECK_EQ(read16(0), 5000 - 1234);
    CHECK_EQ(read16(0), 5000 - 2234);   /* live again */
}

TEST(read_back_status_and_count)
{
    reset();
    program(1, 0x34, 300);              /* channel 1 mode 2 */
    out(0x43, 0xB0);                    /* channel 2: mode 0, LSB/MSB, no count yet */
    now += 10;
    out(0x43, 0xC0 | 0x08 | 0x04);      /* read back count + status of channels 1 and 2 */
    uint8_t st1 = in(0x41);
    CHECK_EQ(st1, 0x80 | 0x34);         /* OUT high, count loaded, LSB/MSB mode 2 */
    CHECK_EQ(read16(1), 290);
    uint8_t st2 = in(0x42);
    CHECK_EQ(st2, 0x40 | 0x30);         /* OUT low (mode 0), NULL COUNT */
    out(0x43, 0xC0 | 0x20 | 0x02);      /* status only, channel 0 */
    CHECK_EQ(in(0x40) & 0x3F, 0x30);    /* reset default: LSB/MSB, mode 0, binary */
}

TEST(lsb_only_msb_only_and_bcd)
{
    reset();
    out(0x43, 0x14);                    /* channel 0, LSB only, mode 2 */
    out(0x40, 200);
    now += 50;
    CHECK_EQ(in(0x40), 150);
    CHECK_EQ(in(0x40), 150);            /* no flip-flop */
    out(0x43, 0x24);                    /* MSB only */
    out(0x40, 0x02);                    /* count 0x200 */
    now += 0x100;
    CHECK_EQ(in(0x40), 0x01);
    out(0x43, 0x35);                    /* LSB/MSB, mode 2, BCD */
    out(0x40, 0x00);
    out(0x40, 0x10);                    /* 1000 in BCD */
    now += 1;
    CHECK_EQ(read16(0), 0x0999);
    CHECK_EQ(i8254_next_rising_edge(&pit, 0, now), now - 1 + 1000);
}

TEST(mode2_new_count_waits_for_period_end)
{
    reset();
    program(0, 0x34, 1000);
    uint64_t t0 = now;
    now = t0 + 400;
    out(0x40, 500 & 0xFF);
    out(0x40, 500 >> 8);
    CHECK_EQ(read16(0), 600);           /* the old period continues */
    CHECK_EQ(i8254_next_rising_edge(&pit, 0, now), t0 + 1000);
    CHECK_EQ(i8254_next_rising_edge(&pit, 0, t0 + 1000), t0 + 1500);
    now = t0 + 1100;
    CHECK_EQ(read16(0), 400);
}

TEST(port61_refresh_toggles)
{
    reset();
    out(0x61, 0xFF);
    CHECK_EQ(in(0x61) & 0x0F, 0x0F);    /* only bits 3:0 are writable */
    uint8_t a = in(0x61) & 0x10;
    now += 18;
    uint8_t b = in(0x61) & 0x10;
    CHECK(a != b);
}

TEST(garbage_never_crashes)
{
    static const uint16_t ports[] = { 0x40, 0x41, 0x42, 0x43, 0x61 };
    uint32_t x = 777;
    reset();
    for (int i = 0; i < 300000; i++) {
        x = x * 1103515245u + 12345u;
        unsigned r = x >> 16;
        if (r & 1)
            out(ports[r % 5], (uint8_t)(x >> 8));
        else
            (void)in(ports[r % 5]);
        now += (x >> 24) & 0x3F;
        if ((r & 0x3FF) == 7)           /* the clock jumps backwards or far forwards */
            now = (r & 0x400) ? now / 2 : now + ((uint64_t)x << 31);
        for (unsigned ch = 0; ch < 3; ch++) {
            uint64_t e = i8254_next_rising_edge(&pit, ch, now);
            CHECK(e > now);
        }
    }
}

/* Issue 18: the pure queries take 'now' from the caller; one from before the count was loaded
 * (a clock that went back) must give a sane answer in every mode, not a division by zero. */
TEST(queries_before_the_load_are_sane_in_every_mode)
{
    for (unsigned mode = 0; mode <= 5; mode++) {
        reset();
        now = 5000;
        program(0, (uint8_t)(0x30 | mode << 1), 1000);
        if (mode == 1 || mode == 5) {   /* gate-triggered: channel 2 through port 0x61 */
            program(2, (uint8_t)(0xB0 | mode << 1), 1000);
            out(0x61, 0x01);
        }
        for (unsigned ch = 0; ch < 3; ch += 2) {
            uint16_t v = i8254_counter(&pit, ch, 176);
            CHECK(v <= 1000);
            (void)i8254_out(&pit, ch, 176);
            uint64_t e = i8254_next_rising_edge(&pit, ch, 176);
            CHECK(e > 176);
        }
    }
}

/* The sequence through the ports: a mode 2 or 3 count runs, then the clock the model
 * is given jumps back before the load, then forward by 2^63, then back to 0, repeatedly. The
 * model holds still while the clock is behind, and counts on from there. */
TEST(clock_jumps_back_and_forward)
{
    static const uint8_t modes[] = { 0x30, 0x32, 0x34, 0x36, 0x38, 0x3A };
    for (unsigned m = 0; m < ARRAY_SIZE(modes); m++) {
        reset();
        now = 100000;
        program(0, modes[m], 1193);
        now += 300;
        out(0x43, 0x00);                /* latch, as Linux's mode 3 reads do */
        uint16_t before = read16(0);
        now = 176;                      /* the clock went backwards */
        out(0x43, 0x00);
        uint16_t held = read16(0);
        CHECK_EQ(held, before);         /* the clock held still */
        CHECK_EQ(read16(0), before);    /* and without a latch */
        CHECK(i8254_next_rising_edge(&pit, 0, pit.clock.last) > pit.clock.last);
        for (int rep = 0; rep < 4; rep++) {
            now = (uint64_t)1 << 63;    /* forward by 2^63 */
            uint16_t v = read16(0);
            CHECK(v <= 1193 || modes[m] == 0x30 || modes[m] == 0x38);   /* 0/4 wrap through 0xFFFF */
            out(0x43, 0xC2);            /* read-back count and status of channel 0 */
            (void)in(0x40); (void)in(0x40); (void)in(0x40);
            uint64_t e = i8254_next_rising_edge(&pit, 0, pit.clock.last);
            CHECK(e > pit.clock.last);
            now = 0;                    /* and back to 0 */
            (void)read16(0);
            (void)in(0x61);
            CHECK_EQ(pit.clock.last, (uint64_t)1 << 63);
        }
        /* Reprogrammed after the jumps, the channel counts normally from the clock it holds. */
        now = ((uint64_t)1 << 63) + 10;
        program(0, 0x34, 100);
        now += 30;
        CHECK_EQ(read16(0), 70);
    }
}
