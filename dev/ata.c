/* ATA/ATAPI channel model (ATA/ATAPI-6, T13 1410D; SFF-8020i and MMC for the PACKET command
 * set; SPC for INQUIRY and REQUEST SENSE). See ata.h for the overall model.
 *
 * Choices the standards leave open, or where Linux's libata needs a particular answer:
 * - Absent device with the other one present ("device 0 only" in ATA-6 single device
 *   configurations): the present device answers for it, so register writes still latch
 *   (ata_devchk() reads its 55h/AAh back, as on real hardware) and commands other than
 *   EXECUTE DEVICE DIAGNOSTIC are ignored; Status and Alternate Status read 00h, as ATA-6
 *   requires. The Error register also reads 00h and a reset clears the latched registers
 *   rather than showing device 0's signature: otherwise ata_sff_dev_classify() would see
 *   err=01h plus an ATAPI signature and invent an ATAPI device 1 (it only checks status=00h
 *   for the ATA class). With err=00h and signature 00h/00h it classifies ATA, then NONE
 *   because status is 00h.
 * - A channel with no device: nothing drives the bus. ATA-6 requires the host to pull DD7
 *   down (signal descriptions, DD(15:0)) so that BSY reads 0 and the host does not wait for
 *   an absent device; the other lines float high: every register reads 7Fh (data FF7Fh).
 *   Linux's ata_devchk() then fails (7Fh != 55h) and ata_sff_dev_classify() sees err=7Fh:
 *   ATA_DEV_NONE.
 * - A data port read without DRQ is not driven by the device either: it reads the floating
 *   bus pattern, never anything from the buffer. Writes without DRQ are ignored.
 * - BSY is visible only while SRST is held; a DMA data phase shows DRDY|DSC|DRQ (DMARQ is
 *   pending) until the bus master ends it.
 * - IDNF is decided when the command starts (the whole range is checked), so a transfer
 *   never stops half-way; the error registers hold the first LBA that is out of range. */
#include "compiler.h"
#include "lib.h"
#include "dev/blockdev.h"
#include "dev/ata.h"

STATIC_ASSERT(ATA_BUF_SIZE >= 128 * BLOCKDEV_SECTOR, "PIO buffer holds 128 sectors");
STATIC_ASSERT(ATA_BUF_SIZE > 0xFFFF, "an ATAPI DRQ phase (byte count <= FFFFh) fits");
STATIC_ASSERT(ATA_MAX_MULTIPLE * BLOCKDEV_SECTOR <= ATA_BUF_SIZE, "a MULTIPLE block fits");

#define ATA_FIRMWARE   "MV 1.0  "   /* IDENTIFY words 23-26: 8 characters */
#define SCSI_VENDOR    "MONOVSR "   /* INQUIRY bytes 8-15 */
#define SCSI_REVISION  "1.0 "       /* INQUIRY bytes 32-35 */
#define ATA_FLOAT16    0xFF7Fu      /* the floating bus seen through the 16-bit data port */

/* IDENTIFY word bits (ATA-6 IDENTIFY DEVICE / IDENTIFY PACKET DEVICE tables). */
#define ID0_ATA_FIXED       0x0040  /* word 0: ATA device, fixed medium */
#define ID0_ATAPI_CDROM     0x85C0  /* 15:14 10b ATAPI, 12:8 05h CD-ROM, 7 removable,
                                     * 6:5 10b DRQ within 50 us (no INTRQ for the packet),
                                     * 1:0 00b 12-byte packets */
#define ID47_MULT_MAGIC     0x8000  /* word 47 bits 15:8 = 80h */
#define ID49_DMA            0x0100
#define ID49_LBA            0x0200
#define ID49_IORDY_DISABLE  0x0400
#define ID49_IORDY          0x0800
#define ID50_VALID          0x4000
#define ID53_W54_58         0x0001
#define ID53_W64_70         0x0002
#define ID53_W88            0x0004
#define ID59_MULT_VALID     0x0100
#define ID_SIG_VALID        0x4000  /* words 83, 84, 87 (and 93): bit 14 one, bit 15 zero */
#define ID82_PM             0x0008  /* power management feature set */
#define ID82_PACKET         0x0010
#define ID82_WCACHE         0x0020
#define ID82_DEVICE_RESET   0x0200
#define ID82_NOP            0x4000
#define ID83_LBA48          0x0400
#define ID83_FLUSH          0x1000
#define ID83_FLUSH_EXT      0x2000
#define ID93_CBLID          0x2000  /* CBLID- above ViH: 80-conductor cable (Linux UDMA>2) */
#define ID93_D0_BASE        0x000B  /* bit 0 one, 2:1 01b jumper, 3 passed diagnostics */
#define ID93_D0_PDIAG       0x0010  /* device 0 saw device 1 assert PDIAG- */
#define ID93_D0_DASP        0x0020  /* device 0 saw DASP- */
#define ID93_D0_RESPONDS    0x0040  /* device 0 answers for an absent device 1 */
#define ID93_D1_BASE        0x0300  /* bit 8 one, 10:9 01b jumper */
#define ID93_D1_PDIAG       0x0800  /* device 1 asserted PDIAG- */
#define ID_CHECKSUM_SIG     0xA5    /* word 255 bits 7:0 */
#define ID_WORDS            256

/* Power-on / hardware-reset defaults of the settable features. */
#define ATA_DEF_WCACHE      true

enum { PROTO_PIO, PROTO_MULTIPLE, PROTO_DMA };

/* ---- small helpers ---- */

static bool present(const struct ata_channel *c, unsigned u)
{
    return c->drive[u].kind != ATA_NONE;
}

static bool channel_empty(const struct ata_channel *c)
{
    return !present(c, 0) && !present(c, 1);
}

static unsigned unit_of(const struct ata_channel *c, const struct ata_drive *d)
{
    return d == &c->drive[1] ? 1u : 0u;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static size_t str_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

/* Space-padded, unterminated (SCSI INQUIRY fields). */
static void put_padded(uint8_t *p, size_t width, const char *s)
{
    size_t n = str_len(s, width);
    for (size_t i = 0; i < width; i++)
        p[i] = i < n ? (uint8_t)s[i] : ' ';
}

static void copy_str(char *dst, size_t cap, const char *src, const char *def)
{
    if (!src)
        src = def;
    size_t i = 0;
    for (; i + 1 < cap && src[i]; i++)
        dst[i] = src[i];
    dst[i] = 0;
}

/* INTRQ is driven by the selected device only and gated by nIEN (ATA-6 signal descriptions,
 * INTRQ; Device Control register). */
static void irq_update(struct ata_channel *c)
{
    const struct ata_drive *d = &c->drive[c->sel];
    bool level = d->kind != ATA_NONE && d->pending && !(c->devctl & ATA_CTL_NIEN);
    if (level == c->irq_level)
        return;
    c->irq_level = level;
    if (c->set_irq)
        c->set_irq(c->ctx, level);
}

/* ---- command completion ---- */

static void xfer_end(struct ata_channel *c)
{
    c->xfer = ATA_X_NONE;
    c->win_pos = c->win_end = 0;
    c->x_left = 0;
    c->x_failed = false;
    c->cdb_len = 0;
}

/* A new command or a reset cuts a data phase short: its owner no longer shows DRQ. */
static void xfer_cancel(struct ata_channel *c)
{
    if (c->xfer == ATA_X_NONE)
        return;
    struct ata_drive *d = &c->drive[c->xunit];
    d->tf.status = ATA_SR_DRDY | ATA_SR_ERR;
    d->tf.error = ATA_ER_ABRT;
    xfer_end(c);
}

static void cmd_ok(struct ata_drive *d, bool irq)
{
    d->tf.status = ATA_SR_DRDY | ATA_SR_DSC;
    d->tf.error = 0;
    if (irq)
        d->pending = true;
}

/* Every error completion: ERR with the cause in the Error register, and an interrupt. */
static void cmd_err(struct ata_drive *d, uint8_t err)
{
    d->tf.status = ATA_SR_DRDY | ATA_SR_ERR;
    d->tf.error = err;
    d->pending = true;
}

/* Device signature (ATA-6 clause 9, signature and persistence): count 01h, LBA low 01h,
 * LBA mid/high 00h/00h for ATA or 14h/EBh for a PACKET device, device register 00h. */
static void set_signature(struct ata_drive *d)
{
    d->tf.count = 1;
    d->tf.lbal = 1;
    d->tf.lbam = d->kind == ATA_CDROM ? 0x14 : 0x00;
    d->tf.lbah = d->kind == ATA_CDROM ? 0xEB : 0x00;
    d->tf.device = 0;
}

/* Reset of one device (hardware reset, SRST, EXECUTE DEVICE DIAGNOSTIC, DEVICE RESET).
 * hard restores the power-on settings; ua posts UNIT ATTENTION "power on, reset" (SPC 29h)
 * on a PACKET device. A PACKET device reports status 00h (DRDY clear) after a reset, as
 * ATAPI drives do; hosts only wait for !BSY there (Linux ata_sff_wait_ready(); SeaBIOS
 * waits for DRDY on ATA devices only). */
static void drive_reset(struct ata_channel *c, unsigned u, bool hard, bool ua)
{
    struct ata_drive *d = &c->drive[u];
    if (c->xfer != ATA_X_NONE && c->xunit == u)
        xfer_end(c);
    memset(&d->tf, 0, sizeof(d->tf));
    d->pending = false;
    if (d->kind == ATA_NONE)
        return;                 /* the phantom register copy reads back 00h */
    set_signature(d);
    d->tf.error = ATA_ER_DIAG_PASSED;
    d->tf.status = d->kind == ATA_DISK ? (ATA_SR_DRDY | ATA_SR_DSC) : 0;
    d->power = ATA_PWR_ACTIVE;
    if (hard) {
        d->multiple = 0;        /* READ/WRITE MULTIPLE disabled until SET MULTIPLE */
        d->pio_mode = 0;
        d->mwdma_sel = d->udma_sel = 0;
        d->wcache = ATA_DEF_WCACHE;
        d->cur_heads = ATA_DEF_HEADS;
        d->cur_spt = ATA_DEF_SPT;
        d->locked = false;
    }
    if (d->kind == ATA_CDROM) {
        d->sense_key = SK_NO_SENSE;
        d->asc = d->ascq = 0;
        if (ua)
            d->unit_attention = true;
    }
}

/* ---- the medium as a byte stream, one 512-byte blockdev sector at a time ---- */

static void stream_start(struct ata_channel *c, uint64_t bd_lba)
{
    c->s_lba = bd_lba;
    c->s_pos = c->s_len = 0;
    c->x_counted = false;
}

static void count_io(struct ata_channel *c, struct ata_drive *d, bool write)
{
    if (c->x_counted)
        return;
    c->x_counted = true;        /* one command that moved data */
    if (write)
        d->bd->writes++;
    else
        d->bd->reads++;
}

static bool stream_read(struct ata_channel *c, struct ata_drive *d, uint8_t *dst, uint64_t n)
{
    while (n) {
        if (c->s_pos >= c->s_len) {
            if (!blockdev_read(d->bd, c->s_lba, 1, c->sbuf))
                return false;
            count_io(c, d, false);
            c->s_lba++;
            c->s_pos = 0;
            c->s_len = BLOCKDEV_SECTOR;
        }
        uint32_t k = (uint32_t)MIN(n, (uint64_t)(c->s_len - c->s_pos));
        memcpy(dst, c->sbuf + c->s_pos, k);
        dst += k;
        c->s_pos += k;
        n -= k;
    }
    return true;
}

/* Writes reach the blockdev a whole sector at a time; s_pos is the fill level of sbuf. */
static bool stream_write(struct ata_channel *c, struct ata_drive *d, const uint8_t *src,
                         uint64_t n)
{
    while (n) {
        uint32_t k = (uint32_t)MIN(n, (uint64_t)(BLOCKDEV_SECTOR - c->s_pos));
        memcpy(c->sbuf + c->s_pos, src, k);
        src += k;
        c->s_pos += k;
        n -= k;
        if (c->s_pos == BLOCKDEV_SECTOR) {
            if (!blockdev_write(d->bd, c->s_lba, 1, c->sbuf))
                return false;
            count_io(c, d, true);
            c->s_lba++;
            c->s_pos = 0;
        }
    }
    return true;
}

/* ---- ATA addressing ---- */

static uint32_t sector_count(const struct ata_drive *d, bool lba48)
{
    if (lba48) {
        uint32_t n = (uint32_t)d->tf.hob_count << 8 | d->tf.count;
        return n ? n : 65536;           /* ATA-6 48-bit address feature set */
    }
    return d->tf.count ? d->tf.count : 256;
}

/* The address in the command block: LBA48, LBA28, or CHS through the current translation
 * (LBA = (C * heads + H) * sectors_per_track + S - 1). False for an impossible CHS. */
static bool decode_lba(const struct ata_drive *d, bool lba48, uint64_t *lba)
{
    const struct ata_taskfile *t = &d->tf;
    if (lba48) {
        *lba = (uint64_t)t->hob_lbah << 40 | (uint64_t)t->hob_lbam << 32 |
               (uint64_t)t->hob_lbal << 24 | (uint64_t)t->lbah << 16 |
               (uint64_t)t->lbam << 8 | t->lbal;
        return true;
    }
    if (t->device & ATA_DEV_LBA) {
        *lba = (uint64_t)(t->device & ATA_DEV_HEAD) << 24 | (uint64_t)t->lbah << 16 |
               (uint64_t)t->lbam << 8 | t->lbal;
        return true;
    }
    uint32_t cyl = (uint32_t)t->lbah << 8 | t->lbam, head = t->device & ATA_DEV_HEAD;
    uint32_t sec = t->lbal;
    if (sec == 0 || sec > d->cur_spt || head >= d->cur_heads)
        return false;
    *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_spt + sec - 1;
    return true;
}

/* On an error the address registers report the first failing sector (ATA-6 command
 * descriptions, error outputs), in the addressing mode of the command. */
static void report_lba(struct ata_drive *d, bool lba48, uint64_t lba)
{
    struct ata_taskfile *t = &d->tf;
    if (lba48) {
        t->lbal = (uint8_t)lba;
        t->lbam = (uint8_t)(lba >> 8);
        t->lbah = (uint8_t)(lba >> 16);
        t->hob_lbal = (uint8_t)(lba >> 24);
        t->hob_lbam = (uint8_t)(lba >> 32);
        t->hob_lbah = (uint8_t)(lba >> 40);
    } else if (t->device & ATA_DEV_LBA) {
        t->lbal = (uint8_t)lba;
        t->lbam = (uint8_t)(lba >> 8);
        t->lbah = (uint8_t)(lba >> 16);
        t->device = (uint8_t)((t->device & ~ATA_DEV_HEAD) | ((lba >> 24) & ATA_DEV_HEAD));
    } else {
        uint64_t per_cyl = (uint64_t)d->cur_heads * d->cur_spt;
        uint64_t cyl = MIN(lba / per_cyl, 0xFFFFull);
        t->lbal = (uint8_t)(lba % d->cur_spt + 1);
        t->lbam = (uint8_t)cyl;
        t->lbah = (uint8_t)(cyl >> 8);
        t->device = (uint8_t)((t->device & ~ATA_DEV_HEAD) |
                              ((lba / d->cur_spt) % d->cur_heads));
    }
}

/* The sectors a command may reach: LBA28 and CHS stop at words 60-61 (ATA-6 IDENTIFY). */
static uint64_t addressable(const struct ata_drive *d, bool lba48)
{
    uint64_t n = d->bd->sectors;
    return lba48 ? MIN(n, (1ull << 48) - 1) : MIN(n, ATA_LBA28_MAX);
}

/* Range check of a disk command; on failure the error completion is posted (IDNF). */
static bool check_range(struct ata_drive *d, bool lba48, uint64_t *lba, uint32_t *count)
{
    uint64_t limit = addressable(d, lba48);
    *count = sector_count(d, lba48);
    if (!decode_lba(d, lba48, lba)) {
        cmd_err(d, ATA_ER_IDNF);
        return false;
    }
    if (*lba >= limit || *count > limit - *lba) {
        report_lba(d, lba48, MAX(*lba, limit));
        cmd_err(d, ATA_ER_IDNF);
        return false;
    }
    return true;
}

/* ---- PIO data phases (ATA-6 clause 9, PIO data-in and PIO data-out protocols) ---- */

/* Next DRQ block of a disk read: an interrupt per block. */
static void pio_in_next_block(struct ata_channel *c, struct ata_drive *d)
{
    uint32_t n = (uint32_t)MIN((uint64_t)c->x_block, c->x_left);
    if (!stream_read(c, d, c->buf, n)) {
        xfer_end(c);
        cmd_err(d, ATA_ER_UNC);
        return;
    }
    c->win_pos = 0;
    c->win_end = n;
    c->x_left -= n;
    d->tf.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    d->pending = true;
}

/* A data-in phase of a buffer the device built (IDENTIFY): one block, one interrupt. */
static void pio_in_buffer(struct ata_channel *c, struct ata_drive *d, uint32_t len)
{
    c->xfer = ATA_X_PIO_IN;
    c->xunit = (uint8_t)unit_of(c, d);
    c->x_atapi = c->x_medium = false;
    c->x_left = 0;
    c->win_pos = 0;
    c->win_end = len;
    d->tf.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    d->pending = true;
}

/* A write block for the host to fill; the first one is requested without an interrupt. */
static void pio_out_window(struct ata_channel *c, struct ata_drive *d)
{
    uint32_t n = (uint32_t)MIN((uint64_t)c->x_block, c->x_left);
    c->win_pos = 0;
    c->win_end = n;
    c->x_left -= n;
    d->tf.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
}

static void atapi_phase(struct ata_channel *c, struct ata_drive *d);
static void atapi_status_ok(struct ata_channel *c, struct ata_drive *d);

static void pio_in_block_done(struct ata_channel *c, struct ata_drive *d)
{
    if (c->x_atapi) {
        if (c->x_left)
            atapi_phase(c, d);
        else
            atapi_status_ok(c, d);      /* the status phase interrupts */
    } else if (c->x_left) {
        pio_in_next_block(c, d);
    } else {
        xfer_end(c);
        cmd_ok(d, false);               /* no interrupt after the last data-in block */
    }
}

static void pio_out_block_done(struct ata_channel *c, struct ata_drive *d)
{
    if (!stream_write(c, d, c->buf, c->win_end)) {
        xfer_end(c);
        cmd_err(d, ATA_ER_ABRT);
        return;
    }
    if (c->x_left) {
        pio_out_window(c, d);
        d->pending = true;              /* block stored: ask for the next one */
    } else {
        xfer_end(c);
        cmd_ok(d, true);                /* the last block is on the medium */
    }
}

static uint32_t floating(unsigned size)
{
    return size == 4 ? (ATA_FLOAT16 << 16 | ATA_FLOAT16) : size == 1 ? ATA_FLOATING_BUS
                                                                     : ATA_FLOAT16;
}

static void atapi_exec(struct ata_channel *c, struct ata_drive *d);

static uint32_t data_read(struct ata_channel *c, unsigned size)
{
    unsigned n = size == 4 ? 4 : 2;
    if (c->xfer != ATA_X_PIO_IN || c->xunit != c->sel)
        return floating(size);
    struct ata_drive *d = &c->drive[c->xunit];
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++)
        if (c->win_pos < c->win_end)    /* an odd ATAPI phase pads with zero */
            v |= (uint32_t)c->buf[c->win_pos++] << (8 * i);
    if (c->win_pos >= c->win_end)
        pio_in_block_done(c, d);
    return size == 1 ? (v & 0xFF) : v;
}

static void data_write(struct ata_channel *c, unsigned size, uint32_t val)
{
    unsigned n = size == 4 ? 4 : 2;
    if (c->xunit != c->sel)
        return;
    struct ata_drive *d = &c->drive[c->xunit];
    if (c->xfer == ATA_X_PACKET) {
        for (unsigned i = 0; i < n && c->cdb_len < ATAPI_CDB_LEN; i++)
            c->cdb[c->cdb_len++] = (uint8_t)(val >> (8 * i));
        if (c->cdb_len == ATAPI_CDB_LEN)
            atapi_exec(c, d);
    } else if (c->xfer == ATA_X_PIO_OUT) {
        for (unsigned i = 0; i < n && c->win_pos < c->win_end; i++)
            c->buf[c->win_pos++] = (uint8_t)(val >> (8 * i));
        if (c->win_pos >= c->win_end)
            pio_out_block_done(c, d);
    }
}

/* ---- ATA commands ---- */

/* READ/WRITE SECTORS, MULTIPLE, DMA (+EXT): ATA-6 clause 8. */
static void disk_rw(struct ata_channel *c, struct ata_drive *d, bool lba48, bool write, int proto)
{
    uint64_t lba;
    uint32_t count;
    if (proto == PROTO_MULTIPLE && !d->multiple) {
        cmd_err(d, ATA_ER_ABRT);        /* SET MULTIPLE never succeeded */
        return;
    }
    if (write && d->bd->readonly) {
        cmd_err(d, ATA_ER_ABRT);
        return;
    }
    if (!check_range(d, lba48, &lba, &count))
        return;
    d->power = ATA_PWR_ACTIVE;
    stream_start(c, lba);
    c->xunit = (uint8_t)unit_of(c, d);
    c->x_atapi = false;
    c->x_medium = true;
    c->x_failed = false;
    c->x_left = (uint64_t)count * BLOCKDEV_SECTOR;
    c->x_block = (proto == PROTO_MULTIPLE ? d->multiple : 1u) * BLOCKDEV_SECTOR;
    if (proto == PROTO_DMA) {
        /* ATA-6 clause 9, DMA protocol: no interrupt until the bus master is done. */
        c->xfer = write ? ATA_X_DMA_OUT : ATA_X_DMA_IN;
        c->win_pos = c->win_end = 0;
        d->tf.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    } else if (write) {
        c->xfer = ATA_X_PIO_OUT;
        pio_out_window(c, d);
    } else {
        c->xfer = ATA_X_PIO_IN;
        pio_in_next_block(c, d);
    }
}

static void put16(uint8_t *b, unsigned w, uint32_t v)
{
    b[2 * w] = (uint8_t)v;
    b[2 * w + 1] = (uint8_t)(v >> 8);
}

/* ATA string convention (ATA-6 clause 3 conventions, IDENTIFY DEVICE): two characters a word, the first in
 * bits 15:8, padded with spaces. */
static void put_ata_str(uint8_t *b, unsigned w, unsigned words, const char *s)
{
    size_t n = str_len(s, 2 * words);
    for (unsigned i = 0; i < 2 * words; i++)
        b[2 * w + (i ^ 1)] = i < n ? (uint8_t)s[i] : ' ';
}

/* Word 255: A5h, then the byte that makes all 512 bytes sum to zero (mod 256). */
static void put_checksum(uint8_t *b)
{
    uint8_t sum = ID_CHECKSUM_SIG;
    b[510] = ID_CHECKSUM_SIG;
    for (unsigned i = 0; i < 510; i++)
        sum = (uint8_t)(sum + b[i]);
    b[511] = (uint8_t)-sum;
}

/* Word 93, hardware reset result: what each device saw of the other, plus the cable. */
static uint16_t reset_result(const struct ata_channel *c, unsigned u)
{
    uint16_t v = ID_SIG_VALID | ID93_CBLID;
    if (u == 0)
        v |= ID93_D0_BASE | (present(c, 1) ? (ID93_D0_PDIAG | ID93_D0_DASP) : ID93_D0_RESPONDS);
    else
        v |= ID93_D1_BASE | ID93_D1_PDIAG;
    return v;
}

static void identify_common(const struct ata_channel *c, const struct ata_drive *d, uint8_t *b)
{
    put_ata_str(b, 10, 10, d->serial);
    put_ata_str(b, 23, 4, ATA_FIRMWARE);
    put_ata_str(b, 27, 20, d->model);
    put16(b, 49, ID49_IORDY | ID49_IORDY_DISABLE | ID49_LBA | ID49_DMA);
    put16(b, 63, 0x0007u | (uint32_t)d->mwdma_sel << 8);   /* MWDMA 0-2 supported */
    put16(b, 64, 0x0003);                                   /* PIO 3 and 4 */
    for (unsigned w = 65; w <= 68; w++)
        put16(b, w, 120);                                   /* ns: mode 4 / MWDMA 2 cycles */
    put16(b, 80, 0x0070);                                   /* ATA/ATAPI-4, -5, -6 */
    put16(b, 84, ID_SIG_VALID);
    put16(b, 87, ID_SIG_VALID);
    put16(b, 88, 0x003Fu | (uint32_t)d->udma_sel << 8);     /* UDMA 0-5 supported */
    put16(b, 93, reset_result(c, unit_of(c, d)));
}

/* IDENTIFY DEVICE (ATA-6 clause 8, table "IDENTIFY DEVICE information"). */
static void identify_disk(struct ata_channel *c, struct ata_drive *d)
{
    uint8_t *b = c->buf;
    uint64_t secs = d->bd->sectors;
    memset(b, 0, ID_WORDS * 2);
    put16(b, 0, ID0_ATA_FIXED);
    uint64_t cyls = MAX(MIN(secs / (ATA_DEF_HEADS * ATA_DEF_SPT), 16383ull), 1ull);
    put16(b, 1, (uint32_t)cyls);
    put16(b, 3, ATA_DEF_HEADS);
    put16(b, 6, ATA_DEF_SPT);
    put16(b, 47, ID47_MULT_MAGIC | ATA_MAX_MULTIPLE);
    put16(b, 50, ID50_VALID);
    put16(b, 51, 0x0200);                       /* obsolete PIO timing: mode 2 */
    put16(b, 53, ID53_W54_58 | ID53_W64_70 | ID53_W88);
    uint64_t per_cyl = (uint64_t)d->cur_heads * d->cur_spt;
    uint64_t ccyl = MIN(secs / per_cyl, 65535ull);
    uint64_t ccap = ccyl * per_cyl;
    put16(b, 54, (uint32_t)ccyl);
    put16(b, 55, d->cur_heads);
    put16(b, 56, d->cur_spt);
    put16(b, 57, (uint32_t)(ccap & 0xFFFF));
    put16(b, 58, (uint32_t)(ccap >> 16));
    put16(b, 59, d->multiple ? (ID59_MULT_VALID | d->multiple) : 0);
    uint64_t lba28 = MIN(secs, ATA_LBA28_MAX);
    put16(b, 60, (uint32_t)(lba28 & 0xFFFF));
    put16(b, 61, (uint32_t)(lba28 >> 16));
    identify_common(c, d, b);
    put16(b, 82, ID82_WCACHE | ID82_PM);
    put16(b, 83, ID_SIG_VALID | ID83_FLUSH_EXT | ID83_FLUSH | ID83_LBA48);
    put16(b, 85, (d->wcache ? ID82_WCACHE : 0) | ID82_PM);
    put16(b, 86, ID83_FLUSH_EXT | ID83_FLUSH | ID83_LBA48);
    uint64_t lba48 = MIN(secs, (1ull << 48) - 1);
    for (unsigned i = 0; i < 4; i++)
        put16(b, 100 + i, (uint32_t)((lba48 >> (16 * i)) & 0xFFFF));
    put_checksum(b);
}

/* IDENTIFY PACKET DEVICE (ATA-6 clause 8). */
static void identify_packet(struct ata_channel *c, struct ata_drive *d)
{
    uint8_t *b = c->buf;
    memset(b, 0, ID_WORDS * 2);
    put16(b, 0, ID0_ATAPI_CDROM);
    put16(b, 53, ID53_W64_70 | ID53_W88);
    identify_common(c, d, b);
    put16(b, 82, ID82_NOP | ID82_DEVICE_RESET | ID82_PACKET | ID82_PM);
    put16(b, 83, ID_SIG_VALID);
    put16(b, 85, ID82_NOP | ID82_DEVICE_RESET | ID82_PACKET | ID82_PM);
    put_checksum(b);
}

/* SET FEATURES (ATA-6 clause 8); false = abort. */
static bool set_features(struct ata_drive *d)
{
    uint8_t mode = d->tf.count;
    switch (d->tf.feature) {
    case ATA_SF_XFER_MODE:
        switch (mode >> 3) {
        case ATA_XFER_PIO_DEFAULT:
            if ((mode & 7) > 1)
                return false;
            d->pio_mode = 0;
            return true;
        case ATA_XFER_PIO_FLOW:
            if ((mode & 7) > ATA_MAX_PIO)
                return false;
            d->pio_mode = mode & 7;
            return true;
        case ATA_XFER_MWDMA:
            if ((mode & 7) > ATA_MAX_MWDMA)
                return false;
            d->mwdma_sel = (uint8_t)(1u << (mode & 7));    /* one DMA mode at a time */
            d->udma_sel = 0;
            return true;
        case ATA_XFER_UDMA:
            if ((mode & 7) > ATA_MAX_UDMA)
                return false;
            d->udma_sel = (uint8_t)(1u << (mode & 7));
            d->mwdma_sel = 0;
            return true;
        default:
            return false;
        }
    case ATA_SF_WCACHE_ON:
    case ATA_SF_WCACHE_OFF:
        if (d->kind != ATA_DISK)
            return false;
        d->wcache = d->tf.feature == ATA_SF_WCACHE_ON;
        return true;
    case ATA_SF_REVERT_OFF:
    case ATA_SF_REVERT_ON:
        return true;    /* settings always survive SRST here (the 66h behaviour) */
    default:
        return false;
    }
}

/* Power commands shared by both kinds. STANDBY and IDLE timers are not modelled; SLEEP is
 * left by any command instead of only by a reset (lenient: a guest cannot get stuck). */
static bool power_command(struct ata_drive *d, uint8_t cmd)
{
    switch (cmd) {
    case ATA_CMD_IDLE:
    case ATA_CMD_IDLE_IMMEDIATE:
        d->power = ATA_PWR_IDLE;
        break;
    case ATA_CMD_STANDBY:
    case ATA_CMD_STANDBY_IMMEDIATE:
        d->power = ATA_PWR_STANDBY;
        break;
    case ATA_CMD_SLEEP:
        d->power = ATA_PWR_SLEEP;
        break;
    case ATA_CMD_CHECK_POWER_MODE:
        /* count: 00h standby, 80h idle, FFh active or idle (ATA-6 CHECK POWER MODE) */
        d->tf.count = d->power >= ATA_PWR_STANDBY ? 0x00 : 0xFF;
        if (d->power == ATA_PWR_SLEEP)
            d->power = ATA_PWR_STANDBY;
        break;
    default:
        return false;
    }
    cmd_ok(d, true);
    return true;
}

/* The data-moving commands (ATA-6 clause 8): opcode, LBA48, direction, protocol. The _NR
 * ("no retry") opcodes of ATA-1..3 are the same commands. */
static const struct { uint8_t cmd; bool ext, write; uint8_t proto; } rw_commands[] = {
    { ATA_CMD_READ_SECTORS, false, false, PROTO_PIO },     { ATA_CMD_READ_SECTORS_NR, false, false, PROTO_PIO },
    { ATA_CMD_READ_SECTORS_EXT, true, false, PROTO_PIO },
    { ATA_CMD_READ_MULTIPLE, false, false, PROTO_MULTIPLE }, { ATA_CMD_READ_MULTIPLE_EXT, true, false, PROTO_MULTIPLE },
    { ATA_CMD_READ_DMA, false, false, PROTO_DMA },         { ATA_CMD_READ_DMA_NR, false, false, PROTO_DMA },
    { ATA_CMD_READ_DMA_EXT, true, false, PROTO_DMA },
    { ATA_CMD_WRITE_SECTORS, false, true, PROTO_PIO },     { ATA_CMD_WRITE_SECTORS_NR, false, true, PROTO_PIO },
    { ATA_CMD_WRITE_SECTORS_EXT, true, true, PROTO_PIO },
    { ATA_CMD_WRITE_MULTIPLE, false, true, PROTO_MULTIPLE }, { ATA_CMD_WRITE_MULTIPLE_EXT, true, true, PROTO_MULTIPLE },
    { ATA_CMD_WRITE_DMA, false, true, PROTO_DMA },         { ATA_CMD_WRITE_DMA_NR, false, true, PROTO_DMA },
    { ATA_CMD_WRITE_DMA_EXT, true, true, PROTO_DMA },
};

static void disk_command(struct ata_channel *c, struct ata_drive *d, uint8_t cmd)
{
    uint64_t lba;
    uint32_t count;
    if (d->power == ATA_PWR_SLEEP && cmd != ATA_CMD_CHECK_POWER_MODE)
        d->power = ATA_PWR_STANDBY;
    if (power_command(d, cmd))
        return;
    for (unsigned i = 0; i < ARRAY_SIZE(rw_commands); i++)
        if (rw_commands[i].cmd == cmd) {
            disk_rw(c, d, rw_commands[i].ext, rw_commands[i].write, rw_commands[i].proto);
            return;
        }
    switch (cmd) {
    case ATA_CMD_READ_VERIFY:
    case ATA_CMD_READ_VERIFY_NR:
    case ATA_CMD_READ_VERIFY_EXT:
        /* Non-data: the range must exist; the blockdev cannot have unreadable sectors. */
        if (check_range(d, cmd == ATA_CMD_READ_VERIFY_EXT, &lba, &count)) {
            d->power = ATA_PWR_ACTIVE;
            cmd_ok(d, true);
        }
        break;
    case ATA_CMD_FLUSH_CACHE:
    case ATA_CMD_FLUSH_CACHE_EXT:
        cmd_ok(d, true);                /* writes reach the blockdev at once */
        break;
    case ATA_CMD_IDENTIFY:
        identify_disk(c, d);
        pio_in_buffer(c, d, ID_WORDS * 2);
        break;
    case ATA_CMD_SET_FEATURES:
        if (set_features(d))
            cmd_ok(d, true);
        else
            cmd_err(d, ATA_ER_ABRT);
        break;
    case ATA_CMD_SET_MULTIPLE: {
        uint8_t n = d->tf.count;
        if (n == 0 || n > ATA_MAX_MULTIPLE || (n & (n - 1))) {
            d->multiple = 0;            /* an aborted SET MULTIPLE disables the commands */
            cmd_err(d, ATA_ER_ABRT);
        } else {
            d->multiple = n;
            cmd_ok(d, true);
        }
        break;
    }
    case ATA_CMD_INIT_DEV_PARAMS:
        /* Sets the CHS translation: heads = device bits 3:0 + 1, sectors = count. */
        if (d->tf.count == 0) {
            cmd_err(d, ATA_ER_ABRT);
        } else {
            d->cur_spt = d->tf.count;
            d->cur_heads = (uint16_t)((d->tf.device & ATA_DEV_HEAD) + 1);
            cmd_ok(d, true);
        }
        break;
    case ATA_CMD_RECALIBRATE:
    case ATA_CMD_SEEK:
        cmd_ok(d, true);
        break;
    default:
        /* NOP, DEVICE RESET, PACKET, IDENTIFY PACKET, and everything not implemented. */
        cmd_err(d, ATA_ER_ABRT);
        break;
    }
}

/* ---- ATAPI (SFF-8020i, MMC; ATA-6 clause 9, PACKET protocol) ---- */

static void atapi_set_sense(struct ata_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
}

/* Status phase (interrupt reason CoD=1 IO=1) of a command that succeeded. */
static void atapi_status_ok(struct ata_channel *c, struct ata_drive *d)
{
    xfer_end(c);
    d->tf.status = ATA_SR_DRDY | ATA_SR_DSC;
    d->tf.error = 0;
    d->tf.count = ATAPI_IR_COD | ATAPI_IR_IO;
    d->pending = true;
}

/* CHECK CONDITION: ERR, the sense key in Error bits 7:4, sense kept for REQUEST SENSE. */
static void atapi_check(struct ata_channel *c, struct ata_drive *d, uint8_t key, uint8_t asc,
                        uint8_t ascq)
{
    xfer_end(c);
    atapi_set_sense(d, key, asc, ascq);
    d->tf.status = ATA_SR_DRDY | ATA_SR_ERR;
    d->tf.error = (uint8_t)(key << ATAPI_ER_SENSE_SHIFT);
    d->tf.count = ATAPI_IR_COD | ATAPI_IR_IO;
    d->pending = true;
}

/* One PIO data-in phase: at most the byte count limit (even unless it is the last phase),
 * reported in LBA mid/high, interrupt reason IO=1 CoD=0, with an interrupt. */
static void atapi_phase(struct ata_channel *c, struct ata_drive *d)
{
    uint32_t lim = c->x_limit ? c->x_limit : 0xFFFEu;   /* 0 is invalid: take the most */
    uint32_t n;
    if (c->x_left <= lim) {
        n = (uint32_t)c->x_left;
    } else {
        n = lim & ~1u;
        if (!n)
            n = 2;
    }
    if (c->x_medium) {
        if (!stream_read(c, d, c->buf, n)) {
            atapi_check(c, d, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
            return;
        }
        c->win_pos = 0;
        c->win_end = n;
    } else {
        c->win_pos = c->win_end;        /* the reply lies in buf: move the window along */
        c->win_end += n;
    }
    c->x_left -= n;
    d->tf.lbam = (uint8_t)n;
    d->tf.lbah = (uint8_t)(n >> 8);
    d->tf.count = ATAPI_IR_IO;
    d->tf.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    d->pending = true;
}

/* Data-in of total bytes, from buf (a reply) or from the medium stream; by DMA if the
 * PACKET command asked for it. */
static void atapi_data_in(struct ata_channel *c, struct ata_drive *d, uint64_t total, bool medium)
{
    if (total == 0) {
        atapi_status_ok(c, d);
        return;
    }
    c->xunit = (uint8_t)unit_of(c, d);
    c->x_atapi = true;
    c->x_medium = medium;
    c->x_failed = false;
    c->win_pos = c->win_end = 0;
    c->x_left = total;
    if (c->x_dma) {
        c->xfer = ATA_X_DMA_IN;
        if (!medium)
            c->win_end = (uint32_t)total;   /* the reply in buf, taken from win_pos on */
        d->tf.count = ATAPI_IR_IO;
        d->tf.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
        return;
    }
    c->xfer = ATA_X_PIO_IN;
    atapi_phase(c, d);
}

static void atapi_reply(struct ata_channel *c, struct ata_drive *d, uint32_t built, uint32_t alloc)
{
    atapi_data_in(c, d, MIN(built, alloc), false);
}

static uint64_t cd_blocks(const struct ata_drive *d)
{
    return d->bd->sectors / ATA_CD_BD_SECTORS;
}

static void atapi_read(struct ata_channel *c, struct ata_drive *d, uint32_t lba, uint32_t n)
{
    uint64_t blocks = cd_blocks(d);
    if (lba > blocks || n > blocks - lba) {
        atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    d->power = ATA_PWR_ACTIVE;
    stream_start(c, (uint64_t)lba * ATA_CD_BD_SECTORS);
    atapi_data_in(c, d, (uint64_t)n * ATA_CD_SECTOR, true);
}

/* INQUIRY (SPC-3 6.4): standard data, or the VPD pages 00h and 80h. */
static void atapi_inquiry(struct ata_channel *c, struct ata_drive *d, const uint8_t *cdb)
{
    uint8_t *b = c->buf;
    uint32_t alloc = be16(cdb + 3);     /* byte 3 is reserved (0) in SFF-8020i */
    memset(b, 0, 36);
    b[0] = 0x05;                        /* peripheral device type: CD/DVD (MMC) */
    if (cdb[1] & 0x02) {                /* CMDDT: obsolete */
        atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0);
        return;
    }
    if (cdb[1] & 0x01) {                /* EVPD */
        if (cdb[2] == 0x00) {
            b[3] = 2;
            b[4] = 0x00;
            b[5] = 0x80;
            atapi_reply(c, d, 6, alloc);
        } else if (cdb[2] == 0x80) {
            b[1] = 0x80;
            b[3] = 20;
            put_padded(b + 4, 20, d->serial);
            atapi_reply(c, d, 24, alloc);
        } else {
            atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0);
        }
        return;
    }
    b[1] = 0x80;                        /* RMB: removable medium */
    b[2] = 0x00;                        /* no ANSI conformance claimed (SFF-8020i) */
    b[3] = 0x21;                        /* ATAPI version 2, response data format 1 */
    b[4] = 36 - 5;                      /* additional length */
    put_padded(b + 8, 8, SCSI_VENDOR);
    put_padded(b + 16, 16, d->model);
    put_padded(b + 32, 4, SCSI_REVISION);
    atapi_reply(c, d, 36, alloc);
}

/* Mode pages (SFF-8020i / MMC): 01h read error recovery, 2Ah capabilities. */
static uint32_t mode_page(const struct ata_drive *d, uint8_t page, uint8_t *p, bool changeable)
{
    uint32_t n;
    if (page == 0x01) {
        n = 8;
        memset(p, 0, n);
        p[0] = 0x01;
        p[1] = (uint8_t)(n - 2);
        p[3] = 5;                       /* read retry count */
    } else if (page == 0x2A) {
        n = 20;
        memset(p, 0, n);
        p[0] = 0x2A;
        p[1] = (uint8_t)(n - 2);
        p[2] = 0x03;                    /* reads CD-R and CD-RW media */
        p[3] = 0x00;                    /* writes nothing */
        p[4] = 0x70;                    /* mode 2 form 1 and 2, multi-session */
        p[6] = 0x29 | (d->locked ? 0x02 : 0);   /* tray, eject, lock (+ lock state) */
        put_be16(p + 8, 16 * 176);      /* maximum read speed, kB/s (16x) */
        put_be16(p + 12, 512);          /* buffer size, KiB */
        put_be16(p + 14, 16 * 176);     /* current read speed */
    } else {
        return 0;
    }
    if (changeable)
        memset(p + 2, 0, n - 2);        /* nothing can be changed by MODE SELECT */
    return n;
}

/* MODE SENSE(10) (SPC-3 MODE SENSE(10); the only MODE SENSE an ATAPI device has). */
static void atapi_mode_sense(struct ata_channel *c, struct ata_drive *d, const uint8_t *cdb)
{
    uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3F, *b = c->buf;
    uint32_t alloc = be16(cdb + 7), n = 8;
    bool chg = pc == 1;
    if (pc == 3) {
        atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    memset(b, 0, 8);
    if (page == 0x3F) {
        n += mode_page(d, 0x01, b + n, chg);
        n += mode_page(d, 0x2A, b + n, chg);
    } else {
        uint32_t k = mode_page(d, page, b + n, chg);
        if (!k) {
            atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0);
            return;
        }
        n += k;
    }
    put_be16(b, n - 2);                 /* mode data length */
    b[2] = 0x01;                        /* medium type: 120 mm CD-ROM, data (SFF-8020i) */
    atapi_reply(c, d, n, alloc);        /* block descriptor length (6-7) stays 0 */
}

/* READ CAPACITY (MMC): the last LBA and the block length. */
static void atapi_read_capacity(struct ata_channel *c, struct ata_drive *d)
{
    uint64_t last = cd_blocks(d) - 1;
    put_be32(c->buf, (uint32_t)MIN(last, 0xFFFFFFFFull));
    put_be32(c->buf + 4, ATA_CD_SECTOR);
    atapi_reply(c, d, 8, 8);
}

static void toc_desc(uint8_t *p, uint8_t track, uint64_t lba, bool msf)
{
    p[0] = 0;
    p[1] = 0x14;                        /* ADR 1 (position), control 4 (data track) */
    p[2] = track;
    p[3] = 0;
    if (msf) {
        uint64_t x = lba + 150;         /* the 2-second pregap */
        p[4] = 0;
        p[5] = (uint8_t)MIN(x / (75 * 60), 0xFFull);
        p[6] = (uint8_t)(x / 75 % 60);
        p[7] = (uint8_t)(x % 75);
    } else {
        put_be32(p + 4, (uint32_t)MIN(lba, 0xFFFFFFFFull));
    }
}

/* READ TOC/PMA/ATIP (MMC): format 0 (one data track and the lead-out) and 1 (sessions). */
static void atapi_read_toc(struct ata_channel *c, struct ata_drive *d, const uint8_t *cdb)
{
    uint8_t *b = c->buf, fmt = cdb[2] & 0x0F, start = cdb[6];
    bool msf = cdb[1] & 0x02;
    uint32_t alloc = be16(cdb + 7), n = 4;
    if (fmt == 0)
        fmt = cdb[9] >> 6;              /* SFF-8020i put the format in the control byte */
    memset(b, 0, 20);
    b[2] = 1;                           /* first track / session */
    b[3] = 1;                           /* last */
    if (fmt == 0) {
        if (start > 1 && start != 0xAA) {
            atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0);
            return;
        }
        if (start <= 1) {
            toc_desc(b + n, 1, 0, msf);
            n += 8;
        }
        toc_desc(b + n, 0xAA, cd_blocks(d), msf);
        n += 8;
    } else if (fmt == 1) {
        toc_desc(b + n, 1, 0, msf);     /* first track of the last session */
        n += 8;
    } else {
        atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0);
        return;
    }
    put_be16(b, n - 2);
    atapi_reply(c, d, n, alloc);
}

/* One feature descriptor of GET CONFIGURATION (MMC-4 clause 5, features); 0 if not implemented. */
static uint32_t feature_desc(const struct ata_drive *d, uint16_t code, uint8_t *p)
{
    memset(p, 0, 12);
    put_be16(p, code);
    switch (code) {
    case 0x0000:                        /* profile list */
        p[2] = 0x03;                    /* persistent, current */
        p[3] = 4;
        put_be16(p + 4, 0x0008);        /* CD-ROM */
        p[6] = 0x01;                    /* current profile */
        return 8;
    case 0x0001:                        /* core */
        p[2] = 0x03;
        p[3] = 4;
        put_be32(p + 4, 2);             /* physical interface: ATAPI */
        return 8;
    case 0x0003:                        /* removable medium */
        p[2] = 0x03;
        p[3] = 4;
        p[4] = 0x29;                    /* tray, eject, lock */
        return 8;
    case 0x0010:                        /* random readable */
        p[2] = 0x01;
        p[3] = 8;
        put_be32(p + 4, ATA_CD_SECTOR);
        put_be16(p + 8, 1);             /* blocking */
        return 12;
    case 0x001E:                        /* CD read */
        p[2] = 0x01;
        p[3] = 4;
        return 8;
    default:
        (void)d;
        return 0;
    }
}

static void atapi_get_configuration(struct ata_channel *c, struct ata_drive *d, const uint8_t *cdb)
{
    static const uint16_t features[] = { 0x0000, 0x0001, 0x0003, 0x0010, 0x001E };
    uint8_t rt = cdb[1] & 0x03, *b = c->buf;
    uint16_t start = be16(cdb + 2);
    uint32_t alloc = be16(cdb + 7), n = 8;
    if (rt == 3) {
        atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0);
        return;
    }
    memset(b, 0, 8);
    for (unsigned i = 0; i < ARRAY_SIZE(features); i++) {
        /* RT 0: all from start; 1: current ones from start (all ours are); 2: just start */
        if (features[i] < start || (rt == 2 && features[i] != start))
            continue;
        n += feature_desc(d, features[i], b + n);
    }
    put_be32(b, n - 4);                 /* data length */
    put_be16(b + 6, 0x0008);            /* current profile: CD-ROM */
    atapi_reply(c, d, n, alloc);
}

/* GET EVENT STATUS NOTIFICATION (MMC-4 GET EVENT STATUS NOTIFICATION), polled only: the media class, no event. */
static void atapi_get_event_status(struct ata_channel *c, struct ata_drive *d, const uint8_t *cdb)
{
    uint8_t *b = c->buf;
    uint32_t alloc = be16(cdb + 7), n;
    if (!(cdb[1] & 0x01)) {             /* asynchronous notification is not supported */
        atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0);
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10;                        /* supported classes: media */
    if (cdb[4] & 0x10) {
        b[2] = 0x04;                    /* class 4: media */
        b[4] = 0x00;                    /* NoChg */
        b[5] = 0x02;                    /* media present, tray closed */
        n = 8;
    } else {
        b[2] = 0x80;                    /* NEA: none of the requested classes */
        n = 4;
    }
    put_be16(b, n - 2);
    atapi_reply(c, d, n, alloc);
}

/* REQUEST SENSE (SPC-3 REQUEST SENSE): fixed format, then the sense is cleared. */
static void atapi_request_sense(struct ata_channel *c, struct ata_drive *d, const uint8_t *cdb)
{
    uint8_t *b = c->buf;
    /* The sense of the last command comes first; a pending UNIT ATTENTION is reported
     * (and cleared) when there is nothing else to report. */
    if (d->sense_key == SK_NO_SENSE && d->unit_attention) {
        d->unit_attention = false;
        atapi_set_sense(d, SK_UNIT_ATTENTION, ASC_POWER_ON_RESET, 0);
    }
    memset(b, 0, 18);
    b[0] = 0x70;                        /* current error, fixed format */
    b[2] = d->sense_key;
    b[7] = 18 - 8;                      /* additional sense length */
    b[12] = d->asc;
    b[13] = d->ascq;
    atapi_set_sense(d, SK_NO_SENSE, ASC_NONE, 0);
    atapi_reply(c, d, 18, cdb[4]);
}

/* The 12-byte packet is complete: execute it. */
static void atapi_exec(struct ata_channel *c, struct ata_drive *d)
{
    uint8_t cdb[ATAPI_CDB_LEN];
    memcpy(cdb, c->cdb, sizeof(cdb));
    xfer_end(c);
    uint8_t op = cdb[0];
    /* A pending UNIT ATTENTION fails the first command that is not exempt (SPC-3 unit attention condition;
     * MMC exempts GET CONFIGURATION and GET EVENT STATUS NOTIFICATION). Linux clears it
     * after each reset with TEST UNIT READY + REQUEST SENSE (atapi_eh_clear_ua). */
    if (d->unit_attention && op != SCSI_INQUIRY && op != SCSI_REQUEST_SENSE &&
        op != SCSI_GET_CONFIGURATION && op != SCSI_GET_EVENT_STATUS) {
        d->unit_attention = false;
        atapi_check(c, d, SK_UNIT_ATTENTION, ASC_POWER_ON_RESET, 0);
        return;
    }
    if (op != SCSI_REQUEST_SENSE)
        atapi_set_sense(d, SK_NO_SENSE, ASC_NONE, 0);
    switch (op) {
    case SCSI_TEST_UNIT_READY:
        atapi_status_ok(c, d);
        break;
    case SCSI_REQUEST_SENSE:
        atapi_request_sense(c, d, cdb);
        break;
    case SCSI_INQUIRY:
        atapi_inquiry(c, d, cdb);
        break;
    case SCSI_READ_CAPACITY:
        atapi_read_capacity(c, d);
        break;
    case SCSI_READ_10:
        atapi_read(c, d, be32(cdb + 2), be16(cdb + 7));
        break;
    case SCSI_READ_12:
        atapi_read(c, d, be32(cdb + 2), be32(cdb + 6));
        break;
    case SCSI_SEEK_10:
        if (be32(cdb + 2) >= cd_blocks(d))
            atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        else
            atapi_status_ok(c, d);
        break;
    case SCSI_MODE_SENSE_10:
        atapi_mode_sense(c, d, cdb);
        break;
    case SCSI_READ_TOC:
        atapi_read_toc(c, d, cdb);
        break;
    case SCSI_GET_CONFIGURATION:
        atapi_get_configuration(c, d, cdb);
        break;
    case SCSI_GET_EVENT_STATUS:
        atapi_get_event_status(c, d, cdb);
        break;
    case SCSI_START_STOP_UNIT:
        /* LoEj with Start=0 is an eject: refused while locked (SPC-3 / MMC). The medium
         * is a boot module, so nothing actually moves. */
        if ((cdb[4] & 0x03) == 0x02 && d->locked)
            atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_MEDIUM_REMOVAL_PREVENTED, 0x02);
        else
            atapi_status_ok(c, d);
        break;
    case SCSI_PREVENT_ALLOW:
        d->locked = cdb[4] & 0x01;
        atapi_status_ok(c, d);
        break;
    case SCSI_SET_CD_SPEED:
        atapi_status_ok(c, d);          /* any speed is as fast as the blockdev */
        break;
    case SCSI_WRITE_10:
    case SCSI_WRITE_12:
    case SCSI_WRITE_VERIFY_10:
        atapi_check(c, d, SK_DATA_PROTECT, ASC_WRITE_PROTECTED, 0);
        break;
    default:
        atapi_check(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        break;
    }
}

/* ATA commands to a PACKET device (ATA-6: the PACKET feature set's mandatory commands). */
static void atapi_command(struct ata_channel *c, struct ata_drive *d, uint8_t cmd)
{
    if (d->power == ATA_PWR_SLEEP && cmd != ATA_CMD_CHECK_POWER_MODE)
        d->power = ATA_PWR_STANDBY;
    if (power_command(d, cmd))
        return;
    switch (cmd) {
    case ATA_CMD_PACKET:
        if (d->tf.feature & ATAPI_FEAT_OVL) {
            cmd_err(d, ATA_ER_ABRT);    /* overlap is not supported */
            break;
        }
        c->xfer = ATA_X_PACKET;
        c->xunit = (uint8_t)unit_of(c, d);
        c->x_atapi = true;
        c->x_dma = d->tf.feature & ATAPI_FEAT_DMA;
        c->x_limit = (uint32_t)d->tf.lbah << 8 | d->tf.lbam;
        c->cdb_len = 0;
        d->tf.count = ATAPI_IR_COD;     /* the packet: CoD=1, IO=0 */
        d->tf.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
        break;                          /* accelerated DRQ (word 0 bits 6:5): no INTRQ */
    case ATA_CMD_IDENTIFY_PACKET:
        identify_packet(c, d);
        pio_in_buffer(c, d, ID_WORDS * 2);
        break;
    case ATA_CMD_DEVICE_RESET:
        /* ATA-6 DEVICE RESET: the device's own reset, signature, no interrupt. */
        drive_reset(c, unit_of(c, d), false, true);
        break;
    case ATA_CMD_IDENTIFY:
    case ATA_CMD_READ_SECTORS:
    case ATA_CMD_READ_SECTORS_NR:
        /* ATA-6 IDENTIFY DEVICE / READ SECTORS: a PACKET device aborts and shows its
         * signature, which is how hosts tell it from an ATA device. */
        set_signature(d);
        d->tf.device = (uint8_t)(unit_of(c, d) ? ATA_DEV_DEV : 0);
        cmd_err(d, ATA_ER_ABRT);
        break;
    case ATA_CMD_SET_FEATURES:
        if (set_features(d))
            cmd_ok(d, true);
        else
            cmd_err(d, ATA_ER_ABRT);
        break;
    default:
        cmd_err(d, ATA_ER_ABRT);        /* NOP and all other ATA commands */
        break;
    }
}

/* EXECUTE DEVICE DIAGNOSTIC: executed by both devices whichever is selected (ATA-6 clause 9, EXECUTE DEVICE DIAGNOSTIC protocol);
 * device 0 posts 01h (device 1 passed or is absent) and raises the interrupt. */
static void exec_diagnostic(struct ata_channel *c)
{
    xfer_end(c);
    for (unsigned u = 0; u < 2; u++)
        drive_reset(c, u, false, false);
    c->sel = 0;                         /* the signature's device register is 00h */
    if (present(c, 0))
        c->drive[0].pending = true;
    else
        c->drive[1].pending = true;
}

static void command(struct ata_channel *c, uint8_t cmd)
{
    if (c->devctl & ATA_CTL_SRST)
        return;                         /* BSY: the device does not take commands */
    if (cmd == ATA_CMD_EXEC_DIAGNOSTIC) {
        exec_diagnostic(c);
        return;
    }
    struct ata_drive *d = &c->drive[c->sel];
    if (d->kind == ATA_NONE)
        return;                         /* device 0 ignores commands for an absent device 1 */
    d->pending = false;                 /* writing the command register clears it */
    xfer_cancel(c);
    d->tf.error = 0;
    if (d->kind == ATA_DISK)
        disk_command(c, d, cmd);
    else
        atapi_command(c, d, cmd);
}

/* ---- register interface ---- */

static uint8_t reg_read(struct ata_channel *c, unsigned reg)
{
    struct ata_drive *d = &c->drive[c->sel];
    const struct ata_taskfile *t = &d->tf;
    bool hob = c->devctl & ATA_CTL_HOB, absent = d->kind == ATA_NONE;
    switch (reg) {
    case ATA_REG_ERROR:
        return absent ? 0 : t->error;
    case ATA_REG_COUNT:
        return hob ? t->hob_count : t->count;
    case ATA_REG_LBAL:
        return hob ? t->hob_lbal : t->lbal;
    case ATA_REG_LBAM:
        return hob ? t->hob_lbam : t->lbam;
    case ATA_REG_LBAH:
        return hob ? t->hob_lbah : t->lbah;
    case ATA_REG_DEVICE:
        return t->device;
    default:                            /* ATA_REG_STATUS */
        if (absent)
            return 0;
        d->pending = false;             /* reading Status acknowledges the interrupt */
        return t->status;
    }
}

static void latch(uint8_t *cur, uint8_t *prev, uint8_t val)
{
    *prev = *cur;                       /* the two-deep FIFO of the 48-bit feature set */
    *cur = val;
}

static void reg_write(struct ata_channel *c, unsigned reg, uint8_t val)
{
    c->devctl &= (uint8_t)~ATA_CTL_HOB; /* any command block write clears HOB (ATA-6) */
    if (reg == ATA_REG_COMMAND) {
        command(c, val);
        return;
    }
    for (unsigned u = 0; u < 2; u++) {  /* both devices see every register write */
        struct ata_taskfile *t = &c->drive[u].tf;
        switch (reg) {
        case ATA_REG_FEATURES:
            latch(&t->feature, &t->hob_feature, val);
            break;
        case ATA_REG_COUNT:
            latch(&t->count, &t->hob_count, val);
            break;
        case ATA_REG_LBAL:
            latch(&t->lbal, &t->hob_lbal, val);
            break;
        case ATA_REG_LBAM:
            latch(&t->lbam, &t->hob_lbam, val);
            break;
        case ATA_REG_LBAH:
            latch(&t->lbah, &t->hob_lbah, val);
            break;
        default:                        /* ATA_REG_DEVICE */
            t->device = val;
            break;
        }
    }
    if (reg == ATA_REG_DEVICE)
        c->sel = (val & ATA_DEV_DEV) ? 1 : 0;
}

uint32_t ata_read(struct ata_channel *c, unsigned reg, unsigned size)
{
    reg &= 7;
    if (channel_empty(c))
        return reg == ATA_REG_DATA ? floating(size) : ATA_FLOATING_BUS;
    uint32_t v = reg == ATA_REG_DATA ? data_read(c, size) : reg_read(c, reg);
    irq_update(c);
    return v;
}

void ata_write(struct ata_channel *c, unsigned reg, unsigned size, uint32_t val)
{
    reg &= 7;
    if (channel_empty(c))
        return;
    if (reg == ATA_REG_DATA)
        data_write(c, size, val);
    else
        reg_write(c, reg, (uint8_t)val);
    irq_update(c);
}

uint8_t ata_altstatus(struct ata_channel *c)
{
    if (channel_empty(c))
        return ATA_FLOATING_BUS;
    const struct ata_drive *d = &c->drive[c->sel];
    return d->kind == ATA_NONE ? 0 : d->tf.status;
}

/* SRST set: both devices go BSY at once (ATA-6 clause 9, software reset protocol); SRST cleared:
 * the reset completes at once with the signatures, device 0 selected, and no interrupt. */
void ata_devctl(struct ata_channel *c, uint8_t val)
{
    bool was = c->devctl & ATA_CTL_SRST, now = val & ATA_CTL_SRST;
    c->devctl = val & (ATA_CTL_HOB | ATA_CTL_SRST | ATA_CTL_NIEN);
    if (now && !was) {
        xfer_end(c);
        for (unsigned u = 0; u < 2; u++) {
            struct ata_drive *d = &c->drive[u];
            d->pending = false;
            if (d->kind != ATA_NONE)
                d->tf.status = ATA_SR_BSY;
        }
    } else if (!now && was) {
        for (unsigned u = 0; u < 2; u++)
            drive_reset(c, u, false, true);
        c->sel = 0;
    }
    irq_update(c);
}

/* ---- DMA side ---- */

static bool dma_phase(const struct ata_channel *c)
{
    return c->xfer == ATA_X_DMA_IN || c->xfer == ATA_X_DMA_OUT;
}

bool ata_dma_pending(const struct ata_channel *c, bool *to_memory, uint32_t *bytes)
{
    if (!dma_phase(c) || c->xunit != c->sel || c->x_failed || !c->x_left)
        return false;
    if (to_memory)
        *to_memory = c->xfer == ATA_X_DMA_IN;
    if (bytes)
        *bytes = (uint32_t)MIN(c->x_left, 0xFFFFFFFFull);
    return true;
}

bool ata_dma_request(const struct ata_channel *c, uint64_t *lba, uint32_t *sectors)
{
    if (!ata_dma_pending(c, NULL, NULL) || !c->x_medium)
        return false;
    *lba = c->s_lba;
    *sectors = (uint32_t)MIN((c->x_left + BLOCKDEV_SECTOR - 1) / BLOCKDEV_SECTOR, 0xFFFFFFFFull);
    return true;
}

struct blockdev *ata_selected_store(const struct ata_channel *c)
{
    return c->drive[c->sel].bd;
}

size_t ata_dma_rw(struct ata_channel *c, void *buf, size_t len)
{
    if (!dma_phase(c) || c->x_failed || !buf)
        return 0;
    struct ata_drive *d = &c->drive[c->xunit];
    uint64_t n = MIN((uint64_t)len, c->x_left);
    if (!n)
        return 0;
    bool ok = true;
    if (c->xfer == ATA_X_DMA_OUT) {
        ok = stream_write(c, d, buf, n);
    } else if (c->x_medium) {
        ok = stream_read(c, d, buf, n);
    } else {
        memcpy(buf, c->buf + c->win_pos, (size_t)n);   /* win_pos + x_left <= reply size */
        c->win_pos += (uint32_t)n;
    }
    if (!ok) {
        c->x_failed = true;
        return 0;
    }
    c->x_left -= n;
    return (size_t)n;
}

void ata_dma_end(struct ata_channel *c, bool bus_error)
{
    if (!dma_phase(c))
        return;
    struct ata_drive *d = &c->drive[c->xunit];
    bool bad = bus_error || c->x_left || c->x_failed, atapi = c->x_atapi;
    xfer_end(c);
    if (!atapi) {
        if (bad)
            cmd_err(d, ATA_ER_ABRT);
        else
            cmd_ok(d, true);
    } else if (bad) {
        atapi_check(c, d, SK_ABORTED_COMMAND, ASC_NONE, 0);
        d->tf.error |= ATA_ER_ABRT;
    } else {
        atapi_status_ok(c, d);
    }
    irq_update(c);
}

bool ata_irq_level(const struct ata_channel *c)
{
    return c->irq_level;
}

/* ---- setup ---- */

void ata_reset(struct ata_channel *c)
{
    xfer_end(c);
    c->devctl = 0;
    c->sel = 0;
    for (unsigned u = 0; u < 2; u++)
        drive_reset(c, u, true, true);
    irq_update(c);
}

void ata_init(struct ata_channel *c, void (*set_irq)(void *ctx, bool level), void *ctx)
{
    memset(c, 0, sizeof(*c));
    c->set_irq = set_irq;
    c->ctx = ctx;
    c->irq_level = false;
    ata_reset(c);
}

static bool attach(struct ata_channel *c, unsigned unit, struct blockdev *bd, enum ata_kind kind,
                   const char *model, const char *serial)
{
    if (unit > 1 || !bd || !bd->data || !bd->sectors)
        return false;
    if (kind == ATA_CDROM && bd->sectors % ATA_CD_BD_SECTORS)
        return false;                   /* the image must be whole 2048-byte sectors */
    struct ata_drive *d = &c->drive[unit];
    d->kind = kind;
    d->bd = bd;
    copy_str(d->model, sizeof(d->model), model,
             kind == ATA_CDROM ? "MONOVISOR ATAPI CD-ROM" : "MONOVISOR HARDDISK");
    copy_str(d->serial, sizeof(d->serial), serial, unit ? "MV-ATA-0001" : "MV-ATA-0000");
    drive_reset(c, unit, true, true);
    irq_update(c);
    return true;
}

bool ata_attach_disk(struct ata_channel *c, unsigned unit, struct blockdev *bd,
                     const char *model, const char *serial)
{
    return attach(c, unit, bd, ATA_DISK, model, serial);
}

bool ata_attach_cdrom(struct ata_channel *c, unsigned unit, struct blockdev *bd,
                      const char *model, const char *serial)
{
    return attach(c, unit, bd, ATA_CDROM, model, serial);
}
