/* Intel 82540EM model: reset values, the EEPROM through EERD and through a bit-banged Microwire
 * read and write driven exactly as Linux's e1000_hw.c does it, the PHY behind MDIC, the
 * interrupt registers and INTx line, legacy/context/data transmit with checksum offload and
 * TSO (checked by independent checksum code here), receive into the ring with filters, VLAN
 * stripping and long frames, the moderation timers through e1000_timer_next/catch_up, the
 * statistics, the I/O window, a Linux-like probe, hostile rings and descriptors, and a seeded
 * garbage run. Guest RAM is a 1 MiB array behind a fake dma_ops that refuses anything outside
 * it, with guard zones around it that must never change. Section numbers are the SDM's
 * (PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's Manual, rev 4.0). */
#include "test.h"
#include "byteorder.h"
#include "dev/dma.h"
#include "dev/devclock.h"
#include "dev/e1000.h"
#include "fake_ram.h"
#include <stdlib.h>

#define RAM_SIZE    (1u << 20)
#define GUARD       4096u
#define GUARD_BYTE  0xA5
#define TX_RING     0x10000u
#define TX_DATA     0x20000u
#define RX_RING     0x30000u
#define RX_BUFS     0x40000u            /* 4 KiB apart: a canary gap after each buffer */
#define RX_STRIDE   0x1000u
#define CANARY      0x5A
#define MAX_CAP     8
#define CAP_BYTES   (E1000_TX_MAX_FRAME + 64)

static uint8_t mem[GUARD + RAM_SIZE + GUARD];
#define ram (mem + GUARD)

struct fake {
    struct fake_irq irq;
    unsigned tx_kicks, rx_kicks, moved;
    bool process_in_kick;
    uint64_t now;
    unsigned frames;                    /* all frames sent */
    size_t cap_len[MAX_CAP];
};
static struct fake f;
static uint8_t cap[MAX_CAP][CAP_BYTES];
static struct e1000 e;
static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t PEER[6] = { 0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF };

static struct fake_ram fram = { .bytes = ram, .size = RAM_SIZE };
static const struct dma_ops dma = FAKE_RAM_DMA(&fram);

static void fake_irq(void *ctx, bool level) { fake_irq_set(&((struct fake *)ctx)->irq, level); }

static void fake_tx_kick(void *ctx)
{
    struct fake *p = ctx;
    p->tx_kicks++;
    if (p->process_in_kick)
        e1000_tx_process(&e, 1000);
}

static void fake_rx_kick(void *ctx) { ((struct fake *)ctx)->rx_kicks++; }

static void fake_tx_frame(void *ctx, const uint8_t *frame, size_t len)
{
    struct fake *p = ctx;
    CHECK(len >= 14 && len <= E1000_TX_MAX_FRAME + 4);
    if (p->frames < MAX_CAP && len <= CAP_BYTES) {
        memcpy(cap[p->frames], frame, len);
        p->cap_len[p->frames] = len;
    }
    p->frames++;
}

static uint64_t fake_clock(void *ctx) { return ((struct fake *)ctx)->now; }
static void fake_moved(void *ctx) { ((struct fake *)ctx)->moved++; }

static const struct e1000_hooks hooks = { fake_irq, fake_tx_kick, fake_rx_kick, fake_tx_frame };

static uint32_t rd(uint32_t off) { return e1000_mmio_read(&e, off, 4); }
static void wr(uint32_t off, uint32_t val) { e1000_mmio_write(&e, off, 4, val); }

static void setup(void)
{
    memset(mem, GUARD_BYTE, sizeof(mem));
    memset(ram, 0, RAM_SIZE);
    memset(&f, 0, sizeof(f));
    fake_ram_reset(&fram);
    f.now = 1000000;
    memset(&e, 0xA5, sizeof(e));        /* init must not rely on a zeroed struct */
    e1000_init(&e, MAC, &dma, &hooks, &f, fake_clock, &f);
    dev_clock_on_move(&e.clock, fake_moved, &f);
}

static bool guards_ok(void)
{
    for (unsigned i = 0; i < GUARD; i++)
        if (mem[i] != GUARD_BYTE || mem[GUARD + RAM_SIZE + i] != GUARD_BYTE)
            return false;
    return true;
}

/* ---- checksums, computed here independently of the model (RFC 791/793/1071) ---- */
static uint32_t t_sum(uint32_t acc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        acc += i & 1 ? p[i] : (uint32_t)p[i] << 8;
    return acc;
}

static uint16_t t_fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xFFFF) + (acc >> 16);
    return (uint16_t)acc;
}

static bool ip_csum_ok(const uint8_t *ip) { return t_fold(t_sum(0, ip, 20)) == 0xFFFF; }

/* TCP over IPv4: pseudo-header (src, dst, 0, proto, length) plus the segment adds to 0xFFFF. */
static bool tcp4_csum_ok(const uint8_t *ip, const uint8_t *tcp, size_t tcplen)
{
    uint32_t acc = t_sum(0, ip + 12, 8) + 6 + (uint32_t)tcplen;
    return t_fold(t_sum(acc, tcp, tcplen)) == 0xFFFF;
}

static bool tcp6_csum_ok(const uint8_t *ip6, const uint8_t *tcp, size_t tcplen)
{
    uint32_t acc = t_sum(0, ip6 + 8, 32) + 6 + (uint32_t)tcplen;
    return t_fold(t_sum(acc, tcp, tcplen)) == 0xFFFF;
}

/* the FCS, bit by bit (IEEE 802.3 CRC-32, reflected) */
static uint32_t t_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = c & 1 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

/* ---- frames ---- */
static size_t make_frame(uint8_t *p, const uint8_t *dst, size_t len, uint8_t seed)
{
    memcpy(p, dst, 6);
    memcpy(p + 6, PEER, 6);
    put_be16(p + 12, 0x0800);
    for (size_t i = 14; i < len; i++)
        p[i] = (uint8_t)(i * 7 + seed);
    return len;
}

/* Ethernet + IPv4 + TCP header (54 bytes) as Linux hands it to the driver for TSO
 * (e1000_tso): tot_len 0, IP checksum 0, TCP checksum = the pseudo-header sum without the
 * length. full_seed instead seeds it with the length, as for CHECKSUM_PARTIAL. */
static void make_tcp4_header(uint8_t *p, uint16_t id, uint32_t seq, uint8_t flags, bool tso, size_t paylen)
{
    memcpy(p, PEER, 6);
    memcpy(p + 6, MAC, 6);
    put_be16(p + 12, 0x0800);
    uint8_t *ip = p + 14, *tcp = p + 34;
    memset(ip, 0, 40);
    ip[0] = 0x45;
    put_be16(ip + 2, tso ? 0 : (uint16_t)(40 + paylen));
    put_be16(ip + 4, id);
    put_be16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    put_be16(tcp, 40000);
    put_be16(tcp + 2, 80);
    put_be16(tcp + 4, (uint16_t)(seq >> 16));
    put_be16(tcp + 6, (uint16_t)seq);
    put_be16(tcp + 8, 0x5566);
    put_be16(tcp + 10, 0x7788);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    put_be16(tcp + 14, 0xFFFF);
    uint32_t pseudo = t_sum(0, ip + 12, 8) + 6 + (tso ? 0 : (uint32_t)(20 + paylen));
    put_be16(tcp + 16, t_fold(pseudo));
}

/* ---- descriptors ---- */
static void txd_legacy(unsigned i, uint64_t addr, uint16_t len, uint32_t cmd, uint8_t cso, uint8_t css)
{
    uint8_t *d = ram + TX_RING + 16 * i;
    put_le64(d, addr);
    put_le32(d + 8, len | (uint32_t)cso << 16 | cmd);
    put_le32(d + 12, (uint32_t)css << 8);
}

static void txd_data(unsigned i, uint64_t addr, uint32_t len, uint32_t cmd, uint8_t popts)
{
    uint8_t *d = ram + TX_RING + 16 * i;
    put_le64(d, addr);
    put_le32(d + 8, len | cmd | E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_D);
    put_le32(d + 12, (uint32_t)popts << 8);
}

static void txd_context(unsigned i, uint8_t ipcss, uint8_t ipcso, uint16_t ipcse, uint8_t tucss,
                        uint8_t tucso, uint16_t tucse, uint32_t cmd, uint32_t paylen, uint8_t hdrlen,
                        uint16_t mss)
{
    uint8_t *d = ram + TX_RING + 16 * i;
    d[0] = ipcss;
    d[1] = ipcso;
    put_le16(d + 2, ipcse);
    d[4] = tucss;
    d[5] = tucso;
    put_le16(d + 6, tucse);
    put_le32(d + 8, paylen | cmd | E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_C);
    put_le32(d + 12, (uint32_t)hdrlen << 8 | (uint32_t)mss << 16);
}

static uint8_t txd_status(unsigned i) { return ram[TX_RING + 16 * i + 12]; }

static void tx_setup(unsigned n)
{
    wr(E1000_TDBAL, TX_RING);
    wr(E1000_TDBAH, 0);
    wr(E1000_TDLEN, n * 16);
    wr(E1000_TDH, 0);
    wr(E1000_TDT, 0);
    wr(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
}

static void rx_setup(unsigned n, uint32_t rctl)
{
    memset(ram + RX_BUFS, CANARY, n * RX_STRIDE);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *d = ram + RX_RING + 16 * i;
        memset(d, 0, 16);
        put_le64(d, RX_BUFS + (uint64_t)i * RX_STRIDE);
    }
    wr(E1000_RDBAL, RX_RING);
    wr(E1000_RDBAH, 0);
    wr(E1000_RDLEN, n * 16);
    wr(E1000_RDH, 0);
    wr(E1000_RDT, n - 1);               /* Linux leaves one descriptor unused */
    wr(E1000_RCTL, rctl | E1000_RCTL_EN);
}

static uint8_t *rxd(unsigned i) { return ram + RX_RING + 16 * i; }
static uint8_t *rxbuf(unsigned i) { return ram + RX_BUFS + i * RX_STRIDE; }

/* The "driver" hands descriptor i back: clears its status, as e1000_clean_rx_irq does. */
static void rx_recycle(unsigned i) { memset(rxd(i) + 8, 0, 8); }

/* ---- MDIC, as e1000_read_phy_reg_ex/e1000_write_phy_reg_ex do it ---- */
static bool phy_rd_at(unsigned phy, unsigned reg, uint16_t *v)
{
    wr(E1000_MDIC, reg << E1000_MDIC_REG_SHIFT | phy << E1000_MDIC_PHY_SHIFT | E1000_MDIC_OP_READ);
    uint32_t m = 0;
    for (int i = 0; i < 64; i++) {
        m = rd(E1000_MDIC);
        if (m & E1000_MDIC_READY)
            break;
    }
    if (!(m & E1000_MDIC_READY) || (m & E1000_MDIC_ERROR))
        return false;
    *v = (uint16_t)m;
    return true;
}

static uint16_t phy_rd(unsigned reg)
{
    uint16_t v = 0xDEAD;
    CHECK(phy_rd_at(1, reg, &v));
    return v;
}

static void phy_wr(unsigned reg, uint16_t v)
{
    wr(E1000_MDIC, v | reg << E1000_MDIC_REG_SHIFT | 1u << E1000_MDIC_PHY_SHIFT | E1000_MDIC_OP_WRITE);
    uint32_t m = rd(E1000_MDIC);
    CHECK(m & E1000_MDIC_READY);
    CHECK(!(m & E1000_MDIC_ERROR));
}

/* ---- Microwire, step by step as Linux's e1000_hw.c (acquire, shift_out, shift_in, standby,
 *      release, read_eeprom, write_eeprom_microwire) drives EECD on an 82540 ---- */
static void ee_raise(uint32_t *eecd) { *eecd |= E1000_EECD_SK; wr(E1000_EECD, *eecd); }
static void ee_lower(uint32_t *eecd) { *eecd &= ~E1000_EECD_SK; wr(E1000_EECD, *eecd); }

static void ee_shift_out(uint16_t data, unsigned count)
{
    uint32_t mask = 1u << (count - 1);
    uint32_t eecd = rd(E1000_EECD);
    eecd &= ~E1000_EECD_DO;
    do {
        eecd &= ~E1000_EECD_DI;
        if (data & mask)
            eecd |= E1000_EECD_DI;
        wr(E1000_EECD, eecd);
        ee_raise(&eecd);
        ee_lower(&eecd);
        mask >>= 1;
    } while (mask);
    eecd &= ~E1000_EECD_DI;
    wr(E1000_EECD, eecd);
}

static uint16_t ee_shift_in(unsigned count)
{
    uint32_t eecd = rd(E1000_EECD);
    eecd &= ~(E1000_EECD_DO | E1000_EECD_DI);
    uint16_t data = 0;
    for (unsigned i = 0; i < count; i++) {
        data = (uint16_t)(data << 1);
        ee_raise(&eecd);
        eecd = rd(E1000_EECD);
        eecd &= ~E1000_EECD_DI;
        if (eecd & E1000_EECD_DO)
            data |= 1;
        ee_lower(&eecd);
    }
    return data;
}

static bool ee_acquire(void)
{
    uint32_t eecd = rd(E1000_EECD);
    eecd |= E1000_EECD_REQ;
    wr(E1000_EECD, eecd);
    eecd = rd(E1000_EECD);
    for (int i = 0; !(eecd & E1000_EECD_GNT) && i < 1000; i++)
        eecd = rd(E1000_EECD);
    if (!(eecd & E1000_EECD_GNT))
        return false;
    eecd &= ~(E1000_EECD_DI | E1000_EECD_SK);
    wr(E1000_EECD, eecd);
    eecd |= E1000_EECD_CS;
    wr(E1000_EECD, eecd);
    return true;
}

static void ee_standby(void)
{
    uint32_t eecd = rd(E1000_EECD);
    eecd &= ~(E1000_EECD_CS | E1000_EECD_SK);
    wr(E1000_EECD, eecd);
    eecd |= E1000_EECD_SK;
    wr(E1000_EECD, eecd);
    eecd |= E1000_EECD_CS;
    wr(E1000_EECD, eecd);
    eecd &= ~E1000_EECD_SK;
    wr(E1000_EECD, eecd);
}

static void ee_release(void)
{
    uint32_t eecd = rd(E1000_EECD);
    eecd &= ~(E1000_EECD_CS | E1000_EECD_DI);
    wr(E1000_EECD, eecd);
    eecd |= E1000_EECD_SK;
    wr(E1000_EECD, eecd);
    eecd &= ~E1000_EECD_SK;
    wr(E1000_EECD, eecd);
    eecd &= ~E1000_EECD_REQ;
    wr(E1000_EECD, eecd);
}

static bool ee_read(uint16_t offset, uint16_t words, uint16_t *data)
{
    if (!ee_acquire())
        return false;
    for (uint16_t i = 0; i < words; i++) {
        ee_shift_out(0x6, 3);                       /* EEPROM_READ_OPCODE_MICROWIRE */
        ee_shift_out((uint16_t)(offset + i), 6);
        data[i] = ee_shift_in(16);
        ee_standby();
    }
    ee_release();
    return true;
}

static bool ee_write(uint16_t offset, uint16_t words, const uint16_t *data, bool enable)
{
    if (!ee_acquire())
        return false;
    if (enable) {
        ee_shift_out(0x13, 5);                      /* EWEN + the 11 of its dummy address */
        ee_shift_out(0, 4);
        ee_standby();
    }
    bool ok = true;
    for (uint16_t i = 0; i < words; i++) {
        ee_shift_out(0x5, 3);                       /* WRITE */
        ee_shift_out((uint16_t)(offset + i), 6);
        ee_shift_out(data[i], 16);
        ee_standby();
        int n;
        for (n = 0; n < 200; n++)
            if (rd(E1000_EECD) & E1000_EECD_DO)
                break;
        ok &= n < 200;
        ee_standby();
    }
    ee_shift_out(0x10, 5);                          /* EWDS */
    ee_shift_out(0, 4);
    ee_release();
    return ok;
}

static uint16_t eerd_word(unsigned addr)
{
    wr(E1000_EERD, addr << E1000_EERD_ADDR_SHIFT | E1000_EERD_START);
    uint32_t v = rd(E1000_EERD);
    CHECK(v & E1000_EERD_DONE);
    CHECK_EQ((v & E1000_EERD_ADDR_MASK) >> E1000_EERD_ADDR_SHIFT, addr);
    CHECK(!(v & E1000_EERD_START));
    return (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
}

/* ======================================================================================== */

/* 13.4.1-2: after reset the link is up at 1000 Mb/s full duplex, no cause is pending, the
 * line is low; 13.5.3: RAL0/RAH0 hold the EEPROM's address with AV; 13.4 EECD: an EEPROM is
 * present and SIZE reads 0 (64 words), which is how Linux picks 6 address bits. */
TEST(e1000_reset_values)
{
    setup();
    uint32_t st = rd(E1000_STATUS);
    CHECK(st & E1000_STATUS_LU);
    CHECK(st & E1000_STATUS_FD);
    CHECK_EQ(st & E1000_STATUS_SPEED_MASK, E1000_STATUS_SPEED_1000);
    CHECK(!(st & E1000_STATUS_TBIMODE));
    CHECK(!(st & E1000_STATUS_TXOFF));
    CHECK(!(st & E1000_STATUS_PCIX_MODE));
    CHECK_EQ(rd(E1000_ICR), 0);
    CHECK_EQ(rd(E1000_IMS), 0);
    CHECK(!f.irq.level);
    CHECK_EQ(rd(E1000_RAL(0)), 0x12005452u);
    CHECK_EQ(rd(E1000_RAH(0)), 0x5634u | E1000_RAH_AV);
    CHECK_EQ(rd(E1000_RAH(1)), 0);
    uint32_t eecd = rd(E1000_EECD);
    CHECK(eecd & E1000_EECD_PRES);
    CHECK(!(eecd & E1000_EECD_SIZE));
    CHECK(!(eecd & E1000_EECD_GNT));
    CHECK_EQ(rd(E1000_VET), 0x8100);
    CHECK_EQ(rd(E1000_RCTL), 0);
    CHECK_EQ(rd(E1000_TCTL), 0);
    CHECK_EQ(rd(E1000_PBA), 0x00100030u);
    CHECK(!(rd(E1000_CTRL) & (E1000_CTRL_RST | E1000_CTRL_PHY_RST)));
    CHECK_EQ(rd(E1000_MANC) & E1000_MANC_SMBUS_EN, 0);
    CHECK_EQ(e.bad_accesses, 0);
    CHECK_EQ(e1000_timer_next(&e), UINT64_MAX);
}

/* 13.4.4 EERD and chapter 5: words 0-2 hold the MAC little-endian, 0x00-0x3F add up to 0xBABA
 * (what e1000_validate_eeprom_checksum wants), the PCI ids sit at 0x0D/0x0E. */
TEST(e1000_eeprom_eerd)
{
    setup();
    uint16_t sum = 0, w[64];
    for (unsigned i = 0; i < 64; i++) {
        w[i] = eerd_word(i);
        sum = (uint16_t)(sum + w[i]);
    }
    CHECK_EQ(sum, 0xBABA);
    CHECK_EQ(w[0], 0x5452);
    CHECK_EQ(w[1], 0x1200);
    CHECK_EQ(w[2], 0x5634);
    CHECK_EQ(w[E1000_EEPROM_DEVICE_ID], 0x100E);
    CHECK_EQ(w[E1000_EEPROM_VENDOR_ID], 0x8086);
    CHECK_EQ(w[E1000_EEPROM_INIT_CTRL1] & 0xC000, E1000_EEPROM_ICW1_SIGNATURE);
    CHECK(!(w[E1000_EEPROM_INIT_CTRL3_A] & E1000_EEPROM_ICW3_APME));
    CHECK_EQ(eerd_word(64 + 2), w[2]);      /* 6 address bits: wraps */
    wr(E1000_EERD, 5 << E1000_EERD_ADDR_SHIFT);     /* no START: nothing read */
    CHECK(!(rd(E1000_EERD) & E1000_EERD_DONE));
}

/* Chapter 5 (93C46 Microwire) driven as Linux's e1000_read_eeprom does for an 82540 (use_eerd
 * false): REQ/GNT, then per word opcode 110b, 6 address bits, 16 data bits MSB first, standby;
 * release. The result must equal the EERD view, checksum and MAC included. */
TEST(e1000_eeprom_microwire_read)
{
    setup();
    uint16_t w[64], sum = 0;
    CHECK(ee_read(0, 64, w));
    for (unsigned i = 0; i < 64; i++) {
        CHECK_EQ(w[i], eerd_word(i));
        sum = (uint16_t)(sum + w[i]);
    }
    CHECK_EQ(sum, 0xBABA);
    uint16_t mac[3];
    CHECK(ee_read(0, 3, mac));              /* e1000_read_mac_addr, word by word */
    CHECK_EQ(mac[0] & 0xFF, MAC[0]);
    CHECK_EQ(mac[2] >> 8, MAC[5]);
    CHECK(!(rd(E1000_EECD) & (E1000_EECD_REQ | E1000_EECD_CS)));    /* released */
    CHECK_EQ(e.bad_accesses, 0);
}

/* Chapter 5: EWEN, WRITE, poll DO for ready, EWDS (e1000_write_eeprom_microwire); a WRITE
 * without EWEN changes nothing; the words survive a device reset and the new MAC is loaded
 * into RAL0/RAH0 (13.5.3). */
TEST(e1000_eeprom_microwire_write)
{
    setup();
    uint16_t v = 0x1234, back;
    CHECK(ee_write(0x30, 1, &v, true));
    CHECK(ee_read(0x30, 1, &back));
    CHECK_EQ(back, 0x1234);
    CHECK_EQ(eerd_word(0x30), 0x1234);
    v = 0x9999;
    CHECK(ee_write(0x30, 1, &v, false));    /* write-disabled: ignored */
    CHECK_EQ(eerd_word(0x30), 0x1234);
    uint16_t newmac[3] = { 0x0002, 0x0304, 0x0506 };
    CHECK(ee_write(0, 3, newmac, true));
    wr(E1000_CTRL, E1000_CTRL_RST);
    CHECK_EQ(rd(E1000_RAL(0)), 0x03040002u);
    CHECK_EQ(rd(E1000_RAH(0)), 0x0506u | E1000_RAH_AV);
    CHECK_EQ(eerd_word(0x30), 0x1234);
}

/* 13.4.7 MDIC and the M88E1011 registers: ID 0x01410C2x (Linux masks the revision), link up
 * with autonegotiation complete, 1000 full duplex in the specific status; READY on completion,
 * ERROR for a PHY address other than 1; read-only registers ignore writes; the reset and
 * restart bits clear themselves and keep the settings (Linux writes PSCR, then resets). */
TEST(e1000_mdic_phy)
{
    setup();
    uint32_t id = (uint32_t)phy_rd(E1000_PHY_ID1) << 16 | phy_rd(E1000_PHY_ID2);
    CHECK_EQ(id & E1000_PHY_REVISION_MASK, M88E1011_I_PHY_ID);
    phy_rd(E1000_PHY_STATUS);
    uint16_t st = phy_rd(E1000_PHY_STATUS);
    CHECK(st & E1000_MII_SR_LINK);
    CHECK(st & E1000_MII_SR_AN_COMPLETE);
    uint16_t pssr = phy_rd(M88E1000_PHY_SPEC_STATUS);
    CHECK_EQ(pssr & M88E1000_PSSR_SPEED_MASK, M88E1000_PSSR_1000MBS);
    CHECK(pssr & M88E1000_PSSR_DPLX);
    CHECK(pssr & M88E1000_PSSR_LINK);
    CHECK(phy_rd(E1000_PHY_1000T_STATUS) & E1000_SR_1000T_LP_FD);

    uint16_t v;
    CHECK(!phy_rd_at(2, E1000_PHY_ID1, &v));
    CHECK(rd(E1000_MDIC) & E1000_MDIC_ERROR);
    CHECK(!phy_rd_at(0, E1000_PHY_ID1, &v));
    wr(E1000_MDIC, E1000_MDIC_OP_MASK | 1u << E1000_MDIC_PHY_SHIFT);   /* opcode 11b */
    CHECK(rd(E1000_MDIC) & E1000_MDIC_ERROR);

    phy_wr(E1000_PHY_AUTONEG_ADV, 0x0DE1);
    CHECK_EQ(phy_rd(E1000_PHY_AUTONEG_ADV), 0x0DE1);
    phy_wr(E1000_PHY_ID1, 0x1111);
    CHECK_EQ(phy_rd(E1000_PHY_ID1), 0x0141);
    phy_wr(M88E1000_PHY_SPEC_CTRL, M88E1000_PSCR_AUTO_X_MODE | M88E1000_PSCR_ASSERT_CRS_ON_TX);
    rd(E1000_ICR);
    phy_wr(E1000_PHY_CTRL, (uint16_t)(phy_rd(E1000_PHY_CTRL) | E1000_MII_CR_RESET));
    CHECK(!(phy_rd(E1000_PHY_CTRL) & E1000_MII_CR_RESET));
    CHECK(phy_rd(M88E1000_PHY_SPEC_CTRL) & M88E1000_PSCR_ASSERT_CRS_ON_TX);
    CHECK(rd(E1000_ICR) & E1000_ICR_LSC);   /* renegotiated */
    phy_wr(E1000_PHY_CTRL, (uint16_t)(phy_rd(E1000_PHY_CTRL) | E1000_MII_CR_RESTART_AN));
    CHECK(!(phy_rd(E1000_PHY_CTRL) & E1000_MII_CR_RESTART_AN));

    /* I: MDAC on completion (13.4.17) */
    rd(E1000_ICR);
    wr(E1000_MDIC, 1u << E1000_MDIC_PHY_SHIFT | E1000_MDIC_OP_READ | E1000_MDIC_INT_EN);
    CHECK(rd(E1000_ICR) & E1000_ICR_MDAC);
    CHECK_EQ(e.bad_accesses, 0);
}

/* 13.4.17-21: ICS sets causes, IMS enables them onto INTA#, ICR reads and clears, IMC masks,
 * writing ICR clears the 1 bits; the line follows ICR & IMS and set_irq sees changes only. */
TEST(e1000_interrupt_registers)
{
    setup();
    wr(E1000_ICS, E1000_ICR_RXT0 | E1000_ICR_TXDW);
    CHECK(!f.irq.level);                    /* masked */
    CHECK_EQ(rd(E1000_ICS), E1000_ICR_RXT0 | E1000_ICR_TXDW);
    wr(E1000_IMS, E1000_ICR_RXT0);
    CHECK(f.irq.level);
    CHECK_EQ(rd(E1000_IMS), E1000_ICR_RXT0);
    wr(E1000_IMC, E1000_ICR_RXT0);
    CHECK(!f.irq.level);
    CHECK_EQ(rd(E1000_IMS), 0);
    wr(E1000_IMS, E1000_ICR_TXDW | E1000_ICR_LSC);
    CHECK(f.irq.level);
    wr(E1000_ICR, E1000_ICR_TXDW);          /* write 1 to clear */
    CHECK(!f.irq.level);
    wr(E1000_ICS, E1000_ICR_LSC);
    CHECK(f.irq.level);
    uint32_t icr = rd(E1000_ICR);
    CHECK_EQ(icr, E1000_ICR_RXT0 | E1000_ICR_LSC);
    CHECK(!f.irq.level);
    CHECK_EQ(rd(E1000_ICR), 0);
    wr(E1000_ICS, 0x80000000u | 0x20u);     /* bits the 82540 does not have */
    CHECK_EQ(rd(E1000_ICR), 0);
    CHECK_EQ(f.irq.rises, 3);
    CHECK_EQ(f.irq.falls, 3);
    CHECK_EQ(e.interrupts, 3);
    /* a byte read of ICR is a read of ICR */
    wr(E1000_ICS, E1000_ICR_TXQE);
    CHECK_EQ(e1000_mmio_read(&e, E1000_ICR, 1), E1000_ICR_TXQE);
    CHECK_EQ(rd(E1000_ICR), 0);
}

/* 13.4.17 LSC: setting CTRL.SLU hands the link to the MAC; powering the PHY down drops the
 * link and up brings it back (what e1000_close/e1000_open do); a cable pull likewise. */
TEST(e1000_link_changes)
{
    setup();
    wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_SLU);
    CHECK(rd(E1000_ICR) & E1000_ICR_LSC);
    wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_SLU);        /* already set: nothing */
    CHECK_EQ(rd(E1000_ICR), 0);
    phy_wr(E1000_PHY_CTRL, (uint16_t)(phy_rd(E1000_PHY_CTRL) | E1000_MII_CR_POWER_DOWN));
    CHECK(!(rd(E1000_STATUS) & E1000_STATUS_LU));
    CHECK(!(phy_rd(E1000_PHY_STATUS) & E1000_MII_SR_LINK));
    CHECK(rd(E1000_ICR) & E1000_ICR_LSC);
    phy_wr(E1000_PHY_CTRL, (uint16_t)(phy_rd(E1000_PHY_CTRL) & ~E1000_MII_CR_POWER_DOWN));
    CHECK(rd(E1000_STATUS) & E1000_STATUS_LU);
    CHECK(rd(E1000_ICR) & E1000_ICR_LSC);
    /* CTRL.PHY_RST held, then released (e1000_phy_hw_reset) */
    phy_wr(E1000_PHY_AUTONEG_ADV, 0x0DE1);
    uint32_t ctrl = rd(E1000_CTRL);
    wr(E1000_CTRL, ctrl | E1000_CTRL_PHY_RST);
    CHECK(!(rd(E1000_STATUS) & E1000_STATUS_LU));
    wr(E1000_CTRL, ctrl);
    CHECK(rd(E1000_STATUS) & E1000_STATUS_LU);
    CHECK_EQ(phy_rd(E1000_PHY_AUTONEG_ADV), 0x01E1);        /* hardware reset: defaults */
    rd(E1000_ICR);
    e1000_set_link(&e, false);
    CHECK(!(rd(E1000_STATUS) & E1000_STATUS_LU));
    CHECK(rd(E1000_ICR) & E1000_ICR_LSC);
    rx_setup(8, E1000_RCTL_BAM);
    uint8_t fr[64];
    make_frame(fr, MAC, 64, 1);
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_DROPPED);
    CHECK_EQ(e.rx_no_link, 1);
    CHECK(!e1000_can_receive(&e));
    e1000_set_link(&e, true);
    CHECK(rd(E1000_STATUS) & E1000_STATUS_LU);
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_OK);
}

/* 3.3.3 legacy descriptors: the frame leaves byte-exact, DD is written back where RS asks
 * (3.3.3.2), TDH follows, TXDW (RS without IDE: immediate) and TXQE (3.4.3) are raised; a
 * packet may span descriptors; the ring wraps. TDT with TCTL.EN calls tx_kick. */
TEST(e1000_tx_legacy)
{
    setup();
    tx_setup(8);
    uint8_t *buf = ram + TX_DATA;
    make_frame(buf, PEER, 100, 3);
    txd_legacy(0, TX_DATA, 100, E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS, 0, 0);
    CHECK(!e1000_tx_pending(&e));
    wr(E1000_TDT, 1);
    CHECK_EQ(f.tx_kicks, 1);
    CHECK(e1000_tx_pending(&e));
    CHECK_EQ(e1000_tx_process(&e, 64), 1);
    CHECK_EQ(f.frames, 1);
    CHECK_EQ(f.cap_len[0], 100);
    CHECK(!memcmp(cap[0], buf, 100));
    CHECK_EQ(txd_status(0) & E1000_TXD_STAT_DD, E1000_TXD_STAT_DD);
    CHECK_EQ(rd(E1000_TDH), 1);
    CHECK(!e1000_tx_pending(&e));
    CHECK_EQ(rd(E1000_ICR), E1000_ICR_TXDW | E1000_ICR_TXQE);

    /* two descriptors, RS on the last only */
    make_frame(buf + 0x1000, PEER, 90, 9);
    txd_legacy(1, TX_DATA + 0x1000, 50, 0, 0, 0);
    txd_legacy(2, TX_DATA + 0x1000 + 50, 40, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    wr(E1000_TDT, 3);
    CHECK_EQ(e1000_tx_process(&e, 64), 2);
    CHECK_EQ(f.frames, 2);
    CHECK_EQ(f.cap_len[1], 90);
    CHECK(!memcmp(cap[1], buf + 0x1000, 90));
    CHECK(!(txd_status(1) & E1000_TXD_STAT_DD));
    CHECK(txd_status(2) & E1000_TXD_STAT_DD);

    /* a packet across the ring's end: descriptors 6, 7, 0 */
    wr(E1000_TCTL, 0);
    wr(E1000_TDH, 6);
    wr(E1000_TDT, 6);
    wr(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
    make_frame(buf + 0x2000, PEER, 150, 5);
    txd_legacy(6, TX_DATA + 0x2000, 60, 0, 0, 0);
    txd_legacy(7, TX_DATA + 0x2000 + 60, 60, 0, 0, 0);
    txd_legacy(0, TX_DATA + 0x2000 + 120, 30, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    ram[TX_RING + 12] = 0;
    wr(E1000_TDT, 1);
    CHECK_EQ(e1000_tx_process(&e, 1), 1);   /* budget respected */
    CHECK_EQ(rd(E1000_TDH), 7);
    CHECK_EQ(e1000_tx_process(&e, 64), 2);
    CHECK_EQ(rd(E1000_TDH), 1);
    CHECK_EQ(f.frames, 3);
    CHECK_EQ(f.cap_len[2], 150);
    CHECK(!memcmp(cap[2], buf + 0x2000, 150));
    CHECK(txd_status(0) & E1000_TXD_STAT_DD);

    /* TCTL.PSP pads a short frame to 60 bytes */
    make_frame(buf + 0x3000, PEER, 42, 1);
    txd_legacy(1, TX_DATA + 0x3000, 42, E1000_TXD_CMD_EOP, 0, 0);
    wr(E1000_TDT, 2);
    e1000_tx_process(&e, 64);
    CHECK_EQ(f.cap_len[3], 60);
    CHECK(!memcmp(cap[3], buf + 0x3000, 42));
    CHECK_EQ(cap[3][59], 0);
    CHECK_EQ(e.tx_frames, 4);
    /* a packet left without EOP is dropped when the driver rewrites TDH (idle ring) */
    txd_legacy(2, TX_DATA + 0x3000, 30, 0, 0, 0);
    wr(E1000_TDT, 3);
    e1000_tx_process(&e, 64);
    wr(E1000_TCTL, 0);
    wr(E1000_TDH, 2);
    wr(E1000_TDT, 2);
    wr(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
    make_frame(buf + 0x4000, PEER, 70, 2);
    txd_legacy(2, TX_DATA + 0x4000, 70, E1000_TXD_CMD_EOP, 0, 0);
    wr(E1000_TDT, 3);
    e1000_tx_process(&e, 64);
    CHECK_EQ(f.cap_len[4], 70);
    CHECK(!memcmp(cap[4], buf + 0x4000, 70));
    /* the kick processes at once when the glue does so */
    f.process_in_kick = true;
    txd_legacy(3, TX_DATA + 0x4000, 80, E1000_TXD_CMD_EOP, 0, 0);
    wr(E1000_TDT, 4);
    CHECK_EQ(f.frames, 6);
    CHECK(guards_ok());
}

/* 3.3.5-3.3.7 and 3.6: a normal (non-TSO) context plus a data descriptor with IXSM|TXSM: the
 * IP header checksum and the TCP checksum (seeded with the full pseudo-header) come out valid;
 * the legacy IC/CSS/CSO path does the same for TCP. */
TEST(e1000_tx_checksum_offload)
{
    setup();
    tx_setup(8);
    uint8_t *p = ram + TX_DATA;
    make_tcp4_header(p, 0x4242, 1000, 0x18, false, 100);
    for (int i = 0; i < 100; i++)
        p[54 + i] = (uint8_t)(i * 13 + 1);
    txd_context(0, 14, 24, 33, 34, 50, 0, E1000_TXD_CMD_TCP | E1000_TXD_CMD_IP, 0, 0, 0);
    txd_data(1, TX_DATA, 154, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS,
             E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM);
    wr(E1000_TDT, 2);
    CHECK_EQ(e1000_tx_process(&e, 64), 2);
    CHECK_EQ(f.frames, 1);
    CHECK_EQ(f.cap_len[0], 154);
    CHECK(ip_csum_ok(cap[0] + 14));
    CHECK(tcp4_csum_ok(cap[0] + 14, cap[0] + 34, 120));
    CHECK(get_be16(cap[0] + 24) != 0);
    CHECK(!memcmp(cap[0] + 54, p + 54, 100));

    /* the same context stays loaded: a second packet needs none */
    make_tcp4_header(p + 0x1000, 0x4243, 2000, 0x10, false, 30);
    txd_data(2, TX_DATA + 0x1000, 84, E1000_TXD_CMD_EOP, E1000_TXD_POPTS_TXSM);
    wr(E1000_TDT, 3);
    e1000_tx_process(&e, 64);
    CHECK(tcp4_csum_ok(cap[1] + 14, cap[1] + 34, 50));
    CHECK_EQ(get_be16(cap[1] + 24), 0);     /* IXSM not asked: left alone */

    /* legacy: CSS 34, CSO 50 */
    make_tcp4_header(p + 0x2000, 0x4244, 3000, 0x10, false, 10);
    txd_legacy(3, TX_DATA + 0x2000, 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_IC, 50, 34);
    wr(E1000_TDT, 4);
    e1000_tx_process(&e, 64);
    CHECK(tcp4_csum_ok(cap[2] + 14, cap[2] + 34, 30));
    /* IC with CSO past the packet: ignored (3.3.3.1) */
    make_tcp4_header(p + 0x3000, 0x4245, 3000, 0x10, false, 10);
    uint16_t seed = get_be16(p + 0x3000 + 50);
    txd_legacy(4, TX_DATA + 0x3000, 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_IC, 63, 34);
    wr(E1000_TDT, 5);
    e1000_tx_process(&e, 64);
    CHECK_EQ(get_be16(cap[3] + 50), seed);
    CHECK_EQ(f.frames, 4);
}

/* 3.5 TSO as Linux's e1000_tso/e1000_tx_queue set it up: a 4000-byte TCP payload with MSS
 * 1448 leaves as three frames (3.5.9): IP total length and id per frame, sequence numbers
 * advanced, FIN/PSH only in the last, valid IP and TCP checksums (the driver's pseudo-header
 * seed excludes the length). Statistics TSCTC/GPTC move. */
TEST(e1000_tx_tso)
{
    setup();
    tx_setup(16);
    uint8_t *p = ram + TX_DATA;
    const size_t pay = 4000, mss = 1448;
    make_tcp4_header(p, 0x1234, 0x11223344u, 0x19, true, 0);    /* FIN|PSH|ACK */
    for (size_t i = 0; i < pay; i++)
        p[54 + i] = (uint8_t)(i * 31 + 7);
    txd_context(0, 14, 24, 33, 34, 50, 0,
                E1000_TXD_CMD_TSE | E1000_TXD_CMD_TCP | E1000_TXD_CMD_IP, (uint32_t)pay, 54, (uint16_t)mss);
    uint8_t popts = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM;
    txd_data(1, TX_DATA, 54, E1000_TXD_CMD_TSE | E1000_TXD_CMD_IFCS, popts);
    txd_data(2, TX_DATA + 54, 2500, E1000_TXD_CMD_TSE | E1000_TXD_CMD_IFCS, popts);
    txd_data(3, TX_DATA + 54 + 2500, 1496, E1000_TXD_CMD_TSE | E1000_TXD_CMD_IFCS, popts);
    txd_data(4, TX_DATA + 54 + 3996, 4,     /* Linux's 4-byte sentinel descriptor */
             E1000_TXD_CMD_TSE | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, popts);
    wr(E1000_TDT, 5);
    CHECK_EQ(e1000_tx_process(&e, 64), 5);
    CHECK_EQ(f.frames, 3);
    const size_t seg[3] = { 1448, 1448, 1104 };
    for (unsigned k = 0; k < 3; k++) {
        const uint8_t *fr = cap[k], *ip = fr + 14, *tcp = fr + 34;
        CHECK_EQ(f.cap_len[k], 54 + seg[k]);
        CHECK_EQ(get_be16(ip + 2), 40 + seg[k]);
        CHECK_EQ(get_be16(ip + 4), 0x1234 + k);
        CHECK(ip_csum_ok(ip));
        uint32_t seq = (uint32_t)get_be16(tcp + 4) << 16 | get_be16(tcp + 6);
        CHECK_EQ(seq, 0x11223344u + k * mss);
        CHECK_EQ(tcp[13], k < 2 ? 0x10 : 0x19);
        CHECK(tcp4_csum_ok(ip, tcp, 20 + seg[k]));
        CHECK(!memcmp(fr + 54, p + 54 + k * mss, seg[k]));
        CHECK(!memcmp(fr, p, 14));      /* addresses and type copied */
    }
    CHECK(txd_status(4) & E1000_TXD_STAT_DD);
    CHECK_EQ(e.tso_packets, 1);
    CHECK_EQ(rd(E1000_TSCTC), 1);
    CHECK_EQ(rd(E1000_TSCTFC), 0);
    CHECK_EQ(rd(E1000_GPTC), 3);
    CHECK_EQ(rd(E1000_TPT), 3);
}

/* 3.5.9 for IPv6 (TUCMD.IP clear): the payload length follows each segment, the TCP checksum
 * uses the IPv6 pseudo-header. */
TEST(e1000_tx_tso_ipv6)
{
    setup();
    tx_setup(8);
    uint8_t *p = ram + TX_DATA;
    memcpy(p, PEER, 6);
    memcpy(p + 6, MAC, 6);
    put_be16(p + 12, 0x86DD);
    uint8_t *ip6 = p + 14, *tcp = p + 54;
    memset(ip6, 0, 60);
    ip6[0] = 0x60;
    ip6[6] = 6;
    ip6[7] = 64;
    for (int i = 0; i < 16; i++) {
        ip6[8 + i] = (uint8_t)(0x20 + i);
        ip6[24 + i] = (uint8_t)(0x40 + i);
    }
    put_be16(tcp, 1);
    put_be16(tcp + 2, 2);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18;
    put_be16(tcp + 16, t_fold(t_sum(0, ip6 + 8, 32) + 6));
    for (int i = 0; i < 1500; i++)
        p[74 + i] = (uint8_t)i;
    txd_context(0, 14, 0, 0, 54, 70, 0, E1000_TXD_CMD_TSE | E1000_TXD_CMD_TCP, 1500, 74, 1000);
    txd_data(1, TX_DATA, 1574, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, E1000_TXD_POPTS_TXSM);
    wr(E1000_TDT, 2);
    e1000_tx_process(&e, 64);
    CHECK_EQ(f.frames, 2);
    CHECK_EQ(get_be16(cap[0] + 14 + 4), 1020);
    CHECK_EQ(get_be16(cap[1] + 14 + 4), 520);
    CHECK(tcp6_csum_ok(cap[0] + 14, cap[0] + 54, 1020));
    CHECK(tcp6_csum_ok(cap[1] + 14, cap[1] + 54, 520));
    CHECK_EQ(cap[0][54 + 13], 0x10);
    CHECK_EQ(cap[1][54 + 13], 0x18);
}

/* 3.3.3.1 VLE with CTRL.VME inserts VET and the descriptor's tag after the addresses;
 * 3.2 / 13.5.4 on receive: VME strips a tag into the descriptor (VP, special), and VFE drops
 * VLANs the VFTA does not hold. */
TEST(e1000_vlan)
{
    setup();
    tx_setup(8);
    wr(E1000_CTRL, rd(E1000_CTRL) | E1000_CTRL_VME);
    uint8_t *buf = ram + TX_DATA;
    make_frame(buf, PEER, 100, 1);
    uint8_t *d = ram + TX_RING;
    txd_legacy(0, TX_DATA, 100, E1000_TXD_CMD_EOP | E1000_TXD_CMD_VLE, 0, 0);
    put_le32(d + 12, 0x2005u << E1000_TXD_SPECIAL_SHIFT);
    wr(E1000_TDT, 1);
    e1000_tx_process(&e, 64);
    CHECK_EQ(f.cap_len[0], 104);
    CHECK(!memcmp(cap[0], buf, 12));
    CHECK_EQ(get_be16(cap[0] + 12), 0x8100);
    CHECK_EQ(get_be16(cap[0] + 14), 0x2005);
    CHECK(!memcmp(cap[0] + 16, buf + 12, 88));

    rx_setup(8, E1000_RCTL_BAM | E1000_RCTL_SECRC);
    uint8_t fr[120];
    memcpy(fr, MAC, 6);
    memcpy(fr + 6, PEER, 6);
    put_be16(fr + 12, 0x8100);
    put_be16(fr + 14, 0x2005);
    put_be16(fr + 16, 0x0800);
    for (int i = 18; i < 120; i++)
        fr[i] = (uint8_t)i;
    CHECK_EQ(e1000_receive(&e, fr, 120), E1000_RX_OK);
    CHECK_EQ(get_le16(rxd(0) + 8), 116);
    CHECK(rxd(0)[12] & E1000_RXD_STAT_VP);
    CHECK_EQ(get_le16(rxd(0) + 14), 0x2005);
    CHECK(!memcmp(rxbuf(0), fr, 12));
    CHECK(!memcmp(rxbuf(0) + 12, fr + 16, 104));
    wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_VFE);
    CHECK_EQ(e1000_receive(&e, fr, 120), E1000_RX_FILTERED);
    wr(E1000_VFTA + 4 * (5 >> 5), 1u << (5 & 31));
    CHECK_EQ(e1000_receive(&e, fr, 120), E1000_RX_OK);
    /* without VME the tag stays in the frame */
    wr(E1000_CTRL, rd(E1000_CTRL) & ~E1000_CTRL_VME);
    CHECK_EQ(e1000_receive(&e, fr, 120), E1000_RX_OK);
    CHECK_EQ(get_le16(rxd(2) + 8), 120);
    CHECK(!(rxd(2)[12] & E1000_RXD_STAT_VP));
}

/* 3.2.3-3.2.6 receive: DD/EOP/IXSM and the length with the FCS (SECRC clear, as Linux's e1000
 * programs it; Linux strips 4 bytes itself), the FCS is the frame's CRC-32, nothing written
 * past the frame; a short frame is padded to 60; with SECRC the length is the frame's. The
 * ring fills (NO_BUFFER, nothing counted), RDT moving calls rx_kick and frames flow again
 * around the wrap. */
TEST(e1000_rx_ring)
{
    setup();
    wr(E1000_IMS, E1000_ICR_RXT0);
    rx_setup(8, E1000_RCTL_BAM);
    uint8_t fr[1514];
    make_frame(fr, MAC, 100, 4);
    CHECK_EQ(e1000_receive(&e, fr, 100), E1000_RX_OK);
    uint8_t *d = rxd(0);
    CHECK_EQ(get_le16(d + 8), 104);
    CHECK_EQ(d[12], E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP | E1000_RXD_STAT_IXSM);
    CHECK_EQ(d[13], 0);
    CHECK(!memcmp(rxbuf(0), fr, 100));
    CHECK_EQ(get_le32(rxbuf(0) + 100), t_crc32(fr, 100));
    CHECK_EQ(rxbuf(0)[104], CANARY);
    CHECK_EQ(rd(E1000_RDH), 1);
    CHECK(f.irq.level);                     /* RDTR 0: RXT0 at once */
    CHECK_EQ(rd(E1000_ICR) & E1000_ICR_RXT0, E1000_ICR_RXT0);

    make_frame(fr, MAC, 42, 1);             /* an ARP-sized frame, as virtio peers send */
    CHECK_EQ(e1000_receive(&e, fr, 42), E1000_RX_OK);
    CHECK_EQ(get_le16(rxd(1) + 8), 64);
    CHECK(!memcmp(rxbuf(1), fr, 42));
    CHECK_EQ(rxbuf(1)[59], 0);

    wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_SECRC);
    make_frame(fr, MAC, 1514, 2);
    CHECK_EQ(e1000_receive(&e, fr, 1514), E1000_RX_OK);
    CHECK_EQ(get_le16(rxd(2) + 8), 1514);
    CHECK(!memcmp(rxbuf(2), fr, 1514));
    CHECK_EQ(rxbuf(2)[1514], CANARY);

    for (int i = 3; i < 7; i++)
        CHECK_EQ(e1000_receive(&e, fr, 200), E1000_RX_OK);
    CHECK(!e1000_can_receive(&e));
    uint64_t writes = fram.writes;
    uint32_t gprc_before = e.stats[(E1000_GPRC - E1000_STATS_BASE) / 4];
    CHECK_EQ(e1000_receive(&e, fr, 200), E1000_RX_NO_BUFFER);
    CHECK_EQ(fram.writes, writes);          /* no side effects */
    CHECK_EQ(e.stats[(E1000_GPRC - E1000_STATS_BASE) / 4], gprc_before);
    CHECK_EQ(rd(E1000_TPR), 7);
    CHECK_EQ(rd(E1000_RNBC), 0);
    for (unsigned i = 0; i < 4; i++)
        rx_recycle(i);
    unsigned kicks = f.rx_kicks;
    wr(E1000_RDT, 3);                       /* descriptors 7, 0, 1, 2 back */
    CHECK_EQ(f.rx_kicks, kicks + 1);
    CHECK(e1000_can_receive(&e));
    for (int i = 0; i < 4; i++) {
        make_frame(fr, MAC, 300, (uint8_t)(10 + i));
        CHECK_EQ(e1000_receive(&e, fr, 300), E1000_RX_OK);
    }
    CHECK_EQ(rd(E1000_RDH), 3);
    CHECK(!memcmp(rxbuf(2), fr, 300));
    CHECK_EQ(get_le16(rxd(7) + 8), 300);
    CHECK(rxd(0)[12] & E1000_RXD_STAT_DD);
    CHECK_EQ(e1000_receive(&e, fr, 300), E1000_RX_NO_BUFFER);
    CHECK_EQ(rd(E1000_GPRC), 11);
    CHECK(guards_ok());
}

/* 3.2.3-3.2.4 with RCTL.LPE: a 5000-byte frame spans three 2048-byte buffers, EOP only on the
 * last; without LPE anything over 1522 bytes with FCS is dropped and counted (ROC). */
TEST(e1000_rx_long_frame)
{
    setup();
    rx_setup(8, E1000_RCTL_LPE | E1000_RCTL_SZ_2048);
    static uint8_t fr[5000];
    make_frame(fr, MAC, 5000, 6);
    CHECK_EQ(e1000_receive(&e, fr, 5000), E1000_RX_OK);
    CHECK_EQ(get_le16(rxd(0) + 8), 2048);
    CHECK_EQ(get_le16(rxd(1) + 8), 2048);
    CHECK_EQ(get_le16(rxd(2) + 8), 5004 - 4096);
    CHECK_EQ(rxd(0)[12], E1000_RXD_STAT_DD | E1000_RXD_STAT_IXSM);
    CHECK_EQ(rxd(1)[12], E1000_RXD_STAT_DD | E1000_RXD_STAT_IXSM);
    CHECK(rxd(2)[12] & E1000_RXD_STAT_EOP);
    CHECK(!memcmp(rxbuf(0), fr, 2048));
    CHECK(!memcmp(rxbuf(1), fr + 2048, 2048));
    CHECK(!memcmp(rxbuf(2), fr + 4096, 904));
    CHECK_EQ(get_le32(rxbuf(2) + 904), t_crc32(fr, 5000));
    CHECK_EQ(rxbuf(0)[2048], CANARY);
    CHECK_EQ(rd(E1000_RDH), 3);

    wr(E1000_RCTL, rd(E1000_RCTL) & ~E1000_RCTL_LPE);
    CHECK_EQ(e1000_receive(&e, fr, 5000), E1000_RX_DROPPED);
    CHECK_EQ(e1000_receive(&e, fr, 1519), E1000_RX_DROPPED);
    CHECK_EQ(e1000_receive(&e, fr, 1518), E1000_RX_OK);     /* 1522 with FCS */
    CHECK_EQ(rd(E1000_ROC), 2);
    CHECK_EQ(e.rx_too_long, 2);
    /* 256-byte buffers: 1000 bytes need 4 of them */
    rx_setup(16, E1000_RCTL_SZ_256 | E1000_RCTL_SECRC);
    make_frame(fr, MAC, 1000, 8);
    CHECK_EQ(e1000_receive(&e, fr, 1000), E1000_RX_OK);
    CHECK_EQ(rd(E1000_RDH), 4);
    CHECK_EQ(get_le16(rxd(3) + 8), 1000 - 768);
    CHECK(!memcmp(rxbuf(3), fr + 768, 232));
    CHECK_EQ(rxbuf(1)[256], CANARY);
    /* BSEX: 16384 */
    rx_setup(8, E1000_RCTL_LPE | E1000_RCTL_BSEX | E1000_RCTL_SZ_16384);
    wr(E1000_RDBAL, RX_RING);
    for (unsigned i = 0; i < 8; i++)
        put_le64(rxd(i), RX_BUFS + (uint64_t)i * 0x4000);
    CHECK_EQ(e1000_receive(&e, fr, 5000), E1000_RX_OK);
    CHECK_EQ(get_le16(rxd(0) + 8), 5004);
    CHECK(guards_ok());
}

/* 13.5 / 3.2.1 address filtering: exact RAL/RAH matches (AV), UPE, BAM, MPE, the MTA hash
 * with MO=0 taking address bits 47:36 (13.5.1), and MAC control frames kept in the MAC. */
TEST(e1000_rx_filters)
{
    setup();
    rx_setup(32, 0);
    uint8_t fr[64];
    make_frame(fr, MAC, 64, 0);
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_OK);
    make_frame(fr, PEER, 64, 0);
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_FILTERED);
    CHECK_EQ(e.rx_filtered, 1);
    wr(E1000_RAL(3), get_le32(PEER));
    wr(E1000_RAH(3), get_le16(PEER + 4));               /* no AV */
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_FILTERED);
    wr(E1000_RAH(3), get_le16(PEER + 4) | E1000_RAH_AV);
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_OK);
    wr(E1000_RAH(3), 0);
    wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_UPE);
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_OK);
    wr(E1000_RCTL, rd(E1000_RCTL) & ~E1000_RCTL_UPE);

    static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    make_frame(fr, bcast, 64, 0);
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_FILTERED);
    wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_BAM);
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_OK);
    CHECK_EQ(rd(E1000_BPRC), 1);

    static const uint8_t mcast[6] = { 0x01, 0x00, 0x5E, 0x00, 0x12, 0xFB };
    make_frame(fr, mcast, 64, 0);
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_FILTERED);
    uint64_t a = 0;
    for (int i = 5; i >= 0; i--)
        a = a << 8 | mcast[i];
    unsigned h = (unsigned)(a >> 36) & 0xFFF;               /* MO = 0: bits 47:36 */
    wr(E1000_MTA + 4 * (h >> 5), 1u << (h & 31));
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_OK);
    wr(E1000_RCTL, rd(E1000_RCTL) | 3u << E1000_RCTL_MO_SHIFT);   /* MO = 3: bits 43:32 */
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_FILTERED);
    wr(E1000_RCTL, rd(E1000_RCTL) | E1000_RCTL_MPE);
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_OK);
    CHECK_EQ(rd(E1000_MPRC), 2);

    static const uint8_t pause[6] = { 0x01, 0x80, 0xC2, 0x00, 0x00, 0x01 };
    make_frame(fr, pause, 64, 0);
    put_be16(fr + 12, 0x8808);
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_FILTERED);
    CHECK_EQ(e.rx_filtered, 6);
}

/* 13.4.18 ITR: no two assertions closer than the interval (256 ns units); the held assertion
 * is the deadline e1000_timer_next reports, catch_up raises it when due, and the model says
 * when the deadline moved. ICR shows the cause at once. */
TEST(e1000_itr_throttling)
{
    setup();
    wr(E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_TXDW);
    wr(E1000_ITR, 1000);                    /* 256 us */
    uint64_t t0 = f.now;
    wr(E1000_ICS, E1000_ICR_RXT0);
    CHECK(f.irq.level);
    CHECK_EQ(e1000_timer_next(&e), UINT64_MAX);
    rd(E1000_ICR);
    CHECK(!f.irq.level);
    f.now = t0 + 100000;
    unsigned moved = f.moved;
    wr(E1000_ICS, E1000_ICR_TXDW);
    CHECK(!f.irq.level);                    /* held */
    CHECK_EQ(e1000_timer_next(&e), t0 + 256000);
    CHECK(f.moved > moved);
    CHECK_EQ(e1000_mmio_read(&e, E1000_ICS, 4), E1000_ICR_TXDW);
    f.now = t0 + 255999;
    e1000_timer_catch_up(&e);
    CHECK(!f.irq.level);
    f.now = t0 + 256000;
    e1000_timer_catch_up(&e);
    CHECK(f.irq.level);
    CHECK_EQ(e1000_timer_next(&e), UINT64_MAX);
    CHECK_EQ(e.interrupts, 2);
    /* masked and unmasked again within the interval: held again */
    rd(E1000_ICR);
    f.now += 1000;
    wr(E1000_ICS, E1000_ICR_RXT0);
    CHECK(!f.irq.level);
    CHECK_EQ(e1000_timer_next(&e), t0 + 512000);
    /* late catch-up (the VM did not run): the interrupt comes at once */
    f.now = t0 + 10000000;
    e1000_timer_catch_up(&e);
    CHECK(f.irq.level);
    /* ITR 0: no throttling */
    rd(E1000_ICR);
    wr(E1000_ITR, 0);
    wr(E1000_ICS, E1000_ICR_RXT0);
    CHECK(f.irq.level);
}

/* 3.2.7.1 / 13.4.30-31: the packet timer (RDTR) restarts with every frame, the absolute timer
 * (RADV) runs from the first; RXT0 is raised by whichever ends first and both stop; FPD fires
 * at once. */
TEST(e1000_rx_delay_timers)
{
    setup();
    wr(E1000_IMS, E1000_ICR_RXT0);
    wr(E1000_RDTR, 10);                     /* 10.24 us */
    wr(E1000_RADV, 15);                     /* 15.36 us */
    rx_setup(16, E1000_RCTL_SECRC);
    uint8_t fr[64];
    make_frame(fr, MAC, 64, 0);
    uint64_t t = f.now;
    CHECK_EQ(e1000_receive(&e, fr, 64), E1000_RX_OK);
    CHECK(!(rd(E1000_ICS) & E1000_ICR_RXT0));
    CHECK_EQ(e1000_timer_next(&e), t + 10240);
    f.now = t + 5000;
    e1000_receive(&e, fr, 64);
    CHECK_EQ(e1000_timer_next(&e), t + 15240);
    f.now = t + 12000;
    e1000_receive(&e, fr, 64);
    CHECK_EQ(e1000_timer_next(&e), t + 15360);      /* the absolute timer caps it */
    f.now = t + 15359;
    e1000_timer_catch_up(&e);
    CHECK(!f.irq.level);
    f.now = t + 15360;
    e1000_timer_catch_up(&e);
    CHECK(f.irq.level);
    CHECK_EQ(e1000_timer_next(&e), UINT64_MAX);
    CHECK(rd(E1000_ICR) & E1000_ICR_RXT0);
    e1000_receive(&e, fr, 64);
    CHECK(e1000_timer_next(&e) != UINT64_MAX);
    wr(E1000_RDTR, 10 | E1000_RDTR_FPD);
    CHECK(f.irq.level);
    CHECK_EQ(rd(E1000_RDTR), 10);
    CHECK_EQ(e1000_timer_next(&e), UINT64_MAX);
    /* an MMIO access after the deadline sees the cause without a catch-up */
    rd(E1000_ICR);
    e1000_receive(&e, fr, 64);
    f.now += 20000;
    CHECK(rd(E1000_ICR) & E1000_ICR_RXT0);
    /* masked (IMC, as under NAPI polling): no wakeup asked for, the cause still on time */
    wr(E1000_IMC, ~0u);
    e1000_receive(&e, fr, 64);
    CHECK_EQ(e1000_timer_next(&e), UINT64_MAX);
    CHECK(!(rd(E1000_ICS) & E1000_ICR_RXT0));
    f.now += 10240;
    CHECK(rd(E1000_ICR) & E1000_ICR_RXT0);
    e1000_receive(&e, fr, 64);
    f.now += 10240;
    wr(E1000_IMS, E1000_ICR_RXT0);          /* unmasking after the deadline: at once */
    CHECK(f.irq.level);
}

/* 3.3.3.1 IDE, 13.4.41 TIDV, 13.4.44 TADV: with IDE the write-back's TXDW waits for TIDV
 * (restarted per descriptor) or TADV; TXQE is not delayed; without IDE it is immediate. */
TEST(e1000_tx_delay_timers)
{
    setup();
    tx_setup(8);
    wr(E1000_IMS, E1000_ICR_TXDW);
    wr(E1000_TIDV, 8);
    wr(E1000_TADV, 12);
    make_frame(ram + TX_DATA, PEER, 64, 0);
    uint32_t cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS | E1000_TXD_CMD_IDE;
    txd_legacy(0, TX_DATA, 64, cmd, 0, 0);
    uint64_t t = f.now;
    wr(E1000_TDT, 1);
    e1000_tx_process(&e, 64);
    CHECK_EQ(rd(E1000_ICS), E1000_ICR_TXQE);
    CHECK(!f.irq.level);
    CHECK_EQ(e1000_timer_next(&e), t + 8192);
    f.now = t + 6000;
    txd_legacy(1, TX_DATA, 64, cmd, 0, 0);
    wr(E1000_TDT, 2);
    e1000_tx_process(&e, 64);
    CHECK_EQ(e1000_timer_next(&e), t + 12288);      /* TADV */
    f.now = t + 12288;
    e1000_timer_catch_up(&e);
    CHECK(f.irq.level);
    CHECK(rd(E1000_ICR) & E1000_ICR_TXDW);
    txd_legacy(2, TX_DATA, 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    wr(E1000_TDT, 3);
    e1000_tx_process(&e, 64);
    CHECK(f.irq.level);
    CHECK_EQ(e1000_timer_next(&e), UINT64_MAX);
}

/* 13.4.27 / 3.2.7: RXDMT0 when the descriptors the hardware owns fall to RDMTS of the ring
 * (half here), once per crossing. */
TEST(e1000_rx_dmt0)
{
    setup();
    rx_setup(16, E1000_RCTL_SECRC | E1000_RCTL_RDMTS_HALF);     /* 15 free, threshold 8 */
    uint8_t fr[64];
    make_frame(fr, MAC, 64, 0);
    for (int i = 0; i < 6; i++)
        e1000_receive(&e, fr, 64);
    CHECK(!(rd(E1000_ICR) & E1000_ICR_RXDMT0));
    e1000_receive(&e, fr, 64);              /* 9 -> 8 free */
    CHECK(rd(E1000_ICR) & E1000_ICR_RXDMT0);
    e1000_receive(&e, fr, 64);
    CHECK(!(rd(E1000_ICR) & E1000_ICR_RXDMT0));
}

/* 13.7: statistics clear on read; a 64-bit pair (GOTCL/GOTCH) clears when the high half is
 * read (13.7.31-32); octets count from the destination address through the FCS. */
TEST(e1000_stats)
{
    setup();
    tx_setup(8);
    make_frame(ram + TX_DATA, PEER, 100, 0);
    static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    make_frame(ram + TX_DATA + 0x100, bcast, 200, 0);
    txd_legacy(0, TX_DATA, 100, E1000_TXD_CMD_EOP, 0, 0);
    txd_legacy(1, TX_DATA + 0x100, 200, E1000_TXD_CMD_EOP, 0, 0);
    wr(E1000_TDT, 2);
    e1000_tx_process(&e, 64);
    CHECK_EQ(rd(E1000_GPTC), 2);
    CHECK_EQ(rd(E1000_GPTC), 0);
    CHECK_EQ(rd(E1000_BPTC), 1);
    CHECK_EQ(rd(E1000_PTC127), 1);
    CHECK_EQ(rd(E1000_PTC255), 1);
    CHECK_EQ(rd(E1000_GOTCL), 308);
    CHECK_EQ(rd(E1000_GOTCL), 308);         /* the low half does not clear */
    CHECK_EQ(rd(E1000_GOTCH), 0);
    CHECK_EQ(rd(E1000_GOTCL), 0);
    CHECK_EQ(rd(E1000_TOTL), 308);
    CHECK_EQ(rd(E1000_TOTH), 0);
    rx_setup(8, 0);
    uint8_t fr[64];
    make_frame(fr, MAC, 64, 0);
    e1000_receive(&e, fr, 64);
    CHECK_EQ(rd(E1000_GPRC), 1);
    CHECK_EQ(rd(E1000_PRC64 + 4), 1);       /* 68 bytes with FCS: PRC127 */
    CHECK_EQ(rd(E1000_GORCL), 68);
    CHECK_EQ(rd(E1000_GORCH), 0);
    CHECK_EQ(rd(E1000_GORCL), 0);
    e1000_rx_missed(&e);
    CHECK_EQ(rd(E1000_MPC), 1);
    CHECK(rd(E1000_ICR) & E1000_ICR_RXO);
    wr(E1000_GPRC, 5);                      /* read-only */
    CHECK_EQ(rd(E1000_GPRC), 0);
    CHECK_EQ(e.bad_accesses, 1);
}

/* 13.2 I/O-mapped access: IOADDR selects a register, IODATA reads or writes it; Linux issues
 * the 82540's reset this way (e1000_reset_hw, E1000_WRITE_REG_IO). Dword accesses only. */
TEST(e1000_io_window)
{
    setup();
    e1000_io_write(&e, E1000_IOADDR, 4, E1000_STATUS);
    CHECK_EQ(e1000_io_read(&e, E1000_IOADDR, 4), E1000_STATUS);
    CHECK_EQ(e1000_io_read(&e, E1000_IODATA, 4), rd(E1000_STATUS));
    e1000_io_write(&e, E1000_IOADDR, 4, E1000_IMS);
    e1000_io_write(&e, E1000_IODATA, 4, E1000_ICR_LSC);
    CHECK_EQ(rd(E1000_IMS), E1000_ICR_LSC);
    wr(E1000_ICS, E1000_ICR_LSC);
    CHECK(f.irq.level);
    uint64_t resets = e.resets;
    e1000_io_write(&e, E1000_IOADDR, 4, E1000_CTRL);
    e1000_io_write(&e, E1000_IODATA, 4, rd(E1000_CTRL) | E1000_CTRL_RST);
    CHECK_EQ(e.resets, resets + 1);
    CHECK(!(rd(E1000_CTRL) & E1000_CTRL_RST));
    CHECK_EQ(rd(E1000_IMS), 0);
    CHECK(!f.irq.level);
    uint64_t bad = e.bad_accesses;
    e1000_io_read(&e, E1000_IODATA, 2);
    e1000_io_write(&e, 2, 4, 0);
    e1000_io_write(&e, E1000_IOADDR, 4, E1000_MMIO_SIZE);
    CHECK_EQ(e1000_io_read(&e, E1000_IODATA, 4), 0);
    e1000_io_write(&e, E1000_IOADDR, 4, E1000_STATUS + 1);
    e1000_io_write(&e, E1000_IODATA, 4, 0);
    CHECK_EQ(e.bad_accesses, bad + 4);
}

/* 13.4: unknown registers read 0 and ignore writes, counted; narrower reads see part of the
 * dword; narrower or misaligned writes are refused and counted. */
TEST(e1000_bad_accesses)
{
    setup();
    CHECK_EQ(rd(0x0FF0), 0);
    wr(0x0FF0, 1);
    wr(E1000_STATUS, 0);
    CHECK_EQ(e.bad_accesses, 3);
    CHECK_EQ(e1000_mmio_read(&e, E1000_STATUS, 1), rd(E1000_STATUS) & 0xFF);
    CHECK_EQ(e1000_mmio_read(&e, E1000_RAL(0) + 2, 2), 0x1200);
    e1000_mmio_write(&e, E1000_IMS, 2, 0xFFFF);
    e1000_mmio_write(&e, E1000_IMS + 1, 4, 0xFFFF);
    CHECK_EQ(e1000_mmio_read(&e, E1000_STATUS + 1, 2), 0);
    CHECK_EQ(rd(E1000_IMS), 0);
    CHECK_EQ(e.bad_accesses, 6);
}

/* A power-on/PCI reset (and CTRL.RST): registers back to their defaults, the line lowered, the
 * model's counters kept. */
TEST(e1000_reset_keeps_counters)
{
    setup();
    tx_setup(8);
    make_frame(ram + TX_DATA, PEER, 80, 0);
    txd_legacy(0, TX_DATA, 80, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    wr(E1000_IMS, E1000_ICR_TXDW);
    wr(E1000_TDT, 1);
    e1000_tx_process(&e, 64);
    CHECK(f.irq.level);
    wr(E1000_ITR, 500);
    rd(0x0FF0);
    e1000_reset(&e);
    CHECK(!f.irq.level);
    CHECK_EQ(rd(E1000_TCTL), 0);
    CHECK_EQ(rd(E1000_TDLEN), 0);
    CHECK_EQ(rd(E1000_ITR), 0);
    CHECK_EQ(rd(E1000_GPTC), 0);
    CHECK_EQ(e.tx_frames, 1);
    CHECK_EQ(e.bad_accesses, 1);
    CHECK(rd(E1000_RAH(0)) & E1000_RAH_AV);
}

/* What Linux's e1000 probe and open do to an 82540 (e1000_probe, e1000_reset_hw, init_hw,
 * setup_link/copper for an M88 PHY, e1000_configure_tx/rx, irq enable, the ICS LSC that starts
 * the watchdog, e1000_check_for_link), then one frame each way. */
TEST(e1000_linux_bringup)
{
    setup();
    /* e1000_reset_hw */
    wr(E1000_IMC, 0xFFFFFFFFu);
    wr(E1000_RCTL, 0);
    wr(E1000_TCTL, E1000_TCTL_PSP);
    uint32_t ctrl = rd(E1000_CTRL);
    e1000_io_write(&e, E1000_IOADDR, 4, E1000_CTRL);
    e1000_io_write(&e, E1000_IODATA, 4, ctrl | E1000_CTRL_RST);
    wr(E1000_MANC, rd(E1000_MANC) & ~E1000_MANC_ARP_EN);
    wr(E1000_IMC, 0xFFFFFFFFu);
    rd(E1000_ICR);
    /* validate the checksum and read the MAC, bit-banged */
    uint16_t w[64], sum = 0;
    CHECK(ee_read(0, 64, w));
    for (int i = 0; i < 64; i++)
        sum = (uint16_t)(sum + w[i]);
    CHECK_EQ(sum, 0xBABA);
    /* e1000_reset: PBA, reset again, WUC; e1000_init_hw */
    wr(E1000_PBA, 0x30);
    wr(E1000_WUC, 0);
    rd(E1000_LEDCTL);
    wr(E1000_VET, 0);
    for (unsigned i = 0; i < 128; i++)
        wr(E1000_VFTA + 4 * i, 0);
    wr(E1000_RAL(0), (uint32_t)w[0] | (uint32_t)w[1] << 16);
    wr(E1000_RAH(0), w[2] | E1000_RAH_AV);
    for (unsigned i = 0; i < 128; i++)
        wr(E1000_MTA + 4 * i, 0);
    /* e1000_setup_link -> copper: SLU, detect the PHY, M88 setup, reset, autoneg */
    CHECK(ee_read(E1000_EEPROM_INIT_CTRL2, 1, w));
    CHECK_EQ(w[0] & 0x3000, 0);            /* no PAUSE: Linux picks fc none */
    wr(E1000_CTRL, (rd(E1000_CTRL) | E1000_CTRL_SLU) & ~(E1000_CTRL_FRCSPD | E1000_CTRL_FRCDPX));
    uint32_t id = (uint32_t)phy_rd(E1000_PHY_ID1) << 16 | phy_rd(E1000_PHY_ID2);
    CHECK_EQ(id & E1000_PHY_REVISION_MASK, M88E1011_I_PHY_ID);
    phy_wr(M88E1000_PHY_SPEC_CTRL, (uint16_t)(phy_rd(M88E1000_PHY_SPEC_CTRL) | M88E1000_PSCR_ASSERT_CRS_ON_TX));
    phy_wr(M88E1000_EXT_PHY_SPEC_CTRL, (uint16_t)(phy_rd(M88E1000_EXT_PHY_SPEC_CTRL) | M88E1000_EPSCR_TX_CLK_25));
    phy_wr(E1000_PHY_CTRL, (uint16_t)(phy_rd(E1000_PHY_CTRL) | E1000_MII_CR_RESET));
    phy_wr(E1000_PHY_AUTONEG_ADV, (uint16_t)(phy_rd(E1000_PHY_AUTONEG_ADV) | 0x01E0));
    phy_wr(E1000_PHY_1000T_CTRL, (uint16_t)(phy_rd(E1000_PHY_1000T_CTRL) | E1000_CR_1000T_FD));
    phy_wr(E1000_PHY_CTRL, (uint16_t)(phy_rd(E1000_PHY_CTRL) | E1000_MII_CR_AN_ENABLE | E1000_MII_CR_RESTART_AN));
    phy_rd(E1000_PHY_STATUS);
    CHECK(phy_rd(E1000_PHY_STATUS) & E1000_MII_SR_LINK);
    CHECK(phy_rd(E1000_PHY_STATUS) & E1000_MII_SR_AN_COMPLETE);
    wr(E1000_FCT, 0x8808);
    wr(E1000_FCAH, 0x0100);
    wr(E1000_FCAL, 0x00C28001);
    wr(E1000_FCTTV, 0x100);
    wr(E1000_FCRTL, 0);
    wr(E1000_FCRTH, 0);
    wr(E1000_TXDCTL, (rd(E1000_TXDCTL) & ~E1000_XDCTL_WTHRESH) | 0x01010000u);
    for (uint32_t off = E1000_STATS_BASE; off < E1000_STATS_END; off += 4)
        if (off != 0x4024 && off != 0x4044 && off != 0x4084 && off != 0x4098 && off != 0x409C)
            rd(off);
    wr(E1000_VET, 0x8100);
    wr(E1000_AIT, 0);
    /* e1000_configure_tx */
    tx_setup(16);
    wr(E1000_TIPG, 8 | 8 << 10 | 6 << 20);
    wr(E1000_TIDV, 8);
    wr(E1000_TADV, 32);
    /* e1000_setup_rctl + e1000_configure_rx */
    wr(E1000_RDTR, 0);
    wr(E1000_RADV, 8);
    wr(E1000_ITR, 1000000000u / (20000 * 256));
    wr(E1000_RXCSUM, rd(E1000_RXCSUM) | E1000_RXCSUM_TUOFL);
    rx_setup(16, E1000_RCTL_BAM | E1000_RCTL_SZ_2048);
    /* e1000_irq_enable and the LSC that starts the watchdog */
    wr(E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_TXDW | E1000_ICR_RXDMT0 | E1000_ICR_RXSEQ | E1000_ICR_LSC);
    CHECK(f.irq.level);                     /* the LSC from setting SLU */
    uint32_t icr = rd(E1000_ICR);
    CHECK(icr & E1000_ICR_LSC);
    wr(E1000_IMC, ~0u);
    wr(E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_TXDW | E1000_ICR_RXDMT0 | E1000_ICR_RXSEQ | E1000_ICR_LSC);
    wr(E1000_ICS, E1000_ICR_LSC);
    CHECK(!f.irq.level);                    /* within the ITR interval of the last */
    f.now += 50000;
    e1000_timer_catch_up(&e);
    CHECK(f.irq.level);
    CHECK(rd(E1000_ICR) & E1000_ICR_LSC);
    CHECK(rd(E1000_STATUS) & E1000_STATUS_LU);
    CHECK_EQ(rd(E1000_STATUS) & E1000_STATUS_SPEED_MASK, E1000_STATUS_SPEED_1000);
    /* a frame out with IDE (Linux's txd_cmd), one in */
    make_frame(ram + TX_DATA, PEER, 98, 0);
    txd_legacy(0, TX_DATA, 98, E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS | E1000_TXD_CMD_IDE, 0, 0);
    wr(E1000_TDT, 1);
    e1000_tx_process(&e, 64);
    CHECK_EQ(f.frames, 1);
    uint8_t fr[98];
    make_frame(fr, MAC, 98, 3);
    CHECK_EQ(e1000_receive(&e, fr, 98), E1000_RX_OK);
    CHECK_EQ(get_le16(rxd(0) + 8) - 4, 98);         /* Linux: length -= 4 */
    CHECK_EQ(e.bad_accesses, 0);
    CHECK(guards_ok());
}

/* Hostile transmit (e1000.h): a ring outside RAM, a buffer crossing RAM's end (the packet is
 * dropped, its descriptor still completed), TDLEN 0 and TDT past the ring (nothing fetched,
 * counted, not "pending"), an unknown descriptor type, a huge DTALEN; the model keeps working
 * and nothing outside RAM changes. */
TEST(e1000_hostile_tx)
{
    setup();
    tx_setup(8);
    wr(E1000_TDBAL, RAM_SIZE - 32);         /* descriptors 2.. are outside RAM */
    wr(E1000_TDT, 5);
    CHECK_EQ(e1000_tx_process(&e, 64), 5);
    CHECK_EQ(e.tx_dma_errors, 3);
    CHECK_EQ(f.frames, 0);

    setup();
    tx_setup(8);
    make_frame(ram + TX_DATA, PEER, 64, 0);
    txd_legacy(0, RAM_SIZE - 10, 100, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    txd_legacy(1, UINT64_MAX - 4, 100, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    txd_legacy(2, TX_DATA, 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, 0, 0);
    wr(E1000_TDT, 3);
    CHECK_EQ(e1000_tx_process(&e, 64), 3);
    CHECK_EQ(e.tx_dma_errors, 2);
    CHECK(txd_status(0) & E1000_TXD_STAT_DD);
    CHECK(txd_status(1) & E1000_TXD_STAT_DD);
    CHECK_EQ(f.frames, 1);
    CHECK(!memcmp(cap[0], ram + TX_DATA, 64));

    /* TDLEN 0 */
    wr(E1000_TDLEN, 0);
    wr(E1000_TDT, 4);
    uint64_t reads = fram.reads;
    CHECK(!e1000_tx_pending(&e));
    CHECK_EQ(e1000_tx_process(&e, 64), 0);
    CHECK(e.tx_bad_ring >= 1);
    /* TDT past the ring */
    wr(E1000_TDLEN, 128);
    wr(E1000_TDH, 0);
    wr(E1000_TDT, 20);
    CHECK(!e1000_tx_pending(&e));
    CHECK_EQ(e1000_tx_process(&e, 64), 0);
    wr(E1000_TDH, 9);
    wr(E1000_TDT, 3);
    CHECK_EQ(e1000_tx_process(&e, 64), 0);
    CHECK_EQ(fram.reads, reads);
    uint64_t bad_ring = e.tx_bad_ring;
    CHECK(bad_ring >= 4);
    /* an unknown DTYP inside a packet kills the packet, not the ring */
    wr(E1000_TDH, 0);
    wr(E1000_TDT, 0);
    txd_data(0, TX_DATA, 30, 0, 0);
    uint8_t *d = ram + TX_RING + 16;
    put_le64(d, TX_DATA);
    put_le32(d + 8, 10 | E1000_TXD_CMD_DEXT | 0x00700000u | E1000_TXD_CMD_RS);
    txd_data(2, TX_DATA + 40, 24, E1000_TXD_CMD_EOP, 0);
    txd_data(3, TX_DATA, 0xFFFFF, E1000_TXD_CMD_EOP, 0);   /* ~1 MB of data */
    txd_data(4, TX_DATA, 64, E1000_TXD_CMD_EOP, 0);
    wr(E1000_TDT, 5);
    CHECK_EQ(e1000_tx_process(&e, 64), 5);
    CHECK_EQ(e.tx_bad_desc, 1);
    CHECK_EQ(e.tx_oversize, 1);
    CHECK(ram[TX_RING + 16 + 12] & E1000_TXD_STAT_DD);
    CHECK_EQ(f.frames, 2);
    CHECK_EQ(f.cap_len[1], 64);
    CHECK(guards_ok());
}

/* Hostile TSO (e1000.h, 3.5): HDRLEN past the packet, MSS 0, no TSO context, too many
 * segments, a segment bigger than a frame, header offsets outside the header: each dropped
 * and counted (TSCTFC too) or sent with the field untouched; the next packet works. */
TEST(e1000_hostile_tso)
{
    setup();
    tx_setup(32);
    uint8_t *p = ram + TX_DATA;
    make_tcp4_header(p, 1, 1, 0x10, true, 0);
    uint32_t tso = E1000_TXD_CMD_TSE | E1000_TXD_CMD_TCP | E1000_TXD_CMD_IP;
    uint8_t popts = E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM;
    unsigned i = 0;
    /* no TSO context yet */
    txd_data(i++, TX_DATA, 100, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, popts);
    /* HDRLEN 200 > 100 bytes */
    txd_context(i++, 14, 24, 33, 34, 50, 0, tso, 0, 200, 1448);
    txd_data(i++, TX_DATA, 100, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, popts);
    /* MSS 0 */
    txd_context(i++, 14, 24, 33, 34, 50, 0, tso, 46, 54, 0);
    txd_data(i++, TX_DATA, 100, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, popts);
    /* MSS 1 over 4000 bytes: 4000 segments, refused */
    txd_context(i++, 14, 24, 33, 34, 50, 0, tso, 4000, 54, 1);
    txd_data(i++, TX_DATA, 4054, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, popts);
    /* MSS 60000 with 30000 bytes: a 30054-byte segment */
    txd_context(i++, 14, 24, 33, 34, 50, 0, tso, 30000, 54, 60000);
    txd_data(i++, TX_DATA, 30054, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, popts);
    wr(E1000_TDT, i);
    CHECK_EQ(e1000_tx_process(&e, 64), i);
    CHECK_EQ(f.frames, 0);
    CHECK_EQ(e.tx_bad_desc, 4);
    CHECK_EQ(e.tx_oversize, 1);
    CHECK_EQ(rd(E1000_TSCTFC), 5);
    CHECK(txd_status(0) & E1000_TXD_STAT_DD);
    CHECK(txd_status(2) & E1000_TXD_STAT_DD);
    /* every offset past the 54-byte header: segments leave, nothing patched */
    unsigned j = i;
    txd_context(i++, 250, 254, 255, 250, 254, 0, tso, 200, 54, 100);
    txd_data(i++, TX_DATA, 254, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, popts);
    wr(E1000_TDT, i);
    e1000_tx_process(&e, 64);
    CHECK_EQ(f.frames, 2);
    CHECK_EQ(f.cap_len[0], 154);
    CHECK_EQ(f.cap_len[1], 154);
    CHECK(!memcmp(cap[1], p, 54));          /* header untouched */
    (void)j;
    /* and a sane TSO packet afterwards */
    make_tcp4_header(p + 0x8000, 7, 100, 0x18, true, 0);
    memset(p + 0x8000 + 54, 0x33, 3000);
    txd_context(i++, 14, 24, 33, 34, 50, 0, tso, 3000, 54, 1460);
    txd_data(i++, TX_DATA + 0x8000, 3054, E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP, popts);
    wr(E1000_TDT, i);
    e1000_tx_process(&e, 64);
    CHECK_EQ(f.frames, 5);
    CHECK(ip_csum_ok(cap[4] + 14));
    CHECK(tcp4_csum_ok(cap[4] + 14, cap[4] + 34, 20 + 80));
    CHECK(guards_ok());
}

/* Hostile receive (e1000.h): RDLEN 0, a ring outside RAM, RDH/RDT past the ring (DROPPED,
 * counted, RDH kept), a buffer outside RAM (descriptor still written back with RXE, RDH
 * advances), a frame too big for the whole ring, bad lengths; then a good frame works. */
TEST(e1000_hostile_rx)
{
    setup();
    uint8_t fr[1000];
    make_frame(fr, MAC, 1000, 0);
    wr(E1000_RCTL, E1000_RCTL_EN);
    CHECK_EQ(e1000_receive(&e, fr, 100), E1000_RX_DROPPED);         /* RDLEN 0 */
    CHECK_EQ(e.rx_bad_ring, 1);
    CHECK(!e1000_can_receive(&e));
    rx_setup(8, E1000_RCTL_SECRC);
    wr(E1000_RDBAL, RAM_SIZE);
    CHECK_EQ(e1000_receive(&e, fr, 100), E1000_RX_DROPPED);
    CHECK_EQ(e.rx_dma_errors, 1);
    CHECK_EQ(rd(E1000_RDH), 0);
    wr(E1000_RDBAL, RX_RING);
    wr(E1000_RDH, 8);
    CHECK_EQ(e1000_receive(&e, fr, 100), E1000_RX_DROPPED);
    wr(E1000_RDH, 0);
    wr(E1000_RDT, 100);
    CHECK_EQ(e1000_receive(&e, fr, 100), E1000_RX_DROPPED);
    CHECK_EQ(e.rx_bad_ring, 3);
    wr(E1000_RDT, 7);
    put_le64(rxd(0), RAM_SIZE - 50);        /* the buffer crosses RAM's end */
    CHECK_EQ(e1000_receive(&e, fr, 100), E1000_RX_DROPPED);
    CHECK_EQ(e.rx_dma_errors, 2);
    CHECK(rxd(0)[12] & E1000_RXD_STAT_DD);
    CHECK(rxd(0)[12] & E1000_RXD_STAT_EOP);
    CHECK_EQ(rxd(0)[13], E1000_RXD_ERR_RXE);
    CHECK_EQ(rd(E1000_RDH), 1);
    put_le64(rxd(1), UINT64_MAX - 8);
    CHECK_EQ(e1000_receive(&e, fr, 100), E1000_RX_DROPPED);
    CHECK_EQ(rd(E1000_RDH), 2);
    CHECK_EQ(e1000_receive(&e, fr, 100), E1000_RX_OK);
    CHECK(!memcmp(rxbuf(2), fr, 100));
    CHECK_EQ(e1000_receive(&e, fr, 13), E1000_RX_DROPPED);
    CHECK_EQ(e1000_receive(&e, fr, 16385), E1000_RX_DROPPED);
    CHECK_EQ(e.rx_bad_len, 2);
    /* 8 x 256-byte buffers hold at most 7 x 256: a 1800-byte frame never fits */
    rx_setup(8, E1000_RCTL_SZ_256 | E1000_RCTL_LPE | E1000_RCTL_SECRC);
    static uint8_t big[1800];
    make_frame(big, MAC, 1800, 0);
    CHECK_EQ(e1000_receive(&e, big, 1800), E1000_RX_DROPPED);
    CHECK_EQ(e1000_receive(&e, big, 1700), E1000_RX_OK);
    CHECK_EQ(e1000_receive(&e, fr, 100), E1000_RX_NO_BUFFER);
    /* receive off: NO_BUFFER, nothing touched */
    wr(E1000_RCTL, 0);
    uint64_t w = fram.writes;
    CHECK_EQ(e1000_receive(&e, fr, 100), E1000_RX_NO_BUFFER);
    CHECK_EQ(fram.writes, w);
    CHECK(guards_ok());
}

/* The FCS table against a bitwise CRC-32 (IEEE 802.3 clause 3.2.9), through what lands after
 * received frames of every length up to 300. */
TEST(e1000_rx_fcs)
{
    setup();
    CHECK_EQ(t_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
    rx_setup(8, 0);
    uint8_t fr[300];
    for (size_t len = 60; len <= 300; len += 7) {
        make_frame(fr, MAC, len, (uint8_t)len);
        rx_recycle(e.rdh);
        unsigned i = e.rdh;
        CHECK_EQ(e1000_receive(&e, fr, len), E1000_RX_OK);
        CHECK_EQ(get_le32(rxbuf(i) + len), t_crc32(fr, len));
        wr(E1000_RDT, (rd(E1000_RDT) + 1) % 8);
    }
}

/* A seeded garbage run: random register writes from the interesting set, random bytes in the
 * rings and buffers, random frames and transmit calls. Nothing may crash (ASan/UBSan), touch
 * the guard zones, or do more than the budget per call. */
TEST(e1000_garbage)
{
    static const uint32_t regs[] = {
        E1000_CTRL, E1000_EECD, E1000_EERD, E1000_MDIC, E1000_ICS, E1000_IMS, E1000_IMC, E1000_ITR,
        E1000_RCTL, E1000_TCTL, E1000_RDBAL, E1000_RDBAH, E1000_RDLEN, E1000_RDH, E1000_RDT,
        E1000_RDTR, E1000_RADV, E1000_TDBAL, E1000_TDBAH, E1000_TDLEN, E1000_TDH, E1000_TDT,
        E1000_TIDV, E1000_TADV, E1000_RSRPD, E1000_RXCSUM, E1000_VET, E1000_ICR, E1000_MTA,
        E1000_RAH(0), E1000_VFTA, E1000_CTRL_EXT,
    };
    setup();
    srand(12345);
    static uint8_t fr[E1000_RX_MAX_FRAME];
    for (unsigned i = 0; i < sizeof(fr); i++)
        fr[i] = (uint8_t)rand();
    for (int iter = 0; iter < 200000; iter++) {
        int r = rand() % 100;
        if (r < 40) {
            uint32_t off = regs[rand() % ARRAY_SIZE(regs)];
            uint32_t val = (uint32_t)rand() << 16 ^ (uint32_t)rand();
            if (off == E1000_RDBAL || off == E1000_TDBAL)
                val %= RAM_SIZE + 0x2000;
            if (off == E1000_RDBAH || off == E1000_TDBAH)
                val = rand() % 8 ? 0 : val;
            if (off == E1000_RDLEN || off == E1000_TDLEN)
                val %= 0x4000;
            if ((off == E1000_RDH || off == E1000_RDT || off == E1000_TDH || off == E1000_TDT) && rand() % 8)
                val %= 64;
            if (off == E1000_RCTL || off == E1000_TCTL)
                val |= rand() % 4 ? 2u : 0;     /* EN, mostly */
            if (off == E1000_CTRL && rand() % 16)
                val &= ~E1000_CTRL_RST;
            wr(off, val);
        } else if (r < 55) {
            unsigned at = (unsigned)rand() % (RAM_SIZE - 64);
            for (int k = 0; k < 64; k++)
                ram[at + k] = (uint8_t)rand();
            if (rand() % 2) {               /* a plausible descriptor near a ring base */
                uint64_t ring = (rand() % 2 ? rd(E1000_TDBAL) : rd(E1000_RDBAL)) + 16u * (rand() % 64);
                if (ring + 16 <= RAM_SIZE) {
                    put_le64(ram + ring, (uint64_t)(rand() % (RAM_SIZE + 0x10000)));
                    put_le32(ram + ring + 8, (uint32_t)rand() << 16 ^ (uint32_t)rand());
                }
            }
        } else if (r < 75) {
            size_t len = (size_t)rand() % (E1000_RX_MAX_FRAME + 40);
            if (rand() % 2)
                memcpy(fr, MAC, 6);
            e1000_receive(&e, fr, len);
        } else if (r < 95) {
            unsigned budget = (unsigned)rand() % 40;
            CHECK(e1000_tx_process(&e, budget) <= budget);
        } else {
            f.now += (uint64_t)rand() % 100000;
            e1000_timer_catch_up(&e);
            (void)e1000_timer_next(&e);
        }
        if (iter % 50000 == 0)
            CHECK(guards_ok());
    }
    CHECK(guards_ok());
    CHECK(fram.rejects > 0);
    /* and it still works after a reset */
    e1000_reset(&e);
    tx_setup(8);
    make_frame(ram + TX_DATA, PEER, 64, 0);
    txd_legacy(0, TX_DATA, 64, E1000_TXD_CMD_EOP, 0, 0);
    unsigned before = f.frames;
    wr(E1000_TDT, 1);
    e1000_tx_process(&e, 8);
    CHECK_EQ(f.frames, before + 1);
}

/* The budget bounds frames as well as descriptors: one TSO descriptor can become thousands of
 * frames (3.5.9), each a switch delivery, so no further descriptor is fetched once `budget`
 * frames have left; the rest waits for the next call (TDH says how far it got). */
TEST(e1000_tx_budget_counts_frames)
{
    setup();
    tx_setup(16);
    uint8_t *p = ram + TX_DATA;
    const size_t pay = 4000, mss = 100;
    make_tcp4_header(p, 1, 1, 0x18, true, 0);
    memset(p + 54, 0x5A, pay);
    txd_context(0, 14, 24, 33, 34, 50, 0,
                E1000_TXD_CMD_TSE | E1000_TXD_CMD_TCP | E1000_TXD_CMD_IP, (uint32_t)pay, 54, (uint16_t)mss);
    for (unsigned i = 1; i <= 4; i++)       /* four whole TSO packets of 40 frames each */
        txd_data(i, TX_DATA, 54 + pay, E1000_TXD_CMD_TSE | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_EOP |
                 E1000_TXD_CMD_RS, E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM);
    wr(E1000_TDT, 5);
    CHECK_EQ(e1000_tx_process(&e, 50), 3);  /* context, 40 frames, 80 frames: stop */
    CHECK_EQ(f.frames, 80);
    CHECK_EQ(rd(E1000_TDH), 3);
    CHECK(e1000_tx_pending(&e));
    CHECK_EQ(e1000_tx_process(&e, 50), 2);
    CHECK_EQ(f.frames, 160);
    CHECK(!e1000_tx_pending(&e));
    CHECK_EQ(e.tso_packets, 4);
}
