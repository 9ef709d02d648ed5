/* cpu_share: a CPU-bound guest that counts how much work it gets done in two seconds of its
 * own time (200 ticks of a 100 Hz PIT, interrupt driven, no HLT). Run alone and then as two
 * VMs at once, the counts show the scheduler's share: about half each, and equal.
 * Prints "CPU_SHARE work=N ticks=T". */
#include "guest.h"
#include "pic.h"
#include "isa.h"

const char guest_name[] = "cpu_share";

#define HZ              100
#define RUN_TICKS       200
#define TIMER_IRQ       0

static volatile u32 ticks;

static bool tick(struct exc_frame *f __attribute__((unused)))
{
	ticks++;
	pic_eoi(TIMER_IRQ);
	return true;
}

static void t_share(void)
{
	pic_init();
	outb(PIC1_DATA, 0xfe);          /* only the timer */
	u32 count = PIT_HZ / HZ;
	outb(PIT_CMD, PIT_CH0_MODE2);
	outb(PIT_CH0, count & 0xff);
	outb(PIT_CH0, count >> 8);
	u32 work = 0, x = 1;
	sti();
	while (ticks < RUN_TICKS) {
		for (int i = 0; i < 1000; i++)  /* no exits in here */
			x = x * 1103515245u + 12345u;
		work++;
	}
	cli();
	outb(PIC1_DATA, 0xff);
	printf("CPU_SHARE work=%u ticks=%u (x=%u)\n", work, ticks, x);
	CHECK(work > 0, "no work done");
	test_pass();
}

void guest_main(void)
{
	set_exc_hook(IRQ_VECTOR_BASE, tick);
	run_test("cpu_share", t_share);
}
