/* Intel 8254 programmable interval timer, and the PC's port 0x61 through which channel 2's gate
 * is driven and its output read (the speaker timer, which Linux uses to calibrate the TSC).
 * Pure model: time is the count of 1.193182 MHz input clocks, read through a callback, so the
 * counters follow the guest's clock (its TSC), not the number of exits. */
#ifndef MV_I8254_H
#define MV_I8254_H
#include "compiler.h"
#include "dev/ioport.h"
#include "dev/devclock.h"

#define PIT_HZ              1193182u
#define I8254_PORT_CH0      0x40
#define I8254_PORT_CMD      0x43
#define PORT_SYSCTL_B       0x61    /* NMI status and control: gate 2, speaker, OUT2, refresh */
#define I8254_CHANNELS      3
#define SYSCTL_GATE2        BIT(0)  /* port 0x61: channel 2 gate */
#define SYSCTL_SPEAKER      BIT(1)  /* port 0x61: speaker data enable */
#define SYSCTL_OUT2         BIT(5)  /* port 0x61: channel 2 output (read-only) */

struct i8254_channel {
    uint8_t mode, rw;           /* 0-5; 1 = LSB, 2 = MSB, 3 = LSB then MSB */
    bool bcd, gate;
    uint32_t count_reg;         /* the count last written (1..65536, or 1..10000 in BCD) */
    uint32_t count;             /* the count the counting element runs with */
    bool counting;              /* a count is loaded (modes 0,2,3,4) or triggered (1,5) */
    uint64_t load;              /* the clock at which 'count' was loaded into the element */
    uint32_t old_count;         /* modes 2/3: a new count waits for the period to end... */
    uint64_t old_load;          /* ...so before 'load' the old one still runs */
    bool frozen;                /* gate low stops counting */
    uint64_t frozen_d;
    uint64_t null_until;        /* status NULL COUNT until this clock */
    bool write_msb, read_msb;   /* the LSB/MSB flip-flops */
    uint8_t write_lsb;
    bool count_latched, latch_msb, status_latched;
    uint16_t latch;
    uint8_t status;
};

struct i8254 {
    struct i8254_channel ch[I8254_CHANNELS];
    uint8_t sysctl;             /* port 0x61 bits 3:0 as written */
    struct dev_clock clock;     /* PIT input clocks */
    void (*out0_edge)(void *ctx);   /* OUT0 rose: IRQ0 (an edge on an edge-triggered line) */
    void *ctx;
    uint64_t out0_checked;      /* the clock up to which OUT0's edges were raised */
    uint64_t out0_edges, out0_late; /* raised; of which stood for more than one edge */
};

/* clock and out0_edge share ctx. */
void i8254_init(struct i8254 *pit, uint64_t (*clock)(void *ctx), void (*out0_edge)(void *ctx), void *ctx);
/* Raises IRQ0 if OUT0 rose since the last call. Edges that passed unseen (the VM was not
 * running) make one edge, as an edge-triggered input latches one request. */
void i8254_catch_up(struct i8254 *pit);
/* The clock of OUT0's next rising edge after the last catch-up, UINT64_MAX if none. */
uint64_t i8254_next_irq(const struct i8254 *pit);
uint8_t i8254_read(struct i8254 *pit, uint16_t port);
void i8254_write(struct i8254 *pit, uint16_t port, uint8_t val);
/* Output level of a channel at clock 'now'. */
bool i8254_out(const struct i8254 *pit, unsigned ch, uint64_t now);
/* The first clock > after at which the channel's OUT rises, or UINT64_MAX if it will not
 * (without reprogramming). Drives IRQ0 and lets the VMM arm a timer for it. */
uint64_t i8254_next_rising_edge(const struct i8254 *pit, unsigned ch, uint64_t after);
/* The counting element of a channel at 'now', as a read of the counter would return it. */
uint16_t i8254_counter(const struct i8254 *pit, unsigned ch, uint64_t now);
bool i8254_attach(struct ioport_table *io, struct i8254 *pit);
#endif
