/* Legacy virtio-net (Virtio 1.1 5.1 on the legacy PCI transport 4.1.4.8): the common header
 * through BAR0 (features, queue select/PFN/NUM, status reset, ISR and INTx, access widths),
 * the device config (MAC, status), transmit (byte-exact frames however the chain is split,
 * used len 0, interrupts, the per-call budget, malformed chains), receive (no buffer, header
 * and frame written, too-small and out-of-RAM buffers, size limits), a broken ring, and the
 * notify hooks. Guest RAM is a 1 MiB array between two guard areas, behind a fake dma_ops that
 * refuses anything outside the RAM. */
#include "test.h"
#include "dev/dma.h"
#include "dev/nic.h"
#include "dev/virtqueue.h"
#include "dev/virtio_pci.h"
#include "dev/virtio_net.h"
#include "fake_ram.h"

#define RAM_SIZE    (1u << 20)
#define GUARD       4096u
#define GUARD_BYTE  0x5A
#define RX_PFN      0x10u               /* 0x10000: three pages for Q = 256 */
#define TX_PFN      0x20u               /* 0x20000 */
#define TX_BUF      0x40000u
#define RX_BUF      0x80000u
#define FILL        0xEE                /* receive buffers are pre-filled with this */

static struct {
    uint8_t lo[GUARD];
    uint8_t ram[RAM_SIZE];
    uint8_t hi[GUARD];
} mem;
#define ram mem.ram

static const uint8_t MAC[ETH_ALEN] = { 0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF };

#define MAX_CAPTURE 8
struct fake {
    struct fake_irq irq;
    unsigned tx_kicks, rx_kicks;
    unsigned ntx;                       /* frames that left through tx_frame */
    size_t txlen[MAX_CAPTURE];
    uint8_t tx[MAX_CAPTURE][VIRTIO_NET_MAX_FRAME + 16];
};
static struct fake f;
static struct virtio_net n;

static struct fake_ram fram = { .bytes = ram, .size = RAM_SIZE };
static const struct dma_ops dma = FAKE_RAM_DMA(&fram);

static void fake_irq(void *ctx, bool level) { fake_irq_set(&((struct fake *)ctx)->irq, level); }

static void hook_tx_kick(void *ctx) { CHECK(ctx == &f); f.tx_kicks++; }
static void hook_rx_kick(void *ctx) { CHECK(ctx == &f); f.rx_kicks++; }
static void hook_tx_frame(void *ctx, const uint8_t *frame, size_t len)
{
    CHECK(ctx == &f);
    CHECK(len <= VIRTIO_NET_MAX_FRAME);
    if (f.ntx < MAX_CAPTURE && len <= sizeof(f.tx[0])) {
        f.txlen[f.ntx] = len;
        memcpy(f.tx[f.ntx], frame, len);
    }
    f.ntx++;
}
static const struct virtio_net_hooks hooks = { hook_tx_kick, hook_rx_kick, hook_tx_frame };

/* ---- the driver side: one split ring per queue, descriptors handed out in order ---- */
struct drv {
    uint64_t base;
    uint16_t q;
    uint16_t next_desc;
    uint16_t avail_idx, last_used;
};
struct tseg { uint64_t addr; uint32_t len; };

static struct drv rxd, txd;

static uint64_t d_desc(const struct drv *d, unsigned i) { return d->base + 16ull * i; }
static uint64_t d_avail(const struct drv *d) { return d->base + 16ull * d->q; }
static uint64_t d_used(const struct drv *d) { return d->base + ((16ull * d->q + 6 + 2ull * d->q + 4095) & ~4095ull); }

static void drv_init(struct drv *d, uint32_t pfn)
{
    d->base = (uint64_t)pfn << 12;
    d->q = VIRTIO_NET_QUEUE_SIZE;
    uint64_t bytes = vq_ring_bytes(d->q);
    if (d->base < RAM_SIZE)             /* a ring the test puts across the end of RAM */
        memset(ram + d->base, 0, MIN(bytes, RAM_SIZE - d->base));
    d->next_desc = 0;
    d->avail_idx = d->last_used = 0;
}

/* A chain of nseg segments, all device-readable or all device-writable; returns the head. */
static uint16_t drv_add(struct drv *d, const struct tseg *s, unsigned nseg, bool write)
{
    uint16_t head = d->next_desc;
    for (unsigned k = 0; k < nseg; k++) {
        uint16_t i = (uint16_t)((head + k) % d->q), next = (uint16_t)((i + 1) % d->q);
        uint16_t flags = (uint16_t)((write ? VRING_DESC_F_WRITE : 0) | (k + 1 < nseg ? VRING_DESC_F_NEXT : 0));
        w64(d_desc(d, i), s[k].addr);
        w32(d_desc(d, i) + 8, s[k].len);
        w16(d_desc(d, i) + 12, flags);
        w16(d_desc(d, i) + 14, next);
    }
    d->next_desc = (uint16_t)((head + nseg) % d->q);
    w16(d_avail(d) + 4 + 2ull * (d->avail_idx & (d->q - 1)), head);
    d->avail_idx++;
    w16(d_avail(d) + 2, d->avail_idx);
    return head;
}

/* The next used element: true with its id and len, false if none. */
static bool drv_used(struct drv *d, uint32_t *id, uint32_t *len)
{
    if (r16(d_used(d) + 2) == d->last_used)
        return false;
    uint64_t e = d_used(d) + 4 + 8ull * (d->last_used & (d->q - 1));
    *id = r32(e);
    *len = r32(e + 4);
    d->last_used++;
    return true;
}

static uint16_t used_idx(const struct drv *d) { return r16(d_used(d) + 2); }
static void set_avail_flags(const struct drv *d, uint16_t flags) { w16(d_avail(d), flags); }

/* ---- device helpers ---- */
static uint32_t rd(unsigned off, unsigned size) { return virtio_net_read(&n, off, size); }
static void wr(unsigned off, unsigned size, uint32_t val) { virtio_net_write(&n, off, size, val); }

static void setup(void)
{
    memset(&mem, GUARD_BYTE, sizeof(mem));
    memset(ram, 0, RAM_SIZE);
    memset(&f, 0, sizeof(f));
    fake_ram_reset(&fram);
    memset(&n, 0xA5, sizeof(n));        /* init must not rely on a zeroed struct */
    virtio_net_init(&n, MAC, &dma, fake_irq, &f, &hooks, &f);
}

static bool guards_intact(void)
{
    for (unsigned i = 0; i < GUARD; i++)
        if (mem.lo[i] != GUARD_BYTE || mem.hi[i] != GUARD_BYTE)
            return false;
    return true;
}

static void set_pfn(unsigned q, uint32_t pfn)
{
    wr(VIRTIO_PCI_QUEUE_SEL, 2, q);
    wr(VIRTIO_PCI_QUEUE_PFN, 4, pfn);
}

/* Linux virtnet_probe over virtio_pci_legacy: reset, ACKNOWLEDGE, DRIVER, features, the MAC
 * and status from the config, setup_vq for rx and tx, then (optionally) DRIVER_OK. */
static void probe(bool driver_ok)
{
    wr(VIRTIO_PCI_STATUS, 1, 0);
    wr(VIRTIO_PCI_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    wr(VIRTIO_PCI_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    uint32_t feat = rd(VIRTIO_PCI_HOST_FEATURES, 4);
    wr(VIRTIO_PCI_GUEST_FEATURES, 4, feat);
    for (unsigned i = 0; i < ETH_ALEN; i++)
        CHECK_EQ(rd(VIRTIO_PCI_CONFIG_OFF + VIRTIO_NET_CFG_MAC + i, 1), MAC[i]);
    for (unsigned q = 0; q < VIRTIO_NET_QUEUES; q++) {
        wr(VIRTIO_PCI_QUEUE_SEL, 2, q);
        CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NUM, 2), VIRTIO_NET_QUEUE_SIZE);
        CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
        struct drv *d = q == VIRTIO_NET_RXQ ? &rxd : &txd;
        uint32_t pfn = q == VIRTIO_NET_RXQ ? RX_PFN : TX_PFN;
        drv_init(d, pfn);
        wr(VIRTIO_PCI_QUEUE_PFN, 4, pfn);
    }
    if (driver_ok)
        wr(VIRTIO_PCI_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                                 VIRTIO_CONFIG_S_DRIVER_OK);
}

static void setup_probed(void)
{
    setup();
    probe(true);
}

static void make_frame(uint8_t *b, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(seed * 37u + i * 11u + (i >> 8) + 1u);
}

/* Header (flags, gso_type, rest 0) then the frame, contiguous at addr. */
static void put_tx(uint64_t addr, uint8_t flags, uint8_t gso, const uint8_t *frame, size_t len)
{
    memset(ram + addr, 0, VIRTIO_NET_HDR_SIZE);
    ram[addr + VIRTIO_NET_HDR_FLAGS] = flags;
    ram[addr + VIRTIO_NET_HDR_GSO_TYPE] = gso;
    memcpy(ram + addr + VIRTIO_NET_HDR_SIZE, frame, len);
}

/* One contiguous header + frame in one descriptor at addr. */
static uint16_t tx_one(uint64_t addr, const uint8_t *frame, size_t len)
{
    put_tx(addr, 0, 0, frame, len);
    struct tseg s = { addr, (uint32_t)(VIRTIO_NET_HDR_SIZE + len) };
    return drv_add(&txd, &s, 1, false);
}

static uint16_t rx_one(uint64_t addr, uint32_t len)
{
    memset(ram + addr, FILL, len);
    struct tseg s = { addr, len };
    return drv_add(&rxd, &s, 1, true);
}

static bool all_fill(uint64_t addr, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (ram[addr + i] != FILL)
            return false;
    return true;
}

static bool zero_hdr(uint64_t addr)
{
    for (unsigned i = 0; i < VIRTIO_NET_HDR_SIZE; i++)
        if (ram[addr + i])
            return false;
    return true;
}

/* ================================ PCI common header ================================ */

/* 4.1.4.8 (legacy layout) + 5.1.3: HOST_FEATURES offers exactly MAC and STATUS; 2.2 / 4.1.4.8:
 * GUEST_FEATURES keeps only what was offered. */
TEST(vnet_features)
{
    setup();
    CHECK_EQ(rd(VIRTIO_PCI_HOST_FEATURES, 4), (1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_STATUS));
    CHECK_EQ(rd(VIRTIO_PCI_HOST_FEATURES, 4), 0x00010020u);
    CHECK_EQ(rd(VIRTIO_PCI_HOST_FEATURES, 2), 0x0020u);
    CHECK_EQ(rd(VIRTIO_PCI_HOST_FEATURES + 2, 2), 0x0001u);
    CHECK_EQ(rd(VIRTIO_PCI_GUEST_FEATURES, 4), 0);
    wr(VIRTIO_PCI_GUEST_FEATURES, 4, 0xFFFFFFFFu);
    CHECK_EQ(rd(VIRTIO_PCI_GUEST_FEATURES, 4), 0x00010020u);
    CHECK(virtio_pci_has_feature(&n.vp, VIRTIO_NET_F_MAC));
    CHECK(virtio_pci_has_feature(&n.vp, VIRTIO_NET_F_STATUS));
    CHECK(!virtio_pci_has_feature(&n.vp, VIRTIO_NET_F_CSUM));
    CHECK(!virtio_pci_has_feature(&n.vp, VIRTIO_NET_F_MRG_RXBUF));
    wr(VIRTIO_PCI_GUEST_FEATURES, 4, (1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_CSUM) |
                                     (1u << VIRTIO_RING_F_EVENT_IDX));
    CHECK_EQ(rd(VIRTIO_PCI_GUEST_FEATURES, 4), 1u << VIRTIO_NET_F_MAC);
    /* HOST_FEATURES is read-only */
    wr(VIRTIO_PCI_HOST_FEATURES, 4, 0);
    CHECK_EQ(rd(VIRTIO_PCI_HOST_FEATURES, 4), 0x00010020u);
    CHECK_EQ(n.vp.bad_accesses, 1);
}

/* 4.1.4.8 / 5.1.2: QUEUE_NUM of the selected queue: 256 for receiveq (0) and transmitq (1),
 * 0 (no such queue) for 2 - there is no control queue. */
TEST(vnet_queue_num)
{
    setup();
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_SEL, 2), 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NUM, 2), 256);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 1);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_SEL, 2), 1);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NUM, 2), 256);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 2);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_SEL, 2), 2);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NUM, 2), 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0xFFFF);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NUM, 2), 0);
    CHECK_EQ(n.vp.bad_accesses, 0);
}

/* 4.1.4.8 / 4.1.5.1.3 (legacy): QUEUE_PFN reads and writes the selected queue only. */
TEST(vnet_queue_pfn_per_queue)
{
    setup();
    set_pfn(0, RX_PFN);
    set_pfn(1, TX_PFN);
    set_pfn(2, 0x30);                   /* no such queue: ignored */
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), RX_PFN);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 1);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), TX_PFN);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 2);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
    CHECK_EQ(n.vq[VIRTIO_NET_RXQ].pfn, RX_PFN);
    CHECK_EQ(n.vq[VIRTIO_NET_TXQ].pfn, TX_PFN);
    /* Rewriting one queue leaves the other alone; 0 deletes it. */
    set_pfn(1, 0);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), RX_PFN);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 1);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
    CHECK(vq_ready(&n.vq[VIRTIO_NET_RXQ]));
    CHECK(!vq_ready(&n.vq[VIRTIO_NET_TXQ]));
}

/* 2.1.2 / 4.1.4.8: writing 0 to STATUS resets the device: guest features, queue select,
 * status, ISR, both rings (PFN 0, indices restart), INTx deasserted; host features stay. */
TEST(vnet_status_zero_resets)
{
    uint8_t fr[64];
    setup_probed();
    make_frame(fr, sizeof(fr), 1);
    tx_one(TX_BUF, fr, sizeof(fr));
    CHECK_EQ(virtio_net_tx_process(&n, 16), 1);
    CHECK(f.irq.level);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 1);
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 1), 7);
    CHECK(rd(VIRTIO_PCI_GUEST_FEATURES, 4) != 0);

    wr(VIRTIO_PCI_STATUS, 1, 0);
    CHECK(!f.irq.level);
    CHECK_EQ(f.irq.falls, 1);
    CHECK_EQ(n.vp.isr, 0);
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 1), 0);
    CHECK_EQ(rd(VIRTIO_PCI_GUEST_FEATURES, 4), 0);
    CHECK_EQ(rd(VIRTIO_PCI_HOST_FEATURES, 4), VIRTIO_NET_FEATURES);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_SEL, 2), 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 1);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
    CHECK_EQ(n.vq[0].pfn, 0);
    CHECK_EQ(n.vq[1].pfn, 0);
    CHECK_EQ(n.vq[0].last_avail, 0);
    CHECK_EQ(n.vq[1].last_avail, 0);
    CHECK_EQ(n.vq[1].used_idx, 0);
    CHECK_EQ(rd(VIRTIO_PCI_ISR, 1), 0);

    /* Buffers still sitting in the old rings are never served after the reset. */
    tx_one(TX_BUF, fr, sizeof(fr));
    rx_one(RX_BUF, 2048);
    CHECK(!virtio_net_tx_pending(&n));
    CHECK_EQ(virtio_net_tx_process(&n, 16), 0);
    CHECK_EQ(f.ntx, 1);
    wr(VIRTIO_PCI_STATUS, 1, VIRTIO_CONFIG_S_DRIVER_OK);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_NO_BUFFER);
    CHECK_EQ(n.tx_frames, 1);           /* counters kept */

    /* A fresh probe on zeroed rings: indices restart at 0 and it all works again. */
    probe(true);
    tx_one(TX_BUF, fr, sizeof(fr));
    rx_one(RX_BUF, 2048);
    CHECK_EQ(virtio_net_tx_process(&n, 16), 1);
    CHECK_EQ(f.ntx, 2);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_OK);
    CHECK_EQ(used_idx(&txd), 1);
    CHECK_EQ(used_idx(&rxd), 1);
}

/* 4.1.4.5 / 4.1.4.5.1 (ISR status, legacy INTx): a used buffer sets bit 0 and asserts INTx;
 * a read of the ISR returns and clears it and deasserts the line; other reads do not. */
TEST(vnet_isr_read_clears)
{
    uint8_t fr[60];
    setup_probed();
    make_frame(fr, sizeof(fr), 2);
    CHECK(!f.irq.level);
    CHECK_EQ(rd(VIRTIO_PCI_ISR, 1), 0);
    tx_one(TX_BUF, fr, sizeof(fr));
    CHECK_EQ(virtio_net_tx_process(&n, 16), 1);
    CHECK(f.irq.level);
    CHECK_EQ(f.irq.rises, 1);
    CHECK_EQ(n.vp.interrupts, 1);
    /* Reads that do not cover 0x13 leave it. */
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 1), 7);
    CHECK_EQ(rd(VIRTIO_PCI_CONFIG_OFF, 1), MAC[0]);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NOTIFY, 2), 0);
    CHECK(f.irq.level);
    CHECK_EQ(n.vp.isr, VIRTIO_PCI_ISR_QUEUE);
    CHECK_EQ(rd(VIRTIO_PCI_ISR, 1), VIRTIO_PCI_ISR_QUEUE);
    CHECK(!f.irq.level);
    CHECK_EQ(f.irq.falls, 1);
    CHECK_EQ(rd(VIRTIO_PCI_ISR, 1), 0);
    CHECK_EQ(f.irq.falls, 1);

    /* A 2-byte read at STATUS covers the ISR too: status in the low byte, ISR in the high. */
    tx_one(TX_BUF + 0x800, fr, sizeof(fr));
    CHECK_EQ(virtio_net_tx_process(&n, 16), 1);
    CHECK(f.irq.level);
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 2), 0x0107);
    CHECK(!f.irq.level);
    CHECK_EQ(rd(VIRTIO_PCI_ISR, 1), 0);
    /* So does a 4-byte read at 0x10. */
    rx_one(RX_BUF, 2048);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_OK);
    CHECK(f.irq.level);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NOTIFY, 4) >> 24, 1);
    CHECK(!f.irq.level);
    CHECK_EQ(f.irq.rises, 3);
    CHECK_EQ(f.irq.falls, 3);
    /* ISR is read-only. */
    wr(VIRTIO_PCI_ISR, 1, 1);
    CHECK_EQ(n.vp.isr, 0);
    CHECK(!f.irq.level);
    CHECK_EQ(n.vp.bad_accesses, 1);
}

/* 4.1.4.8: each register has its width (features and PFN 32, NUM/SEL/NOTIFY 16, STATUS and
 * ISR 8); a write of another width, or to a read-only register, is ignored and counted. */
TEST(vnet_wrong_width_writes)
{
    setup_probed();
    uint64_t bad = n.vp.bad_accesses;
    CHECK_EQ(bad, 0);
    wr(VIRTIO_PCI_GUEST_FEATURES, 2, 0);
    wr(VIRTIO_PCI_GUEST_FEATURES, 1, 0);
    CHECK_EQ(rd(VIRTIO_PCI_GUEST_FEATURES, 4), VIRTIO_NET_FEATURES);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0);
    wr(VIRTIO_PCI_QUEUE_PFN, 2, 0);
    wr(VIRTIO_PCI_QUEUE_PFN, 1, 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), RX_PFN);
    wr(VIRTIO_PCI_QUEUE_NUM, 2, 16);            /* read-only */
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NUM, 2), 256);
    wr(VIRTIO_PCI_QUEUE_SEL, 4, 1);
    wr(VIRTIO_PCI_QUEUE_SEL, 1, 1);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_SEL, 2), 0);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 1, 1);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 4, 1);
    CHECK_EQ(f.tx_kicks, 0);
    CHECK_EQ(n.vp.notifies, 0);
    wr(VIRTIO_PCI_STATUS, 2, 0);                /* no reset through a wrong width */
    wr(VIRTIO_PCI_STATUS, 4, 0);
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 1), 7);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), RX_PFN);
    wr(VIRTIO_PCI_CONFIG_OFF, 1, 0);            /* config is read-only */
    wr(VIRTIO_PCI_CONFIG_OFF, 4, 0);
    CHECK_EQ(rd(VIRTIO_PCI_CONFIG_OFF, 1), MAC[0]);
    wr(0x03, 1, 0);                             /* inside a register */
    wr(0x11, 1, 0);
    CHECK_EQ(n.vp.bad_accesses, 15);
    /* Right widths still work and are not counted. */
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 1);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_SEL, 2), 1);
    CHECK_EQ(n.vp.bad_accesses, 15);
}

/* 5.1.4 (device configuration layout) at 0x14 without MSI-X (4.1.4.8): mac[6] then status
 * u16 with VIRTIO_NET_S_LINK_UP; readable at any width; nothing past the BAR. */
TEST(vnet_config_space)
{
    setup();
    for (unsigned i = 0; i < ETH_ALEN; i++)
        CHECK_EQ(rd(0x14 + i, 1), MAC[i]);
    CHECK_EQ(rd(0x14, 4), 0xAB005452u);
    CHECK_EQ(rd(0x18, 2), 0xEFCDu);
    CHECK_EQ(rd(0x14, 2), 0x5452u);
    CHECK_EQ(rd(0x15, 2), 0x0054u);             /* unaligned */
    CHECK_EQ(rd(0x17, 4), 0x01EFCDABu);         /* mac[3..5] + status low byte */
    CHECK_EQ(rd(0x1A, 2), VIRTIO_NET_S_LINK_UP);
    CHECK_EQ(rd(0x1A, 1), 1);
    CHECK_EQ(rd(0x1B, 1), 0);
    CHECK_EQ(rd(0x18, 4), 0x0001EFCDu);
    CHECK_EQ(rd(0x1A, 4), 0x00000001u);
    CHECK_EQ(rd(0x1C, 4), 0);                   /* rest of the BAR */
    CHECK_EQ(rd(0x1E, 2), 0);
    CHECK_EQ(rd(0x20, 1), 0xFF);                /* past the BAR */
    CHECK_EQ(rd(0x1E, 4), 0xFFFF0000u);
    /* The same after the driver set things up, and not affected by a reset. */
    probe(true);
    wr(VIRTIO_PCI_STATUS, 1, 0);
    CHECK_EQ(rd(0x14, 4), 0xAB005452u);
    CHECK_EQ(rd(0x18, 4), 0x0001EFCDu);
}

/* ================================ transmit ================================ */

/* 5.1.6 / 5.1.6.2 (packet transmission): header and frame in one descriptor; the frame
 * reaches tx_frame byte-exact without the header, used len 0 (2.6.8), interrupt (2.6.7). */
TEST(vnet_tx_one_descriptor)
{
    uint8_t fr[100];
    setup_probed();
    make_frame(fr, sizeof(fr), 3);
    CHECK(!virtio_net_tx_pending(&n));
    uint16_t head = tx_one(TX_BUF, fr, sizeof(fr));
    CHECK(virtio_net_tx_pending(&n));
    CHECK_EQ(virtio_net_tx_process(&n, 64), 1);
    CHECK(!virtio_net_tx_pending(&n));
    CHECK_EQ(f.ntx, 1);
    CHECK_EQ(f.txlen[0], sizeof(fr));
    CHECK(!memcmp(f.tx[0], fr, sizeof(fr)));
    uint32_t id = 99, len = 99;
    CHECK(drv_used(&txd, &id, &len));
    CHECK_EQ(id, head);
    CHECK_EQ(len, 0);
    CHECK(!drv_used(&txd, &id, &len));
    CHECK_EQ(n.tx_frames, 1);
    CHECK_EQ(n.tx_bytes, sizeof(fr));
    CHECK_EQ(n.tx_bad, 0);
    CHECK(f.irq.level);
    CHECK_EQ(n.vp.isr, VIRTIO_PCI_ISR_QUEUE);
    CHECK_EQ(n.vp.interrupts, 1);
    /* The device never writes into a transmit buffer. */
    CHECK_EQ(ram[TX_BUF + VIRTIO_NET_HDR_SIZE], fr[0]);
    CHECK(!memcmp(ram + TX_BUF + VIRTIO_NET_HDR_SIZE, fr, sizeof(fr)));
    CHECK_EQ(virtio_net_tx_process(&n, 64), 0);
    CHECK_EQ(f.ntx, 1);
    CHECK(guards_intact());
}

/* 5.1.6.2 with 2.6.4 / 2.6.4.3 (message framing; legacy, ANY_LAYOUT): header and frame spread
 * over three descriptors, both the usual split (header | data | data) and one that cuts the
 * header itself; the frame is reassembled byte-exact. */
TEST(vnet_tx_three_descriptors)
{
    uint8_t fr[1000];
    setup_probed();
    make_frame(fr, sizeof(fr), 4);
    /* header alone, then 300 + 700 bytes, scattered */
    memset(ram + TX_BUF, 0, VIRTIO_NET_HDR_SIZE);
    memcpy(ram + TX_BUF + 0x3000, fr, 300);
    memcpy(ram + TX_BUF + 0x1000, fr + 300, 700);
    struct tseg s1[3] = { { TX_BUF, 10 }, { TX_BUF + 0x3000, 300 }, { TX_BUF + 0x1000, 700 } };
    uint16_t h1 = drv_add(&txd, s1, 3, false);
    /* 4 header bytes | 6 header bytes + 20 frame bytes | the rest */
    uint8_t hdr[10] = { 0 };
    memcpy(ram + TX_BUF + 0x5000, hdr, 4);
    memcpy(ram + TX_BUF + 0x6000, hdr + 4, 6);
    memcpy(ram + TX_BUF + 0x6006, fr, 20);
    memcpy(ram + TX_BUF + 0x7000, fr + 20, 980);
    struct tseg s2[3] = { { TX_BUF + 0x5000, 4 }, { TX_BUF + 0x6000, 26 }, { TX_BUF + 0x7000, 980 } };
    uint16_t h2 = drv_add(&txd, s2, 3, false);
    CHECK_EQ(h1, 0);
    CHECK_EQ(h2, 3);
    CHECK_EQ(virtio_net_tx_process(&n, 64), 2);
    CHECK_EQ(f.ntx, 2);
    CHECK_EQ(f.txlen[0], 1000);
    CHECK_EQ(f.txlen[1], 1000);
    CHECK(!memcmp(f.tx[0], fr, 1000));
    CHECK(!memcmp(f.tx[1], fr, 1000));
    uint32_t id, len;
    CHECK(drv_used(&txd, &id, &len));
    CHECK_EQ(id, h1);
    CHECK_EQ(len, 0);
    CHECK(drv_used(&txd, &id, &len));
    CHECK_EQ(id, h2);
    CHECK_EQ(len, 0);
    CHECK_EQ(n.tx_frames, 2);
    CHECK_EQ(n.tx_bytes, 2000);
    CHECK_EQ(n.vp.interrupts, 1);       /* one per tx_process batch */
}

/* 2.6.7 (used buffer notification suppression): VRING_AVAIL_F_NO_INTERRUPT on the transmit
 * ring: the buffer is used, no interrupt; the receive ring's flag is its own. */
TEST(vnet_tx_no_interrupt_flag)
{
    uint8_t fr[64];
    setup_probed();
    make_frame(fr, sizeof(fr), 5);
    set_avail_flags(&txd, VRING_AVAIL_F_NO_INTERRUPT);
    tx_one(TX_BUF, fr, sizeof(fr));
    CHECK_EQ(virtio_net_tx_process(&n, 8), 1);
    CHECK_EQ(f.ntx, 1);
    CHECK_EQ(used_idx(&txd), 1);
    CHECK(!f.irq.level);
    CHECK_EQ(n.vp.isr, 0);
    CHECK_EQ(n.vp.interrupts, 0);
    /* Flag on rx only: a transmit interrupts again. */
    set_avail_flags(&txd, 0);
    set_avail_flags(&rxd, VRING_AVAIL_F_NO_INTERRUPT);
    tx_one(TX_BUF + 0x800, fr, sizeof(fr));
    CHECK_EQ(virtio_net_tx_process(&n, 8), 1);
    CHECK(f.irq.level);
    CHECK_EQ(n.vp.interrupts, 1);
    rd(VIRTIO_PCI_ISR, 1);
    /* ... and a receive does not. */
    rx_one(RX_BUF, 2048);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_OK);
    CHECK_EQ(used_idx(&rxd), 1);
    CHECK(!f.irq.level);
    CHECK_EQ(n.vp.interrupts, 1);
}

/* 5.1.6.2: the device consumes transmit buffers at its own pace: virtio_net_tx_process
 * takes at most budget chains, the rest stay pending, in order. */
TEST(vnet_tx_budget)
{
    uint8_t fr[5][80];
    setup_probed();
    for (unsigned i = 0; i < 5; i++) {
        make_frame(fr[i], sizeof(fr[i]), 10 + i);
        tx_one(TX_BUF + 0x100 * i, fr[i], sizeof(fr[i]));
    }
    CHECK_EQ(virtio_net_tx_process(&n, 2), 2);
    CHECK_EQ(f.ntx, 2);
    CHECK(virtio_net_tx_pending(&n));
    CHECK_EQ(used_idx(&txd), 2);
    CHECK(!memcmp(f.tx[0], fr[0], 80));
    CHECK(!memcmp(f.tx[1], fr[1], 80));
    CHECK_EQ(virtio_net_tx_process(&n, 0), 0);
    CHECK_EQ(f.ntx, 2);
    CHECK_EQ(virtio_net_tx_process(&n, 100), 3);
    CHECK_EQ(f.ntx, 5);
    CHECK(!virtio_net_tx_pending(&n));
    for (unsigned i = 0; i < 5; i++) {
        CHECK_EQ(f.txlen[i], 80);
        CHECK(!memcmp(f.tx[i], fr[i], 80));
    }
    CHECK_EQ(used_idx(&txd), 5);
    CHECK_EQ(n.tx_frames, 5);
}

/* Checks one bad chain: completed with used len 0, nothing sent. */
static void expect_tx_refused(uint16_t head)
{
    unsigned before = f.ntx;
    CHECK_EQ(virtio_net_tx_process(&n, 8), 1);
    CHECK_EQ(f.ntx, before);
    uint32_t id = 0xFFFF, len = 0xFFFF;
    CHECK(drv_used(&txd, &id, &len));
    CHECK_EQ(id, head);
    CHECK_EQ(len, 0);
}

/* 5.1.6.2 + 5.1.3 (GSO/CSUM not negotiated) + 2.6.4 (buffers in RAM): a chain shorter than
 * header + Ethernet header, longer than header + 1518, with gso_type != NONE, with NEEDS_CSUM,
 * or with a descriptor outside RAM is completed and counted, never sent; the queue goes on.
 * The limits themselves (10+14, 10+1518) are sent. */
TEST(vnet_tx_bad_chains)
{
    uint8_t fr[VIRTIO_NET_MAX_FRAME + 1];
    setup_probed();
    make_frame(fr, sizeof(fr), 6);

    tx_one(TX_BUF, fr, ETH_HLEN - 1);                       /* 23 bytes */
    expect_tx_refused(0);
    CHECK_EQ(n.tx_bad, 1);
    tx_one(TX_BUF, fr, VIRTIO_NET_MAX_FRAME + 1);           /* 1529 bytes */
    expect_tx_refused(1);
    CHECK_EQ(n.tx_bad, 2);
    struct tseg s = { TX_BUF, 6 };                          /* not even a header */
    expect_tx_refused(drv_add(&txd, &s, 1, false));
    CHECK_EQ(n.tx_bad, 3);
    put_tx(TX_BUF, 0, 1 /* GSO_TCPV4 */, fr, 60);
    s.len = 70;
    expect_tx_refused(drv_add(&txd, &s, 1, false));
    CHECK_EQ(n.tx_bad, 4);
    put_tx(TX_BUF, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, fr, 60);
    expect_tx_refused(drv_add(&txd, &s, 1, false));
    CHECK_EQ(n.tx_bad, 5);
    put_tx(TX_BUF, 0, 0x80 /* GSO_ECN alone */, fr, 60);
    expect_tx_refused(drv_add(&txd, &s, 1, false));
    CHECK_EQ(n.tx_bad, 6);
    /* Frame data outside RAM: in one descriptor, then its second descriptor. */
    struct tseg out1 = { RAM_SIZE - 30, 70 };
    expect_tx_refused(drv_add(&txd, &out1, 1, false));
    put_tx(TX_BUF, 0, 0, fr, 60);
    struct tseg out2[2] = { { TX_BUF, 30 }, { 0x100000000ull, 40 } };
    expect_tx_refused(drv_add(&txd, out2, 2, false));
    CHECK_EQ(n.tx_dma_errors, 2);
    CHECK_EQ(n.tx_bad, 6);
    /* Malformed chains after a whole good frame (2.6.5.3 INDIRECT not offered, 2.6.5 / 2.6.4.2
     * a readable descriptor after a writable one): completed by their heads, counted. */
    put_tx(TX_BUF, 0, 0, fr, 60);
    struct tseg two[2] = { { TX_BUF, 70 }, { TX_BUF + 0x800, 16 } };
    uint16_t h = drv_add(&txd, two, 2, false);
    w16(d_desc(&txd, (uint16_t)(h + 1)) + 12, VRING_DESC_F_INDIRECT);
    expect_tx_refused(h);
    CHECK_EQ(n.tx_bad, 7);
    struct tseg three[3] = { { TX_BUF, 70 }, { TX_BUF + 0x800, 16 }, { TX_BUF + 0x900, 16 } };
    h = drv_add(&txd, three, 3, false);
    w16(d_desc(&txd, (uint16_t)(h + 1)) + 12, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
    expect_tx_refused(h);
    CHECK_EQ(n.tx_bad, 8);
    CHECK_EQ(n.vq[VIRTIO_NET_TXQ].bad_chains, 2);
    CHECK_EQ(n.tx_frames, 0);
    CHECK_EQ(n.tx_bytes, 0);
    CHECK(!n.vq[VIRTIO_NET_TXQ].broken);

    /* The queue still works, the limits included. */
    tx_one(TX_BUF, fr, ETH_HLEN);
    tx_one(TX_BUF + 0x1000, fr, VIRTIO_NET_MAX_FRAME);
    tx_one(TX_BUF + 0x2000, fr, 60);
    CHECK_EQ(virtio_net_tx_process(&n, 8), 3);
    CHECK_EQ(f.ntx, 3);
    CHECK_EQ(f.txlen[0], ETH_HLEN);
    CHECK_EQ(f.txlen[1], VIRTIO_NET_MAX_FRAME);
    CHECK_EQ(f.txlen[2], 60);
    CHECK(!memcmp(f.tx[0], fr, ETH_HLEN));
    CHECK(!memcmp(f.tx[1], fr, VIRTIO_NET_MAX_FRAME));
    CHECK(!memcmp(f.tx[2], fr, 60));
    CHECK_EQ(n.tx_frames, 3);
    CHECK_EQ(n.tx_bytes, ETH_HLEN + VIRTIO_NET_MAX_FRAME + 60);
    CHECK_EQ(n.tx_bad, 8);
    CHECK_EQ(used_idx(&txd), 13);
    CHECK(guards_intact());
}

/* ================================ receive ================================ */

/* 5.1.6.3 / 5.1.6.4 (receiving packets): no buffer before DRIVER_OK (3.1.1: the driver sets
 * up its queues first) or with an empty receive ring; then a zero 10-byte header and the
 * frame, used len 10 + len, an interrupt. */
TEST(vnet_rx_basic)
{
    uint8_t fr[200];
    setup();
    probe(false);
    make_frame(fr, sizeof(fr), 7);
    rx_one(RX_BUF, 2048);
    CHECK(!virtio_net_can_receive(&n));
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_NO_BUFFER);
    CHECK_EQ(used_idx(&rxd), 0);
    CHECK(all_fill(RX_BUF, 2048));
    wr(VIRTIO_PCI_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
    CHECK(virtio_net_can_receive(&n));
    uint32_t id, len;
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_OK);
    CHECK(drv_used(&rxd, &id, &len));
    CHECK_EQ(id, 0);
    CHECK_EQ(len, VIRTIO_NET_HDR_SIZE + sizeof(fr));
    CHECK(zero_hdr(RX_BUF));
    CHECK(!memcmp(ram + RX_BUF + VIRTIO_NET_HDR_SIZE, fr, sizeof(fr)));
    CHECK(all_fill(RX_BUF + VIRTIO_NET_HDR_SIZE + sizeof(fr), 2048 - VIRTIO_NET_HDR_SIZE - sizeof(fr)));
    CHECK(f.irq.level);
    CHECK_EQ(n.vp.isr, VIRTIO_PCI_ISR_QUEUE);
    CHECK_EQ(n.rx_frames, 1);
    CHECK_EQ(n.rx_bytes, sizeof(fr));
    /* The ring is empty now. */
    CHECK(!virtio_net_can_receive(&n));
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_NO_BUFFER);
    CHECK_EQ(used_idx(&rxd), 1);
    CHECK_EQ(n.rx_frames, 1);
    CHECK_EQ(n.rx_bad + n.rx_too_small, 0);

    /* Linux "big packets" style: the header in its own descriptor, the frame over two more. */
    memset(ram + RX_BUF + 0x1000, FILL, 0x3000);
    struct tseg s[3] = { { RX_BUF + 0x1000, 10 }, { RX_BUF + 0x2000, 50 }, { RX_BUF + 0x3000, 1500 } };
    uint16_t h = drv_add(&rxd, s, 3, true);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_OK);
    CHECK(drv_used(&rxd, &id, &len));
    CHECK_EQ(id, h);
    CHECK_EQ(len, VIRTIO_NET_HDR_SIZE + sizeof(fr));
    CHECK(zero_hdr(RX_BUF + 0x1000));
    CHECK(all_fill(RX_BUF + 0x1000 + 10, 0x1000 - 10));
    CHECK(!memcmp(ram + RX_BUF + 0x2000, fr, 50));
    CHECK(all_fill(RX_BUF + 0x2000 + 50, 0x1000 - 50));
    CHECK(!memcmp(ram + RX_BUF + 0x3000, fr + 50, 150));
    CHECK(all_fill(RX_BUF + 0x3000 + 150, 0x1000 - 150));
    CHECK_EQ(n.rx_frames, 2);
    CHECK_EQ(n.rx_bytes, 2 * sizeof(fr));
    CHECK(guards_intact());
}

/* 5.1.6.3.1 / 5.1.6.4: a buffer exactly 10 + len takes the frame; one byte less is handed back
 * empty (used len 0), counted, the frame dropped; the next buffer still works. */
TEST(vnet_rx_buffer_too_small)
{
    uint8_t fr[300];
    setup_probed();
    make_frame(fr, sizeof(fr), 8);
    uint16_t h0 = rx_one(RX_BUF, VIRTIO_NET_HDR_SIZE + sizeof(fr) - 1);
    uint16_t h1 = rx_one(RX_BUF + 0x1000, VIRTIO_NET_HDR_SIZE + sizeof(fr));
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_DROPPED);
    uint32_t id, len;
    CHECK(drv_used(&rxd, &id, &len));
    CHECK_EQ(id, h0);
    CHECK_EQ(len, 0);
    CHECK(all_fill(RX_BUF, VIRTIO_NET_HDR_SIZE + sizeof(fr) - 1));
    CHECK_EQ(n.rx_too_small, 1);
    CHECK_EQ(n.rx_frames, 0);
    CHECK(f.irq.level);                 /* a used buffer is a used buffer */
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_OK);
    CHECK(drv_used(&rxd, &id, &len));
    CHECK_EQ(id, h1);
    CHECK_EQ(len, VIRTIO_NET_HDR_SIZE + sizeof(fr));
    CHECK(!memcmp(ram + RX_BUF + 0x1000 + VIRTIO_NET_HDR_SIZE, fr, sizeof(fr)));
    CHECK_EQ(n.rx_too_small, 1);
    CHECK_EQ(n.rx_frames, 1);
    CHECK_EQ(n.rx_bad, 0);
    /* A device-readable-only chain has no room at all. */
    struct tseg s = { RX_BUF + 0x2000, 2048 };
    uint16_t h2 = drv_add(&rxd, &s, 1, false);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_DROPPED);
    CHECK(drv_used(&rxd, &id, &len));
    CHECK_EQ(id, h2);
    CHECK_EQ(len, 0);
    CHECK_EQ(n.rx_too_small, 2);
}

/* 5.1.6.3 with no offloads: a frame is 14..1518 bytes (no FCS); anything else is dropped
 * without taking a buffer; the limits themselves are received. */
TEST(vnet_rx_size_limits)
{
    uint8_t fr[VIRTIO_NET_MAX_FRAME + 1];
    setup_probed();
    make_frame(fr, sizeof(fr), 9);
    rx_one(RX_BUF, 2048);
    rx_one(RX_BUF + 0x1000, 2048);
    CHECK_EQ(virtio_net_receive(&n, fr, ETH_HLEN - 1), NIC_RX_DROPPED);
    CHECK_EQ(virtio_net_receive(&n, fr, 0), NIC_RX_DROPPED);
    CHECK_EQ(virtio_net_receive(&n, fr, VIRTIO_NET_MAX_FRAME + 1), NIC_RX_DROPPED);
    CHECK_EQ(used_idx(&rxd), 0);
    CHECK_EQ(n.vq[VIRTIO_NET_RXQ].last_avail, 0);
    CHECK(all_fill(RX_BUF, 2048));
    CHECK_EQ(n.rx_bad, 3);
    CHECK(!f.irq.level);
    uint32_t id, len;
    CHECK_EQ(virtio_net_receive(&n, fr, ETH_HLEN), NIC_RX_OK);
    CHECK(drv_used(&rxd, &id, &len));
    CHECK_EQ(len, VIRTIO_NET_HDR_SIZE + ETH_HLEN);
    CHECK_EQ(virtio_net_receive(&n, fr, VIRTIO_NET_MAX_FRAME), NIC_RX_OK);
    CHECK(drv_used(&rxd, &id, &len));
    CHECK_EQ(len, VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MAX_FRAME);
    CHECK(!memcmp(ram + RX_BUF + 0x1000 + VIRTIO_NET_HDR_SIZE, fr, VIRTIO_NET_MAX_FRAME));
    CHECK_EQ(n.rx_frames, 2);
    CHECK_EQ(n.rx_bytes, ETH_HLEN + VIRTIO_NET_MAX_FRAME);
    /* Also refused before the device is even set up. */
    setup();
    CHECK_EQ(virtio_net_receive(&n, fr, VIRTIO_NET_MAX_FRAME + 1), NIC_RX_DROPPED);
    CHECK_EQ(virtio_net_receive(&n, fr, 60), NIC_RX_NO_BUFFER);
}

/* 2.6.4 / 2.6.5 (buffers are guest memory): a receive buffer outside RAM loses the frame,
 * counted, completed empty; nothing is written outside RAM (guards intact). */
TEST(vnet_rx_buffer_outside_ram)
{
    uint8_t fr[100];
    setup_probed();
    make_frame(fr, sizeof(fr), 10);
    uint32_t id, len;

    /* Straddling the end of RAM. */
    memset(ram + RAM_SIZE - 50, FILL, 50);
    struct tseg s1 = { RAM_SIZE - 50, 200 };
    uint16_t h = drv_add(&rxd, &s1, 1, true);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_DROPPED);
    CHECK(drv_used(&rxd, &id, &len));
    CHECK_EQ(id, h);
    CHECK_EQ(len, 0);
    CHECK_EQ(n.rx_bad, 1);
    /* (the 10-byte header may already be in; the frame part is not) */
    CHECK(all_fill(RAM_SIZE - 50 + VIRTIO_NET_HDR_SIZE, 50 - VIRTIO_NET_HDR_SIZE));
    CHECK(guards_intact());

    /* Right after RAM, and far away. */
    struct tseg s2 = { RAM_SIZE, 2048 };
    drv_add(&rxd, &s2, 1, true);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_DROPPED);
    struct tseg s3 = { 0xFFFFFFFFFFFFF000ull, 0x800 };
    drv_add(&rxd, &s3, 1, true);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_DROPPED);
    /* The header segment in RAM, the frame segment out of it. */
    memset(ram + RX_BUF, FILL, 16);
    struct tseg s4[2] = { { RX_BUF, 10 }, { RAM_SIZE - 20, 1600 } };
    drv_add(&rxd, s4, 2, true);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_DROPPED);
    /* addr + len wrapping the address space: a malformed chain, handed back. */
    struct tseg s5 = { 0xFFFFFFFFFFFFFF00ull, 0x200 };
    h = drv_add(&rxd, &s5, 1, true);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_DROPPED);
    CHECK_EQ(n.rx_bad, 5);
    CHECK_EQ(n.rx_frames, 0);
    CHECK_EQ(used_idx(&rxd), 5);
    for (unsigned i = 1; i < 5; i++) {
        CHECK(drv_used(&rxd, &id, &len));
        CHECK_EQ(len, 0);
    }
    CHECK_EQ(id, h);
    CHECK(guards_intact());
    CHECK(n.vp.status & VIRTIO_CONFIG_S_DRIVER_OK);
    CHECK(!n.vq[VIRTIO_NET_RXQ].broken);

    /* The queue still works. */
    rx_one(RX_BUF + 0x1000, 2048);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_OK);
    CHECK(drv_used(&rxd, &id, &len));
    CHECK_EQ(len, VIRTIO_NET_HDR_SIZE + sizeof(fr));
    CHECK(!memcmp(ram + RX_BUF + 0x1000 + VIRTIO_NET_HDR_SIZE, fr, sizeof(fr)));
    CHECK(guards_intact());
}

/* 2.6.6 (the driver has at most Q buffers outstanding) + 2.6.13: an avail idx far ahead
 * breaks the ring; it serves nothing, on either queue, until its PFN is written again. */
TEST(vnet_broken_ring)
{
    uint8_t fr[64];
    setup_probed();
    make_frame(fr, sizeof(fr), 11);
    rx_one(RX_BUF, 2048);
    w16(d_avail(&rxd) + 2, 300);                    /* 300 > 256 ahead */
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_DROPPED);    /* the ring broke */
    CHECK(n.vq[VIRTIO_NET_RXQ].broken);
    CHECK_EQ(n.vq[VIRTIO_NET_RXQ].last_error, VQ_ERR_AVAIL_IDX);
    CHECK_EQ(n.rx_bad, 1);
    CHECK(!virtio_net_can_receive(&n));
    w16(d_avail(&rxd) + 2, 1);                      /* even once the idx looks sane again */
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_NO_BUFFER);
    CHECK_EQ(used_idx(&rxd), 0);
    CHECK(all_fill(RX_BUF, 2048));

    tx_one(TX_BUF, fr, sizeof(fr));
    w16(d_avail(&txd) + 2, 0x8000);
    CHECK_EQ(virtio_net_tx_process(&n, 16), 0);
    CHECK(n.vq[VIRTIO_NET_TXQ].broken);
    CHECK(!virtio_net_tx_pending(&n));
    w16(d_avail(&txd) + 2, 1);
    CHECK(!virtio_net_tx_pending(&n));
    CHECK_EQ(virtio_net_tx_process(&n, 16), 0);
    CHECK_EQ(f.ntx, 0);
    CHECK_EQ(used_idx(&txd), 0);
    /* Notifies of a broken queue do nothing harmful (hooks may fire, nothing is served). */
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 1);
    CHECK_EQ(virtio_net_tx_process(&n, 16), 0);

    /* The driver re-creates the rings: PFN rewritten on zeroed rings. */
    drv_init(&rxd, RX_PFN);
    set_pfn(VIRTIO_NET_RXQ, RX_PFN);
    drv_init(&txd, TX_PFN);
    set_pfn(VIRTIO_NET_TXQ, TX_PFN);
    CHECK(!n.vq[VIRTIO_NET_RXQ].broken);
    CHECK(!n.vq[VIRTIO_NET_TXQ].broken);
    rx_one(RX_BUF, 2048);
    tx_one(TX_BUF, fr, sizeof(fr));
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_OK);
    CHECK_EQ(virtio_net_tx_process(&n, 16), 1);
    CHECK_EQ(f.ntx, 1);
    CHECK(!memcmp(f.tx[0], fr, sizeof(fr)));
    CHECK_EQ(used_idx(&rxd), 1);
    CHECK_EQ(used_idx(&txd), 1);
    CHECK(!memcmp(ram + RX_BUF + VIRTIO_NET_HDR_SIZE, fr, sizeof(fr)));
}

/* 2.6.2 (legacy ring layout in guest memory): a ring placed partly or wholly outside RAM
 * breaks the queue without any access outside RAM; a good PFN brings it back. */
TEST(vnet_ring_outside_ram)
{
    uint8_t fr[64];
    setup_probed();
    make_frame(fr, sizeof(fr), 13);
    /* Wholly outside: the available ring cannot even be read. */
    set_pfn(VIRTIO_NET_TXQ, 0x100);
    CHECK(virtio_net_tx_pending(&n));               /* unreadable idx: let the pop report it */
    CHECK_EQ(virtio_net_tx_process(&n, 16), 0);
    CHECK(n.vq[VIRTIO_NET_TXQ].broken);
    CHECK_EQ(n.vq[VIRTIO_NET_TXQ].last_error, VQ_ERR_AVAIL_DMA);
    CHECK(!virtio_net_tx_pending(&n));
    /* Descriptors and available ring in RAM (PFN 0xFE: 0xFE000..0xFFFFF), used ring past its
     * end: the chain is read and sent, its completion fails and breaks the queue. */
    drv_init(&txd, 0xFE);
    CHECK_EQ(d_used(&txd), RAM_SIZE);
    set_pfn(VIRTIO_NET_TXQ, 0xFE);
    put_tx(TX_BUF, 0, 0, fr, sizeof(fr));
    struct tseg s = { TX_BUF, VIRTIO_NET_HDR_SIZE + sizeof(fr) };
    drv_add(&txd, &s, 1, false);
    drv_add(&txd, &s, 1, false);
    CHECK_EQ(virtio_net_tx_process(&n, 16), 1);
    CHECK_EQ(f.ntx, 1);
    CHECK(n.vq[VIRTIO_NET_TXQ].broken);
    CHECK_EQ(n.vq[VIRTIO_NET_TXQ].last_error, VQ_ERR_USED_DMA);
    CHECK(!f.irq.level);                            /* nothing was published */
    CHECK_EQ(virtio_net_tx_process(&n, 16), 0);
    CHECK_EQ(f.ntx, 1);
    /* Receive with the ring wholly outside. */
    set_pfn(VIRTIO_NET_RXQ, 0x100);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_DROPPED);
    CHECK(n.vq[VIRTIO_NET_RXQ].broken);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_NO_BUFFER);
    CHECK_EQ(n.rx_frames, 0);
    CHECK(guards_intact());
    /* Back in RAM. */
    drv_init(&txd, TX_PFN);
    set_pfn(VIRTIO_NET_TXQ, TX_PFN);
    drv_init(&rxd, RX_PFN);
    set_pfn(VIRTIO_NET_RXQ, RX_PFN);
    tx_one(TX_BUF, fr, sizeof(fr));
    rx_one(RX_BUF, 2048);
    CHECK_EQ(virtio_net_tx_process(&n, 16), 1);
    CHECK_EQ(f.ntx, 2);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_OK);
    CHECK_EQ(used_idx(&txd), 1);
    CHECK_EQ(used_idx(&rxd), 1);
    CHECK(guards_intact());
}

/* 2.6.8 (the used ring) + 5.1.6.4: a received frame reaches the driver only through the used
 * ring. With the used ring past the end of RAM the frame is written into the buffer but can
 * never be handed back: it is lost, and must be reported and counted as lost (NIC_RX_DROPPED,
 * not in rx_frames), as for a buffer outside RAM. */
TEST(vnet_rx_used_ring_outside_ram)
{
    uint8_t fr[64];
    setup_probed();
    make_frame(fr, sizeof(fr), 14);
    drv_init(&rxd, 0xFE);                           /* used ring at 0x100000 = RAM_SIZE */
    CHECK_EQ(d_used(&rxd), RAM_SIZE);
    set_pfn(VIRTIO_NET_RXQ, 0xFE);
    struct tseg r = { RX_BUF, 2048 };
    drv_add(&rxd, &r, 1, true);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_DROPPED);
    CHECK(n.vq[VIRTIO_NET_RXQ].broken);
    CHECK_EQ(n.vq[VIRTIO_NET_RXQ].last_error, VQ_ERR_USED_DMA);
    CHECK_EQ(n.rx_frames, 0);
    CHECK_EQ(n.rx_bytes, 0);
    CHECK(!f.irq.level);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_NO_BUFFER);
    CHECK(guards_intact());
}

/* 4.1.4.8 QUEUE_NOTIFY + 4.1.5.2 (available buffer notifications): a notify of queue 1 calls
 * tx_kick, of queue 0 rx_kick, and only once that queue's PFN is set; other indices nothing.
 * A notify does not transmit by itself. */
TEST(vnet_notify_hooks)
{
    uint8_t fr[64];
    setup();
    make_frame(fr, sizeof(fr), 12);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 1);
    CHECK_EQ(f.rx_kicks, 0);
    CHECK_EQ(f.tx_kicks, 0);
    drv_init(&rxd, RX_PFN);
    set_pfn(0, RX_PFN);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    CHECK_EQ(f.rx_kicks, 1);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 1);
    CHECK_EQ(f.tx_kicks, 0);
    drv_init(&txd, TX_PFN);
    set_pfn(1, TX_PFN);
    tx_one(TX_BUF, fr, sizeof(fr));
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 1);
    CHECK_EQ(f.tx_kicks, 1);
    CHECK_EQ(f.rx_kicks, 1);
    CHECK_EQ(f.ntx, 0);
    CHECK(virtio_net_tx_pending(&n));
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 2);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0xFFFF);
    CHECK_EQ(f.tx_kicks, 1);
    CHECK_EQ(f.rx_kicks, 1);
    CHECK_EQ(n.vp.notifies, 7);
    /* Deleting the rx ring stops its kicks. */
    set_pfn(0, 0);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    CHECK_EQ(f.rx_kicks, 1);
    CHECK_EQ(virtio_net_tx_process(&n, 4), 1);      /* tx works without DRIVER_OK (legacy) */
    CHECK_EQ(f.ntx, 1);
    /* Reset drops both. */
    wr(VIRTIO_PCI_STATUS, 1, 0);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 1);
    CHECK_EQ(f.tx_kicks, 1);
    /* NULL hooks are allowed for the kicks. */
    static const struct virtio_net_hooks only_frame = { NULL, NULL, hook_tx_frame };
    setup();
    n.hooks = &only_frame;
    probe(true);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 1);
    CHECK_EQ(f.tx_kicks + f.rx_kicks, 0);
}

/* 2.1 / 3.1.1: buffers a driver posts before DRIVER_OK are not used until it is set (the
 * device's receive waits for it); setting DRIVER_OK then kicks the receive side once, so
 * frames held meanwhile are delivered even if the driver never notifies again. */
TEST(vnet_driver_ok_kicks_receive)
{
    uint8_t fr[80];
    setup();
    probe(false);
    rx_one(RX_BUF, 2048);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    unsigned kicks = f.rx_kicks;
    make_frame(fr, sizeof(fr), 3);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_NO_BUFFER);
    wr(VIRTIO_PCI_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
    CHECK_EQ(f.rx_kicks, kicks + 1);
    CHECK_EQ(virtio_net_receive(&n, fr, sizeof(fr)), NIC_RX_OK);
    /* Writing the same status again is no new DRIVER_OK. */
    wr(VIRTIO_PCI_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
    CHECK_EQ(f.rx_kicks, kicks + 1);
}
