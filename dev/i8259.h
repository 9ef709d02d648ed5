/* Intel 8259A programmable interrupt controllers: the PC's cascaded master/slave pair, with the
 * PIIX edge/level control registers (ELCR). Pure model: devices drive its 16 input lines, the
 * vCPU asks whether INTR is asserted and runs the INTA cycle when it injects. */
#ifndef MV_I8259_H
#define MV_I8259_H
#include "compiler.h"
#include "dev/ioport.h"

#define I8259_MASTER_CMD    0x20
#define I8259_MASTER_DATA   0x21
#define I8259_SLAVE_CMD     0xA0
#define I8259_SLAVE_DATA    0xA1
#define I8259_ELCR_MASTER   0x4D0
#define I8259_ELCR_SLAVE    0x4D1
#define I8259_CASCADE_IRQ   2
#define I8259_IRQS          16
#define ICW1_IC4            BIT(0)  /* ICW4 follows */
#define ICW1_SNGL           BIT(1)  /* single chip, no ICW3 */
#define ICW1_INIT           BIT(4)  /* a command-port write with this bit is ICW1 */
#define ICW4_8086           BIT(0)

struct i8259_chip {
    uint8_t irr, isr, imr;
    uint8_t lines;              /* input levels as the devices drive them */
    uint8_t elcr, elcr_mask;    /* 1 = level triggered; mask = bits that may be level */
    uint8_t vector_base;        /* ICW2 & 0xF8 */
    uint8_t icw3;               /* master: slave-present bits; slave: its cascade id */
    uint8_t priority_add;       /* the IRQ with the highest priority (rotation) */
    uint8_t init_step;          /* 0: ready; 2/3/4: expecting that ICW */
    bool icw4_needed, single, auto_eoi, rotate_on_aeoi, sfnm;
    bool read_isr, poll, special_mask;
};

struct i8259 {
    struct i8259_chip chip[2];  /* 0: master (IRQ0-7), 1: slave (IRQ8-15) on master IRQ2 */
    uint64_t spurious;          /* INTA/poll cycles that found no request (IRQ7/15 vectors) */
    uint64_t acks[I8259_IRQS];  /* interrupts acknowledged, per IRQ */
    /* Called after a write changed an IMR: which lines can reach the CPU changed. */
    void (*masks_changed)(void *ctx);
    /* Called before every register access: devices computed from a clock (a PIT edge on a
     * masked line) bring their lines up to now, so IRR reads as on the chip. May be NULL. */
    void (*sync_inputs)(void *ctx);
    void *ctx;
};

/* Power-on state: everything masked off until the guest's ICW sequence, like after a BIOS
 * that left it uninitialised (vector base 0x08/0x70 as the PC BIOS programs it). */
void i8259_init(struct i8259 *p, void (*masks_changed)(void *), void (*sync_inputs)(void *), void *ctx);
/* Drives input line irq (0-15). Edge-triggered inputs latch a request on 0->1. */
void i8259_set_irq(struct i8259 *p, unsigned irq, bool level);
/* Raises and lowers a line: one edge, e.g. a timer tick. */
void i8259_pulse_irq(struct i8259 *p, unsigned irq);
/* True while the master asserts INTR to the CPU. */
bool i8259_intr(const struct i8259 *p);
/* The INTA cycle: returns the vector the CPU receives (spurious IRQ7/15 vector if the request
 * went away) and updates ISR/IRR. */
uint8_t i8259_ack(struct i8259 *p);
/* False if the IMRs block this line from ever interrupting the CPU (a timer on it need not
 * wake or preempt a vCPU: the request is latched when the VMM next looks). */
bool i8259_line_enabled(const struct i8259 *p, unsigned irq);
uint8_t i8259_read(struct i8259 *p, uint16_t port);
void i8259_write(struct i8259 *p, uint16_t port, uint8_t val);
bool i8259_attach(struct ioport_table *io, struct i8259 *p);
#endif
