/* PCI configuration space as the PCI Local Bus spec 3.0 defines it (mechanism #1, 3.2.2.3.2;
 * the type-0 header, 6.1; the PCI-to-PCI bridge's type-1 header, PCI-to-PCI Bridge spec 1.2,
 * 3.2): register offsets and bits, shared by the VM's device models (dev/pci.c) and the host's
 * own enumeration (arch/x86/pci_host.c). Constants only. */
#ifndef MV_PCI_REGS_H
#define MV_PCI_REGS_H
#include "compiler.h"

/* Mechanism #1 ports. */
#define PCI_CONFIG_ADDRESS_PORT 0xCF8   /* 32-bit; dword accesses only (0xCF9 is the reset port) */
#define PCI_CONFIG_DATA_PORT    0xCFC   /* 0xCFC-0xCFF: byte lanes of the addressed dword */
#define PCI_CONFIG_DATA_PORTS   4

/* CONFIG_ADDRESS fields. */
#define PCI_CONFIG_ENABLE       0x80000000u     /* bit 31: CONFIG_DATA accesses run config cycles */
#define PCI_CONFIG_BUS_SHIFT    16
#define PCI_CONFIG_BUS_MASK     0xFFu
#define PCI_CONFIG_DEVFN_SHIFT  8               /* device 15:11, function 10:8 */
#define PCI_CONFIG_DEVFN_MASK   0xFFu
#define PCI_CONFIG_REG_MASK     0xFCu           /* register 7:2, dword aligned */
#define PCI_CONFIG_ADDRESS_MASK 0x80FFFFFCu     /* 30:24 reserved and 1:0 read as 0 */

#define PCI_MAX_DEVICES         32
#define PCI_MAX_FUNCTIONS       8
#define PCI_CONFIG_SIZE         256
#define PCI_NUM_BARS            6
#define PCI_DEVFN(dev, fn)      ((uint8_t)(((dev) << 3) | (fn)))
#define PCI_DEV(devfn)          ((unsigned)(devfn) >> 3)
#define PCI_FN(devfn)           ((unsigned)(devfn) & 7)

/* Type-0 configuration header. */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_CLASS_REVISION      0x08    /* dword: class code 31:8, revision 7:0 */
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0A    /* word: base class 15:8, subclass 7:0 */
#define PCI_CACHE_LINE_SIZE     0x0C
#define PCI_LATENCY_TIMER       0x0D
#define PCI_HEADER_TYPE         0x0E
#define PCI_BIST                0x0F
#define PCI_BAR0                0x10
#define PCI_BAR5                0x24
#define PCI_CARDBUS_CIS         0x28
#define PCI_SUBSYSTEM_VENDOR_ID 0x2C
#define PCI_SUBSYSTEM_ID        0x2E
#define PCI_ROM_ADDRESS         0x30
#define PCI_CAPABILITY_LIST     0x34
#define PCI_INTERRUPT_LINE      0x3C
#define PCI_INTERRUPT_PIN       0x3D    /* 1-4 = INTA#-INTD#, 0 = none */
#define PCI_MIN_GNT             0x3E
#define PCI_MAX_LAT             0x3F
#define PCI_DEVICE_SPECIFIC     0x40    /* first register past the standard header */

#define PCI_HEADER_TYPE_NORMAL  0x00
#define PCI_HEADER_TYPE_MULTI   0x80    /* function 0 of a multi-function device */

/* COMMAND bits. */
#define PCI_COMMAND_IO          0x0001  /* decode the I/O BARs */
#define PCI_COMMAND_MEMORY      0x0002  /* decode the memory BARs */
#define PCI_COMMAND_MASTER      0x0004  /* may initiate (DMA) */
#define PCI_COMMAND_SPECIAL     0x0008
#define PCI_COMMAND_INVALIDATE  0x0010
#define PCI_COMMAND_VGA_PALETTE 0x0020
#define PCI_COMMAND_PARITY      0x0040  /* respond to parity errors */
#define PCI_COMMAND_SERR        0x0100  /* drive SERR# */
#define PCI_COMMAND_INTX_DISABLE 0x0400 /* PCI 2.3: INTx# not asserted */

/* STATUS bits (only the constant ones are modelled; the error bits stay 0). */
#define PCI_STATUS_FAST_BACK    0x0080
#define PCI_STATUS_DEVSEL_MEDIUM 0x0200

/* BAR low bits. */
#define PCI_BAR_SPACE_IO        0x01    /* bit 0: 1 = I/O space */
#define PCI_BAR_MEM_TYPE_MASK   0x06    /* 00 = 32-bit (the only kind modelled) */
#define PCI_BAR_MEM_PREFETCH    0x08
#define PCI_BAR_IO_ADDR_MASK    0xFFFFFFFCu
#define PCI_BAR_MEM_ADDR_MASK   0xFFFFFFF0u
#define PCI_BAR_IO_MIN_SIZE     4u
#define PCI_BAR_MEM_MIN_SIZE    16u
#define PCI_IO_SPACE_SIZE       0x10000u        /* x86 port space: I/O windows must fit below */

/* The type-1 (PCI-to-PCI bridge) header: the bus numbers behind it. */
#define PCI_HEADER_TYPE_MASK    0x7F
#define PCI_HEADER_TYPE_BRIDGE  0x01
#define PCI_PRIMARY_BUS         0x18
#define PCI_SECONDARY_BUS       0x19
#define PCI_SUBORDINATE_BUS     0x1A
#define PCI_BRIDGE_BARS         2       /* a type-1 header has BAR0 and BAR1 only */
#define PCI_MAX_BUSES           256
#define PCI_VENDOR_NONE         0xFFFF  /* what a read of an empty slot returns */
#endif
