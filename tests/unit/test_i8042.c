/* 8042 keyboard controller: the controller commands, the sequences Linux's i8042 and atkbd
 * drivers run at boot, IRQ1/IRQ12 levels, translation, the aux loopback, and a fuzz run. */
#include "test.h"
#include "dev/i8042.h"

#define OBF     I8042_STR_OBF
#define AUXDATA I8042_STR_AUXDATA

static struct i8042 kb;
static int resets, a20_calls, irq_edges[16], irq_bad;
static bool irq_level[16], a20;

static void fake_reset(void *ctx) { resets++; }
static void fake_a20(void *ctx, bool on) { a20 = on; a20_calls++; }
static void fake_irq(void *ctx, unsigned irq, bool level)
{
    if ((irq != 1 && irq != 12) || irq_level[irq] == level)
        irq_bad++;                      /* wrong line, or a call that changes nothing */
    irq_level[irq & 15] = level;
    if (level)
        irq_edges[irq & 15]++;
}

static void setup(void)
{
    resets = a20_calls = irq_bad = 0;
    for (int i = 0; i < 16; i++) {
        irq_edges[i] = 0;
        irq_level[i] = false;
    }
    a20 = true;
    i8042_init(&kb, fake_reset, fake_irq, NULL);
    kb.set_a20 = fake_a20;
}

static uint8_t status(void) { return i8042_read(&kb, I8042_CMD_PORT); }
static uint8_t data(void) { return i8042_read(&kb, I8042_DATA_PORT); }
static void cmd(uint8_t c) { i8042_write(&kb, I8042_CMD_PORT, c); }
static void wdata(uint8_t v) { i8042_write(&kb, I8042_DATA_PORT, v); }
/* As a driver polls: -1 if OBF is clear, else the byte. */
static int reply(void) { return (status() & OBF) ? data() : -1; }
static int flush(void)
{
    int n = 0;
    while ((status() & OBF) && n < 64) {
        data();
        n++;
    }
    return n;
}
static void write_ctr(uint8_t v) { cmd(0x60); wdata(v); }
static int read_ctr(void) { cmd(0x20); return reply(); }

TEST(self_test)
{
    setup();
    CHECK_EQ(status() & OBF, 0);
    cmd(0xAA);
    uint8_t s = status();
    CHECK(s & OBF);
    CHECK(s & I8042_STR_SYS);
    CHECK(s & I8042_STR_CMD);
    CHECK(s & I8042_STR_KEYLOCK);
    CHECK_EQ(s & (I8042_STR_IBF | AUXDATA), 0);
    CHECK_EQ(data(), 0x55);
    CHECK_EQ(status() & OBF, 0);
    CHECK_EQ(data(), 0x55);             /* empty: the last byte again */
    CHECK_EQ(irq_bad, 0);
}

TEST(command_byte_round_trip)
{
    setup();
    CHECK_EQ(read_ctr(), I8042_CTR_DEFAULT);
    CHECK_EQ(I8042_CTR_DEFAULT, 0x45);
    cmd(0x60);
    CHECK(status() & I8042_STR_CMD);
    wdata(0x47);
    CHECK_EQ(status() & I8042_STR_CMD, 0);
    CHECK_EQ(read_ctr(), 0x47);
    write_ctr(0x41);                    /* system flag clear: status bit 2 follows */
    CHECK_EQ(status() & I8042_STR_SYS, 0);
    cmd(0x65);                          /* other RAM bytes round-trip too */
    wdata(0x5A);
    cmd(0x25);
    CHECK_EQ(reply(), 0x5A);
    cmd(0xAD);
    CHECK_EQ(read_ctr(), 0x41 | I8042_CTR_KBDDIS);
    cmd(0xAE);
    cmd(0xA7);
    CHECK_EQ(read_ctr(), 0x41 | I8042_CTR_AUXDIS);
    cmd(0xA8);
    CHECK_EQ(read_ctr(), 0x41);
}

TEST(linux_i8042_probe_and_atkbd)
{
    setup();
    CHECK(i8042_key(&kb, 0x1C));        /* a stale key the flush must eat */
    CHECK_EQ(flush(), 1);
    int ctr = read_ctr();
    CHECK_EQ(ctr, 0x45);
    ctr = (ctr | I8042_CTR_KBDDIS) & ~I8042_CTR_KBDINT;
    write_ctr((uint8_t)ctr);
    CHECK_EQ(read_ctr(), ctr);
    cmd(0xAA);
    CHECK_EQ(reply(), 0x55);
    cmd(0xAB);
    CHECK_EQ(reply(), 0x00);
    cmd(0xD3);                          /* aux loopback: must come back as aux data */
    wdata(0x5A);
    CHECK_EQ(status() & (OBF | AUXDATA), OBF | AUXDATA);
    CHECK_EQ(data(), 0x5A);
    cmd(0xA9);
    CHECK_EQ(reply(), 0x00);
    write_ctr((uint8_t)((ctr & ~I8042_CTR_KBDDIS) | I8042_CTR_KBDINT));
    CHECK_EQ(flush(), 0);
    /* atkbd_probe: reset, then get ID (translated: AB 41). */
    int edges = irq_edges[1];
    wdata(0xFF);
    CHECK_EQ(reply(), 0xFA);
    CHECK_EQ(reply(), 0xAA);
    CHECK_EQ(reply(), -1);
    CHECK_EQ(irq_edges[1] - edges, 2);  /* one edge per byte */
    CHECK(!irq_level[1]);
    wdata(0xF2);
    CHECK_EQ(reply(), 0xFA);
    CHECK_EQ(reply(), 0xAB);
    CHECK_EQ(reply(), 0x41);
    wdata(0xF0);                        /* select set 2, then query it */
    wdata(0x02);
    CHECK_EQ(reply(), 0xFA);
    CHECK_EQ(reply(), 0xFA);
    wdata(0xF0);
    wdata(0x00);
    CHECK_EQ(reply(), 0xFA);
    CHECK_EQ(reply(), 0xFA);
    CHECK_EQ(reply(), 0x41);            /* set 2 as translated */
    wdata(0xED);                        /* atkbd_activate: LEDs, typematic, enable */
    wdata(0x07);
    wdata(0xF3);
    wdata(0x00);
    wdata(0xF4);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(reply(), 0xFA);
    CHECK_EQ(kb.kbd_leds, 7);
    wdata(0xEE);
    CHECK_EQ(reply(), 0xEE);
    write_ctr(0x05);                    /* untranslated, the ID arrives as the keyboard sends it */
    wdata(0xF2);
    CHECK_EQ(reply(), 0xFA);
    CHECK_EQ(reply(), 0xAB);
    CHECK_EQ(reply(), 0x83);
    CHECK_EQ(irq_bad, 0);
    CHECK_EQ(resets, 0);
}

TEST(pulse_reset_command)
{
    setup();
    cmd(0xFF);                          /* no line pulsed */
    CHECK_EQ(resets, 0);
    cmd(0xFE);
    CHECK_EQ(resets, 1);
    CHECK_EQ(kb.resets, 1);
    cmd(0xFD);                          /* bit 0 set: reset not pulsed */
    CHECK_EQ(resets, 1);
}

TEST(output_port_reset_and_a20)
{
    setup();
    cmd(0xD0);
    CHECK_EQ(reply(), 0xCF);
    cmd(0xD1);
    wdata(0xDD);                        /* A20 off */
    CHECK_EQ(resets, 0);
    CHECK_EQ(a20_calls, 1);
    CHECK(!a20);
    cmd(0xD0);
    CHECK_EQ(reply() & I8042_OUT_A20, 0);
    cmd(0xD1);
    wdata(0xDD);                        /* unchanged: no call */
    CHECK_EQ(a20_calls, 1);
    cmd(0xD1);
    wdata(0xDF);
    CHECK(a20);
    CHECK_EQ(a20_calls, 2);
    cmd(0xDD);                          /* the short A20 commands */
    CHECK(!a20);
    cmd(0xDF);
    CHECK(a20);
    CHECK_EQ(resets, 0);
    cmd(0xD1);
    wdata(0xDE);                        /* bit 0 = 0: reset */
    CHECK_EQ(resets, 1);
    cmd(0xD0);
    CHECK_EQ(reply() & I8042_OUT_RESET, I8042_OUT_RESET);   /* a pulse, not held */
    CHECK(i8042_key(&kb, 0x1C));
    cmd(0xD0);                          /* bit 4: keyboard data is waiting behind the reply */
    CHECK_EQ(reply() & (I8042_OUT_KBD_OBF | I8042_OUT_AUX_OBF), I8042_OUT_KBD_OBF);
}

TEST(irq1_follows_command_byte)
{
    setup();
    write_ctr(0x44);                    /* IRQ1 off */
    CHECK(i8042_key(&kb, 0x1C));
    CHECK(status() & OBF);
    CHECK_EQ(irq_edges[1], 0);
    write_ctr(0x45);                    /* enabling with data waiting raises it */
    CHECK(irq_level[1]);
    CHECK_EQ(data(), 0x1E);
    CHECK(!irq_level[1]);
    CHECK(i8042_key(&kb, 0x1C));
    CHECK(i8042_key(&kb, 0xF0));
    CHECK(i8042_key(&kb, 0x1C));
    CHECK_EQ(irq_edges[1], 2);
    CHECK_EQ(data(), 0x1E);
    CHECK(irq_level[1]);                /* the next byte, a fresh edge */
    CHECK_EQ(irq_edges[1], 3);
    CHECK_EQ(data(), 0x9E);
    CHECK(!irq_level[1]);
    CHECK(!irq_level[12]);
    CHECK_EQ(irq_bad, 0);
}

TEST(key_translation)
{
    setup();
    static const uint8_t in[] = { 0x1C, 0xF0, 0x1C, 0xE0, 0x75, 0xE0, 0xF0, 0x75, 0x76, 0x83, 0x5A };
    static const uint8_t set1[] = { 0x1E, 0x9E, 0xE0, 0x48, 0xE0, 0xC8, 0x01, 0x41, 0x1C };
    for (unsigned i = 0; i < ARRAY_SIZE(in); i++)
        CHECK(i8042_key(&kb, in[i]));
    for (unsigned i = 0; i < ARRAY_SIZE(set1); i++)
        CHECK_EQ(reply(), set1[i]);
    CHECK_EQ(reply(), -1);
    write_ctr(0x05);                    /* translation off: set 2 as is */
    for (unsigned i = 0; i < ARRAY_SIZE(in); i++)
        CHECK(i8042_key(&kb, in[i]));
    for (unsigned i = 0; i < ARRAY_SIZE(in); i++)
        CHECK_EQ(reply(), in[i]);
    cmd(0xAD);                          /* keyboard disabled: keys refused */
    CHECK(!i8042_key(&kb, 0x1C));
    cmd(0xAE);
    wdata(0xF5);                        /* scanning off */
    CHECK_EQ(reply(), 0xFA);
    CHECK(!i8042_key(&kb, 0x1C));
    wdata(0xF4);
    CHECK_EQ(reply(), 0xFA);
    int n = 0;
    while (i8042_key(&kb, 0x1C))
        n++;
    CHECK(n > 0 && n < I8042_QUEUE_SIZE);   /* room kept for replies */
    wdata(0xF2);
    CHECK_EQ(kb.dropped, 0);
}

TEST(controller_reply_overtakes_keys)
{
    setup();
    CHECK(i8042_key(&kb, 0x1C));
    cmd(0x20);
    CHECK_EQ(reply(), 0x45);
    CHECK_EQ(reply(), 0x1E);
}

TEST(unknown_keyboard_command_resend)
{
    setup();
    wdata(0xAB);
    CHECK_EQ(reply(), 0xFE);
    CHECK_EQ(reply(), -1);
    CHECK_EQ(kb.unknown, 1);
    wdata(0xF0);                        /* a scancode set that does not exist */
    wdata(0x07);
    CHECK_EQ(reply(), 0xFA);
    CHECK_EQ(reply(), 0xFE);
}

TEST(aux_get_id_and_reset)
{
    setup();
    write_ctr(0x47);                    /* IRQ1 and IRQ12 on */
    cmd(0xD4);
    wdata(0xF2);
    CHECK_EQ(status() & (OBF | AUXDATA), OBF | AUXDATA);
    CHECK(irq_level[12]);
    CHECK(!irq_level[1]);
    CHECK_EQ(data(), 0xFA);
    CHECK(irq_level[12]);
    CHECK_EQ(status() & AUXDATA, AUXDATA);
    CHECK_EQ(data(), 0x00);
    CHECK(!irq_level[12]);
    CHECK_EQ(status() & (OBF | AUXDATA), 0);
    CHECK_EQ(irq_edges[12], 2);
    CHECK_EQ(irq_edges[1], 0);
    cmd(0xD4);
    wdata(0xFF);
    CHECK_EQ(reply(), 0xFA);
    CHECK_EQ(reply(), 0xAA);
    CHECK_EQ(reply(), 0x00);
    cmd(0xD4);                          /* set sample rate takes a parameter */
    wdata(0xF3);
    cmd(0xD4);
    wdata(200);
    CHECK_EQ(reply(), 0xFA);
    CHECK_EQ(reply(), 0xFA);
    cmd(0xD4);
    wdata(0xE9);
    CHECK_EQ(reply(), 0xFA);
    CHECK_EQ(reply(), 0x00);
    CHECK_EQ(reply(), 0x02);
    CHECK_EQ(reply(), 200);
    write_ctr(0x45);                    /* IRQ12 off: aux data raises nothing */
    cmd(0xD4);
    wdata(0xF4);
    CHECK(status() & AUXDATA);
    CHECK(!irq_level[12]);
    CHECK(!irq_level[1]);
    CHECK_EQ(irq_bad, 0);
}

TEST(through_ioport_table)
{
    setup();
    static struct ioport_table io;
    ioport_init(&io);
    CHECK(i8042_attach(&io, &kb));
    CHECK(!i8042_attach(&io, &kb));
    CHECK_STR(ioport_owner_name(&io, 0x60), "i8042");
    CHECK_STR(ioport_owner_name(&io, 0x61), "none");
    ioport_out(&io, 0x64, 1, 0xAA);
    CHECK_EQ(ioport_in(&io, 0x64, 1) & OBF, OBF);
    CHECK_EQ(ioport_in(&io, 0x60, 1), 0x55);
}

static uint32_t rng = 12345;
static uint32_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

TEST(fuzz_random_accesses)
{
    setup();
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        uint32_t r = xorshift();
        uint16_t port = (r & 3) == 0 ? (uint16_t)(r >> 16) : (r & 1) ? I8042_DATA_PORT : I8042_CMD_PORT;
        uint8_t v = (uint8_t)(r >> 8);
        switch ((r >> 2) & 7) {
        case 0: case 1: case 2: i8042_read(&kb, port); break;
        case 3: i8042_key(&kb, v); break;
        default: i8042_write(&kb, port, v); break;
        }
        if (kb.reset != fake_reset)     /* a callback never reinitialises here */
            bad++;
        if (kb.q_count > I8042_QUEUE_SIZE || kb.q_head >= I8042_QUEUE_SIZE)
            bad++;
        bool has = kb.q_count != 0, aux = has && kb.q_src[kb.q_head] == I8042_SRC_AUX;
        if (irq_level[1] != (has && !aux && (kb.ram[0] & I8042_CTR_KBDINT)) ||
            irq_level[12] != (aux && (kb.ram[0] & I8042_CTR_AUXINT)))
            bad++;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(irq_bad, 0);
    CHECK(resets > 0);
}
