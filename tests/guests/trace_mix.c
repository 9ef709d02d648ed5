/* trace_mix: a known mix of exits for the trace facility's acceptance test (and the seed
 * paper's measurements): reads of an unused port (0x22e, as in the paper), Linux-style 8259
 * mask/ack/EOI sequences, and CPUID. The exact counts are printed so the test can compare them
 * with the in-VMM aggregates and the offline parser's tables. */
#include "guest.h"

const char guest_name[] = "trace_mix";

#define UNUSED_PORT     0x22e
#define PIC1_CMD        0x20
#define PIC1_IMR        0x21
#define PIC2_CMD        0xa0
#define PIC2_IMR        0xa1
#define OCW2_SPECIFIC_EOI 0x60
#define CASCADE_IRQ     2
#define UNUSED_READS    1000
#define PIC_ROUNDS      100
#define CPUID_COUNT     500

static u8 master_mask = 0xff, slave_mask = 0xff;

/* As Linux's mask_and_ack_8259A() then enable_8259A_irq() do for one interrupt. */
static void ack_master_irq(unsigned irq)
{
	outb(PIC1_IMR, master_mask |= (u8)(1u << irq));
	outb(PIC1_CMD, OCW2_SPECIFIC_EOI + irq);
	outb(PIC1_IMR, master_mask &= (u8)~(1u << irq));
}

static void ack_slave_irq(unsigned irq)
{
	outb(PIC2_IMR, slave_mask |= (u8)(1u << (irq & 7)));
	outb(PIC2_CMD, OCW2_SPECIFIC_EOI + (irq & 7));
	outb(PIC1_CMD, OCW2_SPECIFIC_EOI + CASCADE_IRQ);
	outb(PIC2_IMR, slave_mask &= (u8)~(1u << (irq & 7)));
}

static void t_mix(void)
{
	u32 ones = 0;
	for (int i = 0; i < UNUSED_READS; i++)
		ones += inb(UNUSED_PORT) == 0xff;
	for (int i = 0; i < PIC_ROUNDS; i++) {
		ack_master_irq(0);              /* the timer */
		ack_slave_irq(8);               /* the RTC */
	}
	u32 sum = 0;
	for (int i = 0; i < CPUID_COUNT; i++)
		sum += cpuid(0).eax;
	printf("TRACE_MIX counts: in_0x22e=%d out_0x21=%d out_0x20=%d out_0xa1=%d out_0xa0=%d cpuid=%d\n",
	       UNUSED_READS, 2 * PIC_ROUNDS, 2 * PIC_ROUNDS, 2 * PIC_ROUNDS, PIC_ROUNDS, CPUID_COUNT);
	CHECK(ones == UNUSED_READS, "%u of %d reads of port 0x22e returned 0xff", ones, UNUSED_READS);
	CHECK(sum == (u32)CPUID_COUNT * cpuid(0).eax, "CPUID leaf 0 changed between calls");
	test_pass();
}

void guest_main(void)
{
	run_test("trace_mix", t_mix);
}
