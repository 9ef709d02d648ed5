/* Legacy split virtqueue: layout, pop/push against rings built the way Linux's virtio_ring
 * builds them, 16-bit index wrap, interrupt suppression, every malformed case, rings
 * straddling the end of RAM, and a seeded 1M-op garbage run. Guest RAM is a 1 MiB array
 * behind a fake dma_ops that refuses (and counts) anything outside it. */
#include "test.h"
#include "dev/dma.h"
#include "dev/virtqueue.h"
#include "fake_ram.h"

#define RAM_SIZE   (1u << 20)
#define RAM_PAGES  (RAM_SIZE >> 12)

static uint8_t ram[RAM_SIZE];

struct fake_dma {
    /* When set, every accepted write must fall inside [wlo, whi): the device may only write
     * where it was asked to. */
    bool check_writes;
    uint64_t wlo, whi, stray_writes;
    uint64_t hole_lo, hole_hi;      /* a non-RAM window inside the array (like the VGA hole) */
};
static struct fake_dma fd;

static bool dma_ok(struct fake_ram *r, bool write, uint64_t gpa, size_t len)
{
    if (!(fd.hole_lo == fd.hole_hi || gpa + len <= fd.hole_lo || gpa >= fd.hole_hi))
        return false;
    if (write && fd.check_writes && (gpa < fd.wlo || gpa + len > fd.whi))
        fd.stray_writes++;
    return true;
}

static struct fake_ram fram = { .bytes = ram, .size = RAM_SIZE, .check = dma_ok };
static const struct dma_ops dma = FAKE_RAM_DMA(&fram);

/* ---- the driver side, as drivers/virtio/virtio_ring.c (split, no indirect) does it ---- */
struct drv {
    uint64_t base;
    uint16_t q;
    uint16_t free_head, num_free;
    uint16_t avail_idx, last_used;
};

struct tseg { uint64_t addr; uint32_t len; };

static uint64_t d_desc(const struct drv *d, unsigned i) { return d->base + 16ull * i; }
static uint64_t d_avail(const struct drv *d) { return d->base + 16ull * d->q; }
static uint64_t d_used(const struct drv *d)
{
    return d->base + ((16ull * d->q + 6 + 2ull * d->q + 4095) & ~4095ull);
}

static void desc_set(const struct drv *d, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    w64(d_desc(d, i), addr);
    w32(d_desc(d, i) + 8, len);
    w16(d_desc(d, i) + 12, flags);
    w16(d_desc(d, i) + 14, next);
}

static void drv_init(struct drv *d, uint32_t pfn, uint16_t q)
{
    d->base = (uint64_t)pfn << 12;
    d->q = q;
    uint64_t bytes = vq_ring_bytes(q);
    if (fake_ram_in(&fram, d->base, bytes))
        memset(ram + d->base, 0, bytes);
    for (unsigned i = 0; i < q && fake_ram_in(&fram, d_desc(d, i), 16); i++)
        w16(d_desc(d, i) + 14, (uint16_t)(i + 1));
    d->free_head = 0;
    d->num_free = q;
    d->avail_idx = d->last_used = 0;
}

/* Makes head available: avail->ring[idx % Q] = head, then idx + 1 (virtqueue_add_split). */
static void drv_publish(struct drv *d, uint16_t head)
{
    w16(d_avail(d) + 4 + 2ull * (d->avail_idx & (d->q - 1)), head);
    d->avail_idx++;
    w16(d_avail(d) + 2, d->avail_idx);
}

static int drv_add(struct drv *d, const struct tseg *out, unsigned nout, const struct tseg *in, unsigned nin)
{
    unsigned total = nout + nin;
    if (!total || total > d->num_free)
        return -1;
    uint16_t head = d->free_head, i = head, prev = 0;
    for (unsigned k = 0; k < total; k++) {
        const struct tseg *s = k < nout ? &out[k] : &in[k - nout];
        uint16_t next = r16(d_desc(d, i) + 14);
        desc_set(d, i, s->addr, s->len, (uint16_t)(VRING_DESC_F_NEXT | (k >= nout ? VRING_DESC_F_WRITE : 0)), next);
        prev = i;
        i = next;
    }
    w16(d_desc(d, prev) + 12, (uint16_t)(r16(d_desc(d, prev) + 12) & ~VRING_DESC_F_NEXT));
    d->free_head = i;
    d->num_free = (uint16_t)(d->num_free - total);
    drv_publish(d, head);
    return head;
}

/* detach_buf_split: returns the head (and its len), and puts the chain back on the free list. */
static int drv_get_used(struct drv *d, uint32_t *len)
{
    if (r16(d_used(d) + 2) == d->last_used)
        return -1;
    uint64_t e = d_used(d) + 4 + 8ull * (d->last_used & (d->q - 1));
    uint16_t id = (uint16_t)r32(e);
    if (len)
        *len = r32(e + 4);
    d->last_used++;
    uint16_t i = id;
    unsigned n = 1;
    while (r16(d_desc(d, i) + 12) & VRING_DESC_F_NEXT) {
        i = r16(d_desc(d, i) + 14);
        n++;
    }
    w16(d_desc(d, i) + 14, d->free_head);
    d->free_head = id;
    d->num_free = (uint16_t)(d->num_free + n);
    return id;
}

static struct virtqueue vq;
static struct vq_chain ch;
static struct drv d;

static void setup(uint16_t q, uint32_t pfn)
{
    memset(ram, 0, sizeof(ram));
    memset(&fd, 0, sizeof(fd));
    fake_ram_reset(&fram);
    memset(&vq, 0xA5, sizeof(vq));      /* vq_init must not rely on a zeroed struct */
    memset(&ch, 0x5A, sizeof(ch));
    vq_init(&vq, q, &dma);
    drv_init(&d, pfn, q);
    vq_set_pfn(&vq, pfn);
}

TEST(vq_layout)
{
    setup(256, 5);
    CHECK_EQ(vq_desc_addr(&vq), 0x5000);
    CHECK_EQ(vq_avail_addr(&vq), 0x6000);
    CHECK_EQ(vq_used_addr(&vq), 0x7000);        /* 0x6000 + 4 + 512 + 2, aligned up */
    CHECK_EQ(vq_ring_bytes(256), 0x2000 + 4 + 8 * 256 + 2);
    CHECK_EQ(vq_used_addr(&vq), d_used(&d));
    setup(16, 1);
    CHECK_EQ(vq_avail_addr(&vq), 0x1000 + 256);
    CHECK_EQ(vq_used_addr(&vq), 0x2000);
    setup(512, 1);                              /* 8192 + 4 + 1024 + 2 -> 3 pages */
    CHECK_EQ(vq_used_addr(&vq), 0x1000 + 0x3000);
    CHECK_EQ(vq.size, 512);
}

TEST(vq_init_and_unset)
{
    setup(256, 0);
    CHECK(!vq_ready(&vq));
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
    CHECK_EQ(ch.head, VQ_NO_HEAD);
    CHECK(!vq_push(&vq, 0, 0));
    CHECK(!vq_pending(&vq));
    CHECK(!vq_interrupt_wanted(&vq));
    CHECK_EQ(fram.reads + fram.writes + fram.rejects, 0); /* no PFN: no guest memory touched */
    vq_init(&vq, 100, &dma);                    /* not a power of two: never works */
    CHECK_EQ(vq.size, 0);
    vq_set_pfn(&vq, 1);
    CHECK(!vq_ready(&vq));
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
    vq_init(&vq, 0, &dma);
    CHECK_EQ(vq.size, 0);
    vq_init(&vq, 32768, &dma);
    CHECK_EQ(vq.size, 32768);
}

TEST(vq_pop_push_basic)
{
    setup(256, 16);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
    CHECK(!vq_pending(&vq));
    struct tseg out[2] = { { 0x40000, 16 }, { 0x41000, 4096 } };
    struct tseg in[1] = { { 0x42000, 1 } };
    int head = drv_add(&d, out, 2, in, 1);
    CHECK_EQ(head, 0);
    CHECK(vq_pending(&vq));
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
    CHECK_EQ(ch.head, 0);
    CHECK_EQ(ch.n, 3);
    CHECK_EQ(ch.nread, 2);
    CHECK_EQ(ch.rlen, 16 + 4096);
    CHECK_EQ(ch.wlen, 1);
    CHECK_EQ(ch.seg[0].addr, 0x40000);
    CHECK_EQ(ch.seg[1].len, 4096);
    CHECK(!ch.seg[1].write);
    CHECK(ch.seg[2].write);
    CHECK_EQ(ch.seg[2].addr, 0x42000);
    CHECK_EQ(vq.last_avail, 1);
    CHECK(!vq_pending(&vq));
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
    CHECK_EQ(ch.head, VQ_NO_HEAD);

    CHECK(vq_push(&vq, (uint16_t)head, 1));
    CHECK_EQ(r16(d_used(&d) + 2), 1);
    CHECK_EQ(r32(d_used(&d) + 4), 0);           /* id */
    CHECK_EQ(r32(d_used(&d) + 8), 1);           /* len */
    uint32_t len = 99;
    CHECK_EQ(drv_get_used(&d, &len), 0);
    CHECK_EQ(len, 1);
    CHECK_EQ(d.num_free, 256);
    CHECK(vq_interrupt_wanted(&vq));
    CHECK(!vq_push(&vq, 256, 0));               /* head out of range: caller bug, refused */
    CHECK_EQ(vq.chains, 1);
    CHECK_EQ(vq.pushes, 1);
    CHECK_EQ(vq.bad_chains + vq.ring_errors, 0);
    CHECK_EQ(fram.rejects, 0);
}

TEST(vq_fifo_order)
{
    setup(16, 3);
    int heads[5];
    for (int k = 0; k < 5; k++) {
        struct tseg s[2] = { { 0x10000 + 0x100 * k, 8 }, { 0x20000 + 0x100 * k, 8 } };
        heads[k] = drv_add(&d, s, 1, s + 1, 1);
        CHECK(heads[k] >= 0);
    }
    for (int k = 0; k < 5; k++) {
        CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
        CHECK_EQ(ch.head, heads[k]);
        CHECK_EQ(ch.seg[0].addr, 0x10000 + 0x100 * k);
    }
    /* Complete out of order: used ring order is the device's choice (2.6.8). */
    for (int k = 4; k >= 0; k--)
        CHECK(vq_push(&vq, (uint16_t)heads[k], (uint32_t)k));
    for (int k = 4; k >= 0; k--) {
        uint32_t len;
        CHECK_EQ(drv_get_used(&d, &len), heads[k]);
        CHECK_EQ(len, k);
    }
    CHECK_EQ(d.num_free, 16);
    CHECK_EQ(fram.rejects, 0);
}

/* 70000 requests on an 8-entry ring: both 16-bit indices wrap, ring slots wrap many times. */
TEST(vq_index_wrap)
{
    setup(8, 2);
    unsigned ok = 0;
    for (unsigned k = 0; k < 70000; k++) {
        struct tseg s[3] = { { 0x8000 + (k & 0xFF), 16 }, { 0x9000, k & 0xFFF }, { 0xA000 + (k & 7), 1 } };
        unsigned nout = 1 + (k & 1);
        int head = drv_add(&d, s, nout, s + 2, 1);
        if (head < 0)
            break;
        if (k % 3 == 0) {                       /* batches: two in flight at times */
            struct tseg t[1] = { { 0xB000, 4 } };
            int h2 = drv_add(&d, t, 0, t, 1);
            CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
            CHECK_EQ(ch.head, head);
            CHECK(vq_push(&vq, ch.head, 1));
            CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
            CHECK_EQ(ch.head, h2);
            CHECK_EQ(ch.nread, 0);
            CHECK(vq_push(&vq, ch.head, 4));
            CHECK_EQ(drv_get_used(&d, NULL), head);
            CHECK_EQ(drv_get_used(&d, NULL), h2);
        } else {
            CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
            CHECK_EQ(ch.head, head);
            CHECK_EQ(ch.n, nout + 1);
            CHECK_EQ(ch.seg[0].addr, 0x8000 + (k & 0xFF));
            CHECK(vq_push(&vq, ch.head, 1));
            CHECK_EQ(drv_get_used(&d, NULL), head);
        }
        CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
        ok++;
    }
    CHECK_EQ(ok, 70000);
    CHECK_EQ(vq.last_avail, d.avail_idx);
    CHECK_EQ(vq.used_idx, d.last_used);
    CHECK(vq.chains > 65536);                   /* the indices did wrap */
    CHECK_EQ(r16(d_used(&d) + 2), vq.used_idx);
    CHECK_EQ(d.num_free, 8);
    CHECK_EQ(vq.bad_chains + vq.ring_errors, 0);
    CHECK_EQ(fram.rejects, 0);
}

/* Starting near the wrap point, with a full ring (pending == Q exactly is legal). */
TEST(vq_full_ring_across_wrap)
{
    setup(16, 2);
    d.avail_idx = 65530;
    d.last_used = 65530;
    w16(d_used(&d) + 2, 65530);
    vq.last_avail = 65530;
    vq.used_idx = 65530;
    for (int k = 0; k < 16; k++) {
        struct tseg s = { 0x10000, 1 };
        CHECK(drv_add(&d, &s, 0, &s, 1) >= 0);
    }
    CHECK_EQ(d.avail_idx, (uint16_t)(65530 + 16));
    for (int k = 0; k < 16; k++) {
        CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
        CHECK(vq_push(&vq, ch.head, 0));
    }
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
    for (int k = 0; k < 16; k++)
        CHECK(drv_get_used(&d, NULL) >= 0);
    CHECK_EQ(drv_get_used(&d, NULL), -1);
    CHECK_EQ(d.num_free, 16);
    CHECK_EQ(vq.used_idx, 10);
    CHECK(!vq.broken);
}

TEST(vq_no_interrupt)
{
    setup(256, 4);
    CHECK(vq_interrupt_wanted(&vq));
    w16(d_avail(&d), VRING_AVAIL_F_NO_INTERRUPT);   /* virtqueue_disable_cb without EVENT_IDX */
    CHECK(!vq_interrupt_wanted(&vq));
    w16(d_avail(&d), 0);
    CHECK(vq_interrupt_wanted(&vq));
    w16(d_avail(&d), 0xFFFE);                       /* other bits mean nothing */
    CHECK(vq_interrupt_wanted(&vq));
    CHECK_EQ(fram.rejects, 0);
    /* Unreadable flags (the ring is outside RAM): interrupt, rather than lose a completion. */
    vq_set_pfn(&vq, RAM_PAGES + 10);
    CHECK(vq_interrupt_wanted(&vq));
}

/* A malformed chain is handed back by its head; the queue carries on. */
static void check_bad_chain(enum vq_error why, uint16_t head)
{
    uint64_t bad = vq.bad_chains;
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_BAD);
    CHECK_EQ(ch.head, head);
    CHECK_EQ(vq.bad_chains, bad + 1);
    CHECK_EQ(vq.last_error, why);
    CHECK(!vq.broken);
    CHECK(vq_push(&vq, ch.head, 0));
    /* The used element names the head, with len 0 (the chain may loop: no free-list walk). */
    uint64_t e = d_used(&d) + 4 + 8ull * (d.last_used & (d.q - 1));
    CHECK_EQ(r32(e), head);
    CHECK_EQ(r32(e + 4), 0);
    d.last_used++;
    CHECK_EQ(r16(d_used(&d) + 2), d.last_used);
    /* ... and a good chain right after still works. */
    w16(d_avail(&d) + 4 + 2 * (d.avail_idx & (d.q - 1)), 200);
    desc_set(&d, 200, 0x50000, 16, 0, 0);
    d.avail_idx++;
    w16(d_avail(&d) + 2, d.avail_idx);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
    CHECK_EQ(ch.head, 200);
    CHECK(vq_push(&vq, 200, 0));
    d.last_used = vq.used_idx;
}

TEST(vq_bad_next_index)
{
    setup(256, 8);
    desc_set(&d, 3, 0x40000, 16, VRING_DESC_F_NEXT, 256);     /* next == Q */
    drv_publish(&d, 3);
    check_bad_chain(VQ_ERR_NEXT, 3);
    desc_set(&d, 4, 0x40000, 16, VRING_DESC_F_NEXT, 5);
    desc_set(&d, 5, 0x40000, 16, VRING_DESC_F_NEXT, 0xFFFF);
    drv_publish(&d, 4);
    check_bad_chain(VQ_ERR_NEXT, 4);
    CHECK_EQ(vq.ring_errors, 0);
    CHECK_EQ(fram.rejects, 0);
}

TEST(vq_loop)
{
    /* Q = 16 < VQ_MAX_SEGS: the "more than Q descriptors" bound catches the loop. */
    setup(16, 8);
    desc_set(&d, 1, 0x40000, 16, VRING_DESC_F_NEXT, 2);
    desc_set(&d, 2, 0x40000, 16, VRING_DESC_F_NEXT, 1);
    drv_publish(&d, 1);
    uint64_t reads = fram.reads;
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_BAD);
    CHECK_EQ(ch.head, 1);
    CHECK_EQ(vq.last_error, VQ_ERR_TOO_LONG);
    CHECK(fram.reads - reads <= 2 + 16);        /* idx, ring entry, at most Q descriptors */
    CHECK(vq_push(&vq, 1, 0));
    /* A self loop on a 256 ring stops at VQ_MAX_SEGS. */
    setup(256, 8);
    desc_set(&d, 7, 0x40000, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 7);
    drv_publish(&d, 7);
    check_bad_chain(VQ_ERR_TOO_LONG, 7);
    CHECK_EQ(vq.ring_errors, 0);
}

TEST(vq_chain_too_long)
{
    setup(256, 8);
    /* Exactly VQ_MAX_SEGS: accepted. */
    for (unsigned i = 0; i < VQ_MAX_SEGS; i++)
        desc_set(&d, i, 0x40000 + i, 1, i + 1 < VQ_MAX_SEGS ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    drv_publish(&d, 0);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
    CHECK_EQ(ch.n, VQ_MAX_SEGS);
    CHECK_EQ(ch.rlen, VQ_MAX_SEGS);
    CHECK(vq_push(&vq, 0, 0));
    drv_get_used(&d, NULL);
    /* One more: refused. */
    for (unsigned i = 0; i < VQ_MAX_SEGS + 1; i++)
        desc_set(&d, i, 0x40000 + i, 1, i < VQ_MAX_SEGS ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    drv_publish(&d, 0);
    check_bad_chain(VQ_ERR_TOO_LONG, 0);
}

TEST(vq_readable_after_writable)
{
    setup(256, 8);
    desc_set(&d, 10, 0x40000, 16, VRING_DESC_F_NEXT, 11);
    desc_set(&d, 11, 0x41000, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 12);
    desc_set(&d, 12, 0x42000, 1, 0, 0);                 /* readable after writable */
    drv_publish(&d, 10);
    check_bad_chain(VQ_ERR_ORDER, 10);
    /* All-writable and all-readable chains are fine. */
    desc_set(&d, 10, 0x40000, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 11);
    desc_set(&d, 11, 0x41000, 512, VRING_DESC_F_WRITE, 0);
    drv_publish(&d, 10);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
    CHECK_EQ(ch.nread, 0);
    CHECK_EQ(ch.wlen, 528);
}

TEST(vq_indirect_refused)
{
    setup(256, 8);
    desc_set(&d, 0, 0x40000, 16 * 4, VRING_DESC_F_INDIRECT, 0);
    drv_publish(&d, 0);
    check_bad_chain(VQ_ERR_INDIRECT, 0);
    desc_set(&d, 0, 0x40000, 16, VRING_DESC_F_NEXT, 1);
    desc_set(&d, 1, 0x40000, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
    drv_publish(&d, 0);
    check_bad_chain(VQ_ERR_INDIRECT, 0);
}

TEST(vq_descriptor_outside_ram)
{
    setup(256, 8);
    /* addr + len wraps the address space: malformed at pop. */
    desc_set(&d, 0, 0xFFFFFFFFFFFFF000ull, 0x2000, 0, 0);
    drv_publish(&d, 0);
    check_bad_chain(VQ_ERR_ADDR, 0);
    /* Past the end of RAM, or straddling it: a well-formed chain whose data moves fail. */
    desc_set(&d, 0, RAM_SIZE - 8, 16, VRING_DESC_F_NEXT, 1);
    desc_set(&d, 1, 0x4000000000ull, 64, VRING_DESC_F_WRITE, 0);
    drv_publish(&d, 0);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
    uint8_t buf[64];
    uint64_t rej = fram.rejects;
    CHECK(vq_chain_read(&vq, &ch, 0, buf, 8));          /* the first 8 bytes are RAM */
    CHECK(!vq_chain_read(&vq, &ch, 0, buf, 16));
    CHECK(!vq_chain_write(&vq, &ch, 0, buf, 1));
    CHECK_EQ(fram.rejects, rej + 2);
    CHECK_EQ(vq.dma_errors, 2);
    CHECK(!vq_chain_read(&vq, &ch, 0, buf, 17));        /* past the stream: refused, no DMA */
    CHECK(!vq_chain_write(&vq, &ch, 60, buf, 5));
    CHECK_EQ(fram.rejects, rej + 2);
    CHECK(vq_push(&vq, 0, 0));
    CHECK(!vq.broken);
}

TEST(vq_chain_stream_copy)
{
    setup(256, 8);
    for (unsigned i = 0; i < 0x300; i++)
        ram[0x40000 + i] = (uint8_t)i;
    /* Readable 3 + 5 + 0 + 7 bytes scattered, then writable 4 + 6. */
    desc_set(&d, 0, 0x40000, 3, VRING_DESC_F_NEXT, 1);
    desc_set(&d, 1, 0x40100, 5, VRING_DESC_F_NEXT, 2);
    desc_set(&d, 2, 0x40180, 0, VRING_DESC_F_NEXT, 3);
    desc_set(&d, 3, 0x40200, 7, VRING_DESC_F_NEXT, 4);
    desc_set(&d, 4, 0x50000, 4, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 5);
    desc_set(&d, 5, 0x51000, 6, VRING_DESC_F_WRITE, 0);
    drv_publish(&d, 0);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
    CHECK_EQ(ch.rlen, 15);
    CHECK_EQ(ch.wlen, 10);
    uint8_t b[16];
    CHECK(vq_chain_read(&vq, &ch, 0, b, 15));
    const uint8_t want[15] = { 0, 1, 2, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6 };
    CHECK(!memcmp(b, want, 15));
    CHECK(vq_chain_read(&vq, &ch, 2, b, 9));
    CHECK(!memcmp(b, want + 2, 9));
    CHECK(vq_chain_read(&vq, &ch, 15, b, 0));
    CHECK(!vq_chain_read(&vq, &ch, 16, b, 0));
    const uint8_t w[10] = { 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 };
    CHECK(vq_chain_write(&vq, &ch, 3, w + 3, 7));
    CHECK_EQ(ram[0x50003], 13);
    CHECK_EQ(ram[0x50002], 0);
    CHECK(!memcmp(ram + 0x51000, w + 4, 6));
    CHECK_EQ(ram[0x51006], 0);
    CHECK_EQ(fram.rejects, 0);
}

/* The ring itself partly or wholly outside RAM: the queue breaks, nothing is touched. */
TEST(vq_ring_straddles_end_of_ram)
{
    /* Q = 256 spans three pages: descriptors, avail, used. */
    setup(256, RAM_PAGES - 2);          /* desc and avail in RAM, used ring past the end */
    desc_set(&d, 0, 0x1000, 16, 0, 0);
    drv_publish(&d, 0);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
    CHECK(!vq_push(&vq, 0, 0));
    CHECK(vq.broken);
    CHECK_EQ(vq.last_error, VQ_ERR_USED_DMA);
    CHECK_EQ(vq.ring_errors, 1);
    CHECK(!vq_ready(&vq));
    CHECK(!vq_pending(&vq));
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);   /* broken: reported once, then quiet */
    CHECK(!vq_push(&vq, 0, 0));
    CHECK_EQ(vq.ring_errors, 1);

    setup(256, RAM_PAGES - 1);          /* descriptors in RAM, avail ring past the end */
    uint64_t w = fram.writes;
    CHECK(vq_pending(&vq));             /* unreadable idx: let pop report it */
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_BAD);
    CHECK_EQ(ch.head, VQ_NO_HEAD);
    CHECK(vq.broken);
    CHECK_EQ(vq.last_error, VQ_ERR_AVAIL_DMA);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
    CHECK_EQ(fram.writes, w);

    /* The avail ring straddles a hole: idx readable, slots from 128 on are not. */
    setup(256, 0x30);
    uint64_t avail = vq_avail_addr(&vq);
    fd.hole_lo = avail + 4 + 2 * 128;
    fd.hole_hi = avail + 4096;
    vq.last_avail = vq.used_idx = 100;
    w16(avail + 2, 101);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);      /* slot 100: RAM */
    CHECK_EQ(ch.head, 0);
    vq.last_avail = 200;
    w16(avail + 2, 201);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_BAD);     /* slot 200: in the hole */
    CHECK_EQ(ch.head, VQ_NO_HEAD);
    CHECK_EQ(vq.last_error, VQ_ERR_AVAIL_DMA);
    CHECK(vq.broken);
    fd.hole_lo = fd.hole_hi = 0;

    /* Far past RAM (PFN * 4096 needs 44 bits). */
    vq_set_pfn(&vq, 0xFFFFFFFFu);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_BAD);
    CHECK(vq.broken);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
    vq_set_pfn(&vq, 0);                 /* reset clears broken, and the queue is off */
    CHECK(!vq.broken);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
}

/* Guest RAM has holes (VGA, the PCI window below 4 GiB): a descriptor table that spans one
 * while the available ring is RAM breaks the queue when a head points into the hole. */
TEST(vq_descriptor_table_in_hole)
{
    setup(256, 0x40);                   /* table 0x40000-0x40FFF, avail at 0x41000 */
    fd.hole_lo = 0x40800;               /* descriptors 128-255 unreadable */
    fd.hole_hi = 0x41000;
    desc_set(&d, 5, 0x1000, 16, 0, 0);
    drv_publish(&d, 5);
    drv_publish(&d, 200);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
    CHECK_EQ(ch.head, 5);
    CHECK(vq_push(&vq, 5, 0));
    uint64_t w = fram.writes;
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_BAD);
    CHECK(vq.broken);
    CHECK_EQ(vq.last_error, VQ_ERR_DESC_DMA);
    CHECK_EQ(vq.bad_chains, 0);
    CHECK_EQ(vq.ring_errors, 1);
    CHECK(!vq_push(&vq, ch.head, 0));   /* broken: nothing more is written */
    CHECK_EQ(fram.writes, w);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
    /* A chain whose second descriptor lies in the hole. */
    setup(256, 0x40);
    fd.hole_lo = 0x40800;
    fd.hole_hi = 0x41000;
    desc_set(&d, 5, 0x1000, 16, VRING_DESC_F_NEXT, 130);
    drv_publish(&d, 5);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_BAD);
    CHECK(vq.broken);
    CHECK_EQ(vq.last_error, VQ_ERR_DESC_DMA);
}

/* The biggest legal queue: 512 KiB of descriptors, every index reachable. */
TEST(vq_max_size)
{
    memset(ram, 0, sizeof(ram));
    memset(&fd, 0, sizeof(fd));
    fake_ram_reset(&fram);
    vq_init(&vq, 32768, &dma);
    vq_set_pfn(&vq, 0x81);              /* table to 0x101000, avail past the end */
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_BAD);
    CHECK_EQ(ch.head, VQ_NO_HEAD);
    CHECK_EQ(vq.last_error, VQ_ERR_AVAIL_DMA);
    fram.rejects = 0;
    vq_set_pfn(&vq, 0x10);
    uint64_t avail = vq_avail_addr(&vq);
    CHECK_EQ(avail, 0x10000 + 0x80000);
    CHECK_EQ(vq_used_addr(&vq), avail + 0x11000);   /* 4 + 65536 + 2 bytes, page aligned */
    w16(avail + 2, 1);
    w16(avail + 4, 32767);
    uint64_t dsc = vq_desc_addr(&vq) + 16ull * 32767;
    w64(dsc, 0x1000);
    w32(dsc + 8, 8);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
    CHECK_EQ(ch.head, 32767);
    CHECK(vq_push(&vq, 32767, 8));
    CHECK_EQ(r32(vq_used_addr(&vq) + 4), 32767);
    CHECK_EQ(fram.rejects, 0);
}

TEST(vq_avail_idx_jump)
{
    setup(16, 8);
    w16(d_avail(&d) + 2, 17);           /* 17 ahead of 0 on a 16 ring */
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_BAD);
    CHECK_EQ(ch.head, VQ_NO_HEAD);
    CHECK(vq.broken);
    CHECK_EQ(vq.last_error, VQ_ERR_AVAIL_IDX);
    CHECK_EQ(vq.chains, 0);
    vq_set_pfn(&vq, 8);
    w16(d_avail(&d) + 2, 0xFFFF);       /* "behind" is a huge jump ahead too */
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_BAD);
    CHECK(vq.broken);
    vq_set_pfn(&vq, 8);
    w16(d_avail(&d) + 2, 16);           /* exactly Q: legal */
    for (int k = 0; k < 16; k++)
        CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);     /* zeroed descriptors: head 0, one 0-byte seg */
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
    CHECK(!vq.broken);
}

TEST(vq_bad_head)
{
    setup(16, 8);
    w16(d_avail(&d) + 4, 16);           /* head == Q */
    w16(d_avail(&d) + 2, 1);
    uint64_t w = fram.writes;
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_BAD);
    CHECK_EQ(ch.head, VQ_NO_HEAD);
    CHECK(vq.broken);
    CHECK_EQ(vq.last_error, VQ_ERR_HEAD);
    CHECK_EQ(fram.writes, w);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_EMPTY);
    vq_set_pfn(&vq, 8);                 /* the driver re-programs the queue: usable again */
    CHECK(vq_ready(&vq));
    CHECK_EQ(vq.last_avail, 0);
    w16(d_avail(&d) + 4, 3);
    CHECK_EQ(vq_pop(&vq, &ch), VQ_POP_OK);
    CHECK_EQ(ch.head, 3);
}

/* ---- seeded garbage ---- */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t rnd_addr(void)
{
    switch (rnd() % 8) {
    case 0: return rnd();                               /* anywhere */
    case 1: return RAM_SIZE - rnd() % 64;               /* straddling the end */
    case 2: return 0xFFFFFFFFFFFFFFFFull - rnd() % 4096; /* wrapping */
    default: return rnd() % RAM_SIZE;
    }
}

static uint32_t rnd_len(void)
{
    switch (rnd() % 6) {
    case 0: return (uint32_t)rnd();
    case 1: return 0;
    default: return (uint32_t)(rnd() % 8192);
    }
}

TEST(vq_fuzz_1m)
{
    static const uint16_t sizes[] = { 1, 2, 16, 256 };
    static const uint32_t pfns[] = { 1, 0x20, RAM_PAGES - 1, RAM_PAGES - 2, RAM_PAGES - 3, 0xFFFFF };
    memset(ram, 0, sizeof(ram));
    memset(&fd, 0, sizeof(fd));
    fake_ram_reset(&fram);
    rng_state = 0x9E3779B97F4A7C15ull;
    vq_init(&vq, 256, &dma);
    vq_set_pfn(&vq, 1);
    unsigned oks = 0, bads = 0, pushes = 0;
    bool invariants = true;
    for (unsigned op = 0; op < 1000000; op++) {
        uint64_t base = vq_desc_addr(&vq), ring = vq_ring_bytes(vq.size);
        uint16_t q = vq.size ? vq.size : 1;
        unsigned r = (unsigned)(rnd() % 100);
        if (vq.broken && rnd() % 8 == 0) {             /* the driver resets the queue */
            vq_set_pfn(&vq, pfns[rnd() % ARRAY_SIZE(pfns)]);
        } else if (r < 1) {
            vq_init(&vq, sizes[rnd() % ARRAY_SIZE(sizes)], &dma);
            vq_set_pfn(&vq, pfns[rnd() % ARRAY_SIZE(pfns)]);
        } else if (r < 3) {
            vq_set_pfn(&vq, rnd() % 3 ? pfns[rnd() % ARRAY_SIZE(pfns)] : (uint32_t)rnd());
        } else if (r < 30) {                            /* a plausible descriptor */
            uint64_t a = base + 16 * (rnd() % q);
            if (fake_ram_in(&fram, a, 16)) {
                w64(a, rnd_addr());
                w32(a + 8, rnd_len());
                w16(a + 12, (uint16_t)(rnd() % 8));
                w16(a + 14, (uint16_t)(rnd() % 5 ? rnd() % q : rnd()));
            }
        } else if (r < 45) {                            /* avail idx near last_avail */
            uint64_t a = vq_avail_addr(&vq) + 2;
            if (fake_ram_in(&fram, a, 2))
                w16(a, (uint16_t)(vq.last_avail + (rnd() % 8 ? rnd() % 4 : rnd())));
        } else if (r < 55) {                            /* an avail ring slot */
            uint64_t a = vq_avail_addr(&vq) + 4 + 2 * (rnd() % q);
            if (fake_ram_in(&fram, a, 2))
                w16(a, (uint16_t)(rnd() % 8 ? rnd() % q : rnd()));
        } else if (r < 57) {                            /* a well-formed-looking linear chain */
            uint16_t start = (uint16_t)(rnd() % q), len = (uint16_t)(rnd() % 140 + 1);
            uint16_t nread = (uint16_t)(rnd() % (len + 1));
            for (uint16_t k = 0; k < len; k++) {
                uint64_t a = base + 16ull * ((start + k) % q);
                if (!fake_ram_in(&fram, a, 16))
                    break;
                w64(a, rnd() % RAM_SIZE);
                w32(a + 8, (uint32_t)(rnd() % 4096));
                w16(a + 12, (uint16_t)((k + 1 < len ? VRING_DESC_F_NEXT : 0) | (k >= nread ? VRING_DESC_F_WRITE : 0)));
                w16(a + 14, (uint16_t)((start + k + 1) % q));
            }
            uint64_t av = vq_avail_addr(&vq);
            if (fake_ram_in(&fram, av, 4 + 2ull * q)) {
                w16(av + 4 + 2ull * (vq.last_avail & (q - 1)), start);
                w16(av + 2, (uint16_t)(vq.last_avail + 1));
            }
        } else if (r < 60) {                            /* a random byte anywhere in the ring */
            uint64_t a = base + rnd() % (ring + 1);
            if (a < RAM_SIZE)
                ram[a] = (uint8_t)rnd();
        } else if (r < 90) {
            bool was_ready = vq_ready(&vq);
            uint64_t chains = vq.chains;
            fd.check_writes = true;
            fd.wlo = fd.whi = 0;                        /* pop must not write at all */
            int res = vq_pop(&vq, &ch);
            if (res == VQ_POP_OK) {
                oks++;
                uint64_t rl = 0, wl = 0;
                bool ok = ch.head < vq.size && ch.n >= 1 && ch.n <= VQ_MAX_SEGS && ch.nread <= ch.n &&
                          vq.chains == chains + 1;
                for (unsigned i = 0; i < ch.n && i < VQ_MAX_SEGS; i++) {
                    ok = ok && ch.seg[i].write == (i >= ch.nread);
                    ok = ok && ch.seg[i].addr + ch.seg[i].len >= ch.seg[i].addr;
                    *(ch.seg[i].write ? &wl : &rl) += ch.seg[i].len;
                }
                ok = ok && rl == ch.rlen && wl == ch.wlen;
                if (!ok)
                    invariants = false;
            } else if (res == VQ_POP_BAD) {
                bads++;
                if (ch.head != VQ_NO_HEAD && ch.head >= vq.size)
                    invariants = false;
                if (ch.head == VQ_NO_HEAD && !vq.broken)
                    invariants = false;
            } else if (res == VQ_POP_EMPTY && vq_ready(&vq) && chains != vq.chains) {
                invariants = false;
            }
            if (!was_ready && res != VQ_POP_EMPTY)
                invariants = false;
            if ((res == VQ_POP_OK || (res == VQ_POP_BAD && ch.head != VQ_NO_HEAD)) && rnd() % 4) {
                fd.wlo = vq_used_addr(&vq);
                fd.whi = fd.wlo + 4 + 8ull * vq.size + 2;
                if (vq_push(&vq, ch.head, (uint32_t)rnd()))
                    pushes++;
            }
            fd.check_writes = false;
        } else if (r < 95) {
            uint8_t buf[64];
            if (ch.n <= VQ_MAX_SEGS && ch.nread <= ch.n) {
                uint64_t off = rnd() % 64;
                size_t len = (size_t)(rnd() % sizeof(buf));
                vq_chain_read(&vq, &ch, off, buf, len);
            }
        } else {
            vq_interrupt_wanted(&vq);
            vq_pending(&vq);
        }
    }
    CHECK(invariants);
    CHECK_EQ(fd.stray_writes, 0);
    CHECK(oks > 1000);
    CHECK(bads > 1000);
    CHECK(pushes > 1000);
    printf("  fuzz: %u chains, %u malformed, %u pushes, %llu dma refused\n", oks, bads, pushes,
           (unsigned long long)fram.rejects);
}
