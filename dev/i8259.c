/* 8259A PIC pair, from the Intel 8259A datasheet (order no. 231468) and the PIIX3 ELCR
 * registers. Choices where the datasheet leaves timing to the hardware:
 *  - an edge request stays latched in IRR until acknowledged (the line's high time is not
 *    modelled, so a pulse is never lost);
 *  - the slave's INT output drives master IR2 as a line, so a new slave request after an EOI
 *    makes a fresh edge;
 *  - 8080/85 mode (ICW4 bit 0 = 0) and buffered mode are accepted and ignored: the vector is
 *    always delivered the 8086 way. */
#include "i8259.h"

#define ICW4_AEOI           BIT(1)
#define ICW4_SFNM           BIT(4)
#define OCW_SELECT_MASK     0x18    /* bits 4:3 of a command-port write */
#define OCW_SELECT_OCW2     0x00
#define OCW_SELECT_OCW3     0x08
#define OCW2_LEVEL_MASK     0x07
#define OCW2_CMD_MASK       0xE0
#define OCW2_ROT_AEOI_CLEAR 0x00
#define OCW2_NONSPEC_EOI    0x20
#define OCW2_NOP            0x40
#define OCW2_SPEC_EOI       0x60
#define OCW2_ROT_AEOI_SET   0x80
#define OCW2_ROT_NONSPEC    0xA0
#define OCW2_SET_PRIORITY   0xC0
#define OCW2_ROT_SPEC       0xE0
#define OCW3_READ_MASK      0x03
#define OCW3_READ_IRR       0x02
#define OCW3_READ_ISR       0x03
#define OCW3_POLL           BIT(2)
#define OCW3_SMM_MASK       0x60
#define OCW3_SMM_RESET      0x40
#define OCW3_SMM_SET        0x60
#define POLL_INTERRUPT      0x80
#define SPURIOUS_IRQ        7
#define NO_IRQ              8
/* PIIX3: IRQ0, 1, 2 (master) and 8, 13 (slave) are always edge triggered. */
#define ELCR_MASTER_MASK    0xF8
#define ELCR_SLAVE_MASK     0xDE
#define BIOS_MASTER_BASE    0x08
#define BIOS_SLAVE_BASE     0x70
#define MASTER              0
#define SLAVE               1

/* Priority level (0 = highest) of the most urgent bit in mask, NO_IRQ if none. */
static unsigned highest_level(const struct i8259_chip *c, uint8_t mask)
{
    for (unsigned level = 0; level < 8; level++)
        if (mask & (1u << ((level + c->priority_add) & 7)))
            return level;
    return NO_IRQ;
}

static unsigned level_to_irq(const struct i8259_chip *c, unsigned level)
{
    return (level + c->priority_add) & 7;
}

/* The IR input this chip would interrupt for now, or NO_IRQ. An in-service level blocks equal
 * and lower levels, except masked ones in special mask mode, and except the slave's own line
 * on a master in special fully nested mode (a higher slave request may nest). */
static unsigned chip_request(const struct i8259_chip *c, bool master)
{
    if (!(c->irr & ~c->imr))
        return NO_IRQ;                  /* the common case, checked before every VM entry */
    unsigned req = highest_level(c, c->irr & ~c->imr);
    if (req == NO_IRQ)
        return NO_IRQ;
    uint8_t in_service = c->isr;
    if (c->special_mask)
        in_service &= ~c->imr;
    unsigned svc = highest_level(c, in_service);
    unsigned irq = level_to_irq(c, req);
    if (req < svc || (master && c->sfnm && req == svc && (c->icw3 & (1u << irq))))
        return irq;
    return NO_IRQ;
}

static void chip_set_line(struct i8259_chip *c, unsigned line, bool level)
{
    uint8_t bit = (uint8_t)(1u << line);
    bool was = c->lines & bit;
    if (level)
        c->lines |= bit;
    else
        c->lines &= ~bit;
    if (c->elcr & bit) {                /* level: the request is the line */
        if (level)
            c->irr |= bit;
        else
            c->irr &= ~bit;
    } else if (level && !was) {
        c->irr |= bit;
    }
}

static bool slave_attached(const struct i8259 *p)
{
    const struct i8259_chip *m = &p->chip[MASTER];
    return !m->single && (m->icw3 & (1u << I8259_CASCADE_IRQ));
}

static void update_cascade(struct i8259 *p)
{
    chip_set_line(&p->chip[MASTER], I8259_CASCADE_IRQ, chip_request(&p->chip[SLAVE], false) != NO_IRQ);
}

/* The chip's half of an INTA (or poll) cycle for an IR input it chose. */
static void chip_accept(struct i8259_chip *c, unsigned irq)
{
    uint8_t bit = (uint8_t)(1u << irq);
    if (!(c->elcr & bit))
        c->irr &= ~bit;
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi)
            c->priority_add = (irq + 1) & 7;
    } else {
        c->isr |= bit;
    }
}

static void chip_reset(struct i8259_chip *c, uint8_t elcr_mask)
{
    *c = (struct i8259_chip){ .elcr_mask = elcr_mask, .imr = 0xFF };
}

void i8259_init(struct i8259 *p, void (*masks_changed)(void *), void (*sync_inputs)(void *), void *ctx)
{
    *p = (struct i8259){ .masks_changed = masks_changed, .sync_inputs = sync_inputs, .ctx = ctx };
    chip_reset(&p->chip[MASTER], ELCR_MASTER_MASK);
    chip_reset(&p->chip[SLAVE], ELCR_SLAVE_MASK);
    p->chip[MASTER].vector_base = BIOS_MASTER_BASE;
    p->chip[MASTER].icw3 = 1u << I8259_CASCADE_IRQ;
    p->chip[MASTER].imr = (uint8_t)~(1u << I8259_CASCADE_IRQ);
    p->chip[SLAVE].vector_base = BIOS_SLAVE_BASE;
    p->chip[SLAVE].icw3 = I8259_CASCADE_IRQ;
}

void i8259_set_irq(struct i8259 *p, unsigned irq, bool level)
{
    if (irq >= I8259_IRQS || irq == I8259_CASCADE_IRQ)
        return;                         /* IR2 of the master is wired to the slave */
    chip_set_line(&p->chip[irq >> 3], irq & 7, level);
    update_cascade(p);
}

void i8259_pulse_irq(struct i8259 *p, unsigned irq)
{
    i8259_set_irq(p, irq, true);
    i8259_set_irq(p, irq, false);
}

bool i8259_intr(const struct i8259 *p)
{
    return chip_request(&p->chip[MASTER], true) != NO_IRQ;
}

bool i8259_line_enabled(const struct i8259 *p, unsigned irq)
{
    const struct i8259_chip *m = &p->chip[MASTER];
    if (irq >= I8259_IRQS)
        return false;
    if (irq < 8)
        return !(m->imr & (1u << irq));
    return !(m->imr & (1u << I8259_CASCADE_IRQ)) && !(p->chip[SLAVE].imr & (1u << (irq & 7)));
}

uint8_t i8259_ack(struct i8259 *p)
{
    struct i8259_chip *m = &p->chip[MASTER], *s = &p->chip[SLAVE];
    unsigned irq = chip_request(m, true);
    uint8_t vector;
    if (irq == NO_IRQ) {
        p->spurious++;
        return m->vector_base + SPURIOUS_IRQ;
    }
    chip_accept(m, irq);
    if (irq == I8259_CASCADE_IRQ && slave_attached(p)) {
        unsigned sirq = chip_request(s, false);
        if (sirq == NO_IRQ) {
            p->spurious++;
            vector = s->vector_base + SPURIOUS_IRQ;
        } else {
            chip_accept(s, sirq);
            p->acks[8 + sirq]++;
            vector = (uint8_t)(s->vector_base + sirq);
        }
    } else {
        p->acks[irq]++;
        vector = (uint8_t)(m->vector_base + irq);
    }
    update_cascade(p);
    return vector;
}

/* A read after the poll command acknowledges like INTA and returns the request level. */
static uint8_t chip_poll(struct i8259_chip *c, bool master)
{
    c->poll = false;
    unsigned irq = chip_request(c, master);
    if (irq == NO_IRQ)
        return 0;
    chip_accept(c, irq);
    return (uint8_t)(POLL_INTERRUPT | irq);
}

static void write_ocw2(struct i8259_chip *c, uint8_t val)
{
    unsigned irq = val & OCW2_LEVEL_MASK;
    unsigned svc = highest_level(c, c->isr);
    switch (val & OCW2_CMD_MASK) {
    case OCW2_ROT_AEOI_CLEAR: c->rotate_on_aeoi = false; break;
    case OCW2_ROT_AEOI_SET: c->rotate_on_aeoi = true; break;
    case OCW2_NONSPEC_EOI:
    case OCW2_ROT_NONSPEC:
        if (svc == NO_IRQ)
            break;
        irq = level_to_irq(c, svc);
        c->isr &= ~(1u << irq);
        if ((val & OCW2_CMD_MASK) == OCW2_ROT_NONSPEC)
            c->priority_add = (irq + 1) & 7;
        break;
    case OCW2_SPEC_EOI: c->isr &= ~(1u << irq); break;
    case OCW2_ROT_SPEC:
        c->isr &= ~(1u << irq);
        c->priority_add = (irq + 1) & 7;
        break;
    case OCW2_SET_PRIORITY: c->priority_add = (irq + 1) & 7; break;
    case OCW2_NOP: break;
    }
}

static void write_ocw3(struct i8259_chip *c, uint8_t val)
{
    if (val & OCW3_POLL)
        c->poll = true;
    if ((val & OCW3_READ_MASK) == OCW3_READ_IRR)
        c->read_isr = false;
    else if ((val & OCW3_READ_MASK) == OCW3_READ_ISR)
        c->read_isr = true;
    if ((val & OCW3_SMM_MASK) == OCW3_SMM_SET)
        c->special_mask = true;
    else if ((val & OCW3_SMM_MASK) == OCW3_SMM_RESET)
        c->special_mask = false;
}

static void write_icw1(struct i8259_chip *c, uint8_t val)
{
    /* Everything ICW4 sets is zero unless ICW4 comes; the edge-sense latches reset, so an
     * edge input that is high must go low and high again to request. */
    struct i8259_chip old = *c;
    chip_reset(c, old.elcr_mask);
    c->elcr = old.elcr;
    c->lines = old.lines;
    c->irr = old.lines & old.elcr;
    c->vector_base = old.vector_base;
    c->icw3 = old.icw3;
    c->imr = 0;
    c->icw4_needed = val & ICW1_IC4;
    c->single = val & ICW1_SNGL;
    c->init_step = 2;
}

static void write_data(struct i8259_chip *c, uint8_t val)
{
    switch (c->init_step) {
    case 2:
        c->vector_base = val & 0xF8;
        c->init_step = !c->single ? 3 : c->icw4_needed ? 4 : 0;
        break;
    case 3:
        c->icw3 = val;
        c->init_step = c->icw4_needed ? 4 : 0;
        break;
    case 4:
        c->auto_eoi = val & ICW4_AEOI;
        c->sfnm = val & ICW4_SFNM;
        c->init_step = 0;
        break;
    default:
        c->imr = val;                   /* OCW1 */
        break;
    }
}

static bool is_slave_port(uint16_t port) { return port == I8259_SLAVE_CMD || port == I8259_SLAVE_DATA; }
static bool is_cmd_port(uint16_t port) { return port == I8259_MASTER_CMD || port == I8259_SLAVE_CMD; }

uint8_t i8259_read(struct i8259 *p, uint16_t port)
{
    if (p->sync_inputs)
        p->sync_inputs(p->ctx);
    if (port == I8259_ELCR_MASTER || port == I8259_ELCR_SLAVE)
        return p->chip[port - I8259_ELCR_MASTER].elcr;
    unsigned idx = is_slave_port(port) ? SLAVE : MASTER;
    struct i8259_chip *c = &p->chip[idx];
    uint8_t val;
    if (c->poll) {
        val = chip_poll(c, idx == MASTER);
        update_cascade(p);
    } else if (is_cmd_port(port)) {
        val = c->read_isr ? c->isr : c->irr;
    } else {
        val = c->imr;
    }
    return val;
}

void i8259_write(struct i8259 *p, uint16_t port, uint8_t val)
{
    if (p->sync_inputs)
        p->sync_inputs(p->ctx);
    if (port == I8259_ELCR_MASTER || port == I8259_ELCR_SLAVE) {
        struct i8259_chip *c = &p->chip[port - I8259_ELCR_MASTER];
        c->elcr = val & c->elcr_mask;
        c->irr = (uint8_t)((c->irr & ~c->elcr) | (c->lines & c->elcr));
    } else {
        struct i8259_chip *c = &p->chip[is_slave_port(port) ? SLAVE : MASTER];
        uint8_t imr = c->imr;
        if (!is_cmd_port(port))
            write_data(c, val);
        else if (val & ICW1_INIT)
            write_icw1(c, val);
        else if ((val & OCW_SELECT_MASK) == OCW_SELECT_OCW2)
            write_ocw2(c, val);
        else if ((val & OCW_SELECT_MASK) == OCW_SELECT_OCW3)
            write_ocw3(c, val);
        if (c->imr != imr && p->masks_changed)
            p->masks_changed(p->ctx);
    }
    update_cascade(p);
}

static uint32_t pic_in(void *dev, uint16_t port, unsigned size) { return i8259_read(dev, port); }
static void pic_out(void *dev, uint16_t port, unsigned size, uint32_t val) { i8259_write(dev, port, (uint8_t)val); }
static const struct ioport_ops pic_ops = { .name = "pic", .in = pic_in, .out = pic_out, .bytewise = true };
static const struct ioport_ops elcr_ops = { .name = "elcr", .in = pic_in, .out = pic_out, .bytewise = true };

bool i8259_attach(struct ioport_table *io, struct i8259 *p)
{
    return ioport_register(io, I8259_MASTER_CMD, 2, &pic_ops, p) &&
           ioport_register(io, I8259_SLAVE_CMD, 2, &pic_ops, p) &&
           ioport_register(io, I8259_ELCR_MASTER, 2, &elcr_ops, p);
}
