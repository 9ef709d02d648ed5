/* The PIIX3 IDE function, PCI 00:01.1 (Intel 82371SB datasheet, "PCI Configuration Registers -
 * IDE Interface" and "Bus Master IDE I/O Registers"): two legacy-mode ATA channels at the ISA
 * addresses (0x1F0-0x1F7 + 0x3F6 on IRQ 14, 0x170-0x177 + 0x376 on IRQ 15), the bus-master
 * block in BAR4, and the IDE timing registers (IDETIM per channel, SIDETIM). Everything the
 * function decodes is gated by PCICMD's I/O enable and each channel by its IDETIM decode
 * enable, as on the chip. Drives are dev/ata.c, the bus master dev/ide_bmdma.c; this file
 * wires them to the port table, the PCI bus and the IRQ lines. Pure C. */
#ifndef MV_PIIX_IDE_H
#define MV_PIIX_IDE_H
#include "compiler.h"
#include "dev/ata.h"
#include "dev/ide_bmdma.h"
#include "dev/pci.h"
#include "dev/ioport.h"

#define PIIX_IDE_DEVFN          PCI_DEVFN(1, 1)
#define PCI_DEVICE_PIIX3_IDE    0x7010
/* Mass storage, IDE, prog-if 80h: bus-master capable, both channels fixed in legacy mode. */
#define PIIX_IDE_CLASS_REV      0x01018000u
#define PIIX_IDE_BMIBA_BAR      4           /* BMIBA at 20h: 16 bytes of I/O */
#define PIIX_IDE_BMIBA_SIZE     16u
#define PIIX_IDE_CHANNELS       2

/* Legacy ISA resources. */
#define PIIX_IDE_PRI_CMD        0x1F0
#define PIIX_IDE_PRI_CTL        0x3F6       /* 0x3F7 is the floppy controller's */
#define PIIX_IDE_SEC_CMD        0x170
#define PIIX_IDE_SEC_CTL        0x376
#define PIIX_IDE_CMD_PORTS      8
#define PIIX_IDE_PRI_IRQ        14
#define PIIX_IDE_SEC_IRQ        15

/* Timing registers (datasheet 2.3.x): IDETIM 40h-41h primary, 42h-43h secondary; SIDETIM 44h. */
#define PIIX_IDETIM_PRI         0x40
#define PIIX_IDETIM_SEC         0x42
#define PIIX_SIDETIM            0x44
#define PIIX_IDETIM_DECODE      0x8000      /* IDE decode enable for the channel's ports */
#define PIIX_IDETIM_WMASK       0xF3FFu     /* bits 11:10 reserved */
#define PIIX_SIDETIM_WMASK      0xFFu

struct piix_ide;
struct piix_ide_channel {
    struct ata_channel ata;
    struct ide_bmdma bm;
    struct piix_ide *ide;
    unsigned index;                 /* 0 primary, 1 secondary */
    uint16_t cmd_base, ctl_port;
    unsigned irq;
};

struct piix_ide {
    struct pci_function fn;
    struct pci_bus *bus;
    struct ioport_table *io;
    struct piix_ide_channel ch[PIIX_IDE_CHANNELS];
    uint16_t bm_base;               /* where BAR4 is decoded, 0: nowhere */
    void (*set_irq)(void *ctx, unsigned irq, bool level);   /* ISA IRQ 14/15 */
    void *irq_ctx;
    /* The guest started a channel's bus master with its drive's DMA command waiting: run
     * piix_ide_dma_run(ide, channel) now (the synchronous model) or from a VMM thread. */
    void (*dma_start)(void *ctx, struct piix_ide *ide, unsigned channel);
    void *dma_ctx;
    uint64_t dma_blocked;           /* starts with bus mastering off in PCICMD */
};

/* Sets up the function and its channels (no drives: attach them with ata_attach_* on
 * ch[i].ata) in their power-on state, with the decode enables a BIOS leaves set. */
void piix_ide_init(struct piix_ide *p, const struct dma_ops *dma,
                   void (*set_irq)(void *, unsigned, bool), void *irq_ctx,
                   void (*dma_start)(void *, struct piix_ide *, unsigned), void *dma_ctx);
/* Registers the function on the bus and the legacy ports; false if taken. */
bool piix_ide_attach(struct piix_ide *p, struct pci_bus *bus, struct ioport_table *io);
/* A channel's bus master is started with a DMA data phase waiting at its drive. */
bool piix_ide_dma_ready(const struct piix_ide *p, unsigned channel);
/* Moves the data (through the bus master's PRDs) and completes the drive's command. */
void piix_ide_dma_run(struct piix_ide *p, unsigned channel);
/* The LBA and sector count of the selected drive's current command (for a service time). */
bool piix_ide_dma_request(const struct piix_ide *p, unsigned channel, uint64_t *lba, uint32_t *sectors);
#endif
