/* One channel of the PIIX3 IDE bus master (Intel 82371SB PIIX3 datasheet, "Bus Master IDE I/O
 * Registers"; the register model is SFF-8038i rev 1.0, "Programming Interface for Bus Master
 * IDE Controller"). Eight I/O bytes per channel: primary at BAR4+0, secondary at BAR4+8.
 *
 * The model knows no ATA: it serves whatever DMA data phase the selected drive has waiting,
 * through struct bmdma_target, and moves guest memory only through struct dma_ops (dev/dma.h).
 * It owns no thread and no clock: setting the start bit calls the start hook, and the VMM glue
 * decides whether bmdma_run() happens in that exit (synchronous) or on a VMM thread
 * (concurrent). The model itself is not locked: the glue must serialise every bmdma_* call
 * and the target callbacks of one channel (one lock per channel).
 *
 * Choices where the specifications leave the behaviour open (each is argued in ide_bmdma.c):
 *  - Descriptor table at a 64 KiB boundary: the walk wraps within the 64 KiB region the
 *    pointer selects, so one start fetches at most 8192 PRDs; running out of them without an
 *    EOT is treated as an exhausted table.
 *  - PRD table exhausted with drive data remaining (SFF-8038i: interrupt 0, active 0, error 0):
 *    the bus master clears active, then ends the drive's command with an error
 *    (target.end(ctx, true)) so the guest sees an aborted command at once instead of a drive
 *    stuck with DRQ set until its timeout. Counted in short_prd.
 *  - Start with nothing pending at the drive: the engine stays active and armed and moves
 *    nothing; the glue calls bmdma_run() again when the drive enters a DMA data phase.
 *  - Stop (start bit 1 -> 0) while the drive still has a DMA data phase waiting: the command
 *    is aborted (SFF-8038i), and the drive is ended with an error. Counted in aborts.
 */
#ifndef MV_IDE_BMDMA_H
#define MV_IDE_BMDMA_H
#include "compiler.h"
#include "dev/dma.h"

/* Register offsets within the channel's 8 bytes (SFF-8038i table "Bus Master IDE Register
 * Definitions"; offsets 1 and 3 are reserved and read 0). */
#define BMDMA_REG_CMD     0
#define BMDMA_REG_STATUS  2
#define BMDMA_REG_PRDT    4     /* dword, bytes 4-7 */
#define BMDMA_NREGS       8
#define BMDMA_SECONDARY   8     /* the secondary channel's offset in BAR4 */

/* Command register. */
#define BMDMA_CMD_START   0x01  /* 1 starts, 0 stops; a stopped transfer cannot be resumed */
#define BMDMA_CMD_WRITE   0x08  /* "read or write control": 1 = bus master writes memory
                                 * (device to host, a disk read) */
#define BMDMA_CMD_MASK    (BMDMA_CMD_START | BMDMA_CMD_WRITE)   /* the rest read 0 */

/* Status register. */
#define BMDMA_ST_ACTIVE   0x01  /* RO: set by start, cleared at the EOT region's end or stop */
#define BMDMA_ST_ERROR    0x02  /* write 1 to clear: memory transfer failed */
#define BMDMA_ST_INTR     0x04  /* write 1 to clear: rising edge of the IDE interrupt line */
#define BMDMA_ST_DRV0_DMA 0x20  /* R/W scratch for the BIOS: drive 0 is DMA capable */
#define BMDMA_ST_DRV1_DMA 0x40  /* R/W scratch for the BIOS: drive 1 is DMA capable */
#define BMDMA_ST_SIMPLEX  0x80  /* RO 0: the PIIX3 channels work concurrently */
#define BMDMA_ST_W1C      (BMDMA_ST_ERROR | BMDMA_ST_INTR)
#define BMDMA_ST_RW       (BMDMA_ST_DRV0_DMA | BMDMA_ST_DRV1_DMA)

/* Descriptor table pointer: bits 31:2, the table is dword aligned. */
#define BMDMA_PRDT_MASK   0xFFFFFFFCu

/* Physical Region Descriptor (SFF-8038i "Physical Region Descriptor" figure): dword 0 is the
 * region's base (bit 0 is 0), dword 1 holds the byte count in 15:0 (bit 0 is 0, 0 = 64 KiB)
 * and EOT in bit 31. */
#define BMDMA_PRD_SIZE        8u
#define BMDMA_PRD_ADDR_MASK   0xFFFFFFFEu
#define BMDMA_PRD_COUNT_MASK  0x0000FFFEu
#define BMDMA_PRD_EOT         0x80000000u
#define BMDMA_PRD_MAX_COUNT   0x10000u          /* what a count of 0 means */

/* The descriptor table must not cross a 64 KiB boundary: one region holds 8192 PRDs. */
#define BMDMA_TABLE_REGION    0x10000u
#define BMDMA_MAX_PRDS        (BMDMA_TABLE_REGION / BMDMA_PRD_SIZE)

#define BMDMA_CHUNK           4096u             /* bytes moved per dma/target call */
#define BMDMA_MAX_RUN         (65536u * 512u)   /* one ATA command's most data: 32 MiB */

/* The drive side, implemented by the ATA model (the selected drive of this channel). */
struct bmdma_target {
    /* The selected drive has a DMA data phase waiting: to_memory = device-to-host (a disk
     * read); bytes = what remains of it. */
    bool (*pending)(void *ctx, bool *to_memory, uint32_t *bytes);
    /* Moves up to len bytes of that phase (read: fills buf; write: consumes buf); returns the
     * bytes moved, 0 when done or failed. */
    size_t (*rw)(void *ctx, void *buf, size_t len);
    /* The bus master finished (false) or aborted (true) the phase: the drive completes the
     * command (with ABRT when true) and raises its INTRQ. */
    void (*end)(void *ctx, bool bus_error);
    void *ctx;
};

struct ide_bmdma {
    uint8_t cmd;                /* BMDMA_CMD_MASK bits only */
    uint8_t status;
    uint32_t prdt;              /* as the guest wrote it, bits 1:0 clear */

    struct bmdma_target target;
    const struct dma_ops *dma;
    void (*start)(void *ctx, struct ide_bmdma *b);  /* start bit 0 -> 1; NULL: run at once */
    void *start_ctx;

    /* The engine, loaded from prdt when the start bit is set. */
    uint32_t next_prd;          /* address of the next PRD to fetch */
    uint64_t region_addr;       /* next byte of the current region */
    uint32_t region_left;       /* bytes left in it; 0 = fetch the next PRD */
    bool region_eot;            /* the current region is the table's last */
    uint32_t prds_walked;       /* PRDs fetched since start, at most BMDMA_MAX_PRDS */
    bool phase_done;            /* the drive's data phase ended with regions left (active 1) */
    bool irq_line;              /* last level of the drive's INTRQ seen by bmdma_drive_irq */

    /* Statistics; bmdma_reset keeps them. */
    uint64_t starts;            /* start bit 0 -> 1 */
    uint64_t transfers;         /* data phases completed without error (end(false)) */
    uint64_t bytes;             /* bytes moved between the drive and guest memory */
    uint64_t prd_entries;       /* PRDs fetched */
    uint64_t bus_errors;        /* PRD or region not guest RAM: error bit, end(true) */
    uint64_t short_prd;         /* table ended before the drive's data: end(true) */
    uint64_t dir_errors;        /* drive direction differs from the command's: end(true) */
    uint64_t drive_stalls;      /* the drive moved nothing of an announced phase: end(true) */
    uint64_t aborts;            /* stopped with the drive's data phase waiting: end(true) */

    uint8_t buf[BMDMA_CHUNK];   /* bounce buffer between dma_ops and the target */
};

void bmdma_init(struct ide_bmdma *b, const struct bmdma_target *t, const struct dma_ops *dma,
                void (*start)(void *, struct ide_bmdma *), void *start_ctx);
/* PCI/system reset: registers to their reset values (all 0), engine idle. The target is not
 * called: its drive is reset by the same event. */
void bmdma_reset(struct ide_bmdma *b);
/* reg 0-7 within the channel; size 1, 2 or 4 covering bytes reg..reg+size-1 (bytes past 7
 * read 0xFF and ignore writes; other sizes read all ones and are ignored). Reads have no side
 * effects. A write applies its status and pointer bytes before its command byte, so a dword
 * write at 0 that clears status bits and starts does not clear what the start produced. */
uint32_t bmdma_read(struct ide_bmdma *b, unsigned reg, unsigned size);
void bmdma_write(struct ide_bmdma *b, unsigned reg, unsigned size, uint32_t val);
/* Start bit set, active, and the drive's data phase not yet served: bmdma_run would move data
 * as soon as the drive has a DMA data phase pending. */
bool bmdma_armed(const struct ide_bmdma *b);
/* Walks the PRD table and moves the drive's pending data now. Returns at once, changing
 * nothing, when not armed or the drive has nothing pending (it waits for DMARQ); otherwise it
 * ends the drive's data phase (target.end) before returning. At most BMDMA_MAX_RUN bytes and
 * BMDMA_MAX_PRDS fetches per start. */
void bmdma_run(struct ide_bmdma *b);
/* The drive's INTRQ line changed to level: a rising edge sets the interrupt bit, whether or
 * not a DMA ran (SFF-8038i, status bit 2). Report both edges (changes of level). */
void bmdma_drive_irq(struct ide_bmdma *b, bool level);
#endif
