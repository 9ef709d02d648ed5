/* One parallel ATA channel (command block + control block): a master and a slave, each an
 * ATA disk or an ATAPI CD-ROM, per ATA/ATAPI-6 (T13 1410D), with the PACKET command set of
 * SFF-8020i / MMC and the SPC commands an MMC device needs (INQUIRY, REQUEST SENSE, ...).
 *
 * The model is infinitely fast: a command's effect is complete when the command register
 * write returns, so BSY is only ever seen while SRST is held in the device control register;
 * otherwise DRQ alone tells the host that a data (or packet) phase waits. A data port access
 * without DRQ never moves data. The bus-master DMA engine (the PIIX function, another file)
 * pulls or pushes a DMA data phase through ata_dma_rw() and finishes it with ata_dma_end().
 *
 * Each device keeps its own copy of the command block, as real devices do: host writes
 * reach both copies; signatures and command results change only the device's own. An absent
 * device's copy still latches host writes (so Linux's ata_devchk() sees the registers, as on
 * real hardware where device 0 answers for a missing device 1), but its Status, Alternate
 * Status and Error read 00h and its reset leaves the signature registers at 00h; see ata.c. */
#ifndef MV_ATA_H
#define MV_ATA_H
#include "compiler.h"
#include "dev/blockdev.h"

/* Command block register offsets (ATA-6 clause 7: DA2:DA0 with CS0- asserted). */
#define ATA_REG_DATA     0
#define ATA_REG_ERROR    1      /* read */
#define ATA_REG_FEATURES 1      /* write */
#define ATA_REG_COUNT    2      /* sector count; ATAPI: interrupt reason on read */
#define ATA_REG_LBAL     3      /* LBA low / sector number */
#define ATA_REG_LBAM     4      /* LBA mid / cylinder low; ATAPI: byte count low */
#define ATA_REG_LBAH     5      /* LBA high / cylinder high; ATAPI: byte count high */
#define ATA_REG_DEVICE   6      /* device / head */
#define ATA_REG_STATUS   7      /* read */
#define ATA_REG_COMMAND  7      /* write */

/* Status register (ATA-6 clause 7, Status register). */
#define ATA_SR_BSY   0x80
#define ATA_SR_DRDY  0x40
#define ATA_SR_DF    0x20
#define ATA_SR_DSC   0x10       /* "command dependent" in ATA-6 (was seek complete) */
#define ATA_SR_DRQ   0x08
#define ATA_SR_ERR   0x01

/* Error register (ATA-6 clause 7); for PACKET devices bits 7:4 carry the sense key
 * (SFF-8020i, ATAPI Error register). */
#define ATA_ER_ICRC  0x80
#define ATA_ER_UNC   0x40
#define ATA_ER_MC    0x20
#define ATA_ER_IDNF  0x10
#define ATA_ER_MCR   0x08
#define ATA_ER_ABRT  0x04
#define ATA_ER_NM    0x02
#define ATA_ER_DIAG_PASSED 0x01 /* diagnostic code after reset / EXECUTE DEVICE DIAGNOSTIC */
#define ATAPI_ER_SENSE_SHIFT 4

/* Device register (ATA-6 clause 7, Device register). */
#define ATA_DEV_OBS  0xA0       /* bits 7 and 5: obsolete, conventionally written as 1 */
#define ATA_DEV_LBA  0x40
#define ATA_DEV_DEV  0x10
#define ATA_DEV_HEAD 0x0F       /* CHS head, or LBA bits 27:24 */

/* Device control register (ATA-6 clause 7, Device Control register). */
#define ATA_CTL_NIEN 0x02
#define ATA_CTL_SRST 0x04
#define ATA_CTL_HOB  0x80

/* PACKET: features register input and interrupt reason output (ATA-6 clause 8 PACKET, clause 9 PACKET protocol). */
#define ATAPI_FEAT_DMA 0x01
#define ATAPI_FEAT_OVL 0x02
#define ATAPI_IR_COD   0x01
#define ATAPI_IR_IO    0x02
#define ATAPI_IR_REL   0x04
#define ATAPI_CDB_LEN  12

/* ATA command opcodes (ATA-6 clause 8; annex B table). */
#define ATA_CMD_NOP                 0x00
#define ATA_CMD_DEVICE_RESET        0x08
#define ATA_CMD_RECALIBRATE         0x10    /* obsolete; accepted for old BIOSes */
#define ATA_CMD_READ_SECTORS        0x20
#define ATA_CMD_READ_SECTORS_NR     0x21    /* obsolete "without retry" */
#define ATA_CMD_READ_SECTORS_EXT    0x24
#define ATA_CMD_READ_DMA_EXT        0x25
#define ATA_CMD_READ_MULTIPLE_EXT   0x29
#define ATA_CMD_WRITE_SECTORS       0x30
#define ATA_CMD_WRITE_SECTORS_NR    0x31
#define ATA_CMD_WRITE_SECTORS_EXT   0x34
#define ATA_CMD_WRITE_DMA_EXT       0x35
#define ATA_CMD_WRITE_MULTIPLE_EXT  0x39
#define ATA_CMD_READ_VERIFY         0x40
#define ATA_CMD_READ_VERIFY_NR      0x41
#define ATA_CMD_READ_VERIFY_EXT     0x42
#define ATA_CMD_SEEK                0x70
#define ATA_CMD_EXEC_DIAGNOSTIC     0x90
#define ATA_CMD_INIT_DEV_PARAMS     0x91
#define ATA_CMD_PACKET              0xA0
#define ATA_CMD_IDENTIFY_PACKET     0xA1
#define ATA_CMD_READ_MULTIPLE       0xC4
#define ATA_CMD_WRITE_MULTIPLE      0xC5
#define ATA_CMD_SET_MULTIPLE        0xC6
#define ATA_CMD_READ_DMA            0xC8
#define ATA_CMD_READ_DMA_NR         0xC9
#define ATA_CMD_WRITE_DMA           0xCA
#define ATA_CMD_WRITE_DMA_NR        0xCB
#define ATA_CMD_STANDBY_IMMEDIATE   0xE0
#define ATA_CMD_IDLE_IMMEDIATE      0xE1
#define ATA_CMD_STANDBY             0xE2
#define ATA_CMD_IDLE                0xE3
#define ATA_CMD_CHECK_POWER_MODE    0xE5
#define ATA_CMD_SLEEP               0xE6
#define ATA_CMD_FLUSH_CACHE         0xE7
#define ATA_CMD_IDENTIFY            0xEC
#define ATA_CMD_FLUSH_CACHE_EXT     0xEA
#define ATA_CMD_SET_FEATURES        0xEF

/* SET FEATURES subcommands (features register, ATA-6 clause 8 SET FEATURES). */
#define ATA_SF_WCACHE_ON    0x02
#define ATA_SF_XFER_MODE    0x03    /* mode in the sector count register */
#define ATA_SF_REVERT_OFF   0x66    /* disable reverting to power-on defaults */
#define ATA_SF_WCACHE_OFF   0x82
#define ATA_SF_REVERT_ON    0xCC
/* SET FEATURES 03h: count bits 7:3 select the transfer type, 2:0 the mode (ATA-6 SET FEATURES, transfer mode table). */
#define ATA_XFER_PIO_DEFAULT 0x00   /* 00000 000b, 00000 001b = IORDY disabled */
#define ATA_XFER_PIO_FLOW    0x01   /* 00001 nnnb */
#define ATA_XFER_MWDMA       0x04   /* 00100 nnnb */
#define ATA_XFER_UDMA        0x08   /* 01000 nnnb */

#define ATA_MAX_MULTIPLE  16        /* SET MULTIPLE limit, IDENTIFY word 47 */
#define ATA_MAX_PIO       4
#define ATA_MAX_MWDMA     2
#define ATA_MAX_UDMA      5
#define ATA_DEF_HEADS     16        /* IDENTIFY default translation (words 3, 6) */
#define ATA_DEF_SPT       63
#define ATA_LBA28_MAX     0x0FFFFFFFull  /* words 60-61 cap (ATA-6 IDENTIFY DEVICE) */
#define ATA_CD_SECTOR     2048u
#define ATA_CD_BD_SECTORS (ATA_CD_SECTOR / BLOCKDEV_SECTOR)
#define ATA_BUF_SIZE      65536u    /* PIO buffer: 128 disk sectors, or one ATAPI DRQ phase */
#define ATA_FLOATING_BUS  0x7Fu     /* an undriven bus: DD7 pulled down, the rest float high */

/* SCSI / MMC operation codes (SPC-3, MMC-4, SFF-8020i). */
#define SCSI_TEST_UNIT_READY        0x00
#define SCSI_REQUEST_SENSE          0x03
#define SCSI_INQUIRY                0x12
#define SCSI_MODE_SELECT_6          0x15
#define SCSI_MODE_SENSE_6           0x1A
#define SCSI_START_STOP_UNIT        0x1B
#define SCSI_PREVENT_ALLOW          0x1E
#define SCSI_READ_CAPACITY          0x25
#define SCSI_READ_10                0x28
#define SCSI_WRITE_10               0x2A
#define SCSI_SEEK_10                0x2B
#define SCSI_WRITE_VERIFY_10        0x2E
#define SCSI_READ_TOC               0x43
#define SCSI_GET_CONFIGURATION      0x46
#define SCSI_GET_EVENT_STATUS       0x4A
#define SCSI_MODE_SELECT_10         0x55
#define SCSI_MODE_SENSE_10          0x5A
#define SCSI_READ_12                0xA8
#define SCSI_WRITE_12               0xAA
#define SCSI_SET_CD_SPEED           0xBB

/* Sense keys (SPC-3 4.5.6) and the additional sense codes used here. */
#define SK_NO_SENSE         0x0
#define SK_NOT_READY        0x2
#define SK_MEDIUM_ERROR     0x3
#define SK_ILLEGAL_REQUEST  0x5
#define SK_UNIT_ATTENTION   0x6
#define SK_DATA_PROTECT     0x7
#define SK_ABORTED_COMMAND  0xB
#define ASC_NONE                    0x00
#define ASC_UNRECOVERED_READ        0x11
#define ASC_INVALID_OPCODE          0x20
#define ASC_LBA_OUT_OF_RANGE        0x21
#define ASC_INVALID_FIELD_IN_CDB    0x24
#define ASC_WRITE_PROTECTED         0x27
#define ASC_POWER_ON_RESET          0x29
#define ASC_SAVING_NOT_SUPPORTED    0x39
#define ASC_MEDIUM_REMOVAL_PREVENTED 0x53  /* ASCQ 02h */

enum ata_kind { ATA_NONE, ATA_DISK, ATA_CDROM };

/* What one device holds of the command block (ATA-6 clause 7): the current values and, for the
 * 48-bit feature set, the previous content ("HOB") of each two-deep FIFO register. */
struct ata_taskfile {
    uint8_t feature, count, lbal, lbam, lbah;
    uint8_t hob_feature, hob_count, hob_lbal, hob_lbam, hob_lbah;
    uint8_t device;
    uint8_t error, status;
};

enum ata_power { ATA_PWR_ACTIVE, ATA_PWR_IDLE, ATA_PWR_STANDBY, ATA_PWR_SLEEP };

struct ata_drive {
    enum ata_kind kind;
    struct blockdev *bd;
    char model[41], serial[21];     /* NUL-terminated, space-padded in IDENTIFY/INQUIRY */
    struct ata_taskfile tf;
    bool pending;                   /* this device's interrupt pending state */
    uint8_t power;                  /* enum ata_power */
    /* ATA settings (hardware reset restores the defaults; SRST keeps them). */
    uint8_t multiple;               /* SET MULTIPLE block size; 0 = READ/WRITE MULTIPLE abort */
    uint8_t pio_mode, mwdma_sel, udma_sel;  /* selected modes; the DMA ones as word 63/88 bits */
    bool wcache;
    uint16_t cur_heads, cur_spt;    /* INITIALIZE DEVICE PARAMETERS (CHS translation) */
    /* ATAPI state. */
    uint8_t sense_key, asc, ascq;   /* for REQUEST SENSE */
    bool unit_attention;            /* 29h/00h to report after a reset */
    bool locked;                    /* PREVENT ALLOW MEDIUM REMOVAL */
};

enum ata_xfer { ATA_X_NONE, ATA_X_PIO_IN, ATA_X_PIO_OUT, ATA_X_DMA_IN, ATA_X_DMA_OUT,
                ATA_X_PACKET };

struct ata_channel {
    struct ata_drive drive[2];
    unsigned sel;                   /* DEV bit of the last device register write */
    uint8_t devctl;                 /* nIEN, SRST, HOB */
    void (*set_irq)(void *ctx, bool level);
    void *ctx;
    bool irq_level;                 /* the level last given to set_irq */

    /* The one data phase in progress on the channel (a new command on either device ends
     * it): owned by drive[xunit], whose status shows DRQ exactly while xfer != ATA_X_NONE. */
    uint8_t xfer;                   /* enum ata_xfer */
    uint8_t xunit;
    bool x_atapi, x_medium, x_failed;
    bool x_dma;                     /* ATAPI: the PACKET command asked for DMA */
    uint32_t win_pos, win_end;      /* the current PIO DRQ block / ATAPI phase, in buf */
    uint64_t x_left;                /* bytes of the command not yet in a window (or moved) */
    uint32_t x_block;               /* ATA PIO: bytes per DRQ block */
    uint32_t x_limit;               /* ATAPI PIO: byte count limit of one DRQ phase */
    uint64_t s_lba;                 /* medium stream: next blockdev sector */
    uint32_t s_pos, s_len;          /* medium stream: position / bytes held in sbuf */
    bool x_counted;                 /* bd->reads or bd->writes counted for this command */
    uint8_t cdb[ATAPI_CDB_LEN];
    uint32_t cdb_len;
    uint8_t sbuf[BLOCKDEV_SECTOR];
    uint8_t buf[ATA_BUF_SIZE];
};

/* set_irq(ctx, level) is called only when INTRQ changes. Ends with ata_reset(). */
void ata_init(struct ata_channel *c, void (*set_irq)(void *ctx, bool level), void *ctx);
/* False if unit > 1, bd is unusable, or (CD) the image is not a whole number of 2048-byte
 * sectors. model/serial may be NULL (defaults); longer ones are cut to 40/20 characters.
 * The drive comes up as after a hardware reset. */
bool ata_attach_disk(struct ata_channel *c, unsigned unit, struct blockdev *bd,
                     const char *model, const char *serial);
bool ata_attach_cdrom(struct ata_channel *c, unsigned unit, struct blockdev *bd,
                      const char *model, const char *serial);
/* Hardware reset (power-on / VM restart): signatures, default settings, UNIT ATTENTION. */
void ata_reset(struct ata_channel *c);
/* Command block: reg 0-7; size 2 or 4 for DATA (32-bit PIO), 1 otherwise. */
uint32_t ata_read(struct ata_channel *c, unsigned reg, unsigned size);
void ata_write(struct ata_channel *c, unsigned reg, unsigned size, uint32_t val);
/* Control block: Alternate Status (does not clear the interrupt) and Device Control. */
uint8_t ata_altstatus(struct ata_channel *c);
void ata_devctl(struct ata_channel *c, uint8_t val);
/* DMA side, for the bus master. pending: the selected drive has a DMA data phase waiting;
 * to_memory = device-to-host; bytes = what remains (saturated at UINT32_MAX). rw moves up
 * to len bytes of the phase (a read fills buf, a write consumes it; data is produced and
 * stored a 512-byte sector at a time, so any length works) and returns how many; 0 once
 * the phase is done or failed, or if there is none. end completes the command: DRDY|DSC,
 * or ERR with ABRT (ATAPI: sense ABORTED COMMAND too) if bus_error, if data remained or
 * the medium failed; the interrupt is posted either way. No DMA phase: end does nothing.
 * rw and end act on the drive owning the phase (at most one per channel). */
bool ata_dma_pending(const struct ata_channel *c, bool *to_memory, uint32_t *bytes);
size_t ata_dma_rw(struct ata_channel *c, void *buf, size_t len);
void ata_dma_end(struct ata_channel *c, bool bus_error);
bool ata_irq_level(const struct ata_channel *c);
/* The medium range the pending DMA phase still covers, in 512-byte blockdev sectors (for a
 * drive's service time); false if none or it is not a medium transfer. */
bool ata_dma_request(const struct ata_channel *c, uint64_t *lba, uint32_t *sectors);
/* The selected drive's store (NULL: no drive there). */
struct blockdev *ata_selected_store(const struct ata_channel *c);
#endif
