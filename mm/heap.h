/* Kernel heap: first-fit over address-ordered free blocks with coalescing, 16-byte aligned.
 * Pure: memory comes in arenas from the caller (pages from the PMM in the VMM, malloc in
 * tests); `grow` is asked for a new arena when nothing fits. Page-aligned or large buffers
 * should come from the PMM directly. */
#ifndef MV_HEAP_H
#define MV_HEAP_H
#include "compiler.h"

struct heap_free;
struct heap {
    struct heap_free *free_list;
    size_t arena_bytes, used_bytes, nallocs;
    /* Returns a new arena of at least `min` bytes (sets *size), or NULL. May be NULL. */
    void *(*grow)(void *ctx, size_t min, size_t *size);
    void *grow_ctx;
};

void heap_init(struct heap *h, void *(*grow)(void *, size_t, size_t *), void *ctx);
void heap_add_arena(struct heap *h, void *mem, size_t size);
void *heap_alloc(struct heap *h, size_t size);
/* Returns false for a pointer that is not a live allocation of this heap (detected by its
 * header), so corruption and double frees are reported instead of spreading. */
bool heap_free(struct heap *h, void *ptr);

#ifndef MONOVISOR_HOST_TEST
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *ptr);
#endif
#endif
