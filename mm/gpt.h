/* Guest page-table walker: translates a guest-virtual address through the guest's own tables
 * exactly as the CPU would (Intel SDM vol. 3, ch. 4), reporting the #PF error code the CPU
 * would raise. Pure: guest memory is reached only through the accessors in gpt_ctx, which
 * refuse addresses outside the VM, so malicious tables can never reach host memory.
 *
 * Not modelled: SMAP, protection keys, CET shadow stacks, 5-level paging, memory types
 * (PWT/PCD/PAT), global pages. 1 GiB pages and PSE-36 are assumed supported. */
#ifndef MV_GPT_H
#define MV_GPT_H
#include "compiler.h"

enum gpt_mode {
    GPT_MODE_NONE,      /* CR0.PG=0: gva == gpa (truncated to 32 bits) */
    GPT_MODE_32,        /* 2-level, 4-byte entries; 4 MiB pages when CR4.PSE */
    GPT_MODE_PAE,       /* 3-level, 2 MiB pages; PDPT at CR3[31:5] */
    GPT_MODE_LONG,      /* 4-level, 2 MiB and 1 GiB pages */
};

/* Access kinds: the same bit positions as the #PF error code, so pfec & (W|U|I) is one. */
#define GPT_ACC_WRITE BIT(1)
#define GPT_ACC_USER  BIT(2)    /* CPL 3 (not an implicit supervisor access) */
#define GPT_ACC_FETCH BIT(4)

/* #PF error code bits. */
#define PFEC_P    BIT(0)        /* 0: not present; 1: protection or reserved-bit violation */
#define PFEC_W    BIT(1)
#define PFEC_U    BIT(2)
#define PFEC_RSVD BIT(3)
#define PFEC_I    BIT(4)        /* set on fetches only when EFER.NXE (PAE/long) or CR4.SMEP */

struct gpt_ctx {
    enum gpt_mode mode;
    uint64_t cr3;               /* guest CR3 as the guest wrote it */
    bool cr0_wp, cr4_pse, efer_nxe, cr4_smep;
    unsigned maxphyaddr;        /* guest physical-address width, 32..52 (clamped) */
    /* Guest-physical accessors: 8 bytes at an 8-byte-aligned gpa; false if outside guest RAM.
     * 32-bit-mode entries are read as the aligned 8 bytes that contain them. write_pte is
     * used only for A/D updates (read-modify-write: the VMM runs the guest's one CPU). */
    bool (*read_pte)(void *ctx, uint64_t gpa, uint64_t *val);
    bool (*write_pte)(void *ctx, uint64_t gpa, uint64_t val);
    void *ctx;
};

struct gpt_walk {
    uint64_t gpa;               /* GPT_OK: guest-physical address of gva, byte-exact */
    uint64_t page_size;         /* GPT_OK: the guest mapping's size: 4K, 2M, 4M or 1G */
    bool writable, user, nx;    /* GPT_OK: R/W, U/S and XD combined over all levels (not
                                 * adjusted for CR0.WP: that only decides the access check) */
    bool dirty;                 /* GPT_OK: the leaf's D bit after this walk (map read-only
                                 * while clear, so the guest's first write is seen) */
    uint32_t pfec;              /* GPT_FAULT: the error code the CPU would report */
    uint64_t bad_gpa;           /* GPT_BAD_GPA: the entry's gpa that is outside guest RAM */
    unsigned levels;            /* table entries read (also on failure: those read so far) */
};

enum gpt_result {
    GPT_OK,
    GPT_FAULT,                  /* inject #PF(pfec) with CR2 = gva */
    GPT_BAD_GPA,                /* the guest's tables point outside its memory */
    GPT_NONCANONICAL,           /* long mode, gva not canonical: #GP(0) (#SS(0) for stack
                                 * accesses), not a page fault; nothing was read */
};

/* Walks the guest tables for one access (GPT_ACC_* bits). With set_ad, a successful walk sets
 * A in every entry it used (the PAE PDPTEs have no A bit) and, for writes, D in the leaf.
 * A faulting walk writes nothing (the SDM allows but does not require A on the entries before
 * the fault). The final gpa itself is not checked against guest RAM: that is the caller's. */
enum gpt_result gpt_walk(const struct gpt_ctx *c, uint64_t gva, unsigned access, bool set_ad,
                         struct gpt_walk *out);

/* PAE only: reads the four PDPTEs at CR3[31:5] as MOV CR3 (and a CR0/CR4 write that enters
 * PAE paging) does. GPT_FAULT means a present PDPTE has reserved bits set: the guest's MOV
 * must take #GP(0) instead. On GPT_BAD_GPA, *bad_gpa is the PDPTE's gpa. */
#define GPT_PAE_PDPTES 4
enum gpt_result gpt_load_pdptes(const struct gpt_ctx *c, uint64_t pdpte[GPT_PAE_PDPTES], uint64_t *bad_gpa);
#endif
