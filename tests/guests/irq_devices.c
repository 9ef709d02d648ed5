/* irq_devices: interrupt-driven RTC and UART. The RTC periodic interrupt at 1024 Hz is counted
 * over 50 ticks of a 100 Hz PIT (half a second); a message goes out of COM1 one byte per
 * transmitter-empty interrupt, as an interrupt-driven serial driver sends.
 * A level-triggered request withdrawn before the CPU takes it delivers nothing (neither the IRQ
 * nor a spurious IRQ7), and IRR follows the line.
 * Prints "IRQ_DEVICES rtc=N" for the nested test. */
#include "guest.h"
#include "pic.h"
#include "isa.h"

const char guest_name[] = "irq_devices";

#define PIT_TICK_HZ     100
#define COM1            0x3f8
#define UART_THR        0
#define UART_IER        1
#define UART_IIR        2
#define UART_MCR        4
#define IER_ETBEI       0x02
#define IIR_ID_MASK     0x0e
#define IIR_THRE        0x02
#define MCR_OUT2        0x08
#define MCR_DTR_RTS     0x03
#define ELCR_MASTER     0x4d0
#define IRQ_SPURIOUS    7
#define IRQ_PIT         0
#define IRQ_COM1        4
#define IRQ_RTC         8

static volatile u32 pit_ticks, rtc_irqs, rtc_pf_missing, thre_irqs, irq7s;
static const char msg[] = "IRQ_DEVICES sent by THRE interrupts\n";
static volatile u32 msg_pos;

static bool pit_handler(struct exc_frame *f __attribute__((unused)))
{
	pit_ticks++;
	pic_eoi(IRQ_PIT);
	return true;
}

/* As Linux's rtc_interrupt: read register C (which acknowledges), count PF. */
static bool rtc_handler(struct exc_frame *f __attribute__((unused)))
{
	outb(RTC_INDEX, RTC_NMI_OFF | RTC_REG_C);
	if (inb(RTC_DATA) & REGC_PF)
		rtc_irqs++;
	else
		rtc_pf_missing++;
	pic_eoi(IRQ_RTC);
	return true;
}

static bool com1_handler(struct exc_frame *f __attribute__((unused)))
{
	if ((inb(COM1 + UART_IIR) & IIR_ID_MASK) == IIR_THRE) {
		thre_irqs++;
		if (msg[msg_pos])
			outb(COM1 + UART_THR, (u8)msg[msg_pos++]);
		else
			outb(COM1 + UART_IER, 0);   /* all sent */
	}
	pic_eoi(IRQ_COM1);
	return true;
}

static bool irq7_handler(struct exc_frame *f __attribute__((unused)))
{
	irq7s++;                        /* spurious: no EOI (ISR bit 7 is not set) */
	return true;
}

static u8 read_irr(void)
{
	outb(PIC1_CMD, OCW3_READ_IRR);
	return inb(PIC1_CMD);
}

/* COM1's line as a level-triggered IRQ4 (ELCR): THRE interrupt enabled raises it, disabled
 * lowers it. Raised and withdrawn while IF=0, it must leave nothing to deliver. */
static void t_pic_level_withdrawn(void)
{
	cli();
	u32 thre0 = thre_irqs, irq70 = irq7s;
	outb(ELCR_MASTER, (u8)(inb(ELCR_MASTER) | (1u << IRQ_COM1)));
	outb(COM1 + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
	outb(PIC1_DATA, (u8)~((1u << IRQ_COM1) | (1u << IRQ_SPURIOUS)));
	outb(COM1 + UART_IER, IER_ETBEI);
	u8 raised = read_irr();
	outb(COM1 + UART_IER, 0);
	u8 lowered = read_irr();
	sti();
	for (volatile u32 i = 0; i < 200000; i++)
		;
	cli();
	outb(PIC1_DATA, 0xff);
	outb(ELCR_MASTER, (u8)(inb(ELCR_MASTER) & ~(1u << IRQ_COM1)));
	CHECK(raised & (1u << IRQ_COM1), "IRR %#x: the raised level line is not requested", raised);
	CHECK(!(lowered & (1u << IRQ_COM1)), "IRR %#x: the request outlived its level line", lowered);
	CHECK(thre_irqs == thre0, "a withdrawn level request was delivered");
	CHECK(irq7s == irq70, "a withdrawn level request gave %u spurious IRQ7", irq7s - irq70);
	test_pass();
}

static void t_rtc_periodic(void)
{
	u32 count = PIT_HZ / PIT_TICK_HZ;
	outb(PIT_CMD, PIT_CH0_MODE2);
	outb(PIT_CH0, count & 0xff);
	outb(PIT_CH0, count >> 8);
	outb(RTC_INDEX, RTC_NMI_OFF | RTC_REG_A);
	outb(RTC_DATA, REGA_DV_32K | REGA_RS_1024HZ);
	outb(RTC_INDEX, RTC_NMI_OFF | RTC_REG_C);
	(void)inb(RTC_DATA);
	outb(RTC_INDEX, RTC_NMI_OFF | RTC_REG_B);
	u8 b = inb(RTC_DATA);
	outb(RTC_INDEX, RTC_NMI_OFF | RTC_REG_B);
	outb(RTC_DATA, b | REGB_PIE);
	outb(PIC2_DATA, (u8)~(1u << (IRQ_RTC - 8)));
	outb(PIC1_DATA, (u8)~((1u << IRQ_PIT) | (1u << PIC_CASCADE_IRQ)));
	sti();
	while (pit_ticks < 1)
		hlt();
	u32 start = rtc_irqs;
	while (pit_ticks < 51)
		hlt();
	u32 n = rtc_irqs - start;
	cli();
	outb(RTC_INDEX, RTC_NMI_OFF | RTC_REG_B);
	outb(RTC_DATA, b);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	printf("IRQ_DEVICES rtc=%u in 0.5 s at 1024 Hz\n", n);
	CHECK(rtc_pf_missing == 0, "%u RTC interrupts without PF in register C", rtc_pf_missing);
	CHECK(n >= 497 && n <= 527, "%u RTC periodic interrupts in 0.5 s at 1024 Hz", n);
	test_pass();
}

static void t_uart_thre(void)
{
	serial_flush();
	outb(COM1 + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
	outb(PIC1_DATA, (u8)~(1u << IRQ_COM1));
	sti();
	outb(COM1 + UART_IER, IER_ETBEI);       /* THR is empty: the first interrupt comes at once */
	u32 spins = 0;
	while (msg[msg_pos] && spins < 10000000)
		spins++;
	cli();
	outb(COM1 + UART_IER, 0);
	outb(PIC1_DATA, 0xff);
	u32 sent = msg_pos;
	CHECK(sent == sizeof(msg) - 1, "only %u of %u bytes went out by THRE interrupts", sent,
	      (u32)sizeof(msg) - 1);
	CHECK(thre_irqs >= sent, "%u THRE interrupts for %u bytes", thre_irqs, sent);
	test_pass();
}

void guest_main(void)
{
	set_exc_hook(IRQ_VECTOR_BASE + IRQ_PIT, pit_handler);
	set_exc_hook(IRQ_VECTOR_BASE + IRQ_COM1, com1_handler);
	set_exc_hook(IRQ_VECTOR_BASE + IRQ_RTC, rtc_handler);
	set_exc_hook(IRQ_VECTOR_BASE + IRQ_SPURIOUS, irq7_handler);
	pic_init();
	run_test("rtc_periodic", t_rtc_periodic);
	run_test("uart_thre", t_uart_thre);
	run_test("pic_level_withdrawn", t_pic_level_withdrawn);
}
