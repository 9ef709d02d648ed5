/* PIIX3 IDE bus master, one channel. Register semantics follow SFF-8038i rev 1.0 and the
 * 82371SB (PIIX3) datasheet's BMICx/BMISx/BMIDTPx descriptions; ide_bmdma.h lists the choices
 * where they leave the behaviour open. Every guest memory access goes through b->dma; every
 * loop is bounded by BMDMA_MAX_PRDS fetches per start and BMDMA_MAX_RUN bytes per run. */
#include "compiler.h"
#include "lib.h"
#include "dev/dma.h"
#include "dev/ide_bmdma.h"

STATIC_ASSERT(BMDMA_MAX_PRDS == 8192, "a 64 KiB table region holds 8192 descriptors");
STATIC_ASSERT(BMDMA_CHUNK <= 4096, "the bounce buffer is small by design");

bool bmdma_armed(const struct ide_bmdma *b)
{
    return (b->cmd & BMDMA_CMD_START) && (b->status & BMDMA_ST_ACTIVE) && !b->phase_done;
}

/* The drive's DMA data phase that is waiting, if any (no target = no drive on the channel). */
static bool drive_pending(const struct ide_bmdma *b, bool *to_memory, uint32_t *bytes)
{
    *to_memory = false;
    *bytes = 0;
    if (!b->target.pending || !b->target.pending(b->target.ctx, to_memory, bytes))
        return false;
    return *bytes != 0;
}

static void drive_end(struct ide_bmdma *b, bool error)
{
    if (b->target.end)
        b->target.end(b->target.ctx, error);
}

/* SFF-8038i, status bit 1: "set when the controller encounters an error in transferring data
 * to/from memory"; the bus master stops (active 0). The drive, left with DRQ set on real
 * hardware until the driver's timeout and reset, is ended at once with ABRT instead. Linux
 * then sees DMA_INTR|DMA_ERR and reports AC_ERR_HOST_BUS, as after its timeout. */
static void fail_bus(struct ide_bmdma *b)
{
    b->status = (uint8_t)((b->status | BMDMA_ST_ERROR) & ~BMDMA_ST_ACTIVE);
    drive_end(b, true);
}

/* SFF-8038i, "interrupt 0, active 0, error 0: the PRDs specified a smaller size than the IDE
 * transfer size". A real drive would now wait for DMARQ service forever (DRQ set, BSY clear);
 * nothing but a timeout and a reset would end the command. We end it with an error at once,
 * which is what the guest's recovery would reach anyway, and leave the status as the table
 * says (error bit clear; the interrupt bit then comes from the drive's INTRQ). */
static void fail_short(struct ide_bmdma *b)
{
    b->status &= (uint8_t)~BMDMA_ST_ACTIVE;
    b->short_prd++;
    drive_end(b, true);
}

/* Next descriptor address. The table "must not cross a 64K boundary" (SFF-8038i, descriptor
 * table pointer register; PIIX3 BMIDTPx), so what the hardware does there is unspecified: we
 * increment only address bits 15:0, i.e. wrap within the 64 KiB region holding the table.
 * That keeps a hostile or EOT-less table inside the region the guest chose and bounds one
 * start to BMDMA_MAX_PRDS fetches. */
static uint32_t prd_next(uint32_t addr)
{
    return (addr & ~(BMDMA_TABLE_REGION - 1)) | ((addr + BMDMA_PRD_SIZE) & (BMDMA_TABLE_REGION - 1));
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Fetches the descriptor at next_prd as the hardware does, only when the walk reaches it, so
 * a guest rewriting later entries mid-transfer is seen. False: not guest RAM. */
static bool prd_fetch(struct ide_bmdma *b)
{
    uint8_t prd[BMDMA_PRD_SIZE];
    if (!dma_read(b->dma, b->next_prd, prd, sizeof(prd)))
        return false;
    uint32_t base = le32(prd), ctl = le32(prd + 4);
    /* Base bit 0 and count bit 0 are hard-wired 0 (regions are word granular); a count of
     * 0 after masking means 64 KiB, so a stored count of 1 is 64 KiB too. */
    uint32_t count = ctl & BMDMA_PRD_COUNT_MASK;
    b->region_addr = base & BMDMA_PRD_ADDR_MASK;
    b->region_left = count ? count : BMDMA_PRD_MAX_COUNT;
    b->region_eot = ctl & BMDMA_PRD_EOT;
    b->next_prd = prd_next(b->next_prd);
    b->prds_walked++;
    b->prd_entries++;
    return true;
}

/* Moves up to len bytes of the current region; returns what the drive moved, or -1 on a bus
 * error (for a disk read the drive's bytes are then lost, as an aborted transfer may discard
 * data, SFF-8038i command bit 0). */
static long move_chunk(struct ide_bmdma *b, bool to_memory, size_t len)
{
    size_t got;
    if (to_memory) {
        got = b->target.rw(b->target.ctx, b->buf, len);
        if (got > len)
            got = len;                  /* a target claiming more than asked moved len */
        if (got && !dma_write(b->dma, b->region_addr, b->buf, got))
            return -1;
    } else {
        if (!dma_read(b->dma, b->region_addr, b->buf, len))
            return -1;
        got = b->target.rw(b->target.ctx, b->buf, len);
        if (got > len)
            got = len;
    }
    return (long)got;
}

void bmdma_run(struct ide_bmdma *b)
{
    bool to_memory, dir;
    uint32_t left;
    if (!bmdma_armed(b) || !b->target.rw || !b->dma)
        return;
    /* Nothing waiting: a real bus master idles until the drive asserts DMARQ. We keep the
     * engine armed; the glue calls us again when the drive enters a DMA data phase. */
    if (!drive_pending(b, &to_memory, &left))
        return;
    /* Command bit 3 "must NOT be changed when the bus master function is active" and must
     * match the drive's direction; a mismatch would strobe the wrong way on real hardware.
     * Fail the command instead of moving data the guest did not ask to move. */
    if (to_memory != !!(b->cmd & BMDMA_CMD_WRITE)) {
        b->dir_errors++;
        fail_bus(b);
        return;
    }
    uint32_t budget = MIN(left, BMDMA_MAX_RUN);
    for (;;) {
        if (b->region_left == 0) {
            /* Table exhausted: the EOT region is retired, or a whole 64 KiB region of
             * descriptors was walked without an EOT. */
            if (b->region_eot || b->prds_walked >= BMDMA_MAX_PRDS) {
                fail_short(b);
                return;
            }
            if (!prd_fetch(b)) {
                b->bus_errors++;
                fail_bus(b);
                return;
            }
        }
        size_t len = MIN(MIN(b->region_left, left), MIN(budget, BMDMA_CHUNK));
        long got = move_chunk(b, to_memory, len);
        if (got > 0) {
            b->region_addr += (uint64_t)got;
            b->region_left -= (uint32_t)got;
            b->bytes += (uint64_t)got;
            budget -= (uint32_t)got;
        }
        /* The glue serialises register writes with a run, but should the guest's stop or a
         * reset reach us from inside a callback, that write has already settled the drive. */
        if (!bmdma_armed(b))
            return;
        if (got < 0) {
            b->bus_errors++;
            fail_bus(b);
            return;
        }
        if (got == 0) {
            /* The drive announced data but moved none: its own failure. End it with an
             * error so the guest sees an aborted command, not a success with missing data. */
            b->drive_stalls++;
            b->phase_done = true;
            drive_end(b, true);
            return;
        }
        /* SFF-8038i status bit 0: active "is cleared when the last transfer for a region is
         * performed, where EOT for that region is set". */
        if (b->region_left == 0 && b->region_eot)
            b->status &= (uint8_t)~BMDMA_ST_ACTIVE;
        if (!drive_pending(b, &dir, &left)) {
            /* The drive's data is all moved. Exactly at EOT: active 0 (normal completion);
             * regions left over: active stays 1 (valid completion, SFF-8038i table). Either
             * way the interrupt bit comes from the drive's INTRQ, raised by end(). */
            b->phase_done = true;
            b->transfers++;
            drive_end(b, false);
            return;
        }
        if (dir != to_memory) {
            b->dir_errors++;
            fail_bus(b);
            return;
        }
        if (!(b->status & BMDMA_ST_ACTIVE)) {
            fail_short(b);      /* EOT retired, drive data left */
            return;
        }
        if (budget == 0)
            return;     /* a drive with more than it announced (or 32 MiB): stay armed */
    }
}

static void cmd_write(struct ide_bmdma *b, uint8_t val)
{
    uint8_t old = b->cmd, dir = val & BMDMA_CMD_WRITE;
    bool start = val & BMDMA_CMD_START;
    /* Bit 3 must not change while the engine is active: ignore a change that would take
     * effect with it still running. A write that also stops the engine is not "while
     * active" afterwards, so it may load the next direction (Linux writes them apart). */
    if ((b->status & BMDMA_ST_ACTIVE) && start)
        dir = old & BMDMA_CMD_WRITE;
    b->cmd = (uint8_t)(dir | (start ? BMDMA_CMD_START : 0));

    if ((old & BMDMA_CMD_START) && !start) {
        /* Stop: active clears. If the drive has not finished its data (it still has a DMA
         * phase waiting), the command "is said to be aborted" (SFF-8038i, command bit 0);
         * end the drive with an error rather than leave it waiting for DMARQ service. */
        bool was_active = b->status & BMDMA_ST_ACTIVE, to_memory;
        uint32_t left;
        b->status &= (uint8_t)~BMDMA_ST_ACTIVE;
        if (was_active && !b->phase_done && drive_pending(b, &to_memory, &left)) {
            b->aborts++;
            b->phase_done = true;
            drive_end(b, true);
        }
    } else if (!(old & BMDMA_CMD_START) && start) {
        /* Start: "Bus master operations cannot be stopped and then resumed", so each start
         * walks the table afresh from the pointer register. Writing 1 again while started
         * is not a new start. The interrupt and error bits are left to software. */
        b->status |= BMDMA_ST_ACTIVE;
        b->next_prd = b->prdt;
        b->region_addr = 0;
        b->region_left = 0;
        b->region_eot = false;
        b->prds_walked = 0;
        b->phase_done = false;
        b->starts++;
        if (b->start)
            b->start(b->start_ctx, b);
        else
            bmdma_run(b);
    }
}

static void status_write(struct ide_bmdma *b, uint8_t val)
{
    /* Error and interrupt: write 1 to clear. Drive DMA capable bits: plain R/W. Active and
     * simplex: read only (simplex is 0 on the PIIX3). */
    uint8_t s = b->status & (uint8_t)~(val & BMDMA_ST_W1C);
    b->status = (uint8_t)((s & ~BMDMA_ST_RW) | (val & BMDMA_ST_RW));
}

static uint8_t reg_read8(const struct ide_bmdma *b, unsigned r)
{
    switch (r) {
    case BMDMA_REG_CMD:
        return b->cmd;
    case BMDMA_REG_STATUS:
        return b->status;
    case BMDMA_REG_PRDT: case BMDMA_REG_PRDT + 1: case BMDMA_REG_PRDT + 2: case BMDMA_REG_PRDT + 3:
        return (uint8_t)(b->prdt >> (8 * (r - BMDMA_REG_PRDT)));
    case 1: case 3:
        return 0;       /* reserved */
    default:
        return 0xFF;    /* not this channel's byte */
    }
}

static void reg_write8(struct ide_bmdma *b, unsigned r, uint8_t v)
{
    if (r == BMDMA_REG_STATUS) {
        status_write(b, v);
    } else if (r >= BMDMA_REG_PRDT && r < BMDMA_REG_PRDT + 4) {
        /* Any byte of the pointer may be written (the PIIX3 decodes byte enables). The
         * engine keeps its own cursor, so a write while active only affects the next start. */
        unsigned sh = 8 * (r - BMDMA_REG_PRDT);
        b->prdt = ((b->prdt & ~(0xFFu << sh)) | ((uint32_t)v << sh)) & BMDMA_PRDT_MASK;
    }
    /* The command byte is handled by bmdma_write; 1, 3 and beyond 7: ignored. */
}

static bool size_ok(unsigned size)
{
    return size == 1 || size == 2 || size == 4;
}

uint32_t bmdma_read(struct ide_bmdma *b, unsigned reg, unsigned size)
{
    if (!size_ok(size))
        return 0xFFFFFFFFu;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)reg_read8(b, reg + i) << (8 * i);
    return v;
}

void bmdma_write(struct ide_bmdma *b, unsigned reg, unsigned size, uint32_t val)
{
    if (!size_ok(size) || reg >= BMDMA_NREGS)
        return;
    bool has_cmd = false;
    uint8_t cmd = 0;
    for (unsigned i = 0; i < size; i++) {
        uint8_t v = (uint8_t)(val >> (8 * i));
        if (reg + i == BMDMA_REG_CMD) {
            has_cmd = true;
            cmd = v;
        } else {
            reg_write8(b, reg + i, v);
        }
    }
    /* Last, so a start in this write sees the pointer and status bytes it also carried. */
    if (has_cmd)
        cmd_write(b, cmd);
}

void bmdma_drive_irq(struct ide_bmdma *b, bool level)
{
    /* SFF-8038i status bit 2: "set by the rising edge of the IDE interrupt line". */
    if (level && !b->irq_line)
        b->status |= BMDMA_ST_INTR;
    b->irq_line = level;
}

void bmdma_reset(struct ide_bmdma *b)
{
    /* PIIX3 reset values: BMICx 00h, BMISx 00h, BMIDTPx 0 (its reset value is undefined in
     * the datasheet; 0 is as good as any). The recorded INTRQ level is the drive's wire and
     * is left alone. */
    b->cmd = 0;
    b->status = 0;
    b->prdt = 0;
    b->next_prd = 0;
    b->region_addr = 0;
    b->region_left = 0;
    b->region_eot = false;
    b->prds_walked = 0;
    b->phase_done = false;
}

void bmdma_init(struct ide_bmdma *b, const struct bmdma_target *t, const struct dma_ops *dma,
                void (*start)(void *, struct ide_bmdma *), void *start_ctx)
{
    if (t) {
        b->target = *t;
    } else {
        b->target.pending = NULL;
        b->target.rw = NULL;
        b->target.end = NULL;
        b->target.ctx = NULL;
    }
    b->dma = dma;
    b->start = start;
    b->start_ctx = start_ctx;
    b->irq_line = false;
    b->starts = b->transfers = b->bytes = b->prd_entries = 0;
    b->bus_errors = b->short_prd = b->dir_errors = b->drive_stalls = b->aborts = 0;
    bmdma_reset(b);
}
