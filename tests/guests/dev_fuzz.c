/* dev_fuzz: random reads and writes of every size to the emulated devices' registers with
 * interrupts on and a handler on every IRQ vector that acknowledges it, as issue 17's hostile
 * tenant ran it (`ops=N`, default 100000). Data is kept off the reset bits (hostile.h); an
 * 8259 initialisation the fuzzer starts is finished with the usual vectors, so every
 * interrupt lands on a handler. Afterwards the guest puts the PIC and PIT back and checks
 * that its timer still interrupts at the right rate (100 ms of PM-timer time). */
#include "guest.h"
#include "pic.h"
#include "pmtimer.h"

u16 pm_tmr_port;
#include "hostile.h"
#include "isa.h"

const char guest_name[] = "dev_fuzz";

#define OPS_DEFAULT     100000
#define ICW1_BIT        0x10
#define IRQ_PIT         0

static volatile u32 irqs, pit_ticks;
static volatile bool counting_pit;

static bool any_irq(struct exc_frame *f)
{
	u32 irq = f->vector - IRQ_VECTOR_BASE;
	irqs++;
	if (irq == IRQ_PIT && counting_pit)
		pit_ticks++;
	outb(PIC2_CMD, OCW2_NONSPEC_EOI);
	outb(PIC1_CMD, OCW2_NONSPEC_EOI);
	return true;
}

static void fuzz_out(u16 port, u32 size, u32 v)
{
	v = hostile_safe_value(v);
	/* ICW1 starts an 8259 initialisation whose next bytes set the vectors: finish it with
	 * vectors that have handlers before an interrupt can come. */
	bool icw1 = (port == PIC1_CMD || port == PIC2_CMD) && (v & ICW1_BIT);
	if (icw1)
		cli();
	if (size == 1)
		outb(port, (u8)v);
	else if (size == 2)
		outw(port, (u16)v);
	else
		outl(port, v);
	if (icw1) {
		pic_init();
		outb(PIC1_DATA, 0);
		outb(PIC2_DATA, 0);
		sti();
	}
}

static u32 fuzz_in(u16 port, u32 size)
{
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void t_fuzz(void)
{
	u32 ops = cmdline_uint("ops", OPS_DEFAULT);
	u32 seed = cmdline_uint("seed", 0x9e3779b9);
	if (!seed)
		seed = 1;
	pic_init();
	outb(PIC1_DATA, 0);
	outb(PIC2_DATA, 0);
	sti();
	u32 reads = 0, writes = 0;
	for (u32 i = 0; !ops || i < ops; i++) {   /* ops=0: forever */
		u32 x = xorshift32(&seed);
		u16 port = (x & 0xf) == 0 ? hostile_random_port(&seed) : hostile_device_ports[(x >> 4) % HOSTILE_NPORTS];
		u32 size = 1u << ((x >> 12) % 3);
		if (port == 0x61 && size == 4)
			size = 2;               /* not on to 0x64: see port_storm */
		if (x & (1u << 16)) {
			fuzz_out(port, size, xorshift32(&seed));
			writes++;
		} else {
			(void)fuzz_in(port, size);
			reads++;
		}
		if (i % 20000 == 19999)
			printf("DEV_FUZZ %u operations, %u interrupts\n", i + 1, irqs);
	}
	cli();
	printf("DEV_FUZZ done: %u reads, %u writes, %u interrupts\n", reads, writes, irqs);
	/* Back to a known platform: PIC, RTC interrupts off, PIT at 1000 Hz. */
	pic_init();
	outb(RTC_INDEX, RTC_NMI_OFF | RTC_REG_B);
	outb(RTC_DATA, REGB_24H);
	outb(RTC_INDEX, RTC_NMI_OFF | RTC_REG_C);
	(void)inb(RTC_DATA);
	outb(PIT_CMD, PIT_CH0_MODE2);
	outb(PIT_CH0, PIT_TICK_COUNT & 0xff);
	outb(PIT_CH0, PIT_TICK_COUNT >> 8);
	pit_ticks = 0;
	counting_pit = true;
	outb(PIC1_DATA, 0xfe);
	pm_init();                      /* natively the fuzz may have moved the PM block */
	u32 p0 = pm_read();
	sti();
	while (pm_since(p0) < 100 * PM_TMR_PER_MS)
		hlt();
	cli();
	outb(PIC1_DATA, 0xff);
	printf("DEV_FUZZ timer after the fuzz: %u ticks in 100 ms\n", pit_ticks);
	CHECK(pit_ticks >= 90 && pit_ticks <= 110, "%u timer interrupts in 100 ms, expected ~100", pit_ticks);
	test_pass();
}

void guest_main(void)
{
	pm_init();
	printf("PM timer at 0x%x\n", pm_tmr_port);
	for (u32 v = IRQ_VECTOR_BASE; v < IRQ_VECTOR_BASE + 16; v++)
		set_exc_hook(v, any_irq);
	run_test("dev_fuzz", t_fuzz);
}
