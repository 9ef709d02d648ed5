/* Local APIC model against the Intel SDM vol. 3A ch. 11 (ch. 12 in newer editions; section
 * numbers below are ch. 11's): power-on state (11.4.7.1), software disable (11.4.7.2),
 * IA32_APIC_BASE and x2APIC transitions (11.4.4, 11.12.5), priorities and EOI (11.8), ESR
 * (11.5.3), spurious (11.9), ICR (11.6), timer (11.5.4, 11.5.4.1), x2APIC MSRs (11.12).
 * Time is a fake clock in LAPIC input clocks (LAPIC_TIMER_HZ). */
#include "test.h"
#include "dev/lapic.h"

static struct lapic l;
static uint64_t now;
static unsigned moved, eois;
static uint8_t eoi_vector;

static uint64_t fake_clock(void *ctx) { return now; }
static void on_eoi(void *ctx, uint8_t v) { eois++; eoi_vector = v; }
static void on_moved(void *ctx) { moved++; }

static void reset_id(uint32_t id, bool bsp)
{
    now = 1000;
    moved = eois = 0;
    eoi_vector = 0;
    lapic_init(&l, id, bsp, fake_clock, on_eoi, NULL);
    dev_clock_on_move(&l.clock, on_moved, NULL);
}
static void reset(void) { reset_id(0, true); }
static void wr(uint32_t off, uint32_t v) { lapic_mmio_write(&l, off, v); }
static uint32_t rd(uint32_t off) { return lapic_mmio_read(&l, off); }
static void enable(void) { wr(LAPIC_SVR, LAPIC_SVR_ENABLE | 0xFF); }
static uint32_t esr(void) { wr(LAPIC_ESR, 0); return rd(LAPIC_ESR); }  /* write, then read */
static bool irr_has(unsigned v) { return l.irr[v / 32] >> (v % 32) & 1; }
static bool isr_has(unsigned v) { return l.isr[v / 32] >> (v % 32) & 1; }
static bool to_x2apic(void)
{
    return lapic_set_base(&l, LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD, 46);
}
static uint64_t msr(uint32_t m)
{
    uint64_t v = 0xDEAD;
    CHECK(lapic_msr_read(&l, m, &v));
    return v;
}
static void eoi(void) { wr(LAPIC_EOI, 0); }
static int highest(const uint32_t *bm)
{
    for (int v = 255; v >= 0; v--)
        if (bm[v / 32] >> (v % 32) & 1)
            return v;
    return -1;
}

static bool highest_isr_is_none(void) { return highest(l.isr) < 0; }


/* ---- state ------------------------------------------------------------------------------ */

TEST(power_on_state_is_the_sdm_reset_state)
{
    /* 11.4.7.1; IA32_APIC_BASE 11.4.4: 0xFEE00000, EN, BSP on the bootstrap processor. */
    reset_id(3, true);
    CHECK_EQ(lapic_get_base(&l), 0xFEE00900);
    CHECK_EQ(lapic_mmio_base(&l), 0xFEE00000);
    CHECK_EQ(rd(LAPIC_ID), 3u << 24);
    CHECK_EQ(rd(LAPIC_VERSION), 0x00050014);    /* version 0x14, max LVT entry 5 */
    CHECK_EQ(rd(LAPIC_SVR), 0xFF);
    CHECK_EQ(rd(LAPIC_DFR), 0xFFFFFFFF);
    CHECK_EQ(rd(LAPIC_TPR), 0);
    CHECK_EQ(rd(LAPIC_PPR), 0);
    CHECK_EQ(rd(LAPIC_LDR), 0);
    CHECK_EQ(rd(LAPIC_ICR_LO), 0);
    CHECK_EQ(rd(LAPIC_ICR_HI), 0);
    for (uint32_t off = LAPIC_LVT_TIMER; off <= LAPIC_LVT_ERROR; off += 0x10)
        CHECK_EQ(rd(off), 0x00010000);
    CHECK_EQ(rd(LAPIC_TIMER_ICR), 0);
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 0);
    CHECK_EQ(rd(LAPIC_TIMER_DCR), 0);
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(rd(LAPIC_IRR + i * 0x10) | rd(LAPIC_ISR + i * 0x10) | rd(LAPIC_TMR + i * 0x10), 0);
    CHECK_EQ(esr(), 0);
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    CHECK(!lapic_timer_enabled(&l));
    /* Software disabled after reset (SVR bit 8 = 0): fixed interrupts are not accepted. */
    CHECK(!lapic_accept(&l, 0x40, false));
    CHECK_EQ(l.dropped, 1);
    CHECK_EQ(lapic_pending(&l), -1);
    reset_id(1, false);
    CHECK_EQ(lapic_get_base(&l), 0xFEE00800);   /* an AP: no BSP flag */
}

TEST(virtual_wire_as_seabios_leaves_it)
{
    reset();
    CHECK(!lapic_extint_enabled(&l));           /* LINT0 masked at power-on */
    lapic_virtual_wire(&l);
    CHECK_EQ(rd(LAPIC_SVR), 0x1FF);
    CHECK_EQ(rd(LAPIC_LVT_LINT0), 0x8700);      /* ExtINT, level */
    CHECK_EQ(rd(LAPIC_LVT_LINT1), 0x8400);      /* NMI, level */
    CHECK_EQ(rd(LAPIC_LVT_TIMER), LVT_MASKED);
    CHECK_EQ(rd(LAPIC_LVT_THERMAL), LVT_MASKED);
    CHECK_EQ(rd(LAPIC_LVT_PERF), LVT_MASKED);
    CHECK_EQ(rd(LAPIC_LVT_ERROR), LVT_MASKED);
    CHECK(lapic_extint_enabled(&l));
    lapic_lint_edge(&l, 1);                     /* LINT1 as NMI */
    CHECK(lapic_take_nmi(&l));
    CHECK(!lapic_take_nmi(&l));                 /* once */
    lapic_lint_edge(&l, 0);                     /* ExtINT is the platform's path: no IRR */
    CHECK_EQ(lapic_pending(&l), -1);
    wr(LAPIC_LVT_LINT0, 0x18700);               /* masked */
    CHECK(!lapic_extint_enabled(&l));
    wr(LAPIC_LVT_LINT0, 0x0031);                /* fixed, vector 0x31 */
    CHECK(!lapic_extint_enabled(&l));
    lapic_lint_edge(&l, 0);
    CHECK_EQ(lapic_pending(&l), 0x31);
    wr(LAPIC_LVT_LINT0, 0x8700);
    wr(LAPIC_SVR, 0xFF);                        /* software disable masks LINT0 and LINT1 */
    CHECK(!lapic_extint_enabled(&l));
    lapic_lint_edge(&l, 1);
    CHECK(!lapic_take_nmi(&l));
    lapic_lint_edge(&l, 7);                     /* no such pin */
}

/* ---- priorities, EOI, ESR, spurious ------------------------------------------------------ */

TEST(tpr_masks_by_priority_class)
{
    /* 11.8.3.1 / 11.8.4: an IRR vector is delivered if its class (bits 7:4) is above PPR's. */
    reset();
    enable();
    CHECK(lapic_accept(&l, 0x45, false));
    CHECK_EQ(lapic_pending(&l), 0x45);
    wr(LAPIC_TPR, 0x40);
    CHECK_EQ(rd(LAPIC_PPR), 0x40);
    CHECK_EQ(lapic_pending(&l), -1);            /* same class: held */
    wr(LAPIC_TPR, 0x4F);
    CHECK_EQ(lapic_pending(&l), -1);            /* the sub-class does not matter */
    wr(LAPIC_TPR, 0x3F);
    CHECK_EQ(rd(LAPIC_PPR), 0x3F);
    CHECK_EQ(lapic_pending(&l), 0x45);
    wr(LAPIC_TPR, 0x50);
    CHECK_EQ(lapic_pending(&l), -1);
    lapic_accept(&l, 0x61, false);
    CHECK_EQ(lapic_pending(&l), 0x61);          /* the highest IRR vector */
    wr(LAPIC_TPR, 0xFF);
    lapic_accept(&l, 0xFE, false);
    CHECK_EQ(lapic_pending(&l), -1);            /* class 15 is never above TPR 0xFF */
    CHECK_EQ(rd(LAPIC_TPR), 0xFF);
    wr(LAPIC_TPR, 0x1FF);                       /* bits 31:8 are reserved */
    CHECK_EQ(rd(LAPIC_TPR), 0xFF);
}

TEST(cr8_is_tpr_bits_7_to_4)
{
    /* SDM 11.8.6: a MOV to CR8 sets TPR[7:4] from CR8[3:0] and clears TPR[3:0]; a read of
     * CR8 gives TPR[7:4]. The masking is then the TPR's. */
    reset();
    enable();
    wr(LAPIC_TPR, 0x5A);
    CHECK_EQ(lapic_cr8(&l), 5);
    lapic_set_cr8(&l, 3);
    CHECK_EQ(rd(LAPIC_TPR), 0x30);
    CHECK(lapic_accept(&l, 0x35, false));
    CHECK_EQ(lapic_pending(&l), -1);            /* class 3 not above CR8 3 */
    lapic_set_cr8(&l, 2);
    CHECK_EQ(lapic_pending(&l), 0x35);
    lapic_set_cr8(&l, 0xF);
    CHECK_EQ(rd(LAPIC_TPR), 0xF0);
    CHECK_EQ(lapic_cr8(&l), 0xF);
}

TEST(ppr_from_isr_and_tpr)
{
    reset();
    enable();
    lapic_accept(&l, 0x80, false);
    CHECK_EQ(lapic_ack(&l), 0x80);
    CHECK_EQ(rd(LAPIC_PPR), 0x80);              /* in-service class, sub-class 0 */
    wr(LAPIC_TPR, 0x95);
    CHECK_EQ(rd(LAPIC_PPR), 0x95);              /* TPR's class is higher: TPR */
    wr(LAPIC_TPR, 0x85);
    CHECK_EQ(rd(LAPIC_PPR), 0x85);              /* equal class: TPR */
    wr(LAPIC_TPR, 0x75);
    CHECK_EQ(rd(LAPIC_PPR), 0x80);
    lapic_accept(&l, 0x8F, false);
    CHECK_EQ(lapic_pending(&l), -1);            /* same class as the one in service */
    lapic_accept(&l, 0x90, false);
    CHECK_EQ(lapic_pending(&l), 0x90);
}

TEST(eoi_retires_the_highest_in_service_first)
{
    /* 11.8.5: nested interrupts; EOI clears the highest ISR bit. */
    reset();
    enable();
    lapic_accept(&l, 0x30, false);
    CHECK_EQ(lapic_ack(&l), 0x30);
    lapic_accept(&l, 0x50, false);
    CHECK_EQ(lapic_pending(&l), 0x50);          /* higher class nests */
    CHECK_EQ(lapic_ack(&l), 0x50);
    lapic_accept(&l, 0x40, false);
    CHECK_EQ(lapic_pending(&l), -1);            /* below the one in service */
    CHECK_EQ(rd(LAPIC_ISR + 0x10), BIT(0x30 - 32));
    CHECK_EQ(rd(LAPIC_ISR + 0x20), BIT(0x50 - 64));
    CHECK_EQ(rd(LAPIC_IRR + 0x20), BIT(0x40 - 64));
    eoi();
    CHECK(!isr_has(0x50));
    CHECK(isr_has(0x30));
    CHECK_EQ(lapic_pending(&l), 0x40);          /* now above 0x30's class */
    CHECK_EQ(lapic_ack(&l), 0x40);
    eoi();
    CHECK(!isr_has(0x40));
    CHECK(isr_has(0x30));
    eoi();
    CHECK(!isr_has(0x30));
    CHECK_EQ(rd(LAPIC_PPR), 0);
    eoi();                                      /* nothing in service: harmless */
    CHECK_EQ(l.eoi, 4);
    CHECK_EQ(eois, 0);                          /* all edge-triggered */
    CHECK_EQ(rd(LAPIC_EOI), 0);                 /* write-only */
}

TEST(level_triggered_eoi_is_broadcast)
{
    /* 11.8.4: TMR set for a level-triggered vector, cleared for an edge one; 11.8.5: its EOI
     * goes to the IOAPIC. */
    reset();
    enable();
    lapic_accept(&l, 0x61, true);
    CHECK_EQ(rd(LAPIC_TMR + 0x30), BIT(1));
    CHECK_EQ(lapic_ack(&l), 0x61);
    eoi();
    CHECK_EQ(eois, 1);
    CHECK_EQ(eoi_vector, 0x61);
    lapic_accept(&l, 0x62, false);
    lapic_ack(&l);
    eoi();
    CHECK_EQ(eois, 1);                          /* edge: no broadcast */
    lapic_accept(&l, 0x61, false);              /* the same vector, edge now */
    CHECK_EQ(rd(LAPIC_TMR + 0x30), 0);
    lapic_ack(&l);
    eoi();
    CHECK_EQ(eois, 1);
}

TEST(illegal_vectors_and_the_esr_write_latch)
{
    /* 11.5.2: vectors 0-15 set "received illegal vector" and are dropped. 11.5.3: ESR reads
     * what its last write latched; a write also clears the accumulation. */
    reset();
    enable();
    for (unsigned v = 0; v < 16; v++)
        CHECK(!lapic_accept(&l, (uint8_t)v, false));
    CHECK_EQ(l.illegal_vectors, 16);
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(l.irr[i], 0);
    CHECK_EQ(rd(LAPIC_ESR), 0);                 /* not latched yet */
    wr(LAPIC_ESR, 0);
    CHECK_EQ(rd(LAPIC_ESR), 0x40);
    CHECK_EQ(rd(LAPIC_ESR), 0x40);              /* reads do not clear */
    lapic_accept(&l, 3, false);                 /* after the latch: */
    CHECK_EQ(rd(LAPIC_ESR), 0x40);              /* still the latched value */
    wr(LAPIC_ESR, 0xFFFFFFFF);                  /* the value written does not matter */
    CHECK_EQ(rd(LAPIC_ESR), 0x40);              /* the error since the last write */
    wr(LAPIC_ESR, 0);
    CHECK_EQ(rd(LAPIC_ESR), 0);
    CHECK(lapic_accept(&l, 16, false));         /* 16 is the first legal vector */
}

TEST(error_lvt_interrupts_once_per_esr_write)
{
    reset();
    enable();
    wr(LAPIC_LVT_ERROR, 0xE0);
    lapic_accept(&l, 7, false);
    CHECK_EQ(lapic_pending(&l), 0xE0);
    uint64_t acc = l.accepted;
    lapic_accept(&l, 8, false);                 /* not rearmed: no second interrupt */
    CHECK_EQ(l.accepted, acc);
    wr(LAPIC_ESR, 0);
    lapic_accept(&l, 9, false);
    CHECK_EQ(l.accepted, acc + 1);
    wr(LAPIC_ESR, 0);
    wr(LAPIC_LVT_ERROR, 0x05);                  /* an illegal error vector cannot recurse */
    lapic_accept(&l, 9, false);
    CHECK_EQ(esr(), 0x40);
}

TEST(spurious_vector_on_ack_with_nothing_deliverable)
{
    /* 11.9: the spurious vector (SVR 7:0) is delivered without setting ISR. */
    reset();
    wr(LAPIC_SVR, LAPIC_SVR_ENABLE | 0xEF);
    CHECK_EQ(lapic_ack(&l), 0xEF);
    CHECK_EQ(l.spurious, 1);
    CHECK(highest_isr_is_none());
    lapic_accept(&l, 0x41, false);
    wr(LAPIC_TPR, 0x50);                        /* raised TPR before the INTA */
    CHECK_EQ(lapic_ack(&l), 0xEF);
    CHECK(irr_has(0x41));                       /* still requested */
    CHECK(!isr_has(0x41));
    CHECK_EQ(rd(LAPIC_SVR), 0x1EF);
    wr(LAPIC_SVR, 0xFFFFFFFF);                  /* bits 12+ reserved (no EOI suppression) */
    CHECK_EQ(rd(LAPIC_SVR), 0x3FF);
}

TEST(software_disable_masks_every_lvt_and_keeps_them_masked)
{
    /* 11.4.7.2 */
    reset();
    lapic_virtual_wire(&l);
    wr(LAPIC_LVT_TIMER, 0x20);
    wr(LAPIC_LVT_ERROR, 0x21);
    CHECK(lapic_accept(&l, 0x50, false));
    wr(LAPIC_SVR, 0xFF);                        /* software disable */
    for (uint32_t off = LAPIC_LVT_TIMER; off <= LAPIC_LVT_ERROR; off += 0x10)
        CHECK(rd(off) & LVT_MASKED);
    CHECK_EQ(rd(LAPIC_LVT_TIMER), 0x10020);     /* the rest of the entry is kept */
    wr(LAPIC_LVT_LINT0, 0x700);                 /* unmasking is ignored while disabled */
    CHECK_EQ(rd(LAPIC_LVT_LINT0), 0x10700);
    wr(LAPIC_LVT_TIMER, 0x20 | LVT_TIMER_PERIODIC);
    CHECK_EQ(rd(LAPIC_LVT_TIMER), 0x30020);     /* other fields still written */
    CHECK(!lapic_accept(&l, 0x60, false));      /* not accepted ... */
    CHECK_EQ(lapic_pending(&l), 0x50);          /* ... but what IRR holds is held */
    wr(LAPIC_SVR, 0x1FF);                       /* re-enabled: the masks stay */
    CHECK(rd(LAPIC_LVT_LINT0) & LVT_MASKED);
    wr(LAPIC_LVT_LINT0, 0x700);
    CHECK_EQ(rd(LAPIC_LVT_LINT0), 0x700);
}

/* ---- timer ------------------------------------------------------------------------------ */

/* DCR encodings (11.5.4, Figure 11-10) and their divisors. */
static const struct { uint32_t dcr; uint64_t div; } dividers[] = {
    { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 }, { 0x8, 32 }, { 0x9, 64 }, { 0xA, 128 }, { 0xB, 1 },
};

TEST(oneshot_timer_with_every_divider)
{
    for (unsigned d = 0; d < ARRAY_SIZE(dividers); d++) {
        uint64_t div = dividers[d].div;
        reset();
        enable();
        wr(LAPIC_LVT_TIMER, 0x40);
        wr(LAPIC_TIMER_DCR, dividers[d].dcr);
        CHECK_EQ(rd(LAPIC_TIMER_DCR), dividers[d].dcr);
        uint64_t t0 = now;
        wr(LAPIC_TIMER_ICR, 1000);
        CHECK_EQ(rd(LAPIC_TIMER_CCR), 1000);
        CHECK_EQ(lapic_timer_next(&l), t0 + 1000 * div);
        now = t0 + 250 * div;
        CHECK_EQ(rd(LAPIC_TIMER_CCR), 750);
        now = t0 + 251 * div - 1;
        CHECK_EQ(rd(LAPIC_TIMER_CCR), 750);     /* decrements once per div clocks */
        now = t0 + 1000 * div - 1;
        lapic_timer_catch_up(&l);
        CHECK_EQ(lapic_pending(&l), -1);
        CHECK_EQ(rd(LAPIC_TIMER_CCR), 1);
        now = t0 + 1000 * div;
        lapic_timer_catch_up(&l);
        CHECK_EQ(lapic_pending(&l), 0x40);
        CHECK_EQ(rd(LAPIC_TIMER_CCR), 0);       /* stays 0 until reprogrammed */
        CHECK_EQ(rd(LAPIC_TIMER_ICR), 1000);
        CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
        CHECK_EQ(l.timer_fired, 1);
        lapic_ack(&l);
        eoi();
        now += 1000000;
        lapic_timer_catch_up(&l);
        CHECK_EQ(lapic_pending(&l), -1);        /* one shot */
        CHECK_EQ(l.timer_fired, 1);
        t0 = now;
        wr(LAPIC_TIMER_ICR, 10);                /* rearmed by a write */
        CHECK_EQ(lapic_timer_next(&l), t0 + 10 * div);
        wr(LAPIC_TIMER_ICR, 0);                 /* 0 stops it */
        CHECK_EQ(rd(LAPIC_TIMER_CCR), 0);
        CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    }
}

TEST(periodic_timer_with_every_divider)
{
    for (unsigned d = 0; d < ARRAY_SIZE(dividers); d++) {
        uint64_t div = dividers[d].div, p = 50000 * div;   /* 50000 clocks >= the minimum */
        reset();
        enable();
        wr(LAPIC_LVT_TIMER, 0x41 | LVT_TIMER_PERIODIC);
        wr(LAPIC_TIMER_DCR, dividers[d].dcr);
        uint64_t t0 = now;
        wr(LAPIC_TIMER_ICR, 50000);
        CHECK_EQ(lapic_timer_next(&l), t0 + p);
        now = t0 + p - 1;
        lapic_timer_catch_up(&l);
        CHECK(!irr_has(0x41));
        CHECK_EQ(rd(LAPIC_TIMER_CCR), 1);
        now = t0 + p;
        lapic_timer_catch_up(&l);
        CHECK(irr_has(0x41));
        CHECK_EQ(rd(LAPIC_TIMER_CCR), 50000);   /* reloaded */
        CHECK_EQ(lapic_timer_next(&l), t0 + 2 * p);
        CHECK_EQ(lapic_ack(&l), 0x41);
        eoi();
        now = t0 + p + 3 * div;
        CHECK_EQ(rd(LAPIC_TIMER_CCR), 49997);
        now = t0 + 5 * p + 7;                   /* four expiries passed unseen */
        lapic_timer_catch_up(&l);
        CHECK(irr_has(0x41));
        CHECK_EQ(l.timer_fired, 2);
        CHECK_EQ(l.timer_merged, 3);            /* one IRR bit for the four */
        CHECK_EQ(lapic_timer_next(&l), t0 + 6 * p);
        CHECK_EQ(l.timer_clamped, 0);
    }
}

TEST(masked_timer_counts_but_raises_nothing)
{
    reset();
    enable();
    wr(LAPIC_TIMER_DCR, LAPIC_DCR_DIV1);
    wr(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_PERIODIC | 0x42);
    uint64_t t0 = now;
    wr(LAPIC_TIMER_ICR, 100000);
    CHECK(!lapic_timer_enabled(&l));
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX); /* nothing the guest can see */
    now = t0 + 250000;
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 50000);       /* but it counts and reloads */
    lapic_timer_catch_up(&l);
    CHECK_EQ(lapic_pending(&l), -1);
    CHECK_EQ(l.timer_masked, 2);
    wr(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | 0x42);    /* unmasked: no late interrupt */
    CHECK_EQ(lapic_pending(&l), -1);
    CHECK(lapic_timer_enabled(&l));
    CHECK_EQ(lapic_timer_next(&l), t0 + 300000);
    now = t0 + 300000;
    lapic_timer_catch_up(&l);
    CHECK_EQ(lapic_pending(&l), 0x42);
    /* A masked one-shot expires silently and stays expired. */
    reset();
    enable();
    wr(LAPIC_TIMER_DCR, LAPIC_DCR_DIV1);
    wr(LAPIC_LVT_TIMER, LVT_MASKED | 0x43);
    wr(LAPIC_TIMER_ICR, 500);
    now += 600;
    wr(LAPIC_LVT_TIMER, 0x43);
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 0);
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    now += 100000;
    CHECK_EQ(lapic_pending(&l), -1);
    CHECK_EQ(l.timer_masked, 1);
}

TEST(timer_mode_change_disarms)
{
    /* 11.5.4.1: a write to the LVT timer that changes the mode disarms the timer. */
    reset();
    enable();
    wr(LAPIC_TIMER_DCR, LAPIC_DCR_DIV1);
    wr(LAPIC_LVT_TIMER, 0x44);
    wr(LAPIC_TIMER_ICR, 100000);
    now += 10;
    wr(LAPIC_LVT_TIMER, 0x45 | LVT_MASKED);     /* same mode: vector and mask only */
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 99990);
    wr(LAPIC_LVT_TIMER, 0x45 | LVT_TIMER_PERIODIC);
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 0);
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    now += 200000;
    CHECK_EQ(lapic_pending(&l), -1);
    uint64_t t0 = now;
    wr(LAPIC_TIMER_ICR, 100000);                /* a count write starts it again */
    CHECK_EQ(lapic_timer_next(&l), t0 + 100000);
    wr(LAPIC_LVT_TIMER, 0x45 | LVT_TIMER_TSC_DEADLINE);
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 0);           /* CCR reads 0 in TSC-deadline mode */
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    wr(LAPIC_TIMER_ICR, 5);                     /* ... and count writes are ignored */
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    lapic_write_tsc_deadline(&l, 1000000, 0, LAPIC_TIMER_HZ);
    CHECK_EQ(lapic_read_tsc_deadline(&l), 1000000);
    wr(LAPIC_LVT_TIMER, 0x45);                  /* back to one-shot: the deadline is gone */
    CHECK_EQ(lapic_read_tsc_deadline(&l), 0);
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    wr(LAPIC_LVT_TIMER, 0x45 | LVT_TIMER_RESERVED_MODE);  /* reserved mode: inert */
    wr(LAPIC_TIMER_ICR, 5);
    now += 100;
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 0);
    CHECK_EQ(lapic_pending(&l), -1);
}

TEST(tsc_deadline_mode)
{
    const uint64_t tsc_hz = 2500000000ull;      /* 2.5 GHz: 25 TSC ticks per LAPIC clock */
    reset();
    enable();
    lapic_write_tsc_deadline(&l, 12345, 0, tsc_hz);
    CHECK_EQ(lapic_read_tsc_deadline(&l), 0);   /* not in TSC-deadline mode: ignored */
    wr(LAPIC_LVT_TIMER, 0x46 | LVT_TIMER_TSC_DEADLINE);
    uint64_t tsc = 1000000000ull, t0 = now;
    lapic_write_tsc_deadline(&l, tsc + 2500, tsc, tsc_hz);      /* 1 us: 100 clocks */
    CHECK_EQ(lapic_read_tsc_deadline(&l), tsc + 2500);
    CHECK_EQ(lapic_timer_next(&l), t0 + 100);
    now = t0 + 99;
    lapic_timer_catch_up(&l);
    CHECK_EQ(lapic_pending(&l), -1);
    now = t0 + 100;
    CHECK_EQ(lapic_read_tsc_deadline(&l), 0);   /* fired: cleared */
    CHECK_EQ(lapic_pending(&l), 0x46);
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    CHECK_EQ(lapic_ack(&l), 0x46);
    eoi();
    lapic_write_tsc_deadline(&l, tsc - 1, tsc, tsc_hz);         /* in the past: at once */
    CHECK_EQ(lapic_pending(&l), 0x46);
    CHECK_EQ(lapic_read_tsc_deadline(&l), 0);
    lapic_ack(&l);
    eoi();
    lapic_write_tsc_deadline(&l, tsc + 1, tsc, tsc_hz);         /* rounds up: 1 clock */
    CHECK_EQ(lapic_timer_next(&l), now + 1);
    lapic_write_tsc_deadline(&l, tsc + 26, tsc, tsc_hz);        /* 1.04 clocks -> 2 */
    CHECK_EQ(lapic_timer_next(&l), now + 2);
    lapic_write_tsc_deadline(&l, 0, tsc, tsc_hz);               /* 0 disarms */
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    now += 1000;
    CHECK_EQ(lapic_pending(&l), -1);
    /* Conversion saturates rather than overflows. */
    lapic_write_tsc_deadline(&l, UINT64_MAX, 0, 1);             /* 1 Hz TSC: centuries */
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    CHECK_EQ(lapic_read_tsc_deadline(&l), UINT64_MAX);
    lapic_write_tsc_deadline(&l, UINT64_MAX, 0, 0);             /* unknown rate: never */
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    lapic_write_tsc_deadline(&l, UINT64_MAX, 0, UINT64_MAX);    /* absurd rate: 1 s */
    CHECK_EQ(lapic_timer_next(&l), now + LAPIC_TIMER_HZ);
    lapic_write_tsc_deadline(&l, 3 * tsc_hz + 7, 7, tsc_hz);    /* whole seconds */
    CHECK_EQ(lapic_timer_next(&l), now + 3ull * LAPIC_TIMER_HZ);
    /* Masked: fires silently, and the MSR still clears. */
    wr(LAPIC_LVT_TIMER, 0x46 | LVT_TIMER_TSC_DEADLINE | LVT_MASKED);
    lapic_write_tsc_deadline(&l, tsc + 2500, tsc, tsc_hz);
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    now += 100;
    CHECK_EQ(lapic_read_tsc_deadline(&l), 0);
    CHECK_EQ(lapic_pending(&l), -1);
    CHECK_EQ(l.timer_masked, 1);
}

TEST(short_periodic_timer_is_stretched)
{
    reset();
    enable();
    wr(LAPIC_TIMER_DCR, LAPIC_DCR_DIV1);
    wr(LAPIC_LVT_TIMER, 0x47 | LVT_TIMER_PERIODIC);
    uint64_t t0 = now;
    wr(LAPIC_TIMER_ICR, 1);                     /* 1 clock: a 100 MHz interrupt storm */
    CHECK_EQ(l.timer_clamped, 1);
    CHECK_EQ(LAPIC_MIN_PERIOD, 20000);          /* 200 us of 100 MHz */
    CHECK_EQ(lapic_timer_next(&l), t0 + LAPIC_MIN_PERIOD);
    now = t0 + LAPIC_TIMER_HZ;                  /* one second: 5000 periods, not 10^8 */
    lapic_timer_catch_up(&l);
    CHECK_EQ(l.timer_fired, 1);
    CHECK_EQ(l.timer_merged, 4999);
    for (uint64_t t = now, end = now + 3 * LAPIC_MIN_PERIOD; t < end; t += 777) {
        now = t;
        CHECK(rd(LAPIC_TIMER_CCR) <= 1);
    }
    /* 1000 counts at divide-by-16 is 160 us: stretched to 200 us, the count spread evenly. */
    reset();
    enable();
    wr(LAPIC_TIMER_DCR, 0x3);
    wr(LAPIC_LVT_TIMER, 0x47 | LVT_TIMER_PERIODIC);
    t0 = now;
    wr(LAPIC_TIMER_ICR, 1000);
    CHECK_EQ(l.timer_clamped, 1);
    now = t0 + LAPIC_MIN_PERIOD / 2;
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 500);
    CHECK_EQ(lapic_timer_next(&l), t0 + LAPIC_MIN_PERIOD);
    /* A one-shot is not stretched. */
    wr(LAPIC_LVT_TIMER, 0x47);
    t0 = now;
    wr(LAPIC_TIMER_ICR, 1);
    CHECK_EQ(lapic_timer_next(&l), t0 + 16);
    CHECK_EQ(l.timer_clamped, 1);
}

TEST(divider_change_continues_the_count)
{
    reset();
    enable();
    wr(LAPIC_LVT_TIMER, 0x48);
    wr(LAPIC_TIMER_DCR, 0x0);                   /* divide by 2 */
    uint64_t t0 = now;
    wr(LAPIC_TIMER_ICR, 1000);
    now = t0 + 400;
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 800);
    wr(LAPIC_TIMER_DCR, 0x2);                   /* divide by 8 from here */
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 800);
    CHECK_EQ(lapic_timer_next(&l), t0 + 400 + 800 * 8);
    now = t0 + 400 + 8 * 100;
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 700);
}

TEST(timer_registry_interface)
{
    reset();
    enable();
    unsigned m = moved;
    wr(LAPIC_TPR, 0x20);
    CHECK_EQ(moved, m);                         /* unrelated register */
    wr(LAPIC_LVT_TIMER, 0x49);
    wr(LAPIC_TIMER_ICR, 1000);                  /* armed */
    CHECK_EQ(moved, m + 1);
    wr(LAPIC_TIMER_DCR, 0xB);                   /* new rate */
    CHECK_EQ(moved, m + 2);
    wr(LAPIC_LVT_TIMER, 0x49 | LVT_MASKED);     /* hidden */
    CHECK_EQ(moved, m + 3);
    wr(LAPIC_LVT_TIMER, 0x49);
    CHECK_EQ(moved, m + 4);
    wr(LAPIC_SVR, 0xFF);                        /* software disable masks it */
    CHECK_EQ(moved, m + 5);
    CHECK(!lapic_timer_enabled(&l));
    wr(LAPIC_SVR, 0x1FF);
    CHECK_EQ(moved, m + 5);                     /* still masked */
    wr(LAPIC_LVT_TIMER, 0x49 | LVT_TIMER_TSC_DEADLINE);
    CHECK_EQ(moved, m + 5);                     /* unmasked, but nothing armed: no move */
    lapic_write_tsc_deadline(&l, 1000, 0, LAPIC_TIMER_HZ);
    CHECK_EQ(moved, m + 6);
    CHECK(lapic_set_base(&l, LAPIC_DEFAULT_BASE, 46));   /* EN=0: reset */
    CHECK_EQ(moved, m + 7);
    CHECK_EQ(lapic_timer_next(&l), UINT64_MAX);
    /* After a catch-up, the next interrupt is after now. */
    CHECK(lapic_set_base(&l, LAPIC_DEFAULT_BASE | APIC_BASE_EN, 46));
    enable();
    wr(LAPIC_LVT_TIMER, 0x49 | LVT_TIMER_PERIODIC);
    wr(LAPIC_TIMER_ICR, 30000);
    for (int i = 0; i < 100; i++) {
        now += 12345;
        lapic_timer_catch_up(&l);
        CHECK(lapic_timer_next(&l) > now);
    }
}

/* ---- ICR ---------------------------------------------------------------------------------- */

TEST(icr_self_ipis)
{
    reset_id(5, true);
    enable();
    wr(LAPIC_ICR_LO, LAPIC_ICR_SH_SELF | 0x50);
    CHECK(irr_has(0x50));
    CHECK_EQ(rd(LAPIC_ICR_LO), LAPIC_ICR_SH_SELF | 0x50);  /* delivery status idle */
    wr(LAPIC_ICR_HI, 5u << 24);                 /* physical, own ID */
    wr(LAPIC_ICR_LO, 0x51);
    CHECK(irr_has(0x51));
    CHECK_EQ(rd(LAPIC_ICR_HI), 5u << 24);
    wr(LAPIC_ICR_HI, 6u << 24);                 /* somebody else: nobody */
    wr(LAPIC_ICR_LO, 0x52);
    CHECK(!irr_has(0x52));
    CHECK_EQ(l.ipi_other, 1);
    wr(LAPIC_ICR_HI, 0xFFu << 24);              /* physical broadcast */
    wr(LAPIC_ICR_LO, 0x53);
    CHECK(irr_has(0x53));
    /* Logical, flat model (11.6.2.2): LDR bit 2. */
    wr(LAPIC_LDR, 0x04000000);
    wr(LAPIC_ICR_HI, 0x0Cu << 24);
    wr(LAPIC_ICR_LO, LAPIC_ICR_LOGICAL | 0x54);
    CHECK(irr_has(0x54));
    wr(LAPIC_ICR_HI, 0x01u << 24);
    wr(LAPIC_ICR_LO, LAPIC_ICR_LOGICAL | 0x55);
    CHECK(!irr_has(0x55));
    /* Cluster model: cluster 2, member bit 0. */
    wr(LAPIC_DFR, 0x0FFFFFFF);
    CHECK_EQ(rd(LAPIC_DFR), 0x0FFFFFFF);
    wr(LAPIC_LDR, 0x21000000);
    wr(LAPIC_ICR_HI, 0x21u << 24);
    wr(LAPIC_ICR_LO, LAPIC_ICR_LOGICAL | 0x56);
    CHECK(irr_has(0x56));
    wr(LAPIC_ICR_HI, 0x31u << 24);
    wr(LAPIC_ICR_LO, LAPIC_ICR_LOGICAL | 0x57);
    CHECK(!irr_has(0x57));
    wr(LAPIC_ICR_HI, 0xF1u << 24);              /* cluster 15: every cluster */
    wr(LAPIC_ICR_LO, LAPIC_ICR_LOGICAL | 0x58);
    CHECK(irr_has(0x58));
    wr(LAPIC_ICR_HI, 0x22u << 24);
    wr(LAPIC_ICR_LO, LAPIC_ICR_LOGICAL | 0x59);
    CHECK(!irr_has(0x59));
    /* Shorthands. */
    uint64_t other = l.ipi_other;
    wr(LAPIC_ICR_LO, LAPIC_ICR_SH_ALL | 0x5A);
    CHECK(irr_has(0x5A));
    CHECK_EQ(l.ipi_other, other + 1);
    wr(LAPIC_ICR_LO, LAPIC_ICR_SH_OTHERS | 0x5B);
    CHECK(!irr_has(0x5B));
    CHECK_EQ(l.ipi_other, other + 2);
    wr(LAPIC_ICR_LO, LAPIC_ICR_SH_SELF | LAPIC_ICR_DM_LOWEST | 0x5C);   /* acts as fixed */
    CHECK(irr_has(0x5C));
    wr(LAPIC_ICR_LO, LAPIC_ICR_SH_SELF | LAPIC_ICR_LEVEL | LAPIC_ICR_ASSERT | 0x5D);
    CHECK(irr_has(0x5D));
    CHECK(l.tmr[0x5D / 32] >> (0x5D % 32) & 1);
    wr(LAPIC_ICR_LO, LAPIC_ICR_SH_SELF | LAPIC_ICR_LEVEL | 0x5E);   /* de-assert: nothing */
    CHECK(!irr_has(0x5E));
    /* NMI; INIT, SIPI, SMI are counted and ignored. */
    wr(LAPIC_ICR_LO, LAPIC_ICR_SH_SELF | LAPIC_ICR_DM_NMI);
    CHECK(lapic_take_nmi(&l));
    uint64_t acc = l.accepted;
    wr(LAPIC_ICR_LO, LAPIC_ICR_SH_OTHERS | LAPIC_ICR_DM_INIT | LAPIC_ICR_LEVEL | LAPIC_ICR_ASSERT);
    wr(LAPIC_ICR_LO, LAPIC_ICR_SH_OTHERS | LAPIC_ICR_DM_SIPI | 0x9F);
    wr(LAPIC_ICR_LO, LAPIC_ICR_SH_SELF | LAPIC_ICR_DM_SMI);
    CHECK_EQ(l.ipi_ignored, 3);
    CHECK_EQ(l.accepted, acc);
    CHECK(!lapic_take_nmi(&l));
    /* An illegal vector is not sent: "send illegal vector" (11.5.2). */
    wr(LAPIC_ESR, 0);
    wr(LAPIC_ICR_LO, LAPIC_ICR_SH_SELF | 0x0F);
    CHECK_EQ(esr(), 0x20);
    CHECK_EQ(l.accepted, acc);
    wr(LAPIC_ICR_LO, 0xFFFFFFFF);               /* reserved bits are dropped */
    CHECK_EQ(rd(LAPIC_ICR_LO) & ~LAPIC_ICR_WRITABLE, 0);
}

/* ---- x2APIC ----------------------------------------------------------------------------- */

TEST(x2apic_id_and_derived_ldr)
{
    /* 11.12.10.2: LDR = (x2APIC ID[19:4] << 16) | 1 << x2APIC ID[3:0]. */
    static const struct { uint32_t id, ldr; } cases[] = {
        { 0, 0x00000001 }, { 1, 0x00000002 }, { 15, 0x00008000 }, { 16, 0x00010001 },
        { 0x35, 0x00030020 }, { 0x12345, 0x12340020 }, { 0xFFFFFFF0, 0xFFFF0001 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        reset_id(cases[i].id, true);
        CHECK(to_x2apic());
        CHECK_EQ(msr(0x802), cases[i].id);
        CHECK_EQ(msr(0x80D), cases[i].ldr);
        CHECK_EQ(msr(0x803), 0x00050014);
    }
    reset_id(0x35, true);
    wr(LAPIC_ID, 0x12000000);                   /* the xAPIC ID written by software... */
    CHECK(to_x2apic());
    CHECK_EQ(msr(0x802), 0x35);                 /* ...is not the x2APIC ID */
    CHECK(!lapic_msr_write(&l, 0x802, 7));      /* read-only */
    CHECK(!lapic_msr_write(&l, 0x80D, 7));
    /* The MMIO page is not decoded in x2APIC mode (11.12.2). */
    CHECK_EQ(lapic_mmio_base(&l), LAPIC_MMIO_NONE);
    uint64_t u = l.unknown;
    CHECK_EQ(rd(LAPIC_VERSION), 0);
    wr(LAPIC_TPR, 0x80);
    CHECK_EQ(msr(0x808), 0);
    CHECK_EQ(l.unknown, u + 2);
}

TEST(x2apic_gp_rules)
{
    reset_id(2, true);
    uint64_t v;
    CHECK(!lapic_msr_read(&l, 0x802, &v));      /* xAPIC mode: every x2APIC MSR #GPs */
    CHECK(!lapic_msr_write(&l, 0x808, 0));
    CHECK(to_x2apic());
    /* Reserved, absent, or write-only for reads. */
    static const uint32_t no_read[] = { 0x800, 0x801, 0x804, 0x807, 0x809, 0x80B, 0x80C, 0x80E,
                                        0x829, 0x82E, 0x82F, 0x831, 0x83A, 0x83D, 0x83F, 0x840,
                                        0x8FF, 0x7FF, 0x900 };
    for (unsigned i = 0; i < ARRAY_SIZE(no_read); i++)
        CHECK(!lapic_msr_read(&l, no_read[i], &v));
    static const uint32_t can_read[] = { 0x802, 0x803, 0x808, 0x80A, 0x80D, 0x80F, 0x810, 0x817,
                                         0x818, 0x81F, 0x820, 0x827, 0x828, 0x830, 0x832, 0x833,
                                         0x834, 0x835, 0x836, 0x837, 0x838, 0x839, 0x83E };
    for (unsigned i = 0; i < ARRAY_SIZE(can_read); i++)
        CHECK(lapic_msr_read(&l, can_read[i], &v));
    /* Read-only and reserved for writes. */
    static const uint32_t no_write[] = { 0x802, 0x803, 0x809, 0x80A, 0x80C, 0x80D, 0x80E, 0x810,
                                         0x818, 0x820, 0x827, 0x82F, 0x831, 0x839, 0x800, 0x840 };
    for (unsigned i = 0; i < ARRAY_SIZE(no_write); i++)
        CHECK(!lapic_msr_write(&l, no_write[i], 0));
    /* Reserved bits (11.12.1.3), non-zero EOI/ESR, bits 63:32. */
    CHECK(!lapic_msr_write(&l, 0x80B, 1));
    CHECK(lapic_msr_write(&l, 0x80B, 0));
    CHECK(!lapic_msr_write(&l, 0x828, 1));
    CHECK(lapic_msr_write(&l, 0x828, 0));
    CHECK(!lapic_msr_write(&l, 0x808, 0x100));
    CHECK(!lapic_msr_write(&l, 0x808, 1ull << 32));
    CHECK(lapic_msr_write(&l, 0x808, 0x80));
    CHECK_EQ(msr(0x808), 0x80);
    CHECK(!lapic_msr_write(&l, 0x80F, BIT(12) | 0x1FF));    /* no EOI-broadcast suppression */
    CHECK(lapic_msr_write(&l, 0x80F, 0x3FF));
    CHECK(!lapic_msr_write(&l, 0x832, BIT(19)));
    CHECK(!lapic_msr_write(&l, 0x837, LVT_DELIVERY_NMI));  /* error LVT has no delivery mode */
    CHECK(lapic_msr_write(&l, 0x837, 0xFE | LVT_DELIVERY_STATUS));  /* read-only bit: ignored */
    CHECK_EQ(msr(0x837), 0xFE);
    CHECK(lapic_msr_write(&l, 0x835, LVT_DELIVERY_EXTINT | LVT_LEVEL | LVT_POLARITY_LOW));
    CHECK(!lapic_msr_write(&l, 0x83E, 0x4));
    CHECK(lapic_msr_write(&l, 0x83E, 0xB));
    CHECK(lapic_msr_write(&l, 0x838, 0xFFFFFFFF));          /* all 32 bits of the count */
    CHECK(!lapic_msr_write(&l, 0x838, 1ull << 32));
    CHECK(!lapic_msr_write(&l, 0x83F, 0x100));
    CHECK(!lapic_msr_write(&l, 0x830, BIT(13) | 0x40 | LAPIC_ICR_SH_SELF));
    CHECK(!lapic_msr_write(&l, 0x830, BIT(16) | 0x40 | LAPIC_ICR_SH_SELF));
    CHECK(lapic_msr_write(&l, 0x830, LAPIC_ICR_BUSY | 0x40 | LAPIC_ICR_SH_SELF));
    CHECK(irr_has(0x40));
    CHECK_EQ(msr(0x830), 0x40 | LAPIC_ICR_SH_SELF);         /* BUSY reads 0 */
}

TEST(x2apic_icr_and_self_ipi)
{
    reset_id(0x123, true);
    CHECK(to_x2apic());
    CHECK(lapic_msr_write(&l, 0x80F, 0x1FF));
    CHECK(lapic_msr_write(&l, 0x830, 0x123ull << 32 | 0x55));   /* physical, 32-bit ID */
    CHECK(irr_has(0x55));
    CHECK_EQ(msr(0x830), 0x123ull << 32 | 0x55);
    CHECK(lapic_msr_write(&l, 0x830, 0x23ull << 32 | 0x56));    /* the low 8 bits alone: no */
    CHECK(!irr_has(0x56));
    CHECK(lapic_msr_write(&l, 0x830, 0xFFFFFFFFull << 32 | 0x57));  /* broadcast */
    CHECK(irr_has(0x57));
    /* Logical: cluster 0x12, bit 3 (LDR 0x00120008). */
    CHECK_EQ(msr(0x80D), 0x00120008);
    CHECK(lapic_msr_write(&l, 0x830, 0x0012000Cull << 32 | LAPIC_ICR_LOGICAL | 0x58));
    CHECK(irr_has(0x58));
    CHECK(lapic_msr_write(&l, 0x830, 0x00130008ull << 32 | LAPIC_ICR_LOGICAL | 0x59));
    CHECK(!irr_has(0x59));
    CHECK(lapic_msr_write(&l, 0x83F, 0x66));    /* SELF IPI */
    CHECK(irr_has(0x66));
    CHECK(lapic_msr_write(&l, 0x83F, 0x05));    /* illegal vector */
    CHECK(lapic_msr_write(&l, 0x828, 0));
    CHECK_EQ(msr(0x828), 0x20);
    CHECK_EQ(lapic_pending(&l), 0x66);
    CHECK_EQ(lapic_ack(&l), 0x66);
    CHECK_EQ(msr(0x80A), 0x60);                 /* PPR */
    CHECK_EQ(msr(0x810 + 0x66 / 32), BIT(0x66 % 32));
    CHECK(lapic_msr_write(&l, 0x80B, 0));
    CHECK_EQ(msr(0x80A), 0);
}

TEST(apic_base_mode_transitions)
{
    /* 11.12.5: disabled <-> xAPIC -> x2APIC -> disabled; EN=0 EXTD=1 is invalid. */
    const uint64_t b = LAPIC_DEFAULT_BASE;
    reset_id(9, true);
    CHECK(!lapic_set_base(&l, b | APIC_BASE_EXTD, 46));             /* invalid state */
    CHECK(to_x2apic());
    CHECK(!lapic_set_base(&l, b | APIC_BASE_EN, 46));               /* x2APIC -> xAPIC */
    CHECK(!lapic_set_base(&l, b | APIC_BASE_EXTD, 46));
    CHECK_EQ(lapic_get_base(&l), b | APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP);
    CHECK(lapic_set_base(&l, b, 46));                                /* -> disabled */
    CHECK(!lapic_set_base(&l, b | APIC_BASE_EN | APIC_BASE_EXTD, 46));  /* disabled -> x2APIC */
    CHECK(lapic_set_base(&l, b | APIC_BASE_EN, 46));                 /* -> xAPIC */
    CHECK(to_x2apic());
    /* Without x2APIC in CPUID, EXTD is reserved. */
    reset();
    l.x2apic_capable = false;
    CHECK(!to_x2apic());
    /* Reserved bits: 7:0, 9, and from MAXPHYADDR up; BSP is not the guest's to change. */
    reset();
    CHECK(!lapic_set_base(&l, b | APIC_BASE_EN | 1, 46));
    CHECK(!lapic_set_base(&l, b | APIC_BASE_EN | BIT(9), 46));
    CHECK(!lapic_set_base(&l, b | APIC_BASE_EN | BIT(46), 46));
    CHECK(lapic_set_base(&l, b | APIC_BASE_EN | BIT(45), 46));
    CHECK(lapic_set_base(&l, b | APIC_BASE_EN, 46));                 /* BSP written 0 */
    CHECK_EQ(lapic_get_base(&l), b | APIC_BASE_EN | APIC_BASE_BSP);
    CHECK(!lapic_set_base(&l, b | APIC_BASE_EN | BIT(63), 99));      /* clamped to 52 */
}

TEST(global_disable_resets_and_bypasses)
{
    /* 11.4.3: EN=0 returns the APIC to its power-on state; only the ID survives (11.12.5). */
    reset_id(4, true);
    lapic_virtual_wire(&l);
    wr(LAPIC_ID, 0x07000000);
    wr(LAPIC_TPR, 0x30);
    wr(LAPIC_LDR, 0x01000000);
    wr(LAPIC_LVT_TIMER, 0x40 | LVT_TIMER_PERIODIC);
    wr(LAPIC_TIMER_ICR, 100000);
    lapic_accept(&l, 0x70, false);
    lapic_accept(&l, 0x71, false);
    lapic_ack(&l);
    CHECK(lapic_set_base(&l, LAPIC_DEFAULT_BASE, 46));
    CHECK_EQ(lapic_mmio_base(&l), LAPIC_MMIO_NONE);
    CHECK_EQ(rd(LAPIC_TPR), 0);                 /* not decoded */
    CHECK_EQ(lapic_pending(&l), -1);
    CHECK(!lapic_accept(&l, 0x72, false));
    CHECK(lapic_extint_enabled(&l));            /* INTR straight to the CPU */
    lapic_lint_edge(&l, 1);                     /* LINT1 is the NMI pin */
    CHECK(lapic_take_nmi(&l));
    now += 1000000;
    lapic_timer_catch_up(&l);
    CHECK_EQ(l.timer_fired, 0);
    CHECK(lapic_set_base(&l, LAPIC_DEFAULT_BASE | APIC_BASE_EN, 46));
    CHECK_EQ(rd(LAPIC_ID), 0x07000000);         /* kept */
    CHECK_EQ(rd(LAPIC_TPR), 0);
    CHECK_EQ(rd(LAPIC_LDR), 0);
    CHECK_EQ(rd(LAPIC_SVR), 0xFF);
    CHECK_EQ(rd(LAPIC_DFR), 0xFFFFFFFF);
    CHECK_EQ(rd(LAPIC_LVT_LINT0), LVT_MASKED);
    CHECK_EQ(rd(LAPIC_LVT_TIMER), LVT_MASKED);
    CHECK_EQ(rd(LAPIC_TIMER_ICR), 0);
    CHECK_EQ(rd(LAPIC_TIMER_CCR), 0);
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(l.irr[i] | l.isr[i] | l.tmr[i], 0);
    CHECK(!lapic_extint_enabled(&l));
    /* x2APIC -> disabled -> xAPIC keeps the xAPIC ID too. */
    CHECK(to_x2apic());
    CHECK(lapic_set_base(&l, LAPIC_DEFAULT_BASE, 46));
    CHECK(lapic_set_base(&l, LAPIC_DEFAULT_BASE | APIC_BASE_EN, 46));
    CHECK_EQ(rd(LAPIC_ID), 0x07000000);
    CHECK_EQ(rd(LAPIC_LDR), 0);
}

TEST(apic_base_relocation_is_reported)
{
    reset();
    CHECK(lapic_set_base(&l, 0xFED00000 | APIC_BASE_EN, 36));
    CHECK_EQ(lapic_get_base(&l), 0xFED00000 | APIC_BASE_EN | APIC_BASE_BSP);
    CHECK_EQ(lapic_mmio_base(&l), 0xFED00000);
    CHECK_EQ(rd(LAPIC_VERSION), 0x00050014);    /* the page decodes at its offsets */
    CHECK(!lapic_set_base(&l, 0x1000000000ull | APIC_BASE_EN, 36));  /* bit 36 */
    CHECK(lapic_set_base(&l, 0x1000000000ull | APIC_BASE_EN, 40));
    CHECK_EQ(lapic_mmio_base(&l), 0x1000000000ull);
}

TEST(mmio_reserved_offsets)
{
    /* 11.5.3: ESR bit 7 for an access to a reserved register in xAPIC mode. */
    reset();
    enable();
    uint64_t u = l.unknown;
    CHECK_EQ(rd(0x010), 0);
    CHECK_EQ(esr(), 0x80);
    CHECK_EQ(rd(0x024), 0);                     /* not the first dword of a register */
    CHECK_EQ(rd(LAPIC_LVT_CMCI), 0);            /* no CMCI: six LVT entries */
    CHECK_EQ(rd(0x1000), 0);
    wr(LAPIC_SELF_IPI, 0x50);                   /* SELF IPI is x2APIC only */
    CHECK(!irr_has(0x50));
    CHECK_EQ(esr(), 0x80);
    CHECK_EQ(l.unknown, u + 5);
    wr(LAPIC_VERSION, 0);                       /* read-only: ignored, counted, no error */
    wr(LAPIC_PPR, 0xFF);
    wr(LAPIC_IRR, 0xFFFFFFFF);
    wr(LAPIC_TIMER_CCR, 5);
    CHECK_EQ(rd(LAPIC_VERSION), 0x00050014);
    CHECK_EQ(rd(LAPIC_IRR), 0);
    CHECK_EQ(esr(), 0);
    CHECK_EQ(l.unknown, u + 9);
    CHECK_EQ(rd(LAPIC_APR), 0);
    CHECK_EQ(rd(LAPIC_RRD), 0);
    wr(LAPIC_ID, 0xFFFFFFFF);
    CHECK_EQ(rd(LAPIC_ID), 0xFF000000);         /* only bits 31:24 */
    wr(LAPIC_LDR, 0xFFFFFFFF);
    CHECK_EQ(rd(LAPIC_LDR), 0xFF000000);
    wr(LAPIC_DFR, 0);
    CHECK_EQ(rd(LAPIC_DFR), 0x0FFFFFFF);
    wr(LAPIC_TIMER_DCR, 0xFFFFFFFF);
    CHECK_EQ(rd(LAPIC_TIMER_DCR), 0xB);
    wr(LAPIC_LVT_LINT0, 0xFFFFFFFF);
    CHECK_EQ(rd(LAPIC_LVT_LINT0), 0x1A7FF);     /* remote IRR, delivery status read 0 */
    wr(LAPIC_LVT_TIMER, 0xFFFFFFFF);
    CHECK_EQ(rd(LAPIC_LVT_TIMER), 0x700FF);
}

/* ---- garbage ------------------------------------------------------------------------------ */

static uint64_t xs = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    xs ^= xs << 13;
    xs ^= xs >> 7;
    xs ^= xs << 17;
    return xs;
}

static void check_invariants(void)
{
    int isrv = highest(l.isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    uint32_t ppr = (l.tpr & 0xF0) >= isr_class ? l.tpr : isr_class;
    CHECK_EQ(lapic_ppr(&l), ppr);
    CHECK(l.tpr <= 0xFF);
    CHECK_EQ((l.irr[0] | l.isr[0]) & 0xFFFF, 0);  /* vectors 0-15 never get in */
    int p = lapic_pending(&l);
    if (p >= 0) {
        CHECK(p > 15);
        CHECK(((uint32_t)p & 0xF0) > (ppr & 0xF0));
        CHECK(irr_has((unsigned)p));
        CHECK_EQ(p, highest(l.irr));
    }
    CHECK(lapic_timer_ccr(&l) <= l.timer_icr);
    lapic_timer_catch_up(&l);
    uint64_t next = lapic_timer_next(&l);
    CHECK(next == UINT64_MAX || next > l.clock.last);
    CHECK_EQ(l.esr & ~0xE0u, 0);
    CHECK_EQ(l.esr_pending & ~0xE0u, 0);
    CHECK_EQ(l.svr & ~0x3FFu, 0);
    if (!(l.svr & LAPIC_SVR_ENABLE) || !(l.base & APIC_BASE_EN))
        for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
            CHECK(l.lvt[i] & LVT_MASKED);
    CHECK(!((l.base & APIC_BASE_EXTD) && !(l.base & APIC_BASE_EN)));
    CHECK(!l.timer_armed || l.timer_icr);
}

TEST(garbage_register_traffic_keeps_the_invariants)
{
    static const uint32_t offsets[] = {
        LAPIC_ID, LAPIC_VERSION, LAPIC_TPR, LAPIC_APR, LAPIC_PPR, LAPIC_EOI, LAPIC_RRD,
        LAPIC_LDR, LAPIC_DFR, LAPIC_SVR, LAPIC_ISR, LAPIC_TMR + 0x70, LAPIC_IRR + 0x30,
        LAPIC_ESR, LAPIC_LVT_CMCI, LAPIC_ICR_LO, LAPIC_ICR_HI, LAPIC_LVT_TIMER,
        LAPIC_LVT_THERMAL, LAPIC_LVT_PERF, LAPIC_LVT_LINT0, LAPIC_LVT_LINT1, LAPIC_LVT_ERROR,
        LAPIC_TIMER_ICR, LAPIC_TIMER_CCR, LAPIC_TIMER_DCR, LAPIC_SELF_IPI,
        LAPIC_TIMER_ICR, LAPIC_LVT_TIMER, LAPIC_TIMER_DCR, LAPIC_EOI, LAPIC_SVR,
    };
    static const uint64_t bases[] = {
        LAPIC_DEFAULT_BASE | APIC_BASE_EN, LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD,
        LAPIC_DEFAULT_BASE, LAPIC_DEFAULT_BASE | APIC_BASE_EXTD, 0xFED00000 | APIC_BASE_EN,
    };
    reset();
    lapic_virtual_wire(&l);
    uint64_t tsc = 0;
    for (long i = 0; i < 1000000; i++) {
        uint64_t r = rnd(), v = rnd();
        /* Values near what a guest writes, now and then pure noise. */
        if (r & 0x100)
            v &= (r & 0x200) ? 0x000700FF | LVT_TIMER_MODE_MASK : 0xFFFF;
        if ((r & 0xF000) == 0)
            v = (v & 0x3) | 0x100;              /* short counts: stretched periods */
        switch (r % 16) {
        case 0: case 1: case 2: case 3:
            lapic_mmio_write(&l, offsets[(r >> 8) % ARRAY_SIZE(offsets)], (uint32_t)v);
            break;
        case 4:
            lapic_mmio_write(&l, (uint32_t)(v >> 32) & 0x1FFC, (uint32_t)v);
            break;
        case 5:
            (void)lapic_mmio_read(&l, offsets[(r >> 8) % ARRAY_SIZE(offsets)]);
            break;
        case 6: case 7: {
            uint32_t m = MSR_X2APIC_BASE + (uint32_t)(r >> 8) % 0x40;
            if ((r & 0x3000) == 0)
                m = 0x7F0 + (uint32_t)(r >> 8) % 0x120;
            (void)lapic_msr_write(&l, m, (r & 0x400) ? v : (uint32_t)v);
            break;
        }
        case 8: {
            uint64_t x;
            (void)lapic_msr_read(&l, MSR_X2APIC_BASE + (uint32_t)(r >> 8) % 0x100, &x);
            break;
        }
        case 9:
            lapic_accept(&l, (uint8_t)v, r & 0x100);
            break;
        case 10:
            (void)lapic_ack(&l);
            break;
        case 11:
            if (r & 0x100)
                wr(LAPIC_EOI, 0);
            else
                lapic_lint_edge(&l, (unsigned)(v % 3));
            (void)lapic_take_nmi(&l);
            break;
        case 12:
            tsc += v & 0xFFFFF;
            lapic_write_tsc_deadline(&l, (r & 0x100) ? tsc + (v >> 40) : v, tsc,
                                     (r & 0x200) ? 2500000000ull : v >> 20);
            (void)lapic_read_tsc_deadline(&l);
            break;
        case 13:
            if ((r & 0x7F) == 13)
                (void)lapic_set_base(&l, (r & 0x100) ? v : bases[(r >> 9) % ARRAY_SIZE(bases)],
                                     (unsigned)(v >> 58));
            else if ((r & 0x7F) == 14)
                lapic_virtual_wire(&l);
            break;
        default:                                /* time passes, jumps, or goes back */
            if ((r & 0xFFF) == 15)
                now = (r & 0x1000) ? now / 2 : now + (v << 20);
            else
                now += v & 0x3FFFF;
            break;
        }
        check_invariants();
        if (test_failed_checks > 20)
            break;                              /* one bug, not a million reports */
    }
    CHECK(l.accepted > 1000);
    CHECK(l.timer_fired > 0);
}
