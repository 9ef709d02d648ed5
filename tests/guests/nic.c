/* nic: two NICs driven as a minimal driver drives them, then programmed as a hostile one: an
 * Intel 82540EM (8086:100E, PCI 00:03.0: BAR0 128 KiB memory, BAR1 the IOADDR/IODATA window,
 * INTA#), per the PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's Manual
 * (8254x SDM), and a legacy virtio-net (1AF4:1000 revision 0, subsystem id 1, PCI 00:08.0:
 * BAR0 the legacy I/O header of Virtio 1.1 4.1.4.8, queue 0 receive, queue 1 transmit, the
 * legacy ring layout of 2.6.2, a 10-byte virtio_net_hdr before every frame).
 *
 * The two NICs are on one segment: natively on one QEMU hub (scripts/run-qemu --nic-hub), in
 * monovisor ports of its switch (nic=e1000,virtio), so a broadcast frame one sends reaches the
 * other. Every test frame is a broadcast of EtherType 0x88B5 with a 200-byte payload that
 * starts "MVNT" and a tag no other frame has; a receiver skips whatever else arrives (frames a
 * device held while the other side was not ready, the zero-filled frames QEMU makes of buffers
 * outside RAM).
 *
 * The firmware (SeaBIOS natively, monovisor's own nested) assigns the BARs and INTERRUPT_LINE;
 * the guest reads them and enables I/O, memory and bus mastering. Everything the guest gives a
 * device is in its own RAM (static buffers below), except the addresses the hostile sub-tests
 * aim outside it on purpose. What a device does with those is implementation-defined; the
 * sub-tests check only that the guest never hangs and that the devices work again after a
 * reset and reprogramming, which real hardware, QEMU and monovisor's models must all do.
 *
 * Every wait is bounded: register polls by an iteration count, device work by ticks of a
 * 100 Hz PIT (STI; HLT). Only the PIT's line is unmasked at the 8259, except the e1000's in
 * e1000_irq; IF is 0 outside the waits. QEMU's e1000 holds received frames for 1 s after each
 * RCTL write (its flush_queue_timer), so receive waits allow 3 s. */
#include "guest.h"
#include "pic.h"
#include "isa.h"
#include "hostile.h"
#include "fwcfg.h"

const char guest_name[] = "nic";

/* ---- PCI configuration mechanism #1 ---- */
#define PCI_ADDR        0xcf8
#define PCI_DATA        0xcfc
#define PCI_ENABLE      0x80000000u
#define E1000_SLOT      3
#define VNET_SLOT       8
#define CFG_ID          0x00
#define CFG_COMMAND     0x04
#define CFG_CLASS       0x08    /* revision, prog-if, subclass, class */
#define CFG_BAR0        0x10
#define CFG_BAR1        0x14
#define CFG_SUBSYS      0x2c    /* subsystem vendor, subsystem id */
#define CFG_INTR        0x3c    /* interrupt line, interrupt pin */
#define CMD_IO          (1u << 0)
#define CMD_MEM         (1u << 1)
#define CMD_MASTER      (1u << 2)
#define BAR_IO          0x1u
#define BAR_MEM_TYPE    0x6u    /* 00: 32-bit */
#define BAR_IO_MASK     0xfffffffcu
#define BAR_MEM_MASK    0xfffffff0u
#define CLASS_NETWORK   0x02
#define SUBCLASS_ETHERNET 0x00
#define PIN_INTA        1
#define ID_82540EM      0x100e8086u
#define ID_VIRTIO_NET   0x10001af4u     /* transitional network device */
#define VIRTIO_SUBSYS_NET 1             /* virtio device type 1: network */
#define E1000_BAR0_SIZE 0x20000u
#define E1000_IO_MIN    8u              /* IOADDR, IODATA */
#define VNET_IO_MIN     0x20u           /* the 20-byte header and the 8-byte config */

/* ---- 82540EM registers (SDM 13.4) ---- */
#define E_CTRL          0x0000
#define E_STATUS        0x0008
#define E_EECD          0x0010
#define E_EERD          0x0014
#define E_CTRL_EXT      0x0018
#define E_MDIC          0x0020
#define E_VET           0x0038
#define E_ICR           0x00c0
#define E_ITR           0x00c4
#define E_ICS           0x00c8
#define E_IMS           0x00d0
#define E_IMC           0x00d8
#define E_RCTL          0x0100
#define E_TCTL          0x0400
#define E_TIPG          0x0410
#define E_PBA           0x1000
#define E_RDBAL         0x2800
#define E_RDBAH         0x2804
#define E_RDLEN         0x2808
#define E_RDH           0x2810
#define E_RDT           0x2818
#define E_RDTR          0x2820
#define E_RXDCTL        0x2828
#define E_RADV          0x282c
#define E_TDBAL         0x3800
#define E_TDBAH         0x3804
#define E_TDLEN         0x3808
#define E_TDH           0x3810
#define E_TDT           0x3818
#define E_TIDV          0x3820
#define E_TXDCTL        0x3828
#define E_TADV          0x382c
#define E_CRCERRS       0x4000          /* the statistics, clear on read */
#define E_GORCH         0x408c
#define E_TORH          0x40c4
#define E_RXCSUM        0x5000
#define E_MTA           0x5200          /* 128 dwords */
#define E_MTA_ENTRIES   128
#define E_RAL0          0x5400
#define E_RAH0          0x5404
#define E_VFTA          0x5600
#define E_WUC           0x5800
#define E_MANC          0x5820
#define E_MMIO_SIZE     0x20000u
#define E_IOADDR        0               /* BAR1: IOADDR selects the register IODATA reaches */
#define E_IODATA        4
#define E_IO_WINDOW     8u

#define CTRL_FD         (1u << 0)
#define CTRL_ASDE       (1u << 5)
#define CTRL_SLU        (1u << 6)
#define CTRL_RST        (1u << 26)      /* self-clearing */
#define STATUS_LU       (1u << 1)
#define EERD_START      (1u << 0)
#define EERD_DONE       (1u << 4)
#define EERD_ADDR_SHIFT 8
#define EERD_DATA_SHIFT 16
#define EEPROM_WORDS    64
#define EEPROM_SUM      0xbabau         /* words 0x00-0x3f add up to this (SDM 5.6.x) */
#define MDIC_REG_SHIFT  16
#define MDIC_PHY_SHIFT  21
#define MDIC_OP_WRITE   (1u << 26)
#define MDIC_OP_READ    (2u << 26)
#define MDIC_READY      (1u << 28)
#define MDIC_ERROR      (1u << 30)
#define PHY_ADDR        1               /* the internal PHY */
#define PHY_BMCR        0
#define PHY_BMSR        1
#define PHY_ID1         2
#define PHY_ID2         3
#define BMCR_DEFAULT    0x1140u         /* autonegotiation, full duplex, 1000 Mb/s */
#define BMSR_LINK       0x0004u
#define PHY_ID1_M88     0x0141u
#define PHY_ID2_M88E1011 0x0c20u
#define PHY_ID2_MODEL   0xfff0u         /* without the revision nibble */
#define ICR_RXT0        (1u << 7)
#define ICR_SRPD        (1u << 16)      /* a cause nothing here raises but ICS */
#define RCTL_EN         (1u << 1)
#define RCTL_BAM        (1u << 15)
#define RCTL_SZ_2048    0u
#define RCTL_SECRC      (1u << 26)      /* strip the CRC: the length excludes it (SDM 3.2.3) */
#define TCTL_EN         (1u << 1)
#define TCTL_PSP        (1u << 3)
#define TCTL_CT         (0x0fu << 4)
#define TCTL_COLD       (0x40u << 12)
#define TIPG_DEFAULT    (10u | 8u << 10 | 6u << 20)
#define RAH_AV          (1u << 31)
#define ETH_P_VLAN      0x8100u
#define XDLEN_MAX       0xfff80u        /* the largest RDLEN/TDLEN: 65528 descriptors */

/* Descriptors (SDM 3.2.3, 3.3.3), little-endian, 16 bytes. */
struct e_txd {
	u64 addr;
	u16 length;
	u8 cso, cmd, status, css;
	u16 special;
} __attribute__((packed));
struct e_rxd {
	u64 addr;
	u16 length, csum;
	u8 status, errors;
	u16 special;
} __attribute__((packed));
#define TXD_EOP         0x01
#define TXD_IFCS        0x02
#define TXD_RS          0x08
#define TXD_DD          0x01
#define RXD_DD          0x01
#define RXD_EOP         0x02

/* ---- legacy virtio PCI (Virtio 1.1 4.1.4.8) and virtio-net (5.1) ---- */
#define VIO_HOST_FEATURES 0x00
#define VIO_GUEST_FEATURES 0x04
#define VIO_QUEUE_PFN   0x08
#define VIO_QUEUE_NUM   0x0c
#define VIO_QUEUE_SEL   0x0e
#define VIO_QUEUE_NOTIFY 0x10
#define VIO_STATUS      0x12
#define VIO_ISR         0x13
#define VIO_CONFIG      0x14            /* MSI-X is never enabled here */
#define VIO_S_ACK       0x01
#define VIO_S_DRIVER    0x02
#define VIO_S_DRIVER_OK 0x04
#define VNET_F_MAC      (1u << 5)
#define VNET_F_STATUS   (1u << 16)
#define VNET_RXQ        0
#define VNET_TXQ        1
#define VNET_HDR_LEN    10
#define VQ_MAX          256
#define VQ_ALIGN        4096u
#define VQ_PAGES        3               /* desc 4096 + avail 518, padded, + used 2054 */
#define VRING_F_NEXT    1
#define VRING_F_WRITE   2
#define VRING_AVAIL_NO_INTERRUPT 1      /* 2.6.7: the driver polls */
#define PFN_FAR         0x100000u       /* 4 GiB: past any RAM here */
#define FW_CFG_RAM_SIZE 0x0003          /* u64: the RAM below 4 GiB and above */

struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags, next;
} __attribute__((packed));
struct vring_used_elem {
	u32 id, len;
};

/* ---- test frames ---- */
#define ETH_ALEN        6
#define ETH_HLEN        14
#define ETH_TYPE_TEST_HI 0x88           /* 0x88B5: IEEE 802 local experimental EtherType 1 */
#define ETH_TYPE_TEST_LO 0xb5
#define PAYLOAD_LEN     200
#define FRAME_LEN       (ETH_HLEN + PAYLOAD_LEN)
#define TAG_OFF         (ETH_HLEN + 4)

/* ---- time ---- */
#define IRQ_PIT         0
#define TICK_HZ         100
#define TX_TICKS        (1 * TICK_HZ)
#define RX_TICKS        (3 * TICK_HZ)
#define LINK_TICKS      (3 * TICK_HZ)
#define HOSTILE_TICKS   5               /* what a bad ring is given to go wrong in */
#define POLL_LIMIT      100000u

/* Addresses outside any RAM here (16 MiB natively and nested). */
#define FAR32           0xf0000000ull
#define FAR64           0x7ffffffff000ull

/* ---- memory given to the devices ---- */
#define E_TX_DESCS      16
#define E_RX_DESCS      16
#define E_BUF_SIZE      2048u
#define VNET_RX_BUFS    16
#define VNET_BUF_SIZE   2048u
#define VNET_TX_SLOTS   8               /* descriptors 2n (header) and 2n+1 (frame) */

static volatile struct e_txd e_tx_ring[E_TX_DESCS] ALIGNED(4096);
static volatile struct e_rxd e_rx_ring[E_RX_DESCS] ALIGNED(4096);
static u8 e_tx_buf[E_TX_DESCS][E_BUF_SIZE] ALIGNED(64);
static u8 e_rx_buf[E_RX_DESCS][E_BUF_SIZE] ALIGNED(64);
static u8 vq_mem[2][VQ_PAGES * 4096] ALIGNED(4096);
static u8 vnet_rx_buf[VNET_RX_BUFS][VNET_BUF_SIZE] ALIGNED(64);
static u8 vnet_tx_hdr[VNET_TX_SLOTS][16] ALIGNED(16);
static u8 vnet_tx_buf[VNET_TX_SLOTS][VNET_BUF_SIZE] ALIGNED(64);
static u8 expect[FRAME_LEN];

/* ---- driver state ---- */
static bool have_nics, e_ready, v_ready, have_e_mac, have_v_mac;
static u32 e_base;                      /* BAR0 */
static u16 e_io, v_io;                  /* e1000 BAR1, virtio BAR0 */
static u32 v_io_size;
static u8 e_irq_line, v_irq_line;
static u8 e_mac[ETH_ALEN], v_mac[ETH_ALEN];
static unsigned e_tx_tail, e_rx_next;   /* TDT as last written; next receive descriptor */
static u32 tag_seq;

struct vq {
	u16 num;
	volatile struct vring_desc *desc;
	volatile u16 *avail;            /* flags, idx, ring[num], used_event */
	volatile u16 *used;             /* flags, idx, then the elements */
	volatile struct vring_used_elem *used_ring;
	u16 avail_idx, used_seen;       /* free-running, as the device sees them */
};
static struct vq vq[2];

static volatile u32 pit_ticks, e_irqs, e_irq_icr;

/* ---- PCI ---- */

static u32 cfg_addr(unsigned slot, unsigned off)
{
	return PCI_ENABLE | (u32)slot << 11 | (off & 0xfc);
}
static u32 cfg_read32(unsigned slot, unsigned off)
{
	outl(PCI_ADDR, cfg_addr(slot, off));
	return inl(PCI_DATA);
}
static u16 cfg_read16(unsigned slot, unsigned off)
{
	outl(PCI_ADDR, cfg_addr(slot, off));
	return inw((u16)(PCI_DATA + (off & 2)));
}
static void cfg_write32(unsigned slot, unsigned off, u32 v)
{
	outl(PCI_ADDR, cfg_addr(slot, off));
	outl(PCI_DATA, v);
}
static void cfg_write16(unsigned slot, unsigned off, u16 v)
{
	outl(PCI_ADDR, cfg_addr(slot, off));
	outw((u16)(PCI_DATA + (off & 2)), v);
}

/* The size a BAR decodes: all ones written with decoding off, then the old value back. */
static u32 bar_size(unsigned slot, unsigned off, bool io)
{
	u16 cmd = cfg_read16(slot, CFG_COMMAND);
	cfg_write16(slot, CFG_COMMAND, (u16)(cmd & ~(CMD_IO | CMD_MEM)));
	u32 old = cfg_read32(slot, off);
	cfg_write32(slot, off, 0xffffffffu);
	u32 v = cfg_read32(slot, off);
	cfg_write32(slot, off, old);
	cfg_write16(slot, CFG_COMMAND, cmd);
	v = io ? (v & BAR_IO_MASK) | 0xffff0000u : v & BAR_MEM_MASK;    /* I/O: 16 address bits */
	return v ? ~v + 1 : 0;
}

/* ---- register access ---- */

static u32 er(u32 off)
{
	u32 v = *(volatile u32 *)(uintptr_t)(e_base + off);
	barrier();
	return v;
}
static void ew(u32 off, u32 v)
{
	barrier();                      /* descriptors and buffers first */
	*(volatile u32 *)(uintptr_t)(e_base + off) = v;
}

/* Accesses of a given width at any alignment, for the storm. */
static void mmio_write(uintptr_t a, unsigned w, u32 v)
{
	if (w == 1)
		__asm__ volatile("movb %b0, (%1)" : : "q"(v), "r"(a) : "memory");
	else if (w == 2)
		__asm__ volatile("movw %w0, (%1)" : : "r"(v), "r"(a) : "memory");
	else
		__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(a) : "memory");
}
static u32 mmio_read(uintptr_t a, unsigned w)
{
	u32 v;
	if (w == 1) {
		u8 b;
		__asm__ volatile("movb (%1), %0" : "=q"(b) : "r"(a) : "memory");
		v = b;
	} else if (w == 2) {
		u16 h;
		__asm__ volatile("movw (%1), %0" : "=r"(h) : "r"(a) : "memory");
		v = h;
	} else {
		__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
	}
	return v;
}
static void port_write(u16 port, unsigned w, u32 v)
{
	if (w == 1)
		outb(port, (u8)v);
	else if (w == 2)
		outw(port, (u16)v);
	else
		outl(port, v);
}
static u32 port_read(u16 port, unsigned w)
{
	return w == 1 ? inb(port) : w == 2 ? inw(port) : inl(port);
}

/* ---- interrupts and time ---- */

static bool pit_handler(struct exc_frame *f __attribute__((unused)))
{
	pit_ticks++;
	pic_eoi(IRQ_PIT);
	return true;
}

/* Reading ICR drops INTA# (SDM 13.4.17) before the EOI, so a level-triggered line does not
 * come straight back. A virtio-net on the same line is quieted too (its ISR read). */
static bool e1000_handler(struct exc_frame *f __attribute__((unused)))
{
	e_irq_icr |= er(E_ICR);
	e_irqs++;
	if (v_irq_line == e_irq_line)
		(void)inb((u16)(v_io + VIO_ISR));
	pic_eoi(e_irq_line);
	return true;
}

/* The PIT's line, and line (if >= 0) with the cascade when it is on the slave. */
static void pic_set_masks(bool pit, int line)
{
	u8 m1 = 0xff, m2 = 0xff;
	if (pit)
		m1 &= (u8)~(1u << IRQ_PIT);
	if (line >= 8) {
		m2 &= (u8)~(1u << (line - 8));
		m1 &= (u8)~(1u << PIC_CASCADE_IRQ);
	} else if (line >= 0) {
		m1 &= (u8)~(1u << line);
	}
	outb(PIC1_DATA, m1);
	outb(PIC2_DATA, m2);
}

/* STI; HLT until done(arg) (checked at every wake-up) or ticks PIT ticks have passed. Returns
 * with IF=0; done may be NULL (a plain delay). */
static bool wait_until(bool (*done)(void *), void *arg, u32 ticks)
{
	u32 t0 = pit_ticks;
	for (;;) {
		cli();
		if (done && done(arg))
			return true;
		if (pit_ticks - t0 >= ticks)
			return false;
		__asm__ volatile("sti; hlt" : : : "memory");
	}
}

static void delay_ticks(u32 ticks)
{
	(void)wait_until(NULL, NULL, ticks);
}

/* ---- frames ---- */

static u32 new_tag(void)
{
	return 0x4e000000u | ++tag_seq;
}

static u8 pattern(u32 tag, unsigned i)
{
	return (u8)(tag * 29 + i * 7 + (i >> 5));
}

/* A broadcast from src: EtherType 0x88B5, "MVNT", the tag (LE), then the pattern. */
static void build_frame(u8 *f, const u8 *src, u32 tag)
{
	for (unsigned i = 0; i < ETH_ALEN; i++)
		f[i] = 0xff;
	memcpy(f + ETH_ALEN, src, ETH_ALEN);
	f[12] = ETH_TYPE_TEST_HI;
	f[13] = ETH_TYPE_TEST_LO;
	memcpy(f + ETH_HLEN, "MVNT", 4);
	for (unsigned i = 0; i < 4; i++)
		f[TAG_OFF + i] = (u8)(tag >> (8 * i));
	for (unsigned i = 8; i < PAYLOAD_LEN; i++)
		f[ETH_HLEN + i] = pattern(tag, i);
}

/* The tag of a test frame, or 0 for anything else. */
static u32 frame_tag(const u8 *f, u32 len)
{
	if (len < TAG_OFF + 4 || f[12] != ETH_TYPE_TEST_HI || f[13] != ETH_TYPE_TEST_LO ||
	    memcmp(f + ETH_HLEN, "MVNT", 4))
		return 0;
	return f[TAG_OFF] | (u32)f[TAG_OFF + 1] << 8 | (u32)f[TAG_OFF + 2] << 16 | (u32)f[TAG_OFF + 3] << 24;
}

static int frame_diff(const u8 *got, const u8 *want, u32 len)
{
	for (u32 i = 0; i < len; i++)
		if (got[i] != want[i])
			return (int)i;
	return -1;
}

/* What a receiver looks for, and what it found. */
struct rx_match {
	u32 tag;
	bool found;
	u32 skipped;
	u32 len;
	u8 status, errors;
	char err[120];
};

/* ---- e1000 ---- */

static bool mdic(u32 op, unsigned reg, u16 data, u16 *out)
{
	ew(E_MDIC, op | PHY_ADDR << MDIC_PHY_SHIFT | (u32)reg << MDIC_REG_SHIFT | data);
	for (u32 i = 0; i < POLL_LIMIT; i++) {
		u32 v = er(E_MDIC);
		if (v & MDIC_READY) {
			if (out)
				*out = (u16)v;
			return !(v & MDIC_ERROR);
		}
	}
	return false;
}

static bool eeprom_read(unsigned addr, u16 *w)
{
	ew(E_EERD, (u32)addr << EERD_ADDR_SHIFT | EERD_START);
	for (u32 i = 0; i < POLL_LIMIT; i++) {
		u32 v = er(E_EERD);
		if (v & EERD_DONE) {
			*w = (u16)(v >> EERD_DATA_SHIFT);
			return true;
		}
	}
	return false;
}

static bool e_link_up(void *arg __attribute__((unused)))
{
	return er(E_STATUS) & STATUS_LU;
}

/* CTRL.RST (SDM 13.4.1: self-clearing; wait before the next access), interrupts off. */
static bool e1000_reset(char *why, size_t n)
{
	ew(E_IMC, ~0u);
	ew(E_CTRL, CTRL_RST);
	u32 i = 0;
	while (i < POLL_LIMIT && (er(E_CTRL) & CTRL_RST))
		i++;
	if (i == POLL_LIMIT) {
		snprintf(why, n, "CTRL.RST does not clear");
		return false;
	}
	delay_ticks(1);
	ew(E_IMC, ~0u);
	(void)er(E_ICR);
	e_ready = false;
	return true;
}

static void e_rx_ring_fill(void)
{
	for (unsigned i = 0; i < E_RX_DESCS; i++) {
		e_rx_ring[i].addr = (uintptr_t)e_rx_buf[i];
		e_rx_ring[i].length = 0;
		e_rx_ring[i].csum = 0;
		e_rx_ring[i].status = 0;
		e_rx_ring[i].errors = 0;
		e_rx_ring[i].special = 0;
	}
}

static void e_tx_ring_clear(void)
{
	for (unsigned i = 0; i < E_TX_DESCS; i++) {
		e_tx_ring[i].addr = 0;
		e_tx_ring[i].length = 0;
		e_tx_ring[i].cso = e_tx_ring[i].cmd = e_tx_ring[i].status = e_tx_ring[i].css = 0;
		e_tx_ring[i].special = 0;
	}
}

/* Reset, then every register a driver relies on programmed, whatever it held before (QEMU's
 * CTRL.RST resets nothing): link up, the PHY out of loopback and power-down, no interrupt
 * delays, both rings in guest RAM, receive of broadcasts into 2 KiB buffers without the CRC. */
static bool e1000_setup(char *why, size_t n)
{
	if (!e1000_reset(why, n))
		return false;
	ew(E_CTRL, CTRL_FD | CTRL_ASDE | CTRL_SLU);
	if (!mdic(MDIC_OP_WRITE, PHY_BMCR, BMCR_DEFAULT, NULL)) {
		snprintf(why, n, "MDIC: the PHY control write failed (MDIC %08x)", er(E_MDIC));
		return false;
	}
	if (!wait_until(e_link_up, NULL, LINK_TICKS)) {
		snprintf(why, n, "no link within %u s (STATUS %08x)", LINK_TICKS / TICK_HZ, er(E_STATUS));
		return false;
	}
	ew(E_VET, ETH_P_VLAN);
	ew(E_ITR, 0);
	ew(E_RDTR, 0);
	ew(E_RADV, 0);
	ew(E_TIDV, 0);
	ew(E_TADV, 0);
	ew(E_RXCSUM, 0);
	for (unsigned i = 0; i < E_MTA_ENTRIES; i++)
		ew(E_MTA + 4 * i, 0);
	ew(E_TCTL, 0);
	ew(E_RCTL, 0);

	e_tx_ring_clear();
	ew(E_TDBAL, (uintptr_t)e_tx_ring);
	ew(E_TDBAH, 0);
	ew(E_TDLEN, sizeof(e_tx_ring));
	ew(E_TDH, 0);
	ew(E_TDT, 0);
	e_tx_tail = 0;
	ew(E_TIPG, TIPG_DEFAULT);
	ew(E_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);

	e_rx_ring_fill();
	ew(E_RDBAL, (uintptr_t)e_rx_ring);
	ew(E_RDBAH, 0);
	ew(E_RDLEN, sizeof(e_rx_ring));
	ew(E_RDH, 0);
	ew(E_RDT, 0);
	e_rx_next = 0;
	ew(E_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC | RCTL_SZ_2048);
	ew(E_RDT, E_RX_DESCS - 1);      /* all but one descriptor to the hardware */
	(void)er(E_ICR);
	if (!have_e_mac) {
		u32 ral = er(E_RAL0), rah = er(E_RAH0);
		for (unsigned i = 0; i < 4; i++)
			e_mac[i] = (u8)(ral >> (8 * i));
		e_mac[4] = (u8)rah;
		e_mac[5] = (u8)(rah >> 8);
		have_e_mac = true;
	}
	e_ready = true;
	return true;
}

static void e_tx_queue(u64 addr, u16 len, u8 cmd)
{
	volatile struct e_txd *d = &e_tx_ring[e_tx_tail];
	d->addr = addr;
	d->length = len;
	d->cso = 0;
	d->cmd = cmd;
	d->status = 0;
	d->css = 0;
	d->special = 0;
	e_tx_tail = (e_tx_tail + 1) % E_TX_DESCS;
}

static void e_tx_kick(void)
{
	ew(E_TDT, e_tx_tail);
}

struct tx_wait {
	unsigned first, count;
};

/* TDH reached TDT and every descriptor (all have RS) has DD. */
static bool e_tx_done(void *arg)
{
	const struct tx_wait *w = arg;
	if (er(E_TDH) != e_tx_tail)
		return false;
	for (unsigned i = 0; i < w->count; i++)
		if (!(e_tx_ring[(w->first + i) % E_TX_DESCS].status & TXD_DD))
			return false;
	return true;
}

/* Queues a copy of frame and waits for it to be sent. */
static bool e_send(const u8 *frame, u32 len, char *why, size_t n)
{
	struct tx_wait w = { e_tx_tail, 1 };
	memcpy(e_tx_buf[w.first], frame, len);
	e_tx_queue((uintptr_t)e_tx_buf[w.first], (u16)len, TXD_EOP | TXD_IFCS | TXD_RS);
	e_tx_kick();
	if (!wait_until(e_tx_done, &w, TX_TICKS)) {
		snprintf(why, n, "e1000 transmit: TDH %u TDT %u, descriptor status %02x after %u s",
			 er(E_TDH), e_tx_tail, e_tx_ring[w.first].status, TX_TICKS / TICK_HZ);
		return false;
	}
	return true;
}

/* Takes every received descriptor (DD), checks the one with the tag against expect, hands each
 * back (RDT = its index: the tail is exclusive, SDM 3.2.6). */
static bool e_rx_poll(void *arg)
{
	struct rx_match *m = arg;
	for (unsigned k = 0; k < E_RX_DESCS; k++) {
		volatile struct e_rxd *d = &e_rx_ring[e_rx_next];
		u8 status = d->status;
		if (!(status & RXD_DD))
			break;
		barrier();
		u32 len = d->length;
		const u8 *buf = e_rx_buf[e_rx_next];
		if (!m->found && frame_tag(buf, len) == m->tag) {
			m->found = true;
			m->len = len;
			m->status = status;
			m->errors = d->errors;
			int bad;
			if ((status & (RXD_DD | RXD_EOP)) != (RXD_DD | RXD_EOP))
				snprintf(m->err, sizeof(m->err), "descriptor status %02x: not DD and EOP", status);
			else if (d->errors)
				snprintf(m->err, sizeof(m->err), "descriptor errors %02x", d->errors);
			else if (len != FRAME_LEN)
				snprintf(m->err, sizeof(m->err), "length %u, expected %u (RCTL.SECRC: no CRC)",
					 len, FRAME_LEN);
			else if ((bad = frame_diff(buf, expect, FRAME_LEN)) >= 0)
				snprintf(m->err, sizeof(m->err), "received byte %d is %02x, sent %02x", bad, buf[bad],
					 expect[bad]);
		} else {
			m->skipped++;
		}
		d->status = 0;
		d->errors = 0;
		d->length = 0;
		ew(E_RDT, e_rx_next);
		e_rx_next = (e_rx_next + 1) % E_RX_DESCS;
	}
	return m->found;
}

static bool e_receive(u32 tag, struct rx_match *m, char *why, size_t n)
{
	*m = (struct rx_match){ .tag = tag };
	if (!wait_until(e_rx_poll, m, RX_TICKS)) {
		snprintf(why, n, "frame %08x not received by the e1000 within %u s (RDH %u RDT %u, %u other frames)",
			 tag, RX_TICKS / TICK_HZ, er(E_RDH), er(E_RDT), m->skipped);
		return false;
	}
	if (m->err[0]) {
		snprintf(why, n, "e1000 receive of frame %08x: %s", tag, m->err);
		return false;
	}
	return true;
}

/* ---- virtio-net ---- */

static void vio_status(u8 s)
{
	outb((u16)(v_io + VIO_STATUS), s);
}

static void vq_setup(struct vq *q, u8 *mem, u16 num)
{
	memset(mem, 0, VQ_PAGES * 4096);
	u32 used_off = (16u * num + 2u * (3u + num) + VQ_ALIGN - 1) & ~(VQ_ALIGN - 1);
	q->num = num;
	q->desc = (volatile struct vring_desc *)mem;
	q->avail = (volatile u16 *)(mem + 16u * num);
	q->used = (volatile u16 *)(mem + used_off);
	q->used_ring = (volatile struct vring_used_elem *)(mem + used_off + 4);
	q->avail_idx = q->used_seen = 0;
	q->avail[0] = VRING_AVAIL_NO_INTERRUPT;
}

static void vq_publish(struct vq *q, u16 head)
{
	q->avail[2 + q->avail_idx % q->num] = head;
	q->avail_idx++;
	barrier();
	q->avail[1] = q->avail_idx;
}

static void vnet_notify(unsigned q)
{
	barrier();
	outw((u16)(v_io + VIO_QUEUE_NOTIFY), (u16)q);
}

static void vnet_rx_post(u16 id, u64 addr)
{
	struct vq *q = &vq[VNET_RXQ];
	q->desc[id].addr = addr;
	q->desc[id].len = VNET_BUF_SIZE;
	q->desc[id].flags = VRING_F_WRITE;
	q->desc[id].next = 0;
	vq_publish(q, id);
}

/* Reset (status 0), then the legacy sequence (3.1.1, 4.1.5.1): ACKNOWLEDGE, DRIVER, features
 * (MAC and STATUS at most), each queue's ring, DRIVER_OK, and with post_rx every receive
 * buffer given. */
static bool vnet_setup(bool post_rx, char *why, size_t n)
{
	vio_status(0);
	u8 st = inb((u16)(v_io + VIO_STATUS));
	if (st) {
		snprintf(why, n, "virtio-net status %02x after a reset", st);
		return false;
	}
	vio_status(VIO_S_ACK);
	vio_status(VIO_S_ACK | VIO_S_DRIVER);
	u32 f = inl((u16)(v_io + VIO_HOST_FEATURES));
	if (!(f & VNET_F_MAC)) {
		snprintf(why, n, "virtio-net features %08x: no MAC", f);
		return false;
	}
	outl((u16)(v_io + VIO_GUEST_FEATURES), f & (VNET_F_MAC | VNET_F_STATUS));
	for (unsigned i = 0; i < 2; i++) {
		outw((u16)(v_io + VIO_QUEUE_SEL), (u16)i);
		u16 num = inw((u16)(v_io + VIO_QUEUE_NUM));
		if (num < 2 * VNET_TX_SLOTS || num > VQ_MAX || (num & (num - 1))) {
			snprintf(why, n, "virtio-net queue %u has %u entries", i, num);
			return false;
		}
		vq_setup(&vq[i], vq_mem[i], num);
		outl((u16)(v_io + VIO_QUEUE_PFN), (u32)(uintptr_t)vq_mem[i] >> 12);
	}
	if (!have_v_mac) {
		for (unsigned i = 0; i < ETH_ALEN; i++)
			v_mac[i] = inb((u16)(v_io + VIO_CONFIG + i));
		have_v_mac = true;
	}
	vio_status(VIO_S_ACK | VIO_S_DRIVER | VIO_S_DRIVER_OK);
	if (post_rx) {
		for (u16 i = 0; i < VNET_RX_BUFS; i++)
			vnet_rx_post(i, (uintptr_t)vnet_rx_buf[i]);
		vnet_notify(VNET_RXQ);
	}
	v_ready = true;
	return true;
}

/* A header descriptor chained to the frame's (what Linux's legacy driver queues). */
static void vnet_tx_queue(const u8 *frame, u32 len)
{
	struct vq *q = &vq[VNET_TXQ];
	unsigned slot = q->avail_idx % VNET_TX_SLOTS;
	u16 h = (u16)(2 * slot), d = (u16)(2 * slot + 1);
	memset(vnet_tx_hdr[slot], 0, VNET_HDR_LEN);
	memcpy(vnet_tx_buf[slot], frame, len);
	q->desc[h].addr = (uintptr_t)vnet_tx_hdr[slot];
	q->desc[h].len = VNET_HDR_LEN;
	q->desc[h].flags = VRING_F_NEXT;
	q->desc[h].next = d;
	q->desc[d].addr = (uintptr_t)vnet_tx_buf[slot];
	q->desc[d].len = len;
	q->desc[d].flags = 0;
	q->desc[d].next = 0;
	vq_publish(q, h);
}

static bool vnet_tx_done(void *arg __attribute__((unused)))
{
	return vq[VNET_TXQ].used[1] == vq[VNET_TXQ].avail_idx;
}

static bool vnet_send(const u8 *frame, u32 len, char *why, size_t n)
{
	vnet_tx_queue(frame, len);
	vnet_notify(VNET_TXQ);
	if (!wait_until(vnet_tx_done, NULL, RX_TICKS)) {
		snprintf(why, n, "virtio-net transmit: used idx %u, avail idx %u after %u s", vq[VNET_TXQ].used[1],
			 vq[VNET_TXQ].avail_idx, RX_TICKS / TICK_HZ);
		return false;
	}
	vq[VNET_TXQ].used_seen = vq[VNET_TXQ].used[1];
	return true;
}

/* Takes every used receive buffer, checks the one with the tag (header, length, bytes) and
 * gives each back. */
static bool vnet_rx_poll(void *arg)
{
	struct rx_match *m = arg;
	struct vq *q = &vq[VNET_RXQ];
	bool reposted = false;
	while (q->used[1] != q->used_seen) {
		barrier();
		u32 id = q->used_ring[q->used_seen % q->num].id, len = q->used_ring[q->used_seen % q->num].len;
		q->used_seen++;
		if (id >= VNET_RX_BUFS) {
			if (!m->found) {
				m->found = true;
				snprintf(m->err, sizeof(m->err), "used element with id %u: never given", id);
			}
			continue;
		}
		const u8 *buf = vnet_rx_buf[id];
		if (!m->found && len >= VNET_HDR_LEN && len <= VNET_BUF_SIZE &&
		    frame_tag(buf + VNET_HDR_LEN, len - VNET_HDR_LEN) == m->tag) {
			m->found = true;
			m->len = len;
			int bad;
			if (len != VNET_HDR_LEN + FRAME_LEN)
				snprintf(m->err, sizeof(m->err), "used len %u, expected %u (header + frame)", len,
					 VNET_HDR_LEN + FRAME_LEN);
			else if (buf[0] || buf[1])
				snprintf(m->err, sizeof(m->err), "virtio_net_hdr flags %02x gso_type %02x", buf[0], buf[1]);
			else if ((bad = frame_diff(buf + VNET_HDR_LEN, expect, FRAME_LEN)) >= 0)
				snprintf(m->err, sizeof(m->err), "received byte %d is %02x, sent %02x", bad,
					 buf[VNET_HDR_LEN + bad], expect[bad]);
		} else {
			m->skipped++;
		}
		vnet_rx_post((u16)id, (uintptr_t)vnet_rx_buf[id]);
		reposted = true;
	}
	if (reposted)
		vnet_notify(VNET_RXQ);
	return m->found;
}

static bool vnet_receive(u32 tag, struct rx_match *m, char *why, size_t n)
{
	*m = (struct rx_match){ .tag = tag };
	if (!wait_until(vnet_rx_poll, m, RX_TICKS)) {
		snprintf(why, n, "frame %08x not received by virtio-net within %u s (used idx %u, %u other frames)",
			 tag, RX_TICKS / TICK_HZ, vq[VNET_RXQ].used[1], m->skipped);
		return false;
	}
	if (m->err[0]) {
		snprintf(why, n, "virtio-net receive of frame %08x: %s", tag, m->err);
		return false;
	}
	return true;
}

/* ---- transfers ---- */

static bool xfer_e1000_to_virtio(char *why, size_t n)
{
	u32 tag = new_tag();
	struct rx_match m;
	build_frame(expect, e_mac, tag);
	if (!e_send(expect, FRAME_LEN, why, n) || !vnet_receive(tag, &m, why, n))
		return false;
	if (m.skipped)
		printf("  e1000 -> virtio-net: %u other frames before frame %08x\n", m.skipped, tag);
	return true;
}

/* QEMU's virtio-net completes a transmit chain only once its peer takes the frame (the e1000
 * may hold off for a second after an RCTL write, or have no free descriptor): the e1000's
 * ring is served while the transmit is waited for. */
struct v2e_wait {
	struct rx_match m;
	bool tx_done;
};

static bool v2e_done(void *arg)
{
	struct v2e_wait *w = arg;
	if (!w->tx_done && vnet_tx_done(NULL))
		w->tx_done = true;
	e_rx_poll(&w->m);
	return w->tx_done && w->m.found;
}

static bool xfer_virtio_to_e1000(char *why, size_t n)
{
	u32 tag = new_tag();
	struct v2e_wait w = { .m = { .tag = tag } };
	struct rx_match *m = &w.m;
	build_frame(expect, v_mac, tag);
	vnet_tx_queue(expect, FRAME_LEN);
	vnet_notify(VNET_TXQ);
	bool ok = wait_until(v2e_done, &w, RX_TICKS);
	vq[VNET_TXQ].used_seen = vq[VNET_TXQ].used[1];
	if (!ok && !w.tx_done) {
		snprintf(why, n, "virtio-net transmit: used idx %u, avail idx %u after %u s (e1000 RDH %u RDT %u)",
			 vq[VNET_TXQ].used[1], vq[VNET_TXQ].avail_idx, RX_TICKS / TICK_HZ, er(E_RDH), er(E_RDT));
		return false;
	}
	if (!ok) {
		snprintf(why, n, "frame %08x not received by the e1000 within %u s (RDH %u RDT %u, %u other frames)",
			 tag, RX_TICKS / TICK_HZ, er(E_RDH), er(E_RDT), m->skipped);
		return false;
	}
	if (m->err[0]) {
		snprintf(why, n, "e1000 receive of frame %08x: %s", tag, m->err);
		return false;
	}
	if (m->skipped)
		printf("  virtio-net -> e1000: %u other frames before frame %08x\n", m->skipped, tag);
	return true;
}

/* Both devices set up (a sub-test after a failed one starts from scratch). */
static bool both_ready(char *why, size_t n)
{
	if (!have_nics) {
		snprintf(why, n, "the NICs were not found");
		return false;
	}
	return (e_ready || e1000_setup(why, n)) && (v_ready || vnet_setup(true, why, n));
}

/* ---- sub-tests ---- */

static void t_pci_functions(void)
{
	u32 id = cfg_read32(E1000_SLOT, CFG_ID), vid = cfg_read32(VNET_SLOT, CFG_ID);
	CHECK(id == ID_82540EM, "00:03.0 has ID %08x, not 8086:100e", id);
	CHECK(vid == ID_VIRTIO_NET, "00:08.0 has ID %08x, not 1af4:1000", vid);
	u32 cls = cfg_read32(E1000_SLOT, CFG_CLASS), vcls = cfg_read32(VNET_SLOT, CFG_CLASS);
	CHECK(cls >> 24 == CLASS_NETWORK && (u8)(cls >> 16) == SUBCLASS_ETHERNET,
	      "e1000 class %06x, not 02 00", cls >> 8);
	CHECK(vcls >> 24 == CLASS_NETWORK && (u8)(vcls >> 16) == SUBCLASS_ETHERNET,
	      "virtio-net class %06x, not 02 00", vcls >> 8);
	CHECK((u8)vcls == 0, "virtio-net revision %u: a legacy driver needs 0", (u8)vcls);
	u32 vsub = cfg_read32(VNET_SLOT, CFG_SUBSYS);
	CHECK(vsub >> 16 == VIRTIO_SUBSYS_NET, "virtio-net subsystem id %u, not 1 (network)", vsub >> 16);

	u32 bar0 = cfg_read32(E1000_SLOT, CFG_BAR0), bar1 = cfg_read32(E1000_SLOT, CFG_BAR1);
	u32 vbar0 = cfg_read32(VNET_SLOT, CFG_BAR0);
	CHECK(!(bar0 & BAR_IO) && !(bar0 & BAR_MEM_TYPE), "e1000 BAR0 %08x is not a 32-bit memory BAR", bar0);
	CHECK(bar0 & BAR_MEM_MASK, "e1000 BAR0 %08x has no address", bar0);
	CHECK(bar1 & BAR_IO, "e1000 BAR1 %08x is not an I/O BAR", bar1);
	CHECK((bar1 & BAR_IO_MASK & 0xffff) != 0, "e1000 BAR1 %08x has no address", bar1);
	CHECK(vbar0 & BAR_IO, "virtio-net BAR0 %08x is not an I/O BAR", vbar0);
	CHECK((vbar0 & BAR_IO_MASK & 0xffff) != 0, "virtio-net BAR0 %08x has no address", vbar0);
	u32 s0 = bar_size(E1000_SLOT, CFG_BAR0, false), s1 = bar_size(E1000_SLOT, CFG_BAR1, true);
	u32 vs0 = bar_size(VNET_SLOT, CFG_BAR0, true);
	CHECK(cfg_read32(E1000_SLOT, CFG_BAR0) == bar0 && cfg_read32(E1000_SLOT, CFG_BAR1) == bar1 &&
	      cfg_read32(VNET_SLOT, CFG_BAR0) == vbar0, "a BAR did not take its address back after sizing");
	CHECK(s0 == E1000_BAR0_SIZE, "e1000 BAR0 decodes %u bytes, not 128 KiB", s0);
	CHECK(s1 >= E1000_IO_MIN, "e1000 BAR1 decodes %u bytes, fewer than IOADDR and IODATA", s1);
	CHECK(vs0 >= VNET_IO_MIN, "virtio-net BAR0 decodes %u bytes, fewer than 0x20", vs0);

	u16 intr = cfg_read16(E1000_SLOT, CFG_INTR), vintr = cfg_read16(VNET_SLOT, CFG_INTR);
	CHECK(intr >> 8 == PIN_INTA, "e1000 interrupt pin %u, not INTA#", intr >> 8);
	CHECK(vintr >> 8 == PIN_INTA, "virtio-net interrupt pin %u, not INTA#", vintr >> 8);
	u8 line = (u8)intr, vline = (u8)vintr;
	CHECK(line < 16 && line != PIC_CASCADE_IRQ && line != IRQ_PIT, "e1000 interrupt line %u", line);
	CHECK(vline < 16 && vline != PIC_CASCADE_IRQ && vline != IRQ_PIT, "virtio-net interrupt line %u", vline);

	u16 cmd = cfg_read16(E1000_SLOT, CFG_COMMAND), vcmd = cfg_read16(VNET_SLOT, CFG_COMMAND);
	cfg_write16(E1000_SLOT, CFG_COMMAND, (u16)(cmd | CMD_IO | CMD_MEM | CMD_MASTER));
	cfg_write16(VNET_SLOT, CFG_COMMAND, (u16)(vcmd | CMD_IO | CMD_MASTER));
	u16 cmd2 = cfg_read16(E1000_SLOT, CFG_COMMAND), vcmd2 = cfg_read16(VNET_SLOT, CFG_COMMAND);
	printf("  e1000: BAR0 %08x (%u KiB) BAR1 %04x (%u bytes) IRQ %u COMMAND %04x -> %04x\n", bar0 & BAR_MEM_MASK,
	       s0 >> 10, bar1 & BAR_IO_MASK, s1, line, cmd, cmd2);
	printf("  virtio-net: BAR0 %04x (%u bytes) IRQ %u COMMAND %04x -> %04x\n", vbar0 & BAR_IO_MASK, vs0, vline,
	       vcmd, vcmd2);
	CHECK((cmd2 & (CMD_IO | CMD_MEM | CMD_MASTER)) == (CMD_IO | CMD_MEM | CMD_MASTER),
	      "e1000 COMMAND %04x: I/O, memory or bus master did not stick", cmd2);
	CHECK((vcmd2 & (CMD_IO | CMD_MASTER)) == (CMD_IO | CMD_MASTER),
	      "virtio-net COMMAND %04x: I/O or bus master did not stick", vcmd2);
	e_base = bar0 & BAR_MEM_MASK;
	e_io = (u16)(bar1 & BAR_IO_MASK);
	v_io = (u16)(vbar0 & BAR_IO_MASK);
	v_io_size = vs0;
	e_irq_line = line;
	v_irq_line = vline;
	have_nics = true;
	test_pass();
}

static bool mac_is_ours(const u8 *m, u8 nic)
{
	return m[0] == 0x02 && m[1] == 0x4d && m[2] == 0x56 && m[3] == 0x00 && m[5] == nic;
}

static void t_eeprom(void)
{
	char why[160];
	CHECK(have_nics, "the NICs were not found");
	CHECK(e1000_reset(why, sizeof(why)), "%s", why);
	u16 w[EEPROM_WORDS];
	u16 sum = 0;
	for (unsigned i = 0; i < EEPROM_WORDS; i++) {
		CHECK(eeprom_read(i, &w[i]), "EERD: word %u never DONE (EERD %08x)", i, er(E_EERD));
		sum = (u16)(sum + w[i]);
	}
	u32 ral = er(E_RAL0), rah = er(E_RAH0);
	u8 mac[ETH_ALEN], vmac[ETH_ALEN];
	for (unsigned i = 0; i < 3; i++) {
		mac[2 * i] = (u8)w[i];
		mac[2 * i + 1] = (u8)(w[i] >> 8);
	}
	for (unsigned i = 0; i < ETH_ALEN; i++)
		vmac[i] = inb((u16)(v_io + VIO_CONFIG + i));
	printf("  EEPROM words 0-2 %04x %04x %04x (MAC %02x:%02x:%02x:%02x:%02x:%02x), sum %04x; RAL0 %08x RAH0 %08x\n",
	       w[0], w[1], w[2], mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], sum, ral, rah);
	printf("  virtio-net MAC %02x:%02x:%02x:%02x:%02x:%02x\n", vmac[0], vmac[1], vmac[2], vmac[3], vmac[4],
	       vmac[5]);
	CHECK(sum == EEPROM_SUM, "the 64 EEPROM words add up to %04x, not baba", sum);
	CHECK(rah & RAH_AV, "RAH0 %08x: address valid clear after a reset", rah);
	CHECK(ral == ((u32)w[0] | (u32)w[1] << 16) && (rah & 0xffff) == w[2],
	      "RAL0/RAH0 %08x/%08x are not EEPROM words 0-2 (%04x %04x %04x)", ral, rah, w[0], w[1], w[2]);
	CHECK(mac_is_ours(mac, 0), "e1000 MAC is not 02:4d:56:00:VV:00");
	CHECK(mac_is_ours(vmac, 1) && vmac[4] == mac[4], "virtio-net MAC is not 02:4d:56:00:%02x:01", mac[4]);
	memcpy(e_mac, mac, ETH_ALEN);
	memcpy(v_mac, vmac, ETH_ALEN);
	have_e_mac = have_v_mac = true;
	test_pass();
}

static void t_phy(void)
{
	CHECK(have_nics, "the NICs were not found");
	u16 id1 = 0, id2 = 0, bmsr = 0;
	CHECK(mdic(MDIC_OP_READ, PHY_ID1, 0, &id1), "MDIC read of PHY register 2: error or not ready (MDIC %08x)",
	      er(E_MDIC));
	CHECK(mdic(MDIC_OP_READ, PHY_ID2, 0, &id2), "MDIC read of PHY register 3 failed (MDIC %08x)", er(E_MDIC));
	CHECK(mdic(MDIC_OP_READ, PHY_BMSR, 0, &bmsr) && mdic(MDIC_OP_READ, PHY_BMSR, 0, &bmsr),
	      "MDIC read of PHY register 1 failed (MDIC %08x)", er(E_MDIC));    /* twice: link status latches low */
	u32 status = er(E_STATUS);
	printf("  PHY ID %04x:%04x, status %04x; STATUS %08x\n", id1, id2, bmsr, status);
	CHECK(id1 == PHY_ID1_M88, "PHY ID1 %04x, not 0141 (Marvell)", id1);
	CHECK((id2 & PHY_ID2_MODEL) == PHY_ID2_M88E1011, "PHY ID2 %04x, not 0c2x (M88E1011)", id2);
	CHECK(bmsr & BMSR_LINK, "PHY status %04x: no link", bmsr);
	CHECK(status & STATUS_LU, "STATUS %08x: no link", status);
	test_pass();
}

static void t_e1000_to_virtio(void)
{
	char why[160];
	CHECK(both_ready(why, sizeof(why)), "%s", why);
	CHECK(xfer_e1000_to_virtio(why, sizeof(why)), "%s", why);
	test_pass();
}

static void t_virtio_to_e1000(void)
{
	char why[160];
	CHECK(both_ready(why, sizeof(why)), "%s", why);
	CHECK(xfer_virtio_to_e1000(why, sizeof(why)), "%s", why);
	test_pass();
}

static bool irqs_at_least(void *arg)
{
	return e_irqs >= *(u32 *)arg;
}

static void t_irq(void)
{
	char why[160];
	CHECK(both_ready(why, sizeof(why)), "%s", why);
	u32 vector = IRQ_VECTOR_BASE + e_irq_line;
	ew(E_IMC, ~0u);
	(void)er(E_ICR);
	set_exc_hook(vector, e1000_handler);
	pic_set_masks(true, e_irq_line);
	delay_ticks(2);                 /* a stale request on the line is taken now */
	e_irqs = 0;
	e_irq_icr = 0;

	/* A cause with its mask bit clear: in ICR, no interrupt. */
	ew(E_ICS, ICR_SRPD);
	delay_ticks(3);
	u32 masked_irqs = e_irqs, icr_masked = er(E_ICR);
	/* Unmasked: one interrupt, whose handler's ICR read clears it. */
	ew(E_IMS, ICR_SRPD);
	u32 ims = er(E_IMS);
	ew(E_ICS, ICR_SRPD);
	u32 one = 1;
	bool got = wait_until(irqs_at_least, &one, TX_TICKS);
	delay_ticks(3);
	u32 n_ics = e_irqs, icr_ics = e_irq_icr, icr_after = er(E_ICR);
	/* A received frame: RXT0 (RDTR 0: at once). */
	ew(E_IMC, ICR_SRPD);
	ew(E_IMS, ICR_RXT0);
	e_irq_icr = 0;
	u32 want = e_irqs + 1, tag = new_tag();
	build_frame(expect, v_mac, tag);
	bool sent = vnet_send(expect, FRAME_LEN, why, sizeof(why));
	bool got_rx = sent && wait_until(irqs_at_least, &want, RX_TICKS);
	u32 icr_rx = e_irq_icr;
	struct rx_match m;
	bool received = sent && e_receive(tag, &m, why, sizeof(why));
	ew(E_IMC, ~0u);
	(void)er(E_ICR);
	pic_set_masks(true, -1);
	set_exc_hook(vector, NULL);
	printf("  IRQ %u: ICS with IMS clear: %u interrupts, ICR %08x; IMS %08x, ICS: %u interrupts, "
	       "handler read ICR %08x, then ICR %08x; received frame: handler read ICR %08x\n",
	       e_irq_line, masked_irqs, icr_masked, ims, n_ics, icr_ics, icr_after, icr_rx);
	CHECK(sent, "%s", why);
	CHECK(masked_irqs == 0, "an ICS write with the cause masked raised IRQ %u %u times", e_irq_line, masked_irqs);
	CHECK(icr_masked & ICR_SRPD, "ICR %08x: the cause written to ICS is not in it", icr_masked);
	CHECK(ims & ICR_SRPD, "IMS reads %08x after setting %08x", ims, ICR_SRPD);
	CHECK(got, "no IRQ %u within %u s of an ICS write with IMS set", e_irq_line, TX_TICKS / TICK_HZ);
	CHECK(icr_ics & ICR_SRPD, "the interrupt handler read ICR %08x, without the cause", icr_ics);
	CHECK(n_ics == 1, "%u interrupts for one cause: the ICR read did not clear it", n_ics);
	CHECK(!(icr_after & ICR_SRPD), "ICR %08x: the cause is still there after the handler read ICR", icr_after);
	CHECK(got_rx, "no IRQ %u within %u s of a frame sent to the e1000 (IMS RXT0)", e_irq_line,
	      RX_TICKS / TICK_HZ);
	CHECK(icr_rx & ICR_RXT0, "the receive interrupt's ICR %08x has no RXT0", icr_rx);
	CHECK(received, "%s", why);
	test_pass();
}

static void t_bad_descriptors(void)
{
	char why[160];
	CHECK(both_ready(why, sizeof(why)), "%s", why);
	u32 tag = new_tag();
	build_frame(expect, e_mac, tag);
	struct tx_wait w = { e_tx_tail, 5 };
	/* A packet begun outside RAM and ended by a descriptor of length 0; a 16288-byte buffer
	 * at the top of the 47-bit space; one at 0xF0000000; then a good frame. */
	e_tx_queue(FAR32, 64, TXD_RS);
	e_tx_queue((uintptr_t)e_tx_buf[e_tx_tail], 0, TXD_RS | TXD_EOP);
	e_tx_queue(FAR64, 16288, TXD_RS | TXD_EOP | TXD_IFCS);
	e_tx_queue(FAR32, 16288, TXD_RS | TXD_EOP | TXD_IFCS);
	memcpy(e_tx_buf[e_tx_tail], expect, FRAME_LEN);
	e_tx_queue((uintptr_t)e_tx_buf[e_tx_tail], FRAME_LEN, TXD_RS | TXD_EOP | TXD_IFCS);
	e_tx_kick();
	bool done = wait_until(e_tx_done, &w, TX_TICKS);
	u32 tdh = er(E_TDH);
	u8 st[5];
	for (unsigned i = 0; i < 5; i++)
		st[i] = e_tx_ring[(w.first + i) % E_TX_DESCS].status;
	printf("  TDH %u TDT %u, descriptor status %02x %02x %02x %02x %02x\n", tdh, e_tx_tail, st[0], st[1], st[2],
	       st[3], st[4]);
	CHECK(done, "the device did not complete the descriptors within %u s (TDH %u, TDT %u)", TX_TICKS / TICK_HZ,
	      tdh, e_tx_tail);
	struct rx_match m;
	CHECK(vnet_receive(tag, &m, why, sizeof(why)), "the good frame after the bad descriptors: %s", why);
	if (m.skipped)
		printf("  %u other frames before the good one\n", m.skipped);
	test_pass();
}

static void t_bad_rings(void)
{
	char why[160];
	CHECK(both_ready(why, sizeof(why)), "%s", why);
	e_ready = false;
	ew(E_TCTL, 0);
	ew(E_RCTL, 0);
	e_tx_ring_clear();
	/* Transmit: a huge ring outside RAM, one at the top of the 64-bit space, a tail beyond an
	 * 8-entry ring in RAM, a head beyond it (inside the zeroed ring memory). */
	ew(E_TDBAL, (u32)FAR32);
	ew(E_TDBAH, 0);
	ew(E_TDLEN, XDLEN_MAX);
	ew(E_TDH, 0);
	ew(E_TDT, 0);
	ew(E_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
	ew(E_TDT, 200);
	delay_ticks(HOSTILE_TICKS);
	u32 tdh_far = er(E_TDH);
	ew(E_TDBAL, 0xfffff000u);
	ew(E_TDBAH, 0xffffffffu);
	ew(E_TDH, 0);
	ew(E_TDT, 50);
	delay_ticks(HOSTILE_TICKS);
	u32 tdh_top = er(E_TDH);
	ew(E_TDBAL, (uintptr_t)e_tx_ring);
	ew(E_TDBAH, 0);
	ew(E_TDLEN, 8 * sizeof(struct e_txd));
	ew(E_TDH, 0);
	ew(E_TDT, 100);
	delay_ticks(HOSTILE_TICKS);
	u32 tdh_tail = er(E_TDH);
	ew(E_TDH, 12);
	ew(E_TDT, 3);
	delay_ticks(HOSTILE_TICKS);
	u32 tdh_head = er(E_TDH);
	/* Receive: a huge ring outside RAM, a tail beyond an 8-entry ring, RDLEN 0; the virtio NIC
	 * sends a frame into each (whether and when it completes them is the devices' business:
	 * QEMU's holds them until the e1000 takes frames again). */
	e_rx_ring_fill();
	ew(E_RDBAL, (u32)FAR32);
	ew(E_RDBAH, 0);
	ew(E_RDLEN, XDLEN_MAX);
	ew(E_RDH, 0);
	ew(E_RDT, 0x400);
	ew(E_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC | RCTL_SZ_2048);
	build_frame(expect, v_mac, new_tag());
	vnet_tx_queue(expect, FRAME_LEN);
	vnet_notify(VNET_TXQ);
	delay_ticks(HOSTILE_TICKS);
	u32 rdh_far = er(E_RDH);
	ew(E_RDBAL, (uintptr_t)e_rx_ring);
	ew(E_RDLEN, 8 * sizeof(struct e_rxd));
	ew(E_RDH, 0);
	ew(E_RDT, 100);
	build_frame(expect, v_mac, new_tag());
	vnet_tx_queue(expect, FRAME_LEN);
	vnet_notify(VNET_TXQ);
	delay_ticks(HOSTILE_TICKS);
	u32 rdh_tail = er(E_RDH);
	ew(E_RDLEN, 0);
	ew(E_RDH, 0);
	ew(E_RDT, 5);
	build_frame(expect, v_mac, new_tag());
	vnet_tx_queue(expect, FRAME_LEN);
	vnet_notify(VNET_TXQ);
	delay_ticks(HOSTILE_TICKS);
	u32 rdh_zero = er(E_RDH);
	printf("  TDH after: ring outside RAM %u, at the top %u, TDT past the ring %u, TDH past the ring %u; "
	       "RDH after: ring outside RAM %u, RDT past the ring %u, RDLEN 0 %u\n",
	       tdh_far, tdh_top, tdh_tail, tdh_head, rdh_far, rdh_tail, rdh_zero);
	/* The driver starts over: reset, reprogram, and both directions work. */
	CHECK(e1000_setup(why, sizeof(why)), "after the bad rings: %s", why);
	CHECK(xfer_e1000_to_virtio(why, sizeof(why)), "after the reset: %s", why);
	CHECK(xfer_virtio_to_e1000(why, sizeof(why)), "after the reset: %s", why);
	test_pass();
}

static bool vnet_used_moved(void *arg)
{
	const u16 *from = arg;
	return vq[VNET_TXQ].used[1] != *from;
}

static bool vnet_rx_used_moved(void *arg)
{
	const u16 *from = arg;
	return vq[VNET_RXQ].used[1] != *from;
}

/* Sends the header in descriptor 0 chained to second in descriptor 1; true if the device
 * used the chain within HOSTILE_TICKS. *used: the used index afterwards. */
static bool vnet_tx_chain(struct vring_desc second, u16 *used)
{
	struct vq *t = &vq[VNET_TXQ];
	t->desc[0] = (struct vring_desc){ (uintptr_t)vnet_tx_hdr[0], VNET_HDR_LEN, VRING_F_NEXT, 1 };
	t->desc[1] = second;
	u16 from = t->used[1];
	vq_publish(t, 0);
	vnet_notify(VNET_TXQ);
	bool done = wait_until(vnet_used_moved, &from, HOSTILE_TICKS);
	*used = t->used[1];
	return done;
}

static void t_virtio_bad_rings(void)
{
	char why[160];
	CHECK(both_ready(why, sizeof(why)), "%s", why);
	struct vq *t = &vq[VNET_TXQ];
	u16 from;

	/* Rings past the end of RAM: the transmit ring right at its end (fw_cfg's RAM size: the
	 * Multiboot mem_upper stops below what the firmware reserved), the receive ring at 4 GiB;
	 * both notified, and a frame sent to them. */
	u64 ram_size = 0;
	if (fwcfg_present())
		fwcfg_read(FW_CFG_RAM_SIZE, &ram_size, sizeof(ram_size));
	CHECK(ram_size >= ram_end && ram_size >= 0x400000u && ram_size < 0xc0000000u,
	      "fw_cfg RAM size %llx (Multiboot RAM end %08x)", ram_size, ram_end);
	CHECK(vnet_setup(true, why, sizeof(why)), "%s", why);
	outw((u16)(v_io + VIO_QUEUE_SEL), VNET_TXQ);
	outl((u16)(v_io + VIO_QUEUE_PFN), (u32)(ram_size >> 12));
	outw((u16)(v_io + VIO_QUEUE_SEL), VNET_RXQ);
	outl((u16)(v_io + VIO_QUEUE_PFN), PFN_FAR);
	vnet_notify(VNET_TXQ);
	vnet_notify(VNET_RXQ);
	build_frame(expect, e_mac, new_tag());
	CHECK(e_send(expect, FRAME_LEN, why, sizeof(why)), "%s", why);
	delay_ticks(HOSTILE_TICKS);

	/* A transmit chain whose frame is outside RAM. */
	CHECK(vnet_setup(true, why, sizeof(why)), "%s", why);
	memset(vnet_tx_hdr[0], 0, VNET_HDR_LEN);
	u16 far_used;
	bool far_done = vnet_tx_chain((struct vring_desc){ FAR32, FRAME_LEN, 0, 0 }, &far_used);

	/* The available index 1000 ahead of what was queued. */
	CHECK(vnet_setup(true, why, sizeof(why)), "%s", why);
	build_frame(expect, v_mac, new_tag());
	vnet_tx_queue(expect, FRAME_LEN);
	t->avail[1] = (u16)(t->avail_idx + 999);
	from = t->used[1];
	vnet_notify(VNET_TXQ);
	delay_ticks(HOSTILE_TICKS);
	u16 ahead_used = t->used[1];

	/* A chain that loops: 0 -> 1 -> 0. */
	CHECK(vnet_setup(true, why, sizeof(why)), "%s", why);
	build_frame(vnet_tx_buf[0], v_mac, new_tag());
	u16 loop_used;
	bool loop_done = vnet_tx_chain((struct vring_desc){ (uintptr_t)vnet_tx_buf[0], FRAME_LEN, VRING_F_NEXT, 0 },
	                               &loop_used);

	/* A receive buffer outside RAM, first in line. */
	CHECK(vnet_setup(false, why, sizeof(why)), "%s", why);
	vnet_rx_post(0, FAR32);
	for (u16 i = 1; i < VNET_RX_BUFS; i++)
		vnet_rx_post(i, (uintptr_t)vnet_rx_buf[i]);
	vnet_notify(VNET_RXQ);
	from = vq[VNET_RXQ].used[1];
	build_frame(expect, e_mac, new_tag());
	CHECK(e_send(expect, FRAME_LEN, why, sizeof(why)), "%s", why);
	bool rx_done = wait_until(vnet_rx_used_moved, &from, HOSTILE_TICKS);
	u32 rx_id = vq[VNET_RXQ].used_ring[0].id, rx_len = vq[VNET_RXQ].used_ring[0].len;

	printf("  frame outside RAM: %s (used idx %u); avail idx +1000: used idx %u; loop: %s (used idx %u); "
	       "receive buffer outside RAM: %s (id %u len %u)\n", far_done ? "completed" : "not completed", far_used,
	       ahead_used, loop_done ? "completed" : "not completed", loop_used, rx_done ? "used" : "not used",
	       rx_id, rx_len);
	/* The driver starts over: reset, set up, and both directions work. */
	CHECK(vnet_setup(true, why, sizeof(why)), "after the bad rings: %s", why);
	CHECK(xfer_virtio_to_e1000(why, sizeof(why)), "after the reset: %s", why);
	CHECK(xfer_e1000_to_virtio(why, sizeof(why)), "after the reset: %s", why);
	test_pass();
}

/* ---- the register storm ---- */

#define STORM_SEED      0x6e1c5eedu
#define STORM_OPS       12000u

static const u16 e_hot[] = {
	E_CTRL, E_STATUS, E_EECD, E_EERD, E_CTRL_EXT, E_MDIC, E_VET, E_ICR, E_ITR, E_ICS, E_IMS, E_IMC,
	E_RCTL, E_TCTL, E_TIPG, E_PBA, E_RDBAL, E_RDBAH, E_RDLEN, E_RDH, E_RDT, E_RDTR, E_RXDCTL, E_RADV,
	E_TDBAL, E_TDBAH, E_TDLEN, E_TDH, E_TDT, E_TIDV, E_TXDCTL, E_TADV, E_CRCERRS, E_GORCH, E_TORH,
	E_RXCSUM, E_MTA, E_RAL0, E_RAH0, E_VFTA, E_WUC, E_MANC,
};

static bool overlaps(u32 off, unsigned w, u32 reg)
{
	return off < reg + 4 && off + w > reg;
}

/* The writes the storm must not make as drawn (false: it reads instead). A zero in TDBAH or
 * RDBAH would let the random TDBAL/RDBAL values put a ring inside the guest's own RAM, where
 * the device writes descriptors back: only a whole, aligned, nonzero dword goes there (a
 * narrower or misaligned write may reach the register as a part, natively). CTRL.RST, which
 * would clear them, is tested on its own. */
static bool e_storm_write_ok(u32 off, unsigned w, u32 *v)
{
	if (overlaps(off, w, E_TDBAH) || overlaps(off, w, E_RDBAH)) {
		if ((off != E_TDBAH && off != E_RDBAH) || w != 4)
			return false;
		*v |= 1;
	}
	if (off == E_CTRL)
		*v &= ~CTRL_RST;
	return true;
}

/* Likewise QUEUE_PFN: only a whole dword, and only a ring at 4 GiB or beyond. */
static bool v_storm_write_ok(u32 off, unsigned w, u32 *v)
{
	if (off < VIO_QUEUE_PFN + 4 && off + w > VIO_QUEUE_PFN) {
		if (off != VIO_QUEUE_PFN || w != 4)
			return false;
		*v |= PFN_FAR;
	}
	return true;
}

static unsigned storm_width(u32 r)
{
	static const u8 widths[4] = { 1, 2, 4, 4 };
	return widths[r & 3];
}

/* An offset in a window of size bytes for width w: aligned seven times in eight. */
static u32 storm_place(u32 off, unsigned w, u32 size, u32 r)
{
	if ((r >> 28) & 7)
		off &= ~(u32)(w - 1);
	return off + w > size ? size - w : off;
}

static void t_register_storm(void)
{
	char why[160];
	CHECK(both_ready(why, sizeof(why)), "%s", why);
	/* Rings off, their high halves nonzero (outside RAM whatever the low halves become), the
	 * virtio NIC reset: no ring of either device is in RAM during the storm. */
	ew(E_TCTL, 0);
	ew(E_RCTL, 0);
	ew(E_TDBAH, 1);
	ew(E_RDBAH, 1);
	vio_status(0);
	e_ready = v_ready = false;
	cli();
	pic_set_masks(false, -1);
	u32 s = STORM_SEED, io_target = 0;
	u32 n_mmio = 0, n_io = 0, n_vio = 0, n_writes = 0, n_refused = 0;
	for (u32 i = 0; i < STORM_OPS; i++) {
		u32 r = xorshift32(&s), v = xorshift32(&s), pick = xorshift32(&s);
		unsigned w = storm_width(r);
		bool write = (r >> 2) & 1;
		unsigned target = pick % 20;    /* 10 MMIO, 3 I/O window, 7 virtio */
		if (target < 10) {
			u32 off = (r >> 3) & 1 ? e_hot[(r >> 4) % ARRAY_SIZE(e_hot)] : (r >> 4) & (E_MMIO_SIZE - 1);
			off = storm_place(off + ((pick >> 8) & 3), w, E_MMIO_SIZE, r);
			n_mmio++;
			if (write && !e_storm_write_ok(off, w, &v)) {
				write = false;
				n_refused++;
			}
			if (write)
				mmio_write(e_base + off, w, v);
			else
				(void)mmio_read(e_base + off, w);
		} else if (target < 13) {
			u32 off = storm_place((r >> 4) & (E_IO_WINDOW - 1), w, E_IO_WINDOW, r);
			n_io++;
			if (write && off == E_IOADDR && w == 4) {
				if ((pick >> 8) & 1)
					v = e_hot[(pick >> 9) % ARRAY_SIZE(e_hot)];
				io_target = v;
			} else if (write && off == E_IODATA && w == 4 && !e_storm_write_ok(io_target, 4, &v)) {
				write = false;
				n_refused++;
			}
			if (write)
				port_write((u16)(e_io + off), w, v);
			else
				(void)port_read((u16)(e_io + off), w);
		} else {
			u32 off = storm_place((r >> 4) % v_io_size, w, v_io_size, r);
			n_vio++;
			if (write && off == VIO_QUEUE_SEL && (pick >> 8) & 1)
				v &= 3;                 /* mostly the queues that exist */
			if (write && !v_storm_write_ok(off, w, &v)) {
				write = false;
				n_refused++;
			}
			if (write)
				port_write((u16)(v_io + off), w, v);
			else
				(void)port_read((u16)(v_io + off), w);
		}
		n_writes += write;
	}
	pic_set_masks(true, -1);
	printf("  %u accesses (seed %08x): %u e1000 MMIO, %u e1000 I/O window, %u virtio-net; %u writes, %u writes "
	       "refused (ring bases, CTRL.RST)\n", STORM_OPS, STORM_SEED, n_mmio, n_io, n_vio, n_writes, n_refused);
	/* Both reset and set up again; then each direction works. */
	CHECK(e1000_setup(why, sizeof(why)), "after the storm: %s", why);
	CHECK(vnet_setup(true, why, sizeof(why)), "after the storm: %s", why);
	CHECK(xfer_e1000_to_virtio(why, sizeof(why)), "after the storm: %s", why);
	CHECK(xfer_virtio_to_e1000(why, sizeof(why)), "after the storm: %s", why);
	test_pass();
}

void guest_main(void)
{
	set_exc_hook(IRQ_VECTOR_BASE + IRQ_PIT, pit_handler);
	cli();
	pic_init();
	pit_periodic(TICK_HZ);
	pic_set_masks(true, -1);
	run_test("nic_pci_functions", t_pci_functions);
	run_test("e1000_eeprom", t_eeprom);
	run_test("e1000_phy", t_phy);
	run_test("e1000_to_virtio", t_e1000_to_virtio);
	run_test("virtio_to_e1000", t_virtio_to_e1000);
	run_test("e1000_irq", t_irq);
	run_test("e1000_bad_descriptors", t_bad_descriptors);
	run_test("e1000_bad_rings", t_bad_rings);
	run_test("virtio_bad_rings", t_virtio_bad_rings);
	run_test("nic_register_storm", t_register_storm);
	/* Quiet devices for the exit. */
	if (have_nics) {
		ew(E_IMC, ~0u);
		ew(E_TCTL, 0);
		ew(E_RCTL, 0);
		vio_status(0);
	}
	cli();
	pic_set_masks(false, -1);
}
