#include "mbguest.h"
#include "lib.h"

#define MB1_HEADER_MAGIC    0x1BADB002u
#define MB1_HEADER_SEARCH   8192u
#define MB1_HDR_PAGE_ALIGN  BIT(0)
#define MB1_HDR_MEMINFO     BIT(1)
#define MB1_HDR_VIDEO       BIT(2)
#define MB1_HDR_AOUT        BIT(16)
#define MB1_HDR_REQUIRED_MASK 0xFFFFu       /* bits 0-15: a loader must honour them or refuse */
#define MB1_HDR_SUPPORTED   (MB1_HDR_PAGE_ALIGN | MB1_HDR_MEMINFO)

#define MB1_INFO_MEM        BIT(0)
#define MB1_INFO_CMDLINE    BIT(2)
#define MB1_INFO_MODS       BIT(3)
#define MB1_INFO_MMAP       BIT(6)
#define MB1_INFO_LOADER     BIT(9)
#define MB1_INFO_SIZE       116u

#define ELF_MAGIC           0x464C457Fu     /* "\x7fELF" */
#define ELFCLASS32          1
#define ELFCLASS64          2
#define ELFDATA2LSB         1
#define EM_386              3
#define EM_X86_64           62
#define PT_LOAD             1
#define ELF32_EHDR_SIZE     52u
#define ELF64_EHDR_SIZE     64u
#define ELF32_PHDR_SIZE     32u
#define ELF64_PHDR_SIZE     56u
#define ELF_MAX_PHDRS       64u

#define LOW_MEM_END         0x9FC00u        /* conventional memory reported as usable */
#define BIOS_AREA_START     0xE0000u        /* BIOS area: the firmware tables (vm/pc_firmware.c) */
#define HIGH_MEM_START      0x100000u

/* Info-block layout inside the info page pair. */
#define INFO_MMAP_OFF       0x100u
#define INFO_LOADER_OFF     0x180u
#define INFO_MODS_OFF       0x1C0u
#define INFO_CMDLINE_OFF    0x240u
#define INFO_MODSTR_OFF     0x400u
#define INFO_AREA_SIZE      0x2000u
#define INFO_MODSTR_MAX     ((INFO_AREA_SIZE - INFO_MODSTR_OFF) / MBGUEST_MAX_MODULES)

#define FAIL(...) do { ksnprintf(err, errlen, __VA_ARGS__); return false; } while (0)

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* A load range is acceptable if it lies in guest RAM above the first page and below the info
 * area's end or above it entirely (the info block must not be overwritten). */
static bool range_ok(const struct guest_mem *gm, uint64_t start, uint64_t len)
{
    if (start < MBGUEST_LOW_LIMIT || start + len < start || start + len > gm->size)
        return false;
    uint64_t is = MBGUEST_INFO_GPA, ie = MBGUEST_INFO_GPA + INFO_AREA_SIZE;
    return start + len <= is || start >= ie;
}

static bool load_aout(struct guest_mem *gm, const uint8_t *img, size_t len, uint32_t hoff,
                      struct mbguest_image *out, char *err, size_t errlen)
{
    const uint8_t *h = img + hoff;
    if (len - hoff < 32)
        FAIL("Multiboot header address fields are truncated");
    uint32_t header_addr = rd32(h + 12), load_addr = rd32(h + 16), load_end = rd32(h + 20);
    uint32_t bss_end = rd32(h + 24), entry = rd32(h + 28);
    if (load_addr > header_addr || header_addr - load_addr > hoff)
        FAIL("Multiboot header_addr/load_addr (%#x/%#x) inconsistent with the file", header_addr, load_addr);
    uint64_t file_off = hoff - (header_addr - load_addr);
    uint64_t load_len = load_end ? (uint64_t)load_end - load_addr : len - file_off;
    if (load_end && load_end < load_addr)
        FAIL("Multiboot load_end_addr %#x is below load_addr %#x", load_end, load_addr);
    if (file_off + load_len > len)
        FAIL("Multiboot load range needs %llu bytes but the file has %llu",
             (unsigned long long)(file_off + load_len), (unsigned long long)len);
    uint64_t end = bss_end ? bss_end : load_addr + load_len;
    if (end < load_addr + load_len)
        FAIL("Multiboot bss_end_addr %#x is below the loaded image", bss_end);
    if (!range_ok(gm, load_addr, end - load_addr))
        FAIL("image [%#x, %#llx) does not fit the VM's %llu MiB of RAM", load_addr,
             (unsigned long long)end, (unsigned long long)(gm->size >> 20));
    if (entry < load_addr || entry >= load_addr + load_len)
        FAIL("entry point %#x is outside the loaded image", entry);
    gmem_write(gm, load_addr, img + file_off, load_len);
    gmem_fill(gm, load_addr + load_len, 0, end - load_addr - load_len);
    out->entry = entry;
    out->load_start = load_addr;
    out->load_end = (uint32_t)end;
    return true;
}

static bool load_elf(struct guest_mem *gm, const uint8_t *img, size_t len,
                     struct mbguest_image *out, char *err, size_t errlen)
{
    if (len < ELF32_EHDR_SIZE || rd32(img) != ELF_MAGIC)
        FAIL("not an ELF file and no a.out-kludge address fields in the Multiboot header");
    unsigned cls = img[4];
    if ((cls != ELFCLASS32 && cls != ELFCLASS64) || img[5] != ELFDATA2LSB)
        FAIL("unsupported ELF class/byte order");
    bool is64 = cls == ELFCLASS64;
    if (is64 && len < ELF64_EHDR_SIZE)
        FAIL("truncated ELF64 header");
    uint16_t machine = rd16(img + 18);
    if (machine != EM_386 && machine != EM_X86_64)
        FAIL("ELF machine %u is not x86", machine);
    uint64_t entry = is64 ? rd64(img + 24) : rd32(img + 24);
    uint64_t phoff = is64 ? rd64(img + 32) : rd32(img + 28);
    uint16_t phentsize = rd16(img + (is64 ? 54 : 42)), phnum = rd16(img + (is64 ? 56 : 44));
    if (phentsize != (is64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE) || phnum == 0 || phnum > ELF_MAX_PHDRS)
        FAIL("bad ELF program header table (entsize %u, count %u)", phentsize, phnum);
    if (phoff > len || (uint64_t)phnum * phentsize > len - phoff)
        FAIL("ELF program headers lie outside the file");

    uint64_t lo = UINT64_MAX, hi = 0;
    bool entry_ok = false;
    /* Validate everything before writing anything. */
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < phnum; i++) {
            const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
            if (rd32(ph) != PT_LOAD)
                continue;
            uint64_t off, paddr, filesz, memsz;
            if (is64) {
                off = rd64(ph + 8); paddr = rd64(ph + 24); filesz = rd64(ph + 32); memsz = rd64(ph + 40);
            } else {
                off = rd32(ph + 4); paddr = rd32(ph + 12); filesz = rd32(ph + 16); memsz = rd32(ph + 20);
            }
            if (pass == 0) {
                if (filesz > memsz)
                    FAIL("ELF segment %u: file size exceeds memory size", i);
                if (off > len || filesz > len - off)
                    FAIL("ELF segment %u: data lies outside the file", i);
                if (!range_ok(gm, paddr, memsz))
                    FAIL("ELF segment %u [%#llx, +%#llx) does not fit the VM's %llu MiB of RAM", i,
                         (unsigned long long)paddr, (unsigned long long)memsz,
                         (unsigned long long)(gm->size >> 20));
                if (entry >= paddr && entry < paddr + memsz)
                    entry_ok = true;
                lo = MIN(lo, paddr);
                hi = MAX(hi, paddr + memsz);
            } else {
                gmem_write(gm, paddr, img + off, filesz);
                gmem_fill(gm, paddr + filesz, 0, memsz - filesz);
            }
        }
        if (pass == 0 && lo == UINT64_MAX)
            FAIL("ELF file has no loadable segment");
        if (pass == 0 && !entry_ok)
            FAIL("ELF entry point %#llx is not inside a loaded segment", (unsigned long long)entry);
    }
    out->entry = (uint32_t)entry;
    out->load_start = (uint32_t)lo;
    out->load_end = (uint32_t)hi;
    return true;
}

bool mbguest_load(struct guest_mem *gm, const uint8_t *img, size_t len, struct mbguest_image *out,
                  char *err, size_t errlen)
{
    size_t limit = len < MB1_HEADER_SEARCH ? len : MB1_HEADER_SEARCH;
    for (uint32_t off = 0; off + 12 <= limit; off += 4) {
        if (rd32(img + off) != MB1_HEADER_MAGIC)
            continue;
        uint32_t flags = rd32(img + off + 4);
        if ((uint32_t)(MB1_HEADER_MAGIC + flags + rd32(img + off + 8)) != 0)
            continue;                       /* magic by chance, checksum wrong: keep looking */
        uint32_t unsupported = flags & MB1_HDR_REQUIRED_MASK & ~MB1_HDR_SUPPORTED;
        if (unsupported & MB1_HDR_VIDEO)
            FAIL("the kernel requires a video mode (Multiboot flag 2), which monovisor does not provide");
        if (unsupported)
            FAIL("the kernel requires Multiboot features %#x that monovisor does not know", unsupported);
        if (flags & MB1_HDR_AOUT)
            return load_aout(gm, img, len, off, out, err, errlen);
        return load_elf(gm, img, len, out, err, errlen);
    }
    FAIL("no Multiboot1 header in the first %u bytes: not a Multiboot kernel", MB1_HEADER_SEARCH);
}

static void put32(uint8_t *b, uint32_t off, uint32_t v) { memcpy(b + off, &v, 4); }
static void put64(uint8_t *b, uint32_t off, uint64_t v) { memcpy(b + off, &v, 8); }

bool mbguest_write_info(struct guest_mem *gm, const char *cmdline, const struct mbguest_module *mods,
                        size_t nmods, uint32_t *info_gpa, char *err, size_t errlen)
{
    static uint8_t area[INFO_AREA_SIZE];
    if (gm->size < HIGH_MEM_START * 2)
        FAIL("VM memory too small for a Multiboot guest");
    if (nmods > MBGUEST_MAX_MODULES)
        FAIL("at most %d modules per VM", MBGUEST_MAX_MODULES);
    if (kstrnlen(cmdline, INFO_MODSTR_OFF - INFO_CMDLINE_OFF) == INFO_MODSTR_OFF - INFO_CMDLINE_OFF)
        FAIL("guest command line too long");
    memset(area, 0, sizeof(area));
    const uint32_t base = MBGUEST_INFO_GPA;

    uint32_t flags = MB1_INFO_MEM | MB1_INFO_CMDLINE | MB1_INFO_MMAP | MB1_INFO_LOADER;
    put32(area, 4, LOW_MEM_END >> 10);
    put32(area, 8, (uint32_t)((gm->size - HIGH_MEM_START) >> 10));
    kstrlcpy((char *)area + INFO_CMDLINE_OFF, cmdline, INFO_MODSTR_OFF - INFO_CMDLINE_OFF);
    put32(area, 16, base + INFO_CMDLINE_OFF);

    /* The map describes exactly the guest's RAM. Each entry: size(4) base(8) len(8) type(4). */
    static const uint32_t entry_size = 20;
    const uint64_t ranges[3][3] = {
        { 0, LOW_MEM_END, 1 },
        { BIOS_AREA_START, HIGH_MEM_START - BIOS_AREA_START, 2 },
        { HIGH_MEM_START, gm->size - HIGH_MEM_START, 1 },
    };
    for (unsigned i = 0; i < 3; i++) {
        uint32_t e = INFO_MMAP_OFF + i * (entry_size + 4);
        put32(area, e, entry_size);
        put64(area, e + 4, ranges[i][0]);
        put64(area, e + 12, ranges[i][1]);
        put32(area, e + 20, (uint32_t)ranges[i][2]);
    }
    put32(area, 44, 3 * (entry_size + 4));
    put32(area, 48, base + INFO_MMAP_OFF);

    kstrlcpy((char *)area + INFO_LOADER_OFF, MBGUEST_LOADER_NAME, INFO_MODS_OFF - INFO_LOADER_OFF);
    put32(area, 64, base + INFO_LOADER_OFF);

    if (nmods) {
        flags |= MB1_INFO_MODS;
        put32(area, 20, (uint32_t)nmods);
        put32(area, 24, base + INFO_MODS_OFF);
        for (size_t i = 0; i < nmods; i++) {
            uint32_t m = INFO_MODS_OFF + (uint32_t)i * 16;
            uint32_t s = INFO_MODSTR_OFF + (uint32_t)i * INFO_MODSTR_MAX;
            put32(area, m, (uint32_t)mods[i].start);
            put32(area, m + 4, (uint32_t)mods[i].end);
            put32(area, m + 8, base + s);
            kstrlcpy((char *)area + s, mods[i].cmdline ? mods[i].cmdline : "", INFO_MODSTR_MAX);
        }
    }
    put32(area, 0, flags);
    if (!gmem_write(gm, base, area, sizeof(area)))
        FAIL("cannot write the Multiboot info block");
    *info_gpa = base;
    return true;
}
