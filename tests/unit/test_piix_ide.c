/* The PIIX3 IDE function as Linux's ata_piix drives it, through the port table and the PCI
 * bus with the firmware's setup (82371SB datasheet: class 01 01 80, BMIBA at 20h, IDETIM
 * decode enables; SFF-8038i for the bus-master sequence of ata_bmdma_setup/start/stop):
 * IDENTIFY by PIO, READ/WRITE DMA through a PRD table in guest RAM with IRQ 14, the
 * start-then-command order, a deferred completion (the concurrent model), BAR4 moving,
 * decode gating and a PRD pointing outside RAM. */
#include "test.h"
#include "dev/piix_ide.h"
#include "fake_ram.h"

#define RAM_SIZE (1u << 20)
#define DISK_SECTORS 2048
#define PRDT 0x1000u
#define BUF  0x8000u

static uint8_t ram[RAM_SIZE];
static uint8_t disk[DISK_SECTORS * BLOCKDEV_SECTOR];
static struct blockdev bd;
static struct ioport_table io;
static struct pci_bus bus;
static struct piix_ide ide;
static bool irq[16];
static unsigned irq_rises[16], kicks;
static bool defer;                      /* the dma_start hook only records (concurrent model) */

static struct fake_ram fram = { .bytes = ram, .size = RAM_SIZE };
static const struct dma_ops dma = FAKE_RAM_DMA(&fram);

static void set_irq(void *ctx, unsigned n, bool level)
{
    CHECK(ctx == &ide && (n == 14 || n == 15));
    if (level && !irq[n])
        irq_rises[n]++;
    irq[n] = level;
}
static void dma_start(void *ctx, struct piix_ide *p, unsigned ch)
{
    kicks++;
    if (!defer)
        piix_ide_dma_run(p, ch);
}

static void setup(void)
{
    static const uint8_t pirqs[4] = { 10, 10, 11, 11 };
    memset(ram, 0, sizeof(ram));
    for (size_t i = 0; i < sizeof(disk); i++)
        disk[i] = (uint8_t)(i * 7 + (i >> 9));
    bd = (struct blockdev){ .data = disk, .sectors = DISK_SECTORS };
    memset(irq, 0, sizeof(irq));
    memset(irq_rises, 0, sizeof(irq_rises));
    kicks = 0;
    defer = false;
    ioport_init(&io);
    pci_init(&bus, NULL, NULL);
    CHECK(pci_attach(&io, &bus));
    piix_ide_init(&ide, &dma, set_irq, &ide, dma_start, &ide);
    CHECK(ata_attach_disk(&ide.ch[0].ata, 0, &bd, "MONOVISOR HARDDISK", "MV00hda"));
    CHECK(piix_ide_attach(&ide, &bus, &io));
    CHECK(pci_firmware_setup(&bus, pirqs, 0xC000, 0xC0000000u, 0xFEBFFFFFu));
}

static uint32_t cfg(unsigned off, unsigned size) { return pci_config_read(&bus, PIIX_IDE_DEVFN, off, size); }
static uint8_t inb(uint16_t p) { return (uint8_t)ioport_in(&io, p, 1); }
static void outb(uint16_t p, uint8_t v) { ioport_out(&io, p, 1, v); }
static uint16_t bm(void) { return (uint16_t)(cfg(PCI_BAR0 + 4 * PIIX_IDE_BMIBA_BAR, 4) & ~3u); }

/* ata_bmdma_setup + exec_command + ata_bmdma_start for READ/WRITE DMA of n sectors at lba. */
static void dma_cmd(uint8_t cmd, uint32_t lba, uint8_t n, bool start_first)
{
    uint16_t b = bm();
    ioport_out(&io, (uint16_t)(b + BMDMA_REG_PRDT), 4, PRDT);
    uint8_t dir = cmd == ATA_CMD_READ_DMA ? BMDMA_CMD_WRITE : 0;
    outb(b + BMDMA_REG_CMD, dir);
    outb(b + BMDMA_REG_STATUS, BMDMA_ST_INTR | BMDMA_ST_ERROR);     /* clear */
    if (start_first)
        outb(b + BMDMA_REG_CMD, dir | BMDMA_CMD_START);
    outb(0x1F6, ATA_DEV_OBS | ATA_DEV_LBA | (uint8_t)(lba >> 24 & 0xF));
    outb(0x1F2, n);
    outb(0x1F3, (uint8_t)lba);
    outb(0x1F4, (uint8_t)(lba >> 8));
    outb(0x1F5, (uint8_t)(lba >> 16));
    outb(0x1F7, cmd);
    if (!start_first)
        outb(b + BMDMA_REG_CMD, dir | BMDMA_CMD_START);
}

TEST(piix_ide_identity_and_firmware_setup)
{
    setup();
    CHECK_EQ(cfg(PCI_VENDOR_ID, 2), 0x8086);
    CHECK_EQ(cfg(PCI_DEVICE_ID, 2), 0x7010);
    CHECK_EQ(cfg(PCI_CLASS_REVISION, 4) >> 8, 0x010180);
    CHECK_EQ(cfg(PCI_INTERRUPT_PIN, 1), 0);                 /* legacy mode: IRQ 14/15 */
    CHECK(cfg(PIIX_IDETIM_PRI, 2) & PIIX_IDETIM_DECODE);    /* ata_piix's piix_enable_bits */
    CHECK(cfg(PIIX_IDETIM_SEC, 2) & PIIX_IDETIM_DECODE);
    CHECK_EQ(bm(), 0xC000);                                 /* the only I/O BAR on the bus */
    CHECK(cfg(PCI_COMMAND, 2) & PCI_COMMAND_MASTER);
    /* The timing registers take what Linux's piix_set_piomode writes. */
    pci_config_write(&bus, PIIX_IDE_DEVFN, PIIX_IDETIM_PRI, 2, 0xA307);
    CHECK_EQ(cfg(PIIX_IDETIM_PRI, 2), 0xA307);
    pci_config_write(&bus, PIIX_IDE_DEVFN, PIIX_SIDETIM, 1, 0x5A);
    CHECK_EQ(cfg(PIIX_SIDETIM, 1), 0x5A);
    CHECK_STR(ioport_owner_name(&io, 0x1F0), "ide-data");
    CHECK_STR(ioport_owner_name(&io, 0x3F6), "ide-ctl");
    CHECK_STR(ioport_owner_name(&io, 0x3F7), "none");      /* the floppy's */
    CHECK_STR(ioport_owner_name(&io, 0xC00F), "ide-bm");
}

TEST(piix_ide_identify_by_pio)
{
    setup();
    outb(0x1F6, ATA_DEV_OBS);
    outb(0x1F7, ATA_CMD_IDENTIFY);
    CHECK(irq[14]);
    CHECK(inb(0x1F7) & ATA_SR_DRQ);
    CHECK(!irq[14]);                                        /* the status read acknowledged it */
    uint16_t w[256];
    for (int i = 0; i < 256; i++)
        w[i] = (uint16_t)ioport_in(&io, 0x1F0, 2);
    CHECK_EQ(w[27], ('M' << 8) | 'O');                      /* "MONOVISOR HARDDISK", ATA byte order */
    CHECK_EQ(w[60] | (uint32_t)w[61] << 16, DISK_SECTORS);
    CHECK(!(inb(0x3F6) & ATA_SR_DRQ));
    /* Secondary channel without drives: the floating bus (DD7 pulled down). */
    CHECK_EQ(inb(0x177), 0x7F);
}

TEST(piix_ide_read_and_write_dma)
{
    setup();
    /* Two PRDs: 1 KiB at BUF, 3 KiB at BUF + 0x2000 with EOT. */
    w32(PRDT, BUF);
    w32(PRDT + 4, 1024);
    w32(PRDT + 8, BUF + 0x2000);
    w32(PRDT + 12, 3072 | BMDMA_PRD_EOT);
    dma_cmd(ATA_CMD_READ_DMA, 100, 8, false);
    CHECK_EQ(kicks, 1);
    CHECK(!memcmp(ram + BUF, disk + 100 * 512, 1024));
    CHECK(!memcmp(ram + BUF + 0x2000, disk + 100 * 512 + 1024, 3072));
    CHECK_EQ(ram[BUF + 1024], 0);                           /* between the regions: untouched */
    uint8_t st = inb(bm() + BMDMA_REG_STATUS);
    CHECK_EQ(st & (BMDMA_ST_ACTIVE | BMDMA_ST_INTR | BMDMA_ST_ERROR), BMDMA_ST_INTR);   /* exact fit */
    CHECK(irq[14]);
    CHECK_EQ(inb(0x1F7) & (ATA_SR_DRQ | ATA_SR_ERR | ATA_SR_BSY), 0);
    outb(bm() + BMDMA_REG_CMD, BMDMA_CMD_WRITE);            /* ata_bmdma_stop */
    CHECK(!irq[14]);

    /* A write, with the engine started before the command (both orders work). */
    memset(ram + BUF, 0xAB, 1024);
    memset(ram + BUF + 0x2000, 0xCD, 3072);
    dma_cmd(ATA_CMD_WRITE_DMA, 1000, 8, true);
    CHECK_EQ(kicks, 2);
    CHECK_EQ(disk[1000 * 512], 0xAB);
    CHECK_EQ(disk[1000 * 512 + 1024], 0xCD);
    CHECK_EQ(disk[1008 * 512], (uint8_t)(1008 * 512 * 7 + 1008));
    CHECK_EQ(bd.writes, 1);
}

TEST(piix_ide_deferred_completion)
{
    setup();
    defer = true;
    w32(PRDT, BUF);
    w32(PRDT + 4, 4096 | BMDMA_PRD_EOT);
    dma_cmd(ATA_CMD_READ_DMA, 7, 8, false);
    CHECK_EQ(kicks, 1);
    /* Queued: the vCPU sees a busy transfer, no interrupt yet. */
    CHECK(piix_ide_dma_ready(&ide, 0));
    CHECK(!piix_ide_dma_ready(&ide, 1));
    uint64_t lba = 0;
    uint32_t n = 0;
    CHECK(piix_ide_dma_request(&ide, 0, &lba, &n));
    CHECK_EQ(lba, 7);
    CHECK_EQ(n, 8);
    CHECK(inb(bm() + BMDMA_REG_STATUS) & BMDMA_ST_ACTIVE);
    CHECK(inb(0x3F6) & ATA_SR_DRQ);
    CHECK(!irq[14]);
    CHECK_EQ(ram[BUF], 0);
    piix_ide_dma_run(&ide, 0);                              /* the disk thread's turn */
    CHECK(!memcmp(ram + BUF, disk + 7 * 512, 4096));
    CHECK(irq[14]);
    CHECK(!piix_ide_dma_ready(&ide, 0));
    /* Without bus mastering the engine cannot get the bus: nothing is ready to serve (so
     * nothing is served over and over) until the guest turns mastering on, which starts it. */
    outb(bm() + BMDMA_REG_CMD, 0);
    uint16_t cmd = (uint16_t)cfg(PCI_COMMAND, 2);
    pci_config_write(&bus, PIIX_IDE_DEVFN, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER);
    unsigned k = kicks;
    dma_cmd(ATA_CMD_READ_DMA, 9, 8, false);
    CHECK_EQ(kicks, k);
    CHECK(!piix_ide_dma_ready(&ide, 0));
    piix_ide_dma_run(&ide, 0);
    CHECK_EQ(ide.dma_blocked, 1);
    memset(ram + BUF, 0, 4096);
    pci_config_write(&bus, PIIX_IDE_DEVFN, PCI_COMMAND, 2, cmd);
    CHECK_EQ(kicks, k + 1);
    CHECK(piix_ide_dma_ready(&ide, 0));
    piix_ide_dma_run(&ide, 0);
    CHECK(!memcmp(ram + BUF, disk + 9 * 512, 4096));
    CHECK(irq[14]);
}

TEST(piix_ide_prd_outside_ram)
{
    setup();
    w32(PRDT, RAM_SIZE - 512);                              /* the region runs past the end */
    w32(PRDT + 4, 4096 | BMDMA_PRD_EOT);
    dma_cmd(ATA_CMD_READ_DMA, 0, 8, false);
    uint8_t st = inb(bm() + BMDMA_REG_STATUS);
    CHECK(st & BMDMA_ST_ERROR);
    CHECK(!(st & BMDMA_ST_ACTIVE));
    uint8_t s = inb(0x1F7);
    CHECK(s & ATA_SR_ERR);                                  /* the guest's driver sees it fail */
    CHECK(inb(0x1F1) & ATA_ER_ABRT);
    CHECK_EQ(ide.ch[0].bm.bus_errors, 1);
    for (size_t i = RAM_SIZE - 512; i < RAM_SIZE; i++)
        CHECK_EQ(ram[i], 0);                                /* nothing written, even in RAM */
}

TEST(piix_ide_bar_moves_and_decode_gates)
{
    setup();
    pci_config_write(&bus, PIIX_IDE_DEVFN, PCI_BAR0 + 4 * PIIX_IDE_BMIBA_BAR, 4, 0xD000);
    CHECK_STR(ioport_owner_name(&io, 0xC000), "none");
    CHECK_STR(ioport_owner_name(&io, 0xD000), "ide-bm");
    /* IDETIM decode off: the primary channel's ports float; the secondary's stay. */
    pci_config_write(&bus, PIIX_IDE_DEVFN, PIIX_IDETIM_PRI, 2, 0);
    CHECK_EQ(inb(0x1F7), 0xFF);
    outb(0x1F7, ATA_CMD_IDENTIFY);
    CHECK(!irq[14]);
    pci_config_write(&bus, PIIX_IDE_DEVFN, PIIX_IDETIM_PRI, 2, PIIX_IDETIM_DECODE);
    CHECK_EQ(inb(0x1F7) & ATA_SR_DRQ, 0);
    /* PCICMD I/O off: every port of the function, the bus master block too. */
    uint16_t cmd = (uint16_t)cfg(PCI_COMMAND, 2);
    pci_config_write(&bus, PIIX_IDE_DEVFN, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_IO);
    CHECK_EQ(inb(0x1F7), 0xFF);
    CHECK_STR(ioport_owner_name(&io, 0xD000), "none");
    pci_config_write(&bus, PIIX_IDE_DEVFN, PCI_COMMAND, 2, cmd);
    CHECK_STR(ioport_owner_name(&io, 0xD000), "ide-bm");
    /* A BAR moved onto ports another device owns is not decoded. */
    pci_config_write(&bus, PIIX_IDE_DEVFN, PCI_BAR0 + 4 * PIIX_IDE_BMIBA_BAR, 4, 0x0CF0);
    CHECK_STR(ioport_owner_name(&io, 0x0CF8), "pci-addr");
    CHECK_EQ(ide.bm_base, 0);
}
