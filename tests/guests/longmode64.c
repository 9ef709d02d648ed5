/* longmode, 64-bit part: runs in IA-32e mode on the 4-level tables the 32-bit part built,
 * with its own 64-bit IDT; checks the mappings (2 MiB, 1 GiB and 4 KiB pages), INVLPG,
 * accessed/dirty bits, #PF with a 64-bit CR2, #GP for a non-canonical address; prints the
 * results and the summary itself and exits through port 0xf4. Compiled with -m64. */
#include "console.h"
#include "idt.h"
#include "longmode.h"
#include "seg.h"
#include "test.h"
#include "x86.h"

#define PTE_P 0x001ull
#define PTE_W 0x002ull
#define PTE_A 0x020ull
#define PTE_D 0x040ull
#define PTE_PS 0x080ull
#define ADDR_MASK 0x000ffffffffff000ull

const char guest_name[] = "longmode";
static struct lm_ctx *ctx;

static bool sees(u64 va, u32 page)
{
	static const u32 words[] = { 0, 1, 511, 1000, 1023 };
	for (unsigned i = 0; i < ARRAY_SIZE(words); i++) {
		u32 v = peek32(va + words[i] * 4);
		if (v != lm_pattern(page, words[i])) {
			test_fail("0x%llx reads 0x%08x, expected 0x%08x (test page %u)",
				  va + words[i] * 4, v, lm_pattern(page, words[i]), page);
			return false;
		}
	}
	return true;
}

/* The leaf entry for va (walking the tables through the identity map), or NULL. */
static volatile u64 *leaf(u64 va)
{
	u64 *t = (u64 *)(u64)ctx->pml4;
	for (int l = 4; l >= 1; l--) {
		u64 *e = &t[(va >> (12 + 9 * (l - 1))) & 511];
		if (!(*e & PTE_P))
			return NULL;
		if (l == 1 || (l <= 3 && (*e & PTE_PS)))
			return e;
		t = (u64 *)(*e & ADDR_MASK);
	}
	return NULL;
}

static void rd(void *p)
{
	(void)*(volatile u64 *)p;
}

static void wr(void *p)
{
	*(volatile u64 *)p = 0x5a5a5a5a5a5a5a5aull;
}

static void t_active(void)
{
	u64 efer = rdmsr(MSR_EFER);
	CHECK(efer & EFER_LMA, "IA32_EFER.LMA clear (EFER 0x%llx)", efer);
	CHECK(efer & EFER_LME, "IA32_EFER.LME clear (EFER 0x%llx)", efer);
	CHECK((read_cr0() & CR0_PG) && (read_cr4() & CR4_PAE), "CR0.PG/CR4.PAE clear");
	CHECK(read_cs() == SEL_CODE64, "CS 0x%x, expected 0x%x", read_cs(), SEL_CODE64);
	volatile u64 x = 0x123456789abcdef0ull;
	x = (x >> 4) | (x << 60);
	CHECK(x == 0x0123456789abcdefull, "64-bit rotate gave 0x%llx", (u64)x);
	u64 r8;
	__asm__ volatile("mov $0x1122334455667788, %%r8\n\tmov %%r8, %0" : "=r"(r8) : : "r8");
	CHECK(r8 == 0x1122334455667788ull, "R8 holds 0x%llx", r8);
	printf("  in 64-bit mode: EFER 0x%llx CR0 0x%lx CR3 0x%lx CR4 0x%lx\n", efer,
	       read_cr0(), read_cr3(), read_cr4());
	test_pass();
}

static void t_alias_2m(void)
{
	volatile u64 *e = leaf(LM_ALIAS_2M);
	CHECK(e && (*e & PTE_PS), "no 2 MiB leaf for 0x%llx", LM_ALIAS_2M);
	for (u32 p = 0; p < 4; p++)
		if (!sees(LM_ALIAS_2M + ctx->page_pa[p] - ctx->base_2m, p))
			return;
	poke32(LM_ALIAS_2M + ctx->page_pa[3] - ctx->base_2m + 8, 0xc0ffee64);
	CHECK(peek32(ctx->page_pa[3] + 8) == 0xc0ffee64, "write through the 2 MiB alias not "
	      "seen through the identity map");
	poke32(ctx->page_pa[3] + 8, lm_pattern(3, 2));
	CHECK((*e & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "2 MiB PDE 0x%llx: A and D expected",
	      (u64)*e);
	test_pass();
}

static void t_alias_1g(void)
{
	if (!ctx->has_1g) {
		test_skip("CPUID.80000001H:EDX.Page1GB[26] is 0");
		return;
	}
	volatile u64 *e = leaf(LM_ALIAS_1G);
	CHECK(e && (*e & PTE_PS), "no 1 GiB leaf for 0x%llx", LM_ALIAS_1G);
	for (u32 p = 0; p < 4; p++)
		if (!sees(LM_ALIAS_1G + ctx->page_pa[p], p))
			return;
	test_pass();
}

static void t_alias_4k(void)
{
	if (!sees(LM_ALIAS_4K, 1) || !sees(LM_ALIAS_RO, 2))
		return;
	test_pass();
}

static void t_accessed_dirty(void)
{
	volatile u64 *e = leaf(LM_ALIAS_4K);
	CHECK(e, "no leaf for 0x%llx", LM_ALIAS_4K);
	*e &= ~(PTE_A | PTE_D);
	invlpg(LM_ALIAS_4K);
	(void)peek32(LM_ALIAS_4K + 4);
	CHECK((*e & (PTE_A | PTE_D)) == PTE_A, "after a read: PTE 0x%llx, expected A set, D "
	      "clear", (u64)*e);
	poke32(LM_ALIAS_4K + 4, lm_pattern(1, 1));
	CHECK(*e & PTE_D, "D clear after a write: PTE 0x%llx", (u64)*e);
	test_pass();
}

static void t_invlpg(void)
{
	volatile u64 *e = leaf(LM_ALIAS_4K);
	CHECK(e, "no leaf for 0x%llx", LM_ALIAS_4K);
	if (!sees(LM_ALIAS_4K, 1))
		return;
	u64 old = *e;
	*e = ctx->page_pa[3] | PTE_P | PTE_W;
	invlpg(LM_ALIAS_4K);
	bool ok = sees(LM_ALIAS_4K, 3);
	*e = old;
	invlpg(LM_ALIAS_4K);
	if (ok && sees(LM_ALIAS_4K, 1))
		test_pass();
}

static void t_pf_not_present(void)
{
	const u64 va = LM_UNMAPPED + 0x123;
	int v = call_catch(rd, (void *)va);
	CHECK(v == 14, "reading 0x%llx: vector %d, expected 14", va, v);
	CHECK(last_fault.cr2 == va, "CR2 0x%lx, expected 0x%llx (all 64 bits)", last_fault.cr2,
	      va);
	CHECK(last_fault.error == 0, "error code 0x%x, expected 0", last_fault.error);
	v = call_catch(wr, (void *)va);
	CHECK(v == 14 && last_fault.error == 2 && last_fault.cr2 == va,
	      "write: vector %d error 0x%x CR2 0x%lx", v, last_fault.error, last_fault.cr2);
	test_pass();
}

static void t_pf_write_ro(void)
{
	const u64 va = LM_ALIAS_RO + 0x40;
	int v = call_catch(wr, (void *)va);
	CHECK(v == 14, "writing read-only 0x%llx: vector %d, expected 14", va, v);
	CHECK(last_fault.cr2 == va, "CR2 0x%lx, expected 0x%llx", last_fault.cr2, va);
	CHECK(last_fault.error == 3, "error code 0x%x, expected 0x3 (P, W)", last_fault.error);
	CHECK(peek32(ctx->page_pa[2] + 0x40) == lm_pattern(2, 0x10),
	      "the faulting write reached memory");
	test_pass();
}

static void t_gp_noncanonical(void)
{
	int v = call_catch(rd, (void *)LM_NONCANONICAL);
	CHECK(v == 13, "reading non-canonical 0x%llx: vector %d, expected 13 (#GP)",
	      LM_NONCANONICAL, v);
	CHECK(last_fault.error == 0, "error code 0x%x, expected 0", last_fault.error);
	test_pass();
}

__attribute__((section(".text.lm64_entry"))) NORETURN void lm64_main(struct lm_ctx *c);
void lm64_main(struct lm_ctx *c)
{
	ctx = c;
	idt_init();
	test_set_counts(c->passed, c->failed);
	run_test("lm_active", t_active);
	run_test("lm_alias_2m", t_alias_2m);
	run_test("lm_alias_1g", t_alias_1g);
	run_test("lm_alias_4k", t_alias_4k);
	run_test("lm_accessed_dirty", t_accessed_dirty);
	run_test("lm_invlpg", t_invlpg);
	run_test("lm_pf_not_present", t_pf_not_present);
	run_test("lm_pf_write_protect", t_pf_write_ro);
	run_test("lm_gp_noncanonical", t_gp_noncanonical);
	test_summary_exit();
}
