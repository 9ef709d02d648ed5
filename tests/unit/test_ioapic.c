/* 82093AA IOAPIC: the registers of datasheet 290566 section 3, edge and level delivery with
 * remote IRR and the EOI broadcast, the sequences Linux's io_apic.c uses (the edge-and-back
 * EOI of __eoi_ioapic_pin for version < 0x20), and a fuzz run with invariants. */
#include "test.h"
#include "dev/ioapic.h"

#define MAX_MSGS 64

static struct ioapic io;
static struct ioapic_msg msgs[MAX_MSGS];
static unsigned nmsgs, nmask_changes;

static void on_deliver(void *ctx, const struct ioapic_msg *m)
{
    (void)ctx;
    if (nmsgs < MAX_MSGS)
        msgs[nmsgs] = *m;
    nmsgs++;
}

static void on_masks(void *ctx) { (void)ctx; nmask_changes++; }

static void reset(void)
{
    nmsgs = nmask_changes = 0;
    memset(msgs, 0, sizeof(msgs));
    ioapic_init(&io, 2, on_deliver, on_masks, NULL);
}

/* The guest's view: dword accesses through IOREGSEL/IOWIN. */
static uint32_t rd(uint8_t reg)
{
    ioapic_mmio_write(&io, IOAPIC_IOREGSEL, 4, reg);
    return ioapic_mmio_read(&io, IOAPIC_IOWIN, 4);
}

static void wr(uint8_t reg, uint32_t v)
{
    ioapic_mmio_write(&io, IOAPIC_IOREGSEL, 4, reg);
    ioapic_mmio_write(&io, IOAPIC_IOWIN, 4, v);
}

static uint8_t lo(unsigned pin) { return (uint8_t)(0x10 + 2 * pin); }
static uint8_t hi(unsigned pin) { return (uint8_t)(0x11 + 2 * pin); }

/* As Linux's __ioapic_write_entry: the high dword first, then the low one. */
static void set_rte(unsigned pin, uint32_t low, uint8_t dest)
{
    wr(hi(pin), (uint32_t)dest << 24);
    wr(lo(pin), low);
}

#define EDGE        0u
#define LEVEL       (1u << 15)
#define MASKED      (1u << 16)
#define ACTIVE_LOW  (1u << 13)
#define LOGICAL     (1u << 11)
#define DELIVS      (1u << 12)
#define RIRR        (1u << 14)
#define DM(x)       ((uint32_t)(x) << 8)

TEST(power_on_state)
{
    reset();
    /* 3.2.1-3.2.3: ID in 27:24, version 0x11 with maximum redirection entry 0x17, the
     * arbitration ID loaded with the ID. 3.2.4: entries come up masked. */
    CHECK_EQ(rd(0x00), 0x02000000);
    CHECK_EQ(rd(0x01), 0x00170011);
    CHECK_EQ(rd(0x02), 0x02000000);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        CHECK_EQ(rd(lo(pin)), MASKED);
        CHECK_EQ(rd(hi(pin)), 0);
        CHECK(!ioapic_pin_enabled(&io, pin));
    }
    CHECK(!ioapic_any_enabled(&io));
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOREGSEL, 4), hi(23));  /* the last one selected */
    ioapic_init(&io, 0xF7, NULL, NULL, NULL);   /* only 4 ID bits exist */
    CHECK_EQ(rd(0x00), 0x07000000);
    CHECK_EQ(rd(0x02), 0x07000000);
}

TEST(register_indirection)
{
    reset();
    /* 3.1.1: IOREGSEL bits 7:0 select, 31:8 reserved (read 0). */
    ioapic_mmio_write(&io, IOAPIC_IOREGSEL, 4, 0xABCD1234);
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOREGSEL, 4), 0x34);
    /* 3.0: "a byte memory write ... loads the IOREGSEL Register with an 8-bit value". */
    ioapic_mmio_write(&io, IOAPIC_IOREGSEL, 1, 0x01);
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOWIN, 4), 0x00170011);
    ioapic_mmio_write(&io, IOAPIC_IOREGSEL, 2, 0x7702);
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOREGSEL, 4), 0x02);
    /* 3.2.4: entry 5 low at 0x1A, high at 0x1B; reserved 55:17 read 0. */
    wr(0x1A, 0xFFFFFFFF);
    wr(0x1B, 0xFFFFFFFF);
    CHECK_EQ(rd(0x1A), 0x0001BFFF & ~DELIVS);
    CHECK_EQ(rd(0x1B), 0xFF000000);
    CHECK_EQ(rd(lo(4)), MASKED);            /* neighbours untouched */
    CHECK_EQ(rd(lo(6)), MASKED);
    CHECK_EQ(io.redir[5], 0xFF0000000001AFFFull);
    CHECK_EQ(io.bad_access, 0);
}

TEST(id_write_and_read_only_registers)
{
    reset();
    wr(0x00, 0xFAFFFFFF);                   /* reserved bits dropped, 4-bit ID kept */
    CHECK_EQ(rd(0x00), 0x0A000000);
    CHECK_EQ(rd(0x02), 0x0A000000);         /* "same data is loaded into both" (3.2.1) */
    uint64_t bad = io.bad_access;
    wr(0x01, 0x12345678);                   /* IOAPICVER is RO */
    wr(0x02, 0x05000000);                   /* IOAPICARB is RO */
    CHECK_EQ(rd(0x01), 0x00170011);
    CHECK_EQ(rd(0x02), 0x0A000000);
    CHECK_EQ(io.bad_access, bad + 2);
}

TEST(unknown_indirect_registers)
{
    reset();
    static const uint8_t regs[] = { 0x03, 0x0F, 0x40, 0x41, 0x80, 0xFF };
    for (unsigned i = 0; i < ARRAY_SIZE(regs); i++) {
        uint64_t bad = io.bad_access;
        wr(regs[i], 0xFFFFFFFF);
        CHECK_EQ(rd(regs[i]), 0);
        CHECK_EQ(io.bad_access, bad + 2);
    }
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        CHECK_EQ(io.redir[pin], MASKED);
    CHECK_EQ(io.id, 2);
}

TEST(sub_dword_and_stray_accesses)
{
    reset();
    wr(lo(3), 0x0000A5C3 & ~(LEVEL | DELIVS | RIRR));
    wr(hi(3), 0x5A000000);
    ioapic_mmio_write(&io, IOAPIC_IOREGSEL, 4, lo(3));
    uint32_t full = ioapic_mmio_read(&io, IOAPIC_IOWIN, 4);
    /* Reads of other sizes return the addressed bytes of the dword (our choice; the
     * datasheet requires dword IOWIN accesses) and count as bad. */
    uint64_t bad = io.bad_access;
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOWIN + 0, 1), full & 0xFF);
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOWIN + 1, 1), (full >> 8) & 0xFF);
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOWIN + 2, 2), full >> 16);
    CHECK_EQ(io.bad_access, bad + 3);
    /* A partial IOWIN write is ignored: no read-modify-write of the entry. */
    ioapic_mmio_write(&io, IOAPIC_IOWIN, 1, 0x00);
    ioapic_mmio_write(&io, IOAPIC_IOWIN + 2, 2, 0x0000);
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOWIN, 4), full);
    /* IOREGSEL's reserved bytes take nothing. */
    ioapic_mmio_write(&io, IOAPIC_IOREGSEL + 1, 1, 0x01);
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOREGSEL, 4), lo(3));
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOREGSEL + 0, 1), lo(3));
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOREGSEL + 1, 1), 0);
    /* Crossing a dword, odd sizes, 8 bytes, beyond the page, elsewhere in the page. */
    bad = io.bad_access;
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOWIN + 2, 4), 0);
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOWIN, 3), 0);
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOWIN, 8), 0);
    CHECK_EQ(ioapic_mmio_read(&io, 0x1000, 4), 0);
    CHECK_EQ(ioapic_mmio_read(&io, 0x20, 4), 0);
    CHECK_EQ(ioapic_mmio_read(&io, 0xFFC, 4), 0);
    CHECK_EQ(ioapic_mmio_read(&io, 0x04, 4), 0);     /* no aliases modelled */
    ioapic_mmio_write(&io, IOAPIC_IOWIN, 8, 0);
    ioapic_mmio_write(&io, 0x1010, 4, 0);
    ioapic_mmio_write(&io, 0x14, 4, 0);
    CHECK_EQ(io.bad_access, bad + 10);
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOWIN, 4), full);
    CHECK_EQ(ioapic_mmio_read(&io, IOAPIC_IOREGSEL, 4), lo(3));
}

TEST(edge_one_message_per_rising_edge)
{
    reset();
    set_rte(1, 0x31 | EDGE, 0x01);
    CHECK(ioapic_pin_enabled(&io, 1));
    CHECK(ioapic_any_enabled(&io));
    ioapic_set_irq(&io, 1, true);
    CHECK_EQ(nmsgs, 1);
    CHECK_EQ(msgs[0].vector, 0x31);
    CHECK_EQ(msgs[0].delivery_mode, IOAPIC_DM_FIXED);
    CHECK(!msgs[0].dest_logical);
    CHECK_EQ(msgs[0].dest, 0x01);
    CHECK(!msgs[0].level);
    CHECK_EQ(msgs[0].pin, 1);
    ioapic_set_irq(&io, 1, true);           /* still high: no edge */
    ioapic_set_irq(&io, 1, false);
    CHECK_EQ(nmsgs, 1);
    ioapic_set_irq(&io, 1, true);
    CHECK_EQ(nmsgs, 2);
    CHECK_EQ(io.delivered[1], 2);
    /* Edge entries have no remote IRR (3.2.4 bit 14) and need no EOI. */
    CHECK_EQ(rd(lo(1)) & (RIRR | DELIVS), 0);
    ioapic_eoi(&io, 0x31);
    CHECK_EQ(nmsgs, 2);
    CHECK_EQ(io.eoi_cleared, 0);
}

TEST(edge_on_masked_pin_is_lost)
{
    reset();
    set_rte(4, 0x34 | MASKED, 0);
    /* 3.2.4 bit 16: "Edge-sensitive interrupts signaled on a masked interrupt pin are
     * ignored (i.e., not delivered or held pending)". */
    ioapic_set_irq(&io, 4, true);
    CHECK_EQ(nmsgs, 0);
    CHECK_EQ(io.masked_edges, 1);
    set_rte(4, 0x34, 0);                    /* unmask while high: nothing was held */
    CHECK_EQ(nmsgs, 0);
    ioapic_set_irq(&io, 4, false);
    ioapic_set_irq(&io, 4, true);
    CHECK_EQ(nmsgs, 1);
}

TEST(edge_active_low)
{
    reset();
    ioapic_set_irq(&io, 9, true);           /* idle high, as an active-low line rests */
    set_rte(9, 0x39 | ACTIVE_LOW, 0);
    CHECK_EQ(nmsgs, 0);
    CHECK(!ioapic_pin_asserted(&io, 9));
    ioapic_set_irq(&io, 9, false);          /* falling edge asserts (3.2.4 bit 13) */
    CHECK_EQ(nmsgs, 1);
    CHECK(ioapic_pin_asserted(&io, 9));
    ioapic_set_irq(&io, 9, true);
    CHECK_EQ(nmsgs, 1);
    ioapic_set_irq(&io, 9, false);
    CHECK_EQ(nmsgs, 2);
}

TEST(polarity_flip_makes_no_edge)
{
    reset();
    set_rte(2, 0x32, 0);
    ioapic_set_irq(&io, 2, false);
    set_rte(2, 0x32 | ACTIVE_LOW, 0);       /* now asserted, but no pin transition */
    CHECK(ioapic_pin_asserted(&io, 2));
    CHECK_EQ(nmsgs, 0);
}

TEST(level_remote_irr_until_eoi)
{
    reset();
    set_rte(10, 0x3A | LEVEL, 0x03);
    ioapic_set_irq(&io, 10, true);
    CHECK_EQ(nmsgs, 1);
    CHECK(msgs[0].level);
    CHECK_EQ(msgs[0].vector, 0x3A);
    /* 3.2.4 bit 14: set when the LAPIC accepts the level interrupt... */
    CHECK(rd(lo(10)) & RIRR);
    CHECK_EQ(rd(lo(10)) & DELIVS, 0);       /* delivery is immediate: status idle */
    ioapic_set_irq(&io, 10, true);
    ioapic_set_irq(&io, 10, false);
    ioapic_set_irq(&io, 10, true);
    CHECK_EQ(nmsgs, 1);                     /* no re-delivery while remote IRR is set */
    CHECK_EQ(io.coalesced, 1);
    /* ...cleared by the EOI for its vector; the line is still asserted, so it sends again. */
    ioapic_eoi(&io, 0x3A);
    CHECK_EQ(nmsgs, 2);
    CHECK(rd(lo(10)) & RIRR);
    ioapic_set_irq(&io, 10, false);
    CHECK(rd(lo(10)) & RIRR);               /* deassertion alone does not clear it */
    ioapic_eoi(&io, 0x3A);
    CHECK_EQ(nmsgs, 2);                     /* deasserted: nothing more */
    CHECK_EQ(rd(lo(10)) & RIRR, 0);
    CHECK_EQ(io.eois, 2);
    CHECK_EQ(io.eoi_cleared, 2);
}

TEST(level_eoi_for_another_vector)
{
    reset();
    set_rte(11, 0x3B | LEVEL, 0);
    ioapic_set_irq(&io, 11, true);
    CHECK_EQ(nmsgs, 1);
    ioapic_eoi(&io, 0x3C);
    ioapic_eoi(&io, 0x3B ^ 0x80);
    CHECK_EQ(nmsgs, 1);
    CHECK(rd(lo(11)) & RIRR);
    CHECK_EQ(io.eoi_cleared, 0);
    CHECK_EQ(io.eois, 2);
}

TEST(level_shared_vector)
{
    reset();
    ioapic_set_irq(&io, 16, true);          /* PCI INTx: active low, resting high */
    ioapic_set_irq(&io, 17, true);
    set_rte(16, 0x50 | LEVEL | ACTIVE_LOW, 0);
    set_rte(17, 0x50 | LEVEL | ACTIVE_LOW, 0);
    CHECK_EQ(nmsgs, 0);
    ioapic_set_irq(&io, 16, false);
    ioapic_set_irq(&io, 17, false);
    CHECK_EQ(nmsgs, 2);
    ioapic_set_irq(&io, 16, true);          /* pin 16's device is done; pin 17's is not */
    ioapic_eoi(&io, 0x50);                  /* the EOI clears every entry with the vector */
    CHECK_EQ(nmsgs, 3);
    CHECK_EQ(msgs[2].pin, 17);
    CHECK_EQ(io.eoi_cleared, 2);
    CHECK_EQ(rd(lo(16)) & RIRR, 0);
    CHECK(rd(lo(17)) & RIRR);
}

TEST(unmask_asserted_level_delivers)
{
    reset();
    set_rte(12, 0x3C | LEVEL | MASKED, 0);
    ioapic_set_irq(&io, 12, true);
    CHECK_EQ(nmsgs, 0);                     /* "ignored and have no side effects" */
    CHECK_EQ(rd(lo(12)) & RIRR, 0);
    set_rte(12, 0x3C | LEVEL, 0);
    CHECK_EQ(nmsgs, 1);                     /* the level is still there at unmask */
    CHECK(msgs[0].level);
    /* Masking after delivery: the EOI still clears remote IRR, nothing sends while masked,
     * and the unmask sends again if the line is still high. */
    wr(lo(12), 0x3C | LEVEL | MASKED);
    CHECK(rd(lo(12)) & RIRR);               /* RO bit kept across the write */
    ioapic_eoi(&io, 0x3C);
    CHECK_EQ(rd(lo(12)) & RIRR, 0);
    CHECK_EQ(nmsgs, 1);
    wr(lo(12), 0x3C | LEVEL);
    CHECK_EQ(nmsgs, 2);
    /* Unmasking a deasserted level pin sends nothing. */
    set_rte(13, 0x3D | LEVEL | MASKED, 0);
    set_rte(13, 0x3D | LEVEL, 0);
    CHECK_EQ(nmsgs, 2);
}

TEST(edge_to_level_while_asserted_delivers)
{
    reset();
    set_rte(14, 0x3E, 0);
    ioapic_set_irq(&io, 14, true);
    CHECK_EQ(nmsgs, 1);
    wr(lo(14), 0x3E | LEVEL);               /* level sensitivity samples the level */
    CHECK_EQ(nmsgs, 2);
    CHECK(msgs[1].level);
    CHECK(rd(lo(14)) & RIRR);
}

/* Linux arch/x86/kernel/apic/io_apic.c, __eoi_ioapic_pin() for version < 0x20: "we simulate
 * the EOI message manually by changing the trigger mode to edge and then back to level,
 * with RTE being masked during this". The datasheet calls remote IRR undefined for edge
 * entries; Linux relies on edge clearing it on real parts, and KVM/QEMU/Xen model that. */
static void linux_eoi_ioapic_pin(unsigned pin)
{
    uint32_t l = rd(lo(pin)), h = rd(hi(pin));
    wr(hi(pin), h);
    wr(lo(pin), (l | MASKED) & ~LEVEL);
    CHECK_EQ(rd(lo(pin)) & RIRR, 0);        /* cleared by the edge write itself */
    wr(hi(pin), h);
    wr(lo(pin), l);
}

TEST(linux_edge_switch_clears_remote_irr)
{
    reset();
    set_rte(19, 0x61 | LEVEL, 0x01);
    ioapic_set_irq(&io, 19, true);
    ioapic_set_irq(&io, 19, false);         /* handled, but the EOI message got lost */
    CHECK(rd(lo(19)) & RIRR);
    unsigned masks = nmask_changes;
    linux_eoi_ioapic_pin(19);
    CHECK_EQ(rd(lo(19)), 0x61 | LEVEL);     /* back as it was, remote IRR clear */
    CHECK_EQ(nmsgs, 1);
    CHECK_EQ(nmask_changes, masks + 2);     /* masked, then unmasked */
    ioapic_set_irq(&io, 19, true);          /* the pin works again */
    CHECK_EQ(nmsgs, 2);
    /* Still asserted when restored: the restored level entry sends at once. */
    linux_eoi_ioapic_pin(19);
    CHECK_EQ(nmsgs, 3);
    CHECK_EQ(msgs[2].pin, 19);
    CHECK(rd(lo(19)) & RIRR);
    CHECK_EQ(io.eois, 0);                   /* no EOI broadcast was involved */
}

TEST(read_only_bits_unchanged_by_writes)
{
    reset();
    wr(lo(7), 0x37 | RIRR | DELIVS | LEVEL | MASKED);
    CHECK_EQ(rd(lo(7)), 0x37 | LEVEL | MASKED);     /* writes cannot set them */
    wr(lo(7), 0x37 | LEVEL);
    ioapic_set_irq(&io, 7, true);
    CHECK(rd(lo(7)) & RIRR);
    wr(lo(7), 0x37 | LEVEL);                /* writes cannot clear remote IRR either */
    CHECK(rd(lo(7)) & RIRR);
    wr(hi(7), 0xFFFFFFFF);                  /* the high half does not touch the low */
    CHECK(rd(lo(7)) & RIRR);
    CHECK_EQ(rd(hi(7)), 0xFF000000);
    CHECK_EQ(nmsgs, 1);
}

TEST(masks_changed_callback)
{
    reset();
    wr(lo(5), 0x35 | MASKED);               /* masked entry edited: no pin changed */
    wr(hi(5), 0x01000000);
    CHECK_EQ(nmask_changes, 0);
    wr(lo(5), 0x35);                        /* unmask */
    CHECK_EQ(nmask_changes, 1);
    wr(lo(5), 0x35);                        /* identical rewrite */
    CHECK_EQ(nmask_changes, 1);
    wr(lo(5), 0x36);                        /* unmasked entry retargeted */
    CHECK_EQ(nmask_changes, 2);
    wr(hi(5), 0x02000000);
    CHECK_EQ(nmask_changes, 3);
    wr(lo(5), 0x36 | MASKED);               /* mask */
    CHECK_EQ(nmask_changes, 4);
    ioapic_set_irq(&io, 5, true);
    ioapic_eoi(&io, 0x36);
    wr(0x00, 0x05000000);
    CHECK_EQ(nmask_changes, 4);             /* pins, EOIs and the ID do not call it */
}

TEST(delivery_modes)
{
    reset();
    /* 3.2.4 bits 10:8: SMI, NMI, INIT and ExtINT require edge trigger mode: programmed as
     * level, they still behave as edge (no remote IRR, one message per edge). */
    set_rte(0, DM(IOAPIC_DM_EXTINT), 0);    /* virtual wire through the IOAPIC */
    set_rte(3, DM(IOAPIC_DM_NMI) | LEVEL, 0x0F);
    set_rte(6, DM(IOAPIC_DM_LOWEST) | LOGICAL | 0x46, 0xFF);
    ioapic_set_irq(&io, 0, true);
    CHECK_EQ(nmsgs, 1);
    CHECK_EQ(msgs[0].delivery_mode, IOAPIC_DM_EXTINT);
    CHECK(!msgs[0].level);
    ioapic_set_irq(&io, 3, true);
    ioapic_set_irq(&io, 3, false);
    ioapic_set_irq(&io, 3, true);
    CHECK_EQ(nmsgs, 3);
    CHECK_EQ(msgs[2].delivery_mode, IOAPIC_DM_NMI);
    CHECK(!msgs[2].level);
    CHECK_EQ(msgs[2].dest, 0x0F);
    CHECK_EQ(rd(lo(3)) & RIRR, 0);
    ioapic_set_irq(&io, 6, true);
    CHECK_EQ(nmsgs, 4);
    CHECK_EQ(msgs[3].delivery_mode, IOAPIC_DM_LOWEST);
    CHECK(msgs[3].dest_logical);
    CHECK_EQ(msgs[3].dest, 0xFF);
    CHECK_EQ(msgs[3].vector, 0x46);
    /* Reserved modes 011 and 110 send nothing. */
    set_rte(8, DM(3) | 0x48, 0);
    set_rte(15, DM(6) | LEVEL | 0x4F, 0);
    ioapic_set_irq(&io, 8, true);
    ioapic_set_irq(&io, 15, true);
    CHECK_EQ(nmsgs, 4);
    CHECK_EQ(io.dropped, 2);
    CHECK_EQ(rd(lo(15)) & RIRR, 0);
}

TEST(the_82093aa_has_no_eoi_register)
{
    reset();
    set_rte(20, 0x64 | LEVEL, 0);
    ioapic_set_irq(&io, 20, true);
    ioapic_set_irq(&io, 20, false);
    uint64_t bad = io.bad_access;
    ioapic_mmio_write(&io, 0x40, 4, 0x64);  /* the version 0x20 EOI register */
    CHECK(rd(lo(20)) & RIRR);
    CHECK_EQ(io.bad_access, bad + 1);
}

TEST(pins_beyond_23_ignored)
{
    reset();
    for (unsigned pin = IOAPIC_PINS; pin < 40; pin++) {
        ioapic_set_irq(&io, pin, true);
        CHECK(!ioapic_pin_enabled(&io, pin));
        CHECK(!ioapic_pin_asserted(&io, pin));
    }
    ioapic_set_irq(&io, UINT32_MAX, true);
    CHECK_EQ(io.levels, 0);
    CHECK_EQ(nmsgs, 0);
    CHECK_EQ(rd(0x10 + 2 * IOAPIC_PINS), 0);        /* no entry 24 */
}

/* Fuzz: random register traffic, pin changes and EOIs; the invariants must hold after every
 * step and at every message. */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned fuzz_bad_msgs;
static uint64_t fuzz_msgs;

static bool fuzz_level_sensitive(uint64_t e)
{
    unsigned dm = (unsigned)((e >> 8) & 7);
    return (e & LEVEL) && (dm == IOAPIC_DM_FIXED || dm == IOAPIC_DM_LOWEST);
}

static void fuzz_deliver(void *ctx, const struct ioapic_msg *m)
{
    (void)ctx;
    fuzz_msgs++;
    if (m->pin >= IOAPIC_PINS) {
        fuzz_bad_msgs++;
        return;
    }
    uint64_t e = io.redir[m->pin];
    bool ok = !(e & MASKED) &&                      /* only unmasked pins send */
              ioapic_pin_asserted(&io, m->pin) &&   /* and only while asserted */
              m->vector == (e & 0xFF) && m->dest == (e >> 56) &&
              m->delivery_mode == ((e >> 8) & 7) && m->delivery_mode != 3 && m->delivery_mode != 6 &&
              m->level == fuzz_level_sensitive(e) &&
              (!m->level || (e & RIRR));            /* level: remote IRR set as it is sent */
    if (!ok)
        fuzz_bad_msgs++;
}

static void fuzz_mask_changed(void *ctx) { (void)ctx; }

TEST(fuzz_registers_pins_eois)
{
    ioapic_init(&io, 1, fuzz_deliver, fuzz_mask_changed, NULL);
    static const unsigned sizes[] = { 1, 2, 4, 4, 4, 4, 3, 8 };
    unsigned violations = 0;
    for (unsigned i = 0; i < 1000000; i++) {
        uint64_t r = xorshift();
        uint32_t v = (uint32_t)(r >> 32);
        switch (r & 7) {
        case 0:                                     /* select a register, mostly a real one */
            ioapic_mmio_write(&io, IOAPIC_IOREGSEL, 4, (r >> 8) & 1 ? (uint32_t)(r >> 16) % 0x40 : v);
            break;
        case 1:
        case 2: {                                   /* write the window, biased to few vectors */
            uint32_t val = v;
            if ((r >> 8) & 1)
                val = (val & ~0xFFu) | (0x40 + ((r >> 9) & 3));
            ioapic_mmio_write(&io, IOAPIC_IOWIN, 4, val);
            break;
        }
        case 3: {                                   /* any access anywhere */
            uint64_t off = (r >> 8) & 1 ? (r >> 12) & 0x1FFF : (r >> 12) & 0x1F;
            unsigned size = sizes[(r >> 4) & 7];
            if ((r >> 9) & 1)
                ioapic_mmio_write(&io, off, size, v);
            else
                (void)ioapic_mmio_read(&io, off, size);
            break;
        }
        case 4:
            (void)ioapic_mmio_read(&io, IOAPIC_IOWIN, 4);
            break;
        case 5:
        case 6:
            ioapic_set_irq(&io, (unsigned)(r >> 8) % 28, (r >> 16) & 1);
            break;
        default:                                    /* EOI, mostly of a vector in use */
            ioapic_eoi(&io, (r >> 8) & 1 ? (uint8_t)(io.redir[(r >> 16) % IOAPIC_PINS] & 0xFF) : (uint8_t)v);
            break;
        }
        bool ok = io.id <= 0xF && io.arb == io.id && io.levels < (1u << IOAPIC_PINS);
        for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
            uint64_t e = io.redir[pin];
            if ((e & RIRR) && !(e & LEVEL))         /* remote IRR only on level entries */
                ok = false;
            if (e & (DELIVS | 0x00FFFFFFFFFE0000ull))   /* delivery status idle, reserved 0 */
                ok = false;
            /* Nothing is left undelivered: an asserted, unmasked level entry awaits its EOI. */
            if (fuzz_level_sensitive(e) && !(e & MASKED) && ioapic_pin_asserted(&io, pin) && !(e & RIRR))
                ok = false;
        }
        if (!ok)
            violations++;
    }
    CHECK_EQ(violations, 0);
    CHECK_EQ(fuzz_bad_msgs, 0);
    uint64_t sum = 0;
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        sum += io.delivered[pin];
    CHECK_EQ(sum, fuzz_msgs);
    CHECK(fuzz_msgs > 1000);                        /* the run did exercise delivery */
    CHECK(io.eoi_cleared > 100);
    CHECK(io.coalesced > 0);
    CHECK(io.masked_edges > 0);
    CHECK(io.bad_access > 0);
}
