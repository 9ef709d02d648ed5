/* ACPI PM1a event and control register blocks (ACPI 6.x, 4.8.3.1 PM1 Event Grouping, 4.8.3.2
 * PM1 Control Grouping) of the VM's power-management function, at the I/O block the FADT names:
 * PM1_STS and PM1_EN at base (PM1a_EVT_BLK), PM1_CNT at base + 4 (PM1a_CNT_BLK). The PM timer
 * at base + 8 is another device (acpi_pmtimer.h). There is no SMI command port: the machine
 * is always in ACPI mode, so SCI_EN reads 1. Writing SLP_EN with SLP_TYP = ACPI_SLP_TYP_S5
 * powers the VM off; no other sleep state is advertised. TMR_STS (the PM timer's bit 23
 * toggled, 4.8.3.3) is computed lazily from a clock in PM timer ticks; the SCI line is driven
 * through a callback at the level (PM1_STS & PM1_EN) != 0. Pure model. */
#ifndef MV_ACPI_PM_H
#define MV_ACPI_PM_H
#include "compiler.h"
#include "dev/ioport.h"
#include "dev/devclock.h"

#define ACPI_PM_BASE_DEFAULT    0xB000      /* as QEMU's PIIX4 PM places it */
#define ACPI_PM1_STS_OFF        0           /* register offsets from the PM base */
#define ACPI_PM1_EN_OFF         2
#define ACPI_PM1_CNT_OFF        4
#define ACPI_PM_TMR_OFF         8           /* acpi_pmtimer.h */
#define ACPI_PM1_EVT_LEN        4           /* FADT PM1_EVT_LEN: PM1_STS + PM1_EN */
#define ACPI_PM1_CNT_LEN        2           /* FADT PM1_CNT_LEN */
#define ACPI_PM_PORTS           (ACPI_PM1_EVT_LEN + ACPI_PM1_CNT_LEN)

/* PM1_STS (write 1 to clear) and PM1_EN: the enable bits sit at their status bit's place. */
#define PM1_TMR                 BIT(0)      /* TMR_STS / TMR_EN */
#define PM1_BM_STS              BIT(4)      /* bus master activity: no bus masters, stays 0 */
#define PM1_GBL                 BIT(5)      /* GBL_STS / GBL_EN: the global lock's release */
#define PM1_PWRBTN              BIT(8)      /* PWRBTN_STS / PWRBTN_EN */
#define PM1_SLPBTN              BIT(9)      /* SLPBTN_STS / SLPBTN_EN */
#define PM1_RTC                 BIT(10)     /* RTC_STS / RTC_EN */
#define PM1_PCIEXP_WAKE         BIT(14)     /* PCIEXP_WAKE_STS / PCIEXP_WAKE_DIS */
#define PM1_WAK_STS             BIT(15)     /* the system woke from a sleep state */
#define PM1_STS_MASK            (PM1_TMR | PM1_BM_STS | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | \
                                 PM1_RTC | PM1_PCIEXP_WAKE | PM1_WAK_STS)
/* Every enable bit holds what is written (ACPICA reads an enable back to see it stuck). */
#define PM1_EN_MASK             (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC | PM1_PCIEXP_WAKE)
#define PM1_SCI_SOURCES         (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC)

/* PM1_CNT. */
#define PM1_CNT_SCI_EN          BIT(0)      /* fixed 1: no SMI port to switch modes with */
#define PM1_CNT_BM_RLD          BIT(1)      /* read/write; only matters with C3, which is absent */
#define PM1_CNT_GBL_RLS         BIT(2)      /* write-only: would signal an SMI to the BIOS */
#define PM1_CNT_SLP_TYP_SHIFT   10
#define PM1_CNT_SLP_TYP_MASK    (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN          BIT(13)     /* write-only: enter the state SLP_TYP names */
#define PM1_CNT_STORED          (PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP_MASK)

/* The SLP_TYP value for S5 (soft off), as the ICH family encodes it; the DSDT's \_S5_ object
 * tells the OS this value (vm/acpi_tables.c), so any 3-bit value would do. */
#define ACPI_SLP_TYP_S5         7

/* TMR_STS is set each time bit 23 of the 24-bit PM timer toggles (TMR_VAL_EXT = 0). */
#define ACPI_PM_TMR_STS_SHIFT   23

struct acpi_pm {
    uint16_t base;
    uint16_t sts, en;                   /* PM1_STS, PM1_EN */
    uint16_t cnt;                       /* PM1_CNT's stored bits (PM1_CNT_STORED) */
    struct dev_clock clock;             /* PM timer ticks (PM_TIMER_HZ) since power-on */
    uint64_t tmr_checked;               /* the tick up to which bit 23's toggles are in TMR_STS */
    void (*sci)(void *ctx, bool level); /* the SCI line (level-triggered) */
    void (*power_off)(void *ctx);       /* S5: the VM is off */
    void *ctx;
    bool sci_level;
    bool off;                           /* S5 was entered: power_off has been called */
    uint64_t sleeps_ignored;            /* SLP_EN with a sleep type other than S5 */
    uint64_t pwrbtn_presses;
};

/* clock, sci and power_off share ctx; sci and power_off may be NULL. */
void acpi_pm_init(struct acpi_pm *pm, uint16_t base, uint64_t (*clock)(void *ctx),
                  void (*sci)(void *ctx, bool level), void (*power_off)(void *ctx), void *ctx);
/* An access of size 1, 2 or 4 at port (base..base+5) as a chipset decodes it: each byte lane
 * reaches the register byte at its own port, so a dword read at the base returns
 * PM1_EN << 16 | PM1_STS; bytes past the block read 0xFF and ignore writes. */
uint32_t acpi_pm_read(struct acpi_pm *pm, uint16_t port, unsigned size);
void acpi_pm_write(struct acpi_pm *pm, uint16_t port, unsigned size, uint32_t val);
/* The power button is pressed: PWRBTN_STS is set. True if the guest enabled PWRBTN_EN, i.e.
 * it sees an SCI for it. */
bool acpi_pm_power_button(struct acpi_pm *pm);
/* For the timer registry: the tick of the next TMR_STS event that raises the SCI, UINT64_MAX
 * if none (TMR_EN clear, or TMR_STS already set); and bringing TMR_STS and the SCI up to the
 * clock's now. A write that moves the next event says so through dev_clock_moved(). */
uint64_t acpi_pm_next_irq(const struct acpi_pm *pm);
void acpi_pm_catch_up(struct acpi_pm *pm);
/* Ports base..base+5 (the PM timer's ports are not taken). */
bool acpi_pm_attach(struct ioport_table *io, struct acpi_pm *pm);
#endif
