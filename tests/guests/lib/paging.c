/* Page-table builders; see paging.h. 32-bit code only. */
#include "paging.h"
#include "string.h"
#include "test.h"
#include "x86.h"

#define POOL_PAGES 96
static u8 pool[POOL_PAGES][PAGE_SIZE] ALIGNED(PAGE_SIZE);
static u32 pool_used;

#define TABLE (PTE_P | PTE_W | PTE_U)   /* non-leaf entries: the leaf decides */
#define ADDR32 0xfffff000u
#define ADDR64 0x000ffffffffff000ull

void pt_pool_reset(void)
{
	pool_used = 0;
}

void *pt_alloc(void)
{
	if (pool_used == POOL_PAGES) {
		report("page_table_pool", false, "out of page-table pages (%u)", POOL_PAGES);
		test_summary_exit();
	}
	void *p = pool[pool_used++];
	memset(p, 0, PAGE_SIZE);
	return p;
}

/* ---- 32-bit paging ---------------------------------------------------------------------- */
u32 *pg32_pde(u32 *pd, u32 va)
{
	return &pd[va >> 22];
}

static u32 *pg32_pte(u32 *pd, u32 va, bool create)
{
	u32 *pde = pg32_pde(pd, va);
	if (!(*pde & PTE_P)) {
		if (!create)
			return NULL;
		*pde = (u32)pt_alloc() | TABLE;
	}
	if (*pde & PTE_PS)
		return NULL;
	return &((u32 *)(*pde & ADDR32))[(va >> 12) & 1023];
}

void pg32_map(u32 *pd, u32 va, u32 pa, u32 flags)
{
	*pg32_pte(pd, va, true) = (pa & ADDR32) | flags;
}

void pg32_map_large(u32 *pd, u32 va, u32 pa, u32 flags)
{
	*pg32_pde(pd, va) = (pa & 0xffc00000u) | flags | PTE_PS;
}

u32 *pg32_entry(u32 *pd, u32 va)
{
	u32 *pde = pg32_pde(pd, va);
	if ((*pde & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS))
		return pde;
	return pg32_pte(pd, va, false);
}

u32 *pg32_new(void)
{
	u32 *pd = pt_alloc();
	for (u32 a = IDENT_START; a < IDENT_END; a += PAGE_SIZE)
		pg32_map(pd, a, a, PTE_P | PTE_W);
	return pd;
}

/* ---- PAE paging ------------------------------------------------------------------------- */
u64 *pae_pde(u64 *pdpt, u32 va)
{
	u64 *pd = (u64 *)(u32)(pdpt[va >> 30] & ADDR64);
	return &pd[(va >> 21) & 511];
}

static u64 *pae_pte(u64 *pdpt, u32 va, bool create)
{
	u64 *pde = pae_pde(pdpt, va);
	if (!(*pde & PTE_P)) {
		if (!create)
			return NULL;
		*pde = (u32)pt_alloc() | TABLE;
	}
	if (*pde & PTE_PS)
		return NULL;
	return &((u64 *)(u32)(*pde & ADDR64))[(va >> 12) & 511];
}

u64 *pae_new(void)
{
	u64 *pdpt = pt_alloc();
	for (int i = 0; i < 4; i++)
		pdpt[i] = (u32)pt_alloc() | PTE_P;      /* PDPTE: only P, PWT, PCD are allowed */
	for (u32 a = IDENT_START; a < IDENT_END; a += PAGE_SIZE)
		pae_map(pdpt, a, a, PTE_P | PTE_W);
	return pdpt;
}

void pae_map(u64 *pdpt, u32 va, u64 pa, u64 flags)
{
	*pae_pte(pdpt, va, true) = (pa & ADDR64) | flags;
}

void pae_map_large(u64 *pdpt, u32 va, u64 pa, u64 flags)
{
	*pae_pde(pdpt, va) = (pa & ADDR64 & ~0x1fffffull) | flags | PTE_PS;
}

u64 *pae_entry(u64 *pdpt, u32 va)
{
	u64 *pde = pae_pde(pdpt, va);
	if ((*pde & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS))
		return pde;
	return pae_pte(pdpt, va, false);
}

/* ---- 4-level paging --------------------------------------------------------------------- */
static u64 *next_table(u64 *e, bool create)
{
	if (!(*e & PTE_P)) {
		if (!create)
			return NULL;
		*e = (u32)pt_alloc() | TABLE;
	}
	if (*e & PTE_PS)
		return NULL;
	return (u64 *)(u32)(*e & ADDR64);
}

static unsigned idx(u64 va, int level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

void pml4_map(u64 *pml4, u64 va, u64 pa, u64 flags, int level)
{
	u64 *t = pml4;
	for (int l = 4; l > level; l--)
		t = next_table(&t[idx(va, l)], true);
	if (level > 1)
		flags |= PTE_PS;
	t[idx(va, level)] = (pa & ADDR64) | flags;
}

u64 *pml4_entry(u64 *pml4, u64 va, int *level)
{
	u64 *t = pml4;
	for (int l = 4; l >= 1; l--) {
		u64 *e = &t[idx(va, l)];
		if (!(*e & PTE_P))
			return NULL;
		if (l == 1 || (l <= 3 && (*e & PTE_PS))) {
			*level = l;
			return e;
		}
		t = next_table(e, false);
	}
	return NULL;
}

u64 *pml4_new(void)
{
	u64 *pml4 = pt_alloc();
	for (u32 a = IDENT_START; a < IDENT_END; a += PAGE_SIZE)
		pml4_map(pml4, a, a, PTE_P | PTE_W, 1);
	return pml4;
}

/* ---- control registers ------------------------------------------------------------------ */
void paging_enable32(u32 *pd, bool pse)
{
	ulong cr4 = read_cr4() & ~(ulong)(CR4_PAE | CR4_PSE);
	write_cr4(cr4 | (pse ? CR4_PSE : 0));
	write_cr3((u32)pd);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

void paging_enable_pae(u64 *pdpt)
{
	write_cr4((read_cr4() & ~(ulong)CR4_PSE) | CR4_PAE);
	write_cr3((u32)pdpt);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

void paging_off(void)
{
	write_cr0(read_cr0() & ~(ulong)CR0_PG);
	write_cr4(read_cr4() & ~(ulong)(CR4_PAE | CR4_PSE));
	write_cr3(0);
}
