/* The guest runtime: everything a test guest needs, in one include. A guest defines
 *     const char guest_name[] = "...";
 *     void guest_main(void) { run_test(...); ... }
 * lib_main() (called by the entry code) sets up the IDT, checks the Multiboot hand-over,
 * calls guest_main() and prints the summary. */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H
#include "types.h"
#include "x86.h"
#include "console.h"
#include "test.h"
#include "string.h"
#include "idt.h"
#include "seg.h"

struct mb_info {                /* Multiboot1 information, the fields we use */
	u32 flags;
	u32 mem_lower, mem_upper;    /* KiB below 1 MiB / from 1 MiB up to the first hole */
	u32 boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
};
#define MB_INFO_MEM (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)

extern u32 mb_magic;
extern const struct mb_info *mb_info;
/* First byte above the RAM the loader reported (1 MiB + mem_upper KiB); 0 if unknown. */
extern u32 ram_end;

void guest_main(void);

/* The value of "key=N" (decimal) on the Multiboot command line, or dflt. */
u32 cmdline_uint(const char *key, u32 dflt);

/* True under QEMU's TCG emulator (hypervisor signature "TCGTCGTCGTCG"). Only for skipping
 * the few checks TCG does not implement; such tests print SKIP there, never PASS. */
bool qemu_tcg(void);

/* Image layout, from the linker script. */
extern char __image_start[], __bss_start[], __bss_end[];

#endif
