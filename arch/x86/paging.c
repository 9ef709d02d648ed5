/* The VMM runs on an identity map built with 2 MiB pages; only the page under the boot
 * stack is mapped 4 KiB-wise, so that it can be left unmapped as a guard. */
#include "paging.h"
#include "cpu.h"
#include "layout.h"
#include "lib.h"
#include "mm/memory.h"

#define BOOT_MAPPED     (4ull << 30)
#define ENTRIES         512
#define PML4_SHIFT      39
#define PDPT_SHIFT      30
#define PD_SHIFT        21
#define IDX(va, s)      (((va) >> (s)) & (ENTRIES - 1))

extern uint64_t boot_pml4[ENTRIES];
extern char boot_stack_guard[];

uint64_t paging_boot_limit(void) { return BOOT_MAPPED; }

static uint64_t *table_alloc(void)
{
    uint64_t pa = pmm_alloc(&host_pmm);
    if (!pa)
        panic("out of memory for host page tables");
    uint64_t *t = phys_to_virt(pa);
    memset(t, 0, PAGE_SIZE);
    return t;
}

/* Returns the next-level table for entry e, creating it if absent. */
static uint64_t *next_table(uint64_t *e)
{
    if (!(*e & PTE_P))
        *e = virt_to_phys(table_alloc()) | PTE_P | PTE_W;
    if (*e & PTE_PS)
        panic("host page tables: unexpected large mapping at %p", (void *)e);
    return phys_to_virt(*e & PTE_ADDR_MASK);
}

void paging_init(uint64_t max_phys)
{
    for (uint64_t a = BOOT_MAPPED; a < max_phys; a += LARGE_PAGE_SIZE) {
        uint64_t *pdpt = next_table(&boot_pml4[IDX(a, PML4_SHIFT)]);
        uint64_t *pd = next_table(&pdpt[IDX(a, PDPT_SHIFT)]);
        pd[IDX(a, PD_SHIFT)] = a | PTE_P | PTE_W | PTE_PS;
    }
    paging_unmap_page((uint64_t)boot_stack_guard);
    write_cr3(read_cr3());
}

/* The 4 KiB entry that maps va, splitting its 2 MiB mapping first if needed. */
static uint64_t *pte_of(uint64_t va)
{
    uint64_t *pdpt = next_table(&boot_pml4[IDX(va, PML4_SHIFT)]);
    uint64_t *pd = next_table(&pdpt[IDX(va, PDPT_SHIFT)]);
    uint64_t *pde = &pd[IDX(va, PD_SHIFT)];
    if (*pde & PTE_PS) {
        uint64_t base = *pde & ~(LARGE_PAGE_SIZE - 1) & PTE_ADDR_MASK;
        uint64_t flags = *pde & (PTE_P | PTE_W | PTE_U | PTE_PWT | PTE_PCD);
        uint64_t *pt = table_alloc();
        for (unsigned i = 0; i < ENTRIES; i++)
            pt[i] = (base + i * PAGE_SIZE) | flags;
        *pde = virt_to_phys(pt) | PTE_P | PTE_W;
    }
    uint64_t *pt = phys_to_virt(*pde & PTE_ADDR_MASK);
    return &pt[IDX(va, PAGE_SHIFT)];
}

void paging_unmap_page(uint64_t va)
{
    *pte_of(va) = 0;
    invlpg(va);
}

void paging_map_uncached(uint64_t pa)
{
    *pte_of(pa) = (pa & PTE_ADDR_MASK) | PTE_P | PTE_W | PTE_PCD | PTE_PWT;
    invlpg(pa);
}
