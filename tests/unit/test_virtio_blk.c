/* Legacy virtio-blk: BAR0 register layout and access widths, the Linux virtio_pci_legacy
 * probe, the block config, IN/OUT/FLUSH/GET_ID against a blockdev with known contents, error
 * statuses, read-only media, the ISR and INTx line, reset, the notify hook, malformed chains
 * and rings, the per-call bound, and a seeded 1M-op garbage run. Guest RAM is a 1 MiB array
 * behind a fake dma_ops that refuses anything outside it. */
#include "test.h"
#include "dev/dma.h"
#include "dev/blockdev.h"
#include "dev/virtqueue.h"
#include "dev/virtio_blk.h"
#include "fake_ram.h"

#define RAM_SIZE     (1u << 20)
#define RAM_PAGES    (RAM_SIZE >> 12)
#define DISK_SECTORS 256u
#define RING_PFN     0x10u              /* 0x10000: three pages for Q = 256 */
#define HDR_ADDR     0x20000u           /* hand-built chains; submit() uses one slot per head */
#define STATUS_ADDR  0x20100u
#define HDR_SLOTS    0x22000u           /* 256 x 16 bytes */
#define STATUS_SLOTS 0x23000u           /* 256 x 1 byte */
#define DATA_ADDR    0x40000u

static uint8_t ram[RAM_SIZE];
static uint8_t disk[DISK_SECTORS * BLOCKDEV_SECTOR], disk_copy[sizeof(disk)];

struct fake {
    struct fake_irq irq;
    unsigned notifies;
    bool process_in_notify;
    bool refill;                        /* the "driver" keeps adding: avail idx runs ahead */
    uint64_t refill_at;
};
static struct fake f;

static bool refill_check(struct fake_ram *r, bool write, uint64_t gpa, size_t len)
{
    if (!write && f.refill && gpa == f.refill_at && len == 2)
        w16(gpa, (uint16_t)(r16(gpa) + 1));         /* one more request every time it looks */
    return true;
}

static struct fake_ram fram = { .bytes = ram, .size = RAM_SIZE, .check = refill_check };
static const struct dma_ops dma = FAKE_RAM_DMA(&fram);

static void fake_irq(void *ctx, bool level) { fake_irq_set(&((struct fake *)ctx)->irq, level); }

static struct virtio_blk v;

static void fake_notify(void *ctx, struct virtio_blk *vb)
{
    struct fake *p = ctx;
    CHECK(vb == &v);
    p->notifies++;
    if (p->process_in_notify)
        virtio_blk_process(vb);
}

/* ---- the driver side, as drivers/virtio/virtio_ring.c (split, no indirect) does it ---- */
struct drv {
    uint64_t base;
    uint16_t q;
    uint16_t free_head, num_free;
    uint16_t avail_idx, last_used;
};
struct tseg { uint64_t addr; uint32_t len; };

static struct drv d;
static struct blockdev bd;

static uint64_t d_desc(unsigned i) { return d.base + 16ull * i; }
static uint64_t d_avail(void) { return d.base + 16ull * d.q; }
static uint64_t d_used(void) { return d.base + ((16ull * d.q + 6 + 2ull * d.q + 4095) & ~4095ull); }

static void desc_set(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    w64(d_desc(i), addr);
    w32(d_desc(i) + 8, len);
    w16(d_desc(i) + 12, flags);
    w16(d_desc(i) + 14, next);
}

static void drv_init(uint32_t pfn, uint16_t q)
{
    d.base = (uint64_t)pfn << 12;
    d.q = q;
    memset(ram + d.base, 0, vq_ring_bytes(q));      /* vring_init on zeroed pages */
    for (unsigned i = 0; i < q; i++)
        w16(d_desc(i) + 14, (uint16_t)(i + 1));
    d.free_head = 0;
    d.num_free = q;
    d.avail_idx = d.last_used = 0;
}

static void drv_publish(uint16_t head)
{
    w16(d_avail() + 4 + 2ull * (d.avail_idx & (d.q - 1)), head);
    d.avail_idx++;
    w16(d_avail() + 2, d.avail_idx);
}

static int drv_add(const struct tseg *out, unsigned nout, const struct tseg *in, unsigned nin)
{
    unsigned total = nout + nin;
    if (!total || total > d.num_free)
        return -1;
    uint16_t head = d.free_head, i = head, prev = 0;
    for (unsigned k = 0; k < total; k++) {
        const struct tseg *s = k < nout ? &out[k] : &in[k - nout];
        uint16_t next = r16(d_desc(i) + 14);
        desc_set(i, s->addr, s->len, (uint16_t)(VRING_DESC_F_NEXT | (k >= nout ? VRING_DESC_F_WRITE : 0)), next);
        prev = i;
        i = next;
    }
    w16(d_desc(prev) + 12, (uint16_t)(r16(d_desc(prev) + 12) & ~VRING_DESC_F_NEXT));
    d.free_head = i;
    d.num_free = (uint16_t)(d.num_free - total);
    drv_publish(head);
    return head;
}

static int drv_get_used(uint32_t *len)
{
    if (r16(d_used() + 2) == d.last_used)
        return -1;
    uint64_t e = d_used() + 4 + 8ull * (d.last_used & (d.q - 1));
    uint16_t id = (uint16_t)r32(e);
    if (len)
        *len = r32(e + 4);
    d.last_used++;
    uint16_t i = id;
    unsigned n = 1;
    while ((r16(d_desc(i) + 12) & VRING_DESC_F_NEXT) && n <= d.q) {
        i = r16(d_desc(i) + 14);
        n++;
    }
    w16(d_desc(i) + 14, d.free_head);
    d.free_head = id;
    d.num_free = (uint16_t)(d.num_free + n);
    return id;
}

/* ---- device helpers ---- */
static uint32_t rd(unsigned off, unsigned size) { return virtio_blk_read(&v, off, size); }
static void wr(unsigned off, unsigned size, uint32_t val) { virtio_blk_write(&v, off, size, val); }

static uint8_t disk_pattern(size_t i) { return (uint8_t)(i * 131 + (i >> 9) * 7 + 3); }

static void setup_blk(bool ro, const char *serial, bool hook)
{
    memset(ram, 0, sizeof(ram));
    memset(&f, 0, sizeof(f));
    fake_ram_reset(&fram);
    for (size_t i = 0; i < sizeof(disk); i++)
        disk[i] = disk_pattern(i);
    memset(&bd, 0, sizeof(bd));
    bd.data = disk;
    bd.sectors = DISK_SECTORS;
    bd.readonly = ro;
    memset(&v, 0xA5, sizeof(v));        /* init must not rely on a zeroed struct */
    virtio_blk_init(&v, &bd, serial, &dma, fake_irq, &f, hook ? fake_notify : NULL, &f);
}

/* virtio_pci_legacy + virtio core, Linux 6.1: register_virtio_device, virtio_dev_probe,
 * vp_finalize_features, virtblk_probe -> init_vq -> vp_find_vqs_intx -> setup_vq,
 * virtio_device_ready. */
static void linux_probe(uint32_t pfn)
{
    wr(VIRTIO_PCI_STATUS, 1, 0);                            /* vp_reset */
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 1), 0);                  /* ... and its flushing read */
    uint8_t s = (uint8_t)rd(VIRTIO_PCI_STATUS, 1);
    wr(VIRTIO_PCI_STATUS, 1, s | VIRTIO_CONFIG_S_ACKNOWLEDGE);
    s = (uint8_t)rd(VIRTIO_PCI_STATUS, 1);
    wr(VIRTIO_PCI_STATUS, 1, s | VIRTIO_CONFIG_S_DRIVER);
    uint32_t feat = rd(VIRTIO_PCI_HOST_FEATURES, 4);
    CHECK(!(feat & BIT(VIRTIO_RING_F_INDIRECT_DESC)));
    CHECK(!(feat & BIT(VIRTIO_RING_F_EVENT_IDX)));
    CHECK(!(feat & BIT(VIRTIO_BLK_F_MQ)));                  /* one queue */
    /* Linux keeps what it knows plus transport bits; mimic asking for more than offered. */
    wr(VIRTIO_PCI_GUEST_FEATURES, 4, feat | (uint32_t)BIT(VIRTIO_RING_F_EVENT_IDX));
    CHECK_EQ(rd(VIRTIO_PCI_GUEST_FEATURES, 4), feat);       /* unoffered bits dropped */
    /* virtblk_probe reads seg_max, blk_size... byte by byte (vp_get). */
    uint8_t cfg[4];
    for (unsigned i = 0; i < 4; i++)
        cfg[i] = (uint8_t)rd(VIRTIO_PCI_CONFIG_OFF + VIRTIO_BLK_CFG_SEG_MAX + i, 1);
    CHECK_EQ(cfg[0] | cfg[1] << 8 | cfg[2] << 16 | (uint32_t)cfg[3] << 24, VIRTIO_BLK_SEG_MAX);
    /* setup_vq(0) */
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0);
    uint16_t num = (uint16_t)rd(VIRTIO_PCI_QUEUE_NUM, 2);
    CHECK_EQ(num, VIRTIO_BLK_QUEUE_SIZE);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);               /* "already active": -ENOENT */
    drv_init(pfn, num);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0);
    wr(VIRTIO_PCI_QUEUE_PFN, 4, pfn);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), pfn);
    s = (uint8_t)rd(VIRTIO_PCI_STATUS, 1);
    wr(VIRTIO_PCI_STATUS, 1, s | VIRTIO_CONFIG_S_DRIVER_OK);
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 1), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                                       VIRTIO_CONFIG_S_DRIVER_OK);
}

static void setup_probed(bool ro)
{
    setup_blk(ro, "MV-SERIAL-0001", false);
    linux_probe(RING_PFN);
}

static uint8_t status_of(int head) { return ram[STATUS_SLOTS + (head & 255)]; }

/* virtblk_add_req: header out, data out or in, status in (per-request, like Linux's
 * virtblk_req); then a kick. */
static int submit(uint32_t type, uint64_t sector, const struct tseg *data, unsigned ndata, bool in)
{
    struct tseg out[VQ_MAX_SEGS + 4], inn[VQ_MAX_SEGS + 4];
    unsigned nout = 0, nin = 0;
    uint64_t hdr = HDR_SLOTS + 16ull * d.free_head, st = STATUS_SLOTS + d.free_head;
    w32(hdr, type);
    w32(hdr + 4, 0);
    w64(hdr + 8, sector);
    ram[st] = 0xEE;
    out[nout++] = (struct tseg){ hdr, VIRTIO_BLK_HDR_SIZE };
    for (unsigned i = 0; i < ndata; i++) {
        if (in)
            inn[nin++] = data[i];
        else
            out[nout++] = data[i];
    }
    inn[nin++] = (struct tseg){ st, 1 };
    int head = drv_add(out, nout, inn, nin);
    CHECK(head >= 0);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);                      /* vp_notify */
    return head;
}

/* Submit, and take the completion; returns the status byte. */
static uint8_t request(uint32_t type, uint64_t sector, const struct tseg *data, unsigned ndata, bool in, uint32_t *len)
{
    int head = submit(type, sector, data, ndata, in);
    uint32_t l = 0xDEAD;
    CHECK_EQ(drv_get_used(&l), head);
    if (len)
        *len = l;
    return status_of(head);
}

static bool disk_is(size_t off, const uint8_t *p, size_t n) { return !memcmp(disk + off, p, n); }

TEST(vblk_pci_identity)
{
    CHECK_EQ(VIRTIO_PCI_VENDOR, 0x1AF4);
    CHECK_EQ(VIRTIO_BLK_PCI_DEVICE, 0x1001);
    CHECK_EQ(VIRTIO_PCI_LEGACY_REVISION, 0);
    CHECK_EQ(VIRTIO_PCI_SUBSYS_VENDOR, 0x1AF4);
    CHECK_EQ(VIRTIO_ID_BLOCK, 2);
    CHECK_EQ(VIRTIO_BLK_PCI_CLASS_REV, 0x01000000);
    CHECK_EQ(VIRTIO_BLK_PCI_INT_PIN, 1);
    CHECK_EQ(VIRTIO_BLK_IO_BAR_SIZE & (VIRTIO_BLK_IO_BAR_SIZE - 1), 0);    /* PCI: power of two */
    CHECK(VIRTIO_BLK_IO_BAR_SIZE >= VIRTIO_PCI_CONFIG_OFF + VIRTIO_BLK_CFG_SIZE);
}

TEST(vblk_register_layout)
{
    setup_blk(false, NULL, false);
    uint32_t feat = rd(VIRTIO_PCI_HOST_FEATURES, 4);
    CHECK_EQ(feat, BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_GEOMETRY) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
                   BIT(VIRTIO_BLK_F_FLUSH));
    CHECK_EQ(feat, 0x254);
    CHECK_EQ(rd(0, 2), feat & 0xFFFF);
    CHECK_EQ(rd(1, 1), (feat >> 8) & 0xFF);
    CHECK_EQ(rd(2, 2), feat >> 16);
    CHECK_EQ(rd(VIRTIO_PCI_GUEST_FEATURES, 4), 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NUM, 2), 256);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_SEL, 2), 0);
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 1), 0);
    CHECK_EQ(rd(VIRTIO_PCI_ISR, 1), 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NOTIFY, 2), 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NUM, 4), 256);                 /* 0x0C dword: num | sel << 16 */

    wr(VIRTIO_PCI_HOST_FEATURES, 4, 0xFFFFFFFF);                /* read-only */
    CHECK_EQ(rd(VIRTIO_PCI_HOST_FEATURES, 4), feat);
    wr(VIRTIO_PCI_QUEUE_NUM, 2, 16);                            /* read-only */
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NUM, 2), 256);
    wr(VIRTIO_PCI_ISR, 1, 0xFF);                                /* read-only */
    CHECK_EQ(rd(VIRTIO_PCI_ISR, 1), 0);
    CHECK_EQ(v.vp.bad_accesses, 3);

    wr(VIRTIO_PCI_QUEUE_SEL, 2, 1);                             /* only queue 0 exists */
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_SEL, 2), 1);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NUM, 2), 0);
    wr(VIRTIO_PCI_QUEUE_PFN, 4, 0x55);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
    CHECK_EQ(v.vq.pfn, 0);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0xFFFF);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NUM, 2), 0);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0);
    wr(VIRTIO_PCI_QUEUE_PFN, 4, 0x1234);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0x1234);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN + 1, 2), 0x12);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 1), 0x34);

    /* Wrong widths are dropped. */
    uint64_t bad = v.vp.bad_accesses;
    wr(VIRTIO_PCI_QUEUE_PFN, 2, 0x1);
    wr(VIRTIO_PCI_QUEUE_PFN, 1, 0x1);
    wr(VIRTIO_PCI_GUEST_FEATURES, 2, 0x4);
    wr(VIRTIO_PCI_QUEUE_SEL, 4, 1);
    wr(VIRTIO_PCI_STATUS, 2, 1);
    wr(VIRTIO_PCI_QUEUE_PFN + 1, 4, 1);
    CHECK_EQ(v.vp.bad_accesses, bad + 6);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0x1234);
    CHECK_EQ(rd(VIRTIO_PCI_GUEST_FEATURES, 4), 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_SEL, 2), 0);
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 1), 0);

    wr(VIRTIO_PCI_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 1), 1);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NOTIFY, 4), 1u << 16);         /* 0x10: notify 0, status, ISR */
    /* Past the BAR: all-ones; a read straddling the end mixes. */
    CHECK_EQ(rd(VIRTIO_BLK_IO_BAR_SIZE, 4), 0xFFFFFFFF);
    CHECK_EQ(rd(VIRTIO_BLK_IO_BAR_SIZE - 2, 4), 0xFFFF0000);
    CHECK_EQ(rd(0, 3), 0xFFFFFFFF);                             /* not a real width */
    CHECK_EQ(f.irq.rises + f.irq.falls, 0);
}

TEST(vblk_config)
{
    setup_blk(false, NULL, false);
    unsigned c = VIRTIO_PCI_CONFIG_OFF;
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_CAPACITY, 4), DISK_SECTORS);
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_CAPACITY + 4, 4), 0);
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_SIZE_MAX, 4), 0);
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_SEG_MAX, 4), 128);
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_CYLINDERS, 2), DISK_SECTORS / (16 * 63));
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_HEADS, 1), 16);
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_SECTORS, 1), 63);
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_BLK_SIZE + 1, 2), 2);        /* unaligned: bytes 0x02, 0x00 */
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_SIZE, 4), 0);                /* topology etc.: not offered */
    CHECK_EQ(rd(VIRTIO_BLK_IO_BAR_SIZE - 4, 4), 0);

    /* A big disk: the u64 capacity and the clamped cylinder count; byte reads as vp_get. */
    bd.sectors = 0x123456789ull;
    uint64_t cap = 0;
    for (unsigned i = 0; i < 8; i++)
        cap |= (uint64_t)rd(c + i, 1) << (8 * i);
    CHECK_EQ(cap, 0x123456789ull);
    CHECK_EQ(rd(c + 4, 4), 1);
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_CYLINDERS, 2), 65535);
    bd.sectors = DISK_SECTORS;

    uint64_t bad = v.vp.bad_accesses;
    wr(c, 4, 0xFFFFFFFF);                                       /* config is read-only */
    wr(c + VIRTIO_BLK_CFG_BLK_SIZE, 1, 0);
    CHECK_EQ(v.vp.bad_accesses, bad + 2);
    CHECK_EQ(rd(c, 4), DISK_SECTORS);
    CHECK_EQ(rd(c + VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
}

TEST(vblk_linux_probe_and_remove)
{
    setup_blk(false, NULL, false);
    linux_probe(RING_PFN);
    CHECK_EQ(v.vq.pfn, RING_PFN);
    CHECK(vq_ready(&v.vq));
    CHECK_EQ(v.vp.guest_features, v.vp.host_features);
    /* virtblk_remove -> del_vq: PFN 0, then reset. */
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0);
    wr(VIRTIO_PCI_QUEUE_PFN, 4, 0);
    CHECK(!vq_ready(&v.vq));
    wr(VIRTIO_PCI_STATUS, 1, 0);
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 1), 0);
    /* And again, as a kexec'd kernel or a driver rebind would. */
    linux_probe(RING_PFN + 8);
    CHECK_EQ(v.vq.pfn, RING_PFN + 8);
    CHECK_EQ(fram.rejects, 0);
    CHECK_EQ(v.vp.bad_accesses, 0);
}

TEST(vblk_read)
{
    setup_probed(false);
    struct tseg data = { DATA_ADDR, 8 * 512 };
    memset(ram + DATA_ADDR, 0xCC, 8 * 512 + 16);
    uint32_t len;
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 10, &data, 1, true, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(len, 8 * 512 + 1);                 /* data + status */
    CHECK(!memcmp(ram + DATA_ADDR, disk + 10 * 512, 8 * 512));
    CHECK_EQ(ram[DATA_ADDR + 8 * 512], 0xCC);   /* not a byte more */
    CHECK_EQ(v.reads, 1);
    CHECK_EQ(bd.reads, 1);
    CHECK_EQ(bd.bytes_read, 4096);
    CHECK_EQ(v.requests, 1);
    /* The interrupt: ISR bit 0, INTx high until the ISR is read (vp_interrupt). */
    CHECK(f.irq.level);
    CHECK_EQ(f.irq.rises, 1);
    CHECK_EQ(rd(VIRTIO_PCI_ISR, 1), VIRTIO_PCI_ISR_QUEUE);
    CHECK(!f.irq.level);
    CHECK_EQ(rd(VIRTIO_PCI_ISR, 1), 0);
    CHECK_EQ(f.irq.falls, 1);
    /* The last sector, and a zero-length read. */
    data.len = 512;
    CHECK_EQ(request(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, &data, 1, true, &len), VIRTIO_BLK_S_OK);
    CHECK(!memcmp(ram + DATA_ADDR, disk + (DISK_SECTORS - 1) * 512, 512));
    CHECK_EQ(request(VIRTIO_BLK_T_IN, DISK_SECTORS, NULL, 0, true, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(len, 1);
    /* A dword read covering the ISR clears it too. */
    CHECK(f.irq.level);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_NOTIFY, 4) >> 24, VIRTIO_PCI_ISR_QUEUE);
    CHECK(!f.irq.level);
    CHECK_EQ(fram.rejects, 0);
    CHECK_EQ(d.num_free, 256);
}

TEST(vblk_write)
{
    setup_probed(false);
    for (unsigned i = 0; i < 3 * 512; i++)
        ram[DATA_ADDR + i] = (uint8_t)(i ^ 0x5A);
    memcpy(disk_copy, disk, sizeof(disk));
    struct tseg data = { DATA_ADDR, 3 * 512 };
    uint32_t len;
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 100, &data, 1, false, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(len, 1);                           /* only the status is written into the chain */
    CHECK(disk_is(100 * 512, ram + DATA_ADDR, 3 * 512));
    CHECK(!memcmp(disk, disk_copy, 100 * 512));
    CHECK(!memcmp(disk + 103 * 512, disk_copy + 103 * 512, sizeof(disk) - 103 * 512));
    CHECK_EQ(v.writes, 1);
    CHECK_EQ(bd.writes, 1);
    CHECK_EQ(bd.bytes_written, 3 * 512);
    /* Read it back through the device. */
    memset(ram + DATA_ADDR + 0x10000, 0, 3 * 512);
    struct tseg back = { DATA_ADDR + 0x10000, 3 * 512 };
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 100, &back, 1, true, &len), VIRTIO_BLK_S_OK);
    CHECK(!memcmp(ram + DATA_ADDR + 0x10000, ram + DATA_ADDR, 3 * 512));
    CHECK_EQ(fram.rejects, 0);
}

TEST(vblk_multi_segment)
{
    setup_probed(false);
    /* Scattered pages of odd sizes and alignments; the sum is whole sectors. */
    struct tseg segs[5] = {
        { DATA_ADDR + 0x0000, 512 }, { DATA_ADDR + 0x1003, 100 }, { DATA_ADDR + 0x2000, 412 + 1024 },
        { DATA_ADDR + 0x3FFF, 0 }, { DATA_ADDR + 0x5001, 2048 },
    };
    uint32_t total = 512 + 100 + 1436 + 2048, len;
    CHECK_EQ(total % 512, 0);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 20, segs, 5, true, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(len, total + 1);
    size_t off = 20 * 512;
    for (unsigned i = 0; i < 5; i++) {
        CHECK(!memcmp(ram + segs[i].addr, disk + off, segs[i].len));
        off += segs[i].len;
    }
    /* Write them somewhere else and compare. */
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 200, segs, 5, false, &len), VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < total; i++)
        if (disk[200 * 512 + i] != disk_pattern(20 * 512 + i)) {
            CHECK(!"mismatch");
            break;
        }

    /* 64 KiB in 16 pages: many trips through the 4 KiB bounce buffer. */
    struct tseg pages[16];
    for (unsigned i = 0; i < 16; i++)
        pages[i] = (struct tseg){ DATA_ADDR + 0x20000 + 0x1000 * (15 - i), 4096 };
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 64, pages, 16, true, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(len, 65536 + 1);
    for (unsigned i = 0; i < 16; i++)
        CHECK(!memcmp(ram + pages[i].addr, disk + (64 + 8 * i) * 512, 4096));
    /* One 16 KiB segment whose chunks do not line up with the descriptors. */
    struct tseg two[2] = { { DATA_ADDR + 0x40000, 1536 }, { DATA_ADDR + 0x50000, 16384 - 1536 } };
    memset(ram + DATA_ADDR + 0x40000, 0x77, 1536);
    memset(ram + DATA_ADDR + 0x50000, 0x88, 16384 - 1536);
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 0, two, 2, false, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(disk[1535], 0x77);
    CHECK_EQ(disk[1536], 0x88);
    CHECK_EQ(disk[16383], 0x88);
    CHECK_EQ(disk[16384], disk_pattern(16384));
    /* The largest request Linux builds: seg_max data descriptors. */
    struct tseg many[VIRTIO_BLK_SEG_MAX];
    for (unsigned i = 0; i < VIRTIO_BLK_SEG_MAX; i++)
        many[i] = (struct tseg){ DATA_ADDR + 0x60000 + 512 * i, 512 };
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, many, VIRTIO_BLK_SEG_MAX, true, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(len, VIRTIO_BLK_SEG_MAX * 512 + 1);
    CHECK(!memcmp(ram + DATA_ADDR + 0x60000, disk, VIRTIO_BLK_SEG_MAX * 512));
    CHECK_EQ(fram.rejects, 0);
    CHECK_EQ(v.errors + v.bad_requests, 0);
}

TEST(vblk_flush_and_get_id)
{
    setup_probed(false);
    uint32_t len;
    CHECK_EQ(request(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(len, 1);
    CHECK_EQ(v.flushes, 1);
    /* virtblk_get_id: a 20-byte in buffer. */
    struct tseg id = { DATA_ADDR, VIRTIO_BLK_ID_BYTES };
    memset(ram + DATA_ADDR, 0xCC, 32);
    CHECK_EQ(request(VIRTIO_BLK_T_GET_ID, 0, &id, 1, true, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(len, VIRTIO_BLK_ID_BYTES + 1);
    CHECK(!memcmp(ram + DATA_ADDR, "MV-SERIAL-0001\0\0\0\0\0\0", 20));
    CHECK_EQ(ram[DATA_ADDR + 20], 0xCC);
    /* A short buffer gets what fits. */
    id.len = 4;
    CHECK_EQ(request(VIRTIO_BLK_T_GET_ID, 0, &id, 1, true, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(len, 5);
    CHECK_EQ(v.get_ids, 2);
    /* A 25-character serial is cut to 20, with no terminator. */
    setup_blk(false, "ABCDEFGHIJKLMNOPQRSTUVWXY", false);
    linux_probe(RING_PFN);
    id.len = 32;
    memset(ram + DATA_ADDR, 0xCC, 32);
    CHECK_EQ(request(VIRTIO_BLK_T_GET_ID, 0, &id, 1, true, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(len, 21);
    CHECK(!memcmp(ram + DATA_ADDR, "ABCDEFGHIJKLMNOPQRST", 20));
    CHECK_EQ(ram[DATA_ADDR + 20], 0xCC);
    CHECK_STR(v.serial, "ABCDEFGHIJKLMNOPQRST");
    /* No serial: 20 NULs. */
    setup_blk(false, NULL, false);
    linux_probe(RING_PFN);
    id.len = 20;
    CHECK_EQ(request(VIRTIO_BLK_T_GET_ID, 0, &id, 1, true, &len), VIRTIO_BLK_S_OK);
    CHECK_EQ(ram[DATA_ADDR], 0);
    CHECK_EQ(ram[DATA_ADDR + 19], 0);
}

TEST(vblk_out_of_range)
{
    setup_probed(false);
    memcpy(disk_copy, disk, sizeof(disk));
    memset(ram + DATA_ADDR, 0xCC, 4096);
    struct tseg two = { DATA_ADDR, 1024 };
    uint32_t len;
    CHECK_EQ(request(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, &two, 1, true, &len), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(len, 1);
    CHECK_EQ(ram[DATA_ADDR], 0xCC);             /* nothing delivered */
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, &two, 1, false, &len), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, DISK_SECTORS, &two, 1, false, &len), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 0xFFFFFFFFFFFFFFFFull, &two, 1, false, &len), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0x8000000000000000ull, &two, 1, true, &len), VIRTIO_BLK_S_IOERR);
    /* Not whole sectors (5.2.6.2). */
    struct tseg odd = { DATA_ADDR, 513 };
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 0, &odd, 1, false, &len), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, &odd, 1, true, &len), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(ram[DATA_ADDR], 0xCC);
    CHECK(!memcmp(disk, disk_copy, sizeof(disk)));
    CHECK_EQ(bd.bytes_read + bd.bytes_written, 0);
    CHECK_EQ(bd.errors, 7);
    CHECK_EQ(v.errors, 7);
    CHECK_EQ(v.reads + v.writes, 0);
    /* The queue is fine afterwards. */
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, &two, 1, true, &len), VIRTIO_BLK_S_OK);
}

TEST(vblk_read_only)
{
    setup_blk(true, NULL, false);
    CHECK(rd(VIRTIO_PCI_HOST_FEATURES, 4) & BIT(VIRTIO_BLK_F_RO));
    linux_probe(RING_PFN);
    CHECK(v.vp.guest_features & BIT(VIRTIO_BLK_F_RO));
    memcpy(disk_copy, disk, sizeof(disk));
    memset(ram + DATA_ADDR, 0x11, 512);
    struct tseg one = { DATA_ADDR, 512 };
    uint32_t len;
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 0, &one, 1, false, &len), VIRTIO_BLK_S_IOERR);
    CHECK(!memcmp(disk, disk_copy, sizeof(disk)));
    CHECK_EQ(bd.errors, 1);
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 3, &one, 1, true, &len), VIRTIO_BLK_S_OK);
    CHECK(!memcmp(ram + DATA_ADDR, disk + 3 * 512, 512));
    CHECK_EQ(request(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, &len), VIRTIO_BLK_S_OK);
    setup_blk(false, NULL, false);
    CHECK(!(rd(VIRTIO_PCI_HOST_FEATURES, 4) & BIT(VIRTIO_BLK_F_RO)));
}

TEST(vblk_unsupported)
{
    setup_probed(false);
    static const uint32_t types[] = { VIRTIO_BLK_T_SCSI_CMD, 3, 5, VIRTIO_BLK_T_DISCARD,
                                      VIRTIO_BLK_T_WRITE_ZEROES, 0x1234, 0x7FFFFFFF };
    struct tseg one = { DATA_ADDR, 512 };
    uint32_t len;
    memcpy(disk_copy, disk, sizeof(disk));
    for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
        CHECK_EQ(request(types[i], 0, &one, 1, false, &len), VIRTIO_BLK_S_UNSUPP);
        CHECK_EQ(len, 1);
    }
    CHECK_EQ(v.unsupported, ARRAY_SIZE(types));
    CHECK(!memcmp(disk, disk_copy, sizeof(disk)));
    /* The legacy BARRIER flag is ignored, as by QEMU. */
    CHECK_EQ(request(VIRTIO_BLK_T_IN | VIRTIO_BLK_T_BARRIER, 1, &one, 1, true, &len), VIRTIO_BLK_S_OK);
    CHECK(!memcmp(ram + DATA_ADDR, disk + 512, 512));
    CHECK_EQ(v.errors, 0);
}

TEST(vblk_status_zero_resets)
{
    setup_probed(false);
    struct tseg one = { DATA_ADDR, 512 };
    submit(VIRTIO_BLK_T_IN, 0, &one, 1, true);
    CHECK(f.irq.level);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 3);
    wr(VIRTIO_PCI_STATUS, 1, 0);
    CHECK(!f.irq.level);                        /* the pending interrupt is gone */
    CHECK_EQ(rd(VIRTIO_PCI_ISR, 1), 0);
    CHECK_EQ(rd(VIRTIO_PCI_STATUS, 1), 0);
    CHECK_EQ(rd(VIRTIO_PCI_GUEST_FEATURES, 4), 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_SEL, 2), 0);
    CHECK_EQ(rd(VIRTIO_PCI_QUEUE_PFN, 4), 0);
    CHECK_EQ(rd(VIRTIO_PCI_HOST_FEATURES, 4), v.vp.host_features);
    /* With no ring, a kick does nothing and touches no memory. */
    uint64_t r = fram.reads, w = fram.writes;
    drv_publish(0);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    CHECK_EQ(fram.reads, r);
    CHECK_EQ(fram.writes, w);
    CHECK(!virtio_blk_work_pending(&v));
    CHECK_EQ(v.requests, 1);
    /* virtio_blk_reset from the glue does the same; the counters stay. */
    linux_probe(RING_PFN);
    virtio_blk_reset(&v);
    CHECK_EQ(v.vq.pfn, 0);
    CHECK_EQ(v.vp.status, 0);
    CHECK_EQ(v.reads, 1);
}

TEST(vblk_notify_hook)
{
    setup_blk(false, NULL, true);
    linux_probe(RING_PFN);
    struct tseg one = { DATA_ADDR, 512 };
    int head = submit(VIRTIO_BLK_T_IN, 5, &one, 1, true);
    CHECK_EQ(f.notifies, 1);
    CHECK_EQ(drv_get_used(NULL), -1);           /* the hook did not process: still pending */
    CHECK(virtio_blk_work_pending(&v));
    CHECK(!f.irq.level);
    CHECK_EQ(virtio_blk_process(&v), 1);        /* what the glue's thread does */
    CHECK(!virtio_blk_work_pending(&v));
    CHECK_EQ(drv_get_used(NULL), head);
    CHECK_EQ(status_of(head), VIRTIO_BLK_S_OK);
    CHECK(f.irq.level);
    CHECK_EQ(virtio_blk_process(&v), 0);
    /* Kicks for a queue that does not exist, or before a PFN, are not forwarded. */
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 1);
    CHECK_EQ(f.notifies, 1);
    wr(VIRTIO_PCI_QUEUE_SEL, 2, 0);
    wr(VIRTIO_PCI_QUEUE_PFN, 4, 0);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    CHECK_EQ(f.notifies, 1);
    CHECK_EQ(v.vp.notifies, 3);
    /* A hook that serves synchronously. */
    linux_probe(RING_PFN);
    f.process_in_notify = true;
    head = submit(VIRTIO_BLK_T_IN, 6, &one, 1, true);
    CHECK_EQ(drv_get_used(NULL), head);
    CHECK_EQ(f.notifies, 2);
}

TEST(vblk_no_interrupt_flag)
{
    setup_probed(false);
    w16(d_avail(), VRING_AVAIL_F_NO_INTERRUPT);
    struct tseg one = { DATA_ADDR, 512 };
    int head = submit(VIRTIO_BLK_T_IN, 0, &one, 1, true);
    CHECK_EQ(drv_get_used(NULL), head);         /* served, but no interrupt */
    CHECK(!f.irq.level);
    CHECK_EQ(v.vp.isr, 0);
    CHECK_EQ(v.vp.interrupts, 0);
    w16(d_avail(), 0);
    submit(VIRTIO_BLK_T_IN, 0, &one, 1, true);
    CHECK(f.irq.level);
    CHECK_EQ(v.vp.interrupts, 1);
}

/* Several requests in one kick: one interrupt, served in order. */
TEST(vblk_batch)
{
    setup_blk(false, NULL, true);
    linux_probe(RING_PFN);
    struct tseg segs[8];
    int heads[8];
    for (unsigned i = 0; i < 8; i++) {
        segs[i] = (struct tseg){ DATA_ADDR + 0x1000 * i, 512 };
        heads[i] = submit(VIRTIO_BLK_T_IN, i, &segs[i], 1, true);
    }
    CHECK_EQ(virtio_blk_process(&v), 8);
    CHECK_EQ(f.irq.rises, 1);
    for (unsigned i = 0; i < 8; i++) {
        CHECK_EQ(drv_get_used(NULL), heads[i]);
        CHECK_EQ(status_of(heads[i]), VIRTIO_BLK_S_OK);
        CHECK(!memcmp(ram + segs[i].addr, disk + 512 * i, 512));
    }
}

TEST(vblk_malformed_chains)
{
    setup_probed(false);
    uint32_t len;
    memcpy(disk_copy, disk, sizeof(disk));
    /* (a) No writable descriptor: nowhere for a status. Completed with len 0. */
    w32(HDR_ADDR, VIRTIO_BLK_T_OUT);
    struct tseg hdr = { HDR_ADDR, 16 }, data = { DATA_ADDR, 512 };
    struct tseg outs[2] = { hdr, data };
    int head = drv_add(outs, 2, NULL, 0);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    CHECK_EQ(drv_get_used(&len), head);
    CHECK_EQ(len, 0);
    CHECK_EQ(v.bad_requests, 1);
    CHECK(!memcmp(disk, disk_copy, sizeof(disk)));

    /* (b) A header shorter than 16 bytes: IOERR. */
    struct tseg shorth = { HDR_ADDR, 8 }, st = { STATUS_ADDR, 1 };
    ram[STATUS_ADDR] = 0xEE;
    head = drv_add(&shorth, 1, &st, 1);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    CHECK_EQ(drv_get_used(&len), head);
    CHECK_EQ(len, 1);
    CHECK_EQ(ram[STATUS_ADDR], VIRTIO_BLK_S_IOERR);

    /* (c) A loop, then a good request in the same kick: the loop is completed with len 0,
     * the good one is served. */
    desc_set(250, HDR_ADDR, 16, VRING_DESC_F_NEXT, 251);
    desc_set(251, STATUS_ADDR, 1, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 251);
    drv_publish(250);
    struct tseg one = { DATA_ADDR, 512 };
    uint64_t bad = v.bad_requests;
    head = submit(VIRTIO_BLK_T_IN, 7, &one, 1, true);
    uint64_t e = d_used() + 4 + 8ull * (d.last_used & 255);
    CHECK_EQ(r32(e), 250);
    CHECK_EQ(r32(e + 4), 0);
    d.last_used++;                              /* (not walking the looped chain) */
    CHECK_EQ(drv_get_used(&len), head);
    CHECK_EQ(status_of(head), VIRTIO_BLK_S_OK);
    CHECK_EQ(v.bad_requests, bad + 1);
    CHECK_EQ(v.vq.bad_chains, 1);

    /* (d) Data outside RAM: IOERR, status written, disk untouched on OUT. */
    struct tseg outside = { RAM_SIZE - 256, 512 };
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, &outside, 1, true, &len), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(len, 1);
    CHECK_EQ(request(VIRTIO_BLK_T_OUT, 0, &outside, 1, false, &len), VIRTIO_BLK_S_IOERR);
    CHECK(!memcmp(disk, disk_copy, sizeof(disk)));
    struct tseg far = { 0x100000000ull, 4096 };
    CHECK_EQ(request(VIRTIO_BLK_T_GET_ID, 0, &far, 1, true, &len), VIRTIO_BLK_S_IOERR);
    /* A partly-bad IN: the first 4 KiB chunk is delivered, then the error. */
    struct tseg mixed[2] = { { DATA_ADDR, 4096 }, { RAM_SIZE - 100, 512 } };
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, mixed, 2, true, &len), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(len, 4096 + 1);
    CHECK(!memcmp(ram + DATA_ADDR, disk, 4096));

    /* (e) The status byte outside RAM: used len counts only what was written. */
    struct tseg hd = { HDR_ADDR, 16 }, badst = { RAM_SIZE, 1 };
    w32(HDR_ADDR, VIRTIO_BLK_T_FLUSH);
    bad = v.bad_requests;
    head = drv_add(&hd, 1, &badst, 1);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    CHECK_EQ(drv_get_used(&len), head);
    CHECK_EQ(len, 0);
    CHECK_EQ(v.bad_requests, bad + 1);

    /* (f) A descriptor with INDIRECT: malformed, len 0. */
    desc_set(240, HDR_ADDR, 64, VRING_DESC_F_INDIRECT, 0);
    drv_publish(240);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    e = d_used() + 4 + 8ull * (d.last_used & 255);
    CHECK_EQ(r32(e), 240);
    CHECK_EQ(r32(e + 4), 0);
    d.last_used++;
    CHECK(vq_ready(&v.vq));
    /* Not malformed: data and status in one writable descriptor (the status is the last
     * byte of the writable stream, as QEMU parses it). */
    struct tseg dat_st = { DATA_ADDR, 512 + 1 };
    w32(HDR_ADDR, VIRTIO_BLK_T_IN);
    w64(HDR_ADDR + 8, 9);
    head = drv_add(&hd, 1, &dat_st, 1);
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    CHECK_EQ(drv_get_used(&len), head);
    CHECK_EQ(len, 513);
    CHECK(!memcmp(ram + DATA_ADDR, disk + 9 * 512, 512));
    CHECK_EQ(ram[DATA_ADDR + 512], VIRTIO_BLK_S_OK);
    CHECK(vq_ready(&v.vq));
}

TEST(vblk_broken_ring)
{
    setup_probed(false);
    /* A ring whose used part is past the end of RAM. */
    wr(VIRTIO_PCI_QUEUE_PFN, 4, RAM_PAGES - 2);
    drv_init(RAM_PAGES - 2, 1);                 /* just to place headers; we write by hand */
    uint64_t base = (uint64_t)(RAM_PAGES - 2) << 12;
    w64(base, HDR_ADDR);                        /* descriptor 0 */
    w32(base + 8, 16);
    w16(base + 12, VRING_DESC_F_NEXT);
    w16(base + 14, 1);
    w64(base + 16, STATUS_ADDR);
    w32(base + 24, 1);
    w16(base + 28, VRING_DESC_F_WRITE);
    uint64_t avail = base + 256 * 16;
    w16(avail + 4, 0);
    w16(avail + 2, 1);
    w32(HDR_ADDR, VIRTIO_BLK_T_FLUSH);
    ram[STATUS_ADDR] = 0xEE;
    wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, 0);
    CHECK_EQ(ram[STATUS_ADDR], VIRTIO_BLK_S_OK);    /* served; its completion could not be */
    CHECK(v.vq.broken);
    CHECK(!f.irq.level);                        /* nothing completed, no interrupt */
    CHECK(!virtio_blk_work_pending(&v));
    w16(avail + 2, 2);
    CHECK_EQ(virtio_blk_process(&v), 0);        /* broken until the driver resets it */
    /* A PFN entirely outside RAM. */
    wr(VIRTIO_PCI_QUEUE_PFN, 4, 0x80000);
    CHECK(virtio_blk_work_pending(&v));         /* unreadable: let process find out */
    CHECK_EQ(virtio_blk_process(&v), 0);
    CHECK(v.vq.broken);
    CHECK(!virtio_blk_work_pending(&v));
    /* Reset and a fresh probe bring it back. */
    wr(VIRTIO_PCI_STATUS, 1, 0);
    linux_probe(RING_PFN);
    struct tseg one = { DATA_ADDR, 512 };
    uint32_t len;
    CHECK_EQ(request(VIRTIO_BLK_T_IN, 0, &one, 1, true, &len), VIRTIO_BLK_S_OK);
}

/* A driver that keeps adding while we serve cannot hold process() for more than Q chains. */
TEST(vblk_bounded_per_call)
{
    setup_blk(false, NULL, true);
    linux_probe(RING_PFN);
    /* Every ring slot names the same small flush chain. */
    desc_set(0, HDR_ADDR, 16, VRING_DESC_F_NEXT, 1);
    desc_set(1, STATUS_ADDR, 1, VRING_DESC_F_WRITE, 0);
    w32(HDR_ADDR, VIRTIO_BLK_T_FLUSH);
    w16(d_avail() + 2, 1);
    f.refill = true;
    f.refill_at = d_avail() + 2;
    CHECK_EQ(virtio_blk_process(&v), VIRTIO_BLK_QUEUE_SIZE);
    CHECK_EQ(v.flushes, VIRTIO_BLK_QUEUE_SIZE);
    CHECK(!v.vq.broken);
    CHECK(f.irq.level);
    CHECK_EQ(virtio_blk_process(&v), VIRTIO_BLK_QUEUE_SIZE);    /* and again next time */
    f.refill = false;
    CHECK(virtio_blk_work_pending(&v));
    CHECK_EQ(r16(d_used() + 2), 2 * VIRTIO_BLK_QUEUE_SIZE);
    /* A full ring at once: exactly Q. */
    setup_blk(false, NULL, true);
    linux_probe(RING_PFN);
    desc_set(0, HDR_ADDR, 16, VRING_DESC_F_NEXT, 1);
    desc_set(1, STATUS_ADDR, 1, VRING_DESC_F_WRITE, 0);
    w32(HDR_ADDR, VIRTIO_BLK_T_FLUSH);
    w16(d_avail() + 2, VIRTIO_BLK_QUEUE_SIZE);
    CHECK_EQ(virtio_blk_process(&v), VIRTIO_BLK_QUEUE_SIZE);
    CHECK(!virtio_blk_work_pending(&v));
    CHECK_EQ(v.vq.used_idx, VIRTIO_BLK_QUEUE_SIZE);
}

/* ---- seeded garbage: register writes and ring contents ---- */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

TEST(vblk_fuzz_1m)
{
    static const unsigned sizes[] = { 1, 2, 4 };
    static const uint32_t pfns[] = { RING_PFN, RING_PFN, RING_PFN, 0, RAM_PAGES - 1, RAM_PAGES - 2, 0xFFFFFFFF };
    setup_blk(false, "FUZZ", false);
    linux_probe(RING_PFN);
    rng_state = 0x243F6A8885A308D3ull;
    uint32_t host = v.vp.host_features;
    unsigned processed = 0, served = 0, over = 0;
    bool irq_ok = true;
    for (unsigned op = 0; op < 1000000; op++) {
        unsigned r = (unsigned)(rnd() % 100);
        uint64_t base = (uint64_t)v.vq.pfn << 12;
        if (r < 10) {                                   /* register writes, mostly sensible */
            switch (rnd() % 8) {
            case 0: wr(VIRTIO_PCI_STATUS, 1, rnd() % 16 ? (uint32_t)rnd() | 1 : 0); break;
            case 1: wr(VIRTIO_PCI_QUEUE_PFN, 4, pfns[rnd() % ARRAY_SIZE(pfns)]); break;
            case 2: wr(VIRTIO_PCI_QUEUE_SEL, 2, rnd() % 4 ? 0 : (uint32_t)rnd()); break;
            case 3: wr(VIRTIO_PCI_GUEST_FEATURES, 4, (uint32_t)rnd()); break;
            case 4: wr(VIRTIO_PCI_QUEUE_NOTIFY, 2, rnd() % 4 ? 0 : (uint32_t)rnd()); break;
            default:
                wr((unsigned)(rnd() % (VIRTIO_BLK_IO_BAR_SIZE + 8)), sizes[rnd() % 3], (uint32_t)rnd());
                break;
            }
        } else if (r < 25) {
            rd((unsigned)(rnd() % (VIRTIO_BLK_IO_BAR_SIZE + 8)), sizes[rnd() % 3]);
        } else if (r < 50 && base && base < RAM_SIZE - 0x3000) {    /* a descriptor */
            uint64_t a = base + 16 * (rnd() % 256);
            uint64_t addr = rnd() % 8 ? DATA_ADDR + rnd() % 0x10000 : rnd() % 4 ? rnd() % (RAM_SIZE + 4096) : rnd();
            w64(a, rnd() % 4 ? HDR_ADDR + 16 * (rnd() % 16) : addr);
            w32(a + 8, rnd() % 4 ? (uint32_t)(rnd() % 3 ? 16 : 1 + rnd() % 2048) : (uint32_t)rnd());
            w16(a + 12, (uint16_t)(rnd() % 8));
            w16(a + 14, (uint16_t)(rnd() % 8 ? rnd() % 256 : rnd()));
        } else if (r < 60) {                            /* headers: sensible types */
            uint64_t h = HDR_ADDR + 16 * (rnd() % 16);
            static const uint32_t types[] = { 0, 1, 4, 8, 2, 0x80000000u, 0xFFFFFFFF };
            w32(h, types[rnd() % ARRAY_SIZE(types)]);
            w64(h + 8, rnd() % 4 ? rnd() % (DISK_SECTORS + 4) : rnd());
        } else if (r < 75 && base && base < RAM_SIZE - 0x3000) {    /* avail ring */
            uint64_t av = base + 256 * 16;
            if (rnd() % 2)
                w16(av + 4 + 2 * (rnd() % 256), (uint16_t)(rnd() % 8 ? rnd() % 256 : rnd()));
            else
                w16(av + 2, (uint16_t)(v.vq.last_avail + (rnd() % 16 ? rnd() % 5 : rnd())));
        } else if (r < 78 && base && base < RAM_SIZE - 0x3000) {    /* a well-formed request */
            uint16_t start = (uint16_t)(rnd() % 256), nd = (uint16_t)(rnd() % 4);
            bool in = rnd() % 2;
            uint64_t h = HDR_ADDR + 16 * (rnd() % 16);
            w32(h, in ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT);
            w64(h + 8, rnd() % DISK_SECTORS);
            for (uint16_t k = 0; k < nd + 2; k++) {
                uint64_t a = base + 16ull * ((start + k) % 256);
                bool last = k == nd + 1, w = last || (in && k > 0);
                w64(a, k == 0 ? h : last ? STATUS_ADDR : DATA_ADDR + 512 * (rnd() % 64));
                w32(a + 8, k == 0 ? 16 : last ? 1 : 512);
                w16(a + 12, (uint16_t)((last ? 0 : VRING_DESC_F_NEXT) | (w ? VRING_DESC_F_WRITE : 0)));
                w16(a + 14, (uint16_t)((start + k + 1) % 256));
            }
            uint64_t av = base + 256 * 16;
            w16(av + 4 + 2ull * (v.vq.last_avail & 255), start);
            w16(av + 2, (uint16_t)(v.vq.last_avail + 1));
        } else if (r < 80 && base && base < RAM_SIZE - 0x3000) {    /* any ring byte */
            ram[base + rnd() % 0x2806] = (uint8_t)rnd();
        } else if (r < 90) {
            unsigned n = virtio_blk_process(&v);
            processed++;
            served += n;
            if (n > VIRTIO_BLK_QUEUE_SIZE)
                over++;
        } else if (r < 95) {
            virtio_blk_work_pending(&v);
        } else if (v.vq.broken && rnd() % 2) {
            wr(VIRTIO_PCI_STATUS, 1, 0);
            linux_probe(RING_PFN);
        }
        if (f.irq.level != (v.vp.isr != 0) || f.irq.level != v.vp.irq_level)
            irq_ok = false;
    }
    CHECK(irq_ok);
    CHECK_EQ(over, 0);
    CHECK_EQ(v.vp.host_features, host);
    CHECK_EQ(rd(VIRTIO_PCI_HOST_FEATURES, 4), host);
    CHECK(served > 1000);
    printf("  fuzz: %u process calls, %u chains, %llu reads, %llu writes, %llu errors, %llu bad\n",
           processed, served, (unsigned long long)v.reads, (unsigned long long)v.writes,
           (unsigned long long)v.errors, (unsigned long long)v.bad_requests);
}

/* One request at a time, as the VMM's glue serves them when a drive has a service time: take
 * fetches the chain (5.2.6: header first) and says what it touches, nothing is completed
 * until complete; a reset in between drops the held request with its ring. */
TEST(vblk_take_then_complete)
{
    setup_blk(false, "MV", true);
    linux_probe(RING_PFN);
    struct tseg data = { DATA_ADDR, 8 * 512 };
    int h1 = submit(VIRTIO_BLK_T_IN, 10, &data, 1, true);
    struct tseg wdata = { DATA_ADDR + 8 * 512, 2 * 512 };
    memset(ram + DATA_ADDR + 8 * 512, 0x77, 2 * 512);
    int h2 = submit(VIRTIO_BLK_T_OUT, 100, &wdata, 1, false);
    CHECK_EQ(f.notifies, 2);
    uint64_t sector;
    uint32_t sectors;
    bool write;
    CHECK(virtio_blk_work_pending(&v));
    CHECK(virtio_blk_take(&v, &sector, &sectors, &write));
    CHECK_EQ(sector, 10);
    CHECK_EQ(sectors, 8);
    CHECK(!write);
    CHECK_EQ(drv_get_used(NULL), -1);           /* taken is not done */
    CHECK_EQ(v.reads, 0);
    CHECK(virtio_blk_take(&v, &sector, &sectors, &write));     /* still the held one */
    CHECK_EQ(sector, 10);
    CHECK(virtio_blk_complete(&v));
    CHECK(!f.irq.level);                        /* complete alone does not interrupt */
    CHECK_EQ(drv_get_used(NULL), h1);
    CHECK(!memcmp(ram + DATA_ADDR, disk + 10 * 512, 8 * 512));
    CHECK(!virtio_blk_complete(&v));            /* nothing held */
    CHECK(virtio_blk_take(&v, &sector, &sectors, &write));
    CHECK_EQ(sector, 100);
    CHECK_EQ(sectors, 2);
    CHECK(write);
    CHECK(disk_is(100 * 512, (const uint8_t *)"\x67", 0) && disk[100 * 512] == disk_pattern(100 * 512));
    CHECK(virtio_blk_complete(&v));
    CHECK_EQ(disk[100 * 512], 0x77);
    CHECK_EQ(drv_get_used(NULL), h2);
    CHECK(!virtio_blk_take(&v, &sector, &sectors, &write));
    CHECK(!virtio_blk_work_pending(&v));
    /* process_one: both steps and the interrupt. */
    int h3 = submit(VIRTIO_BLK_T_IN, 0, &data, 1, true);
    CHECK(virtio_blk_process_one(&v));
    CHECK(f.irq.level);
    CHECK_EQ(drv_get_used(NULL), h3);
    CHECK(!virtio_blk_process_one(&v));
    /* A held request does not survive a device reset. */
    submit(VIRTIO_BLK_T_IN, 0, &data, 1, true);
    CHECK(virtio_blk_take(&v, &sector, &sectors, &write));
    wr(VIRTIO_PCI_STATUS, 1, 0);
    CHECK(!virtio_blk_work_pending(&v));
    CHECK(!virtio_blk_complete(&v));
}

/* What take reports is what the drive will be charged for: a request that will be refused
 * (past the end, or more than VIRTIO_BLK_MAX_REQUEST) reports no sectors, and completes IOERR. */
TEST(vblk_take_reports_no_work_for_refused_requests)
{
    setup_blk(false, "MV", true);
    linux_probe(RING_PFN);
    struct tseg data = { DATA_ADDR, 8 * 512 };
    submit(VIRTIO_BLK_T_IN, DISK_SECTORS - 4, &data, 1, true);      /* runs past the end */
    uint64_t sector;
    uint32_t sectors;
    bool write;
    CHECK(virtio_blk_take(&v, &sector, &sectors, &write));
    CHECK_EQ(sectors, 0);
    CHECK(virtio_blk_complete(&v));
    uint32_t len;
    int head = drv_get_used(&len);
    CHECK(head >= 0);
    CHECK_EQ(status_of(head), VIRTIO_BLK_S_IOERR);
    /* 33 MiB in one chain (the same buffer over and over): refused before anything moves. */
    struct tseg big[33];
    for (unsigned i = 0; i < 33; i++)
        big[i] = (struct tseg){ DATA_ADDR, 1u << 20 };
    uint64_t before = bd.bytes_read;
    submit(VIRTIO_BLK_T_IN, 0, big, 33, true);
    CHECK(virtio_blk_take(&v, &sector, &sectors, &write));
    CHECK_EQ(sectors, 0);
    CHECK(virtio_blk_complete(&v));
    head = drv_get_used(&len);
    CHECK_EQ(status_of(head), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(bd.bytes_read, before);
}
