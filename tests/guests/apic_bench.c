/* apic_bench: what the interrupt paths cost a guest, in its own TSC cycles (a benchmark for
 * `make bench`, natively on bare Bochs and nested in monovisor; not a test):
 *   mmio_read     a read of the LAPIC version register (an xAPIC MMIO access)
 *   eoi_mmio      an EOI write through the xAPIC page
 *   eoi_msr       an EOI through the x2APIC MSR (WRMSR 0x80b)
 *   self_ipi      a self-IPI delivered and handled (ICR write, interrupt, EOI, IRET)
 *   irq_pic       a PIT interrupt through the 8259 and LINT0 (virtual wire), handler included
 *   irq_ioapic    a PIT interrupt through I/O APIC pin 2
 *   irq_lapic     a LAPIC timer interrupt (periodic)
 * The irq_* figures are what a 1 kHz interrupt takes from a busy loop: the loop's iterations in
 * 20M TSC cycles without interrupts and with them (the TSC, not the PM timer: firmware on bare
 * Bochs may leave the PM block unprogrammed), the difference in cycles divided by
 * the interrupts taken. Prints "BENCH name cycles" lines. */
#include "guest.h"
#include "pic.h"
#include "apic.h"
#include "isa.h"
#include "pmtimer.h"

const char guest_name[] = "apic_bench";
u16 pm_tmr_port;

#define REPS            2000
#define V_IPI           0x41
#define V_PIT           0x50
#define V_TIMER         0x60
#define IRQ_PIT         0
#define IOAPIC_PIN_PIT  2
#define WINDOW_TSC      20000000ull     /* 200 ms at Bochs' 100 MHz; the TSC is every platform's clock */

static volatile u32 irqs;

static bool on_apic_irq(struct exc_frame *f __attribute__((unused)))
{
	irqs++;
	lapic_eoi();
	return true;
}

static bool on_pic_irq(struct exc_frame *f __attribute__((unused)))
{
	irqs++;
	pic_eoi(IRQ_PIT);
	return true;
}

static void report_cycles(const char *name, u64 cycles, u32 n)
{
	printf("BENCH %s %llu\n", name, div64_32(cycles, n));
}

static void bench_mmio(void)
{
	u64 t0 = rdtsc();
	for (u32 i = 0; i < REPS; i++)
		(void)lapic_read(LAPIC_VER);
	report_cycles("mmio_read", rdtsc() - t0, REPS);
	t0 = rdtsc();
	for (u32 i = 0; i < REPS; i++)
		lapic_eoi();
	report_cycles("eoi_mmio", rdtsc() - t0, REPS);
}

static void bench_self_ipi(void)
{
	set_exc_hook(V_IPI, on_apic_irq);
	irqs = 0;
	sti();
	u64 t0 = rdtsc();
	for (u32 i = 0; i < REPS; i++)
		lapic_write(LAPIC_ICR_LO, ICR_SHORT_SELF | V_IPI);
	u64 t = rdtsc() - t0;
	cli();
	if (irqs == REPS)
		report_cycles("self_ipi", t, REPS);
	else
		printf("BENCH self_ipi ? (%u of %u delivered)\n", irqs, REPS);
}

static void bench_eoi_msr(void)
{
	if (!(cpuid(1).ecx & CPUID1_ECX_X2APIC)) {
		printf("BENCH eoi_msr ? (no x2APIC)\n");
		return;
	}
	u64 base = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
	u64 t0 = rdtsc();
	for (u32 i = 0; i < REPS; i++)
		wrmsr(MSR_X2APIC_FIRST + (LAPIC_EOI >> 4), 0);
	u64 t = rdtsc() - t0;
	/* Left in x2APIC mode: leaving it goes through globally disabled, which Bochs (like a P6)
	 * does not undo before a reset, so this figure is taken last. */
	report_cycles("eoi_msr", t, REPS);
}

/* Busy-loop iterations in one window of PM time, interrupts on. */
static u32 loop_window(void)
{
	u32 n = 0;
	u64 t0 = rdtsc();
	sti();
	while (rdtsc() - t0 < WINDOW_TSC)
		n++;
	cli();
	return n;
}

static void interrupt_cost(const char *name, u32 quiet, u64 tsc_per_window)
{
	irqs = 0;
	u32 busy = loop_window();
	if (!irqs || busy >= quiet) {
		printf("BENCH %s ? (%u interrupts, %u of %u iterations)\n", name, irqs, busy, quiet);
		return;
	}
	u64 lost = div64_32((u64)(quiet - busy) * (tsc_per_window >> 8), quiet) << 8;
	report_cycles(name, lost, irqs);
}

static void bench_interrupts(void)
{
	u32 quiet = loop_window();
	u64 tsc_per_window = WINDOW_TSC;
	u32 again = loop_window();
	if (again > quiet)
		quiet = again;

	set_exc_hook(IRQ_VECTOR_BASE + IRQ_PIT, on_pic_irq);
	pit_periodic(1000);
	lapic_write(LAPIC_LVT_LINT0, LVT_DM_EXTINT);
	outb(PIC1_DATA, (u8)~(1u << IRQ_PIT));
	interrupt_cost("irq_pic", quiet, tsc_per_window);
	outb(PIC1_DATA, 0xff);

	set_exc_hook(V_PIT, on_apic_irq);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED | LVT_DM_EXTINT);
	ioapic_write(IOAPIC_REDTBL(IOAPIC_PIN_PIT) + 1, 0);
	ioapic_write(IOAPIC_REDTBL(IOAPIC_PIN_PIT), V_PIT);
	interrupt_cost("irq_ioapic", quiet, tsc_per_window);
	ioapic_write(IOAPIC_REDTBL(IOAPIC_PIN_PIT), RTE_MASKED | V_PIT);

	set_exc_hook(V_TIMER, on_apic_irq);
	u32 c0 = 0xffffffffu;
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | V_TIMER);
	lapic_write(LAPIC_TIMER_ICR, c0);
	u64 t0 = rdtsc();
	while (rdtsc() - t0 < WINDOW_TSC / 20)             /* 1/20 of the window: 10 ms */
		;
	u32 per_ms = (c0 - lapic_read(LAPIC_TIMER_CCR)) / 10;
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | V_TIMER);
	lapic_write(LAPIC_TIMER_ICR, per_ms);
	interrupt_cost("irq_lapic", quiet, tsc_per_window);
	lapic_write(LAPIC_TIMER_ICR, 0);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | V_TIMER);
	lapic_write(LAPIC_LVT_LINT0, LVT_DM_EXTINT);
}

void guest_main(void)
{
	pm_init();
	pic_init();     /* before any STI: a BIOS leaves the 8259 at vector 8 with the PIT running */
	lapic_write(LAPIC_SVR, SVR_ENABLE | 0xff);
	lapic_write(LAPIC_TPR, 0);
	for (u32 pin = 0; pin < 24; pin++)
		ioapic_write(IOAPIC_REDTBL(pin), RTE_MASKED);
	bench_mmio();
	bench_self_ipi();
	bench_interrupts();
	bench_eoi_msr();
	printf("BENCH done\n");
	guest_exit(0);
}
