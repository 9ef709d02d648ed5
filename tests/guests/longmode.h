/* Shared between the 32-bit part (longmode.c) and the 64-bit part (longmode64.c) of the
 * longmode guest. Only u32 fields: the layout is the same under -m32 and -m64. */
#ifndef GUEST_LONGMODE_H
#define GUEST_LONGMODE_H
#include "types.h"

struct lm_ctx {
	u32 passed, failed;     /* results of the 32-bit part */
	u32 pml4;               /* physical address of the PML4 in CR3 */
	u32 page_pa[4];         /* test pages, filled with lm_pattern() */
	u32 has_1g;             /* CPUID.80000001H:EDX.Page1GB[26] */
	u32 base_2m;            /* physical base of the 2 MiB (and 1 GiB) alias */
};

/* Virtual addresses of the 4-level address space built by the 32-bit part. */
#define LM_ALIAS_2M 0xffff800000000000ull   /* 2 MiB page -> base_2m (PML4 slot 256) */
#define LM_ALIAS_1G 0xffffff8000000000ull   /* 1 GiB page -> 0 (PML4 slot 511), if present */
#define LM_ALIAS_4K 0x00007f0000000000ull   /* 4 KiB page -> test page 1 */
#define LM_ALIAS_RO 0x00007f0000001000ull   /* 4 KiB read-only page -> test page 2 */
#define LM_UNMAPPED 0x0000500000000000ull   /* nothing mapped in this PML4 slot */
#define LM_NONCANONICAL 0x8000000000000000ull

static inline u32 lm_pattern(u32 page, u32 word)
{
	return 0x6c000000u | page << 16 | word;
}

#endif
