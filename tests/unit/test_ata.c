/* ATA/ATAPI channel model: reset signatures, absent and empty devices, IDENTIFY, the PIO
 * data-in/data-out protocols, MULTIPLE, LBA48 with HOB, CHS, errors, power and features,
 * SRST, the bus-master DMA interface, interrupts, the ATAPI PACKET protocol and its SCSI
 * commands, and a seeded random run of 1M register accesses.
 * References: ATA/ATAPI-6 (T13 1410D), SFF-8020i, MMC-4, SPC-3. */
#include "test.h"
#include <stdlib.h>
#include "dev/blockdev.h"
#include "dev/ata.h"

struct irqrec {
    bool level;
    unsigned rises, falls;
};

static void fake_irq(void *ctx, bool level)
{
    struct irqrec *r = ctx;
    CHECK(level != r->level);           /* set_irq reports changes only */
    r->level = level;
    level ? r->rises++ : r->falls++;
}

static struct ata_channel ch;
static struct irqrec irq;
static struct blockdev disk, cd;

static uint8_t pattern(uint64_t sector, unsigned byte, unsigned seed)
{
    return (uint8_t)((sector * 31 + byte * 7 + seed) ^ (sector >> 8) ^ (byte >> 5));
}

/* A blockdev of 'sectors' whose first 'backed' sectors exist in memory (a big fake disk
 * claims more than it holds: only its low LBAs may be touched). */
static void mkbd(struct blockdev *b, uint64_t sectors, uint64_t backed, bool ro, unsigned seed)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
    b->data = malloc(backed * BLOCKDEV_SECTOR);
    for (uint64_t s = 0; s < backed; s++)
        for (unsigned i = 0; i < BLOCKDEV_SECTOR; i++)
            b->data[s * BLOCKDEV_SECTOR + i] = pattern(s, i, seed);
    b->sectors = sectors;
    b->readonly = ro;
}

static void init_channel(void)
{
    memset(&irq, 0, sizeof(irq));
    memset(&ch, 0xA5, sizeof(ch));      /* init must not rely on a zeroed struct */
    ata_init(&ch, fake_irq, &irq);
}

/* Disk (1024 sectors) as master, CD (64 x 2048 bytes) as slave. */
static void setup(void)
{
    mkbd(&disk, 1024, 1024, false, 1);
    mkbd(&cd, 64 * ATA_CD_BD_SECTORS, 64 * ATA_CD_BD_SECTORS, true, 2);
    init_channel();
    CHECK(ata_attach_disk(&ch, 0, &disk, "MONOVISOR TEST DISK", "SN-12345"));
    CHECK(ata_attach_cdrom(&ch, 1, &cd, "MONOVISOR TEST CD", "CD-777"));
}

static void setup_disk_only(uint64_t sectors, uint64_t backed)
{
    mkbd(&disk, sectors, backed, false, 1);
    init_channel();
    CHECK(ata_attach_disk(&ch, 0, &disk, "BIG DISK", "SN-BIG"));
}

static uint8_t rd(unsigned r) { return (uint8_t)ata_read(&ch, r, 1); }
static void wr(unsigned r, uint8_t v) { ata_write(&ch, r, 1, v); }
static uint16_t rdw(void) { return (uint16_t)ata_read(&ch, ATA_REG_DATA, 2); }
static uint32_t rdl(void) { return ata_read(&ch, ATA_REG_DATA, 4); }
static void wrw(uint16_t v) { ata_write(&ch, ATA_REG_DATA, 2, v); }
static void wrl(uint32_t v) { ata_write(&ch, ATA_REG_DATA, 4, v); }

static void sel(unsigned u)
{
    wr(ATA_REG_DEVICE, ATA_DEV_OBS | ATA_DEV_LBA | (u ? ATA_DEV_DEV : 0));
}

static void cmd28(unsigned u, uint32_t lba, uint8_t count, uint8_t cmd)
{
    wr(ATA_REG_DEVICE, (uint8_t)(ATA_DEV_OBS | ATA_DEV_LBA | (u ? ATA_DEV_DEV : 0) |
                                 ((lba >> 24) & ATA_DEV_HEAD)));
    wr(ATA_REG_COUNT, count);
    wr(ATA_REG_LBAL, (uint8_t)lba);
    wr(ATA_REG_LBAM, (uint8_t)(lba >> 8));
    wr(ATA_REG_LBAH, (uint8_t)(lba >> 16));
    wr(ATA_REG_COMMAND, cmd);
}

/* ATA-6 48-bit feature set: each register written twice, previous content first. */
static void cmd48(unsigned u, uint64_t lba, uint32_t count, uint8_t cmd)
{
    wr(ATA_REG_DEVICE, (uint8_t)(ATA_DEV_LBA | (u ? ATA_DEV_DEV : 0)));
    wr(ATA_REG_COUNT, (uint8_t)(count >> 8));
    wr(ATA_REG_LBAL, (uint8_t)(lba >> 24));
    wr(ATA_REG_LBAM, (uint8_t)(lba >> 32));
    wr(ATA_REG_LBAH, (uint8_t)(lba >> 40));
    wr(ATA_REG_COUNT, (uint8_t)count);
    wr(ATA_REG_LBAL, (uint8_t)lba);
    wr(ATA_REG_LBAM, (uint8_t)(lba >> 8));
    wr(ATA_REG_LBAH, (uint8_t)(lba >> 16));
    wr(ATA_REG_COMMAND, cmd);
}

static void read_block(uint8_t *dst, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i += 2) {
        uint16_t w = rdw();
        dst[i] = (uint8_t)w;
        dst[i + 1] = (uint8_t)(w >> 8);
    }
}

static unsigned be16_test(const uint8_t *p)
{
    return (unsigned)(p[0] << 8 | p[1]);
}

static uint16_t idw(const uint8_t *id, unsigned w)
{
    return (uint16_t)(id[2 * w] | id[2 * w + 1] << 8);
}

/* The ATA string in words [w, w+n) as host order text (characters swapped back). */
static void idstr(const uint8_t *id, unsigned w, unsigned n, char *out)
{
    for (unsigned i = 0; i < 2 * n; i++)
        out[i] = (char)id[2 * w + (i ^ 1)];
    out[2 * n] = 0;
}

static void identify(unsigned u, uint8_t cmd, uint8_t *id)
{
    sel(u);
    wr(ATA_REG_COMMAND, cmd);
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    read_block(id, 512);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
}

static bool sum_ok(const uint8_t *id)
{
    uint8_t s = 0;
    for (unsigned i = 0; i < 512; i++)
        s = (uint8_t)(s + id[i]);
    return s == 0 && id[510] == 0xA5;
}

/* ---- reset and presence ---- */

/* ATA-6 clause 9, signature and persistence: ATA 01h/01h/00h/00h, PACKET 01h/01h/14h/EBh,
 * diagnostic code 01h in Error. */
TEST(ata_reset_signatures)
{
    setup();
    CHECK(!irq.level);
    CHECK_EQ(irq.rises, 0);
    sel(0);
    CHECK_EQ(rd(ATA_REG_COUNT), 1);
    CHECK_EQ(rd(ATA_REG_LBAL), 1);
    CHECK_EQ(rd(ATA_REG_LBAM), 0);
    CHECK_EQ(rd(ATA_REG_LBAH), 0);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_DIAG_PASSED);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    /* The device select write latched into both copies; select again to read the CD's
     * signature, which the reset put in its own copy. */
    ata_reset(&ch);
    sel(1);
    CHECK_EQ(rd(ATA_REG_COUNT), 1);
    CHECK_EQ(rd(ATA_REG_LBAL), 1);
    CHECK_EQ(rd(ATA_REG_LBAM), 0x14);
    CHECK_EQ(rd(ATA_REG_LBAH), 0xEB);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_DIAG_PASSED);
    CHECK_EQ(rd(ATA_REG_STATUS), 0);    /* PACKET device: DRDY clear after reset */
    CHECK_EQ(ata_read(&ch, ATA_REG_DEVICE, 1) & ATA_DEV_DEV, ATA_DEV_DEV);
}

/* ATA-6 single device configurations: device 0 answers for an absent device 1. Linux's
 * ata_devchk() (55h/AAh latch) and ata_sff_dev_classify() (err, signature, status 00h). */
TEST(ata_absent_slave)
{
    setup_disk_only(1024, 1024);
    sel(1);
    CHECK_EQ(rd(ATA_REG_STATUS), 0);
    CHECK_EQ(ata_altstatus(&ch), 0);
    wr(ATA_REG_COUNT, 0x55);
    wr(ATA_REG_LBAL, 0xAA);
    wr(ATA_REG_COUNT, 0xAA);
    wr(ATA_REG_LBAL, 0x55);
    wr(ATA_REG_COUNT, 0x55);
    wr(ATA_REG_LBAL, 0xAA);
    CHECK_EQ(rd(ATA_REG_COUNT), 0x55);  /* registers latch: devchk says "maybe present" */
    CHECK_EQ(rd(ATA_REG_LBAL), 0xAA);
    /* SRST, then classify device 1: err 00h, signature 00h/00h (ATA), status 00h: NONE. */
    ata_devctl(&ch, ATA_CTL_SRST);
    ata_devctl(&ch, 0);
    sel(1);
    CHECK_EQ(rd(ATA_REG_ERROR), 0);
    CHECK_EQ(rd(ATA_REG_LBAM), 0);
    CHECK_EQ(rd(ATA_REG_LBAH), 0);
    CHECK_EQ(rd(ATA_REG_STATUS), 0);
    /* Commands to it are ignored (no interrupt, no data phase). */
    wr(ATA_REG_COMMAND, ATA_CMD_IDENTIFY);
    CHECK(!irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), 0);
    CHECK_EQ(rdw(), 0xFF7F);
    /* Device 0 is unaffected and still works. */
    sel(0);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_DIAG_PASSED);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    uint8_t id[512];
    identify(0, ATA_CMD_IDENTIFY, id);
    CHECK(idw(id, 93) & 0x0040);        /* word 93: device 0 responds for device 1 */
}

/* No device: DD7 pulled down by the host (ATA-6 signal descriptions), the rest floats. */
TEST(ata_empty_channel)
{
    init_channel();
    for (unsigned r = 1; r < 8; r++)
        CHECK_EQ(rd(r), ATA_FLOATING_BUS);
    CHECK_EQ(ata_altstatus(&ch), ATA_FLOATING_BUS);
    CHECK_EQ(rdw(), 0xFF7F);
    CHECK_EQ(rdl(), 0xFF7FFF7Fu);
    wr(ATA_REG_COUNT, 0x55);
    CHECK_EQ(rd(ATA_REG_COUNT), ATA_FLOATING_BUS);
    wr(ATA_REG_COMMAND, ATA_CMD_EXEC_DIAGNOSTIC);
    CHECK(!irq.level);
    CHECK(!ata_dma_pending(&ch, NULL, NULL));
}

TEST(ata_attach_checks)
{
    setup();
    struct blockdev odd = { 0 };
    uint8_t buf[3 * BLOCKDEV_SECTOR];
    odd.data = buf;
    odd.sectors = 3;                    /* 1536 bytes: not whole CD sectors */
    odd.readonly = true;
    CHECK(!ata_attach_cdrom(&ch, 1, &odd, NULL, NULL));
    CHECK(!ata_attach_disk(&ch, 2, &disk, NULL, NULL));
    CHECK(!ata_attach_disk(&ch, 0, NULL, NULL, NULL));
    CHECK(ata_attach_disk(&ch, 1, &odd, NULL, NULL));  /* a 3-sector disk is fine */
}

/* ---- IDENTIFY ---- */

/* ATA-6 IDENTIFY DEVICE: fields, strings, capacities, checksum. A 384 GiB disk (faked:
 * only 64 sectors exist) shows the LBA28 cap in words 60-61 and LBA48 in 100-103. */
TEST(ata_identify_disk)
{
    const uint64_t big = 0x30000000ull;
    setup_disk_only(big, 64);
    uint8_t id[512];
    char s[41];
    identify(0, ATA_CMD_IDENTIFY, id);
    CHECK_EQ(irq.rises, 1);
    CHECK(!irq.level);
    CHECK(sum_ok(id));
    CHECK_EQ(idw(id, 0), 0x0040);
    CHECK_EQ(idw(id, 1), 16383);
    CHECK_EQ(idw(id, 3), 16);
    CHECK_EQ(idw(id, 6), 63);
    idstr(id, 10, 10, s);
    CHECK_STR(s, "SN-BIG              ");
    idstr(id, 27, 20, s);
    CHECK_STR(s, "BIG DISK                                ");
    CHECK_EQ(id[54], 'I');              /* "BI": 'B' in bits 15:8 of word 27 */
    CHECK_EQ(id[55], 'B');
    idstr(id, 23, 4, s);
    CHECK_STR(s, "MV 1.0  ");
    CHECK_EQ(idw(id, 47), 0x8000 | ATA_MAX_MULTIPLE);
    CHECK_EQ(idw(id, 49) & 0x0300, 0x0300);        /* LBA, DMA */
    CHECK_EQ(idw(id, 53) & 7, 7);
    CHECK_EQ(idw(id, 59), 0);                       /* no multiple mode yet */
    CHECK_EQ(idw(id, 60) | (uint32_t)idw(id, 61) << 16, 0x0FFFFFFF);
    CHECK_EQ(idw(id, 63) & 0xFF, 0x07);
    CHECK_EQ(idw(id, 64), 0x03);
    CHECK_EQ(idw(id, 80) & 0x40, 0x40);            /* ATA/ATAPI-6 */
    CHECK_EQ(idw(id, 83) & 0xC000, 0x4000);
    CHECK(idw(id, 83) & 0x0400);                   /* 48-bit address */
    CHECK(idw(id, 83) & 0x2000);                   /* FLUSH CACHE EXT */
    CHECK(idw(id, 86) & 0x0400);
    CHECK(idw(id, 82) & 0x0020);                   /* write cache supported... */
    CHECK(idw(id, 85) & 0x0020);                   /* ...and enabled by default */
    CHECK_EQ(idw(id, 87) & 0xC000, 0x4000);
    CHECK_EQ(idw(id, 88), 0x003F);
    CHECK_EQ(idw(id, 93) & 0xE000, 0x6000);        /* 80-conductor cable (Linux) */
    uint64_t cap = 0;
    for (unsigned i = 0; i < 4; i++)
        cap |= (uint64_t)idw(id, 100 + i) << (16 * i);
    CHECK_EQ(cap, big);
    /* An LBA48 read of a low sector of the big disk works; LBA28 stops at 0FFFFFFFh. */
    cmd48(0, 5, 1, ATA_CMD_READ_SECTORS_EXT);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    read_block(id, 512);
    CHECK(!memcmp(id, disk.data + 5 * 512, 512));
    cmd28(0, 0x0FFFFFFF, 1, ATA_CMD_READ_SECTORS);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_IDNF);
}

TEST(ata_identify_small_disk_checksum)
{
    setup();
    uint8_t id[512];
    identify(0, ATA_CMD_IDENTIFY, id);
    CHECK(sum_ok(id));
    CHECK_EQ(idw(id, 60), 1024);
    CHECK_EQ(idw(id, 61), 0);
    CHECK_EQ(idw(id, 100), 1024);
    CHECK_EQ(idw(id, 1), 1);            /* < 1 cylinder of 16x63: still 1 */
    CHECK_EQ(idw(id, 93) & 0x0030, 0x0030);  /* device 1 seen (PDIAG-, DASP-) */
}

/* ATA-6 IDENTIFY DEVICE to a PACKET device aborts with the signature in the registers;
 * IDENTIFY PACKET DEVICE returns word 0 = 85C0h. */
TEST(ata_identify_packet)
{
    setup();
    uint8_t id[512];
    char s[41];
    sel(1);
    wr(ATA_REG_COMMAND, ATA_CMD_IDENTIFY);
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_ABRT);
    CHECK_EQ(rd(ATA_REG_LBAM), 0x14);
    CHECK_EQ(rd(ATA_REG_LBAH), 0xEB);
    identify(1, ATA_CMD_IDENTIFY_PACKET, id);
    CHECK(sum_ok(id));
    CHECK_EQ(idw(id, 0), 0x85C0);
    CHECK_EQ((idw(id, 0) >> 8) & 0x1F, 0x05);      /* CD-ROM */
    CHECK_EQ(idw(id, 0) & 0x0003, 0);              /* 12-byte packets */
    CHECK(idw(id, 49) & 0x0200);
    CHECK(idw(id, 82) & 0x0010);                   /* PACKET feature set */
    idstr(id, 27, 20, s);
    CHECK(!strncmp(s, "MONOVISOR TEST CD ", 18));
    idstr(id, 10, 10, s);
    CHECK(!strncmp(s, "CD-777  ", 8));
    /* The disk refuses IDENTIFY PACKET DEVICE. */
    sel(0);
    wr(ATA_REG_COMMAND, ATA_CMD_IDENTIFY_PACKET);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_ABRT);
}

/* ---- PIO ---- */

/* ATA-6 clause 9, PIO data-in: an interrupt per DRQ block, none after the last one. */
TEST(ata_pio_read_sectors_16bit)
{
    setup();
    uint8_t b[512];
    cmd28(0, 10, 3, ATA_CMD_READ_SECTORS);
    for (unsigned s = 0; s < 3; s++) {
        CHECK(irq.level);
        CHECK_EQ(ata_altstatus(&ch), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
        CHECK(irq.level);               /* AltStatus does not acknowledge */
        CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
        CHECK(!irq.level);
        read_block(b, 512);
        CHECK(!memcmp(b, disk.data + (10 + s) * 512, 512));
    }
    CHECK_EQ(irq.rises, 3);
    CHECK(!irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(disk.reads, 1);
    CHECK_EQ(disk.bytes_read, 3 * 512);
    CHECK_EQ(rdw(), 0xFF7F);            /* DRQ clear: the floating bus, nothing consumed */
}

TEST(ata_pio_read_sectors_32bit_count0)
{
    setup();
    cmd28(0, 0, 0, ATA_CMD_READ_SECTORS);   /* count 0 = 256 sectors */
    unsigned blocks = 0;
    for (unsigned s = 0; s < 256 && (ata_altstatus(&ch) & ATA_SR_DRQ); s++, blocks++) {
        rd(ATA_REG_STATUS);
        uint32_t w[128];
        for (unsigned i = 0; i < 128; i++)
            w[i] = rdl();
        CHECK(!memcmp(w, disk.data + s * 512, 512));
    }
    CHECK_EQ(blocks, 256);
    CHECK_EQ(irq.rises, 256);
    CHECK_EQ(ata_altstatus(&ch), ATA_SR_DRDY | ATA_SR_DSC);
}

/* ATA-6 clause 9, PIO data-out: DRQ without an interrupt for the first block, an
 * interrupt after each block, the last one when the command is done. */
TEST(ata_pio_write_sectors)
{
    setup();
    cmd28(0, 100, 2, ATA_CMD_WRITE_SECTORS);
    CHECK(!irq.level);
    CHECK_EQ(ata_altstatus(&ch), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    for (unsigned i = 0; i < 256; i++)
        wrw((uint16_t)(0x1100 + i));
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    for (unsigned i = 0; i < 128; i++)
        wrl(0xCAFE0000u + i);
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(irq.rises, 2);
    const uint8_t *p = disk.data + 100 * 512;
    CHECK_EQ(p[0], 0x00);
    CHECK_EQ(p[1], 0x11);
    CHECK_EQ(p[510], 0xFF);
    CHECK_EQ(p[511], 0x11);
    CHECK_EQ(p[512], 0x00);
    CHECK_EQ(p[514], 0xFE);
    CHECK_EQ(p[515], 0xCA);
    CHECK_EQ(p[1020], 127);
    CHECK_EQ(disk.writes, 1);
    CHECK_EQ(disk.bytes_written, 1024);
    CHECK_EQ(pattern(102, 0, 1), p[1024]);  /* the next sector untouched */
    wrw(0x1234);                            /* DRQ clear: ignored */
    CHECK_EQ(disk.bytes_written, 1024);
}

/* READ/WRITE MULTIPLE: DRQ blocks of the SET MULTIPLE count; abort while not set. */
TEST(ata_multiple)
{
    setup();
    cmd28(0, 0, 8, ATA_CMD_READ_MULTIPLE);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_ABRT);
    wr(ATA_REG_COUNT, 3);               /* not a power of two */
    wr(ATA_REG_COMMAND, ATA_CMD_SET_MULTIPLE);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    wr(ATA_REG_COUNT, 32);              /* above the maximum (word 47) */
    wr(ATA_REG_COMMAND, ATA_CMD_SET_MULTIPLE);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    wr(ATA_REG_COUNT, 4);
    wr(ATA_REG_COMMAND, ATA_CMD_SET_MULTIPLE);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    uint8_t id[512];
    identify(0, ATA_CMD_IDENTIFY, id);
    CHECK_EQ(idw(id, 59), 0x0104);

    unsigned before = irq.rises;
    cmd28(0, 20, 10, ATA_CMD_READ_MULTIPLE);    /* blocks of 4, 4, 2 sectors */
    static uint8_t b[10 * 512];
    unsigned off = 0, blocks = 0;
    while (ata_altstatus(&ch) & ATA_SR_DRQ) {
        CHECK(irq.level);
        rd(ATA_REG_STATUS);
        unsigned n = blocks < 2 ? 4 * 512 : 2 * 512;
        read_block(b + off, n);
        off += n;
        blocks++;
        if (blocks > 3)
            break;
    }
    CHECK_EQ(blocks, 3);
    CHECK_EQ(irq.rises - before, 3);
    CHECK(!memcmp(b, disk.data + 20 * 512, sizeof(b)));

    before = irq.rises;
    cmd28(0, 40, 6, ATA_CMD_WRITE_MULTIPLE);    /* blocks 4, 2 */
    CHECK(!irq.level);
    for (unsigned i = 0; i < 4 * 256; i++)
        wrw(0xABCD);
    CHECK_EQ(irq.rises - before, 1);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    for (unsigned i = 0; i < 2 * 256; i++)
        wrw(0xABCD);
    CHECK_EQ(irq.rises - before, 2);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(disk.data[40 * 512], 0xCD);
    CHECK_EQ(disk.data[46 * 512 - 1], 0xAB);
    CHECK_EQ(disk.data[46 * 512], pattern(46, 0, 1));
}

/* ATA-6 48-bit feature set: two-deep registers, HOB read-back, cleared by any write. */
TEST(ata_lba48_hob)
{
    setup();
    sel(0);
    wr(ATA_REG_COUNT, 0x12);
    wr(ATA_REG_COUNT, 0x34);
    wr(ATA_REG_LBAL, 0x56);
    wr(ATA_REG_LBAL, 0x78);
    wr(ATA_REG_LBAM, 0x9A);
    wr(ATA_REG_LBAM, 0xBC);
    wr(ATA_REG_LBAH, 0xDE);
    wr(ATA_REG_LBAH, 0xF0);
    CHECK_EQ(rd(ATA_REG_COUNT), 0x34);
    CHECK_EQ(rd(ATA_REG_LBAH), 0xF0);
    ata_devctl(&ch, ATA_CTL_HOB);
    CHECK_EQ(rd(ATA_REG_COUNT), 0x12);
    CHECK_EQ(rd(ATA_REG_LBAL), 0x56);
    CHECK_EQ(rd(ATA_REG_LBAM), 0x9A);
    CHECK_EQ(rd(ATA_REG_LBAH), 0xDE);
    wr(ATA_REG_FEATURES, 0);            /* a command block write clears HOB */
    CHECK_EQ(rd(ATA_REG_COUNT), 0x34);

    /* READ SECTORS EXT of 0x0102 sectors from LBA 700 (count uses both bytes). */
    static uint8_t b[512];
    cmd48(0, 700, 0x0102, ATA_CMD_READ_SECTORS_EXT);
    unsigned n = 0;
    while ((ata_altstatus(&ch) & ATA_SR_DRQ) && n < 300) {
        rd(ATA_REG_STATUS);
        read_block(b, 512);
        CHECK(!memcmp(b, disk.data + (700 + n) * 512, 512));
        n++;
    }
    CHECK_EQ(n, 0x102);
    /* IDNF past the end reports the first bad LBA in the current and HOB registers. */
    cmd48(0, 0x0000012300000000ull, 1, ATA_CMD_READ_SECTORS_EXT);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_IDNF);
    ata_devctl(&ch, ATA_CTL_HOB);
    CHECK_EQ(rd(ATA_REG_LBAM), 0x23);
    CHECK_EQ(rd(ATA_REG_LBAH), 0x01);
    ata_devctl(&ch, 0);
}

/* CHS addressing (LBA bit clear) through the default translation: 16 heads, 63 sectors. */
TEST(ata_chs)
{
    setup();
    uint8_t b[512];
    /* C=0 H=1 S=5: LBA (0*16+1)*63+4 = 67 */
    wr(ATA_REG_DEVICE, ATA_DEV_OBS | 1);
    wr(ATA_REG_COUNT, 1);
    wr(ATA_REG_LBAL, 5);
    wr(ATA_REG_LBAM, 0);
    wr(ATA_REG_LBAH, 0);
    wr(ATA_REG_COMMAND, ATA_CMD_READ_SECTORS);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    read_block(b, 512);
    CHECK(!memcmp(b, disk.data + 67 * 512, 512));
    /* Sector 0 does not exist in CHS. */
    wr(ATA_REG_LBAL, 0);
    wr(ATA_REG_COMMAND, ATA_CMD_READ_SECTORS);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_IDNF);
    /* Past the end (C5 H0 S1 = LBA 5040): IDNF, the failing address is that CHS. */
    wr(ATA_REG_DEVICE, ATA_DEV_OBS);
    wr(ATA_REG_LBAL, 1);
    wr(ATA_REG_LBAM, 5);
    wr(ATA_REG_COMMAND, ATA_CMD_READ_SECTORS);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_IDNF);
    CHECK_EQ(rd(ATA_REG_LBAM), 5);
    CHECK_EQ(rd(ATA_REG_LBAL), 1);
    /* Straddling the end: the first missing sector, 1024 = C1 H0 S17 (1008 a cylinder). */
    wr(ATA_REG_COUNT, 20);
    wr(ATA_REG_DEVICE, ATA_DEV_OBS | 15);
    wr(ATA_REG_LBAM, 0);
    wr(ATA_REG_LBAL, 63);               /* C0 H15 S63 = LBA 1007: 1007..1026 */
    wr(ATA_REG_COMMAND, ATA_CMD_READ_VERIFY);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_IDNF);
    CHECK_EQ(rd(ATA_REG_LBAM), 1);
    CHECK_EQ(ata_read(&ch, ATA_REG_DEVICE, 1) & ATA_DEV_HEAD, 0);
    CHECK_EQ(rd(ATA_REG_LBAL), 17);
    /* INITIALIZE DEVICE PARAMETERS changes the translation: 4 heads, 32 sectors. */
    wr(ATA_REG_DEVICE, ATA_DEV_OBS | 3);
    wr(ATA_REG_COUNT, 32);
    wr(ATA_REG_COMMAND, ATA_CMD_INIT_DEV_PARAMS);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    wr(ATA_REG_DEVICE, ATA_DEV_OBS | 2);    /* C=1 H=2 S=3: (1*4+2)*32+2 = 194 */
    wr(ATA_REG_COUNT, 1);
    wr(ATA_REG_LBAL, 3);
    wr(ATA_REG_LBAM, 1);
    wr(ATA_REG_LBAH, 0);
    wr(ATA_REG_COMMAND, ATA_CMD_READ_SECTORS);
    read_block(b, 512);
    CHECK(!memcmp(b, disk.data + 194 * 512, 512));
}

TEST(ata_idnf_past_end)
{
    setup();
    cmd28(0, 1023, 2, ATA_CMD_READ_SECTORS);    /* the second sector is past the end */
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_IDNF);
    CHECK_EQ(rd(ATA_REG_LBAL), 0x00);           /* first bad LBA: 1024 = 400h */
    CHECK_EQ(rd(ATA_REG_LBAM), 0x04);
    CHECK_EQ(disk.reads, 0);
    cmd28(0, 1023, 1, ATA_CMD_WRITE_DMA);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    cmd28(0, 1024, 1, ATA_CMD_READ_VERIFY);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_IDNF);
    cmd28(0, 1000, 24, ATA_CMD_READ_VERIFY);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK(!ata_dma_pending(&ch, NULL, NULL));   /* the verify cancelled the DMA phase */
}

TEST(ata_abort_unknown_command)
{
    setup();
    static const uint8_t bad[] = { 0xFF, ATA_CMD_NOP, ATA_CMD_DEVICE_RESET, ATA_CMD_PACKET,
                                   0x27, 0xB0, 0x50 };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        unsigned before = irq.rises;
        cmd28(0, 0, 1, bad[i]);
        CHECK_EQ(irq.rises, before + 1);
        CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
        CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_ABRT);
        CHECK(!irq.level);
    }
}

/* ATA-6 SET FEATURES: 03h transfer modes (shown in words 63/88), 02h/82h write cache. */
TEST(ata_set_features)
{
    setup();
    uint8_t id[512];
    sel(0);
    wr(ATA_REG_FEATURES, ATA_SF_XFER_MODE);
    wr(ATA_REG_COUNT, ATA_XFER_UDMA << 3 | 5);
    wr(ATA_REG_COMMAND, ATA_CMD_SET_FEATURES);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    identify(0, ATA_CMD_IDENTIFY, id);
    CHECK_EQ(idw(id, 88), 0x203F);
    CHECK_EQ(idw(id, 63) >> 8, 0);
    CHECK(sum_ok(id));
    wr(ATA_REG_FEATURES, ATA_SF_XFER_MODE);
    wr(ATA_REG_COUNT, ATA_XFER_MWDMA << 3 | 2);
    wr(ATA_REG_COMMAND, ATA_CMD_SET_FEATURES);
    identify(0, ATA_CMD_IDENTIFY, id);
    CHECK_EQ(idw(id, 88), 0x003F);
    CHECK_EQ(idw(id, 63), 0x0407);
    wr(ATA_REG_FEATURES, ATA_SF_XFER_MODE);
    wr(ATA_REG_COUNT, ATA_XFER_PIO_FLOW << 3 | 4);
    wr(ATA_REG_COMMAND, ATA_CMD_SET_FEATURES);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    static const uint8_t badmodes[] = { ATA_XFER_UDMA << 3 | 6, ATA_XFER_MWDMA << 3 | 3,
                                        ATA_XFER_PIO_FLOW << 3 | 5, 0x10, 0xFF };
    for (unsigned i = 0; i < ARRAY_SIZE(badmodes); i++) {
        wr(ATA_REG_FEATURES, ATA_SF_XFER_MODE);
        wr(ATA_REG_COUNT, badmodes[i]);
        wr(ATA_REG_COMMAND, ATA_CMD_SET_FEATURES);
        CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
        CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_ABRT);
    }
    wr(ATA_REG_FEATURES, ATA_SF_WCACHE_OFF);
    wr(ATA_REG_COMMAND, ATA_CMD_SET_FEATURES);
    identify(0, ATA_CMD_IDENTIFY, id);
    CHECK_EQ(idw(id, 85) & 0x0020, 0);
    wr(ATA_REG_FEATURES, ATA_SF_WCACHE_ON);
    wr(ATA_REG_COMMAND, ATA_CMD_SET_FEATURES);
    identify(0, ATA_CMD_IDENTIFY, id);
    CHECK_EQ(idw(id, 85) & 0x0020, 0x0020);
    wr(ATA_REG_FEATURES, 0x99);         /* unknown subcommand */
    wr(ATA_REG_COMMAND, ATA_CMD_SET_FEATURES);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_ABRT);
    /* Settings survive SRST, a hardware reset restores the defaults. */
    ata_devctl(&ch, ATA_CTL_SRST);
    ata_devctl(&ch, 0);
    identify(0, ATA_CMD_IDENTIFY, id);
    CHECK_EQ(idw(id, 63), 0x0407);
    ata_reset(&ch);
    identify(0, ATA_CMD_IDENTIFY, id);
    CHECK_EQ(idw(id, 63), 0x0007);
}

/* ATA-6 CHECK POWER MODE: FFh active/idle, 00h standby; a media access wakes. */
TEST(ata_check_power_mode)
{
    setup();
    cmd28(0, 0, 0x42, ATA_CMD_CHECK_POWER_MODE);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(rd(ATA_REG_COUNT), 0xFF);
    wr(ATA_REG_COMMAND, ATA_CMD_IDLE_IMMEDIATE);
    wr(ATA_REG_COMMAND, ATA_CMD_CHECK_POWER_MODE);
    CHECK_EQ(rd(ATA_REG_COUNT), 0xFF);
    wr(ATA_REG_COMMAND, ATA_CMD_STANDBY_IMMEDIATE);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    wr(ATA_REG_COMMAND, ATA_CMD_CHECK_POWER_MODE);
    CHECK_EQ(rd(ATA_REG_COUNT), 0x00);
    cmd28(0, 0, 1, ATA_CMD_READ_VERIFY);
    wr(ATA_REG_COMMAND, ATA_CMD_CHECK_POWER_MODE);
    CHECK_EQ(rd(ATA_REG_COUNT), 0xFF);
    wr(ATA_REG_COMMAND, ATA_CMD_STANDBY);
    wr(ATA_REG_COMMAND, ATA_CMD_FLUSH_CACHE);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    wr(ATA_REG_COMMAND, ATA_CMD_FLUSH_CACHE_EXT);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    /* The CD answers too. */
    sel(1);
    wr(ATA_REG_COMMAND, ATA_CMD_CHECK_POWER_MODE);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(rd(ATA_REG_COUNT), 0xFF);
}

/* ATA-6 clause 9, software reset: BSY while SRST is set, signatures after, no interrupt;
 * a data phase in progress is abandoned. */
TEST(ata_srst)
{
    setup();
    cmd28(0, 0, 4, ATA_CMD_READ_SECTORS);
    CHECK(irq.level);
    rdw();
    ata_devctl(&ch, ATA_CTL_SRST | ATA_CTL_NIEN);
    CHECK(!irq.level);
    CHECK_EQ(ata_altstatus(&ch), ATA_SR_BSY);
    sel(1);
    CHECK_EQ(ata_altstatus(&ch), ATA_SR_BSY);
    wr(ATA_REG_COMMAND, ATA_CMD_IDENTIFY_PACKET);   /* BSY: ignored */
    ata_devctl(&ch, ATA_CTL_NIEN);
    CHECK_EQ(ch.sel, 0);                /* device 0 selected after the reset */
    CHECK_EQ(ata_altstatus(&ch), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(rd(ATA_REG_COUNT), 1);
    CHECK_EQ(rd(ATA_REG_LBAL), 1);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_DIAG_PASSED);
    CHECK_EQ(rdw(), 0xFF7F);            /* the read was abandoned */
    sel(1);
    CHECK_EQ(ata_altstatus(&ch), 0);
    CHECK_EQ(rd(ATA_REG_LBAM), 0x14);
    CHECK_EQ(rd(ATA_REG_LBAH), 0xEB);
    CHECK_EQ(irq.rises, 1);
    CHECK(!irq.level);
}

/* EXECUTE DEVICE DIAGNOSTIC runs on both devices; device 0 interrupts. DEVICE RESET is
 * the PACKET device's own reset (no interrupt). */
TEST(ata_diagnostic_and_device_reset)
{
    setup();
    sel(1);
    wr(ATA_REG_COMMAND, ATA_CMD_EXEC_DIAGNOSTIC);
    CHECK_EQ(ch.sel, 0);
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_DIAG_PASSED);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    sel(1);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_DIAG_PASSED);
    CHECK_EQ(rd(ATA_REG_LBAH), 0xEB);
    wr(ATA_REG_FEATURES, 0);
    wr(ATA_REG_LBAM, 0x00);
    wr(ATA_REG_LBAH, 0x08);
    wr(ATA_REG_COMMAND, ATA_CMD_PACKET);
    CHECK_EQ(ata_altstatus(&ch) & ATA_SR_DRQ, ATA_SR_DRQ);
    wr(ATA_REG_COMMAND, ATA_CMD_DEVICE_RESET);
    CHECK_EQ(ata_altstatus(&ch), 0);
    CHECK(!irq.level);
    CHECK_EQ(rd(ATA_REG_LBAM), 0x14);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_DIAG_PASSED);
}

/* ---- DMA interface (the PIIX bus master's side) ---- */

static size_t dma_run(uint8_t *mem, size_t len, size_t chunk)
{
    size_t total = 0;
    while (total < len) {
        size_t n = ata_dma_rw(&ch, mem + total, MIN(chunk, len - total));
        if (!n)
            break;
        total += n;
    }
    return total;
}

/* ATA-6 clause 9, DMA protocol: no interrupt until the transfer ends. */
TEST(ata_dma_read)
{
    setup();
    static uint8_t mem[16 * 512];
    bool to_mem = false;
    uint32_t bytes = 0;
    cmd28(0, 30, 16, ATA_CMD_READ_DMA);
    CHECK(!irq.level);
    CHECK(ata_dma_pending(&ch, &to_mem, &bytes));
    CHECK(to_mem);
    CHECK_EQ(bytes, 16 * 512);
    CHECK_EQ(rdw(), 0xFF7F);            /* the data port does not serve a DMA phase */
    CHECK_EQ(dma_run(mem, sizeof(mem), 1000), sizeof(mem));   /* odd chunks: PRD sizes */
    CHECK(!ata_dma_pending(&ch, NULL, NULL));
    CHECK_EQ(ata_dma_rw(&ch, mem, 512), 0);
    ata_dma_end(&ch, false);
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK(!memcmp(mem, disk.data + 30 * 512, sizeof(mem)));
    CHECK_EQ(disk.reads, 1);
    ata_dma_end(&ch, false);            /* nothing pending: no effect */
    CHECK(!irq.level);
}

TEST(ata_dma_write)
{
    setup();
    static uint8_t mem[5 * 512];
    for (unsigned i = 0; i < sizeof(mem); i++)
        mem[i] = (uint8_t)(i * 3);
    cmd48(0, 200, 5, ATA_CMD_WRITE_DMA_EXT);
    bool to_mem = true;
    uint32_t bytes = 0;
    CHECK(ata_dma_pending(&ch, &to_mem, &bytes));
    CHECK(!to_mem);
    CHECK_EQ(bytes, sizeof(mem));
    CHECK_EQ(dma_run(mem, sizeof(mem), 700), sizeof(mem));
    ata_dma_end(&ch, false);
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK(!memcmp(mem, disk.data + 200 * 512, sizeof(mem)));
    CHECK_EQ(disk.writes, 1);
}

/* A PRD table shorter than the transfer: ended with data left, the command fails. */
TEST(ata_dma_short_prd)
{
    setup();
    static uint8_t mem[4 * 512];
    cmd28(0, 0, 8, ATA_CMD_READ_DMA);
    CHECK_EQ(dma_run(mem, sizeof(mem), 4096), sizeof(mem));
    uint32_t bytes = 0;
    CHECK(ata_dma_pending(&ch, NULL, &bytes));
    CHECK_EQ(bytes, 4 * 512);
    ata_dma_end(&ch, false);
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_ABRT);
    CHECK(!ata_dma_pending(&ch, NULL, NULL));
    /* A short write leaves the blockdev with only the whole sectors that arrived. */
    memset(mem, 0xEE, sizeof(mem));
    cmd28(0, 300, 4, ATA_CMD_WRITE_DMA);
    CHECK_EQ(ata_dma_rw(&ch, mem, 700), 700);
    ata_dma_end(&ch, false);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(disk.data[300 * 512], 0xEE);
    CHECK_EQ(disk.data[301 * 512], pattern(301, 0, 1));
}

/* A PRD outside guest RAM: the bus master aborts. */
TEST(ata_dma_bus_error)
{
    setup();
    static uint8_t mem[512];
    cmd28(0, 0, 1, ATA_CMD_READ_DMA);
    ata_dma_end(&ch, true);
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_ABRT);
    CHECK_EQ(ata_dma_rw(&ch, mem, sizeof(mem)), 0);
    /* Even with all data moved, a bus error fails the command. */
    cmd28(0, 0, 1, ATA_CMD_READ_DMA);
    CHECK_EQ(dma_run(mem, sizeof(mem), 512), 512);
    ata_dma_end(&ch, true);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
}

/* A 65536-sector LBA48 DMA read (count 0) streams through the one sector buffer. */
TEST(ata_dma_lba48_65536)
{
    setup_disk_only(70000, 70000);
    static uint8_t mem[65536];
    cmd48(0, 1000, 0, ATA_CMD_READ_DMA_EXT);
    uint32_t bytes = 0;
    CHECK(ata_dma_pending(&ch, NULL, &bytes));
    CHECK_EQ(bytes, 65536u * 512);
    bool same = true;
    for (unsigned i = 0; i < 512; i++) {
        if (dma_run(mem, sizeof(mem), 4096) != sizeof(mem)) {
            same = false;
            break;
        }
        same &= !memcmp(mem, disk.data + (1000 + i * 128ull) * 512, sizeof(mem));
    }
    CHECK(same);
    CHECK(!ata_dma_pending(&ch, NULL, NULL));
    ata_dma_end(&ch, false);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(disk.reads, 1);
    CHECK_EQ(disk.bytes_read, 65536ull * 512);
}

/* ---- interrupts ---- */

/* Device Control nIEN masks INTRQ; the pending state stays (ATA-6 clause 7). */
TEST(ata_nien_masks_intrq)
{
    setup();
    ata_devctl(&ch, ATA_CTL_NIEN);
    cmd28(0, 0, 1, ATA_CMD_READ_VERIFY);
    CHECK(!irq.level);
    CHECK(!ata_irq_level(&ch));
    ata_devctl(&ch, 0);
    CHECK(irq.level);                   /* still pending: unmasking shows it */
    CHECK(ata_irq_level(&ch));
    ata_devctl(&ch, ATA_CTL_NIEN);
    CHECK(!irq.level);
    rd(ATA_REG_STATUS);
    ata_devctl(&ch, 0);
    CHECK(!irq.level);                  /* acknowledged while masked */
}

/* Status acknowledges the interrupt, Alternate Status does not; a command write clears
 * it; INTRQ follows the selected device only. */
TEST(ata_status_clears_irq)
{
    setup();
    cmd28(0, 0, 1, ATA_CMD_READ_VERIFY);
    CHECK(irq.level);
    CHECK_EQ(ata_altstatus(&ch), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK(irq.level);
    sel(1);                             /* the other device is selected: INTRQ released */
    CHECK(!irq.level);
    rd(ATA_REG_STATUS);                 /* reads the CD's status: the disk stays pending */
    sel(0);
    CHECK(irq.level);
    wr(ATA_REG_COMMAND, ATA_CMD_WRITE_SECTORS);  /* a command write clears it */
    CHECK(!irq.level);
    CHECK_EQ(ata_altstatus(&ch) & ATA_SR_DRQ, ATA_SR_DRQ);
    cmd28(0, 0, 1, ATA_CMD_READ_VERIFY);
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK(!irq.level);
}

/* ---- ATAPI ---- */

static void packet(const uint8_t *cdb, uint16_t limit, bool dma)
{
    sel(1);
    wr(ATA_REG_FEATURES, dma ? ATAPI_FEAT_DMA : 0);
    wr(ATA_REG_LBAM, (uint8_t)limit);
    wr(ATA_REG_LBAH, (uint8_t)(limit >> 8));
    unsigned before = irq.rises;
    wr(ATA_REG_COMMAND, ATA_CMD_PACKET);
    /* ATA-6 clause 9, PACKET protocol: DRQ for the packet, CoD=1 IO=0, no interrupt
     * (IDENTIFY PACKET word 0 bits 6:5 = 10b). */
    CHECK_EQ(irq.rises, before);
    CHECK_EQ(ata_altstatus(&ch) & (ATA_SR_BSY | ATA_SR_DRQ), ATA_SR_DRQ);
    CHECK_EQ(rd(ATA_REG_COUNT) & 3, ATAPI_IR_COD);
    for (unsigned i = 0; i < ATAPI_CDB_LEN; i += 2)
        wrw((uint16_t)(cdb[i] | cdb[i + 1] << 8));
}

/* Collects a PIO data-in through its DRQ phases up to the status phase; returns bytes. */
static size_t data_in(uint8_t *dst, size_t max, unsigned *phases)
{
    size_t got = 0;
    unsigned ph = 0;
    for (unsigned guard = 0; guard < 10000; guard++) {
        CHECK(irq.level);               /* every data phase and the status phase interrupt */
        uint8_t st = rd(ATA_REG_STATUS);
        uint8_t ir = rd(ATA_REG_COUNT) & 3;
        if (!(st & ATA_SR_DRQ)) {
            CHECK_EQ(ir, ATAPI_IR_COD | ATAPI_IR_IO);
            if (phases)
                *phases = ph;
            return got;
        }
        CHECK_EQ(ir, ATAPI_IR_IO);
        unsigned n = rd(ATA_REG_LBAM) | rd(ATA_REG_LBAH) << 8;
        for (unsigned i = 0; i < n; i += 2) {
            uint16_t w = rdw();
            if (got < max)
                dst[got] = (uint8_t)w;
            if (got + 1 < max && i + 1 < n)
                dst[got + 1] = (uint8_t)(w >> 8);
            got += MIN(2u, n - i);
        }
        ph++;
    }
    CHECK(false);
    return got;
}

/* A command expected to complete: returns the data bytes. */
static size_t atapi_cmd(const uint8_t *cdb, uint16_t limit, uint8_t *dst, size_t max)
{
    packet(cdb, limit, false);
    size_t n = data_in(dst, max, NULL);
    CHECK_EQ(ata_altstatus(&ch), ATA_SR_DRDY | ATA_SR_DSC);
    return n;
}

static void request_sense(uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
    uint8_t cdb[12] = { SCSI_REQUEST_SENSE, 0, 0, 0, 18 }, s[18];
    CHECK_EQ(atapi_cmd(cdb, 0x1000, s, sizeof(s)), 18);
    CHECK_EQ(s[0], 0x70);
    CHECK_EQ(s[7], 10);
    *key = s[2] & 0xF;
    *asc = s[12];
    *ascq = s[13];
}

/* Expects CHECK CONDITION: ERR, sense key in Error bits 7:4, then REQUEST SENSE. */
static void expect_check(const uint8_t *cdb, uint8_t key, uint8_t asc)
{
    packet(cdb, 0x1000, false);
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR) >> 4, key);
    CHECK_EQ(rd(ATA_REG_COUNT) & 3, ATAPI_IR_COD | ATAPI_IR_IO);
    uint8_t k, a, q;
    request_sense(&k, &a, &q);
    CHECK_EQ(k, key);
    CHECK_EQ(a, asc);
}

/* After a reset the first command reports UNIT ATTENTION 29h (SPC-3); INQUIRY does not. */
static void clear_ua(void)
{
    uint8_t cdb[12] = { SCSI_TEST_UNIT_READY };
    expect_check(cdb, SK_UNIT_ATTENTION, ASC_POWER_ON_RESET);
    atapi_cmd(cdb, 0, NULL, 0);
}

TEST(atapi_unit_attention_and_sense)
{
    setup();
    uint8_t inq[12] = { SCSI_INQUIRY, 0, 0, 0, 36 }, b[64];
    CHECK_EQ(atapi_cmd(inq, 0x1000, b, sizeof(b)), 36);   /* INQUIRY is not held up */
    uint8_t k, a, q;
    request_sense(&k, &a, &q);          /* REQUEST SENSE reports the UA and clears it */
    CHECK_EQ(k, SK_UNIT_ATTENTION);
    CHECK_EQ(a, ASC_POWER_ON_RESET);
    request_sense(&k, &a, &q);
    CHECK_EQ(k, SK_NO_SENSE);
    uint8_t tur[12] = { SCSI_TEST_UNIT_READY };
    CHECK_EQ(atapi_cmd(tur, 0, NULL, 0), 0);
    /* SRST posts it again; Linux clears it with TUR + REQUEST SENSE. */
    ata_devctl(&ch, ATA_CTL_SRST);
    ata_devctl(&ch, 0);
    clear_ua();
}

/* SPC-3 INQUIRY: peripheral type 05h, removable, vendor/product/revision; allocation. */
TEST(atapi_inquiry)
{
    setup();
    uint8_t cdb[12] = { SCSI_INQUIRY, 0, 0, 0, 96 }, b[96];
    CHECK_EQ(atapi_cmd(cdb, 0x1000, b, sizeof(b)), 36);
    CHECK_EQ(b[0], 0x05);
    CHECK_EQ(b[1], 0x80);
    CHECK_EQ(b[4], 31);
    CHECK(!memcmp(b + 8, "MONOVSR ", 8));
    CHECK(!memcmp(b + 16, "MONOVISOR TEST C", 16));
    CHECK(!memcmp(b + 32, "1.0 ", 4));
    cdb[4] = 5;                         /* allocation length honoured */
    CHECK_EQ(atapi_cmd(cdb, 0x1000, b, sizeof(b)), 5);
    uint8_t vpd[12] = { SCSI_INQUIRY, 1, 0x80, 0, 64 };
    CHECK_EQ(atapi_cmd(vpd, 0x1000, b, sizeof(b)), 24);
    CHECK(!memcmp(b + 4, "CD-777", 6));
    uint8_t badvpd[12] = { SCSI_INQUIRY, 1, 0x83, 0, 64 };
    expect_check(badvpd, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
}

TEST(atapi_read_capacity)
{
    setup();
    clear_ua();
    uint8_t cdb[12] = { SCSI_READ_CAPACITY }, b[8];
    CHECK_EQ(atapi_cmd(cdb, 0x1000, b, sizeof(b)), 8);
    CHECK_EQ(b[3], 63);                 /* last LBA */
    CHECK_EQ(b[0] | b[1] | b[2], 0);
    CHECK_EQ(b[6], 0x08);               /* 2048 */
    CHECK_EQ(b[7], 0x00);
}

/* READ(10) of 2048-byte sectors split by the byte count limit into DRQ phases; the
 * phase length is in LBA mid/high (ATA-6 clause 9, PACKET protocol). */
TEST(atapi_read10_byte_count_limit)
{
    setup();
    clear_ua();
    static uint8_t b[3 * 2048];
    uint8_t cdb[12] = { SCSI_READ_10, 0, 0, 0, 0, 5, 0, 0, 3 };
    unsigned phases = 0;
    packet(cdb, 5000, false);
    CHECK_EQ(rd(ATA_REG_LBAM) | rd(ATA_REG_LBAH) << 8, 5000);
    CHECK_EQ(data_in(b, sizeof(b), &phases), sizeof(b));
    CHECK_EQ(phases, 2);                /* 5000 + 1144 */
    CHECK(!memcmp(b, cd.data + 5 * 2048, sizeof(b)));
    CHECK_EQ(cd.reads, 1);
    /* An odd limit gives even phases except the last. */
    packet(cdb, 2049, false);
    CHECK_EQ(rd(ATA_REG_LBAM) | rd(ATA_REG_LBAH) << 8, 2048);
    CHECK_EQ(data_in(b, sizeof(b), &phases), sizeof(b));
    CHECK_EQ(phases, 3);
    CHECK(!memcmp(b, cd.data + 5 * 2048, sizeof(b)));
    /* READ(12), and 32-bit data port reads. */
    uint8_t c12[12] = { SCSI_READ_12, 0, 0, 0, 0, 63, 0, 0, 0, 1 };
    packet(c12, 0xFFFE, false);
    CHECK(irq.level);
    rd(ATA_REG_STATUS);
    CHECK_EQ(rd(ATA_REG_LBAM) | rd(ATA_REG_LBAH) << 8, 2048);
    uint32_t w[512];
    for (unsigned i = 0; i < 512; i++)
        w[i] = rdl();
    CHECK(!memcmp(w, cd.data + 63 * 2048, 2048));
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(rd(ATA_REG_COUNT) & 3, ATAPI_IR_COD | ATAPI_IR_IO);
    /* Zero blocks: no data phase. */
    uint8_t z[12] = { SCSI_READ_10, 0, 0, 0, 0, 1, 0, 0, 0 };
    CHECK_EQ(atapi_cmd(z, 0x1000, b, sizeof(b)), 0);
}

TEST(atapi_errors)
{
    setup();
    clear_ua();
    uint8_t unk[12] = { 0xEE };
    expect_check(unk, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
    CHECK_EQ(SK_ILLEGAL_REQUEST << 4, 0x50);
    uint8_t past[12] = { SCSI_READ_10, 0, 0, 0, 0, 63, 0, 0, 2 };
    expect_check(past, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
    uint8_t far[12] = { SCSI_READ_12, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1 };
    expect_check(far, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
    uint8_t ms[12] = { SCSI_MODE_SENSE_10, 0, 0x05, 0, 0, 0, 0, 0, 64 };
    expect_check(ms, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
    uint8_t toc[12] = { SCSI_READ_TOC, 0, 0, 0, 0, 0, 5, 0, 64 };
    expect_check(toc, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
    uint8_t gesn[12] = { SCSI_GET_EVENT_STATUS, 0, 0, 0, 0x10, 0, 0, 0, 8 };
    expect_check(gesn, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
    /* The sense was consumed by REQUEST SENSE. */
    uint8_t k, a, q;
    request_sense(&k, &a, &q);
    CHECK_EQ(k, SK_NO_SENSE);
    /* PACKET with OVL set is aborted at the ATA level. */
    sel(1);
    wr(ATA_REG_FEATURES, ATAPI_FEAT_OVL);
    wr(ATA_REG_COMMAND, ATA_CMD_PACKET);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_ABRT);
}

/* MMC: MODE SENSE(10) 2Ah / 3Fh, GET CONFIGURATION, READ TOC, GET EVENT STATUS, locks. */
TEST(atapi_mmc_commands)
{
    setup();
    clear_ua();
    uint8_t b[256];
    uint8_t ms[12] = { SCSI_MODE_SENSE_10, 0, 0x2A, 0, 0, 0, 0, 0, 128 };
    CHECK_EQ(atapi_cmd(ms, 0x1000, b, sizeof(b)), 28);
    CHECK_EQ(be16_test(b), 26);
    CHECK_EQ(b[8], 0x2A);
    CHECK_EQ(b[9], 18);
    CHECK_EQ(b[8 + 6] & 0x01, 0x01);    /* lock supported */
    ms[8] = 10;                         /* allocation length honoured */
    CHECK_EQ(atapi_cmd(ms, 0x1000, b, sizeof(b)), 10);
    ms[2] = 0x3F;
    ms[8] = 200;
    CHECK_EQ(atapi_cmd(ms, 0x1000, b, sizeof(b)), 8 + 8 + 20);
    CHECK_EQ(b[8], 0x01);
    CHECK_EQ(b[16], 0x2A);

    uint8_t gc[12] = { SCSI_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 0, 200 };
    size_t n = atapi_cmd(gc, 0x1000, b, sizeof(b));
    CHECK_EQ(n, 8 + 8 + 8 + 8 + 12 + 8);
    CHECK_EQ(b[6] << 8 | b[7], 0x0008); /* current profile: CD-ROM */
    CHECK_EQ(b[8] << 8 | b[9], 0x0000); /* profile list */
    CHECK_EQ(b[12] << 8 | b[13], 0x0008);
    CHECK_EQ(b[14] & 1, 1);
    gc[1] = 2;                          /* RT 2: just the feature at 'start' */
    gc[3] = 0x10;
    CHECK_EQ(atapi_cmd(gc, 0x1000, b, sizeof(b)), 8 + 12);
    CHECK_EQ(b[9], 0x10);

    uint8_t toc[12] = { SCSI_READ_TOC, 0, 0, 0, 0, 0, 0, 0, 100 };
    CHECK_EQ(atapi_cmd(toc, 0x1000, b, sizeof(b)), 20);
    CHECK_EQ(b[1], 18);
    CHECK_EQ(b[2], 1);
    CHECK_EQ(b[3], 1);
    CHECK_EQ(b[5], 0x14);               /* data track */
    CHECK_EQ(b[6], 1);
    CHECK_EQ(b[14], 0xAA);              /* lead-out at 64 */
    CHECK_EQ(b[19], 64);
    toc[1] = 0x02;                      /* MSF: lead-out 64 + 150 = 00:02:64 */
    CHECK_EQ(atapi_cmd(toc, 0x1000, b, sizeof(b)), 20);
    CHECK_EQ(b[16 + 1], 0);
    CHECK_EQ(b[16 + 2], 2);
    CHECK_EQ(b[16 + 3], 64);
    uint8_t ses[12] = { SCSI_READ_TOC, 0, 1, 0, 0, 0, 0, 0, 12 };
    CHECK_EQ(atapi_cmd(ses, 0x1000, b, sizeof(b)), 12);

    uint8_t gesn[12] = { SCSI_GET_EVENT_STATUS, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    CHECK_EQ(atapi_cmd(gesn, 0x1000, b, sizeof(b)), 8);
    CHECK_EQ(b[2], 0x04);
    CHECK_EQ(b[4], 0);                  /* no event */
    CHECK_EQ(b[5] & 0x02, 0x02);        /* media present */

    uint8_t lock[12] = { SCSI_PREVENT_ALLOW, 0, 0, 0, 1 };
    CHECK_EQ(atapi_cmd(lock, 0, b, 0), 0);
    uint8_t eject[12] = { SCSI_START_STOP_UNIT, 0, 0, 0, 0x02 };
    expect_check(eject, SK_ILLEGAL_REQUEST, ASC_MEDIUM_REMOVAL_PREVENTED);
    lock[4] = 0;
    CHECK_EQ(atapi_cmd(lock, 0, b, 0), 0);
    CHECK_EQ(atapi_cmd(eject, 0, b, 0), 0);
}

/* The CD is read-only: ATA writes abort, SCSI WRITE reports DATA PROTECT. */
TEST(atapi_readonly_cd)
{
    setup();
    clear_ua();
    uint8_t *copy = malloc(64 * 2048);
    memcpy(copy, cd.data, 64 * 2048);
    cmd28(1, 0, 1, ATA_CMD_WRITE_SECTORS);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), ATA_ER_ABRT);
    for (unsigned i = 0; i < 256; i++)
        wrw(0);
    cmd28(1, 0, 1, ATA_CMD_WRITE_DMA);
    CHECK(!ata_dma_pending(&ch, NULL, NULL));
    uint8_t w10[12] = { SCSI_WRITE_10, 0, 0, 0, 0, 0, 0, 0, 1 };
    expect_check(w10, SK_DATA_PROTECT, ASC_WRITE_PROTECTED);
    CHECK(!memcmp(copy, cd.data, 64 * 2048));
    CHECK_EQ(cd.writes, 0);
    free(copy);
}

/* ATAPI DMA (features bit 0) through the same bus-master interface. */
TEST(atapi_dma_read)
{
    setup();
    clear_ua();
    static uint8_t mem[4 * 2048];
    uint8_t cdb[12] = { SCSI_READ_10, 0, 0, 0, 0, 10, 0, 0, 4 };
    packet(cdb, 0, true);
    CHECK(!irq.level);
    bool to_mem = false;
    uint32_t bytes = 0;
    CHECK(ata_dma_pending(&ch, &to_mem, &bytes));
    CHECK(to_mem);
    CHECK_EQ(bytes, sizeof(mem));
    CHECK_EQ(dma_run(mem, sizeof(mem), 3000), sizeof(mem));
    ata_dma_end(&ch, false);
    CHECK(irq.level);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(rd(ATA_REG_COUNT) & 3, ATAPI_IR_COD | ATAPI_IR_IO);
    CHECK(!memcmp(mem, cd.data + 10 * 2048, sizeof(mem)));
    /* A reply by DMA, then a short PRD: ABORTED COMMAND. */
    uint8_t inq[12] = { SCSI_INQUIRY, 0, 0, 0, 36 };
    packet(inq, 0, true);
    CHECK_EQ(dma_run(mem, 36, 36), 36);
    CHECK(!memcmp(mem + 8, "MONOVSR ", 8));
    ata_dma_end(&ch, false);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    packet(cdb, 0, true);
    CHECK_EQ(dma_run(mem, 2048, 2048), 2048);
    ata_dma_end(&ch, false);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(rd(ATA_REG_ERROR), SK_ABORTED_COMMAND << 4 | ATA_ER_ABRT);
}

/* Hostile sequences: data port without a phase, 32-bit reads past an odd phase, a new
 * command in the middle of a phase, a packet longer than 12 bytes. */
TEST(ata_hostile_sequences)
{
    setup();
    for (unsigned i = 0; i < 100000; i++)
        CHECK_EQ(rdw(), 0xFF7F);
    for (unsigned i = 0; i < 100000; i++)
        wrl(0xDEADBEEF);
    CHECK_EQ(disk.bytes_written, 0);
    clear_ua();
    /* INQUIRY with an odd allocation length: 33 bytes, dword reads, padding zero. */
    uint8_t inq[12] = { SCSI_INQUIRY, 0, 0, 0, 33 };
    packet(inq, 0x1000, false);
    rd(ATA_REG_STATUS);
    CHECK_EQ(rd(ATA_REG_LBAM), 33);
    uint32_t last = 0;
    for (unsigned i = 0; i < 9; i++)
        last = rdl();
    CHECK_EQ(last >> 8, 0);             /* byte 32 then padding */
    CHECK_EQ(ata_altstatus(&ch), ATA_SR_DRDY | ATA_SR_DSC);
    /* A new command cancels a read phase half-way. */
    cmd28(0, 0, 2, ATA_CMD_READ_SECTORS);
    rdw();
    cmd28(0, 0, 1, ATA_CMD_READ_VERIFY);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(rdw(), 0xFF7F);
    /* A command to the CD cancels the disk's phase; the disk shows ABRT. */
    cmd28(0, 0, 2, ATA_CMD_WRITE_SECTORS);
    sel(1);
    wr(ATA_REG_COMMAND, ATA_CMD_CHECK_POWER_MODE);
    sel(0);
    CHECK_EQ(rd(ATA_REG_STATUS), ATA_SR_DRDY | ATA_SR_ERR);
    CHECK_EQ(disk.bytes_written, 0);
    /* Extra packet bytes after the 12 are not a packet (no phase): ignored. */
    uint8_t tur[12] = { SCSI_TEST_UNIT_READY };
    packet(tur, 0, false);
    wrw(0x1234);
    CHECK_EQ(ata_altstatus(&ch), ATA_SR_DRDY | ATA_SR_DSC);
    /* Byte count limit 1: phases of 2 bytes. */
    uint8_t rc[12] = { SCSI_READ_CAPACITY };
    unsigned phases = 0;
    uint8_t b[8];
    packet(rc, 1, false);
    CHECK_EQ(data_in(b, sizeof(b), &phases), 8);
    CHECK_EQ(phases, 4);
}

/* ---- random run ---- */

static uint64_t rng;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static bool is_write_cmd(uint8_t c)
{
    return c == ATA_CMD_WRITE_SECTORS || c == ATA_CMD_WRITE_SECTORS_NR ||
           c == ATA_CMD_WRITE_SECTORS_EXT || c == ATA_CMD_WRITE_MULTIPLE ||
           c == ATA_CMD_WRITE_MULTIPLE_EXT || c == ATA_CMD_WRITE_DMA ||
           c == ATA_CMD_WRITE_DMA_NR || c == ATA_CMD_WRITE_DMA_EXT;
}

/* The DRQ/BSY rules: never both; BSY only while SRST is held; DRQ exactly on the owner of
 * the channel's data phase; INTRQ = selected device pending && !nIEN. */
static const char *invariants(void)
{
    for (unsigned u = 0; u < 2; u++) {
        uint8_t st = ch.drive[u].tf.status;
        if ((st & ATA_SR_BSY) && (st & ATA_SR_DRQ))
            return "BSY and DRQ";
        if ((st & ATA_SR_BSY) && !(ch.devctl & ATA_CTL_SRST))
            return "BSY without SRST";
        bool owner = ch.xfer != ATA_X_NONE && ch.xunit == u;
        if (!!(st & ATA_SR_DRQ) != owner)
            return "DRQ not on the data phase owner";
    }
    if (ch.win_pos > ch.win_end || ch.win_end > ATA_BUF_SIZE || ch.cdb_len > ATAPI_CDB_LEN)
        return "window out of the buffer";
    if (ch.sel > 1 || ch.s_pos > BLOCKDEV_SECTOR)
        return "selection or sector buffer";
    const struct ata_drive *d = &ch.drive[ch.sel];
    bool level = d->kind != ATA_NONE && d->pending && !(ch.devctl & ATA_CTL_NIEN);
    if (level != irq.level || level != ata_irq_level(&ch))
        return "INTRQ";
    return NULL;
}

/* 1M random accesses (xorshift, fixed seed: deterministic), biased towards meaningful
 * sequences: real opcodes, small counts and LBAs, whole packets built from real SCSI
 * opcodes. The disk is unit 'disk_unit', the CD the other one. */
static void fuzz_run(uint64_t seed, unsigned disk_unit)
{
    mkbd(&disk, 64, 64, false, 3);
    mkbd(&cd, 16 * ATA_CD_BD_SECTORS, 16 * ATA_CD_BD_SECTORS, true, 4);
    init_channel();
    CHECK(ata_attach_disk(&ch, disk_unit, &disk, NULL, NULL));
    CHECK(ata_attach_cdrom(&ch, disk_unit ^ 1, &cd, NULL, NULL));
    uint8_t *dshadow = malloc(64 * 512), *cshadow = malloc(16 * 2048);
    memcpy(dshadow, disk.data, 64 * 512);
    memcpy(cshadow, cd.data, 16 * 2048);
    static const uint8_t cmds[] = {
        ATA_CMD_READ_SECTORS, ATA_CMD_READ_SECTORS_EXT, ATA_CMD_READ_MULTIPLE,
        ATA_CMD_READ_MULTIPLE_EXT, ATA_CMD_READ_DMA, ATA_CMD_READ_DMA_EXT,
        ATA_CMD_WRITE_SECTORS, ATA_CMD_WRITE_SECTORS_EXT, ATA_CMD_WRITE_MULTIPLE,
        ATA_CMD_WRITE_MULTIPLE_EXT, ATA_CMD_WRITE_DMA, ATA_CMD_WRITE_DMA_EXT,
        ATA_CMD_READ_VERIFY, ATA_CMD_READ_VERIFY_EXT, ATA_CMD_FLUSH_CACHE, ATA_CMD_IDENTIFY,
        ATA_CMD_IDENTIFY_PACKET, ATA_CMD_PACKET, ATA_CMD_PACKET, ATA_CMD_PACKET,
        ATA_CMD_SET_FEATURES, ATA_CMD_SET_MULTIPLE, ATA_CMD_CHECK_POWER_MODE,
        ATA_CMD_STANDBY_IMMEDIATE, ATA_CMD_SLEEP, ATA_CMD_EXEC_DIAGNOSTIC,
        ATA_CMD_DEVICE_RESET, ATA_CMD_INIT_DEV_PARAMS, ATA_CMD_NOP,
    };
    static const uint8_t scsi[] = {
        SCSI_TEST_UNIT_READY, SCSI_REQUEST_SENSE, SCSI_INQUIRY, SCSI_READ_CAPACITY,
        SCSI_READ_10, SCSI_READ_10, SCSI_READ_10, SCSI_READ_10, SCSI_READ_12, SCSI_READ_12, SCSI_MODE_SENSE_10, SCSI_READ_TOC,
        SCSI_GET_CONFIGURATION, SCSI_GET_EVENT_STATUS, SCSI_START_STOP_UNIT,
        SCSI_PREVENT_ALLOW, SCSI_WRITE_10, SCSI_SEEK_10, 0xEE,
    };
    static uint8_t dmabuf[4096];
    uint8_t tmpl[12] = { 0 };
    bool wrote = false;
    unsigned long cmds_issued = 0, dma_bytes = 0;
    rng = seed;
    for (unsigned long it = 0; it < 1000000; it++) {
        uint32_t r = rnd(), v = rnd();
        unsigned op = r % 100;
        if (ch.xfer == ATA_X_PACKET && (r & 0x100))
            op = 28;                    /* mostly let a packet arrive whole */
        if (op < 28) {
            ata_read(&ch, ATA_REG_DATA, (v & 1) ? 4 : 2);
        } else if (op < 42) {
            if (ch.xfer == ATA_X_PACKET && (v & 7)) {
                unsigned i = ch.cdb_len & ~1u;
                ata_write(&ch, ATA_REG_DATA, 2, (uint32_t)(tmpl[i] | tmpl[i + 1] << 8));
            } else {
                ata_write(&ch, ATA_REG_DATA, (v & 1) ? 4 : 2, rnd());
            }
        } else if (op < 58) {
            unsigned reg = 1 + v % 6;
            uint8_t val = (v >> 8) & 1 ? (uint8_t)(v >> 16) : (uint8_t)((v >> 16) & 3);
            if (reg == ATA_REG_DEVICE)
                val = (uint8_t)(((v >> 16) & 0x50) | 0xA0 | ((v >> 24) & 1));
            ata_write(&ch, reg, 1, val);
        } else if (op < 66) {
            uint8_t c = (v & 15) ? cmds[(v >> 4) % ARRAY_SIZE(cmds)] : (uint8_t)(v >> 8);
            if (c == ATA_CMD_PACKET) {
                tmpl[0] = scsi[(v >> 12) % ARRAY_SIZE(scsi)];
                for (unsigned i = 1; i < 12; i++)
                    tmpl[i] = (rnd() & 3) ? (uint8_t)(rnd() % 4) : (uint8_t)rnd();
                tmpl[1] |= 1;           /* GET EVENT STATUS: polled */
                tmpl[5] = (uint8_t)(rnd() % 20);
                if (tmpl[0] == SCSI_READ_10 || tmpl[0] == SCSI_READ_12) {
                    tmpl[2] = tmpl[3] = tmpl[4] = tmpl[6] = tmpl[7] = tmpl[8] = 0;
                    tmpl[tmpl[0] == SCSI_READ_10 ? 8 : 9] = (uint8_t)(rnd() % 4);
                }
            }
            if (is_write_cmd(c))
                wrote = true;
            cmds_issued++;
            ata_write(&ch, ATA_REG_COMMAND, 1, c);
        } else if (op < 78) {
            ata_read(&ch, 1 + v % 7, 1);
        } else if (op < 81) {
            ata_altstatus(&ch);
        } else if (op < 84) {
            /* SRST (and the UNIT ATTENTION it posts) rarely, so packets get through. */
            static const uint8_t ctl[] = { 0, 0, 0, ATA_CTL_NIEN, ATA_CTL_HOB };
            uint8_t val = ctl[v % ARRAY_SIZE(ctl)];
            if (!(v & 0x3F00))
                val = (uint8_t)(v >> 16);
            ata_devctl(&ch, val);
        } else if (op < 94) {
            bool to_mem = false;
            uint32_t bytes;
            if (ata_dma_pending(&ch, &to_mem, &bytes) || (v & 8)) {
                if (!to_mem)
                    for (unsigned i = 0; i < 64; i++)
                        dmabuf[rnd() % sizeof(dmabuf)] = (uint8_t)rnd();
                dma_bytes += ata_dma_rw(&ch, dmabuf, v % (sizeof(dmabuf) + 1));
            }
        } else if (op < 98) {
            ata_dma_end(&ch, (v & 7) == 0);
        } else if ((v % 50) == 0) {
            ata_reset(&ch);
        } else {
            ata_dma_pending(&ch, NULL, NULL);
        }
        const char *why = invariants();
        if (why) {
            CHECK(!why);
            fprintf(stderr, "  invariant broken at iteration %lu (op %u): %s; xfer %u unit %u "
                    "status %02x/%02x\n", it, op, why, ch.xfer, ch.xunit,
                    ch.drive[0].tf.status, ch.drive[1].tf.status);
            break;
        }
        if ((it & 1023) == 1023) {
            if (memcmp(dshadow, disk.data, 64 * 512)) {
                if (!wrote) {
                    CHECK(wrote);
                    fprintf(stderr, "  disk changed without a write command at %lu\n", it);
                    break;
                }
                memcpy(dshadow, disk.data, 64 * 512);
            }
            /* A write still in progress may change the disk later. */
            wrote = ch.xfer == ATA_X_PIO_OUT || ch.xfer == ATA_X_DMA_OUT;
            if (memcmp(cshadow, cd.data, 16 * 2048)) {
                CHECK(!"CD image changed");
                break;
            }
        }
    }
    /* The run reached the interesting paths. */
    CHECK(disk.reads > 0);
    CHECK(disk.writes > 0);
    CHECK(cd.reads > 0);
    CHECK(irq.rises > 1000);
    CHECK(dma_bytes > 0);
    CHECK_EQ(cd.writes, 0);
    printf("  fuzz: %lu commands, %llu/%llu disk reads/writes, %llu CD reads, %lu DMA bytes, "
           "%u interrupts\n", cmds_issued, (unsigned long long)disk.reads,
           (unsigned long long)disk.writes, (unsigned long long)cd.reads, dma_bytes, irq.rises);
    free(dshadow);
    free(cshadow);
}

TEST(ata_fuzz)
{
    fuzz_run(0x9E3779B97F4A7C15ull, 0);
}

TEST(ata_fuzz_cd_master)
{
    fuzz_run(0x0123456789ABCDEFull, 1);
}
