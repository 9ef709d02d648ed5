/* The uplink's 8254x driver (arch/x86/e1000_host.c) against the 82540EM model (dev/e1000.c):
 * the model stands for the hardware, with the driver's DMA block inside a fake RAM whose guard
 * zones must never change. Checked: what start programs (SDM 14.3-14.5: reset, SLU, the
 * EEPROM's address in RAL0/RAH0 or through EERD, promiscuous receive with the FCS stripped,
 * full-duplex transmit), frames both ways byte for byte, both rings wrapping many times, a full
 * transmit ring, a receive ring the driver did not drain, interrupt causes and a link change,
 * a shared line, and a device that does not come out of reset. */
#include "test.h"
#include "byteorder.h"
#include "dev/dma.h"
#include "dev/e1000.h"
#include "arch/x86/e1000_host.h"
#include "fake_ram.h"

#define RAM_SIZE    (2u << 20)
#define GUARD       4096u
#define GUARD_BYTE  0xA5
#define BLOCK       0x10000u            /* where the driver's DMA block sits in the fake RAM */
#define MAX_CAP     4

static uint8_t mem[GUARD + RAM_SIZE + GUARD];
#define ram (mem + GUARD)
static struct fake_ram fram = { .bytes = ram, .size = RAM_SIZE };
static const struct dma_ops dma = FAKE_RAM_DMA(&fram);

static struct e1000 e;
static struct e1000h h;
static uint64_t now;
static bool defer_tx;                   /* the model sends only when the test says */
static unsigned sent;
static uint8_t cap[MAX_CAP][1600];
static size_t cap_len[MAX_CAP];
static bool hide_rah, stuck_reset;
static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
static const uint8_t VM_MAC[6] = { 0x02, 0x4D, 0x56, 0x00, 0x00, 0x00 };

static void irq(void *ctx, bool level) { (void)ctx; (void)level; }
static void tx_kick(void *ctx)
{
    (void)ctx;
    if (!defer_tx)
        e1000_tx_process(&e, 1000);
}
static void tx_frame(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    if (sent < MAX_CAP && len <= sizeof(cap[0])) {
        memcpy(cap[sent], frame, len);
        cap_len[sent] = len;
    }
    sent++;
}
static uint64_t clock_ns(void *ctx) { (void)ctx; return now; }
static const struct e1000_hooks hooks = { irq, tx_kick, NULL, tx_frame };

static uint32_t io_rd(void *ctx, uint32_t off)
{
    (void)ctx;
    if (hide_rah && off == E1000_RAH(0))
        return 0;                       /* as if the EEPROM had not been loaded into RAL0/RAH0 */
    uint32_t v = e1000_mmio_read(&e, off, 4);
    if (stuck_reset && off == E1000_CTRL)
        v |= E1000_CTRL_RST;
    return v;
}
static void io_wr(void *ctx, uint32_t off, uint32_t v) { (void)ctx; e1000_mmio_write(&e, off, 4, v); }
static void io_delay(void *ctx, unsigned us) { (void)ctx; now += (uint64_t)us * 1000; }
static const struct e1000h_io io = { io_rd, io_wr, io_delay, NULL };
static const struct e1000h_mem block = { ram + BLOCK, BLOCK };

static void setup(void)
{
    memset(mem, GUARD_BYTE, sizeof(mem));
    memset(ram, 0, RAM_SIZE);
    fake_ram_reset(&fram);
    now = 1000000;
    defer_tx = hide_rah = stuck_reset = false;
    sent = 0;
    e1000_init(&e, MAC, &dma, &hooks, NULL, clock_ns, NULL);
}

static bool guards_ok(void)
{
    for (unsigned i = 0; i < GUARD; i++)
        if (mem[i] != GUARD_BYTE || mem[GUARD + RAM_SIZE + i] != GUARD_BYTE)
            return false;
    /* Nothing outside the block either: the device only reaches what the driver gave it. */
    for (unsigned i = 0; i < BLOCK; i++)
        if (ram[i])
            return false;
    for (size_t i = BLOCK + E1000H_MEM_SIZE; i < RAM_SIZE; i++)
        if (ram[i])
            return false;
    return fram.rejects == 0;
}

static void frame(uint8_t *buf, size_t len, const uint8_t *dst, const uint8_t *src, unsigned seq)
{
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    put_be16(buf + 12, 0x88B5);         /* IEEE 802 local experimental ethertype */
    for (size_t i = 14; i < len; i++)
        buf[i] = (uint8_t)(seq * 7 + i);
}

struct rxlog {
    unsigned n;
    unsigned bad;
    size_t want_len;
    unsigned next_seq;
};

static void on_rx(void *ctx, const uint8_t *f, size_t len)
{
    struct rxlog *l = ctx;
    uint8_t want[1600];
    frame(want, l->want_len, VM_MAC, MAC, l->next_seq);
    if (len != l->want_len || memcmp(f, want, len))
        l->bad++;
    l->next_seq++;
    l->n++;
}

TEST(e1000h_start_programs_the_device)
{
    setup();
    CHECK(e1000h_part_name(0x8086, 0x100E) && !strcmp(e1000h_part_name(0x8086, 0x100E), "82540EM"));
    CHECK(!e1000h_part_name(0x8086, 0x1004));   /* 82544GC: no EERD */
    CHECK(!e1000h_part_name(0x10EC, 0x100E));
    const char *why = e1000h_start(&h, 0x100E, &io, &block);
    CHECK(!why);
    CHECK(!memcmp(h.mac, MAC, 6));
    CHECK(h.link_up);
    CHECK_EQ(e.resets, 2);              /* power-on, then the driver's CTRL.RST */
    uint32_t rctl = e.rctl;
    CHECK(rctl & E1000_RCTL_EN);
    CHECK(rctl & E1000_RCTL_UPE && rctl & E1000_RCTL_MPE && rctl & E1000_RCTL_BAM);    /* a bridge port */
    CHECK(rctl & E1000_RCTL_SECRC);
    CHECK_EQ(rctl & E1000_RCTL_BSIZE_MASK, E1000_RCTL_SZ_2048);
    CHECK(!(rctl & E1000_RCTL_BSEX) && !(rctl & E1000_RCTL_LPE));
    CHECK(e.tctl & E1000_TCTL_EN && e.tctl & E1000_TCTL_PSP);
    CHECK_EQ((e.tctl & E1000_TCTL_COLD_MASK) >> E1000_TCTL_COLD_SHIFT, 0x40);
    CHECK(e.ctrl & E1000_CTRL_SLU);
    CHECK(!(e.ctrl & (E1000_CTRL_LRST | E1000_CTRL_PHY_RST)));
    CHECK_EQ(e.rdbal, BLOCK);
    CHECK_EQ(e.rdlen, E1000H_RX_DESCS * 16);
    CHECK_EQ(e.rdt, E1000H_RX_DESCS - 1);
    CHECK_EQ(e.tdbal, BLOCK + E1000H_RX_DESCS * 16);
    CHECK_EQ(e.tdlen, E1000H_TX_DESCS * 16);
    CHECK_EQ(e.tdh, 0);
    CHECK_EQ(e.tdt, 0);
    CHECK_EQ(e.ims, E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0 | E1000_ICR_LSC | E1000_ICR_TXDW);
    CHECK(e.ra[1] & E1000_RAH_AV);      /* RAH0 valid */
    for (unsigned i = 0; i < E1000_MTA_ENTRIES; i++)
        CHECK_EQ(e.mta[i], 0);
    CHECK(!e1000h_rx_ready(&h));
    CHECK_EQ(e1000h_tx_busy(&h), 0);
    CHECK(guards_ok());
}

TEST(e1000h_mac_through_eerd)
{
    setup();
    hide_rah = true;
    CHECK(!e1000h_start(&h, 0x100E, &io, &block));
    CHECK(!memcmp(h.mac, MAC, 6));
    CHECK_EQ(e.ra[1], (uint32_t)(MAC[4] | MAC[5] << 8) | E1000_RAH_AV);
    CHECK_EQ(e.ra[0], (uint32_t)(MAC[0] | MAC[1] << 8 | MAC[2] << 16 | (uint32_t)MAC[3] << 24));
}

TEST(e1000h_reset_that_never_ends)
{
    setup();
    stuck_reset = true;
    const char *why = e1000h_start(&h, 0x100E, &io, &block);
    CHECK(why && strstr(why, "RST"));
    CHECK(!(e.rctl & E1000_RCTL_EN) && !(e.tctl & E1000_TCTL_EN));
    CHECK_EQ(e.ims, 0);
}

TEST(e1000h_send_frames_byte_for_byte)
{
    setup();
    CHECK(!e1000h_start(&h, 0x100E, &io, &block));
    uint8_t f[1600];
    static const size_t lens[] = { 14, 60, 61, 1000, 1514, 1518 };
    for (unsigned i = 0; i < ARRAY_SIZE(lens); i++) {
        sent = 0;
        frame(f, lens[i], MAC, VM_MAC, i);
        CHECK(e1000h_send(&h, f, lens[i]));
        CHECK_EQ(sent, 1);
        /* PSP pads short frames to 64 bytes with the FCS: 60 without (SDM 13.4.33). */
        size_t want = lens[i] < 60 ? 60 : lens[i];
        CHECK_EQ(cap_len[0], want);
        CHECK(!memcmp(cap[0], f, lens[i]));
        CHECK(e1000h_interrupt(&h) & E1000_ICR_TXDW);
        CHECK_EQ(e1000h_reclaim(&h), 1);
    }
    CHECK(!e1000h_send(&h, f, 13));
    CHECK(!e1000h_send(&h, f, 1519));
    CHECK_EQ(h.st.tx_bad_len, 2);
    CHECK_EQ(h.st.tx_frames, ARRAY_SIZE(lens));
    CHECK_EQ(e.tx_frames, ARRAY_SIZE(lens));
    CHECK(guards_ok());
}

TEST(e1000h_transmit_ring_full_then_drains)
{
    setup();
    CHECK(!e1000h_start(&h, 0x100E, &io, &block));
    defer_tx = true;
    uint8_t f[200];
    unsigned ok = 0;
    for (unsigned i = 0; i < E1000H_TX_DESCS + 10; i++) {
        frame(f, sizeof(f), MAC, VM_MAC, i);
        ok += e1000h_send(&h, f, sizeof(f));
    }
    CHECK_EQ(ok, E1000H_TX_DESCS - 1);  /* one descriptor stays empty */
    CHECK_EQ(h.st.tx_ring_full, 11);
    CHECK_EQ(e1000h_tx_busy(&h), E1000H_TX_DESCS - 1);
    CHECK_EQ(e1000h_reclaim(&h), 0);    /* the device has not sent any */
    e1000_tx_process(&e, 100);
    CHECK_EQ(e1000h_reclaim(&h), 100);
    e1000_tx_process(&e, 1000);
    CHECK_EQ(e1000h_reclaim(&h), E1000H_TX_DESCS - 101);
    CHECK_EQ(sent, E1000H_TX_DESCS - 1);
    /* the ring wraps: many more rounds, each frame still intact */
    defer_tx = false;
    for (unsigned i = 0; i < 5 * E1000H_TX_DESCS; i++) {
        sent = 0;
        frame(f, sizeof(f), MAC, VM_MAC, 1000 + i);
        CHECK(e1000h_send(&h, f, sizeof(f)));
        CHECK(sent == 1 && cap_len[0] == sizeof(f) && !memcmp(cap[0], f, sizeof(f)));
        e1000h_reclaim(&h);
    }
    CHECK_EQ(e1000h_tx_busy(&h), 0);
    CHECK(guards_ok());
}

TEST(e1000h_receive_promiscuous_and_wrapping)
{
    setup();
    CHECK(!e1000h_start(&h, 0x100E, &io, &block));
    uint8_t f[1600];
    struct rxlog log = { .want_len = 300 };
    /* Frames for a station behind the uplink (a VM's address), not the card's own: taken. */
    for (unsigned i = 0; i < 4 * E1000H_RX_DESCS + 3; i++) {
        frame(f, 300, VM_MAC, MAC, i);
        CHECK_EQ(e1000_receive(&e, f, 300), E1000_RX_OK);
        CHECK(e1000h_rx_ready(&h));
        CHECK_EQ(e1000h_receive(&h, on_rx, &log, 8), 1);
    }
    CHECK_EQ(log.n, 4 * E1000H_RX_DESCS + 3);
    CHECK_EQ(log.bad, 0);               /* FCS stripped (SECRC), bytes intact, in order */
    CHECK(e1000h_interrupt(&h) & E1000_ICR_RXT0);
    CHECK_EQ(h.st.rx_frames, log.n);
    CHECK_EQ(h.st.rx_errors, 0);
    CHECK(guards_ok());
}

TEST(e1000h_receive_ring_not_drained)
{
    setup();
    CHECK(!e1000h_start(&h, 0x100E, &io, &block));
    uint8_t f[1600];
    unsigned ok = 0;
    for (unsigned i = 0; i < E1000H_RX_DESCS + 5; i++) {
        frame(f, 1514, VM_MAC, MAC, i);
        ok += e1000_receive(&e, f, 1514) == E1000_RX_OK;
    }
    CHECK_EQ(ok, E1000H_RX_DESCS - 1);  /* the device had all descriptors but one */
    CHECK(!e1000_can_receive(&e));
    struct rxlog log = { .want_len = 1514 };
    CHECK_EQ(e1000h_receive(&h, on_rx, &log, 100), 100);       /* the budget holds */
    CHECK_EQ(e1000h_receive(&h, on_rx, &log, 1000), E1000H_RX_DESCS - 101);
    CHECK_EQ(log.n, E1000H_RX_DESCS - 1);
    CHECK_EQ(log.bad, 0);
    CHECK(e1000_can_receive(&e));       /* every buffer given back */
    frame(f, 1514, VM_MAC, MAC, log.next_seq);
    CHECK_EQ(e1000_receive(&e, f, 1514), E1000_RX_OK);
    CHECK_EQ(e1000h_receive(&h, on_rx, &log, 10), 1);
    CHECK_EQ(log.bad, 0);
    CHECK(guards_ok());
}

TEST(e1000h_link_change_and_shared_line)
{
    setup();
    CHECK(!e1000h_start(&h, 0x100E, &io, &block));
    (void)e1000h_interrupt(&h);         /* whatever start left pending */
    CHECK_EQ(e1000h_interrupt(&h), 0);  /* nothing pending: not ours */
    CHECK_EQ(h.st.unclaimed_irqs, 1);
    e1000_set_link(&e, false);
    CHECK(e1000h_interrupt(&h) & E1000_ICR_LSC);
    CHECK(!h.link_up);
    e1000_set_link(&e, true);
    CHECK(e1000h_interrupt(&h) & E1000_ICR_LSC);
    CHECK(h.link_up);
    CHECK_EQ(h.st.link_changes, 2);
    e1000h_stop(&h);
    CHECK(!(e.rctl & E1000_RCTL_EN) && !(e.tctl & E1000_TCTL_EN));
    CHECK_EQ(e.ims, 0);
    CHECK(guards_ok());
}
