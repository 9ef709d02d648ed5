/* The device timer registry with the real PIT and RTC models, a fake platform clock and the
 * IRQ router over the 8259: deadlines in platform time, catch-up raising IRQ0, masked lines
 * needing no deadline, devices that say their deadline moved, and the tick conversions. */
#include "test.h"
#include "dev/timer_registry.h"
#include "dev/i8254.h"
#include "dev/mc146818.h"

#define TIME_HZ 100000000ull            /* a 100 MHz TSC, as Bochs' */

static uint64_t now;                    /* platform time */
static struct i8259 pic;
static struct irq_router irq;
static struct timer_registry reg;
static struct i8254 pit;
static struct mc146818 rtc;
static struct dev_timer pit_t, rtc_t;

static uint64_t pit_clock(void *ctx) { return time_to_ticks(now, PIT_HZ, TIME_HZ); }
static uint64_t rtc_clock(void *ctx) { return time_to_ticks(now, RTC_HZ, TIME_HZ); }
static void pit_edge(void *ctx) { irq_pulse(&irq, 0); }
static void rtc_irq(void *ctx, bool level) { irq_set(&irq, 8, level); }
static void sync(void *r) { timers_sync(r, now); }
static uint64_t pit_next(void *d) { return i8254_next_irq(d); }
static void pit_up(void *d) { i8254_catch_up(d); }
static uint64_t rtc_next(void *d) { return mc146818_next_event(d); }
static void rtc_up(void *d) { mc146818_update(d); }

static void setup(void)
{
    now = 12345;
    i8259_init(&pic, irq_routing_changed, irq_sync_lines, &irq);
    irq_router_init(&irq, &pic, timer_moved, sync, &reg);
    timer_registry_init(&reg, TIME_HZ, &irq);
    i8254_init(&pit, pit_clock, pit_edge, NULL);
    mc146818_init(&rtc, NULL, 640, 0, rtc_clock, rtc_irq, NULL);
    dev_clock_on_move(&pit.clock, timer_moved, &reg);
    dev_clock_on_move(&rtc.clock, timer_moved, &reg);
    pit_t = (struct dev_timer){ "pit", PIT_HZ, 0, pit_next, pit_up, &pit, NULL };
    rtc_t = (struct dev_timer){ "rtc", RTC_HZ, 8, rtc_next, rtc_up, &rtc, NULL };
    CHECK(timer_register(&reg, &pit_t));
    CHECK(timer_register(&reg, &rtc_t));
    i8259_write(&pic, 0x20, 0x11); i8259_write(&pic, 0x21, 0x20); i8259_write(&pic, 0x21, 0x04); i8259_write(&pic, 0x21, 0x01);
    i8259_write(&pic, 0xA0, 0x11); i8259_write(&pic, 0xA1, 0x28); i8259_write(&pic, 0xA1, 0x02); i8259_write(&pic, 0xA1, 0x01);
    i8259_write(&pic, 0x21, 0xFF);
    i8259_write(&pic, 0xA1, 0xFF);
}

static void pit_periodic(uint16_t count)
{
    i8254_write(&pit, 0x43, 0x34);
    i8254_write(&pit, 0x40, count & 0xFF);
    i8254_write(&pit, 0x40, count >> 8);
}

TEST(conversions_round_up_and_saturate)
{
    CHECK_EQ(time_to_ticks(TIME_HZ, PIT_HZ, TIME_HZ), PIT_HZ);
    CHECK_EQ(ticks_to_time(PIT_HZ, PIT_HZ, TIME_HZ), TIME_HZ);
    uint64_t t = ticks_to_time(1, PIT_HZ, TIME_HZ);     /* 83.8 TSC cycles: rounds up */
    CHECK_EQ(t, 84);
    CHECK(time_to_ticks(t, PIT_HZ, TIME_HZ) >= 1);
    CHECK_EQ(ticks_to_time(UINT64_MAX, PIT_HZ, TIME_HZ), UINT64_MAX);
    CHECK_EQ(ticks_to_time(1ull << 62, PIT_HZ, TIME_HZ), UINT64_MAX);     /* would wrap */
    CHECK(ticks_to_time((1ull << 62) / TIME_HZ, 1, TIME_HZ) < UINT64_MAX);
}

TEST(masked_timer_has_no_deadline_unmasking_gives_one)
{
    setup();
    pit_periodic(1193);                 /* 1000 Hz */
    CHECK_EQ(timers_update(&reg, now), UINT64_MAX);     /* IRQ0 masked: latch later */
    uint64_t updates = reg.updates;
    CHECK_EQ(timers_update(&reg, now + 10), UINT64_MAX);
    CHECK_EQ(reg.updates, updates);     /* nothing moved: the fast path */
    i8259_write(&pic, 0x21, 0xFE);      /* unmask IRQ0: the router says routing changed */
    CHECK(reg.moved);
    uint64_t d = timers_update(&reg, now);
    CHECK(d > now && d <= now + TIME_HZ / 1000 + 1);
}

TEST(catch_up_raises_one_edge_per_period_and_merges_missed_ones)
{
    setup();
    i8259_write(&pic, 0x21, 0xFE);
    pit_periodic(1193);
    uint64_t d = timers_update(&reg, now);
    unsigned taken = 0;
    for (int i = 0; i < 1000; i++) {    /* one second, looking at each deadline */
        now = d;
        d = timers_update(&reg, now);
        if (irq_pending(&irq)) {
            CHECK_EQ(irq_ack(&irq), 0x20);
            i8259_write(&pic, 0x20, 0x20);
            taken++;
        }
    }
    CHECK(taken >= 999 && taken <= 1000);
    CHECK_EQ(pit.out0_late, 0);
    /* 50 ms unseen (the VM did not run): one edge stands for 50. */
    uint64_t edges = pit.out0_edges;
    now += TIME_HZ / 20;
    timers_update(&reg, now);
    CHECK_EQ(pit.out0_edges, edges + 1);
    CHECK_EQ(pit.out0_late, 1);
}

TEST(device_says_its_deadline_moved)
{
    setup();
    i8259_write(&pic, 0x21, 0xFE);
    pit_periodic(11932);                /* 100 Hz */
    uint64_t d100 = timers_update(&reg, now);
    CHECK(!reg.moved);
    i8254_write(&pit, 0x40, 1193 & 0xFF);   /* a new count, no control word: the PIT says */
    i8254_write(&pit, 0x40, 1193 >> 8);     /* its deadline moved itself */
    CHECK(reg.moved);
    /* A mode 2 reload waits for the running period's end (8254 datasheet), then 1 kHz. */
    uint64_t d = timers_update(&reg, now);
    CHECK_EQ(d, d100);
    now = d;
    d = timers_update(&reg, now);
    CHECK(d > now && d <= now + TIME_HZ / 1000 + 1);
    /* The RTC's periodic interrupt, enabled by a register write, joins the deadline. */
    i8259_write(&pic, 0x21, 0xFA);      /* IRQ0 and the cascade */
    i8259_write(&pic, 0xA1, 0xFE);      /* IRQ8 */
    d = timers_update(&reg, now);
    mc146818_write(&rtc, 0x70, 0x0B);   /* an index write moves nothing */
    CHECK(!reg.moved);
    mc146818_write(&rtc, 0x71, 0x42);   /* PIE, 24 h: the RTC says its deadline moved */
    CHECK(reg.moved);
    uint64_t both = timers_update(&reg, now);
    CHECK(both == MIN(d, ticks_to_time(mc146818_next_event(&rtc), RTC_HZ, TIME_HZ)));
    CHECK(both > now);
}

TEST(deadline_never_in_the_past_under_random_reprogramming)
{
    setup();
    uint32_t x = 99;
    for (int i = 0; i < 50000; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        switch (x % 6) {
        case 0: i8254_write(&pit, (uint16_t)(0x40 + (x >> 8) % 4), (uint8_t)(x >> 16)); break;
        case 1: i8259_write(&pic, (x >> 8) & 1 ? 0x21 : 0xA1, (uint8_t)(x >> 16)); break;
        case 2: mc146818_write(&rtc, (x >> 8) & 1 ? 0x70 : 0x71, (uint8_t)(x >> 16)); break;
        case 3: now += (x >> 10) % 200000; break;
        case 4: (void)mc146818_read(&rtc, 0x71); break;
        default:
            if (irq_pending(&irq)) {
                (void)irq_ack(&irq);
                i8259_write(&pic, 0x20, 0x20);
                i8259_write(&pic, 0xA0, 0x20);
            }
            break;
        }
        uint64_t d = timers_update(&reg, now);
        CHECK(d == UINT64_MAX || d > now);
    }
}

/* Linux's and pit_tick's check of a masked line: the edge latches in IRR, and a read of IRR
 * (OCW3 then port 0x20) shows it although no deadline was armed for the masked line. */
TEST(masked_edge_shows_in_irr_when_the_pic_is_read)
{
    setup();
    pit_periodic(1193);
    CHECK_EQ(timers_update(&reg, now), UINT64_MAX);
    now += TIME_HZ / 100;               /* 10 ms: edges passed on the masked line */
    i8259_write(&pic, 0x20, 0x0A);      /* OCW3: read IRR */
    CHECK(i8259_read(&pic, 0x20) & 1);
    CHECK(!irq_pending(&irq));          /* masked: nothing for the CPU */
    uint64_t updates = reg.updates;
    (void)i8259_read(&pic, 0x20);       /* nothing newly due: no catch-up */
    CHECK_EQ(reg.updates, updates);
}

/* The whole interrupt side as a VM has it: PIT, RTC and the LAPIC timer in the registry, the
 * router with the 8259, I/O APIC and LAPIC, the clock running. Random register garbage (as the
 * dev_fuzz guest writes it), line changes, acks and EOIs, with a registry update before each
 * "entry" as the vCPU does: every call must return, and the next deadline must be after now
 * or none (an endless run of due deadlines would keep a vCPU exiting and never running). */
static struct lapic lapic;
static struct ioapic ioapic;
static struct dev_timer lapic_t;
static uint64_t lapic_clock(void *ctx) { return time_to_ticks(now, LAPIC_TIMER_HZ, TIME_HZ); }
static void lapic_eoi_cb(void *ctx, uint8_t vector) { irq_eoi_broadcast(&irq, vector); }
static uint64_t lapic_next_cb(void *l) { return lapic_timer_next(l); }
static void lapic_up_cb(void *l) { lapic_timer_catch_up(l); }
static bool lapic_en_cb(void *l) { return lapic_timer_enabled(l); }

TEST(whole_interrupt_side_fuzzed)
{
    setup();
    lapic_init(&lapic, 0, true, lapic_clock, lapic_eoi_cb, NULL);
    lapic_virtual_wire(&lapic);
    dev_clock_on_move(&lapic.clock, timer_moved, &reg);
    ioapic_init(&ioapic, 1, NULL, NULL, NULL);
    irq_router_attach_apics(&irq, &ioapic, &lapic);
    lapic_t = (struct dev_timer){ "lapic", LAPIC_TIMER_HZ, 0, lapic_next_cb, lapic_up_cb, &lapic, lapic_en_cb };
    CHECK(timer_register(&reg, &lapic_t));
    pit_periodic(1193);
    uint32_t x = 0x1234567;
    unsigned late = 0;
    for (unsigned step = 0; step < 300000; step++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        uint32_t v = x * 2654435761u;
        switch (x % 10) {
        case 0: case 1: lapic_mmio_write(&lapic, (x >> 4) % 0x40 * 16, v); break;
        case 2: ioapic_reg_write(&ioapic, (uint8_t)(x >> 4), v); break;
        case 3: if (irq_pending(&irq)) (void)irq_ack(&irq); break;
        case 4: lapic_mmio_write(&lapic, LAPIC_EOI, 0); break;
        case 5: i8259_write(&pic, (x >> 4) & 1 ? 0x21 : 0x20, (uint8_t)v); break;
        case 6: irq_set(&irq, (x >> 4) % IRQ_GSI_COUNT, v & 1); break;
        case 7: (void)lapic_mmio_read(&lapic, (x >> 4) % 0x40 * 16); break;
        default: now += v % 20000; break;
        }
        uint64_t next = timers_update(&reg, now);
        if (next <= now && next != UINT64_MAX)
            late++;
    }
    printf("  %u updates left a deadline at or before now\n", late);
    CHECK(late < 1000);
}
