/* cpu_share: a CPU-bound guest that counts how much work it gets done in two seconds of its
 * own time (200 ticks of a 100 Hz PIT, interrupt driven, no HLT). Run alone and then as two
 * VMs at once, the counts show the scheduler's share: about half each, and equal.
 * Prints "CPU_SHARE work=N ticks=T". */
#include "guest.h"

const char guest_name[] = "cpu_share";

#define PIC1_CMD        0x20
#define PIC1_DATA       0x21
#define PIC2_CMD        0xa0
#define PIC2_DATA       0xa1
#define ICW1_INIT_ICW4  0x11
#define ICW4_8086       0x01
#define OCW2_NONSPEC_EOI 0x20
#define PIT_CH0         0x40
#define PIT_CMD         0x43
#define PIT_CH0_MODE2   0x34
#define PIT_HZ          1193182u
#define HZ              100
#define RUN_TICKS       200

static volatile u32 ticks;

static bool tick(struct exc_frame *f __attribute__((unused)))
{
	ticks++;
	outb(PIC1_CMD, OCW2_NONSPEC_EOI);
	return true;
}

static void t_share(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, IRQ_VECTOR_BASE);
	outb(PIC1_DATA, 1u << 2);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC2_DATA, IRQ_VECTOR_BASE + 8);
	outb(PIC2_DATA, 2);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC2_DATA, 0xff);
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
