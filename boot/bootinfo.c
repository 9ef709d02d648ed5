/* Multiboot1 and Multiboot2 boot information parsing (specs: Multiboot 0.6.96 and 2.0). */
#include "bootinfo.h"
#include "lib.h"

/* MB1 info flags. */
#define MB1_INFO_MEM        BIT(0)
#define MB1_INFO_CMDLINE    BIT(2)
#define MB1_INFO_MODS       BIT(3)
#define MB1_INFO_MMAP       BIT(6)
#define MB1_INFO_LOADER     BIT(9)
#define MB1_INFO_FB         BIT(12)
#define MB1_INFO_FIXED_SIZE 116         /* through the framebuffer fields */
#define MB1_MOD_SIZE        16
#define MB1_MMAP_MIN_ENTRY  20          /* base(8) len(8) type(4), after the size field */
#define MB1_MAX_MODS        1024

/* MB2 tag types. */
#define MB2_TAG_END         0
#define MB2_TAG_CMDLINE     1
#define MB2_TAG_LOADER      2
#define MB2_TAG_MODULE      3
#define MB2_TAG_BASIC_MEM   4
#define MB2_TAG_BOOTDEV     5
#define MB2_TAG_MMAP        6
#define MB2_TAG_FB          8
#define MB2_TAG_EFI32       11
#define MB2_TAG_EFI64       12
#define MB2_TAG_ACPI_OLD    14
#define MB2_TAG_ACPI_NEW    15
#define MB2_TAG_EFI_BS      18
#define MB2_TAG_HDR         8           /* type(4) + size(4) */
#define MB2_MMAP_HDR        16          /* tag header + entry_size + entry_version */
#define MB2_MMAP_MIN_ENTRY  24
#define MB2_FB_COMMON_SIZE  31

struct reader {
    phys_read_fn read;
    void *ctx;
    struct boot_info *bi;
};

static bool fail(struct boot_info *bi, const char *fmt, ...) PRINTF_LIKE(2, 3);
static bool fail(struct boot_info *bi, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(bi->err, sizeof(bi->err), fmt, ap);
    va_end(ap);
    return false;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* Copies a NUL-terminated string that starts at paddr, reading at most dst_size-1 bytes,
 * one readable byte at a time so a string at the end of RAM is not over-read. */
static bool copy_phys_string(struct reader *r, uint64_t paddr, char *dst, size_t dst_size,
                             const char *what)
{
    size_t i;
    for (i = 0; i + 1 < dst_size; i++) {
        const char *c = r->read(r->ctx, paddr + i, 1);
        if (!c)
            return fail(r->bi, "%s string at %#llx runs into unreadable memory", what,
                        (unsigned long long)paddr);
        if (!*c)
            break;
        dst[i] = *c;
    }
    dst[i] = '\0';
    return true;
}

/* Copies a string that must end within [p, p+max). */
static bool copy_bounded_string(struct boot_info *bi, const uint8_t *p, size_t max, char *dst,
                                size_t dst_size, const char *what)
{
    size_t n = kstrnlen((const char *)p, max);
    if (n == max)
        return fail(bi, "%s string is not NUL-terminated inside its tag", what);
    size_t c = n < dst_size - 1 ? n : dst_size - 1;
    for (size_t i = 0; i < c; i++)
        dst[i] = (char)p[i];
    dst[c] = '\0';
    return true;
}

static void add_mmap(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
    if (len == 0)
        return;
    if (base + len < base)          /* wraps around: clip to the top of the address space */
        len = 0 - base;
    if (bi->n_mmap == BI_MAX_MMAP) {
        bi->mmap_truncated = true;
        return;
    }
    bi->mmap[bi->n_mmap++] = (struct mem_range){ base, len, type };
}

/* Records a module; *out is NULL when the table is full (the module is counted as dropped). */
static bool add_module(struct boot_info *bi, uint64_t start, uint64_t end, struct boot_module **out)
{
    *out = NULL;
    if (end < start)
        return fail(bi, "module %zu ends (%#llx) before it starts (%#llx)", bi->n_mods,
                    (unsigned long long)end, (unsigned long long)start);
    if (bi->n_mods == BI_MAX_MODULES) {
        bi->mods_dropped++;
        return true;
    }
    struct boot_module *m = &bi->mods[bi->n_mods++];
    m->start = start;
    m->end = end;
    m->cmdline[0] = '\0';
    *out = m;
    return true;
}

static bool parse_mb1(struct reader *r, uint64_t addr)
{
    struct boot_info *bi = r->bi;
    const uint8_t *h = r->read(r->ctx, addr, MB1_INFO_FIXED_SIZE);
    if (!h)
        return fail(bi, "Multiboot1 info at %#llx is not in readable memory",
                    (unsigned long long)addr);
    uint32_t flags = rd32(h);
    bi->info_size = MB1_INFO_FIXED_SIZE;

    if (flags & MB1_INFO_MEM) {
        bi->has_basic_mem = true;
        bi->mem_lower_kb = rd32(h + 4);
        bi->mem_upper_kb = rd32(h + 8);
    }
    if ((flags & MB1_INFO_CMDLINE) &&
        !copy_phys_string(r, rd32(h + 16), bi->cmdline, sizeof(bi->cmdline), "command line"))
        return false;
    if ((flags & MB1_INFO_LOADER) &&
        !copy_phys_string(r, rd32(h + 64), bi->loader, sizeof(bi->loader), "loader name"))
        return false;

    if (flags & MB1_INFO_MODS) {
        uint32_t count = rd32(h + 20), maddr = rd32(h + 24);
        if (count > MB1_MAX_MODS)
            return fail(bi, "Multiboot1 module count %u is not believable", count);
        const uint8_t *m = count ? r->read(r->ctx, maddr, (size_t)count * MB1_MOD_SIZE) : NULL;
        if (count && !m)
            return fail(bi, "Multiboot1 module list at %#x is not in readable memory", maddr);
        for (uint32_t i = 0; i < count; i++, m += MB1_MOD_SIZE) {
            struct boot_module *mod;
            if (!add_module(bi, rd32(m), rd32(m + 4), &mod))
                return false;
            if (mod && rd32(m + 8) &&
                !copy_phys_string(r, rd32(m + 8), mod->cmdline, sizeof(mod->cmdline), "module"))
                return false;
        }
    }

    if (flags & MB1_INFO_MMAP) {
        uint32_t len = rd32(h + 44), maddr = rd32(h + 48);
        if (len > BI_MAX_INFO_SIZE)
            return fail(bi, "Multiboot1 memory map length %u is not believable", len);
        const uint8_t *m = len ? r->read(r->ctx, maddr, len) : NULL;
        if (len && !m)
            return fail(bi, "Multiboot1 memory map at %#x is not in readable memory", maddr);
        for (uint32_t off = 0; off < len;) {
            if (len - off < 4)
                return fail(bi, "Multiboot1 memory map entry at offset %u is truncated", off);
            uint32_t esize = rd32(m + off);
            if (esize < MB1_MMAP_MIN_ENTRY || esize > len - off - 4)
                return fail(bi, "Multiboot1 memory map entry at offset %u has bad size %u",
                            off, esize);
            const uint8_t *e = m + off + 4;
            add_mmap(bi, rd64(e), rd64(e + 8), rd32(e + 16));
            off += esize + 4;
        }
    }

    if (flags & MB1_INFO_FB) {
        bi->fb.present = true;
        bi->fb.addr = rd64(h + 88);
        bi->fb.pitch = rd32(h + 96);
        bi->fb.width = rd32(h + 100);
        bi->fb.height = rd32(h + 104);
        bi->fb.bpp = h[108];
        bi->fb.type = h[109];
    }
    return true;
}

static bool parse_mb2_mmap(struct boot_info *bi, const uint8_t *t, uint32_t size)
{
    if (size < MB2_MMAP_HDR)
        return fail(bi, "Multiboot2 memory map tag too short (%u bytes)", size);
    uint32_t esize = rd32(t + 8);
    if (esize < MB2_MMAP_MIN_ENTRY || esize % 8)
        return fail(bi, "Multiboot2 memory map entry size %u is invalid", esize);
    for (uint32_t off = MB2_MMAP_HDR; off + esize <= size; off += esize)
        add_mmap(bi, rd64(t + off), rd64(t + off + 8), rd32(t + off + 16));
    return true;
}

static bool parse_mb2(struct reader *r, uint64_t addr)
{
    struct boot_info *bi = r->bi;
    if (addr & 7)
        return fail(bi, "Multiboot2 info at %#llx is not 8-byte aligned", (unsigned long long)addr);
    const uint8_t *h = r->read(r->ctx, addr, 8);
    if (!h)
        return fail(bi, "Multiboot2 info at %#llx is not in readable memory",
                    (unsigned long long)addr);
    uint32_t total = rd32(h);
    if (total < 16 || total > BI_MAX_INFO_SIZE)
        return fail(bi, "Multiboot2 info total_size %u is not believable", total);
    const uint8_t *base = r->read(r->ctx, addr, total);
    if (!base)
        return fail(bi, "Multiboot2 info [%#llx, +%u) is not in readable memory",
                    (unsigned long long)addr, total);
    bi->info_size = total;

    bool ended = false;
    for (uint32_t off = 8; off < total;) {
        if (total - off < MB2_TAG_HDR)
            return fail(bi, "Multiboot2 tag at offset %u is truncated", off);
        const uint8_t *t = base + off;
        uint32_t type = rd32(t), size = rd32(t + 4);
        if (size < MB2_TAG_HDR || size > total - off)
            return fail(bi, "Multiboot2 tag type %u at offset %u has bad size %u", type, off, size);
        const uint8_t *body = t + MB2_TAG_HDR;
        uint32_t blen = size - MB2_TAG_HDR;
        switch (type) {
        case MB2_TAG_END:
            ended = true;
            break;
        case MB2_TAG_CMDLINE:
            if (!copy_bounded_string(bi, body, blen, bi->cmdline, sizeof(bi->cmdline), "command line"))
                return false;
            break;
        case MB2_TAG_LOADER:
            if (!copy_bounded_string(bi, body, blen, bi->loader, sizeof(bi->loader), "loader name"))
                return false;
            break;
        case MB2_TAG_MODULE: {
            if (blen < 8)
                return fail(bi, "Multiboot2 module tag too short (%u bytes)", size);
            struct boot_module *mod;
            if (!add_module(bi, rd32(body), rd32(body + 4), &mod))
                return false;
            if (mod && !copy_bounded_string(bi, body + 8, blen - 8, mod->cmdline,
                                            sizeof(mod->cmdline), "module"))
                return false;
            break;
        }
        case MB2_TAG_BASIC_MEM:
            if (blen < 8)
                return fail(bi, "Multiboot2 basic memory tag too short");
            bi->has_basic_mem = true;
            bi->mem_lower_kb = rd32(body);
            bi->mem_upper_kb = rd32(body + 4);
            break;
        case MB2_TAG_MMAP:
            if (!parse_mb2_mmap(bi, t, size))
                return false;
            break;
        case MB2_TAG_FB:
            if (size < MB2_FB_COMMON_SIZE)
                return fail(bi, "Multiboot2 framebuffer tag too short");
            bi->fb.present = true;
            bi->fb.addr = rd64(body);
            bi->fb.pitch = rd32(body + 8);
            bi->fb.width = rd32(body + 12);
            bi->fb.height = rd32(body + 16);
            bi->fb.bpp = body[20];
            bi->fb.type = body[21];
            break;
        case MB2_TAG_EFI32:
            if (blen >= 4) bi->efi_system_table = rd32(body);
            break;
        case MB2_TAG_EFI64:
            if (blen >= 8) { bi->efi_system_table = rd64(body); bi->efi64 = true; }
            break;
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW:
            if (!bi->acpi_rsdp || type == MB2_TAG_ACPI_NEW)
                bi->acpi_rsdp = addr + off + MB2_TAG_HDR;
            break;
        case MB2_TAG_EFI_BS:
            bi->efi_boot_services = true;
            break;
        default:
            break;                  /* tags we do not use are skipped by their size */
        }
        if (ended)
            break;
        off += (size + 7) & ~7u;
    }
    if (!ended)
        return fail(bi, "Multiboot2 info has no end tag");
    return true;
}

bool bootinfo_parse(struct boot_info *bi, uint32_t magic, uint64_t info_addr,
                    phys_read_fn read, void *ctx)
{
    memset(bi, 0, sizeof(*bi));
    bi->info_addr = info_addr;
    struct reader r = { read, ctx, bi };
    bool ok;
    if (magic == MB1_BOOT_MAGIC) {
        bi->protocol = 1;
        ok = parse_mb1(&r, info_addr);
    } else if (magic == MB2_BOOT_MAGIC) {
        bi->protocol = 2;
        ok = parse_mb2(&r, info_addr);
    } else {
        return fail(bi, "not started by a Multiboot loader (magic %#x)", magic);
    }
    if (!ok)
        return false;
    if (!bi->n_mmap && bi->has_basic_mem) {
        /* No map: fall back to the basic lower/upper memory sizes. */
        add_mmap(bi, 0, (uint64_t)bi->mem_lower_kb << 10, MMAP_AVAILABLE);
        add_mmap(bi, 1ull << 20, (uint64_t)bi->mem_upper_kb << 10, MMAP_AVAILABLE);
    }
    if (!bi->n_mmap)
        return fail(bi, "the loader gave no memory map and no memory sizes");
    return true;
}

const char *mmap_type_name(uint32_t type)
{
    switch (type) {
    case MMAP_AVAILABLE: return "available";
    case MMAP_RESERVED: return "reserved";
    case MMAP_ACPI_RECLAIM: return "ACPI reclaimable";
    case MMAP_ACPI_NVS: return "ACPI NVS";
    case MMAP_BAD: return "bad RAM";
    default: return "other";
    }
}
