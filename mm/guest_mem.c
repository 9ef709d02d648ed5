#include "guest_mem.h"
#include "lib.h"

bool gmem_init(struct guest_mem *m, uint64_t size, uint64_t *chunk_table, const struct gmem_ops *ops)
{
    memset(m, 0, sizeof(*m));
    if (size == 0 || size > GMEM_MAX_SIZE)
        return false;
    m->ops = *ops;
    m->chunk_hpa = chunk_table;
    uint64_t n = (size + GMEM_CHUNK_SIZE - 1) >> GMEM_CHUNK_SHIFT;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t hpa = ops->alloc_chunk(ops->ctx);
        if (!hpa || (hpa & (GMEM_CHUNK_SIZE - 1))) {
            if (hpa)
                ops->free_chunk(ops->ctx, hpa);
            m->nchunks = i;
            gmem_destroy(m);
            return false;
        }
        /* Fresh guest RAM is zero: no host data (or another VM's) may leak into it. */
        memset(ops->hpa_to_ptr(ops->ctx, hpa), 0, GMEM_CHUNK_SIZE);
        chunk_table[i] = hpa;
        m->nchunks = i + 1;
    }
    m->size = n << GMEM_CHUNK_SHIFT;
    return true;
}

void gmem_destroy(struct guest_mem *m)
{
    for (uint64_t i = 0; i < m->nchunks; i++)
        m->ops.free_chunk(m->ops.ctx, m->chunk_hpa[i]);
    m->nchunks = 0;
    m->size = 0;
}

static bool in_range(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    return gpa <= m->size && len <= m->size - gpa;
}

/* Walks [gpa, gpa+len) chunk by chunk, calling fn on each host-mapped piece. */
static void each_piece(const struct guest_mem *m, uint64_t gpa, uint64_t len,
                       void (*fn)(void *host, uint64_t off, uint64_t n, void *arg), void *arg)
{
    uint64_t done = 0;
    while (done < len) {
        uint64_t g = gpa + done;
        uint64_t in_chunk = GMEM_CHUNK_SIZE - (g & (GMEM_CHUNK_SIZE - 1));
        uint64_t n = MIN(in_chunk, len - done);
        fn(m->ops.hpa_to_ptr(m->ops.ctx, gmem_hpa(m, g)), done, n, arg);
        done += n;
    }
}

static void piece_read(void *host, uint64_t off, uint64_t n, void *arg) { memcpy((uint8_t *)arg + off, host, n); }
static void piece_write(void *host, uint64_t off, uint64_t n, void *arg) { memcpy(host, (const uint8_t *)arg + off, n); }
static void piece_fill(void *host, uint64_t off, uint64_t n, void *arg) { (void)off; memset(host, *(uint8_t *)arg, n); }

bool gmem_read(const struct guest_mem *m, uint64_t gpa, void *buf, uint64_t len)
{
    if (!in_range(m, gpa, len))
        return false;
    each_piece(m, gpa, len, piece_read, buf);
    return true;
}

bool gmem_write(struct guest_mem *m, uint64_t gpa, const void *buf, uint64_t len)
{
    if (!in_range(m, gpa, len))
        return false;
    each_piece(m, gpa, len, piece_write, (void *)buf);
    return true;
}

bool gmem_fill(struct guest_mem *m, uint64_t gpa, uint8_t val, uint64_t len)
{
    if (!in_range(m, gpa, len))
        return false;
    each_piece(m, gpa, len, piece_fill, &val);
    return true;
}
