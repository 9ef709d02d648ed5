/* Page-table builders for the three 32-bit-addressable formats: 32-bit paging (4 KiB and
 * 4 MiB pages), PAE paging (4 KiB and 2 MiB pages) and 4-level paging (4 KiB, 2 MiB and
 * 1 GiB pages, used by the long-mode guest). Tables come from a static pool inside the
 * image; paging is off while they are built, so physical == virtual for them and the
 * identity mapping every guest sets up keeps it that way once paging is on. */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H
#include "types.h"

#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PTE_PWT 0x008u
#define PTE_PCD 0x010u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PTE_PS 0x080u           /* in a PDE/PDPTE: maps a large page */
#define PTE_G 0x100u
#define PTE_NX (1ull << 63)     /* PAE and 4-level only, with EFER.NXE */

#define PF_ERR_P 0x01           /* page-fault error code bits */
#define PF_ERR_W 0x02
#define PF_ERR_U 0x04
#define PF_ERR_RSVD 0x08
#define PF_ERR_ID 0x10

/* Identity-mapped range every guest's address spaces contain: low memory, the image,
 * the stack and the page-table pool (page 0 stays unmapped to catch NULL pointers). */
#define IDENT_START 0x1000u
#define IDENT_END 0x400000u

void pt_pool_reset(void);       /* forget all tables (only while paging is off) */
void *pt_alloc(void);           /* zeroed page; exits the guest if the pool is empty */

/* 32-bit paging. */
u32 *pg32_new(void);                            /* PD with IDENT_START..IDENT_END */
void pg32_map(u32 *pd, u32 va, u32 pa, u32 flags);        /* 4 KiB page */
void pg32_map_large(u32 *pd, u32 va, u32 pa, u32 flags);  /* 4 MiB page (CR4.PSE) */
u32 *pg32_pde(u32 *pd, u32 va);
u32 *pg32_entry(u32 *pd, u32 va);   /* leaf: PTE, or PDE of a 4 MiB page; NULL if none */

/* PAE paging: the PDPT and all four PDs exist from the start (PDPTEs are loaded with CR3). */
u64 *pae_new(void);                             /* with IDENT_START..IDENT_END, 4 KiB pages */
void pae_map(u64 *pdpt, u32 va, u64 pa, u64 flags);       /* 4 KiB page */
void pae_map_large(u64 *pdpt, u32 va, u64 pa, u64 flags); /* 2 MiB page */
u64 *pae_pde(u64 *pdpt, u32 va);
u64 *pae_entry(u64 *pdpt, u32 va);

/* 4-level paging. level: 1 = 4 KiB page, 2 = 2 MiB page, 3 = 1 GiB page. */
u64 *pml4_new(void);                            /* with IDENT_START..IDENT_END, 4 KiB pages */
void pml4_map(u64 *pml4, u64 va, u64 pa, u64 flags, int level);
u64 *pml4_entry(u64 *pml4, u64 va, int *level); /* leaf entry and its level; NULL if none */

/* Turn paging on (CR0.PG, with CR0.WP) or off. paging_off() also clears CR4.PSE/PAE. */
void paging_enable32(u32 *pd, bool pse);
void paging_enable_pae(u64 *pdpt);
void paging_off(void);

#endif
