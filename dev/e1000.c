/* Intel 82540EM model. See e1000.h for what is modelled and how guest mistakes end, and
 * e1000_regs.h for the layouts. Section numbers are the SDM's (317453 rev 4.0).
 *
 * Time: every entry first fires the delay timers that are due (advance), then does its work,
 * then tells the platform if the next deadline moved (sync_deadline). Delay timers (RDTR/RADV,
 * TIDV/TADV) postpone setting a cause in ICR; ITR postpones only the rise of INTA#, so what
 * the guest reads in ICR is always what has happened. */
#include "compiler.h"
#include "lib.h"
#include "byteorder.h"
#include "dev/dma.h"
#include "dev/devclock.h"
#include "dev/e1000.h"

#define NEVER           UINT64_MAX
#define ETH_ALEN        6u
#define ETH_HLEN        14u
#define ETH_ZLEN        60u             /* shortest frame without FCS */
#define ETH_TYPE_OFF    12u
#define VLAN_HLEN       4u
#define ETH_P_MAC_CTRL  0x8808u         /* PAUSE and other MAC control frames */
#define TCP_FLAG_FIN    0x01u
#define TCP_FLAG_PSH    0x08u
#define TCP_FLAGS_OFF   13u
#define TCP_SEQ_OFF     4u
#define IPV4_LEN_OFF    2u
#define IPV4_ID_OFF     4u
#define IPV4_HLEN       20u
#define IPV6_PLEN_OFF   4u
#define IPV6_HLEN       40u
#define TCP_HLEN        20u
#define UDP_LEN_OFF     4u
#define UDP_HLEN        8u

enum { EE_IDLE, EE_CMD, EE_READ, EE_WDATA, EE_DONE };

STATIC_ASSERT(E1000_RX_MAX_DESCS * 256u >= E1000_RX_MAX_STORE, "a stored frame's descriptors fit");
STATIC_ASSERT(E1000_TX_MAX_FRAME <= E1000_MAX_TX_PACKET, "a plain frame fits the packet buffer");

/* ---- time and interrupts ---------------------------------------------------------------- */

static uint64_t now_of(struct e1000 *e) { return dev_clock_now(&e->clock); }

static uint64_t later(uint64_t now, uint64_t ns) { return ns >= NEVER - now ? NEVER - 1 : now + ns; }

static uint64_t itr_interval(const struct e1000 *e)
{
    return (uint64_t)(e->itr & E1000_ITR_INTERVAL_MASK) * E1000_ITR_UNIT_NS;
}

/* The earliest INTA# may rise again: the ITR interval after it last rose (13.4.18). */
static uint64_t itr_release(const struct e1000 *e)
{
    uint64_t gap = itr_interval(e);
    if (!e->itr_asserted_once || !gap)
        return 0;
    return later(e->itr_last, gap);
}

static void set_line(struct e1000 *e, bool level)
{
    if (level == e->irq_level)
        return;
    e->irq_level = level;
    if (e->hooks.set_irq)
        e->hooks.set_irq(e->ctx, level);
}

/* INTA# follows ICR & IMS (13.4.17), but may rise only once the ITR interval has passed; until
 * then e1000_timer_next reports the release time. */
static void update_irq(struct e1000 *e)
{
    if (!(e->icr & e->ims)) {
        set_line(e, false);
        return;
    }
    if (e->irq_level)
        return;
    uint64_t now = now_of(e);
    if (now < itr_release(e))
        return;
    e->itr_last = now;
    e->itr_asserted_once = true;
    e->interrupts++;
    set_line(e, true);
}

static void raise_cause(struct e1000 *e, uint32_t cause)
{
    e->icr |= cause & E1000_ICR_VALID;
    update_irq(e);
}

/* Only timers whose cause IMS lets through need a wakeup: every entry fires what is due
 * first, so a guest polling ICR with interrupts masked (Linux under NAPI) still sees the
 * cause on time. */
static uint64_t next_event(const struct e1000 *e)
{
    uint64_t t = NEVER;
    if (e->ims & E1000_ICR_RXT0)
        t = MIN(e->rx_pkt_at, e->rx_abs_at);
    if (e->ims & E1000_ICR_TXDW)
        t = MIN(t, MIN(e->tx_pkt_at, e->tx_abs_at));
    if ((e->icr & e->ims) && !e->irq_level)
        t = MIN(t, itr_release(e));     /* a held assertion */
    return t;
}

static void sync_deadline(struct e1000 *e)
{
    uint64_t d = next_event(e);
    if (d != e->deadline) {
        e->deadline = d;
        dev_clock_moved(&e->clock);
    }
}

/* A receive timer interrupt cancels both receive timers, a transmit one both transmit timers
 * (13.4.30-31, 13.4.44). */
static void fire_rx_timer(struct e1000 *e)
{
    e->rx_pkt_at = e->rx_abs_at = NEVER;
    raise_cause(e, E1000_ICR_RXT0);
}

static void fire_tx_timer(struct e1000 *e)
{
    e->tx_pkt_at = e->tx_abs_at = NEVER;
    raise_cause(e, E1000_ICR_TXDW);
}

/* Fires what is due by now, and lets a held INTA# rise if its interval has passed. */
static void advance(struct e1000 *e)
{
    uint64_t now = now_of(e);
    if (MIN(e->rx_pkt_at, e->rx_abs_at) <= now)
        fire_rx_timer(e);
    if (MIN(e->tx_pkt_at, e->tx_abs_at) <= now)
        fire_tx_timer(e);
    update_irq(e);
}

/* A frame reached host memory (3.2.7.1): RDTR 0 interrupts at once; otherwise the packet timer
 * restarts, and the absolute timer starts if it is not running (RADV 0 disables it). */
static void rx_timer_packet(struct e1000 *e)
{
    uint64_t rdtr = e->rdtr & E1000_DELAY_MASK, radv = e->radv & E1000_DELAY_MASK;
    if (!rdtr) {
        fire_rx_timer(e);
        return;
    }
    uint64_t now = now_of(e);
    e->rx_pkt_at = later(now, rdtr * E1000_DELAY_UNIT_NS);
    if (radv && e->rx_abs_at == NEVER)
        e->rx_abs_at = later(now, radv * E1000_DELAY_UNIT_NS);
}

/* A descriptor with RS was written back (3.3.3.1 IDE, 13.4.41, 13.4.44): without IDE TXDW is
 * immediate and clears the timers; with IDE TIDV restarts and TADV starts if idle. TIDV 0 is
 * "not allowed": taken as no delay. */
static void tx_timer_written_back(struct e1000 *e, bool ide)
{
    uint64_t tidv = e->tidv & E1000_DELAY_MASK, tadv = e->tadv & E1000_DELAY_MASK;
    if (!ide || !tidv) {
        fire_tx_timer(e);
        return;
    }
    uint64_t now = now_of(e);
    e->tx_pkt_at = later(now, tidv * E1000_DELAY_UNIT_NS);
    if (tadv && e->tx_abs_at == NEVER)
        e->tx_abs_at = later(now, tadv * E1000_DELAY_UNIT_NS);
}

/* ---- statistics (13.7) ------------------------------------------------------------------ */

static uint32_t *stat(struct e1000 *e, uint32_t off) { return &e->stats[(off - E1000_STATS_BASE) / 4]; }

/* Counters stick at their maximum. */
static void stat_add(struct e1000 *e, uint32_t off, uint32_t n)
{
    uint32_t *c = stat(e, off);
    *c = *c > UINT32_MAX - n ? UINT32_MAX : *c + n;
}

static void stat_add64(struct e1000 *e, uint32_t lo, uint64_t n)
{
    uint32_t *l = stat(e, lo), *h = stat(e, lo + 4);
    uint64_t v = (uint64_t)*h << 32 | *l;
    v = v > UINT64_MAX - n ? UINT64_MAX : v + n;
    *l = (uint32_t)v;
    *h = (uint32_t)(v >> 32);
}

static bool stat_is_low64(uint32_t off)
{
    return off == E1000_GORCL || off == E1000_GOTCL || off == E1000_TORL || off == E1000_TOTL;
}

static bool stat_is_high64(uint32_t off)
{
    return off == E1000_GORCH || off == E1000_GOTCH || off == E1000_TORH || off == E1000_TOTH;
}

/* Every counter clears when read; a 64-bit pair when its high half is read (13.7.31). */
static uint32_t stat_read(struct e1000 *e, uint32_t off)
{
    uint32_t v = *stat(e, off);
    if (stat_is_low64(off))
        return v;
    *stat(e, off) = 0;
    if (stat_is_high64(off))
        *stat(e, off - 4) = 0;
    return v;
}

/* PRC64..PRC1522 / PTC64..PTC1522 by length with FCS; 0: no bucket. */
static uint32_t size_bucket(uint32_t base, size_t wire)
{
    static const uint16_t upto[] = { 64, 127, 255, 511, 1023, 1522 };
    if (wire < 64)
        return 0;
    for (unsigned i = 0; i < ARRAY_SIZE(upto); i++)
        if (wire <= upto[i])
            return base + 4 * i;
    return 0;
}

static bool is_broadcast(const uint8_t *a)
{
    for (unsigned i = 0; i < ETH_ALEN; i++)
        if (a[i] != 0xFF)
            return false;
    return true;
}

/* ---- EEPROM (chapter 5) ----------------------------------------------------------------- */

/* The image an 82540EM desktop adapter would carry: the MAC, a valid Initialization Control
 * Word 1, the PCI ids, autonegotiation on and no PAUSE advertised (the model sends and honours
 * none), no APM wakeup (so Linux powers the PHY down when the interface goes down), no PXE
 * image, and the checksum word making words 0x00-0x3F add up to 0xBABA. */
static void eeprom_build(struct e1000 *e, const uint8_t mac[6])
{
    uint16_t *w = e->eeprom;
    for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
        w[i] = 0;
    for (unsigned i = 0; i < 3; i++)
        w[E1000_EEPROM_MAC0 + i] = (uint16_t)(mac[2 * i] | mac[2 * i + 1] << 8);
    w[E1000_EEPROM_ID_LED] = 0xFFFF;            /* the driver's default LED modes */
    w[E1000_EEPROM_VERSION] = 0x0100;
    w[E1000_EEPROM_INIT_CTRL1] = E1000_EEPROM_ICW1_SIGNATURE | E1000_EEPROM_ICW1_FD |
                                 E1000_EEPROM_ICW1_LOAD_SUBSYS | E1000_EEPROM_ICW1_LOAD_IDS;
    w[E1000_EEPROM_SUBSYS_ID] = E1000_PCI_SUBSYS_ID;
    w[E1000_EEPROM_SUBSYS_VENDOR] = E1000_PCI_SUBSYS_VENDOR;
    w[E1000_EEPROM_DEVICE_ID] = E1000_PCI_DEVICE_82540EM;
    w[E1000_EEPROM_VENDOR_ID] = E1000_PCI_VENDOR;
    w[E1000_EEPROM_INIT_CTRL2] = E1000_EEPROM_ICW2_ANE;
    w[E1000_EEPROM_INIT_CTRL3_A] = 0;
    for (unsigned i = 0x30; i < E1000_EEPROM_CHECKSUM; i++)
        w[i] = 0xFFFF;                          /* PXE words: no boot agent */
    uint16_t sum = 0;
    for (unsigned i = 0; i < E1000_EEPROM_CHECKSUM; i++)
        sum = (uint16_t)(sum + w[i]);
    w[E1000_EEPROM_CHECKSUM] = (uint16_t)(E1000_EEPROM_SUM - sum);
}

/* The hardware loads RAL0/RAH0 from words 0-2 with AV set after every reset (13.5.3). */
static void load_rar0(struct e1000 *e)
{
    e->ra[0] = (uint32_t)e->eeprom[0] | (uint32_t)e->eeprom[1] << 16;
    e->ra[1] = e->eeprom[2] | E1000_RAH_AV;
}

static void eeprom_reset_port(struct e1000 *e)
{
    e->eecd = E1000_EECD_FWE_DIS;
    e->ee_state = EE_IDLE;
    e->ee_do = true;
    e->ee_write_enabled = false;
}

static void eeprom_store(struct e1000 *e, uint16_t val)
{
    if (!e->ee_write_enabled)
        return;                             /* EWDS (the power-on state) protects the array */
    if (e->ee_wral) {
        for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
            e->eeprom[i] = val;
    } else {
        e->eeprom[e->ee_addr] = val;
    }
}

/* One rising edge of SK with CS high (93C46 Microwire): a start bit 1, two opcode bits and six
 * address bits go in on DI; a READ then puts a dummy 0 and the word, MSB first, on DO, one bit
 * per rising edge, and carries on into the following words. DO reads 1 ("ready") whenever no
 * data is being shifted out, which is what a driver polls after a write. */
static void eeprom_clock(struct e1000 *e, bool di)
{
    switch (e->ee_state) {
    case EE_IDLE:
        if (di) {                           /* leading zeros before the start bit are ignored */
            e->ee_state = EE_CMD;
            e->ee_bits = 0;
            e->ee_shift = 0;
        }
        return;
    case EE_CMD: {
        e->ee_shift = (uint16_t)(e->ee_shift << 1 | di);
        if (++e->ee_bits < 2 + E1000_EEPROM_ADDR_BITS)
            return;
        unsigned op = e->ee_shift >> E1000_EEPROM_ADDR_BITS;
        e->ee_addr = (uint8_t)(e->ee_shift & (E1000_EEPROM_WORDS - 1));
        e->ee_state = EE_DONE;
        e->ee_bits = 0;
        e->ee_shift = 0;
        e->ee_wral = false;
        if (op == E1000_EEPROM_OP_READ) {
            e->ee_state = EE_READ;
            e->ee_outbit = 0;
            e->ee_do = false;               /* the dummy zero */
        } else if (op == E1000_EEPROM_OP_WRITE) {
            e->ee_state = EE_WDATA;
        } else if (op == E1000_EEPROM_OP_ERASE) {
            eeprom_store(e, 0xFFFF);
        } else {
            switch (e->ee_addr >> (E1000_EEPROM_ADDR_BITS - 2)) {
            case E1000_EEPROM_EXT_EWEN: e->ee_write_enabled = true; break;
            case E1000_EEPROM_EXT_EWDS: e->ee_write_enabled = false; break;
            case E1000_EEPROM_EXT_ERAL: e->ee_wral = true; eeprom_store(e, 0xFFFF); break;
            default: e->ee_wral = true; e->ee_state = EE_WDATA; break;     /* WRAL */
            }
        }
        return;
    }
    case EE_READ:
        e->ee_do = (e->eeprom[e->ee_addr] >> (15 - e->ee_outbit)) & 1;
        if (++e->ee_outbit == 16) {
            e->ee_outbit = 0;
            e->ee_addr = (uint8_t)((e->ee_addr + 1) % E1000_EEPROM_WORDS);
        }
        return;
    case EE_WDATA:
        e->ee_shift = (uint16_t)(e->ee_shift << 1 | di);
        if (++e->ee_bits == 16) {
            eeprom_store(e, e->ee_shift);
            e->ee_state = EE_DONE;
        }
        return;
    default:
        return;
    }
}

/* EECD (13.4): software drives SK, CS and DI; a rising CS starts a command, a low CS ends it. */
static void eecd_write(struct e1000 *e, uint32_t val)
{
    uint32_t old = e->eecd;
    e->eecd = val & (E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI | E1000_EECD_FWE_MASK |
                     E1000_EECD_REQ);
    if (!(val & E1000_EECD_CS)) {
        e->ee_state = EE_IDLE;
        e->ee_do = true;
        return;
    }
    if (!(old & E1000_EECD_CS)) {
        e->ee_state = EE_IDLE;
        e->ee_do = true;
    }
    if ((val & E1000_EECD_SK) && !(old & E1000_EECD_SK))
        eeprom_clock(e, val & E1000_EECD_DI);
}

/* Software owns the port whenever it asks: GNT follows REQ. SIZE reads 0: a 64-word part. */
static uint32_t eecd_read(const struct e1000 *e)
{
    uint32_t v = e->eecd | E1000_EECD_PRES;
    if (v & E1000_EECD_REQ)
        v |= E1000_EECD_GNT;
    if (e->ee_do)
        v |= E1000_EECD_DO;
    return v;
}

/* EERD: a read completes at once; the address wraps within the 64 words, as six address bits
 * do on the part. */
static void eerd_write(struct e1000 *e, uint32_t val)
{
    uint32_t addr = (val & E1000_EERD_ADDR_MASK) >> E1000_EERD_ADDR_SHIFT;
    if (!(val & E1000_EERD_START)) {
        e->eerd = val & E1000_EERD_ADDR_MASK;
        return;
    }
    e->eerd = (uint32_t)e->eeprom[addr % E1000_EEPROM_WORDS] << E1000_EERD_DATA_SHIFT |
              addr << E1000_EERD_ADDR_SHIFT | E1000_EERD_DONE;
}

/* ---- PHY (M88E1011 at MDIO address 1) --------------------------------------------------- */

#define PHY_STATUS_CAPS (E1000_MII_SR_EXT_CAPS | E1000_MII_SR_AN_CAPS | \
                         E1000_MII_SR_PREAMBLE_SUPPRESS | E1000_MII_SR_EXT_STATUS | \
                         E1000_MII_SR_10T_HD | E1000_MII_SR_10T_FD | E1000_MII_SR_100X_HD | \
                         E1000_MII_SR_100X_FD)
#define NWAY_10_100_ALL (E1000_NWAY_10T_HD | E1000_NWAY_10T_FD | E1000_NWAY_100TX_HD | \
                         E1000_NWAY_100TX_FD)

/* Power-on register values: autonegotiation on, advertising 10/100/1000 (no 1000 half
 * duplex is resolved: the partner is a full-duplex gigabit switch port). */
static void phy_defaults(struct e1000 *e)
{
    for (unsigned i = 0; i < E1000_PHY_REGS; i++)
        e->phy[i] = 0;
    e->phy[E1000_PHY_CTRL] = E1000_MII_CR_AN_ENABLE | E1000_MII_CR_FULL_DUPLEX |
                             E1000_MII_CR_SPEED_MSB;
    e->phy[E1000_PHY_ID1] = M88_PHY_ID1;
    e->phy[E1000_PHY_ID2] = (uint16_t)M88E1011_I_PHY_ID;
    e->phy[E1000_PHY_AUTONEG_ADV] = E1000_NWAY_SELECTOR | NWAY_10_100_ALL;
    e->phy[E1000_PHY_NEXT_PAGE_TX] = 0x2001;    /* message page, null message */
    e->phy[E1000_PHY_1000T_CTRL] = E1000_CR_1000T_FD | E1000_CR_1000T_HD;
    e->phy[E1000_PHY_EXT_STATUS] = E1000_ESR_1000T_FD | E1000_ESR_1000T_HD;
    e->phy[M88E1000_PHY_SPEC_CTRL] = M88E1000_PSCR_AUTO_X_MODE;
    e->phy[M88E1000_EXT_PHY_SPEC_CTRL] = 0x0060;   /* 2.5 MHz TX_CLK until the driver sets 25 */
}

static bool link_should_be_up(const struct e1000 *e)
{
    return e->wire_up && !e->phy_in_reset && !(e->phy[E1000_PHY_CTRL] & E1000_MII_CR_POWER_DOWN);
}

/* A change of link (or a renegotiation, which drops and regains it) is an LSC (13.4.17). */
static void update_link(struct e1000 *e, bool renegotiated)
{
    bool up = link_should_be_up(e);
    if (up != e->link_up || (up && renegotiated)) {
        e->link_up = up;
        raise_cause(e, E1000_ICR_LSC);
    }
}

static uint16_t phy_read(const struct e1000 *e, unsigned reg)
{
    bool up = e->link_up;
    switch (reg) {
    case E1000_PHY_STATUS:
        return (uint16_t)(PHY_STATUS_CAPS | (up ? E1000_MII_SR_LINK | E1000_MII_SR_AN_COMPLETE : 0));
    case E1000_PHY_LP_ABILITY:
        return up ? E1000_NWAY_LP_ACK | NWAY_10_100_ALL | E1000_NWAY_SELECTOR : 0;
    case E1000_PHY_AUTONEG_EXP:
        return up ? E1000_NWAY_ER_LP_AN_ABLE : 0;
    case E1000_PHY_1000T_STATUS:
        return up ? E1000_SR_1000T_LOCAL_RX_OK | E1000_SR_1000T_REMOTE_RX_OK |
                    E1000_SR_1000T_LP_FD | E1000_SR_1000T_LP_HD : 0;
    case M88E1000_PHY_SPEC_STATUS:
        return up ? M88E1000_PSSR_1000MBS | M88E1000_PSSR_DPLX |
                    M88E1000_PSSR_SPD_DPLX_RESOLVED | M88E1000_PSSR_LINK : 0;
    case M88E1000_INT_STATUS:
    case M88E1000_RX_ERR_CNTR:
        return 0;                           /* nothing to report, no receive errors */
    default:
        return e->phy[reg];
    }
}

/* Writes to read-only PHY registers are ignored, as the part does. A software reset keeps the
 * registers (it "commits" them: Linux writes PSCR/EPSCR and then resets) and, like restarting
 * autonegotiation, renegotiates the link; both bits clear themselves. */
static void phy_write(struct e1000 *e, unsigned reg, uint16_t val)
{
    switch (reg) {
    case E1000_PHY_CTRL:
        e->phy[reg] = val & (uint16_t)~(E1000_MII_CR_RESET | E1000_MII_CR_RESTART_AN);
        update_link(e, (val & (E1000_MII_CR_RESET | E1000_MII_CR_RESTART_AN)) != 0);
        return;
    case E1000_PHY_STATUS: case E1000_PHY_ID1: case E1000_PHY_ID2: case E1000_PHY_LP_ABILITY:
    case E1000_PHY_AUTONEG_EXP: case E1000_PHY_LP_NEXT_PAGE: case E1000_PHY_1000T_STATUS:
    case E1000_PHY_EXT_STATUS: case M88E1000_PHY_SPEC_STATUS: case M88E1000_INT_STATUS:
    case M88E1000_RX_ERR_CNTR:
        return;
    default:
        e->phy[reg] = val;
        return;
    }
}

/* MDIC (13.4): the access completes at once; READY is set, ERROR for another PHY address or
 * an opcode that is neither read nor write. */
static void mdic_write(struct e1000 *e, uint32_t val)
{
    unsigned phy = (val & E1000_MDIC_PHY_MASK) >> E1000_MDIC_PHY_SHIFT;
    unsigned reg = (val & E1000_MDIC_REG_MASK) >> E1000_MDIC_REG_SHIFT;
    uint32_t op = val & E1000_MDIC_OP_MASK;
    uint32_t r = val & ~(E1000_MDIC_READY | E1000_MDIC_ERROR);

    if (phy != E1000_PHY_ADDR || (op != E1000_MDIC_OP_READ && op != E1000_MDIC_OP_WRITE))
        r |= E1000_MDIC_ERROR;
    else if (op == E1000_MDIC_OP_READ)
        r = (r & ~E1000_MDIC_DATA_MASK) | phy_read(e, reg);
    else
        phy_write(e, reg, (uint16_t)val);
    e->mdic = r | E1000_MDIC_READY;
    if (val & E1000_MDIC_INT_EN)
        raise_cause(e, E1000_ICR_MDAC);
}

/* ---- reset -------------------------------------------------------------------------------- */

static void tx_packet_clear(struct e1000 *e)
{
    e->tx_len = 0;
    e->tx_started = e->tx_drop = e->tx_tse = e->tx_legacy = e->tx_vle = e->tx_ic = false;
    e->tx_popts = e->tx_css = e->tx_cso = 0;
    e->tx_vlan = 0;
}

/* CTRL.RST: everything but the PCI side and the PHY, which has its own reset (CTRL.PHY_RST);
 * the PHY is released from a held reset since RST clears CTRL. */
static void mac_reset(struct e1000 *e)
{
    if (e->phy_in_reset) {
        e->phy_in_reset = false;
        phy_defaults(e);
    }
    e->ctrl = E1000_CTRL_FD | E1000_CTRL_SPD_1000;
    e->ctrl_ext = e->eerd = e->mdic = 0;
    e->fcal = e->fcah = e->fct = e->fcttv = e->txcw = 0;
    e->vet = 0x8100;                        /* 802.1Q */
    e->icr = e->itr = e->ims = 0;
    e->rctl = e->tctl = e->tipg = e->ait = 0;
    e->ledctl = 0x07068302;                 /* link, activity (blinking), 100, 1000 */
    e->pba = 0x30;                          /* 48 KB receive */
    e->fcrtl = e->fcrth = 0;
    e->rdbal = e->rdbah = e->rdlen = e->rdh = e->rdt = e->rdtr = e->radv = 0;
    e->rxdctl = e->rsrpd = e->rxcsum = 0;
    e->tdbal = e->tdbah = e->tdlen = e->tdh = e->tdt = e->tidv = e->tadv = 0;
    e->txdctl = e->tspmt = e->txdmac = 0;
    e->wuc = e->wufc = e->wus = e->manc = e->ipav = 0;
    memset(e->mta, 0, sizeof(e->mta));
    memset(e->ra, 0, sizeof(e->ra));
    memset(e->vfta, 0, sizeof(e->vfta));
    memset(e->stats, 0, sizeof(e->stats));
    eeprom_reset_port(e);
    load_rar0(e);
    e->rx_pkt_at = e->rx_abs_at = e->tx_pkt_at = e->tx_abs_at = NEVER;
    e->itr_asserted_once = false;
    e->tso_ctx.valid = e->csum_ctx.valid = false;
    tx_packet_clear(e);
    e->link_up = link_should_be_up(e);
    set_line(e, false);
    e->resets++;
}

void e1000_reset(struct e1000 *e)
{
    e->phy_in_reset = false;
    phy_defaults(e);
    mac_reset(e);
    e->ioaddr = 0;
    sync_deadline(e);
}

void e1000_init(struct e1000 *e, const uint8_t mac[6], const struct dma_ops *dma,
                const struct e1000_hooks *hooks, void *ctx,
                uint64_t (*clock)(void *), void *clock_ctx)
{
    memset(e, 0, sizeof(*e));
    e->dma = dma;
    if (hooks)
        e->hooks = *hooks;
    e->ctx = ctx;
    dev_clock_init(&e->clock, clock, clock_ctx);
    memcpy(e->mac, mac, ETH_ALEN);
    eeprom_build(e, mac);
    e->wire_up = true;
    e->deadline = NEVER;
    e1000_reset(e);
}

/* ---- rings -------------------------------------------------------------------------------- */

static unsigned ring_size(uint32_t xdlen) { return (xdlen & E1000_XDLEN_MASK) / E1000_DESC_SIZE; }

static bool tx_ring_ok(const struct e1000 *e)
{
    unsigned n = ring_size(e->tdlen);
    return n && e->tdh < n && e->tdt < n;
}

static bool rx_ring_ok(const struct e1000 *e)
{
    unsigned n = ring_size(e->rdlen);
    return n && e->rdh < n && e->rdt < n;
}

/* Descriptors the hardware owns: from RDH up to, not including, RDT (3.2.6). */
static unsigned rx_free(const struct e1000 *e)
{
    unsigned n = ring_size(e->rdlen);
    return (e->rdt + n - e->rdh) % n;
}

bool e1000_tx_pending(const struct e1000 *e)
{
    return (e->tctl & E1000_TCTL_EN) && tx_ring_ok(e) && e->tdh != e->tdt;
}

bool e1000_can_receive(const struct e1000 *e)
{
    return (e->rctl & E1000_RCTL_EN) && e->link_up && rx_ring_ok(e) && rx_free(e) > 0;
}

static void kick_tx(struct e1000 *e)
{
    if (!(e->tctl & E1000_TCTL_EN))
        return;
    if (!tx_ring_ok(e)) {
        e->tx_bad_ring++;
        return;
    }
    if (e->tdh == e->tdt)
        return;
    e->tx_kicks++;
    if (e->hooks.tx_kick)
        e->hooks.tx_kick(e->ctx);
    else
        e1000_tx_process(e, ring_size(e->tdlen));
}

static void kick_rx(struct e1000 *e)
{
    e->rx_kicks++;
    if (e->hooks.rx_kick)
        e->hooks.rx_kick(e->ctx);
}

/* ---- registers ---------------------------------------------------------------------------- */

static uint32_t status_read(const struct e1000 *e)
{
    return E1000_STATUS_FD | E1000_STATUS_SPEED_1000 | (e->link_up ? E1000_STATUS_LU : 0);
}

static uint32_t pba_read(const struct e1000 *e)
{
    uint32_t rxa = e->pba & E1000_PBA_RXA_MASK;
    uint32_t txa = rxa < E1000_PBA_TOTAL_KB ? E1000_PBA_TOTAL_KB - rxa : 0;
    return rxa | txa << E1000_PBA_TXA_SHIFT;
}

static bool in_array(uint32_t off, uint32_t base, uint32_t count)
{
    return off >= base && off < base + 4 * count;
}

/* off is dword-aligned and inside BAR0. */
static uint32_t reg_read(struct e1000 *e, uint32_t off)
{
    if (off >= E1000_STATS_BASE && off < E1000_STATS_END)
        return stat_read(e, off);
    if (in_array(off, E1000_MTA, E1000_MTA_ENTRIES))
        return e->mta[(off - E1000_MTA) / 4];
    if (in_array(off, E1000_RA, 2 * E1000_RA_ENTRIES))
        return e->ra[(off - E1000_RA) / 4];
    if (in_array(off, E1000_VFTA, E1000_VFTA_ENTRIES))
        return e->vfta[(off - E1000_VFTA) / 4];
    switch (off) {
    case E1000_CTRL:     return e->ctrl;
    case E1000_STATUS:   return status_read(e);
    case E1000_EECD:     return eecd_read(e);
    case E1000_EERD:     return e->eerd;
    case E1000_CTRL_EXT: return e->ctrl_ext;
    case E1000_MDIC:     return e->mdic;
    case E1000_FCAL:     return e->fcal;
    case E1000_FCAH:     return e->fcah;
    case E1000_FCT:      return e->fct;
    case E1000_VET:      return e->vet;
    case E1000_ICR: {
        uint32_t v = e->icr;                /* reading clears every cause (13.4.17) */
        e->icr = 0;
        update_irq(e);
        return v;
    }
    case E1000_ITR:      return e->itr;
    case E1000_ICS:      return e->icr;     /* write-only; reads see the causes, uncleared */
    case E1000_IMS:      return e->ims;
    case E1000_IMC:      return 0;
    case E1000_RCTL:     return e->rctl;
    case E1000_FCTTV:    return e->fcttv;
    case E1000_TXCW:     return e->txcw;
    case E1000_RXCW:     return 0;
    case E1000_TCTL:     return e->tctl;
    case E1000_TIPG:     return e->tipg;
    case E1000_AIT:      return e->ait;
    case E1000_LEDCTL:   return e->ledctl;
    case E1000_PBA:      return pba_read(e);
    case E1000_FCRTL:    return e->fcrtl;
    case E1000_FCRTH:    return e->fcrth;
    case E1000_RDBAL:    return e->rdbal;
    case E1000_RDBAH:    return e->rdbah;
    case E1000_RDLEN:    return e->rdlen;
    case E1000_RDH:      return e->rdh;
    case E1000_RDT:      return e->rdt;
    case E1000_RDTR:     return e->rdtr;
    case E1000_RXDCTL:   return e->rxdctl;
    case E1000_RADV:     return e->radv;
    case E1000_RSRPD:    return e->rsrpd;
    case E1000_TXDMAC:   return e->txdmac;
    case E1000_TDBAL:    return e->tdbal;
    case E1000_TDBAH:    return e->tdbah;
    case E1000_TDLEN:    return e->tdlen;
    case E1000_TDH:      return e->tdh;
    case E1000_TDT:      return e->tdt;
    case E1000_TIDV:     return e->tidv;
    case E1000_TXDCTL:   return e->txdctl;
    case E1000_TADV:     return e->tadv;
    case E1000_TSPMT:    return e->tspmt;
    case E1000_RXCSUM:   return e->rxcsum;
    case E1000_WUC:      return e->wuc;
    case E1000_WUFC:     return e->wufc;
    case E1000_WUS:      return e->wus;
    case E1000_MANC:     return e->manc;
    case E1000_IPAV:     return e->ipav;
    default:
        e->bad_accesses++;
        return 0;
    }
}

static void ctrl_write(struct e1000 *e, uint32_t val)
{
    if (val & E1000_CTRL_RST) {             /* self-clearing: the write's other bits are lost */
        mac_reset(e);
        return;
    }
    uint32_t old = e->ctrl;
    e->ctrl = val;
    if (val & E1000_CTRL_PHY_RST) {         /* held in reset while the bit is set */
        e->phy_in_reset = true;
        update_link(e, false);
    } else if (e->phy_in_reset) {
        e->phy_in_reset = false;
        phy_defaults(e);
        update_link(e, true);
    }
    /* Setting SLU is when the MAC takes the PHY's link (13.4, CTRL.SLU): the driver is told. */
    if ((val & E1000_CTRL_SLU) && !(old & E1000_CTRL_SLU) && e->link_up)
        raise_cause(e, E1000_ICR_LSC);
}

static void reg_write(struct e1000 *e, uint32_t off, uint32_t val)
{
    uint32_t old;

    if (in_array(off, E1000_MTA, E1000_MTA_ENTRIES)) {
        e->mta[(off - E1000_MTA) / 4] = val;
        return;
    }
    if (in_array(off, E1000_RA, 2 * E1000_RA_ENTRIES)) {
        unsigned i = (off - E1000_RA) / 4;
        e->ra[i] = i & 1 ? val & (E1000_RAH_AV | E1000_RAH_ASEL_MASK | E1000_RAH_ADDR_MASK) : val;
        return;
    }
    if (in_array(off, E1000_VFTA, E1000_VFTA_ENTRIES)) {
        e->vfta[(off - E1000_VFTA) / 4] = val;
        return;
    }
    switch (off) {
    case E1000_CTRL:     ctrl_write(e, val); return;
    case E1000_EECD:     eecd_write(e, val); return;
    case E1000_EERD:     eerd_write(e, val); return;
    case E1000_CTRL_EXT:
        e->ctrl_ext = val & ~E1000_CTRL_EXT_EE_RST;
        if (val & E1000_CTRL_EXT_EE_RST)
            load_rar0(e);
        return;
    case E1000_MDIC:     mdic_write(e, val); return;
    case E1000_FCAL:     e->fcal = val; return;
    case E1000_FCAH:     e->fcah = val & 0xFFFF; return;
    case E1000_FCT:      e->fct = val & 0xFFFF; return;
    case E1000_VET:      e->vet = val & 0xFFFF; return;
    case E1000_ICR:                         /* writing 1s clears those causes */
        e->icr &= ~val;
        update_irq(e);
        return;
    case E1000_ITR:
        e->itr = val & E1000_ITR_INTERVAL_MASK;
        update_irq(e);                      /* a shorter interval may release a held line */
        return;
    case E1000_ICS:      raise_cause(e, val); return;
    case E1000_IMS:
        e->ims |= val & E1000_ICR_VALID;
        update_irq(e);
        return;
    case E1000_IMC:
        e->ims &= ~val;
        update_irq(e);
        return;
    case E1000_RCTL:
        old = e->rctl;
        e->rctl = val;
        if ((val & E1000_RCTL_EN) && !(old & E1000_RCTL_EN))
            kick_rx(e);
        return;
    case E1000_FCTTV:    e->fcttv = val & 0xFFFF; return;
    case E1000_TXCW:     e->txcw = val; return;
    case E1000_TCTL:
        old = e->tctl;
        e->tctl = val;
        if ((val & E1000_TCTL_EN) && !(old & E1000_TCTL_EN))
            kick_tx(e);
        return;
    case E1000_TIPG:     e->tipg = val; return;
    case E1000_AIT:      e->ait = val & 0xFFFF; return;
    case E1000_LEDCTL:   e->ledctl = val; return;
    case E1000_PBA:      e->pba = val & E1000_PBA_RXA_MASK; return;
    case E1000_FCRTL:    e->fcrtl = val; return;
    case E1000_FCRTH:    e->fcrth = val; return;
    case E1000_RDBAL:    e->rdbal = val & E1000_XDBAL_MASK; return;
    case E1000_RDBAH:    e->rdbah = val; return;
    case E1000_RDLEN:    e->rdlen = val & E1000_XDLEN_MASK; return;
    case E1000_RDH:      e->rdh = val & E1000_XDH_MASK; return;
    case E1000_RDT:
        e->rdt = val & E1000_XDH_MASK;
        kick_rx(e);
        return;
    case E1000_RDTR:
        e->rdtr = val & E1000_DELAY_MASK;
        if (val & E1000_RDTR_FPD)
            fire_rx_timer(e);
        return;
    case E1000_RXDCTL:   e->rxdctl = val; return;
    case E1000_RADV:     e->radv = val & E1000_DELAY_MASK; return;
    case E1000_RSRPD:    e->rsrpd = val & E1000_RSRPD_SIZE_MASK; return;
    case E1000_TXDMAC:   e->txdmac = val; return;
    case E1000_TDBAL:    e->tdbal = val & E1000_XDBAL_MASK; return;
    case E1000_TDBAH:    e->tdbah = val; return;
    case E1000_TDLEN:    e->tdlen = val & E1000_XDLEN_MASK; return;
    case E1000_TDH:                         /* only written while idle: a partial packet goes */
        e->tdh = val & E1000_XDH_MASK;
        tx_packet_clear(e);
        return;
    case E1000_TDT:
        e->tdt = val & E1000_XDH_MASK;
        kick_tx(e);
        return;
    case E1000_TIDV:
        e->tidv = val & E1000_DELAY_MASK;
        if (val & E1000_TIDV_FPD)
            fire_tx_timer(e);
        return;
    case E1000_TXDCTL:   e->txdctl = val; return;
    case E1000_TADV:     e->tadv = val & E1000_DELAY_MASK; return;
    case E1000_TSPMT:    e->tspmt = val; return;
    case E1000_RXCSUM:   e->rxcsum = val; return;
    case E1000_WUC:      e->wuc = val; return;
    case E1000_WUFC:     e->wufc = val; return;
    case E1000_WUS:      e->wus &= ~val; return;
    case E1000_MANC:     e->manc = val; return;
    case E1000_IPAV:     e->ipav = val; return;
    default:
        e->bad_accesses++;                  /* unknown, read-only, statistics */
        return;
    }
}

/* Registers are dwords (13.4). Narrower reads see part of the dword, with its read side effects
 * (a byte of ICR clears ICR); narrower or misaligned writes would need a merge the hardware
 * does not define, and are refused. */
uint32_t e1000_mmio_read(struct e1000 *e, uint32_t off, unsigned size)
{
    if (off >= E1000_MMIO_SIZE || (size != 1 && size != 2 && size != 4) || (off & (size - 1))) {
        e->bad_accesses++;
        return 0;
    }
    advance(e);
    uint32_t v = reg_read(e, off & ~3u) >> (8 * (off & 3));
    if (size < 4)
        v &= (1u << (8 * size)) - 1;
    sync_deadline(e);
    return v;
}

void e1000_mmio_write(struct e1000 *e, uint32_t off, unsigned size, uint32_t val)
{
    if (off >= E1000_MMIO_SIZE || size != 4 || (off & 3)) {
        e->bad_accesses++;
        return;
    }
    advance(e);
    reg_write(e, off, val);
    sync_deadline(e);
}

/* The I/O window (13.2): IOADDR holds a BAR0 offset, IODATA reads or writes the register it
 * selects. Both are dwords. */
uint32_t e1000_io_read(struct e1000 *e, unsigned off, unsigned size)
{
    if (size != 4 || (off != E1000_IOADDR && off != E1000_IODATA)) {
        e->bad_accesses++;
        return 0;
    }
    if (off == E1000_IOADDR)
        return e->ioaddr;
    if (e->ioaddr >= E1000_MMIO_SIZE || (e->ioaddr & 3)) {
        e->bad_accesses++;
        return 0;
    }
    return e1000_mmio_read(e, e->ioaddr, 4);
}

void e1000_io_write(struct e1000 *e, unsigned off, unsigned size, uint32_t val)
{
    if (size != 4 || (off != E1000_IOADDR && off != E1000_IODATA)) {
        e->bad_accesses++;
        return;
    }
    if (off == E1000_IOADDR) {
        e->ioaddr = val;
        return;
    }
    if (e->ioaddr >= E1000_MMIO_SIZE || (e->ioaddr & 3)) {
        e->bad_accesses++;
        return;
    }
    e1000_mmio_write(e, e->ioaddr, 4, val);
}

/* ---- checksums (3.6) ---------------------------------------------------------------------- */

/* RFC 1071 ones'-complement sum of big-endian 16-bit words, an odd last byte padded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t s = sum;
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (i < len)
        s += (uint32_t)p[i] << 8;
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint32_t)s;
}

/* Sums f[start..end] (end inclusive, 0 = the frame's end) with the checksum field as software
 * seeded it, and stores the complement at off. Out of the frame: nothing is inserted. A UDP
 * result of 0 is sent as 0xFFFF (0 means "no checksum"). */
static void insert_csum(uint8_t *f, size_t len, unsigned start, unsigned off, unsigned cse, bool udp)
{
    size_t end = (cse == 0 || cse >= len) ? len : cse + 1u;
    if (start >= end || (size_t)off + 2 > len)
        return;
    uint16_t c = (uint16_t)~csum_add(0, f + start, end - start);
    if (udp && c == 0)
        c = 0xFFFF;
    put_be16(f + off, c);
}

/* ---- transmit (3.3-3.6) ------------------------------------------------------------------- */

static uint32_t load_be32(const uint8_t *p) { return (uint32_t)get_be16(p) << 16 | get_be16(p + 2); }

static void store_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)v);
}

/* One frame leaves. f has 4 bytes of headroom for a tag and room for padding behind it. The
 * tag goes after the addresses when VLE asks and CTRL.VME allows (3.3.3.1); TCTL.PSP pads to
 * 64 bytes with the FCS the wire adds (13.4, TCTL). */
static void tx_emit(struct e1000 *e, uint8_t *f, size_t len, bool vle, uint16_t tci)
{
    if (len < ETH_HLEN) {
        e->tx_bad_desc++;
        return;
    }
    if (vle && (e->ctrl & E1000_CTRL_VME)) {
        uint8_t *t = f - VLAN_HLEN;
        memmove(t, f, 2 * ETH_ALEN);
        put_be16(t + ETH_TYPE_OFF, (uint16_t)e->vet);
        put_be16(t + ETH_TYPE_OFF + 2, tci);
        f = t;
        len += VLAN_HLEN;
    }
    if ((e->tctl & E1000_TCTL_PSP) && len < ETH_ZLEN) {
        memset(f + len, 0, ETH_ZLEN - len);
        len = ETH_ZLEN;
    }
    if (!e->link_up) {
        e->tx_no_link++;
        return;
    }
    size_t wire = MAX(len, (size_t)ETH_ZLEN) + E1000_FCS_LEN;
    stat_add(e, E1000_TPT, 1);
    stat_add(e, E1000_GPTC, 1);
    stat_add64(e, E1000_GOTCL, wire);
    stat_add64(e, E1000_TOTL, wire);
    uint32_t bucket = size_bucket(E1000_PTC64, wire);
    if (bucket)
        stat_add(e, bucket, 1);
    if (is_broadcast(f))
        stat_add(e, E1000_BPTC, 1);
    else if (f[0] & 1)
        stat_add(e, E1000_MPTC, 1);
    e->tx_frames++;
    e->tx_bytes += len;
    if (e->hooks.tx_frame)
        e->hooks.tx_frame(e->ctx, f, len);
}

/* A packet that is not segmented: the legacy checksum (CSS to the end, at CSO, when IC) or the
 * normal context's IP and TCP/UDP checksums as the first data descriptor's POPTS ask. */
static void tx_send_plain(struct e1000 *e)
{
    uint8_t *f = e->tx_buf + VLAN_HLEN;
    size_t len = e->tx_len;
    if (len > E1000_TX_MAX_FRAME) {
        e->tx_oversize++;
        return;
    }
    if (e->tx_legacy) {
        if (e->tx_ic)
            insert_csum(f, len, e->tx_css, e->tx_cso, 0, false);
    } else if (e->tx_popts && e->csum_ctx.valid) {
        const struct e1000_tx_ctx *c = &e->csum_ctx;
        if (e->tx_popts & E1000_TXD_POPTS_IXSM)
            insert_csum(f, len, c->ipcss, c->ipcso, c->ipcse, false);
        if (e->tx_popts & E1000_TXD_POPTS_TXSM)
            insert_csum(f, len, c->tucss, c->tucso, c->tucse, !(c->tucmd & E1000_TXD_CMD_TCP));
    }
    tx_emit(e, f, len, e->tx_vle, e->tx_vlan);
}

static void tso_refuse(struct e1000 *e, uint64_t *counter)
{
    (*counter)++;
    stat_add(e, E1000_TSCTFC, 1);
}

/* TCP/UDP segmentation (3.5): the HDRLEN-byte prototype header is copied in front of each
 * MSS-sized piece of payload, and per segment (3.5.9): the IPv4 total length and id (the id
 * counts up per segment) or the IPv6 payload length, the TCP sequence number (FIN and PSH only
 * in the last) or the UDP length, then the checksums. The pseudo-header sum software seeded
 * excludes the length: each segment's TCP/UDP length is added to it. Header fields that do
 * not lie inside HDRLEN are left alone. */
static void tx_send_tso(struct e1000 *e)
{
    const struct e1000_tx_ctx *c = &e->tso_ctx;
    const uint8_t *pkt = e->tx_buf + VLAN_HLEN;
    size_t len = e->tx_len;

    if (!c->valid || !c->mss || !c->hdrlen || c->hdrlen > len) {
        tso_refuse(e, &e->tx_bad_desc);
        return;
    }
    size_t hdr = c->hdrlen, pay = len - hdr, mss = c->mss;
    size_t nseg = pay ? (pay + mss - 1) / mss : 1;
    if (nseg > E1000_TSO_MAX_SEGS) {
        tso_refuse(e, &e->tx_bad_desc);
        return;
    }
    if (hdr + MIN(mss, pay) > E1000_TX_MAX_FRAME) {
        tso_refuse(e, &e->tx_oversize);
        return;
    }
    if (pay != c->paylen)
        stat_add(e, E1000_TSCTFC, 1);       /* PAYLEN disagrees: sent as the data says */

    bool ipv4 = c->tucmd & E1000_TXD_CMD_IP, tcp = c->tucmd & E1000_TXD_CMD_TCP;
    bool ip_ok = c->ipcss + (ipv4 ? IPV4_HLEN : IPV6_HLEN) <= hdr;
    bool l4_ok = c->tucss + (tcp ? TCP_HLEN : UDP_HLEN) <= hdr;
    uint16_t id = ipv4 && ip_ok ? get_be16(pkt + c->ipcss + IPV4_ID_OFF) : 0;
    uint32_t seq = tcp && l4_ok ? load_be32(pkt + c->tucss + TCP_SEQ_OFF) : 0;

    for (size_t k = 0, off = 0; k < nseg; k++) {
        size_t chunk = MIN(mss, pay - off);
        size_t flen = hdr + chunk;
        bool last = k + 1 == nseg;
        uint8_t *f = e->tx_seg + VLAN_HLEN;
        memcpy(f, pkt, hdr);
        memcpy(f + hdr, pkt + hdr + off, chunk);
        if (ip_ok && ipv4) {
            put_be16(f + c->ipcss + IPV4_LEN_OFF, (uint16_t)(flen - c->ipcss));
            put_be16(f + c->ipcss + IPV4_ID_OFF, (uint16_t)(id + k));
        } else if (ip_ok) {
            put_be16(f + c->ipcss + IPV6_PLEN_OFF, (uint16_t)(flen - c->ipcss - IPV6_HLEN));
        }
        if (l4_ok && tcp) {
            store_be32(f + c->tucss + TCP_SEQ_OFF, seq + (uint32_t)off);
            if (!last)
                f[c->tucss + TCP_FLAGS_OFF] &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
        } else if (l4_ok) {
            put_be16(f + c->tucss + UDP_LEN_OFF, (uint16_t)(flen - c->tucss));
        }
        if (e->tx_popts & E1000_TXD_POPTS_IXSM)
            insert_csum(f, flen, c->ipcss, c->ipcso, c->ipcse, false);
        if ((e->tx_popts & E1000_TXD_POPTS_TXSM) && (size_t)c->tucso + 2 <= flen && c->tucss < flen) {
            uint32_t seeded = get_be16(f + c->tucso) + (uint32_t)(flen - c->tucss);
            while (seeded >> 16)
                seeded = (seeded & 0xFFFF) + (seeded >> 16);
            put_be16(f + c->tucso, (uint16_t)seeded);
            insert_csum(f, flen, c->tucss, c->tucso, c->tucse, !tcp);
        }
        tx_emit(e, f, flen, e->tx_vle, e->tx_vlan);
        off += chunk;
    }
    e->tso_packets++;
    stat_add(e, E1000_TSCTC, 1);
}

static void tx_finish(struct e1000 *e)
{
    if (!e->tx_drop) {
        e->tx_packets++;
        if (e->tx_tse)
            tx_send_tso(e);
        else
            tx_send_plain(e);
    }
    tx_packet_clear(e);
}

/* Descriptors with a null address or zero length carry no data (3.3.3). A buffer outside RAM
 * or a packet growing past E1000_MAX_TX_PACKET dooms the packet; its descriptors are still
 * consumed and written back. */
static void tx_append(struct e1000 *e, uint64_t addr, uint32_t len)
{
    if (!addr || !len || e->tx_drop)
        return;
    if (len > E1000_MAX_TX_PACKET - e->tx_len) {
        e->tx_drop = true;
        e->tx_oversize++;
        return;
    }
    if (!dma_read(e->dma, addr, e->tx_buf + VLAN_HLEN + e->tx_len, len)) {
        e->tx_drop = true;
        e->tx_dma_errors++;
        return;
    }
    e->tx_len += len;
}

/* Legacy descriptor (3.3.3): CSS/CSO come from the first descriptor of the packet, IC, VLE and
 * the tag from the one with EOP. */
static void tx_legacy_desc(struct e1000 *e, uint64_t addr, uint32_t lower, uint32_t upper)
{
    if (!e->tx_started) {
        e->tx_started = true;
        e->tx_legacy = true;
        e->tx_css = (uint8_t)(upper >> E1000_TXD_CSS_SHIFT);
        e->tx_cso = (uint8_t)(lower >> E1000_TXD_CSO_SHIFT);
    }
    tx_append(e, addr, lower & E1000_TXD_LEN_MASK);
    if (lower & E1000_TXD_CMD_EOP) {
        e->tx_ic = lower & E1000_TXD_CMD_IC;
        e->tx_vle = lower & E1000_TXD_CMD_VLE;
        e->tx_vlan = (uint16_t)(upper >> E1000_TXD_SPECIAL_SHIFT);
        tx_finish(e);
    }
}

/* Data descriptor (3.3.7): POPTS and TSE are the first descriptor's; VLE and the tag are the
 * first one's for TSO, the EOP one's otherwise (3.3.7.1). */
static void tx_data_desc(struct e1000 *e, uint64_t addr, uint32_t lower, uint32_t upper)
{
    if (!e->tx_started) {
        e->tx_started = true;
        e->tx_legacy = false;
        e->tx_tse = lower & E1000_TXD_CMD_TSE;
        e->tx_popts = (uint8_t)(upper >> E1000_TXD_POPTS_SHIFT);
        if (e->tx_tse) {
            e->tx_vle = lower & E1000_TXD_CMD_VLE;
            e->tx_vlan = (uint16_t)(upper >> E1000_TXD_SPECIAL_SHIFT);
        }
    }
    tx_append(e, addr, lower & E1000_TXD_DTALEN_MASK);
    if (lower & E1000_TXD_CMD_EOP) {
        if (!e->tx_tse) {
            e->tx_vle = lower & E1000_TXD_CMD_VLE;
            e->tx_vlan = (uint16_t)(upper >> E1000_TXD_SPECIAL_SHIFT);
        }
        tx_finish(e);
    }
}

/* Context descriptor (3.3.6): TSE chooses which of the two contexts it loads. */
static void tx_context_desc(struct e1000 *e, const uint8_t *d, uint32_t lower, uint32_t upper)
{
    struct e1000_tx_ctx *c = (lower & E1000_TXD_CMD_TSE) ? &e->tso_ctx : &e->csum_ctx;
    c->ipcss = d[E1000_TXC_IPCSS];
    c->ipcso = d[E1000_TXC_IPCSO];
    c->ipcse = get_le16(d + E1000_TXC_IPCSE);
    c->tucss = d[E1000_TXC_TUCSS];
    c->tucso = d[E1000_TXC_TUCSO];
    c->tucse = get_le16(d + E1000_TXC_TUCSE);
    c->paylen = lower & E1000_TXD_DTALEN_MASK;
    c->tucmd = lower & (E1000_TXD_CMD_TCP | E1000_TXD_CMD_IP | E1000_TXD_CMD_TSE);
    c->hdrlen = (uint8_t)(upper >> E1000_TXD_HDRLEN_SHIFT);
    c->mss = (uint16_t)(upper >> E1000_TXD_MSS_SHIFT);
    c->valid = true;
}

static void tx_one(struct e1000 *e, uint64_t daddr)
{
    uint8_t d[E1000_DESC_SIZE];
    if (!dma_read(e->dma, daddr, d, sizeof(d))) {
        e->tx_dma_errors++;                 /* nothing to write back to either */
        if (e->tx_started)
            e->tx_drop = true;
        return;
    }
    uint64_t addr = get_le64(d);
    uint32_t lower = get_le32(d + E1000_TXD_LOWER), upper = get_le32(d + E1000_TXD_UPPER);

    if (!(lower & E1000_TXD_CMD_DEXT)) {
        tx_legacy_desc(e, addr, lower, upper);
    } else if ((lower & E1000_TXD_DTYP_MASK) == E1000_TXD_DTYP_D) {
        tx_data_desc(e, addr, lower, upper);
    } else if ((lower & E1000_TXD_DTYP_MASK) == E1000_TXD_DTYP_C) {
        tx_context_desc(e, d, lower, upper);
    } else {
        e->tx_bad_desc++;
        if (e->tx_started)
            e->tx_drop = true;
    }
    if (lower & E1000_TXD_CMD_RS) {         /* DD, for any descriptor type (3.3.3.2) */
        uint8_t sta = (uint8_t)((d[E1000_TXD_STATUS] & ~E1000_TXD_STAT_MASK) | E1000_TXD_STAT_DD);
        if (dma_write(e->dma, daddr + E1000_TXD_STATUS, &sta, 1))
            tx_timer_written_back(e, lower & E1000_TXD_CMD_IDE);
        else
            e->tx_dma_errors++;
    }
}

unsigned e1000_tx_process(struct e1000 *e, unsigned budget)
{
    unsigned done = 0;
    advance(e);
    if (e->tctl & E1000_TCTL_EN) {
        if (!tx_ring_ok(e)) {
            e->tx_bad_ring++;
        } else {
            unsigned n = ring_size(e->tdlen);
            uint64_t base = (uint64_t)e->tdbah << 32 | e->tdbal;
            /* Frames count against the budget too: one TSO descriptor may cut into thousands
             * of frames, each a switch delivery, and the caller's budget bounds its exit. */
            uint64_t frames0 = e->tx_frames;
            while (e->tdh != e->tdt && done < budget && e->tx_frames - frames0 < budget) {
                tx_one(e, base + (uint64_t)e->tdh * E1000_DESC_SIZE);
                e->tdh = (e->tdh + 1) % n;
                done++;
            }
            if (done && e->tdh == e->tdt)
                raise_cause(e, E1000_ICR_TXQE);     /* 3.4.3: head reached tail */
        }
    }
    sync_deadline(e);
    return done;
}

/* ---- receive (3.2) ------------------------------------------------------------------------ */

/* BSIZE/BSEX (13.4, RCTL); BSEX with BSIZE 00b is reserved and taken as 2048. */
static size_t rx_bufsize(uint32_t rctl)
{
    static const uint16_t base[4] = { 2048, 1024, 512, 256 };
    static const uint16_t ext[4] = { 2048, 16384, 8192, 4096 };
    unsigned b = (rctl & E1000_RCTL_BSIZE_MASK) >> E1000_RCTL_BSIZE_SHIFT;
    return rctl & E1000_RCTL_BSEX ? ext[b] : base[b];
}

/* The Ethernet FCS (CRC-32, reflected 0x04C11DB7), four bits at a time. */
static uint32_t fcs(const uint8_t *p, size_t len)
{
    static const uint32_t t[16] = {
        0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
        0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C, 0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
    };
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        c = (c >> 4) ^ t[c & 15];
        c = (c >> 4) ^ t[c & 15];
    }
    return ~c;
}

static bool rx_exact_match(const struct e1000 *e, const uint8_t *da)
{
    uint32_t lo = get_le32(da), hi = get_le16(da + 4);
    for (unsigned i = 0; i < E1000_RA_ENTRIES; i++) {
        uint32_t rah = e->ra[2 * i + 1];
        if ((rah & E1000_RAH_AV) && !(rah & E1000_RAH_ASEL_MASK) && e->ra[2 * i] == lo &&
            (rah & E1000_RAH_ADDR_MASK) == hi)
            return true;
    }
    return false;
}

/* 13.5.1: RCTL.MO picks which 12 of the destination address's upper bits index the MTA:
 * 0 = bits 47:36, 1 = 46:35, 2 = 45:34, 3 = 43:32. */
static bool rx_hash_match(const struct e1000 *e, const uint8_t *da)
{
    static const uint8_t shift[4] = { 4, 3, 2, 0 };
    unsigned mo = (e->rctl & E1000_RCTL_MO_MASK) >> E1000_RCTL_MO_SHIFT;
    uint32_t h = ((uint32_t)da[4] >> shift[mo] | (uint32_t)da[5] << (8 - shift[mo])) & E1000_MTA_HASH_MASK;
    return e->mta[h >> 5] >> (h & 31) & 1;
}

/* Receive filtering (chapter 3, "Receive Data Storage"; 13.5): MAC control frames stay in the
 * MAC unless PMCF; a tagged frame must pass the VLAN filter when VFE; then broadcast with BAM,
 * promiscuous modes, the 16 exact addresses, and for multicast the hash table. */
static bool rx_accept(const struct e1000 *e, const uint8_t *f, size_t len)
{
    uint32_t rctl = e->rctl;
    uint16_t type = get_be16(f + ETH_TYPE_OFF);
    if (type == ETH_P_MAC_CTRL && !(rctl & E1000_RCTL_PMCF))
        return false;
    if ((rctl & E1000_RCTL_VFE) && len >= ETH_HLEN + VLAN_HLEN && type == (e->vet & 0xFFFF)) {
        uint16_t tci = get_be16(f + ETH_HLEN), vid = tci & E1000_VLAN_ID_MASK;
        if ((rctl & E1000_RCTL_CFIEN) && !(tci & E1000_VLAN_CFI) != !(rctl & E1000_RCTL_CFI))
            return false;
        if (!(e->vfta[vid >> 5] >> (vid & 31) & 1))
            return false;
    }
    bool mcast = f[0] & 1;
    if (mcast && is_broadcast(f) && (rctl & E1000_RCTL_BAM))
        return true;
    if (!mcast && (rctl & E1000_RCTL_UPE))
        return true;
    if (mcast && (rctl & E1000_RCTL_MPE))
        return true;
    if (rx_exact_match(e, f))
        return true;
    return mcast && rx_hash_match(e, f);
}

static void rx_count_seen(struct e1000 *e, size_t wire)
{
    stat_add(e, E1000_TPR, 1);
    stat_add64(e, E1000_TORL, wire);
}

static enum e1000_rx_result rx_frame(struct e1000 *e, const uint8_t *frame, size_t len)
{
    if (!(e->rctl & E1000_RCTL_EN))
        return E1000_RX_NO_BUFFER;
    if (len < E1000_RX_MIN_FRAME || len > E1000_RX_MAX_FRAME) {
        e->rx_bad_len++;
        return E1000_RX_DROPPED;
    }
    if (!e->link_up) {
        e->rx_no_link++;
        return E1000_RX_DROPPED;
    }
    size_t wire = MAX(len, (size_t)ETH_ZLEN) + E1000_FCS_LEN;
    if (!rx_accept(e, frame, len)) {
        rx_count_seen(e, wire);
        e->rx_filtered++;
        return E1000_RX_FILTERED;
    }
    if (wire > E1000_MAX_STD_FRAME && !(e->rctl & E1000_RCTL_LPE)) {
        rx_count_seen(e, wire);             /* a long packet without LPE (13.4, RCTL.LPE) */
        stat_add(e, E1000_ROC, 1);
        e->rx_too_long++;
        return E1000_RX_DROPPED;
    }
    if (!rx_ring_ok(e)) {
        e->rx_bad_ring++;
        return E1000_RX_DROPPED;
    }

    /* The frame as stored: the tag moved to the descriptor when VME (3.2.3, special), padding
     * to the wire's minimum, the FCS unless SECRC strips it. Sized first, so a frame that does
     * not fit costs nothing. */
    bool strip = (e->ctrl & E1000_CTRL_VME) && len >= ETH_HLEN + VLAN_HLEN &&
                 get_be16(frame + ETH_TYPE_OFF) == (e->vet & 0xFFFF);
    size_t body = strip ? len - VLAN_HLEN : len;
    size_t n = MAX(body, (size_t)ETH_ZLEN - (strip ? VLAN_HLEN : 0));
    size_t store = n + (e->rctl & E1000_RCTL_SECRC ? 0 : E1000_FCS_LEN);
    unsigned ring = ring_size(e->rdlen);
    size_t bufsize = rx_bufsize(e->rctl);
    unsigned need = (unsigned)((store + bufsize - 1) / bufsize);
    if (need > ring - 1) {                  /* could never fit, not even in an empty ring */
        rx_count_seen(e, wire);
        e->rx_too_long++;
        return E1000_RX_DROPPED;
    }
    unsigned avail = rx_free(e);
    if (avail < need)
        return E1000_RX_NO_BUFFER;          /* nothing counted: the caller may retry */

    uint16_t tci = strip ? get_be16(frame + ETH_HLEN) : 0;
    uint8_t *b = e->rx_buf;
    if (strip) {
        memcpy(b, frame, 2 * ETH_ALEN);
        memcpy(b + 2 * ETH_ALEN, frame + ETH_HLEN + 2, len - ETH_HLEN - 2);
    } else {
        memcpy(b, frame, len);
    }
    memset(b + body, 0, n - body);
    if (store > n)
        put_le32(b + n, fcs(b, n));         /* sent least significant byte first */
    rx_count_seen(e, wire);
    uint64_t base = (uint64_t)e->rdbah << 32 | e->rdbal;
    uint64_t bufs[E1000_RX_MAX_DESCS];
    unsigned idx = e->rdh;
    for (unsigned i = 0; i < need; i++) {   /* fetch every descriptor before writing anything */
        uint8_t a[8];
        if (!dma_read(e->dma, base + (uint64_t)idx * E1000_DESC_SIZE, a, sizeof(a))) {
            e->rx_dma_errors++;
            return E1000_RX_DROPPED;
        }
        bufs[i] = get_le64(a);
        idx = (idx + 1) % ring;
    }
    bool lost = false;
    size_t off = 0;
    for (unsigned i = 0; i < need; i++) {
        size_t chunk = MIN(bufsize, store - off);
        if (!lost && !dma_write(e->dma, bufs[i], b + off, chunk))
            lost = true;
        off += chunk;
    }
    /* The packet checksum (3.2.3): the ones'-complement sum from RXCSUM.PCSS to the frame's
     * end, unadjusted, in the last descriptor. */
    unsigned pcss = e->rxcsum & E1000_RXCSUM_PCSS_MASK;
    uint16_t csum = pcss < n ? (uint16_t)csum_add(0, b + pcss, n - pcss) : 0;
    idx = e->rdh;
    off = 0;
    bool wb_failed = false;
    for (unsigned i = 0; i < need; i++) {
        size_t chunk = MIN(bufsize, store - off);
        bool last = i + 1 == need;
        uint8_t wb[8];
        put_le16(wb, (uint16_t)chunk);
        put_le16(wb + 2, last ? csum : 0);
        wb[4] = (uint8_t)(E1000_RXD_STAT_DD | E1000_RXD_STAT_IXSM |
                          (last ? E1000_RXD_STAT_EOP : 0) | (last && strip ? E1000_RXD_STAT_VP : 0));
        wb[5] = last && lost ? E1000_RXD_ERR_RXE : 0;
        put_le16(wb + 6, last ? tci : 0);
        if (!dma_write(e->dma, base + (uint64_t)idx * E1000_DESC_SIZE + E1000_RXD_LENGTH, wb, sizeof(wb)))
            wb_failed = true;
        off += chunk;
        idx = (idx + 1) % ring;
    }
    e->rdh = idx;

    /* RXDMT0 when the free descriptors fall to RCTL.RDMTS of the ring (13.4, RCTL); 11b is
     * reserved and taken as 1/16. */
    unsigned thresh = ring >> (((e->rctl & E1000_RCTL_RDMTS_MASK) >> E1000_RCTL_RDMTS_SHIFT) + 1);
    if (avail > thresh && avail - need <= thresh)
        raise_cause(e, E1000_ICR_RXDMT0);
    rx_timer_packet(e);
    if ((e->rsrpd & E1000_RSRPD_SIZE_MASK) && store < (e->rsrpd & E1000_RSRPD_SIZE_MASK))
        raise_cause(e, E1000_ICR_SRPD);
    if (lost || wb_failed) {
        e->rx_dma_errors++;
        return E1000_RX_DROPPED;
    }
    stat_add(e, E1000_GPRC, 1);
    stat_add64(e, E1000_GORCL, wire);
    uint32_t bucket = size_bucket(E1000_PRC64, wire);
    if (bucket)
        stat_add(e, bucket, 1);
    if (is_broadcast(frame))
        stat_add(e, E1000_BPRC, 1);
    else if (frame[0] & 1)
        stat_add(e, E1000_MPRC, 1);
    e->rx_frames++;
    e->rx_bytes += len;
    return E1000_RX_OK;
}

enum e1000_rx_result e1000_receive(struct e1000 *e, const uint8_t *frame, size_t len)
{
    advance(e);
    enum e1000_rx_result r = rx_frame(e, frame, len);
    sync_deadline(e);
    return r;
}

void e1000_rx_missed(struct e1000 *e)
{
    advance(e);
    stat_add(e, E1000_MPC, 1);
    e->rx_missed++;
    raise_cause(e, E1000_ICR_RXO);
    sync_deadline(e);
}

void e1000_set_link(struct e1000 *e, bool up)
{
    advance(e);
    e->wire_up = up;
    update_link(e, false);
    sync_deadline(e);
}

/* ---- the timer registry ----------------------------------------------------------------- */

uint64_t e1000_timer_next(void *dev)
{
    return next_event(dev);
}

/* The registry asks for the deadline right after: no move is signalled from here. */
void e1000_timer_catch_up(void *dev)
{
    struct e1000 *e = dev;
    advance(e);
    e->deadline = next_event(e);
}
