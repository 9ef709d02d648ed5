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
