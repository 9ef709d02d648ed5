/* The one way a device interrupts: it drives a line to a level, and the router delivers the
 * line to the interrupt controllers as the guest configured them, so no device knows which
 * controller the guest uses. Lines 0-15 are the ISA IRQs: each reaches 8259 input n and I/O
 * APIC pin n, except IRQ0 (the PIT), which is wired to pin 2 as on every PC (the MADT's
 * interrupt source override says so). Lines 16-23 are I/O APIC pins only (the PCI PIRQs),
 * active low on the pin: the router inverts them, so a device still drives 1 to interrupt.
 * The 8259's INTR reaches the CPU through the LAPIC's LINT0 in ExtINT mode (virtual wire),
 * or directly while the LAPIC is globally disabled. The I/O APIC's messages go to the LAPIC,
 * whose EOI for a level interrupt comes back to the I/O APIC. The vCPU asks the router what
 * is pending (the LAPIC first, else the 8259 through ExtINT) and acknowledges through it.
 * Pure C. */
#ifndef MV_IRQ_ROUTER_H
#define MV_IRQ_ROUTER_H
#include "compiler.h"
#include "dev/i8259.h"
#include "dev/ioapic.h"
#include "dev/lapic.h"

#define IRQ_GSI_COUNT   24          /* the pins of one IOAPIC; 0-15 are the ISA IRQs */
#define IRQ_PIT_IOAPIC_PIN 2        /* ISA IRQ0's I/O APIC pin */

struct irq_router {
    uint32_t level;                 /* each line's level as its device drives it */
    struct i8259 *pic;
    struct ioapic *ioapic;          /* NULL: a PC without APICs */
    struct lapic *lapic;            /* the vCPU's */
    /* Called when a line may have become able (or unable) to interrupt the CPU, i.e. an
     * interrupt controller's masks changed: cached timer deadlines must be looked at again. */
    void (*routing_changed)(void *ctx);
    /* Called before an interrupt controller's registers are read or written: bring the lines
     * that clocked devices drive up to now. */
    void (*sync_lines)(void *ctx);
    void *ctx;
    uint64_t edges[IRQ_GSI_COUNT];          /* rising edges per line */
    uint64_t merged[IRQ_GSI_COUNT];         /* of which found the last request still latched */
    uint64_t msgs_delivered;                /* I/O APIC messages a LAPIC accepted */
    uint64_t msgs_unclaimed;                /* ... no LAPIC matched, or a mode not emulated */
};

void irq_router_init(struct irq_router *r, struct i8259 *pic, void (*routing_changed)(void *),
                     void (*sync_lines)(void *), void *ctx);
/* Connects the I/O APIC and the LAPIC (both optional): the I/O APIC's messages and mask
 * changes go through the router. */
void irq_router_attach_apics(struct irq_router *r, struct ioapic *io, struct lapic *l);
/* The LAPIC's EOI of a level-triggered vector, broadcast to the I/O APIC (the LAPIC's
 * eoi_broadcast callback forwards it here). */
void irq_eoi_broadcast(struct irq_router *r, uint8_t vector);
/* The I/O APIC pin an ISA IRQ or GSI reaches. */
unsigned irq_ioapic_pin(unsigned line);
/* Drives a line; an out-of-range GSI is ignored. */
void irq_set(struct irq_router *r, unsigned gsi, bool level);
/* One edge (raise, then lower): a timer tick. */
void irq_pulse(struct irq_router *r, unsigned gsi);
/* False if the guest's configuration keeps this line from ever interrupting the CPU (masked
 * everywhere): a timer on it need not wake or preempt a vCPU. */
bool irq_line_enabled(const struct irq_router *r, unsigned gsi);
/* An interrupt is waiting for the CPU (to be taken when it can). */
bool irq_pending(struct irq_router *r);
/* The CPU takes it: the interrupt acknowledge cycle; returns the vector. */
uint8_t irq_ack(struct irq_router *r);
/* For interrupt controllers: their masks changed (see routing_changed); they are about to be
 * accessed (see sync_lines). */
void irq_routing_changed(void *router);
void irq_sync_lines(void *router);
#endif
