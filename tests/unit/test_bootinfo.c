/* Boot information parsing: well-formed MB1/MB2 blocks as GRUB, QEMU and iPXE lay them out,
 * and malformed ones that must give an error, never a read outside "physical memory". */
#include "test.h"
#include "boot/bootinfo.h"
#include <stdlib.h>

/* Fake physical memory [PHYS_BASE, PHYS_BASE + PHYS_SIZE). */
#define PHYS_BASE 0x10000u
#define PHYS_SIZE 0x10000u
static uint8_t phys[PHYS_SIZE];
static unsigned reads_refused;

static const void *rd(void *ctx, uint64_t pa, size_t len)
{
    (void)ctx;
    if (pa < PHYS_BASE || pa + len > PHYS_BASE + PHYS_SIZE || pa + len < pa) {
        reads_refused++;
        return NULL;
    }
    return phys + (pa - PHYS_BASE);
}

static void w32(uint32_t pa, uint32_t v) { memcpy(phys + pa - PHYS_BASE, &v, 4); }
static void w64(uint32_t pa, uint64_t v) { memcpy(phys + pa - PHYS_BASE, &v, 8); }
static void wstr(uint32_t pa, const char *s) { memcpy(phys + pa - PHYS_BASE, s, strlen(s) + 1); }

static struct boot_info bi;

/* ---- Multiboot1 ---- */
#define MB1 0x10000u
static void mb1_build(void)
{
    memset(phys, 0, sizeof(phys));
    w32(MB1 + 0, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9));
    w32(MB1 + 4, 639);
    w32(MB1 + 8, 130048);
    w32(MB1 + 16, 0x11000);             /* cmdline */
    wstr(0x11000, "monovisor.elf console=com1");
    w32(MB1 + 20, 2);                   /* mods_count */
    w32(MB1 + 24, 0x12000);             /* mods_addr */
    w32(0x12000, 0x400000); w32(0x12004, 0x401000); w32(0x12008, 0x11100); w32(0x1200c, 0);
    w32(0x12010, 0x402000); w32(0x12014, 0x402010); w32(0x12018, 0); w32(0x1201c, 0);
    wstr(0x11100, "guest.elf name=a");
    w32(MB1 + 44, 3 * 24);              /* mmap_length: entries of size 20 (+4) */
    w32(MB1 + 48, 0x13000);
    for (int i = 0; i < 3; i++) {
        uint32_t e = 0x13000 + i * 24;
        static const uint64_t b[] = { 0, 0x9fc00, 0x100000 }, l[] = { 0x9fc00, 0x400, 0x7f00000 };
        static const uint32_t t[] = { 1, 2, 1 };
        w32(e, 20); w64(e + 4, b[i]); w64(e + 12, l[i]); w32(e + 20, t[i]);
    }
    w32(MB1 + 64, 0x11200);
    wstr(0x11200, "iPXE 1.0");
}

TEST(mb1_wellformed)
{
    mb1_build();
    CHECK(bootinfo_parse(&bi, MB1_BOOT_MAGIC, MB1, rd, NULL));
    CHECK_EQ(bi.protocol, 1);
    CHECK_STR(bi.cmdline, "monovisor.elf console=com1");
    CHECK_STR(bi.loader, "iPXE 1.0");
    CHECK_EQ(bi.n_mmap, 3);
    CHECK_EQ(bi.mmap[2].base, 0x100000);
    CHECK_EQ(bi.mmap[2].len, 0x7f00000);
    CHECK_EQ(bi.mmap[1].type, MMAP_RESERVED);
    CHECK_EQ(bi.n_mods, 2);
    CHECK_EQ(bi.mods[0].start, 0x400000);
    CHECK_EQ(bi.mods[0].end, 0x401000);
    CHECK_STR(bi.mods[0].cmdline, "guest.elf name=a");
    CHECK_STR(bi.mods[1].cmdline, "");
    CHECK_EQ(bi.mem_upper_kb, 130048);
}

TEST(mb1_no_mmap_falls_back_to_basic_memory)
{
    mb1_build();
    w32(MB1, (1 << 0));
    CHECK(bootinfo_parse(&bi, MB1_BOOT_MAGIC, MB1, rd, NULL));
    CHECK_EQ(bi.n_mmap, 2);
    CHECK_EQ(bi.mmap[1].base, 0x100000);
    CHECK_EQ(bi.mmap[1].len, 130048ull << 10);
    w32(MB1, 0);
    CHECK(!bootinfo_parse(&bi, MB1_BOOT_MAGIC, MB1, rd, NULL));
    CHECK(strstr(bi.err, "no memory map") != NULL);
}

TEST(mb1_malformed)
{
    mb1_build();
    w32(MB1 + 16, 0x1fff0);              /* cmdline runs off the end of memory */
    memset(phys + 0x1fff0 - PHYS_BASE, 'A', 16);
    CHECK(!bootinfo_parse(&bi, MB1_BOOT_MAGIC, MB1, rd, NULL));
    CHECK(strstr(bi.err, "command line") != NULL);

    mb1_build();
    w32(MB1 + 20, 100000);               /* absurd module count */
    CHECK(!bootinfo_parse(&bi, MB1_BOOT_MAGIC, MB1, rd, NULL));
    CHECK(strstr(bi.err, "module count") != NULL);

    mb1_build();
    w32(MB1 + 24, 0xFFFFFFF0);           /* module list outside memory */
    CHECK(!bootinfo_parse(&bi, MB1_BOOT_MAGIC, MB1, rd, NULL));
    CHECK(strstr(bi.err, "module list") != NULL);

    mb1_build();
    w32(0x12004, 0x3ff000);              /* module ends before it starts */
    CHECK(!bootinfo_parse(&bi, MB1_BOOT_MAGIC, MB1, rd, NULL));
    CHECK(strstr(bi.err, "ends") != NULL);

    mb1_build();
    w32(0x13000 + 24, 4);                /* mmap entry size too small */
    CHECK(!bootinfo_parse(&bi, MB1_BOOT_MAGIC, MB1, rd, NULL));
    CHECK(strstr(bi.err, "bad size") != NULL);

    mb1_build();
    w32(0x13000 + 48, 1000);             /* last entry claims more than the map holds */
    CHECK(!bootinfo_parse(&bi, MB1_BOOT_MAGIC, MB1, rd, NULL));

    mb1_build();
    CHECK(!bootinfo_parse(&bi, MB1_BOOT_MAGIC, 0x1ffc0, rd, NULL));  /* header truncated */
    CHECK(strstr(bi.err, "not in readable memory") != NULL);

    CHECK(!bootinfo_parse(&bi, 0x12345678, MB1, rd, NULL));
    CHECK(strstr(bi.err, "not started by a Multiboot loader") != NULL);
}

TEST(mb1_mmap_entry_wrapping_is_clipped)
{
    mb1_build();
    w64(0x13000 + 48 + 4, 0xFFFFFFFFFFFFF000ull);
    w64(0x13000 + 48 + 12, 0x10000);
    CHECK(bootinfo_parse(&bi, MB1_BOOT_MAGIC, MB1, rd, NULL));
    CHECK_EQ(bi.mmap[2].base + bi.mmap[2].len, 0);   /* ends exactly at 2^64 */
}

/* ---- Multiboot2 ---- */
#define MB2 0x14000u
static uint32_t mb2_off;
static void mb2_tag(uint32_t type, const void *body, uint32_t blen)
{
    w32(MB2 + mb2_off, type);
    w32(MB2 + mb2_off + 4, 8 + blen);
    if (blen)
        memcpy(phys + MB2 + mb2_off + 8 - PHYS_BASE, body, blen);
    mb2_off += (8 + blen + 7) & ~7u;
}
static void mb2_begin(void) { memset(phys, 0, sizeof(phys)); mb2_off = 8; }
static void mb2_end(void) { mb2_tag(0, NULL, 0); w32(MB2, mb2_off); w32(MB2 + 4, 0); }

static void mb2_build(void)
{
    mb2_begin();
    mb2_tag(1, "console=com1", 13);
    mb2_tag(2, "GRUB 2.06", 10);
    uint8_t mod[8 + 12];
    uint32_t s = 0x500000, e = 0x5fffff;
    memcpy(mod, &s, 4); memcpy(mod + 4, &e, 4); memcpy(mod + 8, "linux root", 11);
    mb2_tag(3, mod, 8 + 11);
    uint8_t mm[8 + 2 * 24] = { 0 };
    uint32_t esz = 24;
    memcpy(mm, &esz, 4);
    uint64_t b0 = 0, l0 = 0x9fc00, b1 = 0x100000, l1 = 0x3ff00000;
    uint32_t t = 1;
    memcpy(mm + 8, &b0, 8); memcpy(mm + 16, &l0, 8); memcpy(mm + 24, &t, 4);
    memcpy(mm + 32, &b1, 8); memcpy(mm + 40, &l1, 8); memcpy(mm + 48, &t, 4);
    mb2_tag(6, mm, sizeof(mm));
    uint8_t fb[24] = { 0 };
    uint64_t fba = 0xfd000000; uint32_t pitch = 4096, w = 1024, h = 768;
    memcpy(fb, &fba, 8); memcpy(fb + 8, &pitch, 4); memcpy(fb + 12, &w, 4); memcpy(fb + 16, &h, 4);
    fb[20] = 32; fb[21] = 1;
    mb2_tag(8, fb, sizeof(fb));
    uint64_t st = 0x7fe00000;
    mb2_tag(12, &st, 8);
    mb2_tag(99, "unknown tags are skipped", 25);
    mb2_end();
}

TEST(mb2_wellformed)
{
    mb2_build();
    CHECK(bootinfo_parse(&bi, MB2_BOOT_MAGIC, MB2, rd, NULL));
    CHECK_EQ(bi.protocol, 2);
    CHECK_STR(bi.cmdline, "console=com1");
    CHECK_STR(bi.loader, "GRUB 2.06");
    CHECK_EQ(bi.n_mods, 1);
    CHECK_EQ(bi.mods[0].start, 0x500000);
    CHECK_EQ(bi.mods[0].end, 0x5fffff);
    CHECK_STR(bi.mods[0].cmdline, "linux root");
    CHECK_EQ(bi.n_mmap, 2);
    CHECK_EQ(bi.mmap[1].len, 0x3ff00000);
    CHECK(bi.fb.present);
    CHECK_EQ(bi.fb.width, 1024);
    CHECK_EQ(bi.fb.bpp, 32);
    CHECK(bi.efi64);
    CHECK_EQ(bi.efi_system_table, 0x7fe00000);
}

TEST(mb2_malformed)
{
    mb2_build();
    CHECK(!bootinfo_parse(&bi, MB2_BOOT_MAGIC, MB2 + 4, rd, NULL));    /* misaligned */
    CHECK(strstr(bi.err, "aligned") != NULL);

    mb2_build();
    w32(MB2, 0xFFFFFFF0);                                               /* absurd total size */
    CHECK(!bootinfo_parse(&bi, MB2_BOOT_MAGIC, MB2, rd, NULL));
    CHECK(strstr(bi.err, "total_size") != NULL);

    mb2_build();
    w32(MB2, 0xF000);                                                   /* past end of memory */
    CHECK(!bootinfo_parse(&bi, MB2_BOOT_MAGIC, MB2, rd, NULL));

    mb2_build();
    w32(MB2 + 12, 0x100000);                                            /* tag size too big */
    CHECK(!bootinfo_parse(&bi, MB2_BOOT_MAGIC, MB2, rd, NULL));
    CHECK(strstr(bi.err, "bad size") != NULL);

    mb2_build();
    w32(MB2 + 12, 4);                                                   /* tag size < header */
    CHECK(!bootinfo_parse(&bi, MB2_BOOT_MAGIC, MB2, rd, NULL));

    mb2_build();
    phys[MB2 + 8 + 8 + 12 - PHYS_BASE] = 'X';                          /* cmdline not terminated */
    CHECK(!bootinfo_parse(&bi, MB2_BOOT_MAGIC, MB2, rd, NULL));
    CHECK(strstr(bi.err, "NUL-terminated") != NULL);

    mb2_begin();                                                        /* no end tag */
    mb2_tag(1, "x", 2);
    w32(MB2, mb2_off);
    CHECK(!bootinfo_parse(&bi, MB2_BOOT_MAGIC, MB2, rd, NULL));
    CHECK(strstr(bi.err, "end tag") != NULL);

    mb2_begin();                                                        /* mmap entry size 0 */
    uint8_t mm[16] = { 0 };
    mb2_tag(6, mm, sizeof(mm));
    mb2_end();
    CHECK(!bootinfo_parse(&bi, MB2_BOOT_MAGIC, MB2, rd, NULL));
    CHECK(strstr(bi.err, "entry size") != NULL);

    mb2_begin();                                                        /* module tag too short */
    mb2_tag(3, "ab", 3);
    mb2_end();
    CHECK(!bootinfo_parse(&bi, MB2_BOOT_MAGIC, MB2, rd, NULL));
}

TEST(mb2_too_many_modules_are_counted_not_overflowed)
{
    mb2_begin();
    for (int i = 0; i < BI_MAX_MODULES + 3; i++) {
        uint8_t mod[10] = { 0 };
        uint32_t s = 0x100000 * (i + 1), e = s + 10;
        memcpy(mod, &s, 4); memcpy(mod + 4, &e, 4);
        mb2_tag(3, mod, sizeof(mod));
    }
    uint8_t mm[8 + 24] = { 0 };
    uint32_t esz = 24, t = 1;
    uint64_t l = 0x100000;
    memcpy(mm, &esz, 4); memcpy(mm + 16, &l, 8); memcpy(mm + 24, &t, 4);
    mb2_tag(6, mm, sizeof(mm));
    mb2_end();
    CHECK(bootinfo_parse(&bi, MB2_BOOT_MAGIC, MB2, rd, NULL));
    CHECK_EQ(bi.n_mods, BI_MAX_MODULES);
    CHECK_EQ(bi.mods_dropped, 3);
}

/* Random garbage must never crash or read outside (ASan watches the fake memory). */
TEST(garbage_never_crashes)
{
    srand(1234);
    int parsed = 0;
    for (int iter = 0; iter < 20000; iter++) {
        iter % 2 ? mb2_build() : mb1_build();
        int flips = 1 + rand() % 8;
        for (int i = 0; i < flips; i++) {
            uint32_t off = (iter % 2 ? MB2 - PHYS_BASE : 0) + rand() % 0x400;
            phys[off] = (uint8_t)rand();
        }
        parsed += bootinfo_parse(&bi, iter % 2 ? MB2_BOOT_MAGIC : MB1_BOOT_MAGIC,
                                 iter % 2 ? MB2 : MB1, rd, NULL);
        CHECK(bi.n_mods <= BI_MAX_MODULES && bi.n_mmap <= BI_MAX_MMAP);
        CHECK(strlen(bi.cmdline) < BI_CMDLINE_MAX);
    }
    CHECK(parsed > 0);      /* some corruptions are harmless: the parser still accepts them */
}
