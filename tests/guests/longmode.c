/* longmode, 32-bit part: checks that the CPU has long mode, builds a 4-level address space
 * (identity map, a 2 MiB alias, a 1 GiB alias if supported, 4 KiB aliases, one read-only)
 * and enters IA-32e mode (lib/longmode.S). The 64-bit part (longmode64.c) runs the rest
 * of the tests, prints the summary and exits. */
#include "guest.h"
#include "longmode.h"
#include "paging.h"

const char guest_name[] = "longmode";

extern char lm64_blob[], lm64_blob_end[];
NORETURN void lm_enter(u32 pml4, u32 entry64, u32 arg);

static u32 pages[4][PAGE_SIZE / 4] ALIGNED(PAGE_SIZE);
static struct lm_ctx ctx;

static void t_cpuid(void)
{
	CHECK(cpuid_max_ext() >= 0x80000001, "no CPUID leaf 0x80000001");
	u32 edx = cpuid(0x80000001).edx;
	CHECK(edx & (1u << 29), "CPUID.80000001H:EDX.LM[29] is 0: no long mode");
	CHECK(cpuid(1).edx & (1u << 6), "no PAE");
	ctx.has_1g = (edx >> 26) & 1;
	printf("  long mode supported; 1 GiB pages: %s\n", ctx.has_1g ? "yes" : "no");
	test_pass();
}

static void t_blob(void)
{
	u32 size = (u32)(lm64_blob_end - lm64_blob);
	CHECK((u32)lm64_blob == 0x200000u, "64-bit part at %p, linked for 0x200000", lm64_blob);
	CHECK(size > 64 && size < 0x100000u, "64-bit part is %u bytes", size);
	CHECK((u32)lm64_blob_end <= ram_end, "64-bit part ends above RAM");
	test_pass();
}

void guest_main(void)
{
	run_test("lm_cpuid", t_cpuid);
	run_test("lm_64bit_image", t_blob);
	u32 passed, failed;
	test_counts(&passed, &failed);
	if (failed)
		return;                         /* no long mode: summary and exit */

	for (u32 p = 0; p < 4; p++)
		for (u32 w = 0; w < PAGE_SIZE / 4; w++)
			pages[p][w] = lm_pattern(p, w);
	pt_pool_reset();
	u64 *pml4 = pml4_new();             /* identity: low memory, image, 64-bit part */
	ctx.base_2m = (u32)pages[0] & ~0x1fffffu;
	pml4_map(pml4, LM_ALIAS_2M, ctx.base_2m, PTE_P | PTE_W, 2);
	if (ctx.has_1g)
		pml4_map(pml4, LM_ALIAS_1G, 0, PTE_P | PTE_W, 3);
	pml4_map(pml4, LM_ALIAS_4K, (u32)pages[1], PTE_P | PTE_W, 1);
	pml4_map(pml4, LM_ALIAS_RO, (u32)pages[2], PTE_P, 1);
	ctx.pml4 = (u32)pml4;
	for (u32 p = 0; p < 4; p++)
		ctx.page_pa[p] = (u32)pages[p];
	test_counts(&ctx.passed, &ctx.failed);
	printf("  entering long mode: PML4 at 0x%x, 64-bit code at %p\n", ctx.pml4, lm64_blob);
	lm_enter(ctx.pml4, (u32)lm64_blob, (u32)&ctx);
}
