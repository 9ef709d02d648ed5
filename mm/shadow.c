/* Shadow page tables; see shadow.h. Tables are levels 0 (root) .. nlevels-1 (page tables);
 * an entry at level i covers 2^level_shift(i) bytes of guest-virtual space. */
#include "shadow.h"
#include "arch/x86/paging.h"
#include "lib.h"

#define PAGE_BYTES    4096u
#define PAGE_4K       (1ull << 12)
#define PAGE_2M       (1ull << 21)
#define PAGE_4M       (1ull << 22)
#define PAGE_1G       (1ull << 30)
#define LEAF_SHIFT    12
#define SHIFT_2M      21            /* entries of this level cover 2 MiB (PDEs) */
#define SHIFT_1G      30            /* ... and of this one 1 GiB (PDPTEs) */
#define IDX_BITS      9
#define ENTRIES       (1u << IDX_BITS)
#define LONG_LEVELS   4
#define PAE_LEVELS    3
#define MAX_LEVELS    LONG_LEVELS
#define PAE_ROOT_ENTRIES 4

#define PAE_VA_LIMIT  (1ull << 32)
#define LONG_VA_BITS  48
#define LONG_VA_MASK  ((1ull << LONG_VA_BITS) - 1)
#define HPA_LIMIT     (1ull << 52)

/* Upper levels grant everything, so the leaf alone decides. A (and D on writable leaves) is
 * preset so the CPU never has to write it back into the shadow. */
#define TABLE_FLAGS    (PTE_P | PTE_W | PTE_U | PTE_A)
#define PAE_ROOT_FLAGS PTE_P        /* PAE PDPTEs: bits 1, 2 and 5..8 are reserved */

/* Guest large-page marks: software bits 10:9 of an upper-level entry (ignored by the CPU,
 * present or not) say that pieces of a guest page of that size were mapped below it. */
#define MARK_SHIFT 9
#define MARK_MASK  (3ull << MARK_SHIFT)
enum { MARK_NONE, MARK_2M, MARK_4M, MARK_1G, MARK_CODES };
static const uint64_t mark_size[MARK_CODES] = { PAGE_4K, PAGE_2M, PAGE_4M, PAGE_1G };

/* Which summary an upper table has. 4-level: its number is in bits 62:52 of the entry that
 * points to it (ignored by the CPU in a PML4E or PDPTE that references a table, SDM Tables
 * 4-15 and 4-17); PAE: the root's four entries have no such bits, so the PD under root entry j
 * always has summary 1 + j. Page tables have none: a flush never looks inside them. */
#define SUM_SHIFT  52
#define SUM_MASK   (0x7FFull << SUM_SHIFT)
#define SUM_NONE   (-1)
#define SUM_CHUNKS (ENTRIES / SHADOW_SUMMARY_SPAN)
#define PAE_PD_SUMMARY(j) (1 + (int)(j))
STATIC_ASSERT(SUM_CHUNKS == 64, "one summary word per table");
STATIC_ASSERT(PAE_ROOT_ENTRIES < SHADOW_SUMMARIES, "every PAE PD has a summary");

static unsigned nlevels(const struct shadow *s)
{
    return s->fmt == SHADOW_LONG ? LONG_LEVELS : PAE_LEVELS;
}

static unsigned level_shift(const struct shadow *s, unsigned i)
{
    return LEAF_SHIFT + IDX_BITS * (nlevels(s) - 1 - i);
}

static unsigned index_at(const struct shadow *s, unsigned i, uint64_t gva)
{
    return (gva >> level_shift(s, i)) & (ENTRIES - 1);
}

static uint64_t *table_ptr(const struct shadow *s, uint64_t hpa)
{
    return s->ops.hpa_to_ptr(s->ops.ctx, hpa);
}

static bool gva_ok(const struct shadow *s, uint64_t gva)
{
    if (s->fmt == SHADOW_PAE)
        return gva < PAE_VA_LIMIT;
    uint64_t top = gva >> (LONG_VA_BITS - 1);
    return top == 0 || top == (~0ull >> (LONG_VA_BITS - 1));
}

static uint64_t table_flags(const struct shadow *s, unsigned i)
{
    return s->fmt == SHADOW_PAE && i == 0 ? PAE_ROOT_FLAGS : TABLE_FLAGS;
}

/* The summary of the level-`level` table that entry j (value e) of its parent points to. */
static int child_summary(const struct shadow *s, unsigned level, unsigned j, uint64_t e)
{
    if (level + 1 >= nlevels(s))
        return SUM_NONE;                /* a page table */
    if (s->fmt == SHADOW_PAE)
        return PAE_PD_SUMMARY(j);
    int id = (int)((e & SUM_MASK) >> SUM_SHIFT);
    return id > 0 && id < SHADOW_SUMMARIES ? id : SUM_NONE;
}

/* A fresh summary for a new upper table at `level` linked from parent entry j; what goes
 * into the linking entry (4-level) to name it. */
static uint64_t new_summary(struct shadow *s, unsigned level, unsigned j)
{
    if (level + 1 >= nlevels(s))
        return 0;
    if (s->fmt == SHADOW_PAE) {
        s->used[PAE_PD_SUMMARY(j)] = 0;
        return 0;
    }
    if (s->summaries_used >= SHADOW_SUMMARIES)
        return 0;                       /* none left: this table is looked through whole */
    unsigned id = s->summaries_used++;
    s->used[id] = 0;
    return (uint64_t)id << SUM_SHIFT;
}

/* Entry j of the table with summary `sum` may now be non-zero. */
static void note_used(struct shadow *s, int sum, unsigned j)
{
    if (sum != SUM_NONE)
        s->used[sum] |= 1ull << (j / SHADOW_SUMMARY_SPAN);
}

/* The chunks of a table to look through: its summary, or all of them. */
static uint64_t used_chunks(const struct shadow *s, int sum)
{
    return sum == SUM_NONE ? ~0ull : s->used[sum];
}

static uint64_t alloc_table(struct shadow *s)
{
    uint64_t hpa = s->ops.alloc_page(s->ops.ctx);
    if (!hpa)
        return 0;
    /* Never trust a page to be clean: a stale entry would map host memory into the guest. */
    memset(table_ptr(s, hpa), 0, PAGE_BYTES);
    s->pages_in_use++;
    return hpa;
}

static void free_table_page(struct shadow *s, uint64_t hpa)
{
    s->ops.free_page(s->ops.ctx, hpa);
    s->pages_in_use--;
}

/* Frees every table below the level-i table t (summary sum) that its used entries point to;
 * clears those entries too if `clear`. */
static void free_tree(struct shadow *s, uint64_t hpa, unsigned i, int sum);

static void free_children(struct shadow *s, uint64_t *t, unsigned i, int sum, bool clear)
{
    uint64_t chunks = used_chunks(s, sum);
    while (chunks) {
        unsigned c = (unsigned)__builtin_ctzll(chunks);
        chunks &= chunks - 1;
        for (unsigned j = c * SHADOW_SUMMARY_SPAN; j < (c + 1) * SHADOW_SUMMARY_SPAN; j++) {
            uint64_t e = t[j];
            if ((e & PTE_P) && !(e & PTE_PS))       /* a large leaf maps guest RAM, not a table */
                free_tree(s, e & PTE_ADDR_MASK, i + 1, child_summary(s, i + 1, j, e));
            if (clear)
                t[j] = 0;
        }
    }
}

/* Frees the level-i table at hpa (summary sum) and every table below it. */
static void free_tree(struct shadow *s, uint64_t hpa, unsigned i, int sum)
{
    if (i + 1 < nlevels(s))
        free_children(s, table_ptr(s, hpa), i, sum, false);
    free_table_page(s, hpa);
}

int shadow_init(struct shadow *s, enum shadow_fmt fmt, const struct shadow_ops *ops)
{
    memset(s, 0, sizeof(*s));
    s->fmt = fmt;
    s->ops = *ops;
    s->summaries_used = 1;              /* the root's */
    uint64_t root = alloc_table(s);
    if (!root)
        return SHADOW_ENOMEM;
    if (fmt == SHADOW_PAE && root >= SHADOW_PAE_ROOT_LIMIT) {
        free_table_page(s, root);
        return SHADOW_EINVAL;
    }
    s->root_hpa = root;
    return 0;
}

void shadow_flush(struct shadow *s)
{
    if (!s->root_hpa)
        return;
    /* Only what was filled is visited and cleared (marks included): the rest is still zero. */
    free_children(s, table_ptr(s, s->root_hpa), 0, 0, true);
    s->used[0] = 0;
    s->summaries_used = 1;
}

void shadow_destroy(struct shadow *s)
{
    if (!s->root_hpa)
        return;
    shadow_flush(s);
    free_table_page(s, s->root_hpa);
    s->root_hpa = 0;
}

static int size_mark(uint64_t guest_page_size)
{
    for (int code = 0; code < MARK_CODES; code++)
        if (mark_size[code] == guest_page_size)
            return code;
    return -1;
}

/* Marks, in table t at level i (summary sum), every entry covering part of the guest page
 * around gva (two for a 4 MiB page over 2 MiB entries). A mark only grows: dropping more is
 * harmless. */
static void mark_entries(struct shadow *s, uint64_t *t, unsigned i, int sum, uint64_t gva, int code)
{
    unsigned count = mark_size[code] >> level_shift(s, i);
    unsigned first = index_at(s, i, gva) & ~(count - 1);
    for (unsigned j = first; j < first + count; j++)
        if ((int)((t[j] & MARK_MASK) >> MARK_SHIFT) < code) {
            t[j] = (t[j] & ~MARK_MASK) | ((uint64_t)code << MARK_SHIFT);
            note_used(s, sum, j);
        }
}

/* The level whose entries lie wholly inside a guest page of this size: the marks go there. */
static unsigned mark_level_shift(int code)
{
    return mark_size[code] >= PAGE_1G ? SHIFT_1G : SHIFT_2M;
}

/* Installs leaf at level leaf_level (nlevels-1: a 4 KiB PTE; nlevels-2: a 2 MiB PDE with PS)
 * for gva, building the tables above it. A large leaf met on the way down is dropped first
 * (dropping a translation is always allowed); a table where a large leaf goes is freed. */
static int map_leaf(struct shadow *s, uint64_t gva, uint64_t leaf, unsigned leaf_level, int code)
{
    /* Get every missing table before linking any, so a failed allocation changes nothing. */
    uint64_t *t = table_ptr(s, s->root_hpa);
    unsigned have = 0;
    while (have < leaf_level) {
        uint64_t e = t[index_at(s, have, gva)];
        if (!(e & PTE_P) || (e & PTE_PS))
            break;
        t = table_ptr(s, e & PTE_ADDR_MASK);
        have++;
    }
    uint64_t fresh[MAX_LEVELS];
    unsigned need = leaf_level - have;
    for (unsigned k = 0; k < need; k++) {
        fresh[k] = alloc_table(s);
        if (!fresh[k]) {
            while (k--)
                free_table_page(s, fresh[k]);
            return SHADOW_ENOMEM;
        }
    }

    t = table_ptr(s, s->root_hpa);
    unsigned used = 0;
    int sum = 0;                        /* the root's */
    for (unsigned i = 0; i < leaf_level; i++) {
        if (code != MARK_NONE && level_shift(s, i) == mark_level_shift(code))
            mark_entries(s, t, i, sum, gva, code);
        unsigned j = index_at(s, i, gva);
        uint64_t *e = &t[j];
        if (*e & PTE_PS)
            *e &= MARK_MASK;
        if (!(*e & PTE_P)) {
            *e = fresh[used++] | table_flags(s, i) | (*e & MARK_MASK) | new_summary(s, i + 1, j);
            note_used(s, sum, j);
        }
        sum = child_summary(s, i + 1, j, *e);
        t = table_ptr(s, *e & PTE_ADDR_MASK);
    }
    unsigned j = index_at(s, leaf_level, gva);
    uint64_t *e = &t[j];
    bool upper = leaf_level + 1 < nlevels(s);
    if (upper && (*e & PTE_P) && !(*e & PTE_PS))
        free_tree(s, *e & PTE_ADDR_MASK, leaf_level + 1, child_summary(s, leaf_level + 1, j, *e));
    *e = leaf | (upper ? *e & MARK_MASK : 0);
    if (upper) {
        note_used(s, sum, j);
        if (code != MARK_NONE && level_shift(s, leaf_level) == mark_level_shift(code))
            mark_entries(s, t, leaf_level, sum, gva, code);
    }
    return 0;
}

static uint64_t leaf_bits(bool writable, bool user, bool nx)
{
    uint64_t leaf = PTE_P | PTE_A;
    if (writable)
        leaf |= PTE_W | PTE_D;
    if (user)
        leaf |= PTE_U;
    if (nx)
        leaf |= PTE_NX;
    return leaf;
}

int shadow_map_sized(struct shadow *s, uint64_t gva, uint64_t hpa, bool writable, bool user, bool nx,
                     uint64_t guest_page_size)
{
    int code = size_mark(guest_page_size);
    if (code < 0 || !s->root_hpa || !gva_ok(s, gva) || hpa >= HPA_LIMIT)
        return SHADOW_EINVAL;
    return map_leaf(s, gva, (hpa & PTE_ADDR_MASK) | leaf_bits(writable, user, nx), nlevels(s) - 1, code);
}

int shadow_map_large(struct shadow *s, uint64_t gva, uint64_t hpa, bool writable, bool user, bool nx,
                     uint64_t guest_page_size)
{
    int code = size_mark(guest_page_size);
    if (code < 0 || !s->root_hpa || !gva_ok(s, gva) || hpa >= HPA_LIMIT || ((gva | hpa) & (PAGE_2M - 1)))
        return SHADOW_EINVAL;
    /* PS with PAT (bit 12) clear: write-back, as every 4 KiB shadow leaf is. */
    return map_leaf(s, gva, hpa | PTE_PS | leaf_bits(writable, user, nx), nlevels(s) - 2, code);
}

int shadow_map_run(struct shadow *s, uint64_t gva, uint64_t hpa, unsigned npages, bool writable, bool user,
                   bool nx, uint64_t guest_page_size)
{
    unsigned first = (unsigned)((gva >> LEAF_SHIFT) & (ENTRIES - 1));
    if (npages == 0 || first + npages > ENTRIES)
        return SHADOW_EINVAL;
    if (hpa + ((uint64_t)npages << LEAF_SHIFT) > HPA_LIMIT)
        return SHADOW_EINVAL;
    int rc = shadow_map_sized(s, gva, hpa, writable, user, nx, guest_page_size);
    if (rc != 0)
        return rc;
    /* The first page built the path and the large-page marks; the rest share its table. */
    uint64_t *t = table_ptr(s, s->root_hpa);
    for (unsigned i = 0; i + 1 < nlevels(s); i++)
        t = table_ptr(s, t[index_at(s, i, gva)] & PTE_ADDR_MASK);
    uint64_t flags = t[first] & ~PTE_ADDR_MASK;
    for (unsigned k = 1; k < npages; k++)
        t[first + k] = ((hpa + ((uint64_t)k << LEAF_SHIFT)) & PTE_ADDR_MASK) | flags;
    return 0;
}

int shadow_map(struct shadow *s, uint64_t gva, uint64_t hpa, bool writable, bool user, bool nx)
{
    return shadow_map_sized(s, gva, hpa, writable, user, nx, PAGE_4K);
}

/* Drops every translation in [lo, hi) below the level-i table t, which covers gva from
 * base; tables wholly inside the range are freed. Addresses are 48-bit (not sign-extended). */
static void drop_range(struct shadow *s, uint64_t *t, unsigned i, uint64_t base, uint64_t lo, uint64_t hi)
{
    unsigned shift = level_shift(s, i);
    uint64_t cover = 1ull << shift;
    bool leaf = i + 1 == nlevels(s);
    unsigned first = lo > base ? (lo - base) >> shift : 0;
    unsigned last = MIN((uint64_t)ENTRIES - 1, (hi - 1 - base) >> shift);
    for (unsigned j = first; j <= last; j++) {
        uint64_t va = base + j * cover;
        bool inside = va >= lo && va + cover <= hi;
        if (!leaf && (t[j] & PTE_PS)) {
            t[j] = 0;                   /* a 2 MiB leaf the range touches goes whole */
            continue;
        }
        if (!leaf && (t[j] & PTE_P) && !inside) {
            drop_range(s, table_ptr(s, t[j] & PTE_ADDR_MASK), i + 1, va, lo, hi);
            continue;
        }
        if (!leaf && (t[j] & PTE_P))
            free_tree(s, t[j] & PTE_ADDR_MASK, i + 1, child_summary(s, i + 1, j, t[j]));
        if (inside)
            t[j] = 0;
    }
}

void shadow_invlpg(struct shadow *s, uint64_t gva)
{
    if (!s->root_hpa || !gva_ok(s, gva))
        return;
    /* The drop covers the largest guest page recorded on gva's path. */
    uint64_t size = PAGE_4K, *t = table_ptr(s, s->root_hpa);
    for (unsigned i = 0; i + 1 < nlevels(s); i++) {
        uint64_t e = t[index_at(s, i, gva)];
        size = MAX(size, mark_size[(e & MARK_MASK) >> MARK_SHIFT]);
        if (!(e & PTE_P) || (e & PTE_PS))
            break;
        t = table_ptr(s, e & PTE_ADDR_MASK);
    }
    uint64_t lo = (gva & LONG_VA_MASK) & ~(size - 1);
    drop_range(s, table_ptr(s, s->root_hpa), 0, 0, lo, lo + size);
}

bool shadow_lookup(const struct shadow *s, uint64_t gva, uint64_t *hpa, bool *writable, bool *user,
                   bool *nx)
{
    if (!s->root_hpa || !gva_ok(s, gva))
        return false;
    const uint64_t *t = table_ptr(s, s->root_hpa);
    unsigned n = nlevels(s);
    for (unsigned i = 0;; i++) {
        uint64_t e = t[index_at(s, i, gva)];
        if (!(e & PTE_P))
            return false;
        bool large = i + 1 < n && (e & PTE_PS);
        if (i + 1 < n && !large) {
            t = table_ptr(s, e & PTE_ADDR_MASK);
            continue;
        }
        uint64_t in_page = large ? PAGE_2M - 1 : PAGE_4K - 1;
        if (hpa)
            *hpa = (e & PTE_ADDR_MASK & ~in_page) | (gva & in_page);
        if (writable)
            *writable = e & PTE_W;
        if (user)
            *user = e & PTE_U;
        if (nx)
            *nx = e & PTE_NX;
        return true;
    }
}
