/* ACPI PM1 event and control blocks, ACPI 6.x sections 4.8.3.1 and 4.8.3.2. The registers are
 * 16 bits wide; a chipset decodes each byte of an access on its own byte lane, so an access of
 * any size at any port is taken apart into per-register byte masks here. */
#include "dev/acpi_pm.h"

#define REG_BYTES       2               /* every PM1 register is 16 bits */
#define BYTE_BITS       8
#define BYTE_MASK       0xFFu
#define OPEN_BUS_BYTE   0xFFu
#define REG_STS         (ACPI_PM1_STS_OFF / REG_BYTES)
#define REG_EN          (ACPI_PM1_EN_OFF / REG_BYTES)
#define REG_CNT         (ACPI_PM1_CNT_OFF / REG_BYTES)
#define NREGS           (ACPI_PM_PORTS / REG_BYTES)
#define MAX_ACCESS      4

/* Bit 23 of the timer toggles at every multiple of 2^23 ticks: fold the toggles since the
 * last look into TMR_STS (set whether or not TMR_EN is, as the spec says of status bits). */
static void timer_fold(struct acpi_pm *pm)
{
    uint64_t now = dev_clock_now(&pm->clock);
    if (now >> ACPI_PM_TMR_STS_SHIFT != pm->tmr_checked >> ACPI_PM_TMR_STS_SHIFT)
        pm->sts |= PM1_TMR;
    pm->tmr_checked = now;
}

static void update_sci(struct acpi_pm *pm)
{
    /* SCI_EN is always 1, so nothing else gates the line. */
    bool level = (pm->sts & pm->en & PM1_SCI_SOURCES) != 0;
    if (level == pm->sci_level)
        return;
    pm->sci_level = level;
    if (pm->sci)
        pm->sci(pm->ctx, level);
}

uint64_t acpi_pm_next_irq(const struct acpi_pm *pm)
{
    if (!(pm->en & PM1_TMR) || (pm->sts & PM1_TMR))
        return UINT64_MAX;              /* disabled, or already asserted until cleared */
    uint64_t period = pm->tmr_checked >> ACPI_PM_TMR_STS_SHIFT;
    if (period == UINT64_MAX >> ACPI_PM_TMR_STS_SHIFT)
        return UINT64_MAX;              /* the next toggle lies past the end of time */
    return (period + 1) << ACPI_PM_TMR_STS_SHIFT;
}

void acpi_pm_catch_up(struct acpi_pm *pm)
{
    timer_fold(pm);
    update_sci(pm);
}

static uint16_t reg_value(const struct acpi_pm *pm, unsigned reg)
{
    switch (reg) {
    case REG_STS: return pm->sts;
    case REG_EN:  return pm->en;
    default:      return (uint16_t)(pm->cnt | PM1_CNT_SCI_EN);  /* SLP_EN, GBL_RLS read 0 */
    }
}

uint32_t acpi_pm_read(struct acpi_pm *pm, uint16_t port, unsigned size)
{
    acpi_pm_catch_up(pm);               /* TMR_STS as of now */
    uint32_t v = 0;
    unsigned off = (uint16_t)(port - pm->base);
    for (unsigned i = 0; i < size && i < MAX_ACCESS; i++) {
        unsigned o = off + i;
        uint32_t byte = o < ACPI_PM_PORTS ? (reg_value(pm, o / REG_BYTES) >> (o % REG_BYTES * BYTE_BITS)) & BYTE_MASK
                                          : OPEN_BUS_BYTE;
        v |= byte << (i * BYTE_BITS);
    }
    return v;
}

static void sleep_request(struct acpi_pm *pm)
{
    unsigned typ = (pm->cnt & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT;
    if (typ == ACPI_SLP_TYP_S5) {
        if (!pm->off) {                 /* once off, the machine stays off */
            pm->off = true;
            if (pm->power_off)
                pm->power_off(pm->ctx);
        }
        return;
    }
    /* S1-S4 are not advertised. Treat a request as a sleep that ends at once: WAK_STS tells
     * an OS that polls for the wake (ACPICA does, after SLP_EN) that it is back. */
    pm->sleeps_ignored++;
    pm->sts |= PM1_WAK_STS;
}

void acpi_pm_write(struct acpi_pm *pm, uint16_t port, unsigned size, uint32_t val)
{
    uint16_t v[NREGS] = { 0 }, m[NREGS] = { 0 };
    unsigned off = (uint16_t)(port - pm->base);
    for (unsigned i = 0; i < size && i < MAX_ACCESS; i++) {
        unsigned o = off + i;
        if (o >= ACPI_PM_PORTS)
            break;                      /* past the block: nobody's byte lane */
        unsigned shift = o % REG_BYTES * BYTE_BITS;
        v[o / REG_BYTES] |= (uint16_t)(((val >> (i * BYTE_BITS)) & BYTE_MASK) << shift);
        m[o / REG_BYTES] |= (uint16_t)(BYTE_MASK << shift);
    }
    acpi_pm_catch_up(pm);               /* a toggle before the write is there to be cleared */
    uint64_t next_before = acpi_pm_next_irq(pm);

    pm->sts &= (uint16_t)~(v[REG_STS] & m[REG_STS] & PM1_STS_MASK);
    pm->en = (uint16_t)(((pm->en & ~m[REG_EN]) | (v[REG_EN] & m[REG_EN])) & PM1_EN_MASK);
    pm->cnt = (uint16_t)(((pm->cnt & ~m[REG_CNT]) | (v[REG_CNT] & m[REG_CNT])) & PM1_CNT_STORED);
    /* GBL_RLS would raise an SMI; there is no SMI handler, so it is dropped. */
    if (v[REG_CNT] & m[REG_CNT] & PM1_CNT_SLP_EN)
        sleep_request(pm);

    update_sci(pm);
    if (acpi_pm_next_irq(pm) != next_before)
        dev_clock_moved(&pm->clock);
}

bool acpi_pm_power_button(struct acpi_pm *pm)
{
    pm->pwrbtn_presses++;
    acpi_pm_catch_up(pm);
    pm->sts |= PM1_PWRBTN;
    update_sci(pm);
    return (pm->en & PM1_PWRBTN) != 0;
}

void acpi_pm_init(struct acpi_pm *pm, uint16_t base, uint64_t (*clock)(void *ctx),
                  void (*sci)(void *ctx, bool level), void (*power_off)(void *ctx), void *ctx)
{
    *pm = (struct acpi_pm){ .base = base, .sci = sci, .power_off = power_off, .ctx = ctx };
    dev_clock_init(&pm->clock, clock, ctx);
    pm->tmr_checked = pm->clock.last;
}

static uint32_t pm_in(void *dev, uint16_t port, unsigned size) { return acpi_pm_read(dev, port, size); }
static void pm_out(void *dev, uint16_t port, unsigned size, uint32_t val) { acpi_pm_write(dev, port, size, val); }
static const struct ioport_ops pm_ops = { .name = "acpi-pm1", .in = pm_in, .out = pm_out };

bool acpi_pm_attach(struct ioport_table *io, struct acpi_pm *pm)
{
    return ioport_register(io, pm->base, ACPI_PM_PORTS, &pm_ops, pm);
}
