/* Guest-physical memory of one VM: RAM [0, size) backed by 2 MiB host chunks that belong to
 * this VM alone. Every path that touches guest memory (shadow MMU, loaders, string I/O,
 * emulated DMA later) goes through gmem_hpa()/gmem_read()/gmem_write(), which refuse any
 * guest-physical address outside the VM's RAM: nothing is ever followed into host memory. */
#ifndef MV_GUEST_MEM_H
#define MV_GUEST_MEM_H
#include "compiler.h"

#define GMEM_CHUNK_SHIFT 21
#define GMEM_CHUNK_SIZE  (1ull << GMEM_CHUNK_SHIFT)
#define GMEM_MAX_SIZE    (64ull << 30)
#define GPA_INVALID      UINT64_MAX

struct gmem_ops {
    uint64_t (*alloc_chunk)(void *ctx);             /* 2 MiB-aligned host chunk, 0 if none */
    void (*free_chunk)(void *ctx, uint64_t hpa);
    void *(*hpa_to_ptr)(void *ctx, uint64_t hpa);
    void *ctx;
};

struct guest_mem {
    uint64_t size;                  /* bytes of RAM, a multiple of GMEM_CHUNK_SIZE */
    uint64_t nchunks;
    uint64_t *chunk_hpa;            /* host physical address of each chunk */
    struct gmem_ops ops;
};

/* Allocates and zeroes `size` bytes (rounded up to 2 MiB) of guest RAM; chunk_table must hold
 * size/2MiB entries. Returns false (having freed what it took) when host memory runs out. */
bool gmem_init(struct guest_mem *m, uint64_t size, uint64_t *chunk_table, const struct gmem_ops *ops);
void gmem_destroy(struct guest_mem *m);

/* Host physical address of a guest-physical byte, or GPA_INVALID outside guest RAM. */
static inline uint64_t gmem_hpa(const struct guest_mem *m, uint64_t gpa)
{
    if (gpa >= m->size)
        return GPA_INVALID;
    return m->chunk_hpa[gpa >> GMEM_CHUNK_SHIFT] + (gpa & (GMEM_CHUNK_SIZE - 1));
}

/* Copies between guest RAM and a VMM buffer; false (and nothing copied) if any byte of the
 * range lies outside guest RAM. Ranges may span chunks. */
bool gmem_read(const struct guest_mem *m, uint64_t gpa, void *buf, uint64_t len);
bool gmem_write(struct guest_mem *m, uint64_t gpa, const void *buf, uint64_t len);
bool gmem_fill(struct guest_mem *m, uint64_t gpa, uint8_t val, uint64_t len);
#endif
