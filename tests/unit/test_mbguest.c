/* The Multiboot guest loader against well-formed and hostile images. */
#include "test.h"
#include "vm/mbguest.h"
#include <stdlib.h>

static uint64_t alloc_chunk(void *ctx) { return (uint64_t)(uintptr_t)aligned_alloc(GMEM_CHUNK_SIZE, GMEM_CHUNK_SIZE); }
static void free_chunk(void *ctx, uint64_t hpa) { free((void *)(uintptr_t)hpa); }
static void *ptr(void *ctx, uint64_t hpa) { return (void *)(uintptr_t)hpa; }
static const struct gmem_ops ops = { alloc_chunk, free_chunk, ptr, NULL };

static struct guest_mem gm;
static uint64_t table[8];
static char err[160];
static uint8_t img[16384];

static void w32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void w16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static void fresh(void)
{
    gmem_destroy(&gm);
    CHECK(gmem_init(&gm, 16 << 20, table, &ops));
    memset(img, 0, sizeof(img));
}

/* a.out-kludge image: header at offset 0x40, loaded at 1 MiB, entry at +0x100. */
static size_t build_aout(uint32_t flags)
{
    uint8_t *h = img + 0x40;
    w32(h, 0x1BADB002);
    w32(h + 4, flags | (1u << 16));
    w32(h + 8, (uint32_t)-(0x1BADB002u + (flags | (1u << 16))));
    w32(h + 12, 0x100040);          /* header_addr */
    w32(h + 16, 0x100000);          /* load_addr */
    w32(h + 20, 0x102000);          /* load_end */
    w32(h + 24, 0x103000);          /* bss_end */
    w32(h + 28, 0x100100);          /* entry */
    memcpy(img + 0x100, "\xf4" "code", 5);
    return 0x2000;
}

/* ELF32 with one PT_LOAD at 2 MiB and a Multiboot header without the a.out flag. */
static size_t build_elf(void)
{
    img[0] = 0x7f; img[1] = 'E'; img[2] = 'L'; img[3] = 'F'; img[4] = 1; img[5] = 1;
    w16(img + 18, 3);               /* EM_386 */
    w32(img + 24, 0x200010);        /* entry */
    w32(img + 28, 52);              /* phoff */
    w16(img + 42, 32);
    w16(img + 44, 1);
    uint8_t *ph = img + 52;
    w32(ph, 1);                     /* PT_LOAD */
    w32(ph + 4, 0x1000);            /* offset */
    w32(ph + 12, 0x200000);         /* paddr */
    w32(ph + 16, 0x800);            /* filesz */
    w32(ph + 20, 0x3000);           /* memsz */
    uint8_t *h = img + 0x200;
    w32(h, 0x1BADB002); w32(h + 4, 3); w32(h + 8, (uint32_t)-(0x1BADB002u + 3));
    memset(img + 0x1000, 0xC3, 0x800);
    return 0x1800;
}

TEST(aout_kludge_image_loads_and_zeroes_bss)
{
    fresh();
    struct mbguest_image im;
    size_t len = build_aout(3);
    gmem_fill(&gm, 0x102000, 0xEE, 0x1000);         /* bss must be cleared */
    CHECK(mbguest_load(&gm, img, len, &im, err, sizeof(err)));
    CHECK_EQ(im.entry, 0x100100);
    CHECK_EQ(im.load_end, 0x103000);
    uint8_t b[5];
    gmem_read(&gm, 0x100100, b, 5);
    CHECK(!memcmp(b, "\xf4" "code", 5));
    gmem_read(&gm, 0x102ff0, b, 1);
    CHECK_EQ(b[0], 0);
}

TEST(elf_image_loads)
{
    fresh();
    struct mbguest_image im;
    CHECK(mbguest_load(&gm, img, build_elf(), &im, err, sizeof(err)));
    CHECK_EQ(im.entry, 0x200010);
    CHECK_EQ(im.load_start, 0x200000);
    CHECK_EQ(im.load_end, 0x203000);
    uint8_t b[2];
    gmem_read(&gm, 0x2007ff, b, 2);
    CHECK(b[0] == 0xC3 && b[1] == 0);
}

TEST(hostile_images_are_refused_with_reasons)
{
    struct mbguest_image im;
    fresh();
    CHECK(!mbguest_load(&gm, img, 4096, &im, err, sizeof(err)));
    CHECK(strstr(err, "no Multiboot1 header"));

    fresh();
    size_t len = build_aout(1u << 2);               /* wants a video mode */
    CHECK(!mbguest_load(&gm, img, len, &im, err, sizeof(err)));
    CHECK(strstr(err, "video mode"));

    fresh();
    len = build_aout(1u << 5);                      /* unknown required flag */
    CHECK(!mbguest_load(&gm, img, len, &im, err, sizeof(err)));

    fresh();
    len = build_aout(0);
    w32(img + 0x40 + 20, 0x900000);                 /* load_end past the file */
    CHECK(!mbguest_load(&gm, img, len, &im, err, sizeof(err)));
    CHECK(strstr(err, "file has"));

    fresh();
    len = build_aout(0);
    w32(img + 0x40 + 12, 0x0FF0040); w32(img + 0x40 + 16, 0xFF0000); /* beyond 16 MiB of RAM */
    w32(img + 0x40 + 20, 0xFF2000); w32(img + 0x40 + 24, 0x10003000); w32(img + 0x40 + 28, 0xFF0100);
    CHECK(!mbguest_load(&gm, img, len, &im, err, sizeof(err)));
    CHECK(strstr(err, "does not fit"));

    fresh();
    len = build_aout(0);
    w32(img + 0x40 + 12, 0x7040); w32(img + 0x40 + 16, 0x7000);  /* over the info block */
    w32(img + 0x40 + 20, 0x9000); w32(img + 0x40 + 24, 0); w32(img + 0x40 + 28, 0x7100);
    CHECK(!mbguest_load(&gm, img, len, &im, err, sizeof(err)));

    fresh();
    len = build_aout(0);
    w32(img + 0x40 + 28, 0x500000);                 /* entry outside the image */
    CHECK(!mbguest_load(&gm, img, len, &im, err, sizeof(err)));
    CHECK(strstr(err, "entry point"));

    fresh();
    len = build_elf();
    w32(img + 52 + 20, 0x100);                      /* memsz < filesz */
    CHECK(!mbguest_load(&gm, img, len, &im, err, sizeof(err)));

    fresh();
    len = build_elf();
    w32(img + 52 + 4, 0xFFFFF000);                  /* segment data outside the file */
    CHECK(!mbguest_load(&gm, img, len, &im, err, sizeof(err)));

    fresh();
    len = build_elf();
    w32(img + 52 + 12, 0xFFFFF000);                 /* paddr + memsz wraps */
    CHECK(!mbguest_load(&gm, img, len, &im, err, sizeof(err)));

    fresh();
    len = build_elf();
    w16(img + 44, 5000);                            /* absurd phnum */
    CHECK(!mbguest_load(&gm, img, len, &im, err, sizeof(err)));

    fresh();
    len = build_elf();
    w32(img + 24, 0x100);                           /* ELF entry outside segments */
    CHECK(!mbguest_load(&gm, img, len, &im, err, sizeof(err)));
    gmem_destroy(&gm);
}

TEST(info_block_describes_exactly_the_vm)
{
    fresh();
    struct mbguest_module mods[2] = { { 0xF00000, 0xF00010, "initrd a=1" }, { 0xF01000, 0xF01001, NULL } };
    uint32_t info;
    CHECK(mbguest_write_info(&gm, "console=ttyS0", mods, 2, &info, err, sizeof(err)));
    CHECK_EQ(info, MBGUEST_INFO_GPA);
    uint8_t h[116];
    gmem_read(&gm, info, h, sizeof(h));
    uint32_t flags, upper, mmap_len, mmap_addr, mods_count, mods_addr, cmd;
    memcpy(&flags, h, 4); memcpy(&upper, h + 8, 4); memcpy(&cmd, h + 16, 4);
    memcpy(&mods_count, h + 20, 4); memcpy(&mods_addr, h + 24, 4);
    memcpy(&mmap_len, h + 44, 4); memcpy(&mmap_addr, h + 48, 4);
    CHECK_EQ(flags, 0x24D);                         /* mem, cmdline, mods, mmap, loader */
    CHECK_EQ(upper, (16 << 10) - 1024);
    CHECK_EQ(mods_count, 2);
    char s[32];
    gmem_read(&gm, cmd, s, sizeof(s));
    CHECK_STR(s, "console=ttyS0");
    uint32_t m0[4];
    gmem_read(&gm, mods_addr, m0, 16);
    CHECK(m0[0] == 0xF00000 && m0[1] == 0xF00010);
    gmem_read(&gm, m0[2], s, sizeof(s));
    CHECK_STR(s, "initrd a=1");
    /* The map's last available range ends exactly at the VM's RAM end. */
    uint8_t e[24];
    gmem_read(&gm, mmap_addr + mmap_len - 24, e, 24);
    uint64_t base, len;
    memcpy(&base, e + 4, 8); memcpy(&len, e + 12, 8);
    CHECK_EQ(base + len, 16 << 20);
    CHECK(!mbguest_write_info(&gm, "x", mods, MBGUEST_MAX_MODULES + 1, &info, err, sizeof(err)));
    gmem_destroy(&gm);
}
