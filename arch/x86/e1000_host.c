/* The uplink's 8254x driver; see e1000_host.h. */
#include "e1000_host.h"
#include "lib.h"

#define RESET_SETTLE_US     10000       /* 14.3: >= 1 us before touching the device again; 82540 EEPROM auto-load needs a few ms */
#define RESET_POLL_US       100
#define RESET_TIMEOUT_US    100000
#define EERD_POLL_US        10
#define EERD_TIMEOUT_US     10000
#define ICR_ALL             0xFFFFFFFFu
/* 14.5 recommends IPGT 10, IPGR1 8, IPGR2 6 for the 82540/82545/82546 on copper. */
#define TIPG_COPPER         (10u | (8u << E1000_TIPG_IPGR1_SHIFT) | (6u << E1000_TIPG_IPGR2_SHIFT))
/* 14.5: collision threshold 0x0F, collision distance 0x40 for full duplex. */
#define TCTL_CT_DEFAULT     0x0Fu
#define TCTL_COLD_FULL      0x40u
#define IMS_CAUSES          (E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0 | E1000_ICR_LSC | E1000_ICR_TXDW)
#define RXD_ERR_FRAME       (E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | E1000_RXD_ERR_SEQ | E1000_RXD_ERR_CXE | \
                             E1000_RXD_ERR_RXE)
#define DESC_ADDR           0u          /* buffer address, both descriptor kinds (3.2.3, 3.3.3) */

static const struct { uint16_t device; const char *name; } parts[] = {
    { 0x100E, "82540EM" }, { 0x1015, "82540EM LOM" }, { 0x1016, "82540EP LOM" }, { 0x1017, "82540EP" },
    { 0x101E, "82540EP LP" }, { 0x100F, "82545EM" }, { 0x1026, "82545GM" }, { 0x1010, "82546EB" },
    { 0x101D, "82546EB quad" }, { 0x1079, "82546GB" },
};
#define INTEL_VENDOR 0x8086

const char *e1000h_part_name(uint16_t vendor, uint16_t device)
{
    if (vendor != INTEL_VENDOR)
        return NULL;
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        if (parts[i].device == device)
            return parts[i].name;
    return NULL;
}

static uint32_t rd(const struct e1000h *h, uint32_t off) { return h->io.read32(h->io.ctx, off); }
static void wr(const struct e1000h *h, uint32_t off, uint32_t v) { h->io.write32(h->io.ctx, off, v); }
static void delay(const struct e1000h *h, unsigned us) { h->io.delay_us(h->io.ctx, us); }

/* Descriptors and buffers in the DMA block. The device writes them behind the compiler's back:
 * every access is volatile. */
static volatile uint8_t *rx_desc(const struct e1000h *h, unsigned i)
{
    return h->mem.va + (size_t)i * E1000_DESC_SIZE;
}
static volatile uint8_t *tx_desc(const struct e1000h *h, unsigned i)
{
    return h->mem.va + (size_t)(E1000H_RX_DESCS + i) * E1000_DESC_SIZE;
}
static size_t rx_buf_off(unsigned i) { return E1000H_RING_BYTES + (size_t)i * E1000H_BUF_SIZE; }
static size_t tx_buf_off(unsigned i) { return E1000H_RING_BYTES + (size_t)(E1000H_RX_DESCS + i) * E1000H_BUF_SIZE; }

static void put32(volatile uint8_t *p, uint32_t v) { *(volatile uint32_t *)p = v; }
static void put64(volatile uint8_t *p, uint64_t v) { *(volatile uint64_t *)p = v; }
static uint32_t get32(const volatile uint8_t *p) { return *(const volatile uint32_t *)p; }
static uint16_t get16(const volatile uint8_t *p) { return *(const volatile uint16_t *)p; }
static uint8_t get8(const volatile uint8_t *p) { return *p; }

static bool reset(struct e1000h *h)
{
    wr(h, E1000_IMC, ICR_ALL);
    wr(h, E1000_RCTL, 0);
    wr(h, E1000_TCTL, E1000_TCTL_PSP);
    wr(h, E1000_CTRL, rd(h, E1000_CTRL) | E1000_CTRL_RST);
    delay(h, RESET_SETTLE_US);
    for (unsigned t = 0; rd(h, E1000_CTRL) & E1000_CTRL_RST; t += RESET_POLL_US) {
        if (t >= RESET_TIMEOUT_US)
            return false;
        delay(h, RESET_POLL_US);
    }
    wr(h, E1000_IMC, ICR_ALL);          /* 14.3: mask again after the reset, and clear what is pending */
    (void)rd(h, E1000_ICR);
    return true;
}

static bool eeprom_word(struct e1000h *h, unsigned addr, uint16_t *out)
{
    wr(h, E1000_EERD, E1000_EERD_START | (addr << E1000_EERD_ADDR_SHIFT));
    for (unsigned t = 0; t < EERD_TIMEOUT_US; t += EERD_POLL_US) {
        uint32_t v = rd(h, E1000_EERD);
        if (v & E1000_EERD_DONE) {
            *out = (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
            return true;
        }
        delay(h, EERD_POLL_US);
    }
    return false;
}

/* RAL0/RAH0 as the EEPROM loaded them at reset (13.4.40); EERD if that left them invalid. */
static const char *read_mac(struct e1000h *h)
{
    uint32_t lo = rd(h, E1000_RAL(0)), hi = rd(h, E1000_RAH(0));
    if (!(hi & E1000_RAH_AV)) {
        uint16_t w[3];
        for (unsigned i = 0; i < 3; i++)
            if (!eeprom_word(h, E1000_EEPROM_MAC0 + i, &w[i]))
                return "the EEPROM does not answer (EERD)";
        lo = w[0] | ((uint32_t)w[1] << 16);
        hi = w[2];
    }
    for (unsigned i = 0; i < 4; i++)
        h->mac[i] = (uint8_t)(lo >> (8 * i));
    h->mac[4] = (uint8_t)hi;
    h->mac[5] = (uint8_t)(hi >> 8);
    static const uint8_t zero[6];
    if (!memcmp(h->mac, zero, 6) || (h->mac[0] & 1))
        return "no valid station address (zero or multicast)";
    wr(h, E1000_RAL(0), lo);
    wr(h, E1000_RAH(0), (hi & E1000_RAH_ADDR_MASK) | E1000_RAH_AV);
    return NULL;
}

static void setup_rx(struct e1000h *h)
{
    for (unsigned i = 0; i < E1000H_RX_DESCS; i++) {
        volatile uint8_t *d = rx_desc(h, i);
        put64(d + DESC_ADDR, h->mem.pa + rx_buf_off(i));
        put64(d + E1000_RXD_LENGTH, 0);     /* length, checksum, status, errors, special */
    }
    uint64_t ring = h->mem.pa;
    wr(h, E1000_RDBAL, (uint32_t)ring);
    wr(h, E1000_RDBAH, (uint32_t)(ring >> 32));
    wr(h, E1000_RDLEN, E1000H_RX_DESCS * E1000_DESC_SIZE);
    wr(h, E1000_RDH, 0);
    wr(h, E1000_RDT, E1000H_RX_DESCS - 1);  /* all but one: head == tail means empty (3.2.6) */
    wr(h, E1000_RDTR, 0);                   /* an interrupt per frame: latency over batching */
    h->rx_next = 0;
    wr(h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_MPE | E1000_RCTL_BAM | E1000_RCTL_SZ_2048 |
                          E1000_RCTL_RDMTS_HALF | E1000_RCTL_SECRC);
}

static void setup_tx(struct e1000h *h)
{
    for (unsigned i = 0; i < E1000H_TX_DESCS; i++) {
        volatile uint8_t *d = tx_desc(h, i);
        put64(d + DESC_ADDR, h->mem.pa + tx_buf_off(i));
        put32(d + E1000_TXD_LOWER, 0);
        put32(d + E1000_TXD_UPPER, E1000_TXD_STAT_DD);  /* free */
    }
    uint64_t ring = h->mem.pa + E1000H_RX_DESCS * E1000_DESC_SIZE;
    wr(h, E1000_TDBAL, (uint32_t)ring);
    wr(h, E1000_TDBAH, (uint32_t)(ring >> 32));
    wr(h, E1000_TDLEN, E1000H_TX_DESCS * E1000_DESC_SIZE);
    wr(h, E1000_TDH, 0);
    wr(h, E1000_TDT, 0);
    wr(h, E1000_TIDV, 0);
    wr(h, E1000_TIPG, TIPG_COPPER);
    h->tx_tail = h->tx_clean = 0;
    wr(h, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | (TCTL_CT_DEFAULT << E1000_TCTL_CT_SHIFT) |
                          (TCTL_COLD_FULL << E1000_TCTL_COLD_SHIFT));
}

const char *e1000h_start(struct e1000h *h, uint16_t device, const struct e1000h_io *io,
                         const struct e1000h_mem *mem)
{
    *h = (struct e1000h){ .io = *io, .mem = *mem, .device = device };
    if (!reset(h))
        return "CTRL.RST did not clear";
    /* Copper through the internal PHY: link from its autonegotiation, speed from the PHY (14.3). */
    uint32_t ctrl = rd(h, E1000_CTRL);
    ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS | E1000_CTRL_FRCSPD | E1000_CTRL_FRCDPX |
              E1000_CTRL_VME | E1000_CTRL_RFCE | E1000_CTRL_TFCE);
    wr(h, E1000_CTRL, ctrl | E1000_CTRL_SLU | E1000_CTRL_ASDE);
    const char *why = read_mac(h);
    if (why) {
        reset(h);
        return why;
    }
    for (unsigned i = 0; i < E1000_MTA_ENTRIES; i++)
        wr(h, E1000_MTA + 4 * i, 0);
    for (unsigned i = 1; i < E1000_RA_ENTRIES; i++) {
        wr(h, E1000_RAH(i), 0);
        wr(h, E1000_RAL(i), 0);
    }
    for (unsigned i = 0; i < E1000_VFTA_ENTRIES; i++)
        wr(h, E1000_VFTA + 4 * i, 0);
    memset(h->mem.va, 0, E1000H_RING_BYTES);
    setup_rx(h);
    setup_tx(h);
    h->link_up = rd(h, E1000_STATUS) & E1000_STATUS_LU;
    wr(h, E1000_IMS, IMS_CAUSES);
    return NULL;
}

void e1000h_stop(struct e1000h *h)
{
    reset(h);
}

unsigned e1000h_tx_busy(const struct e1000h *h)
{
    return (h->tx_tail + E1000H_TX_DESCS - h->tx_clean) % E1000H_TX_DESCS;
}

unsigned e1000h_reclaim(struct e1000h *h)
{
    unsigned n = 0;
    while (h->tx_clean != h->tx_tail && (get32(tx_desc(h, h->tx_clean) + E1000_TXD_UPPER) & E1000_TXD_STAT_DD)) {
        h->tx_clean = (h->tx_clean + 1) % E1000H_TX_DESCS;
        n++;
    }
    return n;
}

bool e1000h_send(struct e1000h *h, const uint8_t *frame, size_t len)
{
    if (len < E1000H_MIN_FRAME || len > E1000H_MAX_FRAME) {
        h->st.tx_bad_len++;
        return false;
    }
    unsigned next = (h->tx_tail + 1) % E1000H_TX_DESCS;
    if (next == h->tx_clean) {          /* one slot stays empty: TDT == TDH means idle */
        e1000h_reclaim(h);
        if (next == h->tx_clean) {
            h->st.tx_ring_full++;
            return false;
        }
    }
    volatile uint8_t *d = tx_desc(h, h->tx_tail);
    memcpy(h->mem.va + tx_buf_off(h->tx_tail), frame, len);
    put32(d + E1000_TXD_UPPER, 0);
    put32(d + E1000_TXD_LOWER, (uint32_t)len | E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS);
    h->tx_tail = next;
    /* x86 keeps stores in order, so the descriptor is in memory before the device sees TDT. */
    __asm__ volatile("" ::: "memory");
    wr(h, E1000_TDT, h->tx_tail);
    h->st.tx_frames++;
    h->st.tx_bytes += len;
    return true;
}

bool e1000h_rx_ready(const struct e1000h *h)
{
    return get8(rx_desc(h, h->rx_next) + E1000_RXD_STATUS) & E1000_RXD_STAT_DD;
}

unsigned e1000h_receive(struct e1000h *h, void (*fn)(void *ctx, const uint8_t *frame, size_t len), void *ctx,
                        unsigned budget)
{
    unsigned n = 0;
    while (n < budget && e1000h_rx_ready(h)) {
        unsigned i = h->rx_next;
        volatile uint8_t *d = rx_desc(h, i);
        __asm__ volatile("" ::: "memory");      /* read the fields only after DD */
        uint8_t status = get8(d + E1000_RXD_STATUS), errors = get8(d + E1000_RXD_ERRORS);
        size_t len = get16(d + E1000_RXD_LENGTH);
        /* 2 KiB buffers without long packets: every good frame is one descriptor with EOP. */
        if (!(status & E1000_RXD_STAT_EOP) || (errors & RXD_ERR_FRAME) || len < E1000H_MIN_FRAME ||
            len > E1000H_BUF_SIZE) {
            h->st.rx_errors++;
        } else {
            h->st.rx_frames++;
            h->st.rx_bytes += len;
            fn(ctx, h->mem.va + rx_buf_off(i), len);
        }
        put64(d + E1000_RXD_LENGTH, 0);
        h->rx_next = (i + 1) % E1000H_RX_DESCS;
        __asm__ volatile("" ::: "memory");
        wr(h, E1000_RDT, i);            /* the descriptor just emptied is the device's again */
        n++;
    }
    return n;
}

uint32_t e1000h_interrupt(struct e1000h *h)
{
    uint32_t icr = rd(h, E1000_ICR);
    if (!icr) {
        h->st.unclaimed_irqs++;
        return 0;
    }
    h->st.irqs++;
    if (icr & E1000_ICR_RXO)
        h->st.rx_overruns++;
    if (icr & E1000_ICR_LSC) {
        bool up = rd(h, E1000_STATUS) & E1000_STATUS_LU;
        if (up != h->link_up)
            h->st.link_changes++;
        h->link_up = up;
    }
    return icr;
}
