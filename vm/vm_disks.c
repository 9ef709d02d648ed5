/* A VM's drives. A drive= boot module is the medium itself (its memory, for the VMM's
 * uptime: what a guest writes survives `vm stop` / `vm start`). At each start the drives go
 * onto the platform's IDE and virtio-blk functions. A request a device has ready completes
 * in one of two ways, per VM (diskio=):
 *   sync        inside the exit that started it, the drive's service time spent there with
 *               the vCPU stopped: the seed paper's original device model;
 *   concurrent  by the disk thread, a VMM thread that takes the request, waits out the
 *               service time blocked (the vCPU runs on), then moves the data and raises the
 *               interrupt: the seed paper's method.
 * The shell lists the drives (`drives`) and dumps their contents (`drive-dump`). */
#include "vm.h"
#include "lib.h"
#include "kernel/shell.h"
#include "kernel/console.h"
#include "sched/sched.h"
#include "mm/heap.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"

#define CD_SECTOR       2048u
#define NS_PER_S        1000000000ull
/* Requests one exit serves at most in the sync model: a full virtio ring, or one IDE command
 * per channel. The guest is stopped meanwhile, so nothing refills behind it. */
#define SYNC_MAX_JOBS   (VIRTIO_BLK_QUEUE_SIZE + PIIX_IDE_CHANNELS)
#define SYNC_MAX_MS     100

static struct thread *disk_thread;

static const struct disk_class *disk_class_of(const struct vm *vm)
{
    return vm->cfg.disktime == VM_DISKTIME_HDD2006 ? &disk_class_hdd2006 : NULL;
}

bool vm_drive_add(struct vm *vm, const struct vm_config *cfg, const void *data, uint64_t size,
                  size_t module, char *err, size_t errlen)
{
    struct vm_drive *d = &vm->drives[cfg->drive];
    uint64_t unit = cfg->cdrom ? CD_SECTOR : BLOCKDEV_SECTOR;
    if (cfg->drive == VM_DRIVE_NONE || cfg->drive >= VM_DRIVE_POSITIONS) {
        ksnprintf(err, errlen, "no drive position");
        return false;
    }
    if (d->present) {
        ksnprintf(err, errlen, "vm %s already has a drive %s (module %zu)", vm->cfg.name,
                  vm_drive_name(cfg->drive), d->module);
        return false;
    }
    if (!size) {
        ksnprintf(err, errlen, "the module is empty: a drive needs at least one %llu-byte sector",
                  (unsigned long long)unit);
        return false;
    }
    if (size % unit) {
        ksnprintf(err, errlen, "the module is %llu bytes, not a multiple of the %llu-byte %s sector",
                  (unsigned long long)size, (unsigned long long)unit, cfg->cdrom ? "CD" : "disk");
        return false;
    }
    uint64_t sectors = size / BLOCKDEV_SECTOR;
    uint8_t *written = kzalloc(sectors / 8 + 1);
    if (!written) {
        ksnprintf(err, errlen, "out of memory for the drive's write map");
        return false;
    }
    *d = (struct vm_drive){ .present = true, .cdrom = cfg->cdrom, .written = written, .module = module };
    d->bd = (struct blockdev){ .data = (uint8_t *)data, .sectors = sectors, .readonly = cfg->cdrom,
                               .written = written };
    ksnprintf(d->model, sizeof(d->model), "MONOVISOR %s", cfg->cdrom ? "DVD-ROM" : "HARDDISK");
    ksnprintf(d->serial, sizeof(d->serial), "MV%02d%s", vm->id, vm_drive_name(cfg->drive));
    return true;
}

bool vm_disks_attach(struct vm *vm, char *err, size_t errlen)
{
    struct pc_drive pd[PC_IDE_UNITS + PC_VIRTIO_BLKS];
    STATIC_ASSERT(PC_IDE_UNITS == VM_DRIVE_IDE_COUNT && PC_VIRTIO_BLKS == VM_DRIVE_VIRTIO_COUNT,
                  "the platform has a place for every drive position");
    for (unsigned i = 0; i < ARRAY_SIZE(pd); i++) {
        struct vm_drive *d = &vm->drives[VM_DRIVE_IDE_FIRST + i];
        pd[i] = (struct pc_drive){ d->present ? &d->bd : NULL, d->cdrom, d->model, d->serial };
        if (d->present)
            disk_timing_init(&d->timing, disk_class_of(vm), d->bd.sectors);
    }
    vm->disk.kicked = vm->disk.inflight = false;
    return pc_disks_attach(&vm->plat, pd, err, errlen);
}

static struct vm_drive *drive_of(struct vm *vm, const struct blockdev *bd)
{
    for (unsigned i = VM_DRIVE_HDA; i < VM_DRIVE_POSITIONS; i++)
        if (vm->drives[i].present && &vm->drives[i].bd == bd)
            return &vm->drives[i];
    return NULL;
}

/* The drive's service time for a job, in host TSC cycles; the heads move. */
static uint64_t service_tsc(struct vm *vm, const struct pc_disk_job *j)
{
    struct vm_drive *d = drive_of(vm, j->bd);
    if (!d || !j->sectors)
        return 0;
    /* One serving step moves at most a bus-master run (ATAPI commands may ask for more). */
    uint64_t ns = disk_service_ns(&d->timing, j->lba, MIN(j->sectors, BMDMA_MAX_RUN / BLOCKDEV_SECTOR));
    uint64_t t = ns / NS_PER_S * tsc_hz + ns % NS_PER_S * tsc_hz / NS_PER_S;
    vm->disk.service_tsc += t;
    return t;
}

static void wake_disk_thread(struct vm *vm);

/* The seed's original model: the vCPU waits in the exit while the drive works. One exit
 * spends at most SYNC_MAX_MS of service time (a deep virtio queue of slow requests would
 * otherwise hold the CPU for seconds, and the shell must answer within one); what is left
 * goes to the disk thread. */
static void serve_in_exit(struct vm *vm)
{
    struct pc_disk_job j;
    uint64_t start = rdtsc(), budget = tsc_hz / 1000 * SYNC_MAX_MS;
    for (unsigned n = 0; n < SYNC_MAX_JOBS; n++) {
        if (rdtsc() - start > budget) {
            wake_disk_thread(vm);
            return;
        }
        if (!pc_disk_next(&vm->plat, &j))
            return;
        uint64_t now = rdtsc(), until = now + service_tsc(vm, &j);
        if (until - start > budget) {
            /* Longer than this exit may take: the thread completes it when it is due. */
            vm->disk.job = j;
            vm->disk.ready_tsc = until;
            vm->disk.inflight = true;
            wake_disk_thread(vm);
            return;
        }
        while (rdtsc() < until)
            pause();
        pc_disk_do(&vm->plat, &j);
        vm->disk.sync_served++;
    }
    wake_disk_thread(vm);               /* still more after a full ring: let the thread finish */
}

static bool any_kicked(void *unused)
{
    for (size_t i = 0; i < nvms; i++)
        if (vms[i]->state == VM_RUNNING && vms[i]->disk.kicked && !vms[i]->disk.inflight)
            return true;                /* new work the thread can take now */
    return false;
}

/* One thread serves every VM's disks: each VM has at most one request in service at a time
 * (one disk arm), waiting out its service time blocked, so the vCPUs run meanwhile. */
static void disk_thread_main(void *unused)
{
    for (;;) {
        uint64_t now = rdtsc(), next = UINT64_MAX;
        for (size_t i = 0; i < nvms; i++) {
            struct vm *vm = vms[i];
            struct vm_disk_state *d = &vm->disk;
            if (vm->state != VM_RUNNING) {
                d->kicked = d->inflight = false;
                vm->plat.io_busy = 0;
                continue;
            }
            if (d->inflight && now >= d->ready_tsc) {
                pc_disk_do(&vm->plat, &d->job);
                d->inflight = false;
                d->kicked = true;       /* the device may have more */
                d->served++;
            }
            if (!d->inflight && d->kicked) {
                d->kicked = false;
                if (pc_disk_next(&vm->plat, &d->job)) {
                    d->inflight = true;
                    d->ready_tsc = now + service_tsc(vm, &d->job);
                }
            }
            if (d->inflight)
                next = MIN(next, d->ready_tsc);
            if (d->kicked && !d->inflight)
                next = now;             /* (while one is in service, more waits for it) */
            unsigned busy = d->inflight || d->kicked;
            /* Nothing in service any more: a vCPU halted on that (an interrupt the guest
             * suppressed) must look again whether anything can wake it. */
            if (vm->plat.io_busy && !busy && vm->thread)
                sched_wake(vm->thread, now);
            vm->plat.io_busy = busy;
        }
        if (next <= now)
            sched_yield();              /* more to do at once: let the vCPUs run first */
        else
            sched_block(next, any_kicked, NULL);
    }
}

static void wake_disk_thread(struct vm *vm)
{
    if (!disk_thread)
        disk_thread = thread_create("disk", THREAD_VMM, disk_thread_main, NULL);
    vm->disk.kicked = true;
    vm->plat.io_busy = 1;
    if (disk_thread)
        sched_wake(disk_thread, rdtsc());
}

void vm_disk_kick(void *ctx)
{
    struct vm *vm = ctx;
    /* Sync, unless the thread already has this VM's work (one disk arm; the exit must not
     * complete what the thread is serving). Also when there is no memory for the thread. */
    bool thread_has_it = vm->disk.inflight || vm->disk.kicked;
    if ((vm->cfg.diskio == VM_DISKIO_SYNC && !thread_has_it) ||
        (!disk_thread && !(disk_thread = thread_create("disk", THREAD_VMM, disk_thread_main, NULL))))
        serve_in_exit(vm);
    else
        wake_disk_thread(vm);
}

/* ---- shell ---- */

static int cmd_drives(int argc, char **argv)
{
    kprintf("%-12s %-5s %-6s %10s %10s %10s %12s %12s %7s\n", "vm", "drive", "media", "MiB", "reads",
            "writes", "bytes read", "bytes writ.", "errors");
    for (size_t i = 0; i < nvms; i++) {
        struct vm *vm = vms[i];
        if (argc == 2 && strcmp(argv[1], vm->cfg.name))
            continue;
        for (unsigned p = VM_DRIVE_HDA; p < VM_DRIVE_POSITIONS; p++) {
            const struct vm_drive *d = &vm->drives[p];
            if (!d->present)
                continue;
            kprintf("%-12s %-5s %-6s %10llu %10llu %10llu %12llu %12llu %7llu\n", vm->cfg.name,
                    vm_drive_name((enum vm_drive_pos)p), d->cdrom ? "cdrom" : "disk",
                    (unsigned long long)(d->bd.sectors * BLOCKDEV_SECTOR >> 20), (unsigned long long)d->bd.reads,
                    (unsigned long long)d->bd.writes, (unsigned long long)d->bd.bytes_read,
                    (unsigned long long)d->bd.bytes_written, (unsigned long long)d->bd.errors);
        }
        for (unsigned c = 0; c < PIIX_IDE_CHANNELS; c++) {
            const struct ide_bmdma *b = &vm->plat.ide.ch[c].bm;
            if (vm->drives[VM_DRIVE_IDE_FIRST + 2 * c].present || vm->drives[VM_DRIVE_IDE_FIRST + 2 * c + 1].present)
                kprintf("%-12s ide%u: %llu DMA transfers, %llu bytes, %llu PRDs, %llu bus errors, %llu short PRD "
                        "tables\n", vm->cfg.name, c, (unsigned long long)b->transfers, (unsigned long long)b->bytes,
                        (unsigned long long)b->prd_entries, (unsigned long long)b->bus_errors,
                        (unsigned long long)b->short_prd);
        }
        const struct vm_disk_state *s = &vm->disk;
        kprintf("%-12s diskio=%s disktime=%s: %llu requests by the disk thread, %llu inside exits, "
                "service time %llu ms\n", vm->cfg.name, vm_diskio_name(vm->cfg.diskio),
                vm_disktime_name(vm->cfg.disktime), (unsigned long long)s->served,
                (unsigned long long)s->sync_served,
                (unsigned long long)(tsc_hz ? s->service_tsc * 1000 / tsc_hz : 0));
    }
    return 0;
}
SHELL_COMMAND(drives, "drives", "[NAME]", "each VM's drives: size, reads, writes, bytes, errors", cmd_drives);

static bool zero_sector(const uint8_t *s)
{
    for (unsigned i = 0; i < BLOCKDEV_SECTOR; i++)
        if (s[i])
            return false;
    return true;
}

static bool sector_written(const struct vm_drive *d, uint64_t lba)
{
    return d->written[lba / 8] & (1u << (lba % 8));
}

/* The drive as CRC-framed lines (the trace dump's framing; scripts/mvdisk reads them back):
 *   MVDISK BEGIN vm=NAME drive=DRIVE sectors=N mode=all|written
 *   MVS LBA BASE64 CRC32        one 512-byte sector
 *   MVZ LBA COUNT               COUNT zero sectors (mode all)
 *   MVDISK END lines=L sectors=S crc=CRC32-of-every-dumped-sector
 * Mode written: only the sectors the guest has written since the VMM booted. */
static int cmd_drive_dump(int argc, char **argv)
{
    struct vm *vm = argc >= 3 ? vm_find(argv[1]) : NULL;
    bool written_only = argc == 4 && !strcmp(argv[3], "written");
    if (!vm || (argc == 4 && !written_only) || argc > 4) {
        kprintf("usage: drive-dump NAME DRIVE [written]\n");
        return -1;
    }
    const struct vm_drive *d = NULL;
    unsigned pos;
    for (pos = VM_DRIVE_HDA; pos < VM_DRIVE_POSITIONS; pos++)
        if (!strcmp(argv[2], vm_drive_name((enum vm_drive_pos)pos)) && vm->drives[pos].present)
            d = &vm->drives[pos];
    if (!d) {
        kprintf("error: vm %s has no drive %s\n", vm->cfg.name, argv[2]);
        return -1;
    }
    char b64[BLOCKDEV_SECTOR * 4 / 3 + 8];
    unsigned lines = 0;
    uint64_t dumped = 0;
    uint32_t all_crc = 0;
    kprintf("MVDISK BEGIN vm=%s drive=%s sectors=%llu mode=%s\n", vm->cfg.name, argv[2],
            (unsigned long long)d->bd.sectors, written_only ? "written" : "all");
    for (uint64_t lba = 0; lba < d->bd.sectors;) {
        const uint8_t *s = d->bd.data + lba * BLOCKDEV_SECTOR;
        if (written_only && !sector_written(d, lba)) {
            lba++;
            continue;
        }
        if (!written_only && zero_sector(s)) {
            uint64_t n = 1;
            while (lba + n < d->bd.sectors && zero_sector(s + n * BLOCKDEV_SECTOR))
                n++;
            kprintf("MVZ %llu %llu\n", (unsigned long long)lba, (unsigned long long)n);
            lines++;
            lba += n;
            continue;
        }
        base64_encode(s, BLOCKDEV_SECTOR, b64, sizeof(b64));
        kprintf("MVS %llu %s %08x\n", (unsigned long long)lba, b64, crc32_update(0, s, BLOCKDEV_SECTOR));
        all_crc = crc32_update(all_crc, s, BLOCKDEV_SECTOR);
        lines++;
        dumped++;
        lba++;
    }
    kprintf("MVDISK END lines=%u sectors=%llu crc=%08x\n", lines, (unsigned long long)dumped, all_crc);
    return 0;
}
SHELL_COMMAND(drive_dump, "drive-dump", "NAME DRIVE [written]",
              "a drive's contents (or the sectors the guest wrote) as CRC-framed lines", cmd_drive_dump);
