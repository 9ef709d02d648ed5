/* Physical page allocator: one bit per 4 KiB frame (1 = in use). Pure: the bitmap storage
 * is handed in, so the same code runs in the VMM and in host unit tests. */
#ifndef MV_PMM_H
#define MV_PMM_H
#include "compiler.h"
#include "boot/bootinfo.h"

#define PMM_MAX_PHYS (1ull << 39)       /* 512 GiB: beyond this RAM is ignored (reported) */

struct pmm {
    uint8_t *bitmap;
    uint64_t nframes;                   /* frames covered: [0, nframes) */
    uint64_t free_frames;
    uint64_t usable_frames;             /* available per the map, minus reservations */
    uint64_t hint;                      /* next frame to look at */
    uint64_t ignored_bytes;             /* RAM above PMM_MAX_PHYS */
};

/* Highest end address of available RAM (clipped to PMM_MAX_PHYS). */
uint64_t pmm_max_addr(const struct mem_range *map, size_t n);
size_t pmm_bitmap_bytes(uint64_t max_addr);

/* Finds a page-aligned place for `size` bytes in available RAM at or above `min_addr`,
 * avoiding the reserved ranges. Returns 0 if none. */
uint64_t pmm_find_space(const struct mem_range *map, size_t n, const struct mem_range *resv,
                        size_t nresv, uint64_t size, uint64_t min_addr);

/* Builds the allocator: frames in available ranges become free, except reserved ranges
 * (rounded outward to frames) and frame 0, which is never handed out. */
void pmm_init(struct pmm *p, uint8_t *bitmap, uint64_t max_addr, const struct mem_range *map,
              size_t n, const struct mem_range *resv, size_t nresv);

uint64_t pmm_alloc(struct pmm *p);                          /* 0 when out of memory */
/* `count` contiguous frames aligned to `align` bytes (a power of two >= 4 KiB). */
uint64_t pmm_alloc_contig(struct pmm *p, uint64_t count, uint64_t align);
/* Returns false (and changes nothing) for a frame that is not allocated or out of range. */
bool pmm_free(struct pmm *p, uint64_t addr);
bool pmm_free_contig(struct pmm *p, uint64_t addr, uint64_t count);
bool pmm_is_free(const struct pmm *p, uint64_t addr);
#endif
