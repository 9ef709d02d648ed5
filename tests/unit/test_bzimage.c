/* The bzImage loader against synthetic images built here with the boot protocol's offsets (kept
 * as literals, independent of the loader's constants), hostile variants, a fuzz loop, and
 * Debian's kernel when build/linux/vmlinuz is present. */
#include "test.h"
#include "vm/bzimage.h"
#include <stdlib.h>

static uint64_t alloc_chunk(void *ctx) { return (uint64_t)(uintptr_t)aligned_alloc(GMEM_CHUNK_SIZE, GMEM_CHUNK_SIZE); }
static void free_chunk(void *ctx, uint64_t hpa) { free((void *)(uintptr_t)hpa); }
static void *ptr(void *ctx, uint64_t hpa) { return (void *)(uintptr_t)hpa; }
static const struct gmem_ops ops = { alloc_chunk, free_chunk, ptr, NULL };

#define MiB (1ull << 20)
#define PM_SIZE   0x3000u
#define PREF      0x1000000u            /* 16 MiB, as x86-64 Linux */
#define INIT_SIZE 0x400000u             /* 4 MiB */

static struct guest_mem gm;
static uint64_t table[128];
static char err[256];
static uint8_t img[0x10000];
static size_t setup_bytes;

static void w16(uint32_t off, uint16_t v) { memcpy(img + off, &v, 2); }
static void w32(uint32_t off, uint32_t v) { memcpy(img + off, &v, 4); }
static void w64(uint32_t off, uint64_t v) { memcpy(img + off, &v, 8); }
static uint16_t g16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t g32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t g64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void vm(uint64_t size)
{
    gmem_destroy(&gm);
    CHECK(gmem_init(&gm, size, table, &ops));
}

/* A protocol 2.15 bzImage: `sects` setup sectors, then a PM_SIZE-byte protected-mode part. */
static size_t build_sects(unsigned sects)
{
    memset(img, 0, sizeof(img));
    setup_bytes = ((sects ? sects : 4) + 1) * 512u;
    img[0x1f1] = (uint8_t)sects;
    w16(0x1f2, 1);                      /* root_flags */
    w32(0x1f4, PM_SIZE / 16);           /* syssize */
    w16(0x1fa, 0xFFFF);                 /* vid_mode */
    w16(0x1fe, 0xAA55);
    img[0x200] = 0xEB; img[0x201] = 0x6A;   /* jump past the header, which ends at 0x26c */
    memcpy(img + 0x202, "HdrS", 4);
    w16(0x206, 0x020F);
    w16(0x20e, 0x0200);                 /* kernel_version */
    img[0x211] = 0x01 | 0x20 | 0x40 | 0x80; /* LOADED_HIGH, and QUIET/KEEP_SEGMENTS/CAN_USE_HEAP to clear */
    w32(0x214, 0x100000);               /* code32_start default */
    w16(0x224, 0xDE00);                 /* heap_end_ptr */
    w32(0x22c, 0x7FFFFFFF);             /* initrd_addr_max */
    w32(0x230, 0x200000);               /* kernel_alignment */
    img[0x234] = 1;                     /* relocatable_kernel */
    img[0x235] = 21;                    /* min_alignment */
    w16(0x236, 0x7F);                   /* xloadflags, XLF_KERNEL_64 among them */
    w32(0x238, 2047);                   /* cmdline_size */
    w32(0x23c, 0x5);                    /* hardware_subarch: the loader must reset it */
    w64(0x250, 0x123456);               /* setup_data: likewise */
    w64(0x258, PREF);
    w32(0x260, INIT_SIZE);
    w32(0x264, 0x190);                  /* handover_offset */
    w32(0x268, 0x10);                   /* kernel_info_offset */
    memset(img + 0x26c, 0xCC, 0x24);    /* setup code right after the header */
    for (uint32_t i = 0; i < PM_SIZE; i++)
        img[setup_bytes + i] = (uint8_t)(i * 7 + 3);
    return setup_bytes + PM_SIZE;
}
static size_t build(void) { return build_sects(4); }

static bool load(size_t len, const char *cmd, const uint8_t *rd, size_t rdlen, struct bzimage_layout *l)
{
    err[0] = 0;
    bool ok = bzimage_load(&gm, img, len, cmd, rd, rdlen, l, err, sizeof(err));
    return ok;
}

static void read_zp(uint8_t *zp) { CHECK(gmem_read(&gm, BZ_BOOT_PARAMS_GPA, zp, 4096)); }

TEST(parse_reports_the_setup_header)
{
    struct bzimage_info bi;
    size_t len = build();
    CHECK(bzimage_parse(img, len, &bi, err, sizeof(err)));
    CHECK_EQ(bi.version, 0x020F);
    CHECK_EQ(bi.setup_bytes, 2560);
    CHECK_EQ(bi.pm_offset, 2560);
    CHECK_EQ(bi.pm_size, PM_SIZE);
    CHECK_EQ(bi.pref_address, PREF);
    CHECK_EQ(bi.kernel_alignment, 0x200000);
    CHECK_EQ(bi.init_size, INIT_SIZE);
    CHECK_EQ(bi.cmdline_size, 2047);
    CHECK_EQ(bi.initrd_addr_max, 0x7FFFFFFF);
    CHECK(bi.relocatable && bi.kernel_64);

    len = build_sects(0);               /* 0 means 4 */
    CHECK(bzimage_parse(img, len, &bi, err, sizeof(err)));
    CHECK_EQ(bi.setup_bytes, 2560);
    len = build_sects(27);
    CHECK(bzimage_parse(img, len, &bi, err, sizeof(err)));
    CHECK_EQ(bi.pm_offset, 28 * 512);

    len = build();
    w16(0x206, 0x020B);                 /* 2.11: no xloadflags, so not known to be 64-bit */
    CHECK(bzimage_parse(img, len, &bi, err, sizeof(err)));
    CHECK(!bi.kernel_64);
    build();
    w16(0x236, 0);
    CHECK(bzimage_parse(img, len, &bi, err, sizeof(err)));
    CHECK(!bi.kernel_64);
}

TEST(good_image_loads_kernel_at_pref_address)
{
    vm(32 * MiB);
    struct bzimage_layout l;
    size_t len = build();
    CHECK(load(len, "console=ttyS0 root=/dev/vda", NULL, 0, &l));
    if (err[0])
        fprintf(stderr, "  err: %s\n", err);
    CHECK_EQ(l.kernel_gpa, PREF);
    CHECK_EQ(l.entry_gpa, PREF);
    CHECK_EQ(l.boot_params_gpa, BZ_BOOT_PARAMS_GPA);
    CHECK_EQ(l.cmdline_gpa, BZ_CMDLINE_GPA);
    CHECK_EQ(l.gdt_gpa, BZ_GDT_GPA);
    CHECK_EQ(l.gdt_limit, 31);
    CHECK(l.initrd_gpa == 0 && l.initrd_size == 0);
    static uint8_t k[PM_SIZE + 1];
    CHECK(gmem_read(&gm, PREF, k, sizeof(k)));
    CHECK(!memcmp(k, img + setup_bytes, PM_SIZE));
    CHECK_EQ(k[PM_SIZE], 0);
    /* Layout constants stay in conventional memory and apart. */
    CHECK(BZ_GDT_GPA >= 0x1000 && BZ_GDT_GPA + BZ_GDT_LIMIT < BZ_BOOT_PARAMS_GPA);
    CHECK(BZ_BOOT_PARAMS_GPA + 4096 <= BZ_CMDLINE_GPA && BZ_CMDLINE_GPA + BZ_CMDLINE_MAX <= 0x9F000);
}

/* Offsets the loader rewrites; every other header byte must be the file's. */
static bool patched(uint32_t off)
{
    return off == 0x210 || off == 0x211 || (off >= 0x214 && off < 0x220) || (off >= 0x224 && off < 0x226)
        || (off >= 0x228 && off < 0x22c) || (off >= 0x23c && off < 0x248) || (off >= 0x250 && off < 0x258);
}

TEST(zero_page_has_header_copy_and_loader_fields)
{
    vm(32 * MiB);
    struct bzimage_layout l;
    CHECK(load(build(), "x", NULL, 0, &l));
    static uint8_t zp[4096];
    read_zp(zp);
    for (uint32_t off = 0x1f1; off < 0x26c; off++)
        if (!patched(off) && zp[off] != img[off]) {
            fprintf(stderr, "  header byte %#x: %#x, file has %#x\n", off, zp[off], img[off]);
            CHECK(false);
        }
    for (uint32_t off = 0x26c; off < 0x290; off++)     /* setup code after the header: not copied */
        CHECK_EQ(zp[off], 0);
    for (uint32_t off = 0; off < 0x1e0; off++)         /* screen_info ... ext fields: zero */
        CHECK_EQ(zp[off], 0);
    CHECK_EQ(zp[0x1ef], 0);                             /* sentinel */
    CHECK_EQ(zp[0x210], 0xFF);                          /* type_of_loader */
    CHECK_EQ(zp[0x211], 0x01);                          /* only LOADED_HIGH remains */
    CHECK_EQ(g32(zp + 0x214), PREF);                    /* code32_start */
    CHECK_EQ(g32(zp + 0x218), 0);
    CHECK_EQ(g32(zp + 0x21c), 0);
    CHECK_EQ(g16(zp + 0x224), 0);                       /* heap_end_ptr: real-mode only */
    CHECK_EQ(g32(zp + 0x228), BZ_CMDLINE_GPA);
    CHECK_EQ(g32(zp + 0x23c), 0);                       /* hardware_subarch: PC */
    CHECK_EQ(g64(zp + 0x250), 0);                       /* no setup_data */
    CHECK_EQ(g32(zp + 0x1e0), (32 - 1) * 1024);         /* alt_mem_k */
    CHECK_EQ(g16(zp + 0x206), 0x020F);
    CHECK_EQ(g64(zp + 0x258), PREF);
    CHECK_EQ(g32(zp + 0x260), INIT_SIZE);
}

TEST(e820_map_is_exactly_the_vm_ram)
{
    static const uint64_t sizes[] = { 32 * MiB, 64 * MiB, 130 * MiB };
    for (unsigned s = 0; s < 3; s++) {
        vm(sizes[s]);
        struct bzimage_layout l;
        CHECK(load(build(), "", NULL, 0, &l));
        static uint8_t zp[4096];
        read_zp(zp);
        const uint64_t want[4][3] = {
            { 0, 0x9FC00, 1 }, { 0x9FC00, 0x400, 2 }, { 0xE0000, 0x20000, 2 }, { 0x100000, sizes[s] - 0x100000, 1 },
        };
        CHECK_EQ(zp[0x1e8], 4);
        for (unsigned i = 0; i < 4; i++) {
            const uint8_t *e = zp + 0x2d0 + i * 20;
            CHECK_EQ(g64(e), want[i][0]);
            CHECK_EQ(g64(e + 8), want[i][1]);
            CHECK_EQ(g32(e + 16), want[i][2]);
        }
        for (unsigned i = 0x2d0 + 4 * 20; i < 0x2d0 + 128 * 20; i++)
            CHECK_EQ(zp[i], 0);
        CHECK_EQ(g32(zp + 0x1e0), (sizes[s] - MiB) >> 10);
    }
}

struct seg { uint32_t base, limit; unsigned type, s, dpl, p, l, db, g; };
static struct seg decode(uint64_t d)
{
    struct seg x;
    x.limit = (uint32_t)((d & 0xFFFF) | ((d >> 48) & 0xF) << 16);
    x.base = (uint32_t)(((d >> 16) & 0xFFFFFF) | ((d >> 56) & 0xFF) << 24);
    x.type = (d >> 40) & 0xF;
    x.s = (d >> 44) & 1;
    x.dpl = (d >> 45) & 3;
    x.p = (d >> 47) & 1;
    x.l = (d >> 53) & 1;
    x.db = (d >> 54) & 1;
    x.g = (d >> 55) & 1;
    return x;
}

TEST(gdt_has_flat_4gib_boot_cs_and_ds)
{
    vm(32 * MiB);
    struct bzimage_layout l;
    CHECK(load(build(), "", NULL, 0, &l));
    uint64_t d[4];
    CHECK(gmem_read(&gm, l.gdt_gpa, d, sizeof(d)));
    CHECK(d[0] == 0 && d[1] == 0);
    CHECK_EQ(BZ_BOOT_CS, 0x10);
    CHECK_EQ(BZ_BOOT_DS, 0x18);
    CHECK(BZ_BOOT_DS + 7 <= l.gdt_limit);
    for (unsigned i = 2; i < 4; i++) {
        struct seg x = decode(d[i]);
        uint64_t bytes = x.g ? ((uint64_t)x.limit << 12 | 0xFFF) + 1 : x.limit + 1ull;
        CHECK_EQ(x.base, 0);
        CHECK_EQ(bytes, 1ull << 32);
        CHECK(x.s && x.p && x.dpl == 0 && x.db && !x.l);
        CHECK(!(x.type & 4));                           /* non-conforming / expand-up */
        CHECK(x.type & 2);                              /* readable code / writable data */
    }
    CHECK(decode(d[2]).type & 8);                       /* 0x10 is code */
    CHECK(!(decode(d[3]).type & 8));                    /* 0x18 is data */
    CHECK_EQ(d[2], BZ_GDT_CODE_DESC);
    CHECK_EQ(d[3], BZ_GDT_DATA_DESC);
}

TEST(command_line_is_written_and_bounded)
{
    vm(32 * MiB);
    struct bzimage_layout l;
    size_t len = build();
    CHECK(load(len, "console=ttyS0 earlyprintk=serial", NULL, 0, &l));
    static uint8_t zp[4096];
    read_zp(zp);
    char s[64];
    CHECK(gmem_read(&gm, g32(zp + 0x228), s, sizeof(s)));
    CHECK_STR(s, "console=ttyS0 earlyprintk=serial");
    CHECK(load(len, NULL, NULL, 0, &l));
    CHECK(gmem_read(&gm, BZ_CMDLINE_GPA, s, 1));
    CHECK_EQ(s[0], 0);

    static char big[8192];
    memset(big, 'a', sizeof(big) - 1);
    big[2047] = 0;                                      /* exactly cmdline_size */
    CHECK(load(len, big, NULL, 0, &l));
    big[2047] = 'a'; big[2048] = 0;
    CHECK(!load(len, big, NULL, 0, &l));
    CHECK(strstr(err, "command line too long"));
    big[2048] = 'a';
    w32(0x238, 100000);                                 /* the kernel would take more than our area */
    big[BZ_CMDLINE_MAX - 1] = 0;
    CHECK(load(len, big, NULL, 0, &l));
    big[BZ_CMDLINE_MAX - 1] = 'a'; big[BZ_CMDLINE_MAX] = 0;
    CHECK(!load(len, big, NULL, 0, &l));
    CHECK(strstr(err, "command line"));
    w32(0x238, 0);                                      /* no command line at all */
    CHECK(load(len, "", NULL, 0, &l));
    CHECK(!load(len, "x", NULL, 0, &l));
}

TEST(initrd_goes_page_aligned_to_the_top)
{
    vm(64 * MiB);
    struct bzimage_layout l;
    size_t len = build();
    static uint8_t rd[5000], back[5000];
    for (unsigned i = 0; i < sizeof(rd); i++)
        rd[i] = (uint8_t)(i ^ 0x5A);
    CHECK(load(len, "", rd, sizeof(rd), &l));
    CHECK_EQ(l.initrd_size, sizeof(rd));
    CHECK_EQ(l.initrd_gpa & 0xFFF, 0);
    CHECK(l.initrd_gpa + sizeof(rd) <= 64 * MiB && 64 * MiB - (l.initrd_gpa + sizeof(rd)) < 4096);
    CHECK(l.initrd_gpa >= PREF + INIT_SIZE);
    CHECK(gmem_read(&gm, l.initrd_gpa, back, sizeof(back)));
    CHECK(!memcmp(rd, back, sizeof(rd)));
    static uint8_t zp[4096];
    read_zp(zp);
    CHECK_EQ(g32(zp + 0x218), l.initrd_gpa);
    CHECK_EQ(g32(zp + 0x21c), sizeof(rd));

    w32(0x22c, 0x2FFFFFF);                              /* initrd_addr_max below the RAM end */
    CHECK(load(len, "", rd, sizeof(rd), &l));
    CHECK(l.initrd_gpa + sizeof(rd) <= 0x3000000 && 0x3000000 - (l.initrd_gpa + sizeof(rd)) < 4096);
    CHECK_EQ(l.initrd_gpa & 0xFFF, 0);
    w32(0x22c, 0x2FFF7FE);                              /* an odd limit */
    CHECK(load(len, "", rd, sizeof(rd), &l));
    CHECK(l.initrd_gpa + sizeof(rd) <= 0x2FFF7FF);
    CHECK_EQ(l.initrd_gpa & 0xFFF, 0);

    w32(0x22c, 0x7FFFFFFF);                             /* exactly the room above the kernel */
    size_t room = 64 * MiB - (PREF + INIT_SIZE);
    uint8_t *huge = calloc(1, room + 1);
    CHECK(load(len, "", huge, room, &l));
    CHECK_EQ(l.initrd_gpa, PREF + INIT_SIZE);
    CHECK(!load(len, "", huge, room + 1, &l));
    CHECK(strstr(err, "initrd"));
    free(huge);
    w32(0x22c, PREF + INIT_SIZE + 0xFFF);               /* limit under the kernel's reservation */
    CHECK(!load(len, "", rd, sizeof(rd), &l));
    CHECK(strstr(err, "initrd"));
    CHECK(!load(len, "", NULL, 10, &l));
    CHECK(strstr(err, "initrd"));
}

TEST(kernel_placement_follows_the_runtime_start_rule)
{
    vm(64 * MiB);
    struct bzimage_layout l;
    size_t len = build();
    w64(0x258, 0x1100000);                              /* unaligned pref: relocatable aligns up */
    CHECK(load(len, "", NULL, 0, &l));
    CHECK_EQ(l.kernel_gpa, 0x1200000);
    static uint8_t zp[4096];
    read_zp(zp);
    CHECK_EQ(g32(zp + 0x214), 0x1200000);
    w64(0x258, 0);                                      /* no preference: 1 MiB, aligned */
    CHECK(load(len, "", NULL, 0, &l));
    CHECK_EQ(l.kernel_gpa, 0x200000);
    w32(0x230, 0x1000);
    CHECK(load(len, "", NULL, 0, &l));
    CHECK_EQ(l.kernel_gpa, 0x100000);
    w32(0x230, 0x200000);
    w64(0x258, 0x80000);                                /* below 1 MiB: moved up */
    CHECK(load(len, "", NULL, 0, &l));
    CHECK_EQ(l.kernel_gpa, 0x200000);

    img[0x234] = 0;                                     /* not relocatable: exactly at pref */
    w64(0x258, 0x1100000);
    CHECK(load(len, "", NULL, 0, &l));
    CHECK_EQ(l.kernel_gpa, 0x1100000);
    w64(0x258, 0);
    CHECK(load(len, "", NULL, 0, &l));
    CHECK_EQ(l.kernel_gpa, 0x100000);
    w64(0x258, 0x80000);
    CHECK(!load(len, "", NULL, 0, &l));
    CHECK(strstr(err, "below 1 MiB"));

    /* 16 MiB + 4 MiB does not fit 18 MiB; a relocatable kernel loaded lower would still
     * decompress at pref_address, so the loader refuses rather than relocate. */
    len = build();
    vm(18 * MiB);
    CHECK(!load(len, "", NULL, 0, &l));
    CHECK_STR(err, "kernel needs 4 MiB from 0x1000000, VM has 18 MiB");
    vm(16 * MiB);
    CHECK(!load(len, "", NULL, 0, &l));
    CHECK(strstr(err, "kernel needs"));
    vm(32 * MiB);
    w64(0x258, 0xFFFFFFFFFFF00000ull);                  /* absurd pref: no overflow */
    CHECK(!load(len, "", NULL, 0, &l));
    CHECK(strstr(err, "kernel needs"));
    w64(0x258, 0x1000000);
    w32(0x260, 0xFFFFFFFF);
    CHECK(!load(len, "", NULL, 0, &l));
    CHECK(strstr(err, "kernel needs 4096 MiB"));
    gmem_destroy(&gm);
}

static void expect_refusal(size_t len, const char *word)
{
    struct bzimage_info bi;
    struct bzimage_layout l;
    err[0] = 0;
    bool ok = bzimage_parse(img, len, &bi, err, sizeof(err));
    CHECK(!ok);
    if (!strstr(err, word)) {
        fprintf(stderr, "  \"%s\" lacks \"%s\"\n", err, word);
        CHECK(false);
    }
    CHECK(!load(len, "", NULL, 0, &l));
    CHECK(strstr(err, word));
}

TEST(hostile_headers_are_refused_with_reasons)
{
    vm(32 * MiB);
    size_t len = build();
    expect_refusal(0x100, "too short");
    struct bzimage_info bi;
    CHECK(!bzimage_parse(NULL, 0, &bi, err, sizeof(err)));
    build(); w16(0x1fe, 0x55AA);     expect_refusal(len, "0xAA55");
    build(); img[0x205] = 'X';       expect_refusal(len, "HdrS");
    build(); w16(0x206, 0x0209);     expect_refusal(len, "protocol 2.09");
    build(); w16(0x206, 0x0100);     expect_refusal(len, "too old");
    build(); img[0x211] = 0;         expect_refusal(len, "zImage");
    build(); img[0x201] = 0x20;      expect_refusal(len, "header ends");
    build(); img[0x1f1] = 60;        expect_refusal(len, "setup");
    build();                         expect_refusal(setup_bytes, "no protected-mode kernel");
    build(); w32(0x1f4, 0);          expect_refusal(len, "syssize");
    build(); w32(0x1f4, PM_SIZE / 16 + 1); expect_refusal(len, "syssize");
    build(); w32(0x1f4, 0xFFFFFFFF); expect_refusal(len, "syssize");
    build();                         expect_refusal(len - 32, "syssize");
    build(); w32(0x230, 0x300000);   expect_refusal(len, "kernel_alignment");
    build(); w32(0x230, 0);          expect_refusal(len, "kernel_alignment");
    build(); w32(0x260, PM_SIZE - 1); expect_refusal(len, "init_size");

    /* Accepted oddities: a signature appended after syssize, and a last paragraph not padded. */
    build();
    CHECK(bzimage_parse(img, len + 0x200, &bi, err, sizeof(err)));
    CHECK_EQ(bi.pm_size, PM_SIZE);
    CHECK(bzimage_parse(img, len - 8, &bi, err, sizeof(err)));
    CHECK_EQ(bi.pm_size, PM_SIZE - 8);
    gmem_destroy(&gm);
}

TEST(refused_load_leaves_guest_memory_untouched)
{
    vm(32 * MiB);
    CHECK(gmem_fill(&gm, 0, 0xA5, gm.size));
    struct bzimage_layout l;
    size_t len = build();
    static char big[4096];
    memset(big, 'a', sizeof(big) - 1);
    static uint8_t rd[64];
    CHECK(!load(len, big, rd, sizeof(rd), &l));        /* fails last: command line */
    w32(0x22c, 0x100000);
    CHECK(!load(len, "", rd, sizeof(rd), &l));         /* initrd */
    uint8_t *all = malloc(gm.size);
    CHECK(gmem_read(&gm, 0, all, gm.size));
    uint64_t bad = 0;
    for (uint64_t i = 0; i < gm.size; i++)
        bad += all[i] != 0xA5;
    CHECK_EQ(bad, 0);
    free(all);
    gmem_destroy(&gm);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Calls both entry points on an exactly-sized heap copy, so ASan sees any read past the end;
 * a successful load must have placed everything inside the VM as promised. */
static bool try_image(const uint8_t *src, size_t len, size_t rdlen)
{
    static uint8_t rd[1 << 16];
    uint8_t *p = malloc(len ? len : 1);
    memcpy(p, src, len);
    struct bzimage_info bi;
    struct bzimage_layout l;
    char e[160];
    bool parsed = bzimage_parse(p, len, &bi, e, sizeof(e));
    CHECK(parsed || e[0]);
    bool loaded = bzimage_load(&gm, p, len, "console=ttyS0", rd, rdlen, &l, e, sizeof(e));
    if (loaded) {
        CHECK(parsed);
        CHECK(l.kernel_gpa >= 0x100000 && (uint64_t)l.kernel_gpa + bi.init_size <= gm.size);
        CHECK(bi.pm_size <= bi.init_size && bi.pm_offset + (uint64_t)bi.pm_size <= len);
        if (rdlen) {
            CHECK((l.initrd_gpa & 0xFFF) == 0 && l.initrd_gpa >= l.kernel_gpa + bi.init_size);
            CHECK((uint64_t)l.initrd_gpa + rdlen <= MIN(gm.size, bi.initrd_addr_max + 1ull));
        }
    } else {
        CHECK(e[0]);
    }
    free(p);
    return loaded;
}

TEST(fuzz_truncated_random_and_mutated_images)
{
    vm(24 * MiB);
    size_t full = build();
    static uint8_t good[0x10000];
    memcpy(good, img, sizeof(good));
    for (size_t n = 0; n <= full; n++)                  /* every truncation */
        try_image(good, n, n & 1 ? 3000 : 0);

    static uint8_t buf[0x10000];
    for (int it = 0; it < 3000; it++) {                 /* random bytes, sometimes with valid magic */
        size_t n = rnd() % sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rnd();
        if ((it & 1) && n >= 0x264) {
            buf[0x1fe] = 0x55; buf[0x1ff] = 0xAA;
            memcpy(buf + 0x202, "HdrS", 4);
            buf[0x207] = 2;
            buf[0x211] |= 1;
        }
        try_image(buf, n, rnd() % 2 ? rnd() % sizeof(buf) : 0);
    }

    unsigned loaded = 0;
    for (int it = 0; it < 20000; it++) {                /* a valid image with a mangled header */
        memcpy(buf, good, full);
        for (int k = 1 + rnd() % 6; k > 0; k--)
            buf[0x1f0 + rnd() % 0x80] = (uint8_t)(rnd() % 4 ? rnd() : 0);
        size_t n = full + (rnd() % 4 == 0 ? rnd() % 64 : 0);
        loaded += try_image(buf, n, rnd() % 3 ? rnd() % 0x10000 : 0);
    }
    CHECK(loaded > 2000 && loaded < 19000);             /* both paths were exercised */
    gmem_destroy(&gm);
}

TEST(debian_kernel_if_present)
{
    const char *path = "build/linux/vmlinuz";
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "  skipped: %s not present\n", path);
        return;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *k = malloc(n > 0 ? (size_t)n : 1);
    CHECK(n > 0 && fread(k, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    struct bzimage_info bi;
    bool ok = bzimage_parse(k, (size_t)n, &bi, err, sizeof(err));
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "  %s: %s\n", path, err);
        free(k);
        return;
    }
    fprintf(stderr, "  %s: protocol %#x, setup %u, pm %u bytes, pref %#llx, align %#x, init_size %#x, "
            "cmdline_size %u, initrd_addr_max %#x\n", path, bi.version, bi.setup_bytes, bi.pm_size,
            (unsigned long long)bi.pref_address, bi.kernel_alignment, bi.init_size, bi.cmdline_size,
            bi.initrd_addr_max);
    CHECK(bi.version >= 0x020C);
    CHECK(bi.kernel_64);
    CHECK(bi.relocatable);
    CHECK(bi.kernel_alignment >= 0x200000);
    CHECK(bi.pref_address >= 0x100000 && bi.pref_address % bi.kernel_alignment == 0);
    CHECK(bi.cmdline_size >= 255);
    CHECK(bi.pm_size > 1024 * 1024 && bi.init_size > bi.pm_size);
    CHECK(bi.pm_offset + (uint64_t)bi.pm_size <= (uint64_t)n);

    /* Load it with a small initrd into a VM just large enough (plus 8 MiB). */
    uint64_t need = bi.pref_address + bi.init_size + 8 * MiB;
    need = (need + 2 * MiB - 1) & ~(2 * MiB - 1);
    if (need <= ARRAY_SIZE(table) * 2 * MiB) {
        vm(need);
        static uint8_t rd[4096 * 3];                    /* page multiple: it ends exactly at the top */
        memset(rd, 0x77, sizeof(rd));
        struct bzimage_layout l;
        CHECK(bzimage_load(&gm, k, (size_t)n, "console=ttyS0", rd, sizeof(rd), &l, err, sizeof(err)));
        CHECK_EQ(l.entry_gpa, l.kernel_gpa);
        CHECK_EQ(l.kernel_gpa, bi.pref_address);
        static uint8_t head[4096];
        CHECK(gmem_read(&gm, l.kernel_gpa, head, sizeof(head)));
        CHECK(!memcmp(head, k + bi.pm_offset, sizeof(head)));
        CHECK(gmem_read(&gm, l.kernel_gpa + bi.pm_size - sizeof(head), head, sizeof(head)));
        CHECK(!memcmp(head, k + bi.pm_offset + bi.pm_size - sizeof(head), sizeof(head)));
        CHECK(l.initrd_gpa >= l.kernel_gpa + bi.init_size);
        CHECK_EQ(need - (l.initrd_gpa + sizeof(rd)), 0);
        /* Tighter VM: the kernel's own footprint does not fit. */
        vm(((bi.pref_address + bi.init_size) & ~(2 * MiB - 1)) - 2 * MiB);
        CHECK(!bzimage_load(&gm, k, (size_t)n, "", NULL, 0, &l, err, sizeof(err)));
        CHECK(strstr(err, "kernel needs"));
        gmem_destroy(&gm);
    }
    free(k);
}
