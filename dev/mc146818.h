/* Motorola MC146818A real-time clock and CMOS RAM, as wired in a PC (index 0x70, data 0x71,
 * IRQ8). The model is driven by the VMM's clock in 32.768 kHz ticks (the chip's own time
 * base), so every divider-derived event (update, UIP window, periodic rates) lands on an
 * exact tick. Nothing runs on its own: the VMM calls mc146818_update() and arms a timer
 * at mc146818_next_event(); every port access also catches up first. */
#ifndef MV_MC146818_H
#define MV_MC146818_H
#include "compiler.h"
#include "dev/ioport.h"
#include "dev/devclock.h"

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA  0x71
#define RTC_HZ 32768u             /* the time base: the VMM passes time in 32.768 kHz ticks */

/* Register indices (datasheet order). */
#define RTC_REG_SEC        0x00
#define RTC_REG_SEC_ALARM  0x01
#define RTC_REG_MIN        0x02
#define RTC_REG_MIN_ALARM  0x03
#define RTC_REG_HOUR       0x04
#define RTC_REG_HOUR_ALARM 0x05
#define RTC_REG_WDAY       0x06
#define RTC_REG_MDAY       0x07
#define RTC_REG_MONTH      0x08
#define RTC_REG_YEAR       0x09
#define RTC_REG_A          0x0A
#define RTC_REG_B          0x0B
#define RTC_REG_C          0x0C
#define RTC_REG_D          0x0D
#define RTC_INDEX_MASK     0x7F    /* index bits of a 0x70 write */
#define RTC_INDEX_NMI_MASK 0x80    /* bit 7 of a 0x70 write: 1 = NMI disabled */

/* Register A. */
#define REGA_UIP           0x80    /* update in progress or imminent (read-only) */
#define REGA_DV_MASK       0x70    /* divider select */
#define REGA_DV_32KHZ      0x20    /* 010: 32.768 kHz time base, running */
#define REGA_DV_RESET      0x60    /* 11x: divider held in reset */
#define REGA_RS_MASK       0x0F    /* periodic rate select */
#define REGA_DEFAULT       0x26    /* as a BIOS leaves it: 32.768 kHz, 1024 Hz */

/* Register B. */
#define REGB_SET           0x80    /* inhibit updates so the time can be written */
#define REGB_PIE           0x40
#define REGB_AIE           0x20
#define REGB_UIE           0x10
#define REGB_SQWE          0x08    /* square-wave pin: not wired in a PC, stored only */
#define REGB_DM_BINARY     0x04    /* 1 = binary, 0 = BCD */
#define REGB_24H           0x02    /* 1 = 24 hour, 0 = 12 hour with bit 7 = PM */
#define REGB_DSE           0x01    /* daylight saving: stored, not applied (PCs leave it 0) */
#define REGB_DEFAULT       REGB_24H

/* Register C (read-only; reading clears it). */
#define REGC_IRQF          0x80
#define REGC_PF            0x40
#define REGC_AF            0x20
#define REGC_UF            0x10

/* Register D (read-only). */
#define REGD_VRT           0x80    /* RAM and time valid: the battery is never flat */

#define RTC_HOUR_PM        0x80    /* 12h mode PM bit in the hour registers */
#define RTC_ALARM_DONTCARE 0xC0    /* an alarm byte with both top bits set matches anything */

/* PC CMOS RAM layout used by BIOSes and boot loaders. */
#define CMOS_SHUTDOWN      0x0F
#define CMOS_FLOPPY        0x10
#define CMOS_DISK          0x12
#define CMOS_EQUIPMENT     0x14
#define CMOS_BASE_MEM_LO   0x15    /* base memory in KB */
#define CMOS_BASE_MEM_HI   0x16
#define CMOS_EXT_MEM_LO    0x17    /* memory above 1 MiB in KB */
#define CMOS_EXT_MEM_HI    0x18
#define CMOS_CSUM_FIRST    0x10    /* checksummed range 0x10-0x2d ... */
#define CMOS_CSUM_LAST     0x2D
#define CMOS_CSUM_HI       0x2E    /* ... sum stored big-endian */
#define CMOS_CSUM_LO       0x2F
#define CMOS_EXT_MEM2_LO   0x30    /* copy of 0x17/0x18 as POST found it */
#define CMOS_EXT_MEM2_HI   0x31
#define CMOS_CENTURY       0x32    /* BCD */
#define CMOS_HIGH_MEM_LO   0x34    /* memory above 16 MiB in 64 KiB units */
#define CMOS_HIGH_MEM_HI   0x35
#define EQUIP_FPU          0x02    /* math coprocessor present */
#define EQUIP_DISPLAY_VGA  0x00    /* bits 5:4 = 00: EGA/VGA with its own ROM */

/* Binary, 24h; wday 1=Sunday..7. */
struct rtc_time {
    uint16_t year;
    uint8_t month, day, hour, min, sec, wday;
};

struct mc146818 {
    uint8_t cmos[128];           /* registers 0x00-0x0d and CMOS RAM */
    uint8_t index;               /* last index written to port 0x70 (bits 6:0) */
    bool nmi_masked;             /* bit 7 of the last index write */
    struct dev_clock clock;                 /* RTC_HZ ticks since VM start */
    void (*set_irq)(void *ctx, bool level); /* IRQ8: raised when IRQF becomes 1, lowered when C is read */
    void *ctx;

    /* Private state. The time registers themselves live in cmos[0..9] in the guest's
     * format, as on the chip; these fields hold the divider's schedule. */
    uint64_t last;               /* tick the model has been brought up to */
    uint64_t next_update;        /* tick of the next once-a-second update (while the divider runs) */
    uint64_t next_periodic;      /* tick of the next PF (while the divider runs and RS != 0) */
    uint8_t last_index_byte;     /* whole byte last written to 0x70; what a 0x70 read returns */
    bool irq_level;              /* current IRQ8 level as last given to set_irq */
    uint64_t irqs_raised;        /* rising edges of IRQ8 */
    uint64_t updates;            /* update cycles that advanced the time */
    uint64_t periods;            /* periodic periods elapsed (several may merge into one PF) */
};

/* start may be NULL (2000-01-01 00:00:00). A wday outside 1..7 is computed from the date. */
void mc146818_init(struct mc146818 *r, const struct rtc_time *start, uint64_t base_mem_kb,
                   uint64_t ext_mem_kb, uint64_t (*clock)(void *), void (*set_irq)(void *, bool),
                   void *ctx);
/* Brings the clock and the interrupt flags up to 'now' (the VMM calls this before guest
 * entry and from timers). */
void mc146818_update(struct mc146818 *r);
/* The RTC_HZ tick at which the next interrupt (periodic, update-ended, alarm) will be raised
 * if enabled in register B, or UINT64_MAX if none is enabled. Lets the VMM arm a timer. */
uint64_t mc146818_next_event(const struct mc146818 *r);
uint8_t mc146818_read(struct mc146818 *r, uint16_t port);
void mc146818_write(struct mc146818 *r, uint16_t port, uint8_t val);
/* Registers 0x70-0x71 with ops named "rtc". */
bool mc146818_attach(struct ioport_table *io, struct mc146818 *r);

/* Pure helpers, exported for tests. */
uint8_t rtc_to_bcd(uint8_t v);
uint8_t rtc_from_bcd(uint8_t v);
#endif
