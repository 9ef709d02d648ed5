/* Shadow page tables: the tables the CPU really walks while a guest runs without EPT. They
 * are a virtual TLB, built on demand from #PF exits after a guest-table walk (mm/gpt.h):
 * every shadow translation is one the guest's tables allowed when it was made; INVLPG drops
 * one, a guest CR3 write or mode change drops all. A shadow mapping is 4 KiB, or 2 MiB where a
 * guest large page covers a whole 2 MiB window of contiguous host memory; otherwise a guest
 * large page is mapped in 4 KiB pieces (shadow_map_sized remembers the guest size, so an
 * INVLPG anywhere in it drops every piece, as the SDM requires of a large-page TLB entry).
 *
 * Pure: host memory comes from shadow_ops. Changes reach the CPU only after the caller
 * invalidates its TLB (every VM entry does without VPID; with VPID, INVVPID). In SHADOW_PAE
 * the CPU caches the four root PDPTEs: VM entry (EPT off) reloads them from the root. */
#ifndef MV_SHADOW_H
#define MV_SHADOW_H
#include "compiler.h"

enum shadow_fmt {
    SHADOW_PAE,         /* guest not in long mode: PAE tables, gva < 4 GiB, root below 4 GiB */
    SHADOW_LONG,        /* guest in long mode: 4-level tables, canonical gva */
};

struct shadow_ops {         /* host memory for shadow tables */
    uint64_t (*alloc_page)(void *ctx);          /* 4 KiB host page's physical address, 0 if none */
    void (*free_page)(void *ctx, uint64_t hpa);
    void *(*hpa_to_ptr)(void *ctx, uint64_t hpa);
    void *ctx;
};

/* Upper-level tables (the root, PDPTs, PDs: the ones a flush must look through for tables
 * below) whose used entries are summarised, one bit per SHADOW_SUMMARY_SPAN entries, so that a
 * flush visits what was filled instead of every entry of every table. Summary 0 is the root's;
 * an upper table beyond the first SHADOW_SUMMARIES is looked through whole. */
#define SHADOW_SUMMARIES     32
#define SHADOW_SUMMARY_SPAN  8

struct shadow {
    enum shadow_fmt fmt;
    uint64_t root_hpa;          /* what the CPU's CR3 holds; 0 when not initialised */
    struct shadow_ops ops;
    size_t pages_in_use;        /* table pages, root included */
    unsigned summaries_used;    /* 4-level: summaries handed out since the last flush */
    uint64_t used[SHADOW_SUMMARIES];    /* bit k: entries k*SPAN.. may be non-zero */
};

/* Errors (negative, errno-like values). */
#define SHADOW_ENOMEM (-12)     /* alloc_page failed: flush and retry */
#define SHADOW_EINVAL (-22)     /* address outside the format's range, bad size, PAE root >= 4 GiB */

#define SHADOW_PAE_ROOT_LIMIT (1ull << 32)      /* CR3 is 32 bits in PAE mode */

/* Allocates the (zeroed) root table. 0, SHADOW_ENOMEM, or SHADOW_EINVAL when a PAE root page
 * lies at or above 4 GiB (it is given back). On failure root_hpa is 0. */
int shadow_init(struct shadow *s, enum shadow_fmt fmt, const struct shadow_ops *ops);
/* Frees every table page, root included; safe to call twice or after a failed init. */
void shadow_destroy(struct shadow *s);
/* Drops every translation and frees every table but the root (pages_in_use becomes 1). */
void shadow_flush(struct shadow *s);

/* Maps gva's 4 KiB page to hpa's 4 KiB page (low 12 bits of both ignored), replacing any
 * previous translation. Upper levels are P|W|U: rights are enforced at the leaf alone. NX
 * only if asked (the real EFER.NXE must then be on). All or nothing: on SHADOW_ENOMEM the
 * shadow is unchanged. SHADOW_EINVAL: gva outside the format (PAE: >= 4 GiB; long: not
 * canonical) or hpa beyond 52 bits. */
int shadow_map(struct shadow *s, uint64_t gva, uint64_t hpa, bool writable, bool user, bool nx);
/* The same for one piece of a guest page of guest_page_size (gpt_walk.page_size: 4K, 2M,
 * 4M or 1G; anything else is SHADOW_EINVAL). */
int shadow_map_sized(struct shadow *s, uint64_t gva, uint64_t hpa, bool writable, bool user, bool nx,
                     uint64_t guest_page_size);
/* Maps gva's whole 2 MiB window to the 2 MiB host range at hpa with one large leaf (a PDE with
 * PS), for a guest page of guest_page_size that covers the window (or paging off: 4K): both
 * addresses 2 MiB-aligned, else SHADOW_EINVAL. Whatever the shadow held in the window goes.
 * INVLPG anywhere in the window drops the whole leaf. Same rights and marks as shadow_map_sized. */
int shadow_map_large(struct shadow *s, uint64_t gva, uint64_t hpa, bool writable, bool user, bool nx,
                     uint64_t guest_page_size);
/* Maps npages consecutive 4 KiB pages gva.. to the contiguous host range hpa.., all within one
 * shadow page table (they must not cross a 2 MiB boundary of gva: else SHADOW_EINVAL), with one
 * walk: how a guest large page is filled at once. Same rights and marks as shadow_map_sized. */
int shadow_map_run(struct shadow *s, uint64_t gva, uint64_t hpa, unsigned npages, bool writable, bool user,
                   bool nx, uint64_t guest_page_size);
/* Drops the translation of gva's page: its 4 KiB, or every piece of the guest large page
 * that contains it. Tables are kept (freed at the next flush). Out-of-range gva: no-op. */
void shadow_invlpg(struct shadow *s, uint64_t gva);
/* What the CPU would translate gva to: byte-exact hpa and the leaf's rights. Any out
 * pointer may be NULL. False if not mapped. */
bool shadow_lookup(const struct shadow *s, uint64_t gva, uint64_t *hpa, bool *writable, bool *user,
                   bool *nx);
#endif
