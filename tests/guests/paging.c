/* paging: 32-bit paging (4 KiB and PSE 4 MiB pages) and PAE paging (4 KiB and 2 MiB
 * pages): aliases see the right physical memory, INVLPG and CR3 reloads make PTE changes
 * visible, the CPU sets the accessed and dirty bits, and the guest's own #PF handler sees
 * the right CR2 and error code (not present, write to read-only with CR0.WP, reserved
 * bits, execute-disable). */
#include "guest.h"
#include "paging.h"

const char guest_name[] = "paging";

#define NPAGES 6
static u32 pages[NPAGES][PAGE_SIZE / 4] ALIGNED(PAGE_SIZE);   /* physical test pages */

#define ALIAS 0x40000000u       /* virtual addresses only used through the test mappings */
#define ALIAS_LARGE 0x80000000u
#define UNMAPPED 0x50000000u

static u32 pattern(u32 page, u32 word)
{
	return 0xa5000000u | page << 16 | word;
}

static void fill_pages(void)
{
	for (u32 p = 0; p < NPAGES; p++)
		for (u32 w = 0; w < PAGE_SIZE / 4; w++)
			pages[p][w] = pattern(p, w);
}

static u32 pa(u32 page)
{
	return (u32)pages[page];
}

/* Reads a few words of the page at va; they must be those of test page `page`. */
static bool sees(u32 va, u32 page)
{
	static const u32 words[] = { 0, 1, 511, 1000, 1023 };
	for (unsigned i = 0; i < ARRAY_SIZE(words); i++) {
		u32 v = peek32(va + words[i] * 4);
		if (v != pattern(page, words[i])) {
			test_fail("0x%x reads 0x%08x, expected 0x%08x (test page %u)",
				  va + words[i] * 4, v, pattern(page, words[i]), page);
			return false;
		}
	}
	return true;
}

/* Accesses for call_catch(). */
static void rd(void *p)
{
	(void)*(volatile u32 *)p;
}

static void wr(void *p)
{
	*(volatile u32 *)p = 0x5a5a5a5a;
}

/* Each test builds its own tables and leaves with paging off. */
static void begin(void)
{
	fill_pages();
	pt_pool_reset();
}

#define CHECK_OFF(cond, ...)                                                              \
	do {                                                                              \
		if (!(cond)) {                                                            \
			paging_off();                                                     \
			test_fail(__VA_ARGS__);                                           \
			return;                                                           \
		}                                                                         \
	} while (0)
#define SEES_OFF(va, page)                                                                \
	do {                                                                              \
		if (!sees(va, page)) {                                                    \
			paging_off();                                                     \
			return;                                                           \
		}                                                                         \
	} while (0)

static void t_pg32_alias(void)
{
	begin();
	u32 *pd = pg32_new();
	pg32_map(pd, ALIAS, pa(0), PTE_P | PTE_W);
	pg32_map(pd, ALIAS + PAGE_SIZE, pa(1), PTE_P | PTE_W);
	pg32_map(pd, ALIAS + 2 * PAGE_SIZE, pa(0), PTE_P | PTE_W);   /* second alias of page 0 */
	paging_enable32(pd, false);
	CHECK_OFF(read_cr0() & CR0_PG, "CR0.PG did not stick");
	SEES_OFF(ALIAS, 0);
	SEES_OFF(ALIAS + PAGE_SIZE, 1);
	SEES_OFF(ALIAS + 2 * PAGE_SIZE, 0);
	poke32(ALIAS + 2 * PAGE_SIZE + 8, 0x12345678);
	u32 a = peek32(ALIAS + 8), id = peek32(pa(0) + 8);
	paging_off();
	CHECK(a == 0x12345678 && id == 0x12345678,
	      "a write through one alias is not seen through the other (0x%x) or the identity "
	      "mapping (0x%x)", a, id);
	CHECK(pages[0][2] == 0x12345678, "with paging off, the write is not in memory");
	test_pass();
}

static void t_pg32_invlpg(void)
{
	begin();
	u32 *pd = pg32_new();
	pg32_map(pd, ALIAS, pa(0), PTE_P | PTE_W);
	paging_enable32(pd, false);
	SEES_OFF(ALIAS, 0);                      /* the translation is now cached */
	*pg32_entry(pd, ALIAS) = pa(1) | PTE_P | PTE_W;
	invlpg(ALIAS);
	SEES_OFF(ALIAS, 1);
	*pg32_entry(pd, ALIAS) = pa(2) | PTE_P | PTE_W;
	write_cr3(read_cr3());                   /* a CR3 reload flushes it too */
	SEES_OFF(ALIAS, 2);
	*pg32_entry(pd, ALIAS) = 0;
	invlpg(ALIAS);
	int v = call_catch(rd, (void *)ALIAS);
	paging_off();
	CHECK(v == 14, "reading an unmapped (and invalidated) page gave %d, expected #PF", v);
	test_pass();
}

static void t_pg32_cr3_switch(void)
{
	begin();
	u32 *a = pg32_new(), *b = pg32_new();
	pg32_map(a, ALIAS, pa(0), PTE_P | PTE_W);
	pg32_map(b, ALIAS, pa(1), PTE_P | PTE_W);
	pg32_map(b, ALIAS + PAGE_SIZE, pa(2), PTE_P | PTE_W);
	paging_enable32(a, false);
	SEES_OFF(ALIAS, 0);
	for (int i = 0; i < 3; i++) {
		write_cr3((u32)b);
		SEES_OFF(ALIAS, 1);
		SEES_OFF(ALIAS + PAGE_SIZE, 2);
		write_cr3((u32)a);
		SEES_OFF(ALIAS, 0);
	}
	/* ALIAS + 4 KiB exists only in b. */
	int v = call_catch(rd, (void *)(ALIAS + PAGE_SIZE));
	paging_off();
	CHECK(v == 14, "a page mapped only in the other address space is readable (%d)", v);
	test_pass();
}

static void t_pg32_accessed_dirty(void)
{
	begin();
	u32 *pd = pg32_new();
	pg32_map(pd, ALIAS, pa(3), PTE_P | PTE_W);
	volatile u32 *pte = pg32_entry(pd, ALIAS), *pde = pg32_pde(pd, ALIAS);
	*pde &= ~PTE_A;
	paging_enable32(pd, false);
	CHECK_OFF(!(*pte & (PTE_A | PTE_D)), "A/D set before any access: PTE 0x%x", *pte);
	(void)peek32(ALIAS + 4);
	CHECK_OFF(*pte & PTE_A, "A clear after a read: PTE 0x%x", *pte);
	CHECK_OFF(!(*pte & PTE_D), "D set after only a read: PTE 0x%x", *pte);
	CHECK_OFF(*pde & PTE_A, "PDE.A clear after a read: PDE 0x%x", *pde);
	poke32(ALIAS + 4, 1);
	CHECK_OFF(*pte & PTE_D, "D clear after a write: PTE 0x%x", *pte);
	/* Clear both, flush, and go again. */
	*pte &= ~(PTE_A | PTE_D);
	invlpg(ALIAS);
	poke32(ALIAS + 8, 2);
	CHECK_OFF((*pte & (PTE_A | PTE_D)) == (PTE_A | PTE_D),
		  "A and D not both set by a write after INVLPG: PTE 0x%x", *pte);
	paging_off();
	test_pass();
}

static void t_pg32_pf_not_present(void)
{
	begin();
	u32 *pd = pg32_new();
	paging_enable32(pd, false);
	int v = call_catch(rd, (void *)(UNMAPPED + 0x123));
	struct fault_info r = last_fault;
	int w = call_catch(wr, (void *)(UNMAPPED + 0x456));
	struct fault_info wr = last_fault;
	paging_off();
	CHECK(v == 14, "read: vector %d, expected 14", v);
	CHECK(r.cr2 == UNMAPPED + 0x123, "read: CR2 0x%lx, expected 0x%x", r.cr2,
	      UNMAPPED + 0x123);
	CHECK(r.error == 0, "read: error code 0x%x, expected 0 (not present, read, supervisor)",
	      r.error);
	CHECK(w == 14, "write: vector %d, expected 14", w);
	CHECK(wr.cr2 == UNMAPPED + 0x456, "write: CR2 0x%lx, expected 0x%x", wr.cr2,
	      UNMAPPED + 0x456);
	CHECK(wr.error == PF_ERR_W, "write: error code 0x%x, expected 0x2", wr.error);
	test_pass();
}

static void t_pg32_pf_fetch(void)
{
	/* Without PAE+NXE (or SMEP) the I/D bit stays 0 even for an instruction fetch. */
	begin();
	u32 *pd = pg32_new();
	paging_enable32(pd, false);
	int v = call_catch((void (*)(void *))UNMAPPED, NULL);
	struct fault_info f = last_fault;
	paging_off();
	CHECK(v == 14, "calling an unmapped address: vector %d, expected 14", v);
	CHECK(f.cr2 == UNMAPPED && f.ip == UNMAPPED, "CR2 0x%lx / EIP 0x%lx, expected 0x%x",
	      f.cr2, f.ip, UNMAPPED);
	CHECK(f.error == 0, "error code 0x%x, expected 0", f.error);
	test_pass();
}

static void t_pg32_wp(void)
{
	begin();
	u32 *pd = pg32_new();
	pg32_map(pd, ALIAS, pa(4), PTE_P);      /* read-only */
	paging_enable32(pd, false);             /* sets CR0.WP */
	SEES_OFF(ALIAS, 4);
	int v = call_catch(wr, (void *)(ALIAS + 0x10));
	struct fault_info f = last_fault;
	u32 after = pages[4][4];
	write_cr0(read_cr0() & ~CR0_WP);
	poke32(ALIAS + 0x14, 0xfeedf00d);        /* supervisor writes ignore R/W now */
	volatile u32 *pte = pg32_entry(pd, ALIAS);
	u32 pte_val = *pte;
	paging_off();
	CHECK(v == 14, "write to a read-only page with CR0.WP=1: vector %d, expected 14", v);
	CHECK(f.cr2 == ALIAS + 0x10, "CR2 0x%lx, expected 0x%x", f.cr2, ALIAS + 0x10);
	CHECK(f.error == (PF_ERR_P | PF_ERR_W), "error code 0x%x, expected 0x3", f.error);
	CHECK(after == pattern(4, 4), "the faulting write reached memory");
	CHECK(pages[4][5] == 0xfeedf00d, "with CR0.WP=0 the write did not happen (0x%x)",
	      pages[4][5]);
	CHECK(pte_val & PTE_D, "with CR0.WP=0 the write did not set D: PTE 0x%x", pte_val);
	test_pass();
}

static void t_pg32_pse(void)
{
	if (!(cpuid(1).edx & (1u << 3))) {
		test_skip("CPUID.1:EDX.PSE[3] is 0");
		return;
	}
	begin();
	u32 *pd = pg32_new();
	u32 base = pa(0) & ~0x3fffffu;          /* the 4 MiB frame holding the test pages */
	CHECK(pa(NPAGES - 1) - base < 0x400000u, "the test pages straddle a 4 MiB frame");
	pg32_map_large(pd, ALIAS_LARGE, base, PTE_P | PTE_W);
	volatile u32 *pde = pg32_pde(pd, ALIAS_LARGE);
	paging_enable32(pd, true);
	for (u32 p = 0; p < NPAGES; p++)
		SEES_OFF(ALIAS_LARGE + (pa(p) - base), p);
	CHECK_OFF((*pde & (PTE_A | PTE_D)) == PTE_A, "after reads, 4 MiB PDE 0x%x: expected A "
		  "set, D clear", *pde);
	poke32(ALIAS_LARGE + (pa(5) - base), 0x0badcafe);
	CHECK_OFF(*pde & PTE_D, "D clear after a write: PDE 0x%x", *pde);
	paging_off();
	CHECK(pages[5][0] == 0x0badcafe, "write through the 4 MiB page missing");
	test_pass();
}

static void t_pae_4k(void)
{
	begin();
	u64 *pdpt = pae_new();
	pae_map(pdpt, ALIAS, pa(0), PTE_P | PTE_W);
	pae_map(pdpt, ALIAS + PAGE_SIZE, pa(1), PTE_P | PTE_W);
	pae_map(pdpt, 0xc0000000u, pa(2), PTE_P | PTE_W);   /* through the fourth PDPTE */
	volatile u64 *pte = pae_entry(pdpt, ALIAS);
	paging_enable_pae(pdpt);
	CHECK_OFF(read_cr4() & CR4_PAE, "CR4.PAE did not stick");
	SEES_OFF(ALIAS, 0);
	SEES_OFF(ALIAS + PAGE_SIZE, 1);
	SEES_OFF(0xc0000000u, 2);
	CHECK_OFF((*pte & (PTE_A | PTE_D)) == PTE_A, "after reads, PTE 0x%llx: expected A set, "
		  "D clear", *pte);
	poke32(ALIAS + 12, 7);
	CHECK_OFF(*pte & PTE_D, "D clear after a write: PTE 0x%llx", *pte);
	*pte = pa(3) | PTE_P | PTE_W;
	invlpg(ALIAS);
	SEES_OFF(ALIAS, 3);
	int v = call_catch(rd, (void *)(UNMAPPED + 8));
	struct fault_info f = last_fault;
	paging_off();
	CHECK(pages[0][3] == 7, "write through the PAE alias missing");
	CHECK(v == 14 && f.cr2 == UNMAPPED + 8 && f.error == 0,
	      "unmapped read: vector %d CR2 0x%lx error 0x%x", v, f.cr2, f.error);
	test_pass();
}

static void t_pae_2m(void)
{
	begin();
	u64 *pdpt = pae_new();
	u32 base = pa(0) & ~0x1fffffu;          /* the 2 MiB frame holding the test pages */
	CHECK(pa(NPAGES - 1) - base < 0x200000u, "the test pages straddle a 2 MiB frame");
	pae_map_large(pdpt, ALIAS_LARGE, base, PTE_P | PTE_W);
	volatile u64 *pde = pae_pde(pdpt, ALIAS_LARGE);
	paging_enable_pae(pdpt);
	for (u32 p = 0; p < NPAGES; p++)
		SEES_OFF(ALIAS_LARGE + (pa(p) - base), p);
	poke32(ALIAS_LARGE + (pa(1) - base) + 16, 0x600df00d);
	CHECK_OFF((*pde & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "2 MiB PDE 0x%llx: A and D "
		  "expected after read and write", *pde);
	paging_off();
	CHECK(pages[1][4] == 0x600df00d, "write through the 2 MiB page missing");
	test_pass();
}

static bool has_nx(void)
{
	return cpuid_max_ext() >= 0x80000001 && (cpuid(0x80000001).edx & (1u << 20));
}

static u32 maxphyaddr(void)
{
	return cpuid_max_ext() >= 0x80000008 ? cpuid(0x80000008).eax & 0xff : 36;
}

static void t_pae_nx(void)
{
	if (!has_nx()) {
		test_skip("CPUID.80000001H:EDX.NX[20] is 0");
		return;
	}
	begin();
	u8 *code = (u8 *)pages[5];
	code[0] = 0xb8;                          /* mov $0x1234abcd, %eax; ret */
	code[1] = 0xcd;
	code[2] = 0xab;
	code[3] = 0x34;
	code[4] = 0x12;
	code[5] = 0xc3;
	u64 *pdpt = pae_new();
	pae_map(pdpt, ALIAS, pa(5), PTE_P);                  /* executable */
	pae_map(pdpt, ALIAS + PAGE_SIZE, pa(5), PTE_P | PTE_NX);
	u64 efer = rdmsr(MSR_EFER);
	wrmsr(MSR_EFER, efer | EFER_NXE);
	paging_enable_pae(pdpt);
	u32 r = ((u32 (*)(void))ALIAS)();
	int v = call_catch((void (*)(void *))(ALIAS + PAGE_SIZE), NULL);
	struct fault_info f = last_fault;
	u32 data = peek32(ALIAS + PAGE_SIZE);    /* NX pages stay readable */
	paging_off();
	wrmsr(MSR_EFER, efer);
	CHECK(r == 0x1234abcd, "code in an executable page returned 0x%x", r);
	CHECK(v == 14, "executing an NX page: vector %d, expected 14", v);
	CHECK(f.cr2 == ALIAS + PAGE_SIZE && f.ip == ALIAS + PAGE_SIZE,
	      "CR2 0x%lx EIP 0x%lx, expected 0x%x", f.cr2, f.ip, ALIAS + PAGE_SIZE);
	CHECK(f.error == (PF_ERR_P | PF_ERR_ID), "error code 0x%x, expected 0x11 (P, I/D)",
	      f.error);
	CHECK(data == *(u32 *)code, "reading the NX page gave 0x%x", data);
	test_pass();
}

static void t_pae_rsvd(void)
{
	u32 m = maxphyaddr();
	if (m >= 52) {
		test_skip("MAXPHYADDR is %u: no reserved address bits", m);
		return;
	}
	begin();
	u64 *pdpt = pae_new();
	pae_map(pdpt, ALIAS, pa(0) | (1ull << m), PTE_P | PTE_W);   /* bit MAXPHYADDR set */
	paging_enable_pae(pdpt);
	int v = call_catch(rd, (void *)(ALIAS + 0x20));
	struct fault_info f = last_fault;
	paging_off();
	CHECK(v == 14, "a PTE with reserved bit %u set: vector %d, expected #PF", m, v);
	CHECK(f.cr2 == ALIAS + 0x20, "CR2 0x%lx, expected 0x%x", f.cr2, ALIAS + 0x20);
	if (f.error == PF_ERR_RSVD && qemu_tcg()) {
		test_skip("QEMU TCG reports error code 0x8 (RSVD without P)");
		return;
	}
	CHECK(f.error == (PF_ERR_P | PF_ERR_RSVD), "error code 0x%x, expected 0x9 (P, RSVD)",
	      f.error);
	test_pass();
}

void guest_main(void)
{
	run_test("paging32_alias", t_pg32_alias);
	run_test("paging32_invlpg", t_pg32_invlpg);
	run_test("paging32_cr3_switch", t_pg32_cr3_switch);
	run_test("paging32_accessed_dirty", t_pg32_accessed_dirty);
	run_test("paging32_pf_not_present", t_pg32_pf_not_present);
	run_test("paging32_pf_fetch", t_pg32_pf_fetch);
	run_test("paging32_write_protect", t_pg32_wp);
	run_test("paging32_pse_4m", t_pg32_pse);
	run_test("paging_pae_4k", t_pae_4k);
	run_test("paging_pae_2m", t_pae_2m);
	run_test("paging_pae_nx", t_pae_nx);
	run_test("paging_pae_reserved_bit", t_pae_rsvd);
}
