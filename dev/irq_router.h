/* The one way a device interrupts: it drives a global system interrupt (GSI) line to a level,
 * and the router delivers the line to the interrupt controllers as the guest configured them.
 * Today that is the 8259 pair (GSI n = ISA IRQ n for 0-15); the IOAPIC and the LAPIC's
 * virtual-wire LINT0 join here, so no device knows which controller the guest uses. The vCPU
 * asks the router what is pending and acknowledges through it. Pure C. */
#ifndef MV_IRQ_ROUTER_H
#define MV_IRQ_ROUTER_H
#include "compiler.h"
#include "dev/i8259.h"

#define IRQ_GSI_COUNT   24          /* the pins of one IOAPIC; 0-15 are the ISA IRQs */

struct irq_router {
    uint32_t level;                 /* each line's level as its device drives it */
    struct i8259 *pic;
    /* Called when a line may have become able (or unable) to interrupt the CPU, i.e. an
     * interrupt controller's masks changed: cached timer deadlines must be looked at again. */
    void (*routing_changed)(void *ctx);
    /* Called before an interrupt controller's registers are read or written: bring the lines
     * that clocked devices drive up to now. */
    void (*sync_lines)(void *ctx);
    void *ctx;
    uint64_t edges[IRQ_GSI_COUNT];          /* rising edges per line */
    uint64_t merged[IRQ_GSI_COUNT];         /* of which found the last request still latched */
};

void irq_router_init(struct irq_router *r, struct i8259 *pic, void (*routing_changed)(void *),
                     void (*sync_lines)(void *), void *ctx);
/* Drives a line; an out-of-range GSI is ignored. */
void irq_set(struct irq_router *r, unsigned gsi, bool level);
/* One edge (raise, then lower): a timer tick. */
void irq_pulse(struct irq_router *r, unsigned gsi);
/* False if the guest's configuration keeps this line from ever interrupting the CPU (masked
 * everywhere): a timer on it need not wake or preempt a vCPU. */
bool irq_line_enabled(const struct irq_router *r, unsigned gsi);
/* An interrupt is waiting for the CPU (to be taken when it can). */
bool irq_pending(const struct irq_router *r);
/* The CPU takes it: the interrupt acknowledge cycle; returns the vector. */
uint8_t irq_ack(struct irq_router *r);
/* For interrupt controllers: their masks changed (see routing_changed); they are about to be
 * accessed (see sync_lines). */
void irq_routing_changed(void *router);
void irq_sync_lines(void *router);
#endif
