/* 8259A pair: the programming sequences of the datasheet and of Linux's i8259 driver
 * (arch/x86/kernel/i8259.c: init_8259A, mask_and_ack_8259A), and garbage. */
#include "test.h"
#include "dev/i8259.h"

static struct i8259 pic;

static void out(uint16_t port, uint8_t v) { i8259_write(&pic, port, v); }
static uint8_t in(uint16_t port) { return i8259_read(&pic, port); }

/* init_8259A(0) with the x86-64 vector layout: IRQ0 at 0x30, IRQ8 at 0x38. */
static void linux_init(bool auto_eoi)
{
    i8259_init(&pic, NULL, NULL, NULL);
    out(0x21, 0xFF);
    out(0xA1, 0xFF);
    out(0x20, 0x11);                    /* ICW1: edge, cascade, ICW4 */
    out(0x21, 0x30);                    /* ICW2 */
    out(0x21, 1 << 2);                  /* ICW3: slave on IR2 */
    out(0x21, auto_eoi ? 0x03 : 0x01);  /* ICW4: 8086, (auto) EOI */
    out(0xA0, 0x11);
    out(0xA1, 0x38);
    out(0xA1, 2);                       /* slave id 2 */
    out(0xA1, 0x01);
    out(0x21, 0xFB);                    /* everything masked but the cascade */
    out(0xA1, 0xFF);
}

static uint8_t read_isr(uint16_t cmd) { out(cmd, 0x0B); uint8_t v = in(cmd); out(cmd, 0x0A); return v; }
static uint8_t read_irr(uint16_t cmd) { out(cmd, 0x0A); return in(cmd); }

/* mask_and_ack_8259A as Linux does it, then the unmask after the handler. */
static void linux_mask_ack_unmask(unsigned irq)
{
    uint8_t mm = in(0x21), sm = in(0xA1);
    if (irq & 8) {
        out(0xA1, sm | (uint8_t)(1 << (irq & 7)));
        out(0xA0, 0x60 + (irq & 7));
        out(0x20, 0x60 + 2);
        out(0xA1, sm);
    } else {
        out(0x21, mm | (uint8_t)(1 << irq));
        out(0x20, 0x60 + irq);
        out(0x21, mm);
    }
}

TEST(linux_init_and_timer_tick)
{
    linux_init(false);
    CHECK_EQ(in(0x21), 0xFB);
    CHECK_EQ(in(0xA1), 0xFF);
    i8259_pulse_irq(&pic, 0);
    CHECK(!i8259_intr(&pic));           /* masked */
    CHECK_EQ(read_irr(0x20), 0x01);     /* but requested */
    out(0x21, 0xFA);                    /* unmask IRQ0 */
    CHECK(i8259_intr(&pic));
    CHECK_EQ(i8259_ack(&pic), 0x30);
    CHECK(!i8259_intr(&pic));
    CHECK_EQ(read_isr(0x20), 0x01);
    CHECK_EQ(read_irr(0x20), 0x00);
    i8259_pulse_irq(&pic, 0);           /* the next tick waits for the EOI */
    CHECK(!i8259_intr(&pic));
    linux_mask_ack_unmask(0);
    CHECK_EQ(read_isr(0x20), 0);
    CHECK(i8259_intr(&pic));
    CHECK_EQ(i8259_ack(&pic), 0x30);
    CHECK_EQ(pic.acks[0], 2);
    CHECK_EQ(pic.spurious, 0);
}

TEST(fully_nested_priority)
{
    linux_init(false);
    out(0x21, 0x00);
    i8259_pulse_irq(&pic, 3);
    i8259_pulse_irq(&pic, 1);
    CHECK_EQ(i8259_ack(&pic), 0x31);    /* IR1 before IR3 */
    CHECK(!i8259_intr(&pic));           /* IR3 is lower than the IR1 in service */
    i8259_pulse_irq(&pic, 0);
    CHECK(i8259_intr(&pic));            /* IR0 nests */
    CHECK_EQ(i8259_ack(&pic), 0x30);
    CHECK_EQ(read_isr(0x20), 0x03);
    out(0x20, 0x20);                    /* non-specific EOI: the highest, IR0 */
    CHECK_EQ(read_isr(0x20), 0x02);
    CHECK(!i8259_intr(&pic));
    out(0x20, 0x20);
    CHECK(i8259_intr(&pic));
    CHECK_EQ(i8259_ack(&pic), 0x33);
}

TEST(mask_holds_request_until_unmasked)
{
    linux_init(false);
    out(0x21, 0xFF & ~(1 << 2));
    i8259_pulse_irq(&pic, 4);
    i8259_pulse_irq(&pic, 4);           /* a second edge while pending is one request */
    CHECK(!i8259_intr(&pic));
    out(0x21, 0xEB);
    CHECK_EQ(i8259_ack(&pic), 0x34);
    out(0x20, 0x64);
    CHECK(!i8259_intr(&pic));
}

TEST(slave_cascade_and_eoi_order)
{
    linux_init(false);
    out(0xA1, 0x00);
    i8259_pulse_irq(&pic, 12);
    CHECK(i8259_intr(&pic));
    CHECK_EQ(read_irr(0x20), 0x04);     /* the slave's INT on master IR2 */
    CHECK_EQ(i8259_ack(&pic), 0x3C);
    CHECK_EQ(read_isr(0x20), 0x04);
    CHECK_EQ(read_isr(0xA0), 0x10);
    i8259_pulse_irq(&pic, 9);           /* higher on the slave, but master IR2 is in service */
    CHECK(!i8259_intr(&pic));
    linux_mask_ack_unmask(12);
    CHECK(i8259_intr(&pic));
    CHECK_EQ(i8259_ack(&pic), 0x39);
    CHECK_EQ(pic.acks[12], 1);
    CHECK_EQ(pic.acks[9], 1);
}

TEST(special_fully_nested_lets_higher_slave_irq_nest)
{
    linux_init(false);
    out(0x20, 0x11); out(0x21, 0x30); out(0x21, 0x04); out(0x21, 0x11);   /* ICW4 SFNM */
    out(0x21, 0xFB);
    out(0xA1, 0x00);
    i8259_pulse_irq(&pic, 12);
    CHECK_EQ(i8259_ack(&pic), 0x3C);
    i8259_pulse_irq(&pic, 9);
    CHECK(i8259_intr(&pic));            /* the slave resolved it as higher than IR12 */
    CHECK_EQ(i8259_ack(&pic), 0x39);
}

TEST(spurious_irq7_and_irq15)
{
    linux_init(false);
    uint8_t isr = read_isr(0x20);
    CHECK_EQ(i8259_ack(&pic), 0x37);    /* INTA with nothing requested */
    CHECK_EQ(pic.spurious, 1);
    CHECK_EQ(read_isr(0x20), isr);      /* a spurious IRQ7 sets no ISR bit */
    /* A level request that goes away between INTR and INTA: the slave answers IRQ15. */
    out(0x4D1, 1 << 2);                 /* IRQ10 level triggered */
    out(0xA1, 0x00);
    i8259_set_irq(&pic, 10, true);
    CHECK(i8259_intr(&pic));
    i8259_set_irq(&pic, 10, false);
    CHECK_EQ(read_irr(0xA0), 0x00);
    CHECK_EQ(i8259_ack(&pic), 0x3F);
    CHECK_EQ(pic.spurious, 2);
    CHECK_EQ(read_isr(0xA0), 0x00);
    CHECK_EQ(read_isr(0x20), 0x04);     /* the master did accept IR2: the driver EOIs it */
}

TEST(level_triggered_redelivers_until_device_lowers)
{
    linux_init(false);
    out(0x4D1, 0x08);                   /* IRQ11 level */
    CHECK_EQ(in(0x4D1), 0x08);
    out(0xA1, 0x00);
    i8259_set_irq(&pic, 11, true);
    CHECK_EQ(i8259_ack(&pic), 0x3B);
    CHECK_EQ(read_irr(0xA0), 0x08);     /* still asserted */
    out(0xA0, 0x20); out(0x20, 0x20);
    CHECK(i8259_intr(&pic));            /* the handler did not clear the device */
    CHECK_EQ(i8259_ack(&pic), 0x3B);
    i8259_set_irq(&pic, 11, false);
    out(0xA0, 0x20); out(0x20, 0x20);
    CHECK(!i8259_intr(&pic));
}

TEST(line_enabled_follows_both_masks)
{
    linux_init(false);
    CHECK(!i8259_line_enabled(&pic, 0));
    out(0x21, 0xFA);
    CHECK(i8259_line_enabled(&pic, 0));
    out(0xA1, 0xFE);
    CHECK(i8259_line_enabled(&pic, 8));
    out(0x21, 0xFE);                    /* the cascade masked: the slave cannot interrupt */
    CHECK(!i8259_line_enabled(&pic, 8));
    CHECK(!i8259_line_enabled(&pic, 16));
}

TEST(elcr_fixed_edge_bits)
{
    i8259_init(&pic, NULL, NULL, NULL);
    out(0x4D0, 0xFF);
    out(0x4D1, 0xFF);
    CHECK_EQ(in(0x4D0), 0xF8);          /* IRQ0-2 are always edge */
    CHECK_EQ(in(0x4D1), 0xDE);          /* IRQ8 and IRQ13 too */
}

TEST(auto_eoi_and_rotation_in_aeoi)
{
    linux_init(true);
    out(0x21, 0x00);
    i8259_pulse_irq(&pic, 0);
    CHECK_EQ(i8259_ack(&pic), 0x30);
    CHECK_EQ(read_isr(0x20), 0x00);     /* AEOI: nothing in service */
    i8259_pulse_irq(&pic, 0);
    CHECK(i8259_intr(&pic));
    out(0x20, 0x80);                    /* rotate in AEOI mode */
    i8259_pulse_irq(&pic, 5);
    CHECK_EQ(i8259_ack(&pic), 0x30);    /* IR0 still first (priority unchanged before) */
    CHECK_EQ(i8259_ack(&pic), 0x35);    /* ... and now lowest: IR5 then wins */
    i8259_pulse_irq(&pic, 0);
    i8259_pulse_irq(&pic, 3);
    CHECK_EQ(i8259_ack(&pic), 0x30);    /* after IR5 rotation: 6,7,0,1,2,3,4,5 */
    CHECK_EQ(i8259_ack(&pic), 0x33);
}

TEST(rotate_on_eoi_and_set_priority)
{
    linux_init(false);
    out(0x21, 0x00);
    i8259_pulse_irq(&pic, 0);
    CHECK_EQ(i8259_ack(&pic), 0x30);
    out(0x20, 0xA0);                    /* rotate on non-specific EOI: IR0 becomes lowest */
    CHECK_EQ(read_isr(0x20), 0);
    i8259_pulse_irq(&pic, 0);
    i8259_pulse_irq(&pic, 6);
    CHECK_EQ(i8259_ack(&pic), 0x36);
    out(0x20, 0xE6);                    /* rotate on specific EOI 6: IR7 highest */
    i8259_pulse_irq(&pic, 7);
    CHECK_EQ(i8259_ack(&pic), 0x37);
    out(0x20, 0x67);
    out(0x20, 0xC3);                    /* set priority: IR3 lowest, IR4 highest */
    i8259_pulse_irq(&pic, 4);
    i8259_pulse_irq(&pic, 1);
    CHECK_EQ(i8259_ack(&pic), 0x34);
    out(0x20, 0x64);
    CHECK_EQ(i8259_ack(&pic), 0x30);    /* IR0 (pending since above) before IR1 in 4..3 order */
}

TEST(poll_mode)
{
    linux_init(false);
    out(0x21, 0x00);
    out(0x20, 0x0C);                    /* poll with nothing pending */
    CHECK_EQ(in(0x20), 0x00);
    i8259_pulse_irq(&pic, 6);
    i8259_pulse_irq(&pic, 3);
    out(0x20, 0x0C);
    CHECK_EQ(in(0x20), 0x83);           /* acknowledges like INTA */
    CHECK_EQ(read_isr(0x20), 0x08);
    CHECK_EQ(in(0x21), 0x00);           /* the poll is consumed: data port reads IMR again */
    out(0x20, 0x63);
    out(0x20, 0x0C);
    CHECK_EQ(in(0x21), 0x86);           /* a poll reads on either port */
}

TEST(special_mask_mode)
{
    linux_init(false);
    out(0x21, 0x00);
    i8259_pulse_irq(&pic, 3);
    CHECK_EQ(i8259_ack(&pic), 0x33);
    i8259_pulse_irq(&pic, 5);
    CHECK(!i8259_intr(&pic));           /* IR5 below the IR3 in service */
    out(0x21, 0x08);                    /* mask IR3 and enter special mask mode */
    out(0x20, 0x68);
    CHECK(i8259_intr(&pic));
    CHECK_EQ(i8259_ack(&pic), 0x35);
    out(0x20, 0x48);                    /* leave special mask mode */
    out(0x20, 0x65);
    i8259_pulse_irq(&pic, 6);
    CHECK(!i8259_intr(&pic));
}

TEST(icw1_resets_edge_sense_and_masks)
{
    linux_init(false);
    out(0x21, 0x00);
    i8259_set_irq(&pic, 4, true);
    CHECK_EQ(i8259_ack(&pic), 0x34);
    out(0x20, 0x11); out(0x21, 0x20); out(0x21, 0x04); out(0x21, 0x01);
    CHECK_EQ(in(0x21), 0x00);           /* ICW1 clears IMR */
    CHECK_EQ(read_isr(0x20), 0x00);
    CHECK(!i8259_intr(&pic));           /* the line is still high: no new edge */
    i8259_set_irq(&pic, 4, false);
    i8259_set_irq(&pic, 4, true);
    CHECK_EQ(i8259_ack(&pic), 0x24);    /* the new vector base */
}

TEST(word_access_splits_into_bytes)
{
    static struct ioport_table io;
    ioport_init(&io);
    linux_init(false);
    CHECK(i8259_attach(&io, &pic));
    ioport_out(&io, 0x20, 1, 0x0B);     /* OCW3: read ISR */
    i8259_pulse_irq(&pic, 1);
    out(0x21, 0x00);
    CHECK_EQ(i8259_ack(&pic), 0x31);
    CHECK_EQ(ioport_in(&io, 0x20, 2), 0x0002);      /* ISR, then IMR */
    CHECK_EQ(ioport_in(&io, 0x4D0, 2), 0x0000);
    CHECK_STR(ioport_owner_name(&io, 0xA1), "pic");
}

TEST(garbage_never_breaks_invariants)
{
    static const uint16_t ports[] = { 0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1 };
    uint32_t x = 12345;
    i8259_init(&pic, NULL, NULL, NULL);
    for (int i = 0; i < 300000; i++) {
        x = x * 1103515245u + 12345u;
        unsigned r = x >> 16;
        switch (r % 5) {
        case 0: out(ports[r % 6], (uint8_t)(x >> 8)); break;
        case 1: (void)in(ports[r % 6]); break;
        case 2: i8259_set_irq(&pic, (x >> 4) % 20, x & 1); break;
        case 3: i8259_pulse_irq(&pic, (x >> 4) % 16); break;
        default:
            if (i8259_intr(&pic)) {
                uint8_t v = i8259_ack(&pic);
                bool master = v >= pic.chip[0].vector_base && v < pic.chip[0].vector_base + 8;
                bool slave = v >= pic.chip[1].vector_base && v < pic.chip[1].vector_base + 8;
                CHECK(master || slave);
            }
            break;
        }
        CHECK((pic.chip[0].elcr & 0x07) == 0 && (pic.chip[1].elcr & 0x21) == 0);
    }
}
