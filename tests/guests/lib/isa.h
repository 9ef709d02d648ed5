/* The PC's ISA timer chips as guests program them: the 8254 PIT (Intel 8254 datasheet) and
 * the MC146818 RTC/CMOS (Motorola MC146818A datasheet). One definition for every guest. */
#ifndef GUEST_ISA_H
#define GUEST_ISA_H
#include "x86.h"

#define PIT_CH0         0x40
#define PIT_CH2         0x42
#define PIT_CMD         0x43
#define PIT_HZ          1193182u
#define PIT_CH0_MODE2   0x34            /* channel 0, LSB then MSB, mode 2 (rate generator), binary */
#define PIT_LATCH_CH0   0x00
#define PIT_TICK_COUNT  1193u           /* 1000 Hz */

#define RTC_INDEX       0x70
#define RTC_DATA        0x71
#define RTC_NMI_OFF     0x80            /* index bit 7: NMI masked while the index is set */
#define RTC_REG_A       0x0a
#define RTC_REG_B       0x0b
#define RTC_REG_C       0x0c
#define REGA_UIP        0x80
#define REGA_DV_32K     0x20            /* the 32.768 kHz time base */
#define REGA_RS_1024HZ  0x06
#define REGB_PIE        0x40
#define REGB_24H        0x02
#define REGC_PF         0x40

/* Channel 0 as a rate generator at hz (IRQ0). */
static inline void pit_periodic(u32 hz)
{
	u32 count = PIT_HZ / hz;
	outb(PIT_CMD, PIT_CH0_MODE2);
	outb(PIT_CH0, count & 0xff);
	outb(PIT_CH0, count >> 8);
}
#endif
