/* Intel 82540EM Gigabit Ethernet controller ("e1000", PCI 8086:100E), from the PCI/PCI-X
 * Family of Gigabit Ethernet Controllers Software Developer's Manual (SDM, 317453 rev 4.0)
 * and what Linux's e1000 driver does to one. Register and descriptor layouts: e1000_regs.h.
 *
 * Modelled: BAR0 registers and the BAR1 I/O window (IOADDR/IODATA); the 64-word 93C46
 * EEPROM, read through EERD or bit-banged Microwire on EECD (READ, EWEN/EWDS, WRITE, ERASE,
 * ERAL, WRAL), with the MAC at words 0-2 loaded into RAL0/RAH0 on every reset; an M88E1011
 * PHY behind MDIC (address 1), link up at 1000 Mb/s full duplex, autonegotiation completing
 * at once; interrupts ICR/ICS/IMS/IMC with INTA# = (ICR & IMS) != 0, throttled by ITR, with
 * RXT0 delayed by RDTR/RADV and TXDW by TIDV/TADV, all through the one deadline
 * e1000_timer_next reports; transmit with legacy, context and data descriptors, IP/TCP/UDP
 * checksum insertion, TCP/UDP segmentation (TSO) and 802.1Q tag insertion; receive into legacy
 * descriptors with the RAL/RAH, MTA, broadcast, promiscuous and VLAN filters, 802.1Q tag
 * stripping, packets spanning buffers, RXDMT0; the statistics block.
 * Not modelled: flow control (no PAUSE frames are sent or honoured), loopback modes, wakeup
 * and manageability filters (the registers only hold values), collisions and half duplex,
 * receive checksum offload (descriptors carry IXSM: the guest checks checksums itself),
 * descriptor prefetch/write-back thresholds (write-back is immediate), the TX/RX FIFOs.
 *
 * What the guest can get wrong, and what happens (never a read or write outside its RAM, never
 * unbounded work per call):
 *  - A descriptor ring outside RAM: RX drops the frame (rx_dma_errors), RDH stays; TX counts
 *    tx_dma_errors, consumes the descriptor and drops the packet it belonged to.
 *  - A buffer outside RAM: TX drops that packet (tx_dma_errors) but completes its descriptors
 *    (DD where RS); RX still consumes the descriptors, writes them back with RXE on the last
 *    one (the driver discards the frame) and counts rx_dma_errors.
 *  - RDLEN/TDLEN 0, or a head or tail not inside the ring: nothing is fetched; RX drops and
 *    counts rx_bad_ring, TX stalls and counts tx_bad_ring (e1000_tx_pending is then false).
 *  - A packet larger than E1000_MAX_TX_PACKET (TSO) or E1000_TX_MAX_FRAME (otherwise), or a
 *    TSO segment larger than E1000_TX_MAX_FRAME: dropped, tx_oversize.
 *  - A TSO context with MSS 0, HDRLEN 0 or past the packet, more than E1000_TSO_MAX_SEGS
 *    segments, no TSO context, an unknown descriptor type, a frame shorter than 14 bytes:
 *    dropped, tx_bad_desc (and TSCTFC for TSO). Checksum or header offsets past the frame: that
 *    field is left alone.
 *  - Register values the SDM calls reserved (BSIZE 00b with BSEX, RDMTS 11b, TIDV 0) get the
 *    nearest sensible meaning (2048 bytes, 1/16 of the ring, no delay).
 *  - Unknown registers read 0 and ignore writes; those, writes to read-only registers,
 *    sub-dword writes and misaligned accesses are counted in bad_accesses.
 *
 * Receive lengths: with RCTL.SECRC clear (what Linux's e1000 programs) the model stores a
 * computed FCS after the frame and reports the length with it, as the hardware does; Linux
 * strips those 4 bytes itself. Frames shorter than 60 bytes are zero-padded to 60, as they
 * would be on the wire.
 *
 * The glue owns the PCI function: ids below, BAR0 memory of E1000_MMIO_SIZE, BAR1 I/O of
 * E1000_IO_SIZE, INTA#, and it serialises every call into one struct e1000. */
#ifndef MV_E1000_H
#define MV_E1000_H
#include "compiler.h"
#include "dev/dma.h"
#include "dev/devclock.h"
#include "dev/e1000_regs.h"

#define E1000_PCI_VENDOR 0x8086
#define E1000_PCI_DEVICE_82540EM 0x100E
#define E1000_PCI_SUBSYS_VENDOR 0x8086
#define E1000_PCI_SUBSYS_ID 0x001E          /* the PRO/1000 MT Desktop adapter's */
#define E1000_PCI_REVISION 0x03              /* what QEMU reports; drivers ignore it */
#define E1000_PCI_CLASS 0x020000u           /* network controller, Ethernet */
#define E1000_PCI_INT_PIN 1                 /* INTA# */
#define E1000_MMIO_SIZE 0x20000u        /* BAR0, 128 KiB */
#define E1000_IO_SIZE   8u              /* BAR1: IOADDR at 0, IODATA at 4 (SDM 13.2) */
#define E1000_CLOCK_HZ  1000000000u     /* the model's clock: ns */
/* largest TSO packet assembled (bigger: dropped, counted) */
#define E1000_MAX_TX_PACKET (64u * 1024 + 256)
#define E1000_TX_MAX_FRAME  16384u      /* largest frame sent (without a tag inserted) */
#define E1000_TSO_MAX_SEGS  2048u       /* a TSO packet cutting into more is refused */
#define E1000_RX_MAX_FRAME  16384u      /* largest frame e1000_receive takes (no FCS) */
#define E1000_RX_MIN_FRAME  14u
#define E1000_RX_MAX_STORE  (E1000_RX_MAX_FRAME + E1000_FCS_LEN)
/* descriptors one frame may span: the largest stored frame in 256-byte buffers */
#define E1000_RX_MAX_DESCS  ((E1000_RX_MAX_STORE + 255u) / 256u)

/* Any hook may be NULL; a NULL tx_kick makes the TDT write run e1000_tx_process itself. */
struct e1000_hooks {
    void (*set_irq)(void *ctx, bool level);   /* INTA# level, called on changes only */
    /* TDT written with TCTL.EN set and descriptors pending: the glue calls e1000_tx_process
     * now (event-driven) or later (polled) */
    void (*tx_kick)(void *ctx);
    /* RDT written: the guest gave receive buffers (the glue may deliver frames it held back);
     * also when RCTL.EN is set */
    void (*rx_kick)(void *ctx);
    /* one Ethernet frame leaves (no FCS); called from e1000_tx_process only. It may call
     * e1000_receive on this same device (a switch's hairpin): the buffers are separate. */
    void (*tx_frame)(void *ctx, const uint8_t *frame, size_t len);
};

/* One offload context (SDM 3.3.5-3.3.6): the TSO one and the normal checksum one are kept
 * apart, as data descriptors choose between them with DCMD.TSE. */
struct e1000_tx_ctx {
    bool valid;
    uint8_t ipcss, ipcso, tucss, tucso, hdrlen;
    uint16_t ipcse, tucse, mss;
    uint32_t paylen;
    uint32_t tucmd;                 /* the context's lower-dword command bits (TCP, IP, TSE) */
};

struct e1000 {
    const struct dma_ops *dma;
    struct e1000_hooks hooks;
    void *ctx;
    struct dev_clock clock;         /* ns */
    uint8_t mac[6];

    /* registers, as the guest reads them (pba holds RXA only; STATUS and EECD are computed) */
    uint32_t ctrl, ctrl_ext, eerd, mdic, fcal, fcah, fct, vet, fcttv, txcw;
    uint32_t icr, itr, ims;
    uint32_t rctl, tctl, tipg, ait, ledctl, pba, fcrtl, fcrth;
    uint32_t rdbal, rdbah, rdlen, rdh, rdt, rdtr, radv, rxdctl, rsrpd, rxcsum;
    uint32_t tdbal, tdbah, tdlen, tdh, tdt, tidv, tadv, txdctl, tspmt, txdmac;
    uint32_t wuc, wufc, wus, manc, ipav;
    uint32_t mta[E1000_MTA_ENTRIES], ra[2 * E1000_RA_ENTRIES], vfta[E1000_VFTA_ENTRIES];
    uint32_t stats[(E1000_STATS_END - E1000_STATS_BASE) / 4];
    uint32_t ioaddr;

    /* EEPROM and its Microwire interface */
    uint16_t eeprom[E1000_EEPROM_WORDS];
    uint32_t eecd;                  /* SK, CS, DI, FWE, REQ as written */
    uint8_t ee_state, ee_bits, ee_addr, ee_outbit;
    uint16_t ee_shift;
    bool ee_do, ee_write_enabled, ee_wral;

    /* PHY */
    uint16_t phy[E1000_PHY_REGS];
    bool phy_in_reset;              /* CTRL.PHY_RST held */
    bool wire_up;                   /* a cable: e1000_set_link */
    bool link_up;                   /* as STATUS.LU last reported */

    /* interrupts and moderation, in clock ticks (UINT64_MAX: not running) */
    bool irq_level;
    bool itr_asserted_once;
    uint64_t itr_last;              /* when INTA# last rose */
    uint64_t rx_pkt_at, rx_abs_at, tx_pkt_at, tx_abs_at;
    uint64_t deadline;              /* what e1000_timer_next said last */

    /* transmit: the packet being assembled */
    struct e1000_tx_ctx tso_ctx, csum_ctx;
    size_t tx_len;
    bool tx_started, tx_drop, tx_tse, tx_legacy, tx_vle, tx_ic;
    uint8_t tx_popts, tx_css, tx_cso;
    uint16_t tx_vlan;
    uint8_t tx_buf[4 + E1000_MAX_TX_PACKET + 64];   /* 4 bytes headroom for a tag */
    uint8_t tx_seg[4 + E1000_TX_MAX_FRAME + 64];    /* one TSO segment */
    uint8_t rx_buf[E1000_RX_MAX_STORE + 64];        /* the frame as it is stored */

    /* counters (kept across resets) */
    uint64_t tx_frames, tx_bytes, tx_packets, tso_packets;
    uint64_t rx_frames, rx_bytes;
    uint64_t rx_filtered;           /* rejected by the filters (not a drop) */
    uint64_t rx_dma_errors, rx_too_long, rx_bad_ring, rx_bad_len, rx_no_link, rx_missed;
    uint64_t tx_dma_errors, tx_bad_desc, tx_oversize, tx_bad_ring, tx_no_link;
    uint64_t interrupts;            /* INTA# assertions */
    uint64_t bad_accesses;
    uint64_t tx_kicks, rx_kicks, resets;
};

/* ends in the power-on state (e1000_reset); the EEPROM is built from mac */
void e1000_init(struct e1000 *e, const uint8_t mac[6], const struct dma_ops *dma,
                const struct e1000_hooks *hooks, void *ctx,
                uint64_t (*clock)(void *), void *clock_ctx);
void e1000_reset(struct e1000 *e);                 /* power-on / PCI reset; counters in struct kept */
/* off < E1000_MMIO_SIZE, size 1/2/4 (8 never). Reads of any aligned size; writes dwords only. */
uint32_t e1000_mmio_read(struct e1000 *e, uint32_t off, unsigned size);
void e1000_mmio_write(struct e1000 *e, uint32_t off, unsigned size, uint32_t val);
uint32_t e1000_io_read(struct e1000 *e, unsigned off, unsigned size);
void e1000_io_write(struct e1000 *e, unsigned off, unsigned size, uint32_t val);
/* Consumes up to `budget` transmit descriptors (TDH toward TDT), emitting each finished frame
 * through hooks->tx_frame (TSO packets as several frames), writing back DD where RS asks, and
 * raising TXDW/TXQE per the moderation rules. No further descriptor is fetched once `budget`
 * frames have left (a TSO packet finishes: at most E1000_TSO_MAX_SEGS more). Returns
 * descriptors consumed. */
unsigned e1000_tx_process(struct e1000 *e, unsigned budget);
/* TCTL.EN and TDH != TDT (and a ring whose head and tail are inside it: a stalled ring is not
 * pending, so a polling glue does not spin on it) */
bool e1000_tx_pending(const struct e1000 *e);
enum e1000_rx_result { E1000_RX_OK, E1000_RX_FILTERED, E1000_RX_NO_BUFFER, E1000_RX_DROPPED };
/* A frame (no FCS, 14..16384 bytes) arrives from the wire. FILTERED: the receive filters
 * rejected it (not counted as a drop). NO_BUFFER: RCTL.EN off or not enough free descriptors
 * right now (the caller may hold it and retry after rx_kick); the model counts nothing for it.
 * DROPPED: it was lost (a descriptor/buffer outside RAM, bad ring, too long, link down): counted. */
enum e1000_rx_result e1000_receive(struct e1000 *e, const uint8_t *frame, size_t len);
/* RCTL.EN and at least one free descriptor (and the link up, the ring valid) */
bool e1000_can_receive(const struct e1000 *e);
/* Interrupt moderation for the timer registry (dev_timer.next / .catch_up; hz E1000_CLOCK_HZ):
 * next returns the clock tick of the next delayed interrupt (ITR, RDTR/RADV, TIDV/TADV) or
 * UINT64_MAX; catch_up raises what is due. The model calls dev_clock_moved(&e->clock) when that
 * deadline changes; the glue wires it with dev_clock_on_move. Delay timers of causes IMS masks
 * ask for no wakeup: every entry point fires what is due first, so ICR is exact anyway. */
uint64_t e1000_timer_next(void *e);
void e1000_timer_catch_up(void *e);

/* Additions. The glue gives up on a frame it held after NO_BUFFER: the MAC counts it as missed
 * (MPC) and raises RXO, as a receive FIFO overrun does (SDM 13.7, MPC). */
void e1000_rx_missed(struct e1000 *e);
/* The cable: down drops the link (STATUS.LU, PHY status, LSC); up brings it back. Frames
 * received or sent while the link is down are dropped (rx_no_link, tx_no_link). */
void e1000_set_link(struct e1000 *e, bool up);
#endif
