/* canary: the well-behaved VM that runs beside hostile ones. It does work with a known answer
 * (a sieve of Eratosthenes: 78498 primes below 10^6, again and again) on a 100 Hz PIT heartbeat
 * for `seconds=N` (default 10) of ACPI PM timer time, printing a beat each second. Its verdict
 * needs every sieve right, a timer interrupt in every beat, and the run to end: a VMM that a
 * neighbour broke, hung or starved fails it. Prints "CANARY done sieves=S ticks=T ...". */
#include "guest.h"
#include "pic.h"
#include "pmtimer.h"
#include "isa.h"

u16 pm_tmr_port;

const char guest_name[] = "canary";

#define HZ              100
#define IRQ_PIT         0
#define SIEVE_N         1000000u
#define SIEVE_PRIMES    78498u          /* pi(10^6) */

static u8 sieve_bits[SIEVE_N / 8 + 1];
static volatile u32 ticks, pm_last;
static volatile u64 pm_total;           /* PM timer ticks seen by the heartbeat */

static bool tick(struct exc_frame *f __attribute__((unused)))
{
	u32 now = pm_read();
	pm_total += (now - pm_last) & PM_TMR_MASK;
	pm_last = now;
	ticks++;
	pic_eoi(IRQ_PIT);
	return true;
}

static u32 sieve(void)
{
	memset(sieve_bits, 0, sizeof(sieve_bits));
	u32 n = 0;
	for (u32 i = 2; i < SIEVE_N; i++) {
		if (sieve_bits[i / 8] & (1u << (i % 8)))
			continue;
		n++;
		for (u32 j = i * 2; j < SIEVE_N; j += i)
			sieve_bits[j / 8] |= (u8)(1u << (j % 8));
	}
	return n;
}

static u64 pm_now_total(void)
{
	cli();
	u64 t = pm_total + ((pm_read() - pm_last) & PM_TMR_MASK);
	sti();
	return t;
}

static void t_canary(void)
{
	u32 seconds = cmdline_uint("seconds", 10);
	pic_init();
	outb(PIC1_DATA, 0xfe);
	u32 count = PIT_HZ / HZ;
	outb(PIT_CMD, PIT_CH0_MODE2);
	outb(PIT_CH0, count & 0xff);
	outb(PIT_CH0, count >> 8);
	pm_last = pm_read();
	sti();
	u32 sieves = 0, bad = 0, beat = 0, silent = 0, beat_ticks = 0;
	u64 end = (u64)seconds * PM_TMR_HZ, next_beat = PM_TMR_HZ;
	while (pm_now_total() < end) {
		u32 n = sieve();
		sieves++;
		if (n != SIEVE_PRIMES) {
			bad++;
			printf("CANARY sieve %u found %u primes, expected %u\n", sieves, n, SIEVE_PRIMES);
		}
		if (pm_now_total() >= next_beat) {
			while (pm_now_total() >= next_beat) {  /* a slow sieve may span seconds */
				next_beat += PM_TMR_HZ;
				beat++;
			}
			if (ticks == beat_ticks)
				silent++;
			beat_ticks = ticks;
			printf("CANARY beat %u sieves=%u ticks=%u\n", beat, sieves, ticks);
		}
	}
	cli();
	outb(PIC1_DATA, 0xff);
	printf("CANARY done sieves=%u ticks=%u expected_ticks=%u seconds=%u\n", sieves, ticks, seconds * HZ, seconds);
	CHECK(!bad, "%u of %u sieves were wrong", bad, sieves);
	CHECK(sieves > 0, "no work done");
	CHECK(!silent, "%u beats had no timer interrupt", silent);
	test_pass();
}

void guest_main(void)
{
	pm_init();
	printf("PM timer at 0x%x\n", pm_tmr_port);
	set_exc_hook(IRQ_VECTOR_BASE + IRQ_PIT, tick);
	run_test("canary", t_canary);
}
