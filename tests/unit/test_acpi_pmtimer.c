/* ACPI PM timer: rate, 24/32-bit wrap, and reads of each size through the port table. */
#include "test.h"
#include "dev/acpi_pmtimer.h"

static struct acpi_pmtimer pm;
static uint64_t ticks;
static uint64_t fake_clock(void *ctx) { return ticks; }
/* Guest time in nanoseconds, turned into timer ticks as a VMM would. */
static void set_ns(uint64_t ns) { ticks = ns / 1000 * PM_TIMER_HZ / 1000000; }

TEST(rate_one_second)
{
    ticks = 0;
    acpi_pmtimer_init(&pm, ACPI_PM_TMR_PORT_DEFAULT, false, fake_clock, NULL);
    set_ns(1000000);
    uint32_t a = acpi_pmtimer_read(&pm);
    set_ns(1000000 + 10000000ull);      /* 10 ms: what Linux's calibration loops wait */
    CHECK_EQ((acpi_pmtimer_read(&pm) - a) & 0xFFFFFF, 35795);
    set_ns(1000000 + 1000000000ull);
    uint32_t b = acpi_pmtimer_read(&pm);
    CHECK_EQ((b - a) & 0xFFFFFF, 3579545);
}

TEST(wrap_24bit)
{
    ticks = 0;
    acpi_pmtimer_init(&pm, ACPI_PM_TMR_PORT_DEFAULT, false, fake_clock, NULL);
    ticks = 0xFFFFFF;
    CHECK_EQ(acpi_pmtimer_read(&pm), 0xFFFFFF);
    ticks = 0x1000005;
    CHECK_EQ(acpi_pmtimer_read(&pm), 5);
}

TEST(wide_32bit)
{
    ticks = 0;
    acpi_pmtimer_init(&pm, ACPI_PM_TMR_PORT_DEFAULT, true, fake_clock, NULL);
    ticks = 0x1000005;
    CHECK_EQ(acpi_pmtimer_read(&pm), 0x1000005);
    ticks = 0x100000007ull;
    CHECK_EQ(acpi_pmtimer_read(&pm), 7);
}

TEST(no_clock_reads_zero)
{
    acpi_pmtimer_init(&pm, ACPI_PM_TMR_PORT_DEFAULT, false, NULL, NULL);
    CHECK_EQ(acpi_pmtimer_read(&pm), 0);
}

TEST(through_ioport_table)
{
    static struct ioport_table io;
    ioport_init(&io);
    ticks = 0;
    acpi_pmtimer_init(&pm, ACPI_PM_TMR_PORT_DEFAULT, false, fake_clock, NULL);
    CHECK(acpi_pmtimer_attach(&io, &pm));
    CHECK(!acpi_pmtimer_attach(&io, &pm));
    CHECK_STR(ioport_owner_name(&io, 0xB00B), "acpi-pmtimer");
    CHECK_STR(ioport_owner_name(&io, 0xB00C), "none");
    ticks = 0x5123456;
    CHECK_EQ(ioport_in(&io, 0xB008, 4), 0x123456);
    CHECK_EQ(ioport_in(&io, 0xB008, 2), 0x3456);
    CHECK_EQ(ioport_in(&io, 0xB008, 1), 0x56);
    CHECK_EQ(ioport_in(&io, 0xB009, 1), 0x34);     /* each port its own byte lane */
    CHECK_EQ(ioport_in(&io, 0xB00A, 1), 0x12);
    CHECK_EQ(ioport_in(&io, 0xB00B, 1), 0x00);
    ioport_out(&io, 0xB008, 4, 0);                  /* ignored, and not a stray write */
    CHECK_EQ(ioport_in(&io, 0xB008, 4), 0x123456);
    CHECK_EQ(io.unowned_writes, 0);
    acpi_pmtimer_init(&pm, 0xFFFE, false, fake_clock, NULL);
    CHECK(!acpi_pmtimer_attach(&io, &pm));          /* would run past port 0xFFFF */
}

/* Issue 18: a clock that jumps back holds the count still until it catches up, so successive
 * reads never run backwards (mod 2^24); a jump forward is time passing. */
TEST(clock_jumps_back_and_forward)
{
    ticks = 0;
    acpi_pmtimer_init(&pm, ACPI_PM_TMR_PORT_DEFAULT, true, fake_clock, NULL);
    ticks = 1000000;
    CHECK_EQ(acpi_pmtimer_read(&pm), 1000000);
    for (int rep = 0; rep < 4; rep++) {
        ticks = 176;
        CHECK_EQ(acpi_pmtimer_read(&pm), 1000000);
    }
    ticks = 1000010;
    CHECK_EQ(acpi_pmtimer_read(&pm), 1000010);
    ticks = (1ull << 63) + 3;
    CHECK_EQ(acpi_pmtimer_read(&pm), 3);
    ticks = 0;
    CHECK_EQ(acpi_pmtimer_read(&pm), 3);
    ticks = (1ull << 63) + 9;
    CHECK_EQ(acpi_pmtimer_read(&pm), 9);
}
