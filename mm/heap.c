#include "heap.h"
#include "lib.h"

#define HEAP_ALIGN      16u
#define MAGIC_USED      0x4D564845415055ull   /* "MVHEAPU" */
#define MAGIC_FREE      0x4D564845415046ull   /* "MVHEAPF" */
#define HEAP_GROW_MIN   (1u << 20)

/* Every block starts with this header; free blocks use the payload for the link. */
struct heap_hdr {
    uint64_t size;              /* whole block, header included, multiple of HEAP_ALIGN */
    uint64_t magic;
};
struct heap_free {
    struct heap_hdr hdr;
    struct heap_free *next;     /* address order */
};
STATIC_ASSERT(sizeof(struct heap_hdr) == HEAP_ALIGN, "header keeps payloads aligned");
#define MIN_BLOCK  (sizeof(struct heap_free) + HEAP_ALIGN - sizeof(struct heap_free) % HEAP_ALIGN)

void heap_init(struct heap *h, void *(*grow)(void *, size_t, size_t *), void *ctx)
{
    memset(h, 0, sizeof(*h));
    h->grow = grow;
    h->grow_ctx = ctx;
}

static void insert_free(struct heap *h, struct heap_free *b)
{
    b->hdr.magic = MAGIC_FREE;
    struct heap_free **pp = &h->free_list, *prev = NULL;
    while (*pp && *pp < b) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    b->next = *pp;
    *pp = b;
    if (b->next && (uint8_t *)b + b->hdr.size == (uint8_t *)b->next) {
        b->hdr.size += b->next->hdr.size;
        b->next = b->next->next;
    }
    if (prev && (uint8_t *)prev + prev->hdr.size == (uint8_t *)b) {
        prev->hdr.size += b->hdr.size;
        prev->next = b->next;
    }
}

void heap_add_arena(struct heap *h, void *mem, size_t size)
{
    uintptr_t start = ((uintptr_t)mem + HEAP_ALIGN - 1) & ~(uintptr_t)(HEAP_ALIGN - 1);
    uintptr_t end = ((uintptr_t)mem + size) & ~(uintptr_t)(HEAP_ALIGN - 1);
    if (end <= start || end - start < MIN_BLOCK)
        return;
    struct heap_free *b = (struct heap_free *)start;
    b->hdr.size = end - start;
    h->arena_bytes += b->hdr.size;
    insert_free(h, b);
}

static void *try_alloc(struct heap *h, uint64_t need)
{
    for (struct heap_free **pp = &h->free_list; *pp; pp = &(*pp)->next) {
        struct heap_free *b = *pp;
        if (b->hdr.size < need)
            continue;
        if (b->hdr.size - need >= MIN_BLOCK) {
            struct heap_free *rest = (struct heap_free *)((uint8_t *)b + need);
            rest->hdr.size = b->hdr.size - need;
            rest->hdr.magic = MAGIC_FREE;
            rest->next = b->next;
            *pp = rest;
            b->hdr.size = need;
        } else {
            *pp = b->next;
        }
        b->hdr.magic = MAGIC_USED;
        h->used_bytes += b->hdr.size;
        h->nallocs++;
        return (uint8_t *)b + sizeof(struct heap_hdr);
    }
    return NULL;
}

void *heap_alloc(struct heap *h, size_t size)
{
    if (size == 0 || size > (1ull << 40))
        return NULL;
    uint64_t need = (size + sizeof(struct heap_hdr) + HEAP_ALIGN - 1) & ~(uint64_t)(HEAP_ALIGN - 1);
    if (need < MIN_BLOCK)
        need = MIN_BLOCK;
    void *p = try_alloc(h, need);
    if (!p && h->grow) {
        size_t got = 0;
        size_t want = need + HEAP_ALIGN > HEAP_GROW_MIN ? need + HEAP_ALIGN : HEAP_GROW_MIN;
        void *mem = h->grow(h->grow_ctx, want, &got);
        if (mem) {
            heap_add_arena(h, mem, got);
            p = try_alloc(h, need);
        }
    }
    return p;
}

bool heap_free(struct heap *h, void *ptr)
{
    if (!ptr || ((uintptr_t)ptr % HEAP_ALIGN))
        return false;
    struct heap_free *b = (struct heap_free *)((uint8_t *)ptr - sizeof(struct heap_hdr));
    if (b->hdr.magic != MAGIC_USED || b->hdr.size < MIN_BLOCK || b->hdr.size % HEAP_ALIGN)
        return false;
    h->used_bytes -= b->hdr.size;
    h->nallocs--;
    insert_free(h, b);
    return true;
}
