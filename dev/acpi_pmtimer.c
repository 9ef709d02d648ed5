/* ACPI PM timer, ACPI specification section 4.8.3.3. The count is computed from the clock
 * on each read, so it runs whether or not the guest is scheduled. */
#include "dev/acpi_pmtimer.h"

void acpi_pmtimer_init(struct acpi_pmtimer *t, uint16_t port, bool wide32, uint64_t (*clock)(void *), void *ctx)
{
    *t = (struct acpi_pmtimer){ .port = port, .wide32 = wide32 };
    dev_clock_init(&t->clock, clock, ctx);
}

uint32_t acpi_pmtimer_read(struct acpi_pmtimer *t)
{
    uint64_t now = dev_clock_now(&t->clock);
    return (uint32_t)(now & (t->wide32 ? ACPI_PM_TMR_MASK32 : ACPI_PM_TMR_MASK24));
}

static uint32_t pmtimer_in(void *dev, uint16_t port, unsigned size)
{
    struct acpi_pmtimer *t = dev;
    /* The table truncates to size; shift so each port reads its own byte lane. */
    return acpi_pmtimer_read(t) >> (8 * ((port - t->port) & (ACPI_PM_TMR_LEN - 1)));
}

/* The register is read-only: take writes so they are not counted as stray accesses. */
static void pmtimer_out(void *dev, uint16_t port, unsigned size, uint32_t val) { }

static const struct ioport_ops pmtimer_ops = { .name = "acpi-pmtimer", .in = pmtimer_in, .out = pmtimer_out };

bool acpi_pmtimer_attach(struct ioport_table *io, struct acpi_pmtimer *t)
{
    return ioport_register(io, t->port, ACPI_PM_TMR_LEN, &pmtimer_ops, t);
}
