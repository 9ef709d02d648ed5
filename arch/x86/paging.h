/* Host page tables: identity map of all RAM (and the low 4 GiB for MMIO). */
#ifndef MV_X86_PAGING_H
#define MV_X86_PAGING_H
#include "compiler.h"

#define PTE_P    BIT(0)
#define PTE_W    BIT(1)
#define PTE_U    BIT(2)
#define PTE_PWT  BIT(3)
#define PTE_PCD  BIT(4)
#define PTE_A    BIT(5)
#define PTE_D    BIT(6)
#define PTE_PS   BIT(7)
#define PTE_G    BIT(8)
#define PTE_NX   BIT(63)
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ull

/* What the boot page tables map: everything below it is reachable before paging_init. */
uint64_t paging_boot_limit(void);
/* Extends the identity map to max_phys and unmaps the boot stack guard page. */
void paging_init(uint64_t max_phys);
/* Unmaps one 4 KiB page of the identity map (splitting a 2 MiB mapping if needed). */
void paging_unmap_page(uint64_t va);
/* Maps one 4 KiB page of MMIO (below 4 GiB) identity, strong uncacheable: the xAPIC page. */
void paging_map_uncached(uint64_t pa);
#endif
