/* The guest's local APIC, one per vCPU (Intel SDM vol. 3A ch. 11, "APIC"; ch. 12 in newer
 * editions): xAPIC MMIO page and x2APIC MSRs, IRR/ISR/TMR with TPR/PPR priority, EOI (with
 * the IOAPIC broadcast for level-triggered vectors), ESR, ICR self-IPIs, LINT0/LINT1, and the
 * timer in one-shot, periodic and TSC-deadline modes. Pure model: time is a count of LAPIC
 * input clocks (LAPIC_TIMER_HZ) read through a dev_clock, the timer's state is computed from
 * it when read, never stepped; interrupts reach the vCPU through lapic_pending/lapic_ack.
 * Single vCPU: IPIs to other destinations go nowhere (counted).
 *
 * Version 0x14 with six LVT entries (timer, thermal, perf, LINT0, LINT1, error; no CMCI) and
 * no EOI-broadcast suppression. */
#ifndef MV_LAPIC_H
#define MV_LAPIC_H
#include "compiler.h"
#include "arch/x86/apic_defs.h"
#include "dev/devclock.h"

/* The timer's input clock: a 100 MHz bus clock; the platform converts its time to it. */
#define LAPIC_TIMER_HZ          100000000u
/* Shortest periodic period a guest may program (KVM's min_timer_period_us = 200). */
#define LAPIC_MIN_PERIOD_US     200u
#define LAPIC_MIN_PERIOD        ((uint64_t)LAPIC_TIMER_HZ / 1000000u * LAPIC_MIN_PERIOD_US)

#define LAPIC_DEFAULT_BASE      0xFEE00000ull
#define LAPIC_PAGE_SIZE         0x1000u
#define LAPIC_MMIO_NONE         UINT64_MAX      /* lapic_mmio_base(): the page is not decoded */

/* Register offsets apic_defs.h does not have (SDM Table 11-1). */
#define LAPIC_APR               0x090
#define LAPIC_PPR               0x0A0
#define LAPIC_RRD               0x0C0
#define LAPIC_LDR               0x0D0
#define LAPIC_DFR               0x0E0
#define LAPIC_ISR               0x100           /* 8 registers, 0x10 apart: vectors 32*i.. */
#define LAPIC_TMR               0x180
#define LAPIC_IRR               0x200
#define LAPIC_LVT_CMCI          0x2F0
#define LAPIC_ICR_LO            0x300
#define LAPIC_ICR_HI            0x310
#define LAPIC_LVT_THERMAL       0x330
#define LAPIC_LVT_PERF          0x340
#define LAPIC_SELF_IPI          0x3F0           /* x2APIC only */
#define LAPIC_REG_STRIDE        0x10
#define LAPIC_BITMAP_REGS       8               /* 256 vectors in 32-bit registers */

#define LAPIC_VERSION_ID        0x14            /* an integrated APIC */
#define LAPIC_VERSION_MAXLVT_SHIFT 16
#define LAPIC_MAX_LVT           5               /* entries - 1 */
#define LAPIC_VERSION_VALUE     (LAPIC_VERSION_ID | LAPIC_MAX_LVT << LAPIC_VERSION_MAXLVT_SHIFT)

#define LAPIC_ID_SHIFT          24              /* xAPIC ID, LDR, ICR destination: bits 31:24 */
#define LAPIC_XAPIC_ID_MASK     0xFF000000u
#define LAPIC_PRIO_CLASS        0xF0            /* a vector's or TPR/PPR's priority class */
#define LAPIC_TPR_MASK          0xFF
#define LAPIC_FIRST_VECTOR      16              /* 0-15 are illegal (SDM 11.5.2) */

#define LAPIC_SVR_VECTOR        0xFF
#define LAPIC_SVR_FOCUS_OFF     BIT(9)          /* focus processor checking disabled */
#define LAPIC_SVR_WRITABLE      0x3FF           /* no bit 12: EOI-broadcast suppression absent */
#define LAPIC_SVR_RESET         0xFF

#define LAPIC_DFR_MODEL_MASK    0xF0000000u
#define LAPIC_DFR_FLAT          0xF0000000u
#define LAPIC_DFR_CLUSTER       0x00000000u
#define LAPIC_DFR_ONES          0x0FFFFFFFu     /* bits 27:0 read as 1 */

#define LAPIC_ESR_SEND_ILLEGAL  BIT(5)
#define LAPIC_ESR_RECV_ILLEGAL  BIT(6)
#define LAPIC_ESR_ILLEGAL_REG   BIT(7)

/* LVT entry fields (SDM Figure 11-8) beyond apic_defs.h. */
#define LVT_VECTOR_MASK         0xFFu
#define LVT_DELIVERY_MASK       (7u << 8)
#define LVT_DELIVERY_FIXED      (0u << 8)
#define LVT_DELIVERY_SMI        (2u << 8)
#define LVT_DELIVERY_INIT       (5u << 8)
#define LVT_DELIVERY_STATUS     BIT(12)         /* read-only, reads 0: delivery is instant */
#define LVT_POLARITY_LOW        BIT(13)
#define LVT_REMOTE_IRR          BIT(14)         /* read-only, not modelled: reads 0 */
#define LVT_LEVEL               BIT(15)
#define LVT_TIMER_MODE_SHIFT    17
#define LVT_TIMER_MODE_MASK     (3u << 17)
#define LVT_TIMER_PERIODIC      (1u << 17)
#define LVT_TIMER_RESERVED_MODE (3u << 17)      /* 11b: the timer is inert */
#define LVT_RESET               LVT_MASKED

/* Interrupt command register (SDM Figure 11-12). */
#define LAPIC_ICR_VECTOR        0xFFu
#define LAPIC_ICR_DM_MASK       (7u << 8)
#define LAPIC_ICR_DM_FIXED      (0u << 8)
#define LAPIC_ICR_DM_LOWEST     (1u << 8)
#define LAPIC_ICR_DM_SMI        (2u << 8)
#define LAPIC_ICR_DM_NMI        (4u << 8)
#define LAPIC_ICR_DM_INIT       (5u << 8)
#define LAPIC_ICR_DM_SIPI       (6u << 8)
#define LAPIC_ICR_LOGICAL       BIT(11)
#define LAPIC_ICR_BUSY          BIT(12)         /* delivery status: always reads 0 (idle) */
#define LAPIC_ICR_ASSERT        BIT(14)
#define LAPIC_ICR_LEVEL         BIT(15)
#define LAPIC_ICR_SH_MASK       (3u << 18)
#define LAPIC_ICR_SH_NONE       (0u << 18)
#define LAPIC_ICR_SH_SELF       (1u << 18)
#define LAPIC_ICR_SH_ALL        (2u << 18)
#define LAPIC_ICR_SH_OTHERS     (3u << 18)
#define LAPIC_ICR_WRITABLE      0x000CCFFFu
#define LAPIC_XAPIC_BROADCAST   0xFFu
#define LAPIC_X2APIC_BROADCAST  0xFFFFFFFFu

#define LAPIC_DCR_MASK          0xBu            /* divide value in bits 0, 1 and 3 */

/* x2APIC (SDM 11.12): MSR 0x800 + offset / 16. */
#define X2APIC_MSR_LAST         0x8FF
#define X2APIC_MSR(off)         (MSR_X2APIC_BASE + (off) / LAPIC_REG_STRIDE)
#define X2APIC_LDR_CLUSTER_SHIFT 16
#define X2APIC_LDR_ID_BITS      4               /* x2APIC ID bits 3:0 pick the bit in the cluster */
#define X2APIC_SELF_IPI_VECTOR  0xFFu

#define APIC_BASE_RESERVED_LOW  (0xFFull | BIT(9))
#define APIC_MAXPHYADDR_MIN     32
#define APIC_MAXPHYADDR_MAX     52

enum lapic_lvt {
    LAPIC_LVT_IDX_TIMER, LAPIC_LVT_IDX_THERMAL, LAPIC_LVT_IDX_PERF,
    LAPIC_LVT_IDX_LINT0, LAPIC_LVT_IDX_LINT1, LAPIC_LVT_IDX_ERROR,
    LAPIC_LVT_COUNT
};

struct lapic {
    uint32_t apic_id;           /* the initial APIC ID (CPUID): the x2APIC ID */
    bool x2apic_capable;        /* CPUID offers x2APIC: IA32_APIC_BASE.EXTD may be set */
    uint64_t base;              /* IA32_APIC_BASE: page address, EN, EXTD, BSP */

    uint32_t id;                /* xAPIC ID register (bits 31:24) */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr;               /* what ESR reads: the errors latched by the last ESR write */
    uint32_t esr_pending;       /* errors since then */
    bool error_armed;           /* the error interrupt may fire (rearmed by an ESR write) */
    uint32_t icr_lo, icr_hi;    /* icr_hi: bits 31:24 in xAPIC mode, all 32 in x2APIC */
    uint32_t lvt[LAPIC_LVT_COUNT];
    uint32_t isr[LAPIC_BITMAP_REGS], tmr[LAPIC_BITMAP_REGS], irr[LAPIC_BITMAP_REGS];
    bool nmi_pending;

    /* Timer. In one-shot/periodic mode a count of timer_count was loaded at clock timer_load
     * and reaches 0 at timer_first; periodic then runs periods of timer_period clocks (at
     * least LAPIC_MIN_PERIOD: timer_stretched when that lengthened it). */
    uint32_t timer_icr, timer_dcr;
    bool timer_armed, timer_stretched;
    uint32_t timer_count;
    uint64_t timer_load, timer_first, timer_period;
    uint64_t tsc_deadline;      /* IA32_TSC_DEADLINE as written; 0: disarmed or fired */
    uint64_t deadline_tick;     /* ...its clock tick, UINT64_MAX when disarmed */
    uint64_t timer_checked;     /* the clock up to which expiries were raised */
    struct dev_clock clock;     /* LAPIC input clocks */

    /* A level-triggered vector got its EOI: the platform broadcasts it to the IOAPIC. */
    void (*eoi_broadcast)(void *ctx, uint8_t vector);
    void *ctx;

    /* Diagnostics. */
    uint64_t accepted;          /* interrupts put in IRR */
    uint64_t dropped;           /* not accepted: APIC disabled (EN=0 or software) */
    uint64_t illegal_vectors;   /* vectors 0-15 sent or received */
    uint64_t eoi, spurious, nmis;
    uint64_t timer_fired;       /* timer interrupts raised */
    uint64_t timer_merged;      /* expiries that passed unseen and folded into one raised */
    uint64_t timer_masked;      /* expiries while the LVT timer was masked */
    uint64_t timer_clamped;     /* periodic timers stretched to LAPIC_MIN_PERIOD */
    uint64_t ipi_self;          /* IPIs delivered to this APIC */
    uint64_t ipi_other;         /* IPIs (also) meant for other APICs: none exist */
    uint64_t ipi_ignored;       /* INIT, SIPI, SMI and reserved delivery modes */
    uint64_t unknown;           /* reserved/undecoded register accesses, x2APIC #GPs */
};

/* Power-on state (SDM 11.4.7.1): xAPIC mode at LAPIC_DEFAULT_BASE, software disabled, every
 * LVT masked. clock and eoi_broadcast share ctx; eoi_broadcast may be NULL. */
void lapic_init(struct lapic *l, uint32_t apic_id, bool bsp, uint64_t (*clock)(void *ctx),
                void (*eoi_broadcast)(void *ctx, uint8_t vector), void *ctx);
/* RESET: the power-on state again (ID, base and mode included); callbacks are kept. */
void lapic_reset(struct lapic *l);
/* The state a PC BIOS leaves (SeaBIOS): software enabled with spurious vector 0xFF, LINT0
 * ExtINT and LINT1 NMI (both level, unmasked), the other LVTs masked. */
void lapic_virtual_wire(struct lapic *l);

/* A fixed interrupt arrives (IOAPIC, MSI, LINT, timer). Sets IRR, and TMR if level, clearing
 * it if edge. Vectors 0-15 set ESR "received illegal vector" and are dropped. Not accepted
 * while the APIC is disabled, globally or in software (SDM 11.4.7.2: only NMI, SMI, INIT
 * and SIPI are taken then). True if accepted. */
bool lapic_accept(struct lapic *l, uint8_t vector, bool level_triggered);
/* The highest IRR vector whose priority class is above PPR's, or -1. */
int lapic_pending(struct lapic *l);
/* Interrupt acknowledge: moves the pending vector from IRR to ISR and returns it; the
 * spurious vector (SVR bits 7:0, ISR untouched) if nothing is deliverable any more. */
uint8_t lapic_ack(struct lapic *l);
/* An NMI (LINT1 in NMI mode, ICR NMI to self) is waiting: true once, then cleared. */
bool lapic_take_nmi(struct lapic *l);
/* CR8 is TPR bits 7:4 (SDM 11.8.6): MOV to/from CR8 in 64-bit mode reads and sets the TPR. */
uint8_t lapic_cr8(const struct lapic *l);
void lapic_set_cr8(struct lapic *l, uint8_t cr8);
/* PPR (SDM 11.8.3.1) from TPR and the highest ISR vector. */
uint32_t lapic_ppr(const struct lapic *l);

/* Whether the 8259's INTR reaches the CPU: LINT0 in ExtINT mode, unmasked, APIC software
 * enabled. With the APIC globally disabled (EN=0) the pins are the CPU's INTR and NMI again:
 * true then, the platform delivers the PIC directly. */
bool lapic_extint_enabled(const struct lapic *l);
/* An edge on LINT0 (pin 0) or LINT1 (pin 1), as the LVT entry says: NMI -> lapic_take_nmi,
 * fixed -> accepted (trigger mode from the entry), masked -> nothing. ExtINT is not
 * delivered here: the platform asks lapic_extint_enabled() and acknowledges at the PIC.
 * With EN=0, LINT1 is the NMI pin. Other pins are ignored. */
void lapic_lint_edge(struct lapic *l, unsigned pin);

/* xAPIC page: offset within the 4 KiB page of a 32-bit aligned 32-bit access. The SDM leaves
 * other widths and alignments undefined; the platform reads the dword holding the access and
 * drops writes that are not 32-bit. Offsets that are not a register (reserved slots, the
 * 2nd-4th dword of a 16-byte slot, >= 4 KiB) read 0, ignore writes, are counted and set ESR
 * "illegal register address". Write-only EOI reads 0; writes to read-only registers are
 * ignored (counted). With EN=0 or in x2APIC mode the page is not decoded (SDM 11.12.2: it
 * behaves like a globally disabled xAPIC): reads 0, writes ignored, counted. */
uint32_t lapic_mmio_read(struct lapic *l, uint32_t offset);
void lapic_mmio_write(struct lapic *l, uint32_t offset, uint32_t val);
/* Where the page is decoded now (IA32_APIC_BASE page, EN=1, EXTD=0), or LAPIC_MMIO_NONE:
 * the platform moves its MMIO region after lapic_set_base. */
uint64_t lapic_mmio_base(const struct lapic *l);

/* x2APIC MSRs 0x800-0x8FF. False means #GP: not in x2APIC mode, a reserved or absent
 * register (APR, RRD, DFR, ICR high, CMCI), reading EOI or SELF IPI, writing a read-only
 * register, non-zero reserved bits (SDM 11.12.1.3), a non-zero EOI or ESR write. ICR is one
 * 64-bit MSR (destination in bits 63:32); every other register has bits 63:32 reserved. */
bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *val);
bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t val);

/* IA32_APIC_BASE. lapic_set_base returns false for #GP: reserved bits (0-7, 9, maxphyaddr and
 * above; EXTD without x2apic_capable), EN=0 with EXTD=1, x2APIC -> xAPIC, disabled -> x2APIC
 * (SDM 11.12.5). BSP is the processor's and not changed by writes. EN=0 resets the APIC to
 * its power-on state except the ID (SDM 11.4.3, 11.12.5); entering x2APIC mode derives the
 * LDR from the x2APIC ID. maxphyaddr is clamped to 32..52. */
uint64_t lapic_get_base(const struct lapic *l);
bool lapic_set_base(struct lapic *l, uint64_t val, unsigned maxphyaddr);

/* IA32_TSC_DEADLINE (SDM 11.5.4.1), for the platform's WRMSR/RDMSR. Ignored unless the LVT
 * timer is in TSC-deadline mode. 0 disarms; a deadline at or before tsc_now fires at once;
 * otherwise it fires after (deadline - tsc_now) TSC ticks at tsc_hz, converted to LAPIC
 * clocks rounding up and saturating (tsc_hz 0: never). Reads give the value written, 0 once
 * it fired or was disarmed. */
void lapic_write_tsc_deadline(struct lapic *l, uint64_t deadline, uint64_t tsc_now, uint64_t tsc_hz);
uint64_t lapic_read_tsc_deadline(struct lapic *l);

/* For the device timer registry. next: the clock tick of the next timer interrupt the guest
 * can see (UINT64_MAX: none, or masked); catch_up: raise what is due at the clock's now
 * (expiries that passed unseen make one IRR bit); enabled: LVT timer unmasked, APIC enabled.
 * A register write that moves next calls dev_clock_moved(&l->clock). */
uint64_t lapic_timer_next(const struct lapic *l);
void lapic_timer_catch_up(struct lapic *l);
bool lapic_timer_enabled(const struct lapic *l);
/* The current-count register at the clock's now (0 when stopped or in TSC-deadline mode). */
uint32_t lapic_timer_ccr(struct lapic *l);
#endif
