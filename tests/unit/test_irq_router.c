/* The IRQ router over the 8259 pair: a device drives a GSI line, the PIC sees it; edges that
 * land on a request still latched are counted; a mask change tells the timer side. */
#include "test.h"
#include "dev/irq_router.h"

static struct i8259 pic;
static struct irq_router r;
static int changes;

static void changed(void *ctx) { changes++; }

static void setup(void)
{
    changes = 0;
    i8259_init(&pic, irq_routing_changed, irq_sync_lines, &r);
    irq_router_init(&r, &pic, changed, NULL, NULL);
    /* Linux's init_8259A: ICW1-4 on both chips, vectors 0x30/0x38, everything masked. */
    i8259_write(&pic, 0x20, 0x11); i8259_write(&pic, 0x21, 0x30); i8259_write(&pic, 0x21, 0x04); i8259_write(&pic, 0x21, 0x01);
    i8259_write(&pic, 0xA0, 0x11); i8259_write(&pic, 0xA1, 0x38); i8259_write(&pic, 0xA1, 0x02); i8259_write(&pic, 0xA1, 0x01);
    i8259_write(&pic, 0x21, 0xFF);
    i8259_write(&pic, 0xA1, 0xFF);
}

TEST(line_reaches_pic_and_ack_gives_vector)
{
    setup();
    CHECK(!irq_line_enabled(&r, 0));
    i8259_write(&pic, 0x21, 0xFE);      /* unmask IRQ0 */
    CHECK(irq_line_enabled(&r, 0));
    CHECK(!irq_pending(&r));
    irq_pulse(&r, 0);
    CHECK(irq_pending(&r));
    CHECK_EQ(irq_ack(&r), 0x30);
    CHECK(!irq_pending(&r));
    CHECK_EQ(r.edges[0], 1);
    CHECK_EQ(r.level, 0);
}

TEST(slave_line_needs_the_cascade_unmasked)
{
    setup();
    i8259_write(&pic, 0xA1, 0xFE);      /* IRQ8 unmasked on the slave only */
    CHECK(!irq_line_enabled(&r, 8));
    i8259_write(&pic, 0x21, 0xFB);      /* and the cascade on the master */
    CHECK(irq_line_enabled(&r, 8));
    irq_set(&r, 8, true);
    CHECK_EQ(irq_ack(&r), 0x38);
    irq_set(&r, 8, false);
}

TEST(edge_onto_a_latched_request_is_counted_merged)
{
    setup();
    i8259_write(&pic, 0x21, 0xFE);
    irq_pulse(&r, 0);
    irq_pulse(&r, 0);                   /* the first still in IRR: one request for two edges */
    CHECK_EQ(r.edges[0], 2);
    CHECK_EQ(r.merged[0], 1);
    CHECK_EQ(irq_ack(&r), 0x30);
    i8259_write(&pic, 0x20, 0x20);      /* EOI */
    CHECK(!irq_pending(&r));
}

TEST(level_held_is_not_a_new_edge)
{
    setup();
    irq_set(&r, 4, true);
    irq_set(&r, 4, true);
    CHECK_EQ(r.edges[4], 1);
    CHECK_EQ(r.level, 1u << 4);
    irq_set(&r, 4, false);
    CHECK_EQ(r.level, 0);
}

TEST(mask_change_is_reported_unchanged_mask_is_not)
{
    setup();
    int before = changes;
    i8259_write(&pic, 0x21, 0xFE);
    CHECK_EQ(changes, before + 1);
    i8259_write(&pic, 0x21, 0xFE);      /* same mask again */
    CHECK_EQ(changes, before + 1);
    i8259_write(&pic, 0x20, 0x20);      /* an EOI changes no mask */
    CHECK_EQ(changes, before + 1);
    i8259_write(&pic, 0xA0, 0x11);      /* ICW1 clears the slave's IMR */
    CHECK_EQ(changes, before + 2);
}

TEST(out_of_range_lines_are_ignored)
{
    setup();
    irq_set(&r, IRQ_GSI_COUNT, true);
    irq_set(&r, 1000, true);
    irq_pulse(&r, 23);                  /* an IOAPIC-only line: no 8259 input */
    CHECK(!irq_line_enabled(&r, 23));
    CHECK(!irq_line_enabled(&r, 1000));
    CHECK(!irq_pending(&r));
    CHECK_EQ(r.edges[23], 1);
}

/* ---- the router with the APICs: the 8259 through LINT0, the I/O APIC to the LAPIC ---- */

static struct lapic lapic;
static struct ioapic ioapic;
static uint64_t apic_now;

static uint64_t apic_clock(void *ctx) { return apic_now; }
static void apic_eoi(void *ctx, uint8_t vector) { irq_eoi_broadcast(&r, vector); }

static void setup_apics(void)
{
    setup();
    apic_now = 1000;
    lapic_init(&lapic, 0, true, apic_clock, apic_eoi, NULL);
    lapic_virtual_wire(&lapic);
    ioapic_init(&ioapic, 1, NULL, NULL, NULL);
    irq_router_attach_apics(&r, &ioapic, &lapic);
}

static void rte(unsigned pin, uint32_t lo)
{
    ioapic_reg_write(&ioapic, (uint8_t)(IOAPIC_REG_REDTBL + 2 * pin), lo);
    ioapic_reg_write(&ioapic, (uint8_t)(IOAPIC_REG_REDTBL + 2 * pin + 1), 0);
}

/* SDM 11.5.1 / MP spec 3.6.2.2: in virtual-wire mode the 8259's INTR reaches the CPU through
 * LINT0 (ExtINT); masking LINT0 cuts it. */
TEST(pic_through_lint0_extint)
{
    setup_apics();
    i8259_write(&pic, 0x21, 0xFE);
    CHECK(irq_line_enabled(&r, 0));
    irq_pulse(&r, 0);
    CHECK(irq_pending(&r));
    lapic_mmio_write(&lapic, LAPIC_LVT_LINT0, LVT_MASKED | LVT_DELIVERY_EXTINT);
    CHECK(!irq_pending(&r));
    CHECK(!irq_line_enabled(&r, 0));
    lapic_mmio_write(&lapic, LAPIC_LVT_LINT0, LVT_DELIVERY_EXTINT);
    CHECK_EQ(irq_ack(&r), 0x30);
}

/* ISA IRQ0 reaches I/O APIC pin 2 (the MADT override), IRQ n pin n; PCI lines 16-23 are
 * active low on the pin and idle high. */
TEST(ioapic_pins_and_pci_polarity)
{
    setup_apics();
    rte(2, 0x40);
    irq_pulse(&r, 0);
    CHECK_EQ(irq_ack(&r), 0x40);
    rte(16, 0x50 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_POLARITY);
    CHECK(!ioapic_pin_asserted(&ioapic, 16));           /* idle: high on the pin */
    CHECK(!irq_pending(&r));
    irq_set(&r, 16, true);
    CHECK_EQ(irq_ack(&r), 0x50);
    irq_set(&r, 16, false);
    lapic_mmio_write(&lapic, LAPIC_EOI, 0);     /* level: broadcast clears remote IRR */
    CHECK(!(ioapic.redir[16] & IOAPIC_RTE_REMOTE_IRR));
    CHECK(!irq_pending(&r));
}

/* Garbage in both APICs' registers, lines toggling, acks and EOIs, the clock running: every
 * call returns (a loop between an EOI broadcast and a redelivery would hang here), and what
 * the router says is pending is what the LAPIC or the 8259 can give. */
TEST(apics_fuzzed_together)
{
    setup_apics();
    uint32_t x = 0x2545F491;
    for (unsigned step = 0; step < 400000; step++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        uint32_t v = x * 2654435761u;
        switch (x % 8) {
        case 0: lapic_mmio_write(&lapic, (x >> 4) % 0x40 * 16, v); break;
        case 1: (void)lapic_mmio_read(&lapic, (x >> 4) % 0x40 * 16); break;
        case 2: ioapic_reg_write(&ioapic, (uint8_t)(x >> 4), v); break;
        case 3: irq_set(&r, (x >> 4) % IRQ_GSI_COUNT, v & 1); break;
        case 4: if (irq_pending(&r)) (void)irq_ack(&r); break;
        case 5: lapic_mmio_write(&lapic, LAPIC_EOI, 0); break;
        case 6: apic_now += v % 100000; lapic_timer_catch_up(&lapic); break;
        case 7: i8259_write(&pic, (x >> 4) & 1 ? 0x21 : 0x20, (uint8_t)v); break;
        }
    }
    CHECK(true);
}
