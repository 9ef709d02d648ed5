/* Loading a Linux bzImage for the 32-bit boot protocol (Documentation/arch/x86/boot.rst): the
 * protected-mode kernel at its runtime address, the initrd high in RAM, the command line, a
 * flat GDT and the zero page (struct boot_params) with an e820 map of exactly the guest's RAM.
 * The real-mode setup code is never run. Pure: all guest memory access is through guest_mem,
 * and everything is validated before the first write, so a refused image leaves the VM as it
 * was and a hostile one cannot make the loader write outside the VM.
 *
 * The VMM then enters the guest as the 32-bit protocol requires: protected mode, paging off,
 * GDTR = {BZ_GDT_GPA, BZ_GDT_LIMIT}, CS = BZ_BOOT_CS, DS = ES = SS = BZ_BOOT_DS (4 GiB flat),
 * IF = 0, EIP = entry_gpa, ESI = boot_params_gpa, EBP = EDI = EBX = 0. */
#ifndef MV_BZIMAGE_H
#define MV_BZIMAGE_H
#include "compiler.h"
#include "mm/guest_mem.h"

/* Guest-physical layout of what the loader writes below 1 MiB. Page 0 is left alone (real-mode
 * IVT and BIOS data area, which Linux reads, e.g. the EBDA pointer); everything is in the e820
 * RAM below 0x9FC00 and below 0xA0000 as cmd_line_ptr requires. */
#define BZ_GDT_GPA          0x1000u
#define BZ_GDT_ENTRIES      4u
#define BZ_GDT_LIMIT        (BZ_GDT_ENTRIES * 8u - 1u)
#define BZ_BOOT_CS          0x10u           /* __BOOT_CS: the protocol names these selectors */
#define BZ_BOOT_DS          0x18u           /* __BOOT_DS */
/* 4 GiB flat descriptors: base 0, limit 0xFFFFF, G=1, D/B=1, P=1, DPL 0. The accessed bit is
 * preset, as VMX wants in the VMCS access rights, so the CPU never has to write the GDT. */
#define BZ_GDT_CODE_DESC    0x00CF9B000000FFFFull   /* type 0xB: execute/read, accessed */
#define BZ_GDT_DATA_DESC    0x00CF93000000FFFFull   /* type 0x3: read/write, accessed */
#define BZ_BOOT_PARAMS_GPA  0x2000u         /* the zero page */
#define BZ_BOOT_PARAMS_SIZE 0x1000u
#define BZ_CMDLINE_GPA      0x3000u
#define BZ_CMDLINE_MAX      0x1000u         /* bytes including the NUL; x86 Linux accepts 2047 */

/* Oldest boot protocol accepted: 2.10 (Linux 2.6.31, 2009). It brought init_size, the memory the
 * kernel needs from its runtime address while it decompresses in place, and pref_address; without
 * them a loader can only guess where the kernel will write and may put the initrd in its way.
 * 2.10 also implies the fields of earlier versions we need: cmdline_size (2.06),
 * relocatable_kernel and kernel_alignment (2.05), initrd_addr_max (2.03). */
#define BZ_MIN_PROTOCOL     0x020Au

struct bzimage_info {                       /* what the setup header says */
    uint16_t version;                       /* protocol version, e.g. 0x020f */
    uint32_t setup_bytes;                   /* (setup_sects ? setup_sects : 4) * 512 + 512 */
    uint32_t pm_offset, pm_size;            /* file offset and size of the protected-mode kernel */
    uint64_t pref_address;
    uint32_t kernel_alignment, init_size, cmdline_size, initrd_addr_max;
    bool relocatable, kernel_64;            /* relocatable_kernel; xloadflags XLF_KERNEL_64 */
};

struct bzimage_layout {                     /* where the loader put things */
    uint32_t kernel_gpa, entry_gpa;         /* entry = the 32-bit entry point (code32_start) */
    uint32_t boot_params_gpa, cmdline_gpa, gdt_gpa, gdt_limit;
    uint32_t initrd_gpa, initrd_size;       /* 0/0 without an initrd */
};

/* Validates the setup header. False with the reason in err if the file is not a bzImage this
 * loader can boot (too short, no boot flag or "HdrS", protocol older than BZ_MIN_PROTOCOL,
 * zImage, setup or syssize inconsistent with the file, bad kernel_alignment or init_size). */
bool bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *out, char *err, size_t errlen);

/* Where the kernel will run (boot.rst, init_size): a relocatable kernel at its preferred address
 * (1 MiB if none) raised to 1 MiB and kernel_alignment; it needs init_size bytes from there. */
uint64_t bzimage_runtime_start(const struct bzimage_info *bi);

/* Parses, then loads the kernel, initrd (if initrd_len > 0), command line (NULL = empty), GDT
 * and zero page into guest memory. False with the reason in err, and guest memory untouched,
 * if the image is refused or the kernel, initrd or command line does not fit. */
bool bzimage_load(struct guest_mem *gm, const uint8_t *img, size_t len, const char *cmdline,
                  const uint8_t *initrd, size_t initrd_len, struct bzimage_layout *out,
                  char *err, size_t errlen);
#endif
