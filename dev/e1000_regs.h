/* Intel 8254x (82540EM) register, descriptor, EEPROM and PHY definitions, from the "PCI/PCI-X
 * Family of Gigabit Ethernet Controllers Software Developer's Manual" (order no. 317453,
 * rev 4.0; "SDM" below) and, for the PHY, the M88E1011 registers the SDM documents for the
 * 82540EP/EM (chapter 13, "PHY Registers") and the Linux e1000 driver uses. Definitions only:
 * no state and no model, so the device model (dev/e1000.c) and a host driver for a real
 * 82540EM can share them. Multi-byte descriptor fields are little-endian (SDM chapter 3). */
#ifndef MV_E1000_REGS_H
#define MV_E1000_REGS_H

/* ---- Register offsets in BAR0 (SDM 13.4, table 13-2) ---------------------------------- */
#define E1000_CTRL          0x00000u    /* Device Control */
#define E1000_STATUS        0x00008u    /* Device Status, RO */
#define E1000_EECD          0x00010u    /* EEPROM/Flash Control/Data */
#define E1000_EERD          0x00014u    /* EEPROM Read */
#define E1000_CTRL_EXT      0x00018u    /* Extended Device Control */
#define E1000_MDIC          0x00020u    /* MDI Control */
#define E1000_FCAL          0x00028u    /* Flow Control Address Low */
#define E1000_FCAH          0x0002Cu    /* Flow Control Address High */
#define E1000_FCT           0x00030u    /* Flow Control Type */
#define E1000_VET           0x00038u    /* VLAN EtherType */
#define E1000_ICR           0x000C0u    /* Interrupt Cause Read, read clears (13.4.17) */
#define E1000_ITR           0x000C4u    /* Interrupt Throttling (13.4.18) */
#define E1000_ICS           0x000C8u    /* Interrupt Cause Set, WO (13.4.19) */
#define E1000_IMS           0x000D0u    /* Interrupt Mask Set/Read (13.4.20) */
#define E1000_IMC           0x000D8u    /* Interrupt Mask Clear, WO (13.4.21) */
#define E1000_RCTL          0x00100u    /* Receive Control */
#define E1000_FCTTV         0x00170u    /* Flow Control Transmit Timer Value */
#define E1000_TXCW          0x00178u    /* Transmit Configuration Word (TBI/SerDes parts) */
#define E1000_RXCW          0x00180u    /* Receive Configuration Word, RO */
#define E1000_TCTL          0x00400u    /* Transmit Control */
#define E1000_TIPG          0x00410u    /* Transmit IPG */
#define E1000_AIT           0x00458u    /* Adaptive IFS Throttle */
#define E1000_LEDCTL        0x00E00u    /* LED Control */
#define E1000_PBA           0x01000u    /* Packet Buffer Allocation */
#define E1000_FCRTL         0x02160u    /* Flow Control Receive Threshold Low */
#define E1000_FCRTH         0x02168u    /* Flow Control Receive Threshold High */
#define E1000_RDBAL         0x02800u    /* Receive Descriptor Base Low */
#define E1000_RDBAH         0x02804u    /* Receive Descriptor Base High */
#define E1000_RDLEN         0x02808u    /* Receive Descriptor Length (13.4.27) */
#define E1000_RDH           0x02810u    /* Receive Descriptor Head (13.4.28) */
#define E1000_RDT           0x02818u    /* Receive Descriptor Tail (13.4.29) */
#define E1000_RDTR          0x02820u    /* Receive Delay Timer (13.4.30) */
#define E1000_RXDCTL        0x02828u    /* Receive Descriptor Control */
#define E1000_RADV          0x0282Cu    /* Receive Interrupt Absolute Delay Timer (13.4.31) */
#define E1000_RSRPD         0x02C00u    /* Receive Small Packet Detect Interrupt */
#define E1000_TXDMAC        0x03000u    /* Transmit DMA Control */
#define E1000_TDBAL         0x03800u    /* Transmit Descriptor Base Low */
#define E1000_TDBAH         0x03804u    /* Transmit Descriptor Base High */
#define E1000_TDLEN         0x03808u    /* Transmit Descriptor Length */
#define E1000_TDH           0x03810u    /* Transmit Descriptor Head */
#define E1000_TDT           0x03818u    /* Transmit Descriptor Tail (13.4.40) */
#define E1000_TIDV          0x03820u    /* Transmit Interrupt Delay Value (13.4.41) */
#define E1000_TXDCTL        0x03828u    /* Transmit Descriptor Control */
#define E1000_TADV          0x0382Cu    /* Transmit Absolute Interrupt Delay (13.4.44) */
#define E1000_TSPMT         0x03830u    /* TCP Segmentation Pad and Minimum Threshold (13.4.45) */
#define E1000_RXCSUM        0x05000u    /* Receive Checksum Control */
#define E1000_MTA           0x05200u    /* Multicast Table Array, 128 dwords (13.5.1) */
#define E1000_RA            0x05400u    /* Receive Address pairs, 16 x (RAL, RAH) (13.5.2-3) */
#define E1000_RAL(n)        (E1000_RA + 8u * (n))
#define E1000_RAH(n)        (E1000_RA + 8u * (n) + 4u)
#define E1000_VFTA          0x05600u    /* VLAN Filter Table Array, 128 dwords */
#define E1000_WUC           0x05800u    /* Wakeup Control */
#define E1000_WUFC          0x05808u    /* Wakeup Filter Control */
#define E1000_WUS           0x05810u    /* Wakeup Status, write 1 to clear */
#define E1000_MANC          0x05820u    /* Management Control */
#define E1000_IPAV          0x05838u    /* IP Address Valid */

#define E1000_MTA_ENTRIES   128u
#define E1000_RA_ENTRIES    16u
#define E1000_VFTA_ENTRIES  128u

/* Statistics (SDM 13.7): 0x04000-0x040FC, every register clears when read; the 64-bit
 * counters are a low/high pair that clears when the high half is read (13.7.31). */
#define E1000_STATS_BASE    0x04000u
#define E1000_STATS_END     0x04100u    /* exclusive */
#define E1000_CRCERRS       0x04000u
#define E1000_ALGNERRC      0x04004u
#define E1000_SYMERRS       0x04008u
#define E1000_RXERRC        0x0400Cu
#define E1000_MPC           0x04010u    /* Missed Packets */
#define E1000_SCC           0x04014u
#define E1000_ECOL          0x04018u
#define E1000_MCC           0x0401Cu
#define E1000_LATECOL       0x04020u
#define E1000_COLC          0x04028u
#define E1000_DC            0x04030u
#define E1000_TNCRS         0x04034u
#define E1000_SEC           0x04038u
#define E1000_CEXTERR       0x0403Cu
#define E1000_RLEC          0x04040u
#define E1000_XONRXC        0x04048u
#define E1000_XONTXC        0x0404Cu
#define E1000_XOFFRXC       0x04050u
#define E1000_XOFFTXC       0x04054u
#define E1000_FCRUC         0x04058u
#define E1000_PRC64         0x0405Cu    /* received, by size with FCS: 64 */
#define E1000_PRC127        0x04060u    /* 65-127 */
#define E1000_PRC255        0x04064u    /* 128-255 */
#define E1000_PRC511        0x04068u    /* 256-511 */
#define E1000_PRC1023       0x0406Cu    /* 512-1023 */
#define E1000_PRC1522       0x04070u    /* 1024-1522 */
#define E1000_GPRC          0x04074u    /* Good Packets Received */
#define E1000_BPRC          0x04078u    /* Broadcast Packets Received */
#define E1000_MPRC          0x0407Cu    /* Multicast Packets Received */
#define E1000_GPTC          0x04080u    /* Good Packets Transmitted */
#define E1000_GORCL         0x04088u    /* Good Octets Received (64-bit pair) */
#define E1000_GORCH         0x0408Cu
#define E1000_GOTCL         0x04090u    /* Good Octets Transmitted (64-bit pair) */
#define E1000_GOTCH         0x04094u
#define E1000_RNBC          0x040A0u    /* Receive No Buffers */
#define E1000_RUC           0x040A4u
#define E1000_RFC           0x040A8u
#define E1000_ROC           0x040ACu    /* Receive Oversize */
#define E1000_RJC           0x040B0u
#define E1000_MGTPRC        0x040B4u
#define E1000_MGTPDC        0x040B8u
#define E1000_MGTPTC        0x040BCu
#define E1000_TORL          0x040C0u    /* Total Octets Received (64-bit pair) */
#define E1000_TORH          0x040C4u
#define E1000_TOTL          0x040C8u    /* Total Octets Transmitted (64-bit pair) */
#define E1000_TOTH          0x040CCu
#define E1000_TPR           0x040D0u    /* Total Packets Received */
#define E1000_TPT           0x040D4u    /* Total Packets Transmitted */
#define E1000_PTC64         0x040D8u    /* transmitted, by size with FCS */
#define E1000_PTC127        0x040DCu
#define E1000_PTC255        0x040E0u
#define E1000_PTC511        0x040E4u
#define E1000_PTC1023       0x040E8u
#define E1000_PTC1522       0x040ECu
#define E1000_MPTC          0x040F0u    /* Multicast Packets Transmitted */
#define E1000_BPTC          0x040F4u    /* Broadcast Packets Transmitted */
#define E1000_TSCTC         0x040F8u    /* TCP Segmentation Contexts Transmitted */
#define E1000_TSCTFC        0x040FCu    /* TCP Segmentation Context Transmit Fail */

/* ---- I/O-mapped access (SDM 13.2, "I/O-Mapped Access"): BAR1 holds two dwords ---- */
#define E1000_IOADDR        0x00u       /* selects the BAR0 offset IODATA reaches */
#define E1000_IODATA        0x04u

/* ---- CTRL -------------------------------------------------------------------- */
#define E1000_CTRL_FD           0x00000001u /* full duplex */
#define E1000_CTRL_LRST         0x00000008u /* link reset */
#define E1000_CTRL_ASDE         0x00000020u /* auto-speed detection enable */
#define E1000_CTRL_SLU          0x00000040u /* set link up */
#define E1000_CTRL_ILOS         0x00000080u /* invert loss-of-signal */
#define E1000_CTRL_SPD_MASK     0x00000300u
#define E1000_CTRL_SPD_10       0x00000000u
#define E1000_CTRL_SPD_100      0x00000100u
#define E1000_CTRL_SPD_1000     0x00000200u
#define E1000_CTRL_FRCSPD       0x00000800u /* force speed */
#define E1000_CTRL_FRCDPX       0x00001000u /* force duplex */
#define E1000_CTRL_SWDPIN0      0x00040000u
#define E1000_CTRL_SWDPIN1      0x00080000u
#define E1000_CTRL_SWDPIN2      0x00100000u
#define E1000_CTRL_SWDPIN3      0x00200000u
#define E1000_CTRL_SWDPIO0      0x00400000u
#define E1000_CTRL_SWDPIO1      0x00800000u
#define E1000_CTRL_SWDPIO2      0x01000000u
#define E1000_CTRL_SWDPIO3      0x02000000u
#define E1000_CTRL_RST          0x04000000u /* device reset, self-clearing */
#define E1000_CTRL_RFCE         0x08000000u /* receive flow control enable */
#define E1000_CTRL_TFCE         0x10000000u /* transmit flow control enable */
#define E1000_CTRL_VME          0x40000000u /* VLAN mode enable (tag insert/strip) */
#define E1000_CTRL_PHY_RST      0x80000000u /* PHY reset, held while set */

/* ---- STATUS ------------------------------------------------------------------ */
#define E1000_STATUS_FD         0x00000001u
#define E1000_STATUS_LU         0x00000002u /* link up */
#define E1000_STATUS_FUNC_MASK  0x0000000Cu
#define E1000_STATUS_TXOFF      0x00000010u /* transmission paused by flow control */
#define E1000_STATUS_TBIMODE    0x00000020u /* 0 on the 82540: internal copper PHY */
#define E1000_STATUS_SPEED_MASK 0x000000C0u
#define E1000_STATUS_SPEED_10   0x00000000u
#define E1000_STATUS_SPEED_100  0x00000040u
#define E1000_STATUS_SPEED_1000 0x00000080u
#define E1000_STATUS_ASDV_MASK  0x00000300u
#define E1000_STATUS_PCI66      0x00000800u
#define E1000_STATUS_BUS64      0x00001000u
#define E1000_STATUS_PCIX_MODE  0x00002000u

/* ---- EECD and EERD -------------------------------------------------- */
#define E1000_EECD_SK           0x00000001u /* clock */
#define E1000_EECD_CS           0x00000002u /* chip select (active high on Microwire) */
#define E1000_EECD_DI           0x00000004u /* data into the EEPROM */
#define E1000_EECD_DO           0x00000008u /* data out of the EEPROM, RO */
#define E1000_EECD_FWE_MASK     0x00000030u /* flash write enable */
#define E1000_EECD_FWE_DIS      0x00000010u
#define E1000_EECD_FWE_EN       0x00000020u
#define E1000_EECD_REQ          0x00000040u /* software requests the EEPROM */
#define E1000_EECD_GNT          0x00000080u /* ... and is granted it, RO */
#define E1000_EECD_PRES         0x00000100u /* EEPROM present, RO */
#define E1000_EECD_SIZE         0x00000200u /* 0: 64 words (93C46), 1: 256 words, RO */
#define E1000_EERD_START        0x00000001u /* 82540: start a read, self-clearing */
#define E1000_EERD_DONE         0x00000010u /* 82540: read done, data valid */
#define E1000_EERD_ADDR_SHIFT   8
#define E1000_EERD_ADDR_MASK    0x0000FF00u
#define E1000_EERD_DATA_SHIFT   16

/* ---- CTRL_EXT ---------------------------------------------------------------- */
#define E1000_CTRL_EXT_EE_RST   0x00002000u /* reload from EEPROM, self-clearing */

/* ---- MDIC -------------------------------------------------------------------- */
#define E1000_MDIC_DATA_MASK    0x0000FFFFu
#define E1000_MDIC_REG_SHIFT    16
#define E1000_MDIC_REG_MASK     0x001F0000u
#define E1000_MDIC_PHY_SHIFT    21
#define E1000_MDIC_PHY_MASK     0x03E00000u
#define E1000_MDIC_OP_MASK      0x0C000000u
#define E1000_MDIC_OP_WRITE     0x04000000u
#define E1000_MDIC_OP_READ      0x08000000u
#define E1000_MDIC_READY        0x10000000u
#define E1000_MDIC_INT_EN       0x20000000u /* raise ICR.MDAC on completion */
#define E1000_MDIC_ERROR        0x40000000u
#define E1000_PHY_ADDR          1u          /* the internal PHY's MDIO address */

/* ---- Interrupt causes: ICR/ICS/IMS/IMC share the bits (13.4.17-21) -------------------- */
#define E1000_ICR_TXDW          0x00000001u /* transmit descriptor written back */
#define E1000_ICR_TXQE          0x00000002u /* transmit queue empty */
#define E1000_ICR_LSC           0x00000004u /* link status change */
#define E1000_ICR_RXSEQ         0x00000008u /* receive sequence error */
#define E1000_ICR_RXDMT0        0x00000010u /* receive descriptor minimum threshold */
#define E1000_ICR_RXO           0x00000040u /* receiver overrun */
#define E1000_ICR_RXT0          0x00000080u /* receiver timer */
#define E1000_ICR_MDAC          0x00000200u /* MDI/O access complete */
#define E1000_ICR_RXCFG         0x00000400u /* receiving /C/ ordered sets */
#define E1000_ICR_GPI_EN0       0x00000800u
#define E1000_ICR_GPI_EN1       0x00001000u
#define E1000_ICR_GPI_EN2       0x00002000u
#define E1000_ICR_GPI_EN3       0x00004000u
#define E1000_ICR_TXD_LOW       0x00008000u /* transmit descriptor low threshold */
#define E1000_ICR_SRPD          0x00010000u /* small receive packet detected */
#define E1000_ICR_VALID         0x0001FEDFu /* the causes an 82540 has */

/* ---- ITR, RDTR/RADV, TIDV/TADV, RSRPD (13.4.18, 13.4.30-31, 13.4.41, 13.4.44) --------- */
#define E1000_ITR_INTERVAL_MASK 0x0000FFFFu
#define E1000_ITR_UNIT_NS       256u        /* ITR counts 256 ns */
#define E1000_DELAY_MASK        0x0000FFFFu /* RDTR/RADV/TIDV/TADV delay field */
#define E1000_DELAY_UNIT_NS     1024u       /* ... counts 1.024 us */
#define E1000_RDTR_FPD          0x80000000u /* flush partial descriptor block, self-clearing */
#define E1000_TIDV_FPD          0x80000000u
#define E1000_RSRPD_SIZE_MASK   0x00000FFFu

/* ---- RCTL ------------------------------------------------------------------- */
#define E1000_RCTL_EN           0x00000002u
#define E1000_RCTL_SBP          0x00000004u /* store bad packets */
#define E1000_RCTL_UPE          0x00000008u /* unicast promiscuous */
#define E1000_RCTL_MPE          0x00000010u /* multicast promiscuous */
#define E1000_RCTL_LPE          0x00000020u /* long packets (> 1522 bytes) accepted */
#define E1000_RCTL_LBM_MASK     0x000000C0u /* loopback mode */
#define E1000_RCTL_RDMTS_SHIFT  8           /* free-descriptor threshold: RDLEN/2, /4, /8 */
#define E1000_RCTL_RDMTS_MASK   0x00000300u
#define E1000_RCTL_RDMTS_HALF   0x00000000u
#define E1000_RCTL_RDMTS_QUARTER 0x00000100u
#define E1000_RCTL_RDMTS_EIGHTH 0x00000200u
#define E1000_RCTL_MO_SHIFT     12          /* multicast offset: which 12 address bits hash */
#define E1000_RCTL_MO_MASK      0x00003000u
#define E1000_RCTL_BAM          0x00008000u /* accept broadcast */
#define E1000_RCTL_BSIZE_SHIFT  16
#define E1000_RCTL_BSIZE_MASK   0x00030000u /* 2048/1024/512/256, or with BSEX -/16K/8K/4K */
#define E1000_RCTL_SZ_2048      0x00000000u
#define E1000_RCTL_SZ_1024      0x00010000u
#define E1000_RCTL_SZ_512       0x00020000u
#define E1000_RCTL_SZ_256       0x00030000u
#define E1000_RCTL_SZ_16384     0x00010000u /* with BSEX */
#define E1000_RCTL_SZ_8192      0x00020000u /* with BSEX */
#define E1000_RCTL_SZ_4096      0x00030000u /* with BSEX */
#define E1000_RCTL_VFE          0x00040000u /* VLAN filter enable */
#define E1000_RCTL_CFIEN        0x00080000u /* canonical form indicator enable */
#define E1000_RCTL_CFI          0x00100000u /* ... the CFI value to accept */
#define E1000_RCTL_DPF          0x00400000u /* discard pause frames */
#define E1000_RCTL_PMCF         0x00800000u /* pass MAC control frames */
#define E1000_RCTL_BSEX         0x02000000u /* buffer size extension (x16) */
#define E1000_RCTL_SECRC        0x04000000u /* strip the Ethernet CRC */

/* ---- TCTL and TIPG ------------------------------------------------ */
#define E1000_TCTL_EN           0x00000002u
#define E1000_TCTL_PSP          0x00000008u /* pad short packets to 64 bytes with FCS */
#define E1000_TCTL_CT_SHIFT     4
#define E1000_TCTL_CT_MASK      0x00000FF0u /* collision threshold */
#define E1000_TCTL_COLD_SHIFT   12
#define E1000_TCTL_COLD_MASK    0x003FF000u /* collision distance */
#define E1000_TCTL_SWXOFF       0x00400000u
#define E1000_TCTL_RTLC         0x01000000u /* retransmit on late collision */
#define E1000_TIPG_IPGT_MASK    0x000003FFu
#define E1000_TIPG_IPGR1_SHIFT  10
#define E1000_TIPG_IPGR2_SHIFT  20

/* ---- PBA: RXA in KB is writable; TXA reads as the rest of the 64 KB ---------- */
#define E1000_PBA_RXA_MASK      0x0000003Fu
#define E1000_PBA_TXA_SHIFT     16
#define E1000_PBA_TOTAL_KB      64u

/* ---- RXDCTL/TXDCTL (13.4) --------------------------------------------------------------- */
#define E1000_XDCTL_PTHRESH     0x0000003Fu
#define E1000_XDCTL_HTHRESH     0x00003F00u
#define E1000_XDCTL_WTHRESH     0x003F0000u
#define E1000_XDCTL_GRAN        0x01000000u

/* ---- RXCSUM ----------------------------------------------------------------- */
#define E1000_RXCSUM_PCSS_MASK  0x000000FFu /* packet checksum start */
#define E1000_RXCSUM_IPOFL      0x00000100u
#define E1000_RXCSUM_TUOFL      0x00000200u

/* ---- Receive address / filters (13.5) ------------------------------------------------- */
#define E1000_RAH_ADDR_MASK     0x0000FFFFu /* address bytes 4-5 */
#define E1000_RAH_ASEL_MASK     0x00030000u /* 00: destination address */
#define E1000_RAH_AV            0x80000000u /* address valid */
#define E1000_MTA_HASH_MASK     0x0FFFu     /* 12 hash bits: register = hash >> 5, bit & 31 */
#define E1000_VLAN_ID_MASK      0x0FFFu
#define E1000_VLAN_CFI          0x1000u

/* ---- Wakeup and manageability (13.6) -------------------------------------------------- */
#define E1000_WUC_APME          0x00000001u
#define E1000_WUC_PME_EN        0x00000002u
#define E1000_MANC_SMBUS_EN     0x00000001u
#define E1000_MANC_ARP_EN       0x00002000u

/* ---- Descriptor rings (3.2, 3.4; RDLEN 13.4.27) ----------------------------------------- */
#define E1000_DESC_SIZE         16u
#define E1000_XDLEN_MASK        0x000FFF80u /* RDLEN/TDLEN: bytes, a multiple of 128 */
#define E1000_XDH_MASK          0x0000FFFFu /* head and tail: 16-bit indices */
#define E1000_XDBAL_MASK        0xFFFFFFF0u /* base address: 16-byte aligned */

/* ---- Receive descriptor (3.2): addr[0:7] length[8:9] csum[10:11] status[12] errors[13]
 *      special[14:15] ------------------------------------------------------------------- */
#define E1000_RXD_LENGTH        8u
#define E1000_RXD_CSUM          10u
#define E1000_RXD_STATUS        12u
#define E1000_RXD_ERRORS        13u
#define E1000_RXD_SPECIAL       14u
#define E1000_RXD_STAT_DD       0x01u       /* descriptor done */
#define E1000_RXD_STAT_EOP      0x02u       /* end of packet */
#define E1000_RXD_STAT_IXSM     0x04u       /* ignore checksum indication */
#define E1000_RXD_STAT_VP       0x08u       /* 802.1Q tag stripped into special */
#define E1000_RXD_STAT_TCPCS    0x20u
#define E1000_RXD_STAT_IPCS     0x40u
#define E1000_RXD_STAT_PIF      0x80u       /* passed an inexact filter */
#define E1000_RXD_ERR_CE        0x01u       /* CRC error */
#define E1000_RXD_ERR_SE        0x02u
#define E1000_RXD_ERR_SEQ       0x04u
#define E1000_RXD_ERR_CXE       0x10u
#define E1000_RXD_ERR_TCPE      0x20u
#define E1000_RXD_ERR_IPE       0x40u
#define E1000_RXD_ERR_RXE       0x80u       /* receive data error */

/* ---- Transmit descriptors (3.3): the second quadword is read as two little-endian dwords,
 *      "lower" (bytes 8-11) and "upper" (bytes 12-15), as the SDM's bit numbering does. --- */
#define E1000_TXD_LOWER         8u
#define E1000_TXD_UPPER         12u
#define E1000_TXD_STATUS        12u         /* byte offset of STA (low nibble) */
/* lower dword, all formats: command byte bits 31:24 */
#define E1000_TXD_CMD_EOP       0x01000000u /* end of packet (legacy, data) */
#define E1000_TXD_CMD_IFCS      0x02000000u /* insert FCS */
#define E1000_TXD_CMD_IC        0x04000000u /* legacy: insert checksum at CSO */
#define E1000_TXD_CMD_TSE       0x04000000u /* data and context: TCP segmentation */
#define E1000_TXD_CMD_RS        0x08000000u /* report status: write back DD */
#define E1000_TXD_CMD_RPS       0x10000000u /* 82544 only; reserved on the 82540 */
#define E1000_TXD_CMD_DEXT      0x20000000u /* extended (context/data) descriptor */
#define E1000_TXD_CMD_VLE       0x40000000u /* insert an 802.1Q tag (with CTRL.VME) */
#define E1000_TXD_CMD_IDE       0x80000000u /* interrupt delay (TIDV/TADV) */
#define E1000_TXD_CMD_TCP       0x01000000u /* context TUCMD: TCP (else UDP) */
#define E1000_TXD_CMD_IP        0x02000000u /* context TUCMD: IPv4 (else IPv6) */
#define E1000_TXD_DTYP_MASK     0x00F00000u
#define E1000_TXD_DTYP_C        0x00000000u /* context descriptor */
#define E1000_TXD_DTYP_D        0x00100000u /* data descriptor */
#define E1000_TXD_LEN_MASK      0x0000FFFFu /* legacy length */
#define E1000_TXD_CSO_SHIFT     16          /* legacy checksum offset, bits 23:16 */
#define E1000_TXD_DTALEN_MASK   0x000FFFFFu /* data length / context PAYLEN */
/* upper dword */
#define E1000_TXD_STAT_DD       0x00000001u /* descriptor done */
#define E1000_TXD_STAT_EC       0x00000002u
#define E1000_TXD_STAT_LC       0x00000004u
#define E1000_TXD_STAT_MASK     0x0000000Fu
#define E1000_TXD_CSS_SHIFT     8           /* legacy checksum start, bits 15:8 */
#define E1000_TXD_POPTS_SHIFT   8           /* data descriptor packet options, bits 15:8 */
#define E1000_TXD_POPTS_IXSM    0x01u       /* insert the IP checksum */
#define E1000_TXD_POPTS_TXSM    0x02u       /* insert the TCP/UDP checksum */
#define E1000_TXD_SPECIAL_SHIFT 16          /* VLAN tag for VLE */
#define E1000_TXD_HDRLEN_SHIFT  8           /* context: header length, bits 15:8 */
#define E1000_TXD_MSS_SHIFT     16          /* context: MSS, bits 31:16 */
/* context descriptor first quadword (3.3.6): byte offsets */
#define E1000_TXC_IPCSS         0u
#define E1000_TXC_IPCSO         1u
#define E1000_TXC_IPCSE         2u          /* 16 bits, inclusive end, 0 = end of packet */
#define E1000_TXC_TUCSS         4u
#define E1000_TXC_TUCSO         5u
#define E1000_TXC_TUCSE         6u          /* 16 bits, inclusive end, 0 = end of packet */

/* ---- Frame sizes the MAC enforces (RCTL.LPE, 13.4) ------------------------------------- */
#define E1000_MAX_STD_FRAME     1522u       /* with FCS, tagged: larger needs RCTL.LPE */
#define E1000_MAX_LONG_FRAME    16384u      /* with LPE */
#define E1000_MIN_FRAME         64u         /* with FCS: TCTL.PSP pads to this */
#define E1000_FCS_LEN           4u

/* ---- EEPROM (chapter 5; 93C46 Microwire, 64 x 16 bits on the 82540EM) ------------------- */
#define E1000_EEPROM_WORDS          64u
#define E1000_EEPROM_ADDR_BITS      6u
#define E1000_EEPROM_MAC0           0x00u   /* Ethernet address, bytes 0-1 little-endian */
#define E1000_EEPROM_MAC1           0x01u
#define E1000_EEPROM_MAC2           0x02u
#define E1000_EEPROM_COMPAT         0x03u
#define E1000_EEPROM_ID_LED         0x04u   /* 0x0000/0xFFFF: driver defaults */
#define E1000_EEPROM_VERSION        0x05u
#define E1000_EEPROM_PBA0           0x08u   /* printed board assembly number */
#define E1000_EEPROM_PBA1           0x09u
#define E1000_EEPROM_INIT_CTRL1     0x0Au   /* Initialization Control Word 1 (5.6) */
#define E1000_EEPROM_SUBSYS_ID      0x0Bu
#define E1000_EEPROM_SUBSYS_VENDOR  0x0Cu
#define E1000_EEPROM_DEVICE_ID      0x0Du
#define E1000_EEPROM_VENDOR_ID      0x0Eu
#define E1000_EEPROM_INIT_CTRL2     0x0Fu   /* Initialization Control Word 2 (5.6) */
#define E1000_EEPROM_INIT_CTRL3_A   0x24u   /* Initialization Control Word 3, port A */
#define E1000_EEPROM_CHECKSUM       0x3Fu
#define E1000_EEPROM_SUM            0xBABAu /* words 0x00-0x3F add up to this */
#define E1000_EEPROM_ICW1_LOAD_IDS  0x0001u /* load vendor/device ids */
#define E1000_EEPROM_ICW1_LOAD_SUBSYS 0x0002u
#define E1000_EEPROM_ICW1_FD        0x0400u
#define E1000_EEPROM_ICW1_SIGNATURE 0x4000u /* bits 15:14 = 01b: the word is valid */
#define E1000_EEPROM_ICW2_PAUSE     0x1000u
#define E1000_EEPROM_ICW2_ASM_DIR   0x2000u
#define E1000_EEPROM_ICW2_ANE       0x0800u /* autonegotiation enable */
#define E1000_EEPROM_ICW3_APME      0x0400u /* APM wakeup enabled */
/* Microwire commands (chapter 5; 93C46): a start bit 1, two opcode bits, then the address */
#define E1000_EEPROM_OP_READ        0x2u    /* 10b */
#define E1000_EEPROM_OP_WRITE       0x1u    /* 01b */
#define E1000_EEPROM_OP_ERASE       0x3u    /* 11b */
#define E1000_EEPROM_OP_EXT         0x0u    /* 00b: the top two address bits select: */
#define E1000_EEPROM_EXT_EWDS       0x0u    /*   00 erase/write disable */
#define E1000_EEPROM_EXT_WRAL       0x1u    /*   01 write all */
#define E1000_EEPROM_EXT_ERAL       0x2u    /*   10 erase all */
#define E1000_EEPROM_EXT_EWEN       0x3u    /*   11 erase/write enable */

/* ---- PHY registers (IEEE 802.3 clause 22 and the M88E1011's own, SDM chapter 13,
 *      "PHY Registers") --------------------------------------------------------------------- */
#define E1000_PHY_CTRL          0x00u
#define E1000_PHY_STATUS        0x01u
#define E1000_PHY_ID1           0x02u
#define E1000_PHY_ID2           0x03u
#define E1000_PHY_AUTONEG_ADV   0x04u
#define E1000_PHY_LP_ABILITY    0x05u
#define E1000_PHY_AUTONEG_EXP   0x06u
#define E1000_PHY_NEXT_PAGE_TX  0x07u
#define E1000_PHY_LP_NEXT_PAGE  0x08u
#define E1000_PHY_1000T_CTRL    0x09u
#define E1000_PHY_1000T_STATUS  0x0Au
#define E1000_PHY_EXT_STATUS    0x0Fu
#define M88E1000_PHY_SPEC_CTRL  0x10u
#define M88E1000_PHY_SPEC_STATUS 0x11u
#define M88E1000_INT_ENABLE     0x12u
#define M88E1000_INT_STATUS     0x13u
#define M88E1000_EXT_PHY_SPEC_CTRL 0x14u
#define M88E1000_RX_ERR_CNTR    0x15u
#define M88E1000_PHY_PAGE_SELECT 0x1Du
#define M88E1000_PHY_GEN_CONTROL 0x1Eu
#define E1000_PHY_REGS          32u

#define M88E1011_I_PHY_ID       0x01410C20u /* ID1:ID2 without the revision nibble */
#define E1000_PHY_REVISION_MASK 0xFFFFFFF0u
#define M88_PHY_ID1             0x0141u

/* PHY_CTRL */
#define E1000_MII_CR_SPEED_MSB  0x0040u     /* with SPEED_LSB: 10 = 1000, 01 = 100, 00 = 10 */
#define E1000_MII_CR_FULL_DUPLEX 0x0100u
#define E1000_MII_CR_RESTART_AN 0x0200u     /* self-clearing */
#define E1000_MII_CR_ISOLATE    0x0400u
#define E1000_MII_CR_POWER_DOWN 0x0800u
#define E1000_MII_CR_AN_ENABLE  0x1000u
#define E1000_MII_CR_SPEED_LSB  0x2000u
#define E1000_MII_CR_LOOPBACK   0x4000u
#define E1000_MII_CR_RESET      0x8000u     /* software reset, self-clearing */
/* PHY_STATUS */
#define E1000_MII_SR_EXT_CAPS   0x0001u
#define E1000_MII_SR_LINK       0x0004u
#define E1000_MII_SR_AN_CAPS    0x0008u
#define E1000_MII_SR_AN_COMPLETE 0x0020u
#define E1000_MII_SR_PREAMBLE_SUPPRESS 0x0040u
#define E1000_MII_SR_EXT_STATUS 0x0100u
#define E1000_MII_SR_10T_HD     0x0800u
#define E1000_MII_SR_10T_FD     0x1000u
#define E1000_MII_SR_100X_HD    0x2000u
#define E1000_MII_SR_100X_FD    0x4000u
/* PHY_AUTONEG_ADV / PHY_LP_ABILITY */
#define E1000_NWAY_SELECTOR     0x0001u
#define E1000_NWAY_10T_HD       0x0020u
#define E1000_NWAY_10T_FD       0x0040u
#define E1000_NWAY_100TX_HD     0x0080u
#define E1000_NWAY_100TX_FD     0x0100u
#define E1000_NWAY_PAUSE        0x0400u
#define E1000_NWAY_ASM_DIR      0x0800u
#define E1000_NWAY_LP_ACK       0x4000u
#define E1000_NWAY_ER_LP_AN_ABLE 0x0001u    /* PHY_AUTONEG_EXP */
/* PHY_1000T_CTRL / PHY_1000T_STATUS / PHY_EXT_STATUS */
#define E1000_CR_1000T_HD       0x0100u
#define E1000_CR_1000T_FD       0x0200u
#define E1000_SR_1000T_LP_HD    0x0400u
#define E1000_SR_1000T_LP_FD    0x0800u
#define E1000_SR_1000T_REMOTE_RX_OK 0x1000u
#define E1000_SR_1000T_LOCAL_RX_OK 0x2000u
#define E1000_SR_1000T_IDLE_ERRORS 0x00FFu
#define E1000_ESR_1000T_HD      0x1000u
#define E1000_ESR_1000T_FD      0x2000u
/* M88E1000_PHY_SPEC_CTRL */
#define M88E1000_PSCR_AUTO_X_MODE 0x0060u
#define M88E1000_PSCR_ASSERT_CRS_ON_TX 0x0800u
/* M88E1000_PHY_SPEC_STATUS */
#define M88E1000_PSSR_LINK      0x0400u
#define M88E1000_PSSR_SPD_DPLX_RESOLVED 0x0800u
#define M88E1000_PSSR_DPLX      0x2000u
#define M88E1000_PSSR_SPEED_MASK 0xC000u
#define M88E1000_PSSR_1000MBS   0x8000u
/* M88E1000_EXT_PHY_SPEC_CTRL */
#define M88E1000_EPSCR_TX_CLK_25 0x0070u
#endif
