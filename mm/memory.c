#include "memory.h"
#include "layout.h"
#include "lib.h"
#include "arch/x86/paging.h"

#define LOW_MEMORY_END  (1ull << 20)    /* BIOS data, EBDA, option ROMs: never allocated */
#define MAX_RESERVED    (BI_MAX_MODULES + 4)

struct pmm host_pmm;
struct heap host_heap;
uint64_t host_max_phys;
extern char __image_start[], __image_end[];

void *phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }
uint64_t virt_to_phys(const void *va) { return (uint64_t)(uintptr_t)va; }

static void *heap_grow(void *ctx, size_t min, size_t *size)
{
    uint64_t frames = ALIGN_UP((uint64_t)min, PAGE_SIZE) / PAGE_SIZE;
    uint64_t pa = pmm_alloc_contig(&host_pmm, frames, PAGE_SIZE);
    if (!pa)
        return NULL;
    *size = frames * PAGE_SIZE;
    return phys_to_virt(pa);
}

void memory_init(const struct boot_info *bi)
{
    struct mem_range resv[MAX_RESERVED];
    size_t nresv = 0;
    resv[nresv++] = (struct mem_range){ 0, LOW_MEMORY_END, MMAP_RESERVED };
    resv[nresv++] = (struct mem_range){ (uint64_t)__image_start,
                                        (uint64_t)(__image_end - __image_start), MMAP_RESERVED };
    for (size_t i = 0; i < bi->n_mods; i++)
        resv[nresv++] = (struct mem_range){ bi->mods[i].start,
                                            bi->mods[i].end - bi->mods[i].start, MMAP_RESERVED };

    host_max_phys = pmm_max_addr(bi->mmap, bi->n_mmap);
    size_t bm_bytes = pmm_bitmap_bytes(host_max_phys);
    uint64_t bm = pmm_find_space(bi->mmap, bi->n_mmap, resv, nresv, bm_bytes, LOW_MEMORY_END);
    if (!bm || bm + bm_bytes > paging_boot_limit())
        panic("no room for the page-frame bitmap (%zu bytes) below %#llx", bm_bytes,
              (unsigned long long)paging_boot_limit());
    resv[nresv++] = (struct mem_range){ bm, bm_bytes, MMAP_RESERVED };
    pmm_init(&host_pmm, phys_to_virt(bm), host_max_phys, bi->mmap, bi->n_mmap, resv, nresv);
    if (host_pmm.free_frames == 0)
        panic("the memory map leaves no free memory");
    heap_init(&host_heap, heap_grow, NULL);
}

void *kmalloc(size_t size)
{
    return heap_alloc(&host_heap, size);
}

void *kzalloc(size_t size)
{
    void *p = heap_alloc(&host_heap, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void kfree(void *ptr)
{
    if (ptr && !heap_free(&host_heap, ptr))
        panic("kfree(%p): not a live heap block (double free or corruption)", ptr);
}
