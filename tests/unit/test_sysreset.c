/* System control ports: port 0x92 fast reset edge and A20, the 0xCF9 reset control register
 * as Linux's reboot code drives it, and the POST code latch. */
#include "test.h"
#include "dev/sysreset.h"

static struct sysreset sr;
static int resets, a20_calls;
static const char *last_why;
static bool a20;

static void fake_reset(void *ctx, const char *why) { resets++; last_why = why; }
static void fake_a20(void *ctx, bool on) { a20 = on; a20_calls++; }
static void setup(void)
{
    resets = a20_calls = 0;
    last_why = "";
    a20 = true;
    sysreset_init(&sr, fake_reset, fake_a20, NULL);
}

TEST(port92_fast_reset_edge)
{
    setup();
    CHECK_EQ(sysreset_read(&sr, PORT_SYSCTL_A), SYSCTL_A_A20);
    sysreset_write(&sr, PORT_SYSCTL_A, 0x03);
    CHECK_EQ(resets, 1);
    CHECK_STR(last_why, "port 0x92 fast reset");
    CHECK_EQ(sysreset_read(&sr, PORT_SYSCTL_A), 0x02);     /* bit 0 reads 0 after the pulse */
    sysreset_write(&sr, PORT_SYSCTL_A, 0x03);               /* already 1: no edge */
    CHECK_EQ(resets, 1);
    sysreset_write(&sr, PORT_SYSCTL_A, 0x02);
    CHECK_EQ(resets, 1);
    sysreset_write(&sr, PORT_SYSCTL_A, 0x03);
    CHECK_EQ(resets, 2);
    CHECK_EQ(a20_calls, 0);                                 /* A20 never changed */
}

TEST(port92_a20)
{
    setup();
    sysreset_write(&sr, PORT_SYSCTL_A, 0x00);
    CHECK_EQ(a20_calls, 1);
    CHECK(!a20);
    CHECK_EQ(sysreset_read(&sr, PORT_SYSCTL_A), 0x00);
    sysreset_write(&sr, PORT_SYSCTL_A, 0xF0);               /* unmodelled bits: no change */
    CHECK_EQ(a20_calls, 1);
    CHECK_EQ(sysreset_read(&sr, PORT_SYSCTL_A), 0x00);
    sysreset_write(&sr, PORT_SYSCTL_A, 0x02);
    CHECK_EQ(a20_calls, 2);
    CHECK(a20);
    CHECK_EQ(resets, 0);
}

TEST(cf9_reset_control)
{
    setup();
    sysreset_write(&sr, PORT_RESET_CTL, 0x02);              /* Linux: select hard reset... */
    CHECK_EQ(resets, 0);
    CHECK_EQ(sysreset_read(&sr, PORT_RESET_CTL), 0x02);
    sysreset_write(&sr, PORT_RESET_CTL, 0x06);              /* ...then start it */
    CHECK_EQ(resets, 1);
    CHECK_STR(last_why, "0xCF9 hard reset");
    CHECK_EQ(sysreset_read(&sr, PORT_RESET_CTL), 0x02);     /* SYS_RST sticks, RST_CPU not */
    sysreset_write(&sr, PORT_RESET_CTL, 0x04);
    CHECK_EQ(resets, 2);
    CHECK_STR(last_why, "0xCF9 soft reset");
    CHECK_EQ(sysreset_read(&sr, PORT_RESET_CTL), 0x00);
    sysreset_write(&sr, PORT_RESET_CTL, 0x0C);              /* FULL_RST alone is hard too */
    CHECK_EQ(resets, 3);
    CHECK_STR(last_why, "0xCF9 hard reset");
    CHECK_EQ(sysreset_read(&sr, PORT_RESET_CTL), 0x08);
    sysreset_write(&sr, PORT_RESET_CTL, 0xFA);
    CHECK_EQ(resets, 3);
    CHECK_EQ(sysreset_read(&sr, PORT_RESET_CTL), 0x0A);
}

TEST(post_code_latch)
{
    setup();
    CHECK_EQ(sysreset_read(&sr, PORT_POST), 0);
    sysreset_write(&sr, PORT_POST, 0x12);
    sysreset_write(&sr, PORT_POST, 0xA5);
    CHECK_EQ(sysreset_read(&sr, PORT_POST), 0xA5);
    CHECK_EQ(sr.post_writes, 2);
}

TEST(null_callbacks)
{
    sysreset_init(&sr, NULL, NULL, NULL);
    sysreset_write(&sr, PORT_SYSCTL_A, 0x01);
    sysreset_write(&sr, PORT_RESET_CTL, 0x06);
    CHECK_EQ(sysreset_read(&sr, PORT_SYSCTL_A), 0x00);
}

TEST(through_ioport_table)
{
    setup();
    static struct ioport_table io;
    ioport_init(&io);
    CHECK(sysreset_attach(&io, &sr));
    CHECK(!sysreset_attach(&io, &sr));
    CHECK_STR(ioport_owner_name(&io, 0xCF8), "none");       /* left to the PCI host bridge */
    CHECK_STR(ioport_owner_name(&io, 0xCF9), "reset-cf9");
    CHECK_STR(ioport_owner_name(&io, 0xCFA), "none");
    ioport_out(&io, 0xCF8, 4, 0x80000606u);                 /* a PCI config address: not ours */
    CHECK_EQ(resets, 0);
    ioport_out(&io, 0xCF9, 1, 0x06);
    CHECK_EQ(resets, 1);
    ioport_out(&io, PORT_POST, 1, 0x42);
    CHECK_EQ(ioport_in(&io, PORT_POST, 1), 0x42);
    CHECK_EQ(ioport_in(&io, PORT_POST, 2), 0xFF42);         /* 0x81 is open bus */
    ioport_out(&io, PORT_SYSCTL_A, 1, 0x00);
    CHECK(!a20);
    CHECK_EQ(ioport_in(&io, PORT_SYSCTL_A, 1), 0x00);
    CHECK_EQ(io.unowned_writes, 1);
}
