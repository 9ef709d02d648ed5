/* PIIX3 IDE bus master (SFF-8038i rev 1.0 register model): register semantics, scatter/gather
 * transfers byte-exact, the SFF-8038i completion table (exact fit, PRDs larger or smaller than
 * the drive's data), bus errors, EOT-less and 64 KiB-wrapping tables, stop, deferred starts,
 * and a seeded random run that checks every guest access stays inside the fake RAM. */
#include "test.h"
#include "dev/ide_bmdma.h"
#include "fake_ram.h"

/* ---- Fake guest RAM behind dma_ops: 1 MiB with guard bytes either side that the model can
 * never reach (dma_ops is its only path), checked to stay untouched. ---- */
#define RAM_SIZE  (1u << 20)
#define GUARD     4096u
#define GUARD_PAT 0x5A

static uint8_t mem[GUARD + RAM_SIZE + GUARD];
static uint8_t *const ram = mem + GUARD;

struct fake_dma {
    unsigned long bad_len;          /* len 0 or above BMDMA_CHUNK: the model broke its bound */
    unsigned long rejected_after;   /* accesses after a rejection within one run */
};
static struct fake_dma fd;

static struct fake_ram fram = { .bytes = mem + GUARD, .size = RAM_SIZE };

static bool fake_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    if (len == 0 || len > BMDMA_CHUNK)
        fd.bad_len++;
    return fake_ram_read(ctx, gpa, buf, len);
}

static bool fake_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    if (len == 0 || len > BMDMA_CHUNK)
        fd.bad_len++;
    return fake_ram_write(ctx, gpa, buf, len);
}

static const struct dma_ops dma = { .read = fake_read, .write = fake_write, .ctx = &fram };

static bool guards_intact(void)
{
    for (unsigned i = 0; i < GUARD; i++)
        if (mem[i] != GUARD_PAT || mem[GUARD + RAM_SIZE + i] != GUARD_PAT)
            return false;
    return true;
}

/* ---- Fake drive: one DMA data phase over a byte stream. A disk read streams src out, a
 * disk write collects into sink. end() completes the command and raises INTRQ, as the ATA
 * model does; ack() is the guest reading the ATA status register (INTRQ falls). ---- */
#define STREAM (320u * 1024)
static uint8_t src[STREAM], sink[STREAM];

struct fake_drive {
    bool pending, to_mem;
    uint32_t len, pos;
    size_t max_rw;                  /* 0: no limit per rw call */
    bool stall;                     /* rw moves nothing */
    unsigned ends, end_errors;
    bool last_error;
    unsigned end_idle;              /* end() without a phase: must stay 0 */
    bool intrq;
    uint64_t moved;
    void (*on_rw)(unsigned call);   /* lets a test act mid-transfer (a guest on another vCPU) */
    unsigned rw_calls;
};
static struct fake_drive dr;
static struct ide_bmdma b;

static bool drv_pending(void *ctx, bool *to_memory, uint32_t *bytes)
{
    if (!dr.pending || dr.pos >= dr.len)
        return false;
    *to_memory = dr.to_mem;
    *bytes = dr.len - dr.pos;
    return true;
}

static size_t drv_rw(void *ctx, void *buf, size_t len)
{
    if (dr.on_rw)
        dr.on_rw(dr.rw_calls);
    dr.rw_calls++;
    if (!dr.pending || dr.stall)
        return 0;
    size_t n = MIN(len, (size_t)(dr.len - dr.pos));
    if (dr.max_rw)
        n = MIN(n, dr.max_rw);
    if (dr.to_mem)
        memcpy(buf, src + dr.pos, n);
    else
        memcpy(sink + dr.pos, buf, n);
    dr.pos += (uint32_t)n;
    dr.moved += n;
    return n;
}

static void drv_end(void *ctx, bool bus_error)
{
    if (!dr.pending)
        dr.end_idle++;
    dr.pending = false;
    dr.ends++;
    dr.last_error = bus_error;
    if (bus_error)
        dr.end_errors++;
    if (!dr.intrq) {
        dr.intrq = true;
        bmdma_drive_irq(&b, true);
    }
}

static void drv_ack(void)
{
    if (dr.intrq) {
        dr.intrq = false;
        bmdma_drive_irq(&b, false);
    }
}

/* The drive accepts a DMA command: a data phase of len bytes in the given direction. */
static void drv_issue(bool to_mem, uint32_t len)
{
    dr.pending = true;
    dr.to_mem = to_mem;
    dr.len = len;
    dr.pos = 0;
}

static const struct bmdma_target target = {
    .pending = drv_pending, .rw = drv_rw, .end = drv_end, .ctx = NULL
};

/* ---- Start hook: synchronous (runs in the "exit") or deferred (a VMM thread runs later). */
static unsigned hook_calls;
static bool hook_sync = true;

static void hook(void *ctx, struct ide_bmdma *bm)
{
    CHECK(bm == &b);
    CHECK(ctx == &hook_calls);
    hook_calls++;
    if (hook_sync)
        bmdma_run(bm);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void setup(void)
{
    memset(mem, GUARD_PAT, sizeof(mem));
    memset(ram, 0, RAM_SIZE);
    memset(&fd, 0, sizeof(fd));
    fake_ram_reset(&fram);
    memset(&dr, 0, sizeof(dr));
    for (unsigned i = 0; i < STREAM; i++)
        src[i] = (uint8_t)(rnd() >> 24);
    memset(sink, 0, sizeof(sink));
    hook_calls = 0;
    hook_sync = true;
    memset(&b, 0xA5, sizeof(b));        /* init must not rely on a zeroed struct */
    bmdma_init(&b, &target, &dma, hook, &hook_calls);
}

static uint8_t rd8(unsigned r) { return (uint8_t)bmdma_read(&b, r, 1); }
static void wr8(unsigned r, uint8_t v) { bmdma_write(&b, r, 1, v); }
static void wr32(unsigned r, uint32_t v) { bmdma_write(&b, r, 4, v); }

/* One PRD at table address t (SFF-8038i PRD format). */
static void put_prd(uint32_t t, uint32_t base, uint32_t count, bool eot)
{
    w32(t, base);
    w32(t + 4, (count & 0xFFFF) | (eot ? BMDMA_PRD_EOT : 0));
}

/* Linux ata_bmdma_setup(): table pointer, then direction with start clear; the command
 * reaches the drive; then ata_bmdma_start() sets start. */
static void linux_setup(uint32_t prdt, bool disk_read)
{
    wr32(BMDMA_REG_PRDT, prdt);
    uint8_t c = rd8(BMDMA_REG_CMD) & (uint8_t)~(BMDMA_CMD_WRITE | BMDMA_CMD_START);
    if (disk_read)
        c |= BMDMA_CMD_WRITE;
    wr8(BMDMA_REG_CMD, c);
}

static void linux_start(void)
{
    wr8(BMDMA_REG_CMD, rd8(BMDMA_REG_CMD) | BMDMA_CMD_START);
}

/* Linux ata_bmdma_port_intr(): status, stop, clear (ata_bmdma_irq_clear writes it back). */
static uint8_t linux_irq(void)
{
    uint8_t st = rd8(BMDMA_REG_STATUS);
    wr8(BMDMA_REG_CMD, rd8(BMDMA_REG_CMD) & (uint8_t)~BMDMA_CMD_START);
    wr8(BMDMA_REG_STATUS, rd8(BMDMA_REG_STATUS));
    drv_ack();
    return st;
}

/* ---------------------------------------------------------------------------------------- */

TEST(bmdma_reset_state)
{
    setup();
    CHECK_EQ(rd8(BMDMA_REG_CMD), 0);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), 0);
    CHECK_EQ(bmdma_read(&b, BMDMA_REG_PRDT, 4), 0);
    CHECK(!bmdma_armed(&b));
    CHECK_EQ(b.starts + b.transfers + b.bytes + b.prd_entries + b.bus_errors + b.short_prd, 0);
    bmdma_run(&b);                      /* idempotent with nothing armed */
    CHECK_EQ(fram.reads + fram.writes, 0);

    wr8(BMDMA_REG_STATUS, BMDMA_ST_DRV0_DMA);
    wr32(BMDMA_REG_PRDT, 0x1234);
    hook_sync = false;
    wr8(BMDMA_REG_CMD, BMDMA_CMD_START);
    bmdma_reset(&b);
    CHECK_EQ(bmdma_read(&b, 0, 4), 0);
    CHECK_EQ(bmdma_read(&b, 4, 4), 0);
    CHECK(!bmdma_armed(&b));
    CHECK_EQ(b.starts, 1);              /* statistics survive a reset */
}

/* SFF-8038i command register: bit 0 start/stop, bit 3 read/write control, others 0. */
TEST(bmdma_cmd_register)
{
    setup();
    hook_sync = false;
    wr8(BMDMA_REG_CMD, 0xFF & (uint8_t)~BMDMA_CMD_START);
    CHECK_EQ(rd8(BMDMA_REG_CMD), BMDMA_CMD_WRITE);          /* only bit 3 stored */
    wr8(BMDMA_REG_CMD, 0xF6);
    CHECK_EQ(rd8(BMDMA_REG_CMD), 0);
    wr8(BMDMA_REG_CMD, BMDMA_CMD_WRITE | BMDMA_CMD_START);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_ACTIVE);
    CHECK_EQ(hook_calls, 1);
    /* "This bit must NOT be changed when the bus master function is active": ignored. */
    wr8(BMDMA_REG_CMD, BMDMA_CMD_START);
    CHECK_EQ(rd8(BMDMA_REG_CMD), BMDMA_CMD_WRITE | BMDMA_CMD_START);
    CHECK_EQ(hook_calls, 1);                                /* start again is no new start */
    CHECK_EQ(b.starts, 1);
    /* A write that stops the engine may carry the next direction. */
    wr8(BMDMA_REG_CMD, 0);
    CHECK_EQ(rd8(BMDMA_REG_CMD), 0);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), 0);                     /* stop clears active */
    wr8(BMDMA_REG_CMD, BMDMA_CMD_WRITE);                    /* stopped: free to change */
    CHECK_EQ(rd8(BMDMA_REG_CMD), BMDMA_CMD_WRITE);
    CHECK_EQ(b.aborts, 0);                                  /* the drive had nothing */
    CHECK_EQ(dr.ends, 0);
}

/* SFF-8038i status register: 0 active RO, 1 error R/WC, 2 interrupt R/WC, 5/6 R/W, 7 RO. */
TEST(bmdma_status_register)
{
    setup();
    wr8(BMDMA_REG_STATUS, 0xFF);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_DRV0_DMA | BMDMA_ST_DRV1_DMA);  /* simplex 0 */
    wr8(BMDMA_REG_STATUS, 0);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), 0);
    bmdma_drive_irq(&b, true);
    bmdma_drive_irq(&b, false);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);
    wr8(BMDMA_REG_STATUS, BMDMA_ST_DRV1_DMA);               /* 0 in bit 2: no clear */
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR | BMDMA_ST_DRV1_DMA);
    wr8(BMDMA_REG_STATUS, BMDMA_ST_INTR | BMDMA_ST_DRV1_DMA);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_DRV1_DMA);
    /* Error bit: produce one with a table outside RAM, then clear it alone. */
    wr32(BMDMA_REG_PRDT, RAM_SIZE);
    drv_issue(true, 512);
    wr8(BMDMA_REG_CMD, BMDMA_CMD_WRITE | BMDMA_CMD_START);
    bmdma_drive_irq(&b, false);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_ERROR | BMDMA_ST_INTR | BMDMA_ST_DRV1_DMA);
    wr8(BMDMA_REG_STATUS, BMDMA_ST_ERROR | BMDMA_ST_ACTIVE | BMDMA_ST_DRV1_DMA);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR | BMDMA_ST_DRV1_DMA);
    /* Active is read only: writing 1 does not set it, writing 0 does not clear it. */
    wr8(BMDMA_REG_CMD, 0);
    hook_sync = false;
    wr8(BMDMA_REG_STATUS, BMDMA_ST_ACTIVE);
    CHECK_EQ(rd8(BMDMA_REG_STATUS) & BMDMA_ST_ACTIVE, 0);
    wr8(BMDMA_REG_CMD, BMDMA_CMD_START);
    wr8(BMDMA_REG_STATUS, 0);
    CHECK_EQ(rd8(BMDMA_REG_STATUS) & BMDMA_ST_ACTIVE, BMDMA_ST_ACTIVE);
}

/* Descriptor table pointer: bits 31:2, any byte enables; reserved bytes 1 and 3 read 0. */
TEST(bmdma_prdt_register_and_sizes)
{
    setup();
    wr32(BMDMA_REG_PRDT, 0x12345677);
    CHECK_EQ(bmdma_read(&b, BMDMA_REG_PRDT, 4), 0x12345674);
    bmdma_write(&b, BMDMA_REG_PRDT, 1, 0xFF);
    CHECK_EQ(bmdma_read(&b, BMDMA_REG_PRDT, 4), 0x123456FC);
    bmdma_write(&b, BMDMA_REG_PRDT + 2, 2, 0xABCD);
    CHECK_EQ(bmdma_read(&b, BMDMA_REG_PRDT, 4), 0xABCD56FC);
    bmdma_write(&b, BMDMA_REG_PRDT + 1, 1, 0x00);
    CHECK_EQ(bmdma_read(&b, BMDMA_REG_PRDT, 2), 0x00FC);
    CHECK_EQ(bmdma_read(&b, BMDMA_REG_PRDT + 3, 1), 0xAB);
    CHECK_EQ(bmdma_read(&b, BMDMA_REG_PRDT + 2, 2), 0xABCD);

    wr8(BMDMA_REG_STATUS, BMDMA_ST_DRV0_DMA);
    wr8(BMDMA_REG_CMD, BMDMA_CMD_WRITE);
    CHECK_EQ(rd8(1), 0);
    CHECK_EQ(rd8(3), 0);
    bmdma_write(&b, 1, 1, 0xFF);                            /* reserved: ignored */
    bmdma_write(&b, 3, 1, 0xFF);
    CHECK_EQ(bmdma_read(&b, 0, 4), BMDMA_CMD_WRITE | (uint32_t)BMDMA_ST_DRV0_DMA << 16);
    CHECK_EQ(bmdma_read(&b, 0, 2), BMDMA_CMD_WRITE);
    CHECK_EQ(bmdma_read(&b, 2, 2), BMDMA_ST_DRV0_DMA);
    CHECK_EQ(bmdma_read(&b, 2, 4), BMDMA_ST_DRV0_DMA | 0xFC << 16 | 0x00 << 24); /* unaligned */
    CHECK_EQ(bmdma_read(&b, 6, 4), 0xFFFFABCD);             /* bytes 8, 9: not this channel */
    CHECK_EQ(bmdma_read(&b, 8, 1), 0xFF);
    CHECK_EQ(bmdma_read(&b, 0, 3), 0xFFFFFFFF);             /* no 3-byte cycles */
    bmdma_write(&b, 4, 3, 0);
    bmdma_write(&b, 8, 4, 0);
    CHECK_EQ(bmdma_read(&b, BMDMA_REG_PRDT, 4), 0xABCD00FC);
    /* A word write at 0 reaches the command byte; the reserved byte 1 is dropped. */
    bmdma_write(&b, 0, 2, 0xFF00);
    CHECK_EQ(rd8(BMDMA_REG_CMD), 0);
}

/* A dword write at 0 that clears status bits and starts: status goes first, so the interrupt
 * produced by the (synchronous) transfer it starts is not wiped by the same write. */
TEST(bmdma_dword_write_order)
{
    setup();
    put_prd(0x1000, 0x10000, 512, true);
    wr32(BMDMA_REG_PRDT, 0x1000);
    bmdma_drive_irq(&b, true);
    bmdma_drive_irq(&b, false);                             /* an old interrupt, unacked */
    drv_issue(true, 512);
    wr32(0, (uint32_t)(BMDMA_ST_INTR | BMDMA_ST_DRV0_DMA) << 16 | BMDMA_CMD_WRITE | BMDMA_CMD_START);
    CHECK_EQ(dr.ends, 1);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR | BMDMA_ST_DRV0_DMA);  /* new one kept */
    CHECK(!memcmp(ram + 0x10000, src, 512));
}

/* A disk read scattered over three PRDs lands byte-exact; nothing else in RAM changes. */
TEST(bmdma_read_scatter)
{
    setup();
    put_prd(0x2000, 0x30000, 0x1000, false);
    put_prd(0x2008, 0x50200, 0x0600, false);
    put_prd(0x2010, 0x41000, 0x2A00, true);
    uint32_t total = 0x1000 + 0x600 + 0x2A00;
    linux_setup(0x2000, true);
    drv_issue(true, total);
    linux_start();
    CHECK_EQ(dr.ends, 1);
    CHECK(!dr.last_error);
    CHECK(!memcmp(ram + 0x30000, src, 0x1000));
    CHECK(!memcmp(ram + 0x50200, src + 0x1000, 0x600));
    CHECK(!memcmp(ram + 0x41000, src + 0x1600, 0x2A00));
    CHECK_EQ(ram[0x30000 - 1], 0);
    CHECK_EQ(ram[0x31000], 0);
    CHECK_EQ(ram[0x50200 - 1], 0);
    CHECK_EQ(ram[0x50800], 0);
    CHECK_EQ(ram[0x43A00], 0);
    CHECK_EQ(b.bytes, total);
    CHECK_EQ(b.prd_entries, 3);
    CHECK_EQ(b.transfers, 1);
    CHECK_EQ(fd.bad_len, 0);
    uint8_t st = linux_irq();
    CHECK_EQ(st, BMDMA_ST_INTR);                            /* exact fit: active 0 */
    CHECK_EQ(rd8(BMDMA_REG_STATUS), 0);
    CHECK(guards_intact());
}

/* A disk write gathers its regions in table order. */
TEST(bmdma_write_gather)
{
    setup();
    memcpy(ram + 0x60000, src, 0x800);
    memcpy(ram + 0x10000, src + 0x800, 0x200);
    memcpy(ram + 0x70002, src + 0xA00, 0x10000);           /* count 0: 64 KiB */
    put_prd(0x3000, 0x60000, 0x800, false);
    put_prd(0x3008, 0x10000, 0x200, false);
    put_prd(0x3010, 0x70002, 0, true);
    uint32_t total = 0x800 + 0x200 + 0x10000;
    linux_setup(0x3000, false);
    CHECK_EQ(rd8(BMDMA_REG_CMD), 0);                        /* bus master reads memory */
    drv_issue(false, total);
    linux_start();
    CHECK_EQ(dr.ends, 1);
    CHECK(!dr.last_error);
    CHECK_EQ(dr.pos, total);
    CHECK(!memcmp(sink, src, total));
    CHECK_EQ(fram.writes, 0);                               /* a disk write never writes RAM */
    CHECK_EQ(linux_irq(), BMDMA_ST_INTR);
}

/* SFF-8038i table: "interrupt 1, active 0: ... the size of the physical memory regions was
 * equal to the IDE device transfer size". */
TEST(bmdma_exact_fit)
{
    setup();
    put_prd(0x1000, 0x20000, 0x200, false);
    put_prd(0x1008, 0x20400, 0x200, true);
    linux_setup(0x1000, true);
    drv_issue(true, 0x400);
    linux_start();
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);
    CHECK(!bmdma_armed(&b));
    CHECK_EQ(dr.ends, 1);
    CHECK(!dr.last_error);
    CHECK(dr.intrq);
    CHECK(!memcmp(ram + 0x20000, src, 0x200));
    CHECK(!memcmp(ram + 0x20400, src + 0x200, 0x200));
    linux_irq();
    CHECK_EQ(rd8(BMDMA_REG_STATUS), 0);
    CHECK_EQ(rd8(BMDMA_REG_CMD), BMDMA_CMD_WRITE);
    CHECK_EQ(b.aborts + b.short_prd + b.bus_errors, 0);
}

/* "interrupt 1, active 1: ... the size of the physical memory regions was larger than the
 * IDE device transfer size". The unused PRDs are never fetched. */
TEST(bmdma_prd_larger_than_data)
{
    setup();
    put_prd(0x1000, 0x20000, 0x1000, false);
    put_prd(0x1008, 0x28000, 0x1000, true);
    linux_setup(0x1000, true);
    drv_issue(true, 0x600);
    linux_start();
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_ACTIVE | BMDMA_ST_INTR);
    CHECK_EQ(dr.ends, 1);
    CHECK(!dr.last_error);
    CHECK_EQ(b.prd_entries, 1);
    CHECK_EQ(b.transfers, 1);
    CHECK(!bmdma_armed(&b));                                /* this start's phase is served */
    CHECK(!memcmp(ram + 0x20000, src, 0x600));
    CHECK_EQ(ram[0x20600], 0);
    /* A second command without a restart is not served ("cannot be stopped and resumed";
     * the start bit "is intended to be reset after the data transfer is completed"). */
    drv_issue(true, 0x200);
    bmdma_run(&b);
    CHECK_EQ(dr.pos, 0);
    CHECK_EQ(linux_irq(), BMDMA_ST_ACTIVE | BMDMA_ST_INTR);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), 0);                     /* stop cleared active */
    CHECK_EQ(b.aborts, 0);                                  /* the first phase was done */
    /* A fresh start walks the table from its beginning. */
    linux_start();
    CHECK_EQ(dr.pos, 0x200);
    CHECK(!memcmp(ram + 0x20000, src, 0x200));
    CHECK_EQ(b.prd_entries, 2);
}

/* "interrupt 0, active 0, error 0: the PRDs specified a smaller size than the IDE transfer
 * size". Our drive is ended with an error rather than left waiting for a timeout. */
TEST(bmdma_prd_shorter_than_data)
{
    setup();
    put_prd(0x1000, 0x20000, 0x200, false);
    put_prd(0x1008, 0x30000, 0x200, true);
    linux_setup(0x1000, true);
    drv_issue(true, 0x1000);
    linux_start();
    CHECK_EQ(b.short_prd, 1);
    CHECK_EQ(dr.ends, 1);
    CHECK(dr.last_error);
    CHECK_EQ(dr.pos, 0x400);
    CHECK_EQ(b.bytes, 0x400);
    CHECK(!memcmp(ram + 0x20000, src, 0x200));
    CHECK(!memcmp(ram + 0x30000, src + 0x200, 0x200));
    CHECK_EQ(ram[0x30200], 0);
    CHECK_EQ(b.prd_entries, 2);                             /* nothing fetched past EOT */
    /* Active 0, error 0; the interrupt bit is the drive's INTRQ for the failed command. */
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);
    CHECK_EQ(b.transfers, 0);
    /* The same for a disk write. */
    linux_irq();
    linux_setup(0x1000, false);
    drv_issue(false, 0x401);
    linux_start();
    CHECK_EQ(b.short_prd, 2);
    CHECK_EQ(dr.pos, 0x400);
}

/* PRD byte count 0 means 64 KiB; bit 0 is ignored, so a count of 1 is 64 KiB as well. */
TEST(bmdma_zero_count_is_64k)
{
    setup();
    put_prd(0x1000, 0x20000, 0, false);
    put_prd(0x1008, 0x40000, 1, true);
    linux_setup(0x1000, true);
    drv_issue(true, 0x20000);
    linux_start();
    CHECK_EQ(dr.pos, 0x20000);
    CHECK(!dr.last_error);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);         /* exact fit at EOT */
    CHECK(!memcmp(ram + 0x20000, src, 0x10000));
    CHECK(!memcmp(ram + 0x40000, src + 0x10000, 0x10000));
    CHECK_EQ(ram[0x30000], 0);
    CHECK_EQ(ram[0x50000], 0);
}

/* Base bit 0 and count bit 0 are hard-wired 0 (PRD format: "[31:1] ... 0", "[15:1] ... 0"). */
TEST(bmdma_odd_base_and_count)
{
    setup();
    put_prd(0x1000, 0x20001, 0x0201, false);
    put_prd(0x1008, 0x30003, 0x0003, true);
    linux_setup(0x1000, true);
    drv_issue(true, 0x202);
    linux_start();
    CHECK(!dr.last_error);
    CHECK(!memcmp(ram + 0x20000, src, 0x200));
    CHECK(!memcmp(ram + 0x30002, src + 0x200, 2));
    CHECK_EQ(ram[0x30004], 0);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);
}

/* A region outside guest RAM: error bit, active 0, the drive aborted, nothing outside RAM. */
TEST(bmdma_region_outside_ram)
{
    setup();
    put_prd(0x1000, 0x20000, 0x200, false);
    put_prd(0x1008, RAM_SIZE - 0x100, 0x200, true);         /* straddles the end of RAM */
    linux_setup(0x1000, true);
    drv_issue(true, 0x400);
    linux_start();
    CHECK_EQ(b.bus_errors, 1);
    CHECK_EQ(dr.ends, 1);
    CHECK(dr.last_error);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_ERROR | BMDMA_ST_INTR);
    CHECK(!memcmp(ram + 0x20000, src, 0x200));              /* the first region made it */
    CHECK_EQ(b.bytes, 0x200);
    CHECK_EQ(ram[RAM_SIZE - 0x100], 0);                     /* a rejected write moves nothing */
    CHECK(guards_intact());
    CHECK_EQ(fram.rejects, 1);
    /* Linux: DMA_ERR -> AC_ERR_HOST_BUS; stop and clear. */
    CHECK_EQ(linux_irq(), BMDMA_ST_ERROR | BMDMA_ST_INTR);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), 0);

    /* A disk write from far above RAM. */
    put_prd(0x1000, 0xFFFFF000u, 0x200, true);
    linux_setup(0x1000, false);
    drv_issue(false, 0x200);
    linux_start();
    CHECK_EQ(b.bus_errors, 2);
    CHECK(dr.last_error);
    CHECK_EQ(dr.pos, 0);                                    /* the drive got nothing */
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_ERROR | BMDMA_ST_INTR);
    CHECK(guards_intact());
}

/* The descriptor table itself outside guest RAM. */
TEST(bmdma_table_outside_ram)
{
    setup();
    linux_setup(0xFEC00000u, true);
    drv_issue(true, 0x200);
    linux_start();
    CHECK_EQ(b.bus_errors, 1);
    CHECK_EQ(b.prd_entries, 0);
    CHECK(dr.last_error);
    CHECK_EQ(dr.pos, 0);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_ERROR | BMDMA_ST_INTR);
    CHECK_EQ(fram.writes, 0);
    linux_irq();
    /* A table in the last descriptor slot of RAM: the walk wraps within its 64 KiB region
     * to 0xF0000, not past the end of RAM. */
    put_prd(RAM_SIZE - 8, 0x20000, 0x200, false);
    linux_setup(RAM_SIZE - 8, true);
    drv_issue(true, 0x400);
    linux_start();
    CHECK_EQ(b.prd_entries, 2);
    CHECK_EQ(b.bus_errors, 1);
    /* The walk wraps within the region (RAM_SIZE - 8 + 8 -> 0xF0000), which is zeros: base 0,
     * count 64 KiB, so the drive's second half lands at 0. */
    CHECK(!dr.last_error);
    CHECK(!memcmp(ram + 0x20000, src, 0x200));
    CHECK(!memcmp(ram, src + 0x200, 0x200));
    CHECK(guards_intact());
}

/* No EOT anywhere: at most one 64 KiB region of PRDs (8192) per start, then exhausted. */
TEST(bmdma_no_eot_bounded)
{
    setup();
    for (uint32_t i = 0; i < BMDMA_MAX_PRDS; i++)
        put_prd(0x10000 + i * 8, 0x40000, 2, false);
    linux_setup(0x10000, true);
    drv_issue(true, 0x10000);
    linux_start();
    CHECK_EQ(b.prd_entries, BMDMA_MAX_PRDS);
    CHECK_EQ(b.short_prd, 1);
    CHECK_EQ(dr.pos, 2 * BMDMA_MAX_PRDS);
    CHECK(dr.last_error);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);         /* active 0, error 0 */
    CHECK(!memcmp(ram + 0x40000, src + 2 * (BMDMA_MAX_PRDS - 1), 2));  /* the last pair */

    /* Drive done exactly at the 8192nd entry: not exhausted as far as it knows. */
    linux_irq();
    linux_setup(0x10000, true);
    drv_issue(true, 2 * BMDMA_MAX_PRDS);
    linux_start();
    CHECK(!dr.last_error);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_ACTIVE | BMDMA_ST_INTR);
}

/* A table starting in the last slot of a 64 KiB region wraps to the region's start. */
TEST(bmdma_table_wraps_at_64k)
{
    setup();
    put_prd(0x2FFF8, 0x50000, 0x100, false);
    put_prd(0x20000, 0x60000, 0x100, true);
    put_prd(0x30000, 0x70000, 0x100, true);                 /* not reached */
    linux_setup(0x2FFF8, true);
    drv_issue(true, 0x200);
    linux_start();
    CHECK(!dr.last_error);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);
    CHECK(!memcmp(ram + 0x50000, src, 0x100));
    CHECK(!memcmp(ram + 0x60000, src + 0x100, 0x100));
    CHECK_EQ(ram[0x70000], 0);
}

/* Stop before the (deferred) transfer ran: the command is aborted and the drive ended. */
TEST(bmdma_stop_aborts)
{
    setup();
    hook_sync = false;
    put_prd(0x1000, 0x20000, 0x200, true);
    linux_setup(0x1000, true);
    drv_issue(true, 0x200);
    linux_start();
    CHECK(bmdma_armed(&b));
    CHECK_EQ(hook_calls, 1);
    wr8(BMDMA_REG_CMD, BMDMA_CMD_WRITE);                    /* guest stops */
    CHECK(!bmdma_armed(&b));
    CHECK_EQ(b.aborts, 1);
    CHECK_EQ(dr.ends, 1);
    CHECK(dr.last_error);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);         /* active 0, via INTRQ */
    bmdma_run(&b);                                          /* the queued work finds nothing */
    CHECK_EQ(dr.pos, 0);
    CHECK_EQ(fram.reads + fram.writes, 0);
    CHECK_EQ(ram[0x20000], 0);

    /* Stopped while waiting for the drive (nothing pending): no abort; the command that
     * reaches the drive afterwards is not served by the stopped engine. */
    drv_ack();
    linux_setup(0x1000, true);
    linux_start();
    wr8(BMDMA_REG_CMD, BMDMA_CMD_WRITE);
    CHECK_EQ(b.aborts, 1);
    drv_issue(true, 0x200);
    bmdma_run(&b);
    CHECK_EQ(dr.pos, 0);
    CHECK_EQ(dr.ends, 1);
}

/* Stop in the middle of the data: the guest's write arrives between two chunks (here from
 * inside the drive callback; the glue's lock would normally order it between runs). */
static void stop_on_third_chunk(unsigned call)
{
    if (call == 2)
        wr8(BMDMA_REG_CMD, BMDMA_CMD_WRITE);
}

TEST(bmdma_stop_midway)
{
    setup();
    put_prd(0x1000, 0x20000, 0x4000, true);
    dr.on_rw = stop_on_third_chunk;
    linux_setup(0x1000, true);
    drv_issue(true, 0x4000);
    linux_start();
    CHECK_EQ(b.aborts, 1);
    CHECK_EQ(dr.ends, 1);                                   /* ended once, by the stop */
    CHECK(dr.last_error);
    CHECK_EQ(dr.end_idle, 0);
    CHECK_EQ(dr.rw_calls, 3);                               /* no chunk after the stop */
    CHECK(!memcmp(ram + 0x20000, src, 2 * BMDMA_CHUNK));
    CHECK_EQ(ram[0x20000 + 2 * BMDMA_CHUNK], 0);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);         /* active 0, no error */
    CHECK_EQ(b.drive_stalls, 0);
}

/* Start with no DMA phase at the drive: stay active, move nothing, until a later run. */
TEST(bmdma_start_then_pending)
{
    setup();
    put_prd(0x1000, 0x20000, 0x400, true);
    linux_setup(0x1000, true);
    linux_start();
    CHECK_EQ(hook_calls, 1);
    CHECK(bmdma_armed(&b));
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_ACTIVE);
    CHECK_EQ(fram.reads, 0);                                /* not even the PRD fetched */
    CHECK_EQ(dr.ends, 0);
    bmdma_run(&b);                                          /* still nothing: idempotent */
    bmdma_run(&b);
    CHECK_EQ(fram.reads, 0);
    CHECK(bmdma_armed(&b));
    drv_issue(true, 0x400);                                 /* the command reaches the drive */
    bmdma_run(&b);                                          /* the glue's second call */
    CHECK_EQ(dr.ends, 1);
    CHECK(!dr.last_error);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);
    CHECK(!memcmp(ram + 0x20000, src, 0x400));
    bmdma_run(&b);
    CHECK_EQ(dr.ends, 1);
}

/* The start hook sees each 0 -> 1 edge of the start bit exactly once. */
TEST(bmdma_start_hook_once_per_start)
{
    setup();
    hook_sync = false;
    for (unsigned i = 1; i <= 5; i++) {
        wr8(BMDMA_REG_CMD, BMDMA_CMD_START);
        wr8(BMDMA_REG_CMD, BMDMA_CMD_START);
        bmdma_write(&b, 0, 4, BMDMA_CMD_START);
        CHECK_EQ(hook_calls, i);
        CHECK_EQ(b.starts, i);
        wr8(BMDMA_REG_CMD, 0);
        wr8(BMDMA_REG_CMD, 0);
        CHECK_EQ(hook_calls, i);
    }
    /* Without a hook the model runs at once (synchronous default). */
    bmdma_init(&b, &target, &dma, NULL, NULL);
    put_prd(0x1000, 0x20000, 0x200, true);
    linux_setup(0x1000, true);
    drv_issue(true, 0x200);
    linux_start();
    CHECK_EQ(dr.ends, 1);
    CHECK(!memcmp(ram + 0x20000, src, 0x200));
}

/* The drive's direction differs from command bit 3: fail, move nothing. */
TEST(bmdma_direction_mismatch)
{
    setup();
    put_prd(0x1000, 0x20000, 0x200, true);
    memset(ram + 0x20000, 0x77, 0x200);
    linux_setup(0x1000, false);                             /* bus master reads memory */
    drv_issue(true, 0x200);                                 /* but the drive has a disk read */
    linux_start();
    CHECK_EQ(b.dir_errors, 1);
    CHECK(dr.last_error);
    CHECK_EQ(dr.pos, 0);
    CHECK_EQ(ram[0x20000], 0x77);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_ERROR | BMDMA_ST_INTR);
}

/* SFF-8038i status bit 2: "set by the rising edge of the IDE interrupt line", DMA or not. */
TEST(bmdma_drive_irq_edges)
{
    setup();
    bmdma_drive_irq(&b, true);                              /* e.g. a PIO command's INTRQ */
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);
    wr8(BMDMA_REG_STATUS, BMDMA_ST_INTR);
    bmdma_drive_irq(&b, true);                              /* still high: no new edge */
    CHECK_EQ(rd8(BMDMA_REG_STATUS), 0);
    bmdma_drive_irq(&b, false);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), 0);                     /* falling edge sets nothing */
    bmdma_drive_irq(&b, true);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);
}

/* Each PRD is fetched when the walk reaches it: a rewrite of a later entry mid-transfer is
 * seen, as on the hardware. */
static void rewrite_second_prd(unsigned call)
{
    if (call == 0)
        put_prd(0x1008, 0x58000, 0x200, true);
}

TEST(bmdma_table_rewritten_midway)
{
    setup();
    put_prd(0x1000, 0x20000, 0x200, false);
    put_prd(0x1008, 0x30000, 0x200, true);
    dr.on_rw = rewrite_second_prd;
    linux_setup(0x1000, true);
    drv_issue(true, 0x400);
    linux_start();
    CHECK(!dr.last_error);
    CHECK(!memcmp(ram + 0x20000, src, 0x200));
    CHECK(!memcmp(ram + 0x58000, src + 0x200, 0x200));
    CHECK_EQ(ram[0x30000], 0);
}

/* A drive that moves less per call, and one that stops moving (its own failure). */
TEST(bmdma_partial_and_stalled_drive)
{
    setup();
    put_prd(0x1000, 0x20000, 0x3000, true);
    dr.max_rw = 100;
    linux_setup(0x1000, true);
    drv_issue(true, 0x3000);
    linux_start();
    CHECK(!dr.last_error);
    CHECK(!memcmp(ram + 0x20000, src, 0x3000));
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);
    linux_irq();

    dr.max_rw = 0;
    dr.stall = true;
    linux_setup(0x1000, true);
    drv_issue(true, 0x200);
    linux_start();
    CHECK_EQ(b.drive_stalls, 1);
    CHECK(dr.last_error);
    CHECK(!bmdma_armed(&b));
}

/* 256 KiB in four 64 KiB regions: the chunking holds for a large command. */
TEST(bmdma_large_read)
{
    setup();
    for (unsigned i = 0; i < 4; i++)
        put_prd(0x1000 + 8 * i, 0x80000 + 0x10000 * i, 0, i == 3);
    linux_setup(0x1000, true);
    drv_issue(true, 0x40000);
    linux_start();
    CHECK(!dr.last_error);
    CHECK(!memcmp(ram + 0x80000, src, 0x40000));
    CHECK_EQ(b.bytes, 0x40000);
    CHECK_EQ(fram.writes, 0x40000 / BMDMA_CHUNK);
    CHECK_EQ(fd.bad_len, 0);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_INTR);
}

TEST(bmdma_no_target)
{
    setup();
    bmdma_init(&b, NULL, &dma, NULL, NULL);                 /* no drive on this channel */
    wr8(BMDMA_REG_CMD, BMDMA_CMD_START);
    bmdma_run(&b);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), BMDMA_ST_ACTIVE);
    wr8(BMDMA_REG_CMD, 0);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), 0);
    CHECK_EQ(fram.reads + fram.writes, 0);
}

/* ---- Random run: register writes, table rewrites, drive commands, runs, interrupts and
 * resets in a seeded order. Every guest access goes through the fake dma_ops (lengths within
 * the chunk, nothing outside RAM), the register invariants hold after every step, and a run
 * never leaves the drive waiting while the engine is armed. ---- */
static void check_invariants(void)
{
    CHECK_EQ(b.cmd & (uint8_t)~BMDMA_CMD_MASK, 0);
    CHECK_EQ(b.status & (BMDMA_ST_SIMPLEX | 0x18), 0);
    CHECK_EQ(b.prdt & 3, 0);
    if (!(b.cmd & BMDMA_CMD_START))
        CHECK(!(b.status & BMDMA_ST_ACTIVE));
    CHECK(b.prds_walked <= BMDMA_MAX_PRDS);
    CHECK(b.bytes <= dr.moved);
    CHECK(b.region_left <= BMDMA_PRD_MAX_COUNT);
    CHECK_EQ(rd8(BMDMA_REG_CMD), b.cmd);
    CHECK_EQ(rd8(BMDMA_REG_STATUS), b.status);
}

TEST(bmdma_fuzz)
{
    setup();
    rng = 0xC0FFEE1234567ull;
    unsigned long runs = 0, served = 0;
    for (unsigned long it = 0; it < 1000000; it++) {
        uint64_t r = rnd();
        unsigned op = (unsigned)(r % 100);
        r >>= 8;
        if (op < 22) {                                      /* register write */
            static const unsigned sizes[] = { 1, 2, 4 };
            unsigned reg = (unsigned)(r & 7), size = sizes[(r >> 3) % 3];
            uint32_t val = (uint32_t)(r >> 8);
            if ((r >> 40) & 1)
                val &= (r >> 41) & 1 ? 0x000FFFFF : 0xFF;   /* mostly inside RAM / small */
            hook_sync = (r >> 42) & 1;
            bmdma_write(&b, reg, size, val);
        } else if (op < 30) {                               /* cmd write: start/stop */
            hook_sync = (r >> 1) & 1;
            wr8(BMDMA_REG_CMD, (uint8_t)(r & 0xFF));
        } else if (op < 36) {                               /* pointer into RAM */
            wr32(BMDMA_REG_PRDT, (uint32_t)(r % (RAM_SIZE + 64)));
        } else if (op < 50) {                               /* rewrite some descriptors */
            uint32_t t = (uint32_t)((r % RAM_SIZE) & ~7u);
            unsigned n = 1 + (unsigned)((r >> 20) % 8);
            for (unsigned i = 0; i < n && t + 8 * i + 8 <= RAM_SIZE; i++) {
                uint64_t q = rnd();
                uint32_t base = (q & 3) ? (uint32_t)((q >> 8) % RAM_SIZE) : (uint32_t)(q >> 8);
                uint32_t count = (q >> 40) & 1 ? (uint32_t)((q >> 44) & 0x7FF)
                                               : (uint32_t)((q >> 44) & 0xFFFF);
                put_prd(t + 8 * i, base, count, (q >> 60) & 1);
            }
        } else if (op < 58) {                               /* the drive gets a command */
            if (!dr.pending) {
                /* Mostly the direction the guest programmed, as a sane driver does. */
                bool to_mem = (r & 6) ? !!(b.cmd & BMDMA_CMD_WRITE) : (r & 1);
                uint32_t len = 1 + (uint32_t)((r >> 1) % ((r >> 30) & 1 ? 0x4000 : 0x800));
                drv_issue(to_mem, len);
                dr.max_rw = (r >> 31) & 1 ? 1 + (size_t)((r >> 32) & 0xFFF) : 0;
            }
        } else if (op < 78) {                               /* the glue runs the engine */
            bool armed = bmdma_armed(&b);
            unsigned ends = dr.ends;
            unsigned long rejected = fram.rejects;
            bmdma_run(&b);
            runs++;
            if (fram.rejects != rejected) {                 /* a bus error, handled at once */
                CHECK_EQ(fram.rejects, rejected + 1);
                CHECK_EQ(b.status & (BMDMA_ST_ERROR | BMDMA_ST_ACTIVE), BMDMA_ST_ERROR);
                CHECK(dr.ends == ends + 1 && dr.last_error);
            }
            CHECK(!(bmdma_armed(&b) && dr.pending));
            if (armed && dr.ends != ends)
                served++;
            if (!armed)
                CHECK_EQ(dr.ends, ends);                    /* idempotent when not armed */
        } else if (op < 86) {                               /* the guest acks the drive */
            drv_ack();
            if ((r & 3) == 0)
                bmdma_drive_irq(&b, true), bmdma_drive_irq(&b, false);
        } else if (op < 94) {
            (void)bmdma_read(&b, (unsigned)(r & 15), 1u << ((r >> 4) % 3));
        } else if (op < 97) {                               /* drive reset: phase dropped */
            dr.pending = false;
        } else if (op < 98) {
            bmdma_reset(&b);
        } else {
            dr.stall = !dr.stall && (r & 7) == 0;
        }
        check_invariants();
        CHECK_EQ(fd.bad_len, 0);
        CHECK_EQ(dr.end_idle, 0);
        if (test_failed_checks > 20)
            break;
    }
    CHECK(guards_intact());
    CHECK(served > 1000);                                   /* the run did exercise transfers */
    CHECK(b.bus_errors > 0 && b.short_prd > 0 && b.transfers > 0 && b.aborts > 0);
    printf("  fuzz: %lu runs, %lu served, %llu transfers, %llu bytes, %llu prds, %llu bus "
           "errors, %llu short, %llu dir, %llu stalls, %llu aborts\n", runs, served,
           (unsigned long long)b.transfers, (unsigned long long)b.bytes,
           (unsigned long long)b.prd_entries, (unsigned long long)b.bus_errors,
           (unsigned long long)b.short_prd, (unsigned long long)b.dir_errors,
           (unsigned long long)b.drive_stalls, (unsigned long long)b.aborts);
}

/* Overlapping regions (and a region that overlaps the table itself): the engine moves them in
 * table order, each byte as the walk reaches it, as a bus master streaming the PRDs does: the
 * later region's data is what stays. A write gathers the same bytes twice. */
TEST(bmdma_overlapping_regions)
{
    setup();
    put_prd(0x2000, 0x30000, 0x1000, false);
    put_prd(0x2008, 0x30800, 0x1000, false);           /* overlaps the first's second half */
    put_prd(0x2010, 0x30800, 0x0200, true);            /* and again, inside both */
    uint32_t total = 0x1000 + 0x1000 + 0x200;
    linux_setup(0x2000, true);
    drv_issue(true, total);
    linux_start();
    CHECK_EQ(dr.ends, 1);
    CHECK(!dr.last_error);
    CHECK(!memcmp(ram + 0x30000, src, 0x800));                  /* first region, not overwritten */
    CHECK(!memcmp(ram + 0x30800, src + 0x2000, 0x200));         /* the last region's bytes */
    CHECK(!memcmp(ram + 0x30A00, src + 0x1000 + 0x200, 0xE00)); /* the second region's rest */
    CHECK_EQ(b.bytes, total);
    CHECK(guards_intact());

    /* A read whose data lands on the PRD table: the entries already fetched are not read
     * again, the next one is fetched as rewritten (here: to an EOT region in RAM). */
    setup();
    put_prd(0x2000, 0x2008, 0x0010, false);             /* overwrites the next two PRDs */
    put_prd(0x2008, 0x40000, 0x0200, true);
    linux_setup(0x2000, true);
    drv_issue(true, 0x0010 + 0x0200);
    linux_start();
    CHECK(guards_intact());
    CHECK_EQ(dr.ends, 1);                               /* ended one way or the other, bounded */
}
