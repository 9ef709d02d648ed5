#include "bzimage.h"
#include "lib.h"

/* Setup header fields, at their file offsets (which are also their zero-page offsets). */
#define BZ_HDR_START            0x1F1u      /* the header is copied from here ... */
#define BZ_HDR_SETUP_SECTS      0x1F1u      /* u8: 512-byte setup sectors after the boot sector */
#define BZ_HDR_SYSSIZE          0x1F4u      /* u32: protected-mode part in 16-byte paragraphs */
#define BZ_HDR_BOOT_FLAG        0x1FEu      /* u16: 0xAA55 */
#define BZ_HDR_JUMP             0x200u      /* 0xEB, then a byte offset relative to 0x202 ... */
#define BZ_HDR_JUMP_OFFSET      0x201u      /* ... which marks the end of the header */
#define BZ_HDR_MAGIC            0x202u      /* u32: "HdrS" */
#define BZ_HDR_VERSION          0x206u      /* u16: protocol version */
#define BZ_HDR_TYPE_OF_LOADER   0x210u      /* u8, write */
#define BZ_HDR_LOADFLAGS        0x211u      /* u8, modify */
#define BZ_HDR_CODE32_START     0x214u      /* u32, modify: the 32-bit entry point */
#define BZ_HDR_RAMDISK_IMAGE    0x218u      /* u32, write */
#define BZ_HDR_RAMDISK_SIZE     0x21Cu      /* u32, write */
#define BZ_HDR_HEAP_END_PTR     0x224u      /* u16: real-mode setup heap, unused here */
#define BZ_HDR_CMD_LINE_PTR     0x228u      /* u32, write */
#define BZ_HDR_INITRD_ADDR_MAX  0x22Cu      /* u32: highest byte an initrd may occupy */
#define BZ_HDR_KERNEL_ALIGNMENT 0x230u      /* u32 */
#define BZ_HDR_RELOCATABLE      0x234u      /* u8: relocatable_kernel */
#define BZ_HDR_XLOADFLAGS       0x236u      /* u16, protocol 2.12+ */
#define BZ_HDR_CMDLINE_SIZE     0x238u      /* u32: longest command line, without the NUL */
#define BZ_HDR_HARDWARE_SUBARCH 0x23Cu      /* u32, write: 0 = PC */
#define BZ_HDR_HW_SUBARCH_DATA  0x240u      /* u64, write */
#define BZ_HDR_SETUP_DATA       0x250u      /* u64, write: linked list of extra data, none */
#define BZ_HDR_PREF_ADDRESS     0x258u      /* u64 */
#define BZ_HDR_INIT_SIZE        0x260u      /* u32 */
#define BZ_HDR_USED_END         0x264u      /* end of the last field read (init_size) */

#define BZ_BOOT_FLAG            0xAA55u
#define BZ_HDRS_MAGIC           0x53726448u /* "HdrS" little-endian */
#define BZ_XLOADFLAGS_VERSION   0x020Cu
#define BZ_SECTOR               512u
#define BZ_DEFAULT_SETUP_SECTS  4u          /* setup_sects == 0 means 4 */

#define LOADED_HIGH             BIT(0)      /* read: a bzImage, protected-mode part at 1 MiB+ */
#define QUIET_FLAG              BIT(5)      /* write: suppress early messages; we want them */
#define KEEP_SEGMENTS           BIT(6)      /* write (obsolete): 1 = do not reload segments */
#define CAN_USE_HEAP            BIT(7)      /* write: heap_end_ptr valid */
#define XLF_KERNEL_64           BIT(0)      /* has the 64-bit entry at +0x200 */
#define LOADER_TYPE_UNDEFINED   0xFFu       /* a loader without an assigned id */

/* struct boot_params (zero page) fields outside the setup header (zero-page.rst). */
#define BP_ALT_MEM_K            0x1E0u      /* u32: KiB of memory above 1 MiB */
#define BP_E820_ENTRIES         0x1E8u      /* u8 */
#define BP_HDR_AREA_END         0x290u      /* the header area ends where edd_mbr_sig_buffer starts */
#define BP_E820_TABLE           0x2D0u      /* struct boot_e820_entry[E820_MAX] */
#define E820_MAX                128u
#define E820_ENTRY_SIZE         20u         /* u64 addr, u64 size, u32 type, packed */
#define E820_RAM                1u
#define E820_RESERVED           2u

#define LOW_MEM_END             0x9FC00u    /* conventional memory; the EBDA's 1 KiB above it */
#define VGA_START               0xA0000u
#define BIOS_AREA_START         0xE0000u    /* BIOS area: the firmware tables (vm/pc_firmware.c) */
#define HIGH_MEM_START          0x100000u
#define FOUR_GIB                0x100000000ull
#define PAGE_SIZE               0x1000u
#define MIB                     0x100000ull

STATIC_ASSERT(BZ_GDT_GPA + BZ_GDT_LIMIT + 1 <= BZ_BOOT_PARAMS_GPA, "GDT overlaps the zero page");
STATIC_ASSERT(BZ_BOOT_PARAMS_GPA + BZ_BOOT_PARAMS_SIZE <= BZ_CMDLINE_GPA, "zero page overlaps the command line");
STATIC_ASSERT(BZ_CMDLINE_GPA + BZ_CMDLINE_MAX <= 0x9F000u, "low layout must stay below the EBDA");
STATIC_ASSERT(BP_E820_TABLE + E820_MAX * E820_ENTRY_SIZE <= BZ_BOOT_PARAMS_SIZE, "e820 table outside the zero page");

#define FAIL(...) do { ksnprintf(err, errlen, __VA_ARGS__); return false; } while (0)

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void put16(uint8_t *b, uint32_t off, uint16_t v) { memcpy(b + off, &v, 2); }
static void put32(uint8_t *b, uint32_t off, uint32_t v) { memcpy(b + off, &v, 4); }
static void put64(uint8_t *b, uint32_t off, uint64_t v) { memcpy(b + off, &v, 8); }
static unsigned long long mib_up(uint64_t n) { return (n + MIB - 1) / MIB; }

/* Parses into out and returns the header's end (0x202 + the jump's offset byte) in hdr_end. */
static bool parse(const uint8_t *img, size_t len, struct bzimage_info *out, uint32_t *hdr_end,
                  char *err, size_t errlen)
{
    if (!img || len < BZ_HDR_USED_END)
        FAIL("file too short (%zu bytes) to hold a Linux setup header", img ? len : 0);
    if (rd16(img + BZ_HDR_BOOT_FLAG) != BZ_BOOT_FLAG)
        FAIL("no boot flag 0xAA55 at 0x1fe: not a Linux kernel image");
    if (rd32(img + BZ_HDR_MAGIC) != BZ_HDRS_MAGIC)
        FAIL("no \"HdrS\" setup header magic at 0x202: not a Linux bzImage");
    uint16_t version = rd16(img + BZ_HDR_VERSION);
    if (version < BZ_MIN_PROTOCOL)
        FAIL("boot protocol %u.%02u is too old: need %u.%02u (init_size, pref_address)",
             version >> 8, version & 0xFF, BZ_MIN_PROTOCOL >> 8, BZ_MIN_PROTOCOL & 0xFF);
    if (!(img[BZ_HDR_LOADFLAGS] & LOADED_HIGH))
        FAIL("a zImage (LOADED_HIGH clear in loadflags): only bzImages are supported");
    /* The jump at 0x200 skips the header, so its target bounds it; a 2.10+ header is at least
     * as long as the fields read here. */
    uint32_t end = BZ_HDR_MAGIC + img[BZ_HDR_JUMP_OFFSET];
    if (end < BZ_HDR_USED_END)
        FAIL("setup header ends at %#x (jump at 0x200), before the protocol 2.10 fields end at %#x",
             end, BZ_HDR_USED_END);
    unsigned sects = img[BZ_HDR_SETUP_SECTS] ? img[BZ_HDR_SETUP_SECTS] : BZ_DEFAULT_SETUP_SECTS;
    uint32_t setup_bytes = sects * BZ_SECTOR + BZ_SECTOR;   /* always > 0x301 >= end */
    if (setup_bytes > len)
        FAIL("setup_sects %u makes the setup %u bytes, larger than the %zu-byte file",
             img[BZ_HDR_SETUP_SECTS], setup_bytes, len);
    uint64_t pm_avail = len - setup_bytes;
    if (pm_avail == 0)
        FAIL("no protected-mode kernel after the %u-byte setup", setup_bytes);
    /* syssize is the protected-mode part rounded up to 16 bytes (Linux pads it so). Bytes after
     * it are allowed: a Secure Boot signature is appended that way. */
    uint32_t syssize = rd32(img + BZ_HDR_SYSSIZE);
    uint64_t sys_bytes = (uint64_t)syssize * 16;
    if (syssize == 0 || sys_bytes >= pm_avail + 16)
        FAIL("syssize %#x (%llu bytes) inconsistent with the %llu-byte protected-mode part: truncated file?",
             syssize, (unsigned long long)sys_bytes, (unsigned long long)pm_avail);
    uint64_t pm_size = MIN(sys_bytes, pm_avail);
    uint32_t align = rd32(img + BZ_HDR_KERNEL_ALIGNMENT);
    if (align == 0 || (align & (align - 1)))
        FAIL("kernel_alignment %#x is not a power of two", align);
    uint32_t init_size = rd32(img + BZ_HDR_INIT_SIZE);
    if (init_size < pm_size)
        FAIL("init_size %#x is smaller than the %#llx-byte protected-mode kernel",
             init_size, (unsigned long long)pm_size);

    out->version = version;
    out->setup_bytes = setup_bytes;
    out->pm_offset = setup_bytes;
    out->pm_size = (uint32_t)pm_size;
    out->pref_address = rd64(img + BZ_HDR_PREF_ADDRESS);
    out->kernel_alignment = align;
    out->init_size = init_size;
    out->cmdline_size = rd32(img + BZ_HDR_CMDLINE_SIZE);
    out->initrd_addr_max = rd32(img + BZ_HDR_INITRD_ADDR_MAX);
    out->relocatable = img[BZ_HDR_RELOCATABLE] != 0;
    out->kernel_64 = version >= BZ_XLOADFLAGS_VERSION && (rd16(img + BZ_HDR_XLOADFLAGS) & XLF_KERNEL_64);
    *hdr_end = end;
    return true;
}

bool bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *out, char *err, size_t errlen)
{
    uint32_t hdr_end;
    return parse(img, len, out, &hdr_end, err, errlen);
}

/* Where the kernel runs. boot.rst (init_size): a relocatable kernel's runtime start is
 * align_up(max(load address, pref_address), kernel_alignment) -- the decompressor moves itself
 * up to pref_address if loaded below it -- and a non-relocatable one's is pref_address. So
 * loading below pref_address never saves memory: it is loaded at its runtime start, and if
 * [start, start + init_size) does not fit there is no address that does. Relocation only
 * matters for a pref_address that is unaligned or below 1 MiB (or 0: "no preference"). */
uint64_t bzimage_runtime_start(const struct bzimage_info *bi)
{
    uint64_t pref = bi->pref_address ? bi->pref_address : HIGH_MEM_START;
    if (!bi->relocatable || pref >= FOUR_GIB)
        return pref;
    uint64_t s = MAX(pref, HIGH_MEM_START);                 /* no overflow: s < 2^32, align <= 2^31 */
    return (s + bi->kernel_alignment - 1) & ~(uint64_t)(bi->kernel_alignment - 1);
}

static bool place_kernel(const struct guest_mem *gm, const struct bzimage_info *bi, uint64_t *start,
                         char *err, size_t errlen)
{
    uint64_t limit = MIN(gm->size, FOUR_GIB);               /* code32_start is 32 bits */
    uint64_t s = bzimage_runtime_start(bi);
    if (!bi->relocatable && s < HIGH_MEM_START)
        FAIL("non-relocatable kernel must run at %#llx, below 1 MiB", (unsigned long long)s);
    if (s >= limit || bi->init_size > limit - s)
        FAIL("kernel needs %llu MiB from %#llx, VM has %llu MiB", mib_up(bi->init_size),
             (unsigned long long)s, (unsigned long long)(gm->size / MIB));
    *start = s;
    return true;
}

/* The initrd goes as high as allowed: page-aligned start, end at or below min(RAM end,
 * initrd_addr_max + 1), above the kernel's init_size reservation. */
static bool place_initrd(const struct guest_mem *gm, const struct bzimage_info *bi, uint64_t kernel_end,
                         size_t initrd_len, uint64_t *start, char *err, size_t errlen)
{
    uint64_t top = MIN(gm->size, (uint64_t)bi->initrd_addr_max + 1);
    uint64_t s = initrd_len <= top ? (top - initrd_len) & ~(uint64_t)(PAGE_SIZE - 1) : 0;
    if (initrd_len > top || s < kernel_end)
        FAIL("initrd of %llu KiB does not fit between the kernel's end at %#llx and %#llx "
             "(RAM end or initrd_addr_max + 1)", (unsigned long long)((initrd_len + 1023) / 1024),
             (unsigned long long)kernel_end, (unsigned long long)top);
    *start = s;
    return true;
}

static void put_e820(uint8_t *zp, unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
    uint32_t e = BP_E820_TABLE + i * E820_ENTRY_SIZE;
    put64(zp, e, addr);
    put64(zp, e + 8, size);
    put32(zp, e + 16, type);
}

bool bzimage_load(struct guest_mem *gm, const uint8_t *img, size_t len, const char *cmdline,
                  const uint8_t *initrd, size_t initrd_len, struct bzimage_layout *out,
                  char *err, size_t errlen)
{
    static uint8_t zp[BZ_BOOT_PARAMS_SIZE];
    struct bzimage_info bi;
    uint32_t hdr_end;
    if (!parse(img, len, &bi, &hdr_end, err, errlen))
        return false;
    if (gm->size <= HIGH_MEM_START)
        FAIL("VM has %llu KiB of RAM, a Linux guest needs more than 1 MiB",
             (unsigned long long)(gm->size >> 10));

    /* Everything is checked before anything is written. */
    uint64_t kaddr, iaddr = 0;
    if (!place_kernel(gm, &bi, &kaddr, err, errlen))
        return false;
    if (initrd_len) {
        if (!initrd)
            FAIL("initrd of %zu bytes has no data", initrd_len);
        if (!place_initrd(gm, &bi, kaddr + bi.init_size, initrd_len, &iaddr, err, errlen))
            return false;
    }
    const char *cl = cmdline ? cmdline : "";
    uint32_t cmax = MIN(bi.cmdline_size, BZ_CMDLINE_MAX - 1);
    size_t clen = kstrnlen(cl, (size_t)cmax + 1);
    if (clen > cmax)
        FAIL("command line too long: at most %u bytes (kernel cmdline_size %u, loader area %u)",
             cmax, bi.cmdline_size, BZ_CMDLINE_MAX - 1);

    /* The zero page: zeroed, the setup header copied at its own offsets (up to 0x202 + the byte
     * at 0x201, but never past the header's area in struct boot_params), then patched. Copying
     * from 0x1f1 only leaves the sentinel at 0x1ef zero: the kernel trusts the rest. */
    memset(zp, 0, sizeof(zp));
    memcpy(zp + BZ_HDR_START, img + BZ_HDR_START, MIN(hdr_end, BP_HDR_AREA_END) - BZ_HDR_START);
    zp[BZ_HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
    /* LOADED_HIGH is the kernel's to report. Early messages on; segments are reloaded by the
     * kernel (we give flat ones anyway). heap_end_ptr/CAN_USE_HEAP concern only the real-mode
     * setup code, which the 32-bit protocol never runs, so the heap is left unclaimed. */
    zp[BZ_HDR_LOADFLAGS] &= (uint8_t)~(QUIET_FLAG | KEEP_SEGMENTS | CAN_USE_HEAP);
    put16(zp, BZ_HDR_HEAP_END_PTR, 0);
    put32(zp, BZ_HDR_CODE32_START, (uint32_t)kaddr);
    put32(zp, BZ_HDR_RAMDISK_IMAGE, (uint32_t)iaddr);
    put32(zp, BZ_HDR_RAMDISK_SIZE, (uint32_t)initrd_len);
    put32(zp, BZ_HDR_CMD_LINE_PTR, BZ_CMDLINE_GPA);
    put32(zp, BZ_HDR_HARDWARE_SUBARCH, 0);                  /* a plain PC */
    put64(zp, BZ_HDR_HW_SUBARCH_DATA, 0);
    put64(zp, BZ_HDR_SETUP_DATA, 0);                        /* the kernel would follow it */
    put32(zp, BP_ALT_MEM_K, (uint32_t)((gm->size - HIGH_MEM_START) >> 10));
    /* The e820 map describes exactly the guest's RAM, with the EBDA and BIOS area reserved. */
    put_e820(zp, 0, 0, LOW_MEM_END, E820_RAM);
    put_e820(zp, 1, LOW_MEM_END, VGA_START - LOW_MEM_END, E820_RESERVED);
    put_e820(zp, 2, BIOS_AREA_START, HIGH_MEM_START - BIOS_AREA_START, E820_RESERVED);
    put_e820(zp, 3, HIGH_MEM_START, gm->size - HIGH_MEM_START, E820_RAM);
    zp[BP_E820_ENTRIES] = 4;

    uint8_t gdt[BZ_GDT_ENTRIES * 8] = { 0 };                /* entries 0 and 1 stay null */
    put64(gdt, BZ_BOOT_CS, BZ_GDT_CODE_DESC);
    put64(gdt, BZ_BOOT_DS, BZ_GDT_DATA_DESC);

    bool ok = gmem_write(gm, kaddr, img + bi.pm_offset, bi.pm_size)
           && (!initrd_len || gmem_write(gm, iaddr, initrd, initrd_len))
           && gmem_write(gm, BZ_CMDLINE_GPA, cl, clen + 1)
           && gmem_write(gm, BZ_GDT_GPA, gdt, sizeof(gdt))
           && gmem_write(gm, BZ_BOOT_PARAMS_GPA, zp, sizeof(zp));
    if (!ok)                                                /* cannot happen after the checks */
        FAIL("internal error: a checked range was refused by guest memory");

    out->kernel_gpa = (uint32_t)kaddr;
    out->entry_gpa = (uint32_t)kaddr;                       /* startup_32 is at offset 0 */
    out->boot_params_gpa = BZ_BOOT_PARAMS_GPA;
    out->cmdline_gpa = BZ_CMDLINE_GPA;
    out->gdt_gpa = BZ_GDT_GPA;
    out->gdt_limit = BZ_GDT_LIMIT;
    out->initrd_gpa = (uint32_t)iaddr;
    out->initrd_size = (uint32_t)initrd_len;
    return true;
}
