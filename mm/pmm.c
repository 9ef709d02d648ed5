/* Bitmap physical page allocator. A bitmap (not a free list threaded through the pages)
 * because guest memory wants contiguous, aligned runs and the VMM never touches a free
 * page, which keeps freed guest memory from carrying allocator metadata. */
#include "pmm.h"
#include "layout.h"
#include "lib.h"

static inline bool bit_get(const uint8_t *bm, uint64_t i) { return bm[i >> 3] & (1u << (i & 7)); }
static inline void bit_set(uint8_t *bm, uint64_t i) { bm[i >> 3] |= (uint8_t)(1u << (i & 7)); }
static inline void bit_clr(uint8_t *bm, uint64_t i) { bm[i >> 3] &= (uint8_t)~(1u << (i & 7)); }

uint64_t pmm_max_addr(const struct mem_range *map, size_t n)
{
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++) {
        if (map[i].type != MMAP_AVAILABLE)
            continue;
        uint64_t end = map[i].base + map[i].len;
        if (end < map[i].base)
            end = UINT64_MAX;
        if (end > max)
            max = end;
    }
    return max > PMM_MAX_PHYS ? PMM_MAX_PHYS : ALIGN_DOWN(max, PAGE_SIZE);
}

size_t pmm_bitmap_bytes(uint64_t max_addr)
{
    return (size_t)((max_addr / PAGE_SIZE + 7) / 8);
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

uint64_t pmm_find_space(const struct mem_range *map, size_t n, const struct mem_range *resv,
                        size_t nresv, uint64_t size, uint64_t min_addr)
{
    size = ALIGN_UP(size, PAGE_SIZE);
    for (size_t i = 0; i < n; i++) {
        if (map[i].type != MMAP_AVAILABLE)
            continue;
        uint64_t start = ALIGN_UP(MAX(map[i].base, min_addr), PAGE_SIZE);
        uint64_t end = ALIGN_DOWN(map[i].base + map[i].len, PAGE_SIZE);
        if (end > PMM_MAX_PHYS)
            end = PMM_MAX_PHYS;
        while (start + size <= end && start + size > start) {
            bool clash = false;
            for (size_t j = 0; j < nresv; j++) {
                if (overlaps(start, size, resv[j].base, resv[j].len)) {
                    start = ALIGN_UP(resv[j].base + resv[j].len, PAGE_SIZE);
                    clash = true;
                    break;
                }
            }
            if (!clash)
                return start;
        }
    }
    return 0;
}

static void mark(struct pmm *p, uint64_t base, uint64_t len, bool used)
{
    uint64_t first = base / PAGE_SIZE;
    uint64_t last = (base + len + PAGE_SIZE - 1) / PAGE_SIZE;    /* exclusive */
    if (base + len < base)
        last = p->nframes;
    if (!used) {        /* freeing: only whole frames inside the range */
        first = ALIGN_UP(base, PAGE_SIZE) / PAGE_SIZE;
        last = (base + len) / PAGE_SIZE;
    }
    if (last > p->nframes)
        last = p->nframes;
    for (uint64_t f = first; f < last; f++) {
        if (used && !bit_get(p->bitmap, f)) {
            bit_set(p->bitmap, f);
            p->free_frames--;
        } else if (!used && bit_get(p->bitmap, f)) {
            bit_clr(p->bitmap, f);
            p->free_frames++;
        }
    }
}

void pmm_init(struct pmm *p, uint8_t *bitmap, uint64_t max_addr, const struct mem_range *map,
              size_t n, const struct mem_range *resv, size_t nresv)
{
    p->bitmap = bitmap;
    p->nframes = max_addr / PAGE_SIZE;
    p->free_frames = 0;
    p->hint = 0;
    p->ignored_bytes = 0;
    memset(bitmap, 0xFF, pmm_bitmap_bytes(max_addr));
    for (size_t i = 0; i < n; i++) {
        if (map[i].type != MMAP_AVAILABLE)
            continue;
        uint64_t end = map[i].base + map[i].len;
        if (end > max_addr)
            p->ignored_bytes += end - MAX(map[i].base, max_addr);
        mark(p, map[i].base, map[i].len, false);
    }
    /* A map may list a region as available and reserved both: reserved wins. */
    for (size_t i = 0; i < n; i++)
        if (map[i].type != MMAP_AVAILABLE)
            mark(p, map[i].base, map[i].len, true);
    for (size_t i = 0; i < nresv; i++)
        mark(p, resv[i].base, resv[i].len, true);
    mark(p, 0, PAGE_SIZE, true);
    p->usable_frames = p->free_frames;
}

uint64_t pmm_alloc(struct pmm *p)
{
    return pmm_alloc_contig(p, 1, PAGE_SIZE);
}

uint64_t pmm_alloc_contig(struct pmm *p, uint64_t count, uint64_t align)
{
    if (!count || align < PAGE_SIZE || (align & (align - 1)) || count > p->free_frames)
        return 0;
    uint64_t step = align / PAGE_SIZE;
    /* Two passes: from the hint to the end, then from the start. */
    for (int pass = 0; pass < 2; pass++) {
        uint64_t f = pass ? 0 : ALIGN_UP(p->hint, step);
        uint64_t limit = pass ? p->hint + count : p->nframes;
        if (limit > p->nframes)
            limit = p->nframes;
        while (f + count <= limit) {
            uint64_t i = 0;
            while (i < count && !bit_get(p->bitmap, f + i))
                i++;
            if (i == count) {
                for (i = 0; i < count; i++)
                    bit_set(p->bitmap, f + i);
                p->free_frames -= count;
                p->hint = f + count;
                return f * PAGE_SIZE;
            }
            f = ALIGN_UP(f + i + 1, step);
        }
    }
    return 0;
}

bool pmm_free_contig(struct pmm *p, uint64_t addr, uint64_t count)
{
    if (addr % PAGE_SIZE)
        return false;
    uint64_t f = addr / PAGE_SIZE;
    if (f == 0 || f + count > p->nframes || f + count < f)
        return false;
    for (uint64_t i = 0; i < count; i++)
        if (!bit_get(p->bitmap, f + i))
            return false;           /* double free or never allocated: refuse whole */
    for (uint64_t i = 0; i < count; i++)
        bit_clr(p->bitmap, f + i);
    p->free_frames += count;
    return true;
}

bool pmm_free(struct pmm *p, uint64_t addr)
{
    return pmm_free_contig(p, addr, 1);
}

bool pmm_is_free(const struct pmm *p, uint64_t addr)
{
    uint64_t f = addr / PAGE_SIZE;
    return f < p->nframes && !bit_get(p->bitmap, f);
}
