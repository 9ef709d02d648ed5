/* ACPI power management timer (PM_TMR): a free-running counter at 3.579545 MHz that the guest
 * reads with a 4-byte IN from the port the FADT names (PM_TMR_BLK). 24 bits wide unless the
 * FADT sets TMR_VAL_EXT, then 32. Pure model: the count comes from a clock callback. */
#ifndef MV_ACPI_PMTIMER_H
#define MV_ACPI_PMTIMER_H
#include "compiler.h"
#include "dev/ioport.h"
#include "dev/devclock.h"

#define PM_TIMER_HZ                 3579545u
#define ACPI_PM_TMR_PORT_DEFAULT    0xB008      /* PM base 0xB000 + 8, as QEMU's PIIX4 PM */
#define ACPI_PM_TMR_LEN             4
#define ACPI_PM_TMR_MASK24          0xFFFFFFu
#define ACPI_PM_TMR_MASK32          0xFFFFFFFFu

struct acpi_pmtimer {
    struct dev_clock clock;         /* PM_TIMER_HZ ticks since VM start */
    uint16_t port;
    bool wide32;                    /* must match the FADT's TMR_VAL_EXT flag */
};

void acpi_pmtimer_init(struct acpi_pmtimer *t, uint16_t port, bool wide32, uint64_t (*clock)(void *), void *ctx);
/* The counter value, wrapped to 24 or 32 bits. */
uint32_t acpi_pmtimer_read(struct acpi_pmtimer *t);
/* 4 ports at t->port. A read of size 1 or 2 returns the low bytes of the register from the
 * byte lane of the port it starts at (so 1 byte at port+1 gives bits 15:8); writes are ignored. */
bool acpi_pmtimer_attach(struct ioport_table *io, struct acpi_pmtimer *t);
#endif
