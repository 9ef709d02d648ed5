/* Guest page-table walker: hand-built tables in a fake 64 MiB guest memory, every paging
 * mode, large pages, rights and their exact error codes, A/D updates, reserved bits,
 * malicious tables (outside memory, loops, garbage) and address truncation. */
#include "test.h"
#include "mm/gpt.h"
#include "arch/x86/paging.h"
#include <stdlib.h>

#define MEM_SIZE   (64ull << 20)
#define TABLE_BASE (1ull << 20)         /* tables are bump-allocated from here */
#define PG         4096ull
#define OUTSIDE    (MEM_SIZE + (1ull << 20))
#define RWU        (PTE_P | PTE_W | PTE_U)
#define SIZE_4K    (1ull << 12)
#define SIZE_2M    (1ull << 21)
#define SIZE_4M    (1ull << 22)
#define SIZE_1G    (1ull << 30)

static uint8_t *mem;
static uint64_t next_table;
static unsigned nreads, nwrites, misaligned;

static bool rd(void *ctx, uint64_t gpa, uint64_t *v)
{
    if (gpa & 7) {
        misaligned++;
        return false;
    }
    if (gpa >= MEM_SIZE)
        return false;
    memcpy(v, mem + gpa, 8);
    nreads++;
    return true;
}

static bool wr(void *ctx, uint64_t gpa, uint64_t v)
{
    if (gpa & 7) {
        misaligned++;
        return false;
    }
    if (gpa >= MEM_SIZE)
        return false;
    memcpy(mem + gpa, &v, 8);
    nwrites++;
    return true;
}

static void reset(void)
{
    if (!mem)
        mem = calloc(1, MEM_SIZE);
    else
        memset(mem, 0, next_table);     /* only tables below next_table were written */
    next_table = TABLE_BASE;
    nreads = nwrites = misaligned = 0;
}

__attribute__((destructor)) static void free_mem(void) { free(mem); }

static uint64_t new_table(void)
{
    uint64_t t = next_table;
    next_table += PG;
    return t;
}

static uint64_t get64(uint64_t gpa) { uint64_t v; memcpy(&v, mem + gpa, 8); return v; }
static void set64(uint64_t gpa, uint64_t v) { memcpy(mem + gpa, &v, 8); }
static uint32_t get32(uint64_t gpa) { uint32_t v; memcpy(&v, mem + gpa, 4); return v; }
static void set32(uint64_t gpa, uint32_t v) { memcpy(mem + gpa, &v, 4); }

static struct gpt_ctx ctx(enum gpt_mode mode, uint64_t cr3)
{
    return (struct gpt_ctx){
        .mode = mode, .cr3 = cr3, .cr0_wp = true, .cr4_pse = true, .efer_nxe = true,
        .cr4_smep = false, .maxphyaddr = 40, .read_pte = rd, .write_pte = wr, .ctx = NULL,
    };
}

/* Path builders: level 0 is the top; fl[i] are the flags of level i's entry (PS is added on
 * a large leaf). Existing tables on the path are reused. Return the leaf entry's gpa. */
static uint64_t build_long(uint64_t pml4, uint64_t gva, int leaf, uint64_t target, const uint64_t fl[4])
{
    static const int shift[4] = { 39, 30, 21, 12 };
    uint64_t t = pml4;
    for (int i = 0;; i++) {
        uint64_t egpa = t + ((gva >> shift[i]) & 511) * 8;
        if (i == leaf) {
            set64(egpa, target | fl[i] | (leaf < 3 ? PTE_PS : 0));
            return egpa;
        }
        uint64_t e = get64(egpa);
        uint64_t next = (e & PTE_P) ? (e & PTE_ADDR_MASK) : new_table();
        set64(egpa, next | fl[i]);
        t = next;
    }
}

static uint64_t build_pae(uint64_t pdpt, uint64_t gva, int leaf, uint64_t target, const uint64_t fl[3])
{
    static const int shift[3] = { 30, 21, 12 };
    static const uint64_t mask[3] = { 3, 511, 511 };
    uint64_t t = pdpt;
    for (int i = 0;; i++) {
        uint64_t egpa = t + ((gva >> shift[i]) & mask[i]) * 8;
        if (i == leaf) {
            set64(egpa, target | fl[i] | (leaf < 2 ? PTE_PS : 0));
            return egpa;
        }
        uint64_t e = get64(egpa);
        uint64_t next = (e & PTE_P) ? (e & PTE_ADDR_MASK) : new_table();
        set64(egpa, next | fl[i]);
        t = next;
    }
}

static uint64_t build_32(uint64_t pd, uint64_t gva, int leaf, uint32_t target, const uint64_t fl[2])
{
    static const int shift[2] = { 22, 12 };
    uint64_t t = pd;
    for (int i = 0;; i++) {
        uint64_t egpa = t + ((gva >> shift[i]) & 1023) * 4;
        if (i == leaf) {
            set32(egpa, target | (uint32_t)fl[i] | (leaf < 1 ? PTE_PS : 0));
            return egpa;
        }
        uint32_t e = get32(egpa);
        uint64_t next = (e & PTE_P) ? (e & 0xFFFFF000u) : new_table();
        set32(egpa, (uint32_t)(next | fl[i]));
        t = next;
    }
}

static const uint64_t ALL4[4] = { RWU, RWU, RWU, RWU };

static enum gpt_result walk(const struct gpt_ctx *c, uint64_t gva, unsigned acc, struct gpt_walk *w)
{
    return gpt_walk(c, gva, acc, false, w);
}

STATIC_ASSERT(GPT_ACC_WRITE == PFEC_W && GPT_ACC_USER == PFEC_U && GPT_ACC_FETCH == PFEC_I,
              "access kinds are error-code bits");

/* ---- paging off ------------------------------------------------------------------------- */

TEST(none_mode_is_identity_truncated_to_32_bits)
{
    reset();
    struct gpt_ctx c = ctx(GPT_MODE_NONE, OUTSIDE);
    struct gpt_walk w;
    CHECK_EQ(walk(&c, 0x12345678, GPT_ACC_WRITE | GPT_ACC_USER, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x12345678);
    CHECK_EQ(w.page_size, SIZE_4K);
    CHECK(w.writable && w.user && !w.nx && w.dirty);
    CHECK_EQ(w.levels, 0);
    CHECK_EQ(walk(&c, 0xABCD000012345678ull, GPT_ACC_FETCH, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x12345678);
    CHECK_EQ(walk(&c, 0xFFFFFFFFFFFFFFFFull, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0xFFFFFFFF);
    CHECK_EQ(nreads, 0);
}

/* ---- 32-bit paging ----------------------------------------------------------------------- */

TEST(mode32_4k_walk_reads_4_byte_entries)
{
    reset();
    uint64_t pd = new_table();
    const uint64_t fl[2] = { RWU, RWU };
    uint64_t gva = 0xC0123ABC;
    uint64_t pde = pd + (gva >> 22) * 4;
    build_32(pd, gva, 1, 0x00456000, fl);
    /* Garbage in the other halves of the 8-byte words holding the PDE and PTE. */
    set32(pde ^ 4, 0xFFFFFFFF);
    uint64_t pte = (get32(pde) & 0xFFFFF000u) + ((gva >> 12) & 1023) * 4;
    set32(pte ^ 4, 0xFFFFFFFF);
    struct gpt_ctx c = ctx(GPT_MODE_32, pd | 0x18);         /* PWT/PCD in CR3: ignored */
    struct gpt_walk w;
    CHECK_EQ(walk(&c, gva, GPT_ACC_WRITE | GPT_ACC_USER, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x00456ABC);
    CHECK_EQ(w.page_size, SIZE_4K);
    CHECK_EQ(w.levels, 2);
    CHECK(w.writable && w.user && !w.nx && !w.dirty);
    /* The neighbour PTE is all ones: its page is 0xFFFFF000. */
    CHECK_EQ(walk(&c, gva ^ PG, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0xFFFFFABC);
    CHECK_EQ(misaligned, 0);
}

TEST(mode32_gva_truncated_to_32_bits)
{
    reset();
    uint64_t pd = new_table();
    const uint64_t fl[2] = { RWU, RWU };
    build_32(pd, 0xC0123000, 1, 0x00456000, fl);
    struct gpt_ctx c = ctx(GPT_MODE_32, pd);
    struct gpt_walk w;
    CHECK_EQ(walk(&c, 0xFFFFFFFFC0123ABCull, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x00456ABC);
    CHECK_EQ(walk(&c, 0x00000001C0123ABCull, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x00456ABC);
}

TEST(mode32_pse_4m_pages_and_pse36)
{
    reset();
    uint64_t pd = new_table();
    const uint64_t fl[2] = { RWU, RWU };
    uint64_t gva = 0x40ABCDEF;
    uint64_t pde = build_32(pd, gva, 0, 0x00C00000, fl);
    struct gpt_ctx c = ctx(GPT_MODE_32, pd);
    struct gpt_walk w;
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x00C00000 + (gva & (SIZE_4M - 1)));
    CHECK_EQ(w.page_size, SIZE_4M);
    CHECK_EQ(w.levels, 1);
    /* PAT (bit 12) is neither address nor reserved. */
    set32(pde, get32(pde) | (1u << 12));
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x00C00000 + (gva & (SIZE_4M - 1)));
    /* PSE-36: PDE[20:13] are address bits 39:32 with MAXPHYADDR >= 40. */
    set32(pde, 0x00C00000 | (0x5Au << 13) | RWU | PTE_PS);
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x5A00000000ull + 0x00C00000 + (gva & (SIZE_4M - 1)));
    c.maxphyaddr = 52;                  /* 32-bit paging stops at 40 bits */
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x5A00000000ull + 0x00C00000 + (gva & (SIZE_4M - 1)));
    /* MAXPHYADDR 36: only PDE[16:13] are address bits, PDE[21:17] are reserved. */
    c.maxphyaddr = 36;
    CHECK_EQ(walk(&c, gva, GPT_ACC_USER, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD | PFEC_U);
    set32(pde, 0x00C00000 | (0xAu << 13) | RWU | PTE_PS);
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0xA00000000ull + 0x00C00000 + (gva & (SIZE_4M - 1)));
    /* MAXPHYADDR 32: PDE[21:13] all reserved. */
    c.maxphyaddr = 32;
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
    /* Bit 21 is reserved at any width. */
    c.maxphyaddr = 40;
    set32(pde, 0x00C00000 | (1u << 21) | RWU | PTE_PS);
    CHECK_EQ(walk(&c, gva, GPT_ACC_WRITE, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD | PFEC_W);
    c.maxphyaddr = 52;
    CHECK_EQ(walk(&c, gva, GPT_ACC_WRITE, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD | PFEC_W);
}

TEST(mode32_ps_ignored_without_cr4_pse)
{
    reset();
    uint64_t pd = new_table(), pt = new_table();
    uint64_t gva = 0x00803123;
    set32(pd + (gva >> 22) * 4, (uint32_t)(pt | RWU | PTE_PS));
    set32(pt + ((gva >> 12) & 1023) * 4, 0x00777000 | RWU);
    struct gpt_ctx c = ctx(GPT_MODE_32, pd);
    c.cr4_pse = false;
    struct gpt_walk w;
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x00777123);
    CHECK_EQ(w.page_size, SIZE_4K);
    CHECK_EQ(w.levels, 2);
    c.cr4_pse = true;       /* now the same PDE maps a 4 MiB page; pt[20:13] are PSE-36 bits */
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.page_size, SIZE_4M);
    CHECK_EQ(w.gpa, (pt & 0xFFC00000u) + (((pt >> 13) & 0xFF) << 32) + (gva & (SIZE_4M - 1)));
}

/* ---- PAE paging -------------------------------------------------------------------------- */

TEST(pae_4k_walk_reads_pdpte_from_cr3_each_time)
{
    reset();
    uint64_t page = new_table();
    uint64_t pdpt = page + 0x60;        /* 32-byte aligned, not page aligned */
    const uint64_t fl[3] = { PTE_P, RWU, RWU };
    uint64_t gva = 0xBFFFF123;
    uint64_t target = 0x3456000;
    build_pae(pdpt, gva, 2, target, fl);
    struct gpt_ctx c = ctx(GPT_MODE_PAE, pdpt | 0x18 | (1ull << 40));   /* PWT/PCD, high bits ignored */
    struct gpt_walk w;
    CHECK_EQ(walk(&c, gva, GPT_ACC_WRITE | GPT_ACC_USER, &w), GPT_OK);
    CHECK_EQ(w.gpa, target | 0x123);
    CHECK_EQ(w.levels, 3);
    CHECK_EQ(w.page_size, SIZE_4K);
    CHECK(w.writable && w.user && !w.nx);
    CHECK_EQ(walk(&c, gva | 0xFFFFFFFF00000000ull, 0, &w), GPT_OK);     /* truncated */
    CHECK_EQ(w.gpa, target | 0x123);
    /* The guest changes its PDPTE: the next walk sees it (no cached PDPTEs). */
    set64(pdpt + 2 * 8, 0);
    CHECK_EQ(walk(&c, gva, GPT_ACC_WRITE, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_W);
    CHECK_EQ(w.levels, 1);
}

TEST(pae_2m_pages_byte_exact)
{
    reset();
    uint64_t pdpt = new_table();
    const uint64_t fl[3] = { PTE_P, RWU, RWU };
    uint64_t gva = 0x40212345;
    uint64_t target = 0xFFFFE00000ull;  /* bits 39:21, above 4 GiB */
    uint64_t pde = build_pae(pdpt, gva, 1, target, fl);
    struct gpt_ctx c = ctx(GPT_MODE_PAE, pdpt);
    struct gpt_walk w;
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, target + (gva & (SIZE_2M - 1)));
    CHECK_EQ(w.page_size, SIZE_2M);
    CHECK_EQ(w.levels, 2);
    set64(pde, get64(pde) | (1ull << 12));          /* PAT */
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, target + (gva & (SIZE_2M - 1)));
    for (int b = 13; b <= 20; b++) {                /* reserved low bits of a 2 MiB PDE */
        set64(pde, target | fl[1] | PTE_PS | (1ull << b));
        CHECK_EQ(walk(&c, gva, 0, &w), GPT_FAULT);
        CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
    }
}

TEST(pae_pdpte_reserved_bits)
{
    reset();
    uint64_t pdpt = new_table();
    const uint64_t fl[3] = { PTE_P, RWU, RWU };
    uint64_t gva = 0x80001000;
    build_pae(pdpt, gva, 2, 0x5000, fl);
    struct gpt_ctx c = ctx(GPT_MODE_PAE, pdpt);
    struct gpt_walk w;
    uint64_t pdpte_gpa = pdpt + 2 * 8, good = get64(pdpte_gpa);
    static const int rsvd[] = { 1, 2, 5, 6, 7, 8, 40, 51, 52, 62, 63 };
    for (size_t i = 0; i < ARRAY_SIZE(rsvd); i++) {
        set64(pdpte_gpa, good | (1ull << rsvd[i]));
        CHECK_EQ(walk(&c, gva, GPT_ACC_USER, &w), GPT_FAULT);
        CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD | PFEC_U);
        CHECK_EQ(w.levels, 1);
        uint64_t pd[GPT_PAE_PDPTES], bad = 0;
        CHECK_EQ(gpt_load_pdptes(&c, pd, &bad), GPT_FAULT);
        CHECK_EQ(pd[2], good | (1ull << rsvd[i]));
    }
    static const int fine[] = { 3, 4, 9, 10, 11 };      /* PWT, PCD, ignored */
    for (size_t i = 0; i < ARRAY_SIZE(fine); i++) {
        set64(pdpte_gpa, good | (1ull << fine[i]));
        CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
        CHECK_EQ(w.gpa, 0x5000);
    }
    /* A not-present PDPTE's other bits are not checked. */
    set64(pdpte_gpa, ~(uint64_t)PTE_P);
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, 0);
    uint64_t pd[GPT_PAE_PDPTES], bad = 0;
    set64(pdpte_gpa, good);
    CHECK_EQ(gpt_load_pdptes(&c, pd, &bad), GPT_OK);
    CHECK_EQ(pd[2], good);
    CHECK_EQ(pd[0], 0);
    c.cr3 = 0xFFFFFFE0;
    CHECK_EQ(gpt_load_pdptes(&c, pd, &bad), GPT_BAD_GPA);
    CHECK_EQ(bad, 0xFFFFFFE0);
}

TEST(pae_entry_reserved_bits)
{
    reset();
    uint64_t pdpt = new_table();
    const uint64_t fl[3] = { PTE_P, RWU, RWU };
    uint64_t gva = 0x00403000;
    uint64_t pte = build_pae(pdpt, gva, 2, 0x7000, fl);
    uint64_t pde = pdpt + 0 * 8;
    pde = (get64(pde) & PTE_ADDR_MASK) + ((gva >> 21) & 511) * 8;
    struct gpt_ctx c = ctx(GPT_MODE_PAE, pdpt);
    struct gpt_walk w;
    uint64_t pte_good = get64(pte), pde_good = get64(pde);
    static const int rsvd[] = { 40, 45, 51, 52, 62 };   /* 62:M; bits 62:52 are NOT ignored in PAE */
    for (size_t i = 0; i < ARRAY_SIZE(rsvd); i++) {
        set64(pte, pte_good | (1ull << rsvd[i]));
        CHECK_EQ(walk(&c, gva, GPT_ACC_WRITE, &w), GPT_FAULT);
        CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD | PFEC_W);
        CHECK_EQ(w.levels, 3);
        set64(pte, pte_good);
        set64(pde, pde_good | (1ull << rsvd[i]));
        CHECK_EQ(walk(&c, gva, 0, &w), GPT_FAULT);
        CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
        CHECK_EQ(w.levels, 2);
        set64(pde, pde_good);
    }
    /* XD: a right with NXE, a reserved bit without. */
    set64(pte, pte_good | PTE_NX);
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK(w.nx);
    c.efer_nxe = false;
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
    c.efer_nxe = true;
    /* The PAT bit of a 4 KiB PTE is not reserved; bit 39 is an address bit at M = 40. */
    set64(pte, pte_good | PTE_PS | (1ull << 39));
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x8000007000ull);
    /* The reserved-bit violation of an upper entry is reported, not the lower one's absence. */
    set64(pte, 0);
    set64(pde, pde_good | (1ull << 50));
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
    /* ...and a not-present entry's reserved bits are ignored. */
    set64(pde, (pde_good | (1ull << 50) | PTE_NX) & ~(uint64_t)PTE_P);
    CHECK_EQ(walk(&c, gva, GPT_ACC_USER, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_U);
}

/* ---- 4-level paging ---------------------------------------------------------------------- */

TEST(long_4k_2m_1g_byte_exact)
{
    reset();
    uint64_t pml4 = new_table();
    struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4 | 0xFFF);    /* PCID/flags bits: ignored */
    struct gpt_walk w;
    uint64_t g4 = 0xFFFF80123456789Aull, g2 = 0x00007F0000312345ull, g1 = 0x0000004012345678ull;
    build_long(pml4, g4, 3, 0xABCDE000ull, ALL4);
    build_long(pml4, g2, 2, 0x7FFE00000ull, ALL4);
    build_long(pml4, g1, 1, 0xC0000000ull * 5, ALL4);
    CHECK_EQ(walk(&c, g4, GPT_ACC_WRITE | GPT_ACC_USER | 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0xABCDE89Aull);
    CHECK_EQ(w.page_size, SIZE_4K);
    CHECK_EQ(w.levels, 4);
    CHECK_EQ(walk(&c, g2, GPT_ACC_FETCH, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x7FFE00000ull + 0x112345);
    CHECK_EQ(w.page_size, SIZE_2M);
    CHECK_EQ(w.levels, 3);
    CHECK_EQ(walk(&c, g1, GPT_ACC_USER, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0xC0000000ull * 5 + (g1 & (SIZE_1G - 1)));
    CHECK_EQ(w.page_size, SIZE_1G);
    CHECK_EQ(w.levels, 2);
    CHECK(w.writable && w.user && !w.nx);
    /* Bits 62:52 are ignored in 4-level entries: not reserved, not address. */
    uint64_t leaf = build_long(pml4, g4, 3, 0xABCDE000ull, ALL4);
    set64(leaf, get64(leaf) | (0x7FFull << 52));
    CHECK_EQ(walk(&c, g4, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0xABCDE89Aull);
}

TEST(long_reserved_bits)
{
    reset();
    uint64_t pml4 = new_table();
    struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4);
    struct gpt_walk w;
    uint64_t gva = 0x0000123456789000ull;
    uint64_t pte = build_long(pml4, gva, 3, 0x9000, ALL4);
    uint64_t ent[4];
    ent[0] = pml4 + ((gva >> 39) & 511) * 8;
    for (int i = 1; i < 4; i++)
        ent[i] = (get64(ent[i - 1]) & PTE_ADDR_MASK) + ((gva >> (39 - 9 * i)) & 511) * 8;
    CHECK_EQ(ent[3], pte);
    for (int i = 0; i < 4; i++) {
        uint64_t good = get64(ent[i]);
        for (int b = 40; b <= 51; b++) {            /* 51:M */
            set64(ent[i], good | (1ull << b));
            CHECK_EQ(walk(&c, gva, GPT_ACC_FETCH, &w), GPT_FAULT);
            CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD | PFEC_I);
            CHECK_EQ(w.levels, (unsigned)i + 1);
        }
        c.efer_nxe = false;                         /* XD without NXE */
        set64(ent[i], good | PTE_NX);
        CHECK_EQ(walk(&c, gva, GPT_ACC_FETCH, &w), GPT_FAULT);
        CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);       /* no I: neither NXE nor SMEP */
        c.efer_nxe = true;
        set64(ent[i], good);
    }
    /* PS in a PML4E. */
    set64(ent[0], get64(ent[0]) | PTE_PS);
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
    set64(ent[0], get64(ent[0]) & ~PTE_PS);
    /* A 4 KiB PTE's bit 7 is PAT. */
    set64(pte, get64(pte) | PTE_PS);
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x9000);
    /* Large-page low reserved bits: 29:13 for 1 GiB, 20:13 for 2 MiB; bit 12 (PAT) is fine. */
    uint64_t g1 = 0x0000008040000000ull, g2 = 0x0000010000200000ull;
    uint64_t e1 = build_long(pml4, g1, 1, 0x40000000, ALL4);
    uint64_t e2 = build_long(pml4, g2, 2, 0x800000, ALL4);
    for (int b = 12; b <= 29; b++) {
        set64(e1, 0x40000000 | RWU | PTE_PS | (1ull << b));
        CHECK_EQ(walk(&c, g1, 0, &w), b == 12 ? GPT_OK : GPT_FAULT);
        if (b > 12)
            CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
        else
            CHECK_EQ(w.gpa, 0x40000000);
    }
    for (int b = 12; b <= 21; b++) {
        set64(e2, 0x800000 | RWU | PTE_PS | (1ull << b));
        enum gpt_result r = walk(&c, g2, 0, &w);
        CHECK_EQ(r, b == 12 || b == 21 ? GPT_OK : GPT_FAULT);   /* bit 21: address */
        if (r == GPT_OK)
            CHECK_EQ(w.gpa, 0x800000 | (b == 21 ? (1ull << 21) : 0));
    }
    /* MAXPHYADDR 52: nothing above is reserved; a leaf's address bit 45 goes into the gpa. */
    set64(pte, 0x9000 | RWU | (1ull << 45));
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
    c.maxphyaddr = 52;
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, 0x9000 | (1ull << 45));
    c.maxphyaddr = 200;                 /* clamped to 52 */
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_OK);
    c.maxphyaddr = 0;                   /* clamped to 32 */
    set64(pte, 0x9000 | RWU | (1ull << 32));
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
}

TEST(long_not_present_at_each_level)
{
    static const unsigned acc[] = { 0, GPT_ACC_WRITE, GPT_ACC_USER, GPT_ACC_USER | GPT_ACC_WRITE,
                                    GPT_ACC_FETCH, GPT_ACC_FETCH | GPT_ACC_USER };
    for (int lvl = 0; lvl < 4; lvl++) {
        reset();
        uint64_t pml4 = new_table();
        uint64_t gva = 0xFFFFFFFF80001000ull;
        build_long(pml4, gva, 3, 0x1000, ALL4);
        uint64_t e = pml4 + ((gva >> 39) & 511) * 8;
        for (int i = 1; i <= lvl; i++)
            e = (get64(e) & PTE_ADDR_MASK) + ((gva >> (39 - 9 * i)) & 511) * 8;
        set64(e, get64(e) & ~(uint64_t)PTE_P);
        struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4);
        for (size_t a = 0; a < ARRAY_SIZE(acc); a++) {
            struct gpt_walk w;
            CHECK_EQ(gpt_walk(&c, gva, acc[a], true, &w), GPT_FAULT);
            CHECK_EQ(w.pfec, acc[a]);       /* P=0; W/U/I name the access (NXE on) */
            CHECK_EQ(w.levels, (unsigned)lvl + 1);
        }
        CHECK_EQ(nwrites, 0);
    }
}

TEST(noncanonical_long_mode_addresses)
{
    reset();
    uint64_t pml4 = new_table();
    struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4);
    struct gpt_walk w;
    static const uint64_t bad[] = { 0x0000800000000000ull, 0xFFFF7FFFFFFFFFFFull, 0x8000000000000000ull,
                                    0x0001000000000000ull, 0x7FFFFFFFFFFFFFFFull };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK_EQ(gpt_walk(&c, bad[i], GPT_ACC_WRITE, true, &w), GPT_NONCANONICAL);
        CHECK_EQ(w.levels, 0);
    }
    CHECK_EQ(nreads, 0);
    CHECK_EQ(walk(&c, 0x00007FFFFFFFF000ull, 0, &w), GPT_FAULT);
    CHECK_EQ(w.levels, 1);
    CHECK_EQ(walk(&c, 0xFFFF800000000000ull, 0, &w), GPT_FAULT);
    CHECK_EQ(w.levels, 1);
}

/* ---- access rights ----------------------------------------------------------------------- */

TEST(rights_spot_cases_with_exact_error_codes)
{
    reset();
    uint64_t pml4 = new_table();
    struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4);
    struct gpt_walk w;
    uint64_t gva = 0x400000;
    uint64_t fl[4] = { RWU, RWU, PTE_P | PTE_W, RWU };  /* supervisor at the PDE only */
    build_long(pml4, gva, 3, 0x8000, fl);
    CHECK_EQ(walk(&c, gva, GPT_ACC_USER, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, 0x05);
    CHECK_EQ(walk(&c, gva, GPT_ACC_USER | GPT_ACC_FETCH, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, 0x15);
    CHECK_EQ(walk(&c, gva, GPT_ACC_WRITE, &w), GPT_OK);
    CHECK(!w.user && w.writable);
    fl[1] = PTE_P | PTE_U;                              /* read-only at the PDPTE only */
    fl[2] = RWU;
    build_long(pml4, gva, 3, 0x8000, fl);
    CHECK_EQ(walk(&c, gva, GPT_ACC_USER | GPT_ACC_WRITE, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, 0x07);
    CHECK_EQ(walk(&c, gva, GPT_ACC_WRITE, &w), GPT_FAULT);      /* CR0.WP=1 */
    CHECK_EQ(w.pfec, 0x03);
    c.cr0_wp = false;
    CHECK_EQ(walk(&c, gva, GPT_ACC_WRITE, &w), GPT_OK);
    CHECK(!w.writable && w.user);                       /* rights as the tables say */
    CHECK_EQ(walk(&c, gva, GPT_ACC_USER | GPT_ACC_WRITE, &w), GPT_FAULT);   /* WP=0 is supervisor-only */
    CHECK_EQ(w.pfec, 0x07);
    CHECK_EQ(walk(&c, gva, GPT_ACC_USER, &w), GPT_OK);
    /* A supervisor write to a user page is fine (no SMAP). */
    build_long(pml4, gva, 3, 0x8000, ALL4);
    c.cr0_wp = true;
    CHECK_EQ(walk(&c, gva, GPT_ACC_WRITE, &w), GPT_OK);

    /* 32-bit mode: no I bit without SMEP, whatever EFER.NXE says. */
    uint64_t pd = new_table();
    const uint64_t f32[2] = { PTE_P | PTE_W, RWU };
    build_32(pd, 0x1000, 1, 0x2000, f32);
    struct gpt_ctx c32 = ctx(GPT_MODE_32, pd);
    CHECK_EQ(walk(&c32, 0x1000, GPT_ACC_USER | GPT_ACC_FETCH, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, 0x05);
    CHECK_EQ(walk(&c32, 0x1000, GPT_ACC_FETCH, &w), GPT_OK);
    CHECK(!w.nx);
}

/* Every combination of R/W and U/S over the four levels, WP and SMEP, against the SDM 4.6
 * rules written out independently. */
TEST(rights_exhaustive_over_levels)
{
    static const unsigned acc[] = { 0, GPT_ACC_WRITE, GPT_ACC_FETCH, GPT_ACC_USER,
                                    GPT_ACC_USER | GPT_ACC_WRITE, GPT_ACC_USER | GPT_ACC_FETCH };
    reset();
    uint64_t pml4 = new_table();
    uint64_t gva = 0x0000008000403000ull;
    unsigned cases = 0;
    for (unsigned rw = 0; rw < 16; rw++) {
        for (unsigned us = 0; us < 16; us++) {
            uint64_t fl[4];
            for (int i = 0; i < 4; i++)
                fl[i] = PTE_P | ((rw >> i) & 1 ? PTE_W : 0) | ((us >> i) & 1 ? PTE_U : 0);
            build_long(pml4, gva, 3, 0x3000, fl);
            bool all_w = rw == 15, all_u = us == 15;
            for (int wp = 0; wp < 2; wp++) {
                for (int smep = 0; smep < 2; smep++) {
                    for (size_t a = 0; a < ARRAY_SIZE(acc); a++) {
                        struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4);
                        c.cr0_wp = wp;
                        c.cr4_smep = smep;
                        c.efer_nxe = false;
                        bool user = acc[a] & GPT_ACC_USER, write = acc[a] & GPT_ACC_WRITE;
                        bool fetch = acc[a] & GPT_ACC_FETCH;
                        bool ok;
                        if (user)
                            ok = all_u && (!write || all_w);
                        else if (write)
                            ok = all_w || !wp;
                        else if (fetch)
                            ok = !(smep && all_u);
                        else
                            ok = true;
                        struct gpt_walk w;
                        enum gpt_result r = walk(&c, gva, acc[a], &w);
                        CHECK_EQ(r, ok ? GPT_OK : GPT_FAULT);
                        if (ok) {
                            CHECK_EQ(w.writable, all_w);
                            CHECK_EQ(w.user, all_u);
                        } else {
                            uint32_t pfec = PFEC_P | (write ? PFEC_W : 0) | (user ? PFEC_U : 0) |
                                            (fetch && smep ? PFEC_I : 0);
                            CHECK_EQ(w.pfec, pfec);
                        }
                        cases++;
                    }
                }
            }
        }
    }
    CHECK_EQ(cases, 16 * 16 * 2 * 2 * 6);
}

TEST(nx_and_the_i_bit)
{
    reset();
    uint64_t pml4 = new_table();
    uint64_t gva = 0x7000;
    for (int lvl = 0; lvl < 4; lvl++) {         /* XD at any one level makes the page NX */
        uint64_t fl[4] = { RWU, RWU, RWU, RWU };
        fl[lvl] |= PTE_NX;
        build_long(pml4, gva, 3, 0x9000, fl);
        struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4);
        struct gpt_walk w;
        CHECK_EQ(walk(&c, gva, GPT_ACC_FETCH, &w), GPT_FAULT);
        CHECK_EQ(w.pfec, PFEC_P | PFEC_I);
        CHECK_EQ(walk(&c, gva, GPT_ACC_FETCH | GPT_ACC_USER, &w), GPT_FAULT);
        CHECK_EQ(w.pfec, PFEC_P | PFEC_I | PFEC_U);
        CHECK_EQ(walk(&c, gva, GPT_ACC_WRITE | GPT_ACC_USER, &w), GPT_OK);
        CHECK(w.nx);
    }
    /* PAE with NXE: NX 2 MiB page; I on a not-present fetch too. Without NXE no I. */
    uint64_t pdpt = new_table();
    const uint64_t fl[3] = { PTE_P, RWU | PTE_NX, 0 };
    build_pae(pdpt, 0x00200000, 1, 0x00400000, fl);
    struct gpt_ctx c = ctx(GPT_MODE_PAE, pdpt);
    struct gpt_walk w;
    CHECK_EQ(walk(&c, 0x00212345, GPT_ACC_FETCH, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_I);
    CHECK_EQ(walk(&c, 0x40000000, GPT_ACC_FETCH, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_I);
    c.efer_nxe = false;
    CHECK_EQ(walk(&c, 0x40000000, GPT_ACC_FETCH, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, 0);
    CHECK_EQ(walk(&c, 0x00212345, GPT_ACC_FETCH, &w), GPT_FAULT);   /* XD now reserved */
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
    c.cr4_smep = true;
    CHECK_EQ(walk(&c, 0x00212345, GPT_ACC_FETCH, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD | PFEC_I);
}

TEST(smep)
{
    reset();
    uint64_t pml4 = new_table();
    build_long(pml4, 0x1000, 3, 0x5000, ALL4);
    const uint64_t sup[4] = { RWU, RWU, RWU, PTE_P };
    build_long(pml4, 0x2000, 3, 0x6000, sup);
    struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4);
    c.cr4_smep = true;
    c.efer_nxe = false;
    struct gpt_walk w;
    CHECK_EQ(walk(&c, 0x1000, GPT_ACC_FETCH, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_I);
    CHECK_EQ(walk(&c, 0x1000, GPT_ACC_FETCH | GPT_ACC_USER, &w), GPT_OK);
    CHECK_EQ(walk(&c, 0x1000, 0, &w), GPT_OK);              /* data: no SMAP */
    CHECK_EQ(walk(&c, 0x2000, GPT_ACC_FETCH, &w), GPT_OK);
    c.cr4_smep = false;
    CHECK_EQ(walk(&c, 0x1000, GPT_ACC_FETCH, &w), GPT_OK);
    /* SMEP applies in 32-bit paging too. */
    uint64_t pd = new_table();
    const uint64_t f32[2] = { RWU, RWU };
    build_32(pd, 0x3000, 1, 0x7000, f32);
    struct gpt_ctx c32 = ctx(GPT_MODE_32, pd);
    c32.cr4_smep = true;
    CHECK_EQ(walk(&c32, 0x3000, GPT_ACC_FETCH, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_I);
}

/* ---- accessed and dirty bits ------------------------------------------------------------- */

static uint64_t path_long(uint64_t pml4, uint64_t gva, uint64_t ent[4], int n)
{
    ent[0] = pml4 + ((gva >> 39) & 511) * 8;
    for (int i = 1; i < n; i++)
        ent[i] = (get64(ent[i - 1]) & PTE_ADDR_MASK) + ((gva >> (39 - 9 * i)) & 511) * 8;
    return ent[n - 1];
}

TEST(ad_bits_long_4k)
{
    reset();
    uint64_t pml4 = new_table();
    uint64_t gva = 0x00007F1234567000ull, ent[4];
    build_long(pml4, gva, 3, 0x8000, ALL4);
    path_long(pml4, gva, ent, 4);
    struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4);
    struct gpt_walk w;
    CHECK_EQ(gpt_walk(&c, gva, 0, false, &w), GPT_OK);  /* set_ad off: nothing written */
    CHECK_EQ(nwrites, 0);
    CHECK_EQ(gpt_walk(&c, gva, GPT_ACC_USER, true, &w), GPT_OK);
    CHECK(!w.dirty);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(get64(ent[i]) & (PTE_A | PTE_D), PTE_A);
    CHECK_EQ(nwrites, 4);
    CHECK_EQ(gpt_walk(&c, gva, GPT_ACC_WRITE, true, &w), GPT_OK);
    CHECK(w.dirty);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(get64(ent[i]) & (PTE_A | PTE_D), PTE_A);   /* D only on the leaf */
    CHECK_EQ(get64(ent[3]) & (PTE_A | PTE_D), PTE_A | PTE_D);
    CHECK_EQ(nwrites, 5);
    CHECK_EQ(gpt_walk(&c, gva, GPT_ACC_WRITE, true, &w), GPT_OK);   /* all set: no writes */
    CHECK_EQ(nwrites, 5);
    CHECK_EQ(gpt_walk(&c, gva, 0, true, &w), GPT_OK);
    CHECK(w.dirty);
    CHECK_EQ(get64(ent[3]) & PTE_ADDR_MASK, 0x8000);             /* nothing else touched */
}

TEST(ad_bits_not_set_on_faults)
{
    reset();
    uint64_t pml4 = new_table();
    uint64_t gva = 0x5000, ent[4];
    const uint64_t ro[4] = { RWU, RWU, PTE_P | PTE_W, PTE_P | PTE_U };
    build_long(pml4, gva, 3, 0x8000, ro);
    path_long(pml4, gva, ent, 4);
    struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4);
    struct gpt_walk w;
    static uint8_t before[4 * 4096];
    memcpy(before, mem + TABLE_BASE, sizeof(before));
    CHECK_EQ(gpt_walk(&c, gva, GPT_ACC_WRITE, true, &w), GPT_FAULT);       /* protection */
    CHECK_EQ(w.pfec, PFEC_P | PFEC_W);
    CHECK_EQ(gpt_walk(&c, gva, GPT_ACC_USER, true, &w), GPT_FAULT);        /* supervisor PDE */
    CHECK(!memcmp(before, mem + TABLE_BASE, sizeof(before)));
    CHECK_EQ(nwrites, 0);
    set64(ent[2], get64(ent[2]) | (1ull << 45));                           /* reserved */
    memcpy(before, mem + TABLE_BASE, sizeof(before));
    CHECK_EQ(gpt_walk(&c, gva, GPT_ACC_WRITE | GPT_ACC_USER, true, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD | PFEC_W | PFEC_U);
    CHECK(!memcmp(before, mem + TABLE_BASE, sizeof(before)));
    CHECK_EQ(nwrites, 0);
    /* Fresh tables, leaf not present: no A on the upper entries either. */
    reset();
    pml4 = new_table();
    build_long(pml4, gva, 3, 0x8000, ALL4);
    path_long(pml4, gva, ent, 4);
    set64(ent[3], 0);
    c = ctx(GPT_MODE_LONG, pml4);
    CHECK_EQ(gpt_walk(&c, gva, GPT_ACC_WRITE, true, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_W);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(get64(ent[i]) & PTE_A, 0);
    CHECK_EQ(nwrites, 0);
}

TEST(ad_bits_large_pages_and_other_modes)
{
    reset();
    uint64_t pml4 = new_table(), ent[4];
    struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4);
    struct gpt_walk w;
    uint64_t g2 = 0x40000000ull, g1 = 0x8000000000ull;
    build_long(pml4, g2, 2, 0x200000, ALL4);
    path_long(pml4, g2, ent, 3);
    CHECK_EQ(gpt_walk(&c, g2 + 0x1234, GPT_ACC_WRITE, true, &w), GPT_OK);
    CHECK_EQ(get64(ent[0]) & (PTE_A | PTE_D), PTE_A);
    CHECK_EQ(get64(ent[1]) & (PTE_A | PTE_D), PTE_A);
    CHECK_EQ(get64(ent[2]) & (PTE_A | PTE_D), PTE_A | PTE_D);   /* the 2 MiB leaf */
    CHECK_EQ(get64(ent[2]) & PTE_PS, PTE_PS);
    build_long(pml4, g1, 1, 0x40000000, ALL4);
    path_long(pml4, g1, ent, 2);
    CHECK_EQ(gpt_walk(&c, g1 + 0x123, GPT_ACC_WRITE, true, &w), GPT_OK);
    CHECK_EQ(get64(ent[1]) & (PTE_A | PTE_D), PTE_A | PTE_D);   /* the 1 GiB leaf */

    /* PAE: the PDPTE has no A bit (bit 5 is reserved there): untouched. */
    uint64_t pdpt = new_table();
    const uint64_t fl[3] = { PTE_P, RWU, RWU };
    uint64_t pte = build_pae(pdpt, 0x1000, 2, 0x3000, fl);
    struct gpt_ctx cp = ctx(GPT_MODE_PAE, pdpt);
    uint64_t pdpte = get64(pdpt);
    uint64_t pde = (pdpte & PTE_ADDR_MASK);
    CHECK_EQ(gpt_walk(&cp, 0x1000, GPT_ACC_WRITE, true, &w), GPT_OK);
    CHECK_EQ(get64(pdpt), pdpte);
    CHECK_EQ(get64(pde) & (PTE_A | PTE_D), PTE_A);
    CHECK_EQ(get64(pte) & (PTE_A | PTE_D), PTE_A | PTE_D);
    CHECK_EQ(gpt_walk(&cp, 0x1000, GPT_ACC_WRITE, true, &w), GPT_OK);  /* still valid */

    /* 32-bit: 4-byte entries updated without touching the neighbour in the same word. */
    uint64_t pd = new_table();
    const uint64_t f32[2] = { RWU, RWU };
    uint64_t gva = 0x00401000;          /* PDE 1, PTE 1: the upper halves of their words */
    uint64_t p32 = build_32(pd, gva, 1, 0x9000, f32);
    set32(pd, 0x12345000);              /* PDE 0: not present, must stay as is */
    set32(p32 - 4, 0xDEAD0000);         /* PTE 0: same */
    struct gpt_ctx c32 = ctx(GPT_MODE_32, pd);
    CHECK_EQ(gpt_walk(&c32, gva, GPT_ACC_WRITE, true, &w), GPT_OK);
    CHECK_EQ(get32(pd + 4) & (PTE_A | PTE_D), PTE_A);
    CHECK_EQ(get32(p32) & (PTE_A | PTE_D), PTE_A | PTE_D);
    CHECK_EQ(get32(pd), 0x12345000);
    CHECK_EQ(get32(p32 - 4), 0xDEAD0000);
    uint64_t pde4m = build_32(pd, 0x00800000, 0, 0x00C00000, f32);    /* PDE 2: lower half */
    CHECK_EQ(gpt_walk(&c32, 0x00812345, GPT_ACC_WRITE, true, &w), GPT_OK);
    CHECK_EQ(get32(pde4m) & (PTE_A | PTE_D), PTE_A | PTE_D);
    CHECK_EQ(get32(pde4m + 4) & (PTE_A | PTE_D), 0);
    CHECK_EQ(misaligned, 0);
}

/* ---- malicious tables -------------------------------------------------------------------- */

TEST(tables_outside_guest_memory)
{
    reset();
    struct gpt_walk w;
    /* CR3 itself outside. */
    struct gpt_ctx c = ctx(GPT_MODE_LONG, OUTSIDE);
    uint64_t gva = 0xFFFF800000000000ull;
    CHECK_EQ(walk(&c, gva, 0, &w), GPT_BAD_GPA);
    CHECK_EQ(w.bad_gpa, OUTSIDE + 256 * 8);
    CHECK_EQ(w.levels, 0);
    /* A PDPTE pointing at 1 GiB. */
    uint64_t pml4 = new_table(), ent[4];
    c.cr3 = pml4;
    build_long(pml4, gva, 3, 0x1000, ALL4);
    path_long(pml4, gva, ent, 2);
    set64(ent[1], (1ull << 30) | RWU);
    CHECK_EQ(gpt_walk(&c, gva | 0x3000, GPT_ACC_WRITE, true, &w), GPT_BAD_GPA);
    CHECK_EQ(w.bad_gpa, (1ull << 30) + 0);
    CHECK_EQ(w.levels, 2);
    CHECK_EQ(nwrites, 0);
    /* The last table word in memory is fine, one past is not. */
    set64(ent[1], (MEM_SIZE - PG) | RWU);
    uint64_t g = gva | (511ull << 21);
    CHECK_EQ(walk(&c, g, 0, &w), GPT_FAULT);            /* read zero: not present */
    CHECK_EQ(w.levels, 3);
    /* 32-bit: the exact (4-byte) entry address is reported. */
    struct gpt_ctx c32 = ctx(GPT_MODE_32, MEM_SIZE);
    CHECK_EQ(walk(&c32, 0xC0401000, 0, &w), GPT_BAD_GPA);
    CHECK_EQ(w.bad_gpa, MEM_SIZE + 0x301 * 4);
    uint64_t pd = new_table();
    set32(pd + 0x301 * 4, (uint32_t)(0xF0000000u | RWU));
    c32.cr3 = pd;
    CHECK_EQ(walk(&c32, 0xC0401000, 0, &w), GPT_BAD_GPA);
    CHECK_EQ(w.bad_gpa, 0xF0000000u + 1 * 4);
    CHECK_EQ(w.levels, 1);
    /* PAE: the PDPT near the top of the 32-bit space. */
    struct gpt_ctx cp = ctx(GPT_MODE_PAE, 0xFFFFFFE0);
    CHECK_EQ(walk(&cp, 0xC0000000, 0, &w), GPT_BAD_GPA);
    CHECK_EQ(w.bad_gpa, 0xFFFFFFE0 + 3 * 8);
    /* A leaf pointing outside is the caller's business: the walk succeeds. */
    build_long(pml4, 0x1000, 3, 1ull << 35, ALL4);
    CHECK_EQ(walk(&c, 0x1234, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, (1ull << 35) + 0x234);
    CHECK_EQ(misaligned, 0);
}

TEST(self_referencing_tables_terminate)
{
    reset();
    struct gpt_walk w;
    /* Long mode: the classic recursive slot. All four indices 0x1ED end in the PML4 itself. */
    uint64_t pml4 = new_table();
    set64(pml4 + 0x1ED * 8, pml4 | RWU);
    uint64_t gva = 0xFFFF000000000000ull | (0x1EDull << 39) | (0x1EDull << 30) | (0x1EDull << 21) |
                   (0x1EDull << 12) | 0x678;
    struct gpt_ctx c = ctx(GPT_MODE_LONG, pml4);
    CHECK_EQ(gpt_walk(&c, gva, GPT_ACC_WRITE, true, &w), GPT_OK);
    CHECK_EQ(w.gpa, pml4 + 0x678);
    CHECK_EQ(w.levels, 4);
    CHECK_EQ(get64(pml4 + 0x1ED * 8), pml4 | RWU | PTE_A | PTE_D);   /* one entry, all uses */
    /* Same slot, other indices 0: the walk reads the PML4 as a PDPT and finds nothing. */
    CHECK_EQ(walk(&c, 0xFFFF000000000000ull | (0x1EDull << 39), 0, &w), GPT_FAULT);
    CHECK_EQ(w.levels, 2);
    /* A two-table cycle: PML4[0] -> T, T[0] -> PML4, ... */
    uint64_t t = new_table();
    set64(pml4, t | RWU);
    set64(t, pml4 | RWU);
    CHECK_EQ(walk(&c, 0x9AB, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, pml4 + 0x9AB);
    CHECK_EQ(w.levels, 4);
    /* PS in the cycle: T[0] read as a PDPTE is a 1 GiB page whose low bits (the table's
     * address, 1 MiB) are reserved; pml4[0] read as a PML4E may not have PS at all. */
    set64(t, pml4 | RWU | PTE_PS);
    CHECK_EQ(walk(&c, 0x9AB, 0, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
    CHECK_EQ(w.levels, 2);
    set64(pml4, t | RWU | PTE_PS);
    CHECK_EQ(walk(&c, 0x9AB, 0, &w), GPT_FAULT);
    CHECK_EQ(w.pfec, PFEC_P | PFEC_RSVD);
    CHECK_EQ(w.levels, 1);
    /* 32-bit self map. */
    uint64_t pd = new_table();
    set32(pd + 0x300 * 4, (uint32_t)(pd | RWU));
    struct gpt_ctx c32 = ctx(GPT_MODE_32, pd);
    CHECK_EQ(gpt_walk(&c32, 0xC0300ABC, 0, true, &w), GPT_OK);
    CHECK_EQ(w.gpa, pd + 0xABC);
    CHECK_EQ(get32(pd + 0x300 * 4), (uint32_t)(pd | RWU | PTE_A));
    /* PAE: a PD entry pointing back at the PD. */
    uint64_t pdpt = new_table(), pdt = new_table();
    set64(pdpt, pdt | PTE_P);
    set64(pdt + 5 * 8, pdt | RWU);
    struct gpt_ctx cp = ctx(GPT_MODE_PAE, pdpt);
    CHECK_EQ(walk(&cp, (5u << 21) | (5u << 12) | 0x10, 0, &w), GPT_OK);
    CHECK_EQ(w.gpa, pdt + 0x10);
    CHECK_EQ(w.levels, 3);
}

/* Random garbage tables in every mode: the walker never reads outside memory or misaligned,
 * never reads more than its depth, and every result is self-consistent. */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t RND(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

TEST(fuzz_random_tables)
{
    reset();
    enum { NT = 64 };
    uint64_t tables[NT];
    for (int i = 0; i < NT; i++)
        tables[i] = new_table();
    unsigned results[4] = { 0 };
    for (int iter = 0; iter < 20000; iter++) {
        if (iter % 500 == 0) {
            /* Refill: entries point at one of the tables (so walks go deep), or random. */
            for (int i = 0; i < NT; i++) {
                for (int j = 0; j < 512; j++) {
                    uint64_t r = RND(), e;
                    if (r & 1) {
                        e = tables[(r >> 8) % NT] | (RND() & 0xFFF);
                        if (r & 2)
                            e |= RND() & 0xFFF0000000000000ull;
                    } else {
                        e = RND() >> (r >> 58);
                    }
                    set64(tables[i] + j * 8, e);
                }
            }
        }
        enum gpt_mode mode = (enum gpt_mode)(RND() % 4);
        uint64_t cr3 = tables[RND() % NT];
        struct gpt_ctx c = ctx(mode, cr3 | (RND() & 0xFFF));
        uint64_t r = RND();
        c.cr0_wp = r & 1;
        c.cr4_pse = r & 2;
        c.efer_nxe = r & 4;
        c.cr4_smep = r & 8;
        c.maxphyaddr = 32 + (r >> 8) % 21;
        if (r & 16)
            c.cr3 = RND();
        uint64_t gva = RND();
        unsigned acc = RND() & (GPT_ACC_WRITE | GPT_ACC_USER | GPT_ACC_FETCH);
        struct gpt_walk w;
        unsigned before = nreads;
        enum gpt_result res = gpt_walk(&c, gva, acc, RND() & 1, &w);
        CHECK(res <= GPT_NONCANONICAL);
        results[res]++;
        CHECK(w.levels <= 4);
        CHECK(nreads - before <= 2 * w.levels);         /* walk + A/D re-reads */
        if (res == GPT_OK) {
            CHECK(w.page_size == SIZE_4K || w.page_size == SIZE_2M || w.page_size == SIZE_4M ||
                  w.page_size == SIZE_1G);
            uint64_t va = c.mode == GPT_MODE_LONG ? gva : (uint32_t)gva;
            CHECK_EQ(w.gpa & (w.page_size - 1), va & (w.page_size - 1));
            unsigned m = c.mode == GPT_MODE_32 ? MIN(c.maxphyaddr, 40u) :
                         c.mode == GPT_MODE_NONE ? 32 : c.maxphyaddr;
            CHECK(w.gpa < (1ull << m));
        } else if (res == GPT_FAULT) {
            CHECK_EQ(w.pfec & ~0x1Fu, 0);
            CHECK(!(w.pfec & PFEC_RSVD) || (w.pfec & PFEC_P));
            CHECK_EQ(w.pfec & (PFEC_W | PFEC_U), acc & (PFEC_W | PFEC_U));
        } else if (res == GPT_BAD_GPA) {
            CHECK(w.bad_gpa >= MEM_SIZE);
        } else {
            CHECK(c.mode == GPT_MODE_LONG);
        }
    }
    CHECK_EQ(misaligned, 0);
    for (int i = 0; i < 4; i++)
        CHECK(results[i] > 0);          /* the fuzz reaches every outcome */
}
