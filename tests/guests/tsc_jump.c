/* tsc_jump: a guest that moves its own TSC (WRMSR IA32_TSC, 0x10) backwards and far forwards
 * while the PIT, RTC and PM timer run, as issue 18 describes. The device clocks of a PC do not
 * follow the TSC: after every jump each device must still count at its own rate, measured
 * against the ACPI PM timer (which the TSC does not drive either). Under a VMM that derived
 * device time from the guest TSC this divided by zero (PIT read with the TSC behind the load)
 * or stopped the timers.
 *
 * Natively under QEMU TCG the WRMSR is ignored (the TSC does not move); the device checks
 * still run there and show what the hardware does. */
#include "guest.h"
#include "pic.h"
#include "pmtimer.h"
#include "isa.h"

u16 pm_tmr_port;

const char guest_name[] = "tsc_jump";

#define MSR_TSC         0x10
#define TSC_SMALL       176u
#define TSC_FAR         (1ull << 63)
#define PIT_READBACK_CH0 0xc2   /* read-back: count and status of channel 0 */
#define PIT_CH0_MODE(m) (0x30 | (m) << 1)       /* channel 0, LSB then MSB, binary */
#define PIT_CH2_MODE(m) (0xb0 | (m) << 1)
#define PORT61          0x61
#define PORT61_GATE2    0x01
#define IRQ_PIT         0
#define IRQ_RTC         8
#define JUMPS           4

static volatile u32 pit_ticks, rtc_irqs;

static bool pit_handler(struct exc_frame *f __attribute__((unused)))
{
	pit_ticks++;
	pic_eoi(IRQ_PIT);
	return true;
}

static bool rtc_handler(struct exc_frame *f __attribute__((unused)))
{
	outb(RTC_INDEX, RTC_NMI_OFF | RTC_REG_C);
	if (inb(RTC_DATA) & REGC_PF)
		rtc_irqs++;
	pic_eoi(IRQ_RTC);
	return true;
}

static bool tsc_moves;          /* WRMSR IA32_TSC takes effect here (not under TCG) */

static void set_tsc(u64 v) { wrmsr(MSR_TSC, v); }

/* The jump the issue names: back to a small value, then forward by 2^63, then back to 0. */
static void jump(unsigned i)
{
	set_tsc(i % 3 == 0 ? TSC_SMALL : i % 3 == 1 ? TSC_FAR : 0);
}

static bool within(u32 got, u32 want, u32 pct)
{
	u32 slack = want * pct / 100 + 2;
	return got + slack >= want && got <= want + slack;
}

static void program(u8 ctrl, u16 port, u32 count)
{
	outb(PIT_CMD, ctrl);
	outb(port, count & 0xff);
	outb(port, (count >> 8) & 0xff);
}

static void t_tsc_write(void)
{
	set_tsc(TSC_SMALL);
	u64 t = rdtsc();
	tsc_moves = t >= TSC_SMALL && t < TSC_SMALL + 100000000u;
	if (!tsc_moves) {
		if (qemu_tcg()) {
			test_skip("QEMU TCG ignores writes to IA32_TIME_STAMP_COUNTER");
			return;
		}
		test_fail("TSC reads %#llx after writing %u", (unsigned long long)t, TSC_SMALL);
		return;
	}
	set_tsc(TSC_FAR);
	t = rdtsc();
	CHECK(t >= TSC_FAR && t < TSC_FAR + 100000000u, "TSC reads %#llx after writing 2^63", (unsigned long long)t);
	set_tsc(0);
	CHECK(rdtsc() < 100000000u, "TSC not back near 0");
	test_pass();
}

/* Issue 18's sequence in each mode: a count runs a little, the TSC goes back behind the time
 * it was loaded, the counter is read (latched in mode 3, as Linux does). Then the count must
 * still run down at the PIT's rate: 5 ms of PM-timer time is ~5966 PIT clocks. */
static void t_pit_read_after_tsc_back(void)
{
	static const u32 count = 60000;         /* ~50 ms: no wrap in the window */
	static const u8 modes[] = { 2, 3, 0, 1, 4, 5 };    /* the modes first */
	for (u32 m = 0; m < sizeof(modes); m++) {
		u32 mode = modes[m];
		bool gated = mode == 1 || mode == 5;    /* gate-triggered: channel 2 via port 0x61 */
		u16 port = gated ? PIT_CH2 : PIT_CH0;
		outb(PORT61, 0);
		program(gated ? PIT_CH2_MODE(mode) : PIT_CH0_MODE(mode), port, count);
		if (gated)
			outb(PORT61, PORT61_GATE2);
		pm_wait(PM_TMR_PER_MS / 2);
		u8 latch = gated ? 0x80 : PIT_LATCH_CH0;
		u32 c1, c2, pm;
		/* A window the vCPU spent mostly waiting for the CPU may span a reload (modes 2
		 * and 3 reload at 0): measure again then; the count is unambiguous only within one
		 * period. */
		for (u32 tries = 0;; tries++) {
			set_tsc(TSC_SMALL);
			outb(PIT_CMD, latch);
			u32 lo = inb(port);
			c1 = lo | (u32)inb(port) << 8;
			u32 p0 = pm_read();
			pm_wait(5 * PM_TMR_PER_MS);
			set_tsc(TSC_FAR);
			outb(PIT_CMD, latch);
			lo = inb(port);
			c2 = lo | (u32)inb(port) << 8;
			pm = pm_since(p0);
			bool periodic = mode == 2 || mode == 3;
			if ((pm < 20 * PM_TMR_PER_MS && (!periodic || c2 < c1)) || tries == 50)
				break;
		}
		u32 want = pm / 3 * (mode == 3 ? 2 : 1);   /* mode 3 counts down by two */
		u32 got = (c1 - c2) & 0xffff;
		CHECK(c1 <= count && c2 <= count, "mode %u: counter out of range (%u, %u)", mode, c1, c2);
		CHECK(within(got, want, 10), "mode %u: the count ran %u in %u PM ticks, expected ~%u",
		      mode, got, pm, want);
		outb(PIT_CMD, PIT_READBACK_CH0);
		(void)inb(PIT_CH0);
		(void)inb(PIT_CH0);
		(void)inb(PIT_CH0);
		set_tsc(0);
	}
	outb(PORT61, 0);
	test_pass();
}

/* Interrupts on for ms of PM-timer time, spinning or halting, the TSC jumping every 10 ms.
 * Returns the number of jumps. */
static unsigned run_jumping(u32 ms, bool halt)
{
	u32 p0 = pm_read(), next = 0;
	unsigned i = 0;
	sti();
	while (pm_since(p0) < ms * PM_TMR_PER_MS) {
		if (pm_since(p0) >= next) {
			jump(i++);
			next += 10 * PM_TMR_PER_MS;
		}
		if (halt)
			hlt();
	}
	cli();
	return i;
}

/* IRQ0 at 1000 Hz through the 8259 keeps its rate over 200 ms of PM-timer time while the TSC
 * jumps every 10 ms, both spinning and halted between ticks. A spinning vCPU that shares the
 * CPU with another loses the edges that pass while it waits (the PIC latches one request), so
 * spinning needs only 40%: a timer that stopped or ran off to the TSC's 2^63 gives ~0. */
static void pit_irq_rate(bool halt)
{
	pit_ticks = 0;
	program(PIT_CH0_MODE(2), PIT_CH0, PIT_TICK_COUNT);
	outb(PIC1_DATA, 0xfe);
	unsigned i = run_jumping(200, halt);
	outb(PIC1_DATA, 0xff);
	u32 n = pit_ticks;
	printf("TSC_JUMP pit %s: %u ticks in 200 ms, %u jumps\n", halt ? "halted" : "spinning", n, i);
	CHECK(n <= 212 && n >= (halt ? 190 : 80), "%u PIT ticks in 200 ms of PM time, expected ~200", n);
	test_pass();
}
static void t_pit_irq_spinning(void) { pit_irq_rate(false); }
static void t_pit_irq_halted(void) { pit_irq_rate(true); }

static u8 rtc_read(u8 reg)
{
	outb(RTC_INDEX, RTC_NMI_OFF | reg);
	return inb(RTC_DATA);
}

static void rtc_write(u8 reg, u8 v)
{
	outb(RTC_INDEX, RTC_NMI_OFF | reg);
	outb(RTC_DATA, v);
}

/* The RTC periodic interrupt at 1024 Hz over 250 ms of PM-timer time, TSC jumping. */
static void t_rtc_periodic(void)
{
	rtc_irqs = 0;
	rtc_write(RTC_REG_A, REGA_DV_32K | REGA_RS_1024HZ);
	rtc_write(RTC_REG_B, REGB_24H | REGB_PIE);
	(void)rtc_read(RTC_REG_C);
	outb(PIC1_DATA, 0xfb);                  /* the cascade */
	outb(PIC2_DATA, 0xfe);                  /* IRQ8 */
	run_jumping(250, true);
	outb(PIC2_DATA, 0xff);
	outb(PIC1_DATA, 0xff);
	rtc_write(RTC_REG_B, REGB_24H);
	u32 n = rtc_irqs;
	printf("TSC_JUMP rtc: %u periodic interrupts in 250 ms\n", n);
	CHECK(within(n, 256, 5), "%u RTC interrupts in 250 ms of PM time, expected ~256", n);
	test_pass();
}

/* The update cycle (MC146818A datasheet, "Update Cycle"): UIP rises 244 us before the time
 * registers step, once a second, and falls when they have. A guest sharing the CPU can be off
 * it for the whole window (the canary beside it takes 5 ms slices, and the phase repeats every
 * second), so an update is found by the seconds register stepping. UIP must have been seen
 * before a step unless the guest was off the CPU across it (polls on either side more than 1 ms
 * apart). Polled densely they are ~0.3 ms apart, the update's own exit included, so a VMM that
 * never raised UIP fails. The TSC is moved back before every poll. */
#define OFF_CPU_PM      PM_TMR_PER_MS

struct update { u32 at; u32 span; u8 sec; bool uip; };

static bool wait_update(struct update *u)
{
	u32 p0 = pm_read(), before = p0;
	u8 s0 = rtc_read(0);
	u->uip = false;
	for (unsigned i = 0;; i++) {
		set_tsc(i & 1 ? 0 : TSC_SMALL);
		if (rtc_read(RTC_REG_A) & REGA_UIP) {
			u->uip = true;
			before = pm_read();
			continue;
		}
		u8 s = rtc_read(0);
		u32 after = pm_read();
		if (s != s0) {
			u->at = after;
			u->span = (after - before) & PM_TMR_MASK;
			u->sec = s;
			return true;
		}
		if (pm_since(p0) > 1200 * PM_TMR_PER_MS)
			return false;
		before = after;
	}
}

static void t_rtc_update_cycle(void)
{
	struct update a, b;
	CHECK(wait_update(&a), "the seconds register did not step in 1.2 s");
	CHECK(wait_update(&b), "the seconds register did not step again in 1.2 s");
	u32 gap = (b.at - a.at) & PM_TMR_MASK;
	printf("TSC_JUMP rtc update: seconds %02x -> %02x, %u PM ticks apart, UIP seen %u/2, "
	       "polls %u and %u PM ticks apart at the steps\n", a.sec, b.sec, gap, a.uip + b.uip,
	       a.span, b.span);
	CHECK(within(gap, PM_TMR_HZ, 2), "updates %u PM ticks apart, expected ~%u", gap, PM_TMR_HZ);
	CHECK(b.sec != a.sec, "the seconds register did not step");
	/* One of the two is enough: QEMU's RTC (7.2, natively) once let a step through without
	 * UIP to polls 177 PM ticks apart. */
	bool dense_a = a.span <= OFF_CPU_PM, dense_b = b.span <= OFF_CPU_PM;
	CHECK(!(dense_a || dense_b) || (dense_a && a.uip) || (dense_b && b.uip),
	      "no UIP before either step, polled %u and %u PM ticks apart", a.span, b.span);
	test_pass();
}

/* The PM timer never runs backwards, whatever the TSC does. */
static void t_pmtimer_monotonic(void)
{
	u32 prev = pm_read(), worst = 0;
	for (unsigned i = 0; i < 3000; i++) {
		jump(i);
		u32 now = pm_read(), d = (now - prev) & PM_TMR_MASK;
		CHECK(d < PM_TMR_MASK / 2, "PM timer went back from %#x to %#x", prev, now);
		if (d > worst)
			worst = d;
		prev = now;
	}
	printf("TSC_JUMP pmtimer: largest step %u ticks\n", worst);
	test_pass();
}

void guest_main(void)
{
	pm_init();
	printf("PM timer at 0x%x\n", pm_tmr_port);
	pic_init();
	set_exc_hook(IRQ_VECTOR_BASE + IRQ_PIT, pit_handler);
	set_exc_hook(IRQ_VECTOR_BASE + IRQ_RTC, rtc_handler);
	run_test("tsc_write", t_tsc_write);
	run_test("tsc_pit_read_after_tsc_back", t_pit_read_after_tsc_back);
	run_test("tsc_pit_irq_spinning", t_pit_irq_spinning);
	run_test("tsc_pit_irq_halted", t_pit_irq_halted);
	run_test("tsc_rtc_periodic", t_rtc_periodic);
	run_test("tsc_rtc_update_cycle", t_rtc_update_cycle);
	run_test("tsc_pmtimer_monotonic", t_pmtimer_monotonic);
	set_tsc(0);
}
