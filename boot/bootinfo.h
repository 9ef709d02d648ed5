/* Boot information from a Multiboot1 or Multiboot2 loader, validated and copied into one
 * loader-independent structure. The parser is pure: it reads "physical memory" only through
 * the accessor it is given, which refuses ranges it cannot vouch for, so a malformed block
 * gives an error message instead of a wild pointer. */
#ifndef MV_BOOTINFO_H
#define MV_BOOTINFO_H
#include "compiler.h"

#define MB1_BOOT_MAGIC 0x2BADB002u
#define MB2_BOOT_MAGIC 0x36D76289u

#define BI_MAX_MMAP    128
#define BI_MAX_MODULES 16
#define BI_CMDLINE_MAX 512
#define BI_NAME_MAX    64
#define BI_MAX_INFO_SIZE (1u << 20)   /* an MB2 block larger than this is not believed */

/* Memory map types (shared by MB1, MB2 and E820). */
#define MMAP_AVAILABLE      1
#define MMAP_RESERVED       2
#define MMAP_ACPI_RECLAIM   3
#define MMAP_ACPI_NVS       4
#define MMAP_BAD            5

struct mem_range {
    uint64_t base, len;
    uint32_t type;
};

struct boot_module {
    uint64_t start, end;            /* physical, end exclusive */
    char cmdline[BI_CMDLINE_MAX];
};

struct boot_fb {
    bool present;
    uint64_t addr;
    uint32_t pitch, width, height;
    uint8_t bpp, type;              /* type: 0 indexed, 1 RGB, 2 EGA text */
};

struct boot_info {
    int protocol;                   /* 1 or 2 */
    uint64_t info_addr, info_size;
    char loader[BI_NAME_MAX];
    char cmdline[BI_CMDLINE_MAX];
    bool has_basic_mem;
    uint32_t mem_lower_kb, mem_upper_kb;
    struct mem_range mmap[BI_MAX_MMAP];
    size_t n_mmap;
    bool mmap_truncated;
    struct boot_module mods[BI_MAX_MODULES];
    size_t n_mods;
    size_t mods_dropped;            /* beyond BI_MAX_MODULES */
    struct boot_fb fb;
    uint64_t efi_system_table;      /* 0 if none */
    bool efi64;
    bool efi_boot_services;         /* loader left EFI boot services running */
    uint64_t acpi_rsdp;             /* physical address of the copied RSDP in the info block */
    char err[128];                  /* set when parsing fails */
};

/* Returns a pointer through which [paddr, paddr+len) may be read, or NULL if that range is
 * not readable memory. */
typedef const void *(*phys_read_fn)(void *ctx, uint64_t paddr, size_t len);

/* Parses the block left by the loader. Returns false and fills bi->err on malformed input. */
bool bootinfo_parse(struct boot_info *bi, uint32_t magic, uint64_t info_addr,
                    phys_read_fn read, void *ctx);

const char *mmap_type_name(uint32_t type);
#endif
