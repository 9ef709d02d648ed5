/* dev_fuzz: random reads and writes of every size to the emulated devices' registers with
 * interrupts on and a handler on every interrupt vector that acknowledges it, as issue 17's
 * hostile tenant ran it (`ops=N`, default 100000). Data is kept off the reset bits (hostile.h);
 * an 8259 initialisation the fuzzer starts is finished with the usual vectors, so every
 * interrupt lands on a handler. One operation in eight goes to the APICs instead: garbage in
 * LAPIC and I/O APIC registers (vectors kept at 0x20 and up, delivery modes that cannot reset or
 * stop the CPU: fixed, lowest priority, ExtINT, NMI), the LAPIC timer at a period of one clock,
 * and IA32_APIC_BASE moved into RAM and onto the I/O APIC's page and back. Afterwards the guest
 * puts the PIC, the APICs and the PIT back and checks that its timer still interrupts at the
 * right rate (100 ms of PM-timer time). `apic_only=1` fuzzes the APICs alone: the port fuzz
 * soon makes a level line its handler never clears (COM2, say), and a guest in that interrupt
 * storm, as on a real PC, runs no further: a finite run that must end cannot have it. */
#include "guest.h"
#include "pic.h"
#include "pmtimer.h"

u16 pm_tmr_port;
#include "hostile.h"
#include "isa.h"
#include "apic.h"

const char guest_name[] = "dev_fuzz";

#define OPS_DEFAULT     100000
#define ICW1_BIT        0x10
#define IRQ_PIT         0
#define FIRST_IRQ_VECTOR 0x20           /* below: exception stubs, some expect an error code */
#define LVT_DM_BITS     (7u << 8)
#define LVT_DM_LOWEST   (1u << 8)
#define APIC_IN_RAM     0x00800000u     /* inside the VM's 16 MiB */
#define LAPIC_REGS_END  0x400
#define V_FUZZ_TIMER    0xf0

static volatile u32 irqs, pit_ticks;
static volatile bool counting_pit;

static u32 lapic_base = LAPIC_DEFAULT;
static volatile u32 fast_ticks;
#define FAST_TICKS_MAX  100             /* then the one-clock timer stops itself */

static bool any_irq(struct exc_frame *f)
{
	u32 irq = f->vector - IRQ_VECTOR_BASE;
	irqs++;
	if (irq == IRQ_PIT && counting_pit)
		pit_ticks++;
	outb(PIC2_CMD, OCW2_NONSPEC_EOI);
	outb(PIC1_CMD, OCW2_NONSPEC_EOI);
	if (f->vector >= IRQ_VECTOR_BASE + 16)
		poke32(lapic_base + LAPIC_EOI, 0);
	/* On real parts nothing slows a one-clock periodic timer down: the CPU would do nothing
	 * but take it. monovisor stretches it; natively the handler ends it. */
	if (f->vector == V_FUZZ_TIMER && ++fast_ticks % FAST_TICKS_MAX == 0)
		poke32(lapic_base + LAPIC_TIMER_ICR, 0);
	return true;
}

/* A vector field (bits 7:0) of 0x20 or up: the exception stubs below would misread a frame. */
static u32 irq_vector(u32 v)
{
	return (v & 0xff) < FIRST_IRQ_VECTOR ? v | FIRST_IRQ_VECTOR : v;
}

/* Garbage that keeps the guest able to run on: fixed delivery (no INIT, SIPI or SMI, which
 * would reset or stop this CPU natively) with a vector that has a handler; LINT0 stays
 * ExtINT and LINT1 NMI, or a level "fixed" LINT0 would take the 8259's INTR, never
 * acknowledged, as an endless level interrupt, and the guest would do nothing else, as on a
 * real part. */
static u32 lapic_garbage(u32 off, u32 v)
{
	if (off == LAPIC_LVT_LINT0)
		return (v & LVT_MASKED) | LVT_DM_EXTINT;
	if (off == LAPIC_LVT_LINT1)
		return (v & LVT_MASKED) | LVT_DM_NMI;
	if (off == LAPIC_SVR || off == LAPIC_ICR_LO || (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR) ||
	    off == 0x2f0 /* CMCI */)
		return irq_vector(v & ~LVT_DM_BITS);
	return v;
}

static void fuzz_lapic(u32 *seed, u32 x)
{
	u32 off = (xorshift32(seed) % (LAPIC_REGS_END / 16)) * 16;
	if (x & (1u << 20)) {
		(void)peek32(lapic_base + off);
		return;
	}
	poke32(lapic_base + off, lapic_garbage(off, xorshift32(seed)));
}

static void fuzz_ioapic(u32 *seed, u32 x)
{
	u32 reg = xorshift32(seed) & 0x7f, v = xorshift32(seed);
	/* Fixed or lowest priority, and each pin's true polarity: ISA lines (pins 0-15) idle low
	 * and are active high, PCI lines (16-23) idle high and are active low. A level pin of the
	 * other polarity is asserted for good, an endless interrupt on any PC, and the guest would
	 * never get to its verdict. */
	if (reg >= IOAPIC_REDTBL(0) && !(reg & 1)) {
		v = irq_vector(v & ~(LVT_DM_BITS | RTE_ACTIVE_LOW)) | (v & LVT_DM_LOWEST);
		if ((reg - IOAPIC_REDTBL(0)) / 2 >= 16)
			v |= RTE_ACTIVE_LOW;
	}
	if (x & (1u << 20))
		(void)ioapic_read(reg);
	else
		ioapic_write(reg, v);
}

/* IA32_APIC_BASE into RAM, a register write there, then onto the I/O APIC's page, then home. */
static void move_apic_base(void)
{
	u64 home = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, (home & ~(u64)APIC_BASE_ADDR) | APIC_IN_RAM);
	lapic_base = APIC_IN_RAM;
	poke32(lapic_base + LAPIC_TPR, 0);
	(void)peek32(lapic_base + LAPIC_VER);
	wrmsr(MSR_APIC_BASE, (home & ~(u64)APIC_BASE_ADDR) | IOAPIC_DEFAULT);
	(void)peek32(IOAPIC_DEFAULT + IOAPIC_WIN);
	wrmsr(MSR_APIC_BASE, home);
	lapic_base = LAPIC_DEFAULT;
}

/* The LAPIC timer at its shortest period: one clock at divide-by-1. QEMU's TCG LAPIC has no
 * floor on the period and its own timer thread then does nothing else (the guest never runs
 * again), so there it gets 100k clocks (100 us). */
#define TCG_FAST_PERIOD 100000u
static void fastest_timer(void)
{
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | V_FUZZ_TIMER);
	lapic_write(LAPIC_TIMER_ICR, qemu_tcg() ? TCG_FAST_PERIOD : 1);
}

/* Which APIC operations run (`apic_ops=MASK`, to narrow a finding down): 1 IA32_APIC_BASE
 * moves, 2 the one-clock timer, 4 LAPIC registers, 8 I/O APIC registers. */
#define APIC_OPS_ALL    0xf
static u32 apic_ops = APIC_OPS_ALL;

static void fuzz_apics(u32 *seed, u32 x)
{
	u32 what = (x >> 21) & 0x3ff;
	if (what == 0) {
		if (apic_ops & 1)
			move_apic_base();
	} else if (what == 1) {
		if (apic_ops & 2)
			fastest_timer();
	} else if (what & 1) {
		if (apic_ops & 4)
			fuzz_lapic(seed, x);
	} else if (apic_ops & 8) {
		fuzz_ioapic(seed, x);
	}
}

/* The APICs as apic_baseline in the apic guest leaves them: virtual wire, nothing pending. */
static void apics_home(void)
{
	wrmsr(MSR_APIC_BASE, LAPIC_DEFAULT | APIC_BASE_EN | (rdmsr(MSR_APIC_BASE) & APIC_BASE_BSP));
	lapic_base = LAPIC_DEFAULT;
	apic_virtual_wire(V_FUZZ_TIMER);
	for (u32 i = 0; i < 256; i++)
		lapic_eoi();                    /* whatever is left in service */
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
	bool apic_only = cmdline_uint("apic_only", 0) != 0;
	apic_ops = cmdline_uint("apic_ops", APIC_OPS_ALL);
	u32 reads = 0, writes = 0;
	for (u32 i = 0; !ops || i < ops; i++) {   /* ops=0: forever */
		u32 x = xorshift32(&seed);
		if (apic_only || (x >> 28) == 0 || (x >> 28) == 1) {
			fuzz_apics(&seed, x);
			writes++;
			continue;
		}
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
	/* Back to a known platform: APICs in virtual wire, PIC, RTC interrupts off, PIT at 1000 Hz. */
	apics_home();
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
	for (u32 v = IRQ_VECTOR_BASE; v < IDT_VECTORS; v++)
		set_exc_hook(v, any_irq);
	set_exc_hook(2, any_irq);                   /* NMI from a fuzzed LVT or ICR */
	run_test("dev_fuzz", t_fuzz);
}
