/* Guest page-table walker; see gpt.h. The four paging modes share one loop, driven by a
 * per-mode table of levels; what differs (entry width, reserved bits, where large pages may
 * sit, how a 4 MiB PSE address is assembled) is decided per entry below. */
#include "gpt.h"
#include "arch/x86/paging.h"
#include "lib.h"

#define PAGE_4K (1ull << 12)
#define PAGE_2M (1ull << 21)
#define PAGE_4M (1ull << 22)
#define PAGE_1G (1ull << 30)
#define PAGE_OFFSET_BITS 12

#define MAXPHY_MIN   32
#define MAXPHY_MAX   52
#define MAXPHY_32BIT 40             /* 32-bit paging (PSE-36) reaches at most 40 bits */

#define VA32_MASK    0xFFFFFFFFull  /* non-long modes: linear addresses are 32 bits */
#define LONG_VA_BITS 48             /* canonical: bits 63:47 all equal */

#define CR3_32_TABLE 0xFFFFF000ull  /* CR3[31:12]: the page directory */
#define CR3_PAE_PDPT 0xFFFFFFE0ull  /* CR3[31:5]: the 32-byte-aligned PDPT */
#define ENT32_ADDR   0xFFFFF000ull  /* 32-bit entries: bits 31:12 address the next level */

/* 4 MiB PSE pages: PDE[31:22] are address bits 31:22 and PDE[(M-20):13] are bits (M-1):32
 * (PSE-36); the PDE bits above those up to bit 21 are reserved. */
#define PSE_ADDR_LO      0xFFC00000ull
#define PSE_HI_SHIFT     13
#define PSE_HI_DEST      32
#define PSE_RSVD_TOP     21

#define LARGE_PAT_BIT    12         /* large-page entries: bit 12 is PAT, bits above it reserved
                                     * up to the page's own alignment */
#define PAE_RSVD_TOP     62         /* PAE entries: bits 62:M reserved (63 is XD) */
#define LONG_RSVD_TOP    51         /* 4-level entries: bits 51:M reserved, 62:52 ignored */
/* PAE PDPTEs have no R/W, U/S, A, D, PS or G: those bit positions are reserved. */
#define PAE_PDPTE_RSVD   (BIT(1) | BIT(2) | BIT(5) | BIT(6) | BIT(7) | BIT(8))

#define ENTRY_WORD_MASK  7ull       /* accessors work on aligned 8-byte words */
#define ENTRY_HALF_BIT   4ull       /* a 4-byte entry's gpa bit 2 picks the word's half */
#define MAX_LEVELS       4

struct level {
    uint8_t shift;                  /* lowest gva bit of this level's index */
    uint8_t idx_bits;
    uint64_t large_size;            /* PS=1 maps a page of this size here; 0: not a leaf */
};

struct geometry {
    unsigned nlevels;
    bool narrow;                    /* 4-byte entries */
    struct level levels[MAX_LEVELS];
};

static const struct geometry geo_32 = { 2, true, { { 22, 10, PAGE_4M }, { 12, 10, 0 } } };
static const struct geometry geo_pae = { 3, false, { { 30, 2, 0 }, { 21, 9, PAGE_2M }, { 12, 9, 0 } } };
static const struct geometry geo_long = {
    4, false, { { 39, 9, 0 }, { 30, 9, PAGE_1G }, { 21, 9, PAGE_2M }, { 12, 9, 0 } }
};

/* Bits hi..lo inclusive; empty when hi < lo. */
static uint64_t bit_range(unsigned hi, unsigned lo)
{
    if (hi < lo)
        return 0;
    return (~0ull >> (63 - hi)) & (~0ull << lo);
}

static unsigned clamp_maxphy(unsigned m)
{
    return m < MAXPHY_MIN ? MAXPHY_MIN : m > MAXPHY_MAX ? MAXPHY_MAX : m;
}

static bool canonical(uint64_t gva)
{
    uint64_t top = gva >> (LONG_VA_BITS - 1);
    return top == 0 || top == (~0ull >> (LONG_VA_BITS - 1));
}

static unsigned half_shift(uint64_t gpa)
{
    return (gpa & ENTRY_HALF_BIT) ? 32 : 0;
}

static bool read_entry(const struct gpt_ctx *c, uint64_t gpa, bool narrow, uint64_t *val)
{
    uint64_t word;
    if (!c->read_pte(c->ctx, gpa & ~ENTRY_WORD_MASK, &word))
        return false;
    *val = narrow ? (uint32_t)(word >> half_shift(gpa)) : word;
    return true;
}

/* Re-reads the entry before updating it: in a looping table two levels may be one entry. */
static bool set_entry_bits(const struct gpt_ctx *c, uint64_t gpa, bool narrow, uint64_t bits)
{
    uint64_t word, aligned = gpa & ~ENTRY_WORD_MASK;
    if (!c->read_pte(c->ctx, aligned, &word))
        return false;
    uint64_t want = narrow ? bits << half_shift(gpa) : bits;
    if ((word & want) == want)
        return true;                /* nothing to write: keeps clean tables untouched */
    return c->write_pte(c->ctx, aligned, word | want);
}

/* Reserved bits of a present entry at level i (0 = the top level). */
static uint64_t pae_pdpte_reserved(unsigned m)
{
    return PAE_PDPTE_RSVD | bit_range(63, m);   /* XD is reserved here even with NXE */
}

static uint64_t reserved_bits(const struct gpt_ctx *c, unsigned m, unsigned i, const struct level *l,
                              bool large)
{
    uint64_t nx = c->efer_nxe ? 0 : PTE_NX;
    switch (c->mode) {
    case GPT_MODE_32: {
        if (!large)
            return 0;               /* 32-bit 4 KiB-level entries have no reserved bits */
        unsigned m32 = MIN(m, MAXPHY_32BIT);
        return bit_range(PSE_RSVD_TOP, PSE_HI_SHIFT + (m32 - PSE_HI_DEST));
    }
    case GPT_MODE_PAE:
        if (i == 0)
            return pae_pdpte_reserved(m);
        return bit_range(PAE_RSVD_TOP, m) | nx | (large ? bit_range(l->shift - 1, LARGE_PAT_BIT + 1) : 0);
    case GPT_MODE_LONG:
        return bit_range(LONG_RSVD_TOP, m) | nx | (i == 0 ? PTE_PS : 0) |
               (large ? bit_range(l->shift - 1, LARGE_PAT_BIT + 1) : 0);
    case GPT_MODE_NONE:
        break;
    }
    return 0;
}

/* Physical base of the page a leaf entry maps. */
static uint64_t leaf_base(const struct gpt_ctx *c, unsigned m, uint64_t e, uint64_t size)
{
    if (c->mode == GPT_MODE_32) {
        if (size == PAGE_4K)
            return e & ENT32_ADDR;
        unsigned hi_bits = MIN(m, MAXPHY_32BIT) - PSE_HI_DEST;
        uint64_t hi = (e >> PSE_HI_SHIFT) & ((1ull << hi_bits) - 1);
        return (e & PSE_ADDR_LO) | (hi << PSE_HI_DEST);
    }
    /* Bits 62:52 (long mode: ignored) and XD are not address bits. */
    return e & bit_range(m - 1, __builtin_ctzll(size));
}

static enum gpt_result fault(struct gpt_walk *out, uint32_t pfec)
{
    out->pfec = pfec;
    return GPT_FAULT;
}

enum gpt_result gpt_walk(const struct gpt_ctx *c, uint64_t gva, unsigned access, bool set_ad,
                         struct gpt_walk *out)
{
    memset(out, 0, sizeof(*out));
    bool write = access & GPT_ACC_WRITE, user = access & GPT_ACC_USER, fetch = access & GPT_ACC_FETCH;
    bool pae_or_long = c->mode == GPT_MODE_PAE || c->mode == GPT_MODE_LONG;
    /* The error code names the access; I/D only where fetches are distinguishable (SDM 4.7). */
    uint32_t pfec = access & (PFEC_W | PFEC_U);
    if (fetch && (c->cr4_smep || (c->efer_nxe && pae_or_long)))
        pfec |= PFEC_I;

    const struct geometry *g;
    uint64_t table;
    unsigned m = clamp_maxphy(c->maxphyaddr);
    switch (c->mode) {
    case GPT_MODE_NONE:
        out->gpa = gva & VA32_MASK;
        out->page_size = PAGE_4K;
        out->writable = out->user = true;
        out->dirty = true;          /* no D bit to maintain */
        return GPT_OK;
    case GPT_MODE_32:
        gva &= VA32_MASK;
        g = &geo_32;
        table = c->cr3 & CR3_32_TABLE;
        break;
    case GPT_MODE_PAE:
        gva &= VA32_MASK;
        g = &geo_pae;
        table = c->cr3 & CR3_PAE_PDPT;     /* re-read each walk, not cached as the CPU does */
        break;
    case GPT_MODE_LONG:
        if (!canonical(gva))
            return GPT_NONCANONICAL;
        g = &geo_long;
        table = c->cr3 & bit_range(m - 1, PAGE_OFFSET_BITS);
        break;
    default:
        ASSERT(!"bad gpt_mode");
        return GPT_BAD_GPA;
    }

    uint64_t ent_gpa[MAX_LEVELS], e = 0, size = PAGE_4K;
    bool writable = true, usr = true, nx = false;
    unsigned esize = g->narrow ? sizeof(uint32_t) : sizeof(uint64_t);
    /* Fixed depth: a table that points back at itself (or any cycle) ends after nlevels. */
    for (unsigned i = 0;; i++) {
        const struct level *l = &g->levels[i];
        uint64_t idx = (gva >> l->shift) & ((1ull << l->idx_bits) - 1);
        uint64_t egpa = table + idx * esize;
        if (!read_entry(c, egpa, g->narrow, &e)) {
            out->bad_gpa = egpa;
            return GPT_BAD_GPA;
        }
        ent_gpa[i] = egpa;
        out->levels = i + 1;
        if (!(e & PTE_P))
            return fault(out, pfec);
        bool last = i + 1 == g->nlevels;
        bool large = !last && l->large_size && (e & PTE_PS) && (c->mode != GPT_MODE_32 || c->cr4_pse);
        if (e & reserved_bits(c, m, i, l, large))
            return fault(out, pfec | PFEC_P | PFEC_RSVD);
        if (!(c->mode == GPT_MODE_PAE && i == 0)) {     /* PDPTEs carry no rights */
            writable &= !!(e & PTE_W);
            usr &= !!(e & PTE_U);
            if (c->efer_nxe && pae_or_long)
                nx |= !!(e & PTE_NX);
        }
        if (last || large) {
            size = large ? l->large_size : PAGE_4K;
            break;
        }
        table = g->narrow ? (e & ENT32_ADDR) : (e & bit_range(m - 1, PAGE_OFFSET_BITS));
    }

    /* Access rights (SDM 4.6), checked on the rights combined over all levels. */
    bool denied = (user && !usr) ||
                  (write && !writable && (user || c->cr0_wp)) ||
                  (fetch && nx) ||
                  (fetch && !user && c->cr4_smep && usr);
    if (denied)
        return fault(out, pfec | PFEC_P);

    unsigned leaf = out->levels - 1;
    if (set_ad) {
        for (unsigned i = 0; i <= leaf; i++) {
            if (c->mode == GPT_MODE_PAE && i == 0)
                continue;           /* bit 5 of a PAE PDPTE is reserved, not A */
            uint64_t bits = PTE_A | (i == leaf && write ? PTE_D : 0);
            if (!set_entry_bits(c, ent_gpa[i], g->narrow, bits)) {
                out->bad_gpa = ent_gpa[i];
                return GPT_BAD_GPA;
            }
        }
    }
    out->gpa = leaf_base(c, m, e, size) | (gva & (size - 1));
    out->page_size = size;
    out->writable = writable;
    out->user = usr;
    out->nx = nx;
    out->dirty = (e & PTE_D) || (set_ad && write);
    return GPT_OK;
}

enum gpt_result gpt_load_pdptes(const struct gpt_ctx *c, uint64_t pdpte[GPT_PAE_PDPTES], uint64_t *bad_gpa)
{
    uint64_t rsvd = pae_pdpte_reserved(clamp_maxphy(c->maxphyaddr));
    uint64_t base = c->cr3 & CR3_PAE_PDPT;
    enum gpt_result r = GPT_OK;
    for (unsigned i = 0; i < GPT_PAE_PDPTES; i++) {
        uint64_t gpa = base + i * sizeof(uint64_t);
        if (!c->read_pte(c->ctx, gpa, &pdpte[i])) {
            *bad_gpa = gpa;
            return GPT_BAD_GPA;
        }
        if ((pdpte[i] & PTE_P) && (pdpte[i] & rsvd))
            r = GPT_FAULT;
    }
    return r;
}
