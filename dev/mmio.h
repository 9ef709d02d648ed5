/* A VM's guest-physical map beyond its RAM: the regions devices claim. Each region is either
 * trapped (every access is decoded by the exit path and handed to the device's read/write) or
 * device memory (host pages the device owns, such as a framebuffer, that the shadow MMU maps
 * into the guest directly). Devices register their regions from their own code and
 * unregister them when the guest moves them (a PCI BAR, IA32_APIC_BASE). A claimed region
 * takes precedence over RAM at the same address, as the LAPIC page does on real parts. Pure C. */
#ifndef MV_MMIO_H
#define MV_MMIO_H
#include "compiler.h"

#define MMIO_MAX_REGIONS 32

struct mmio_ops {
    const char *name;
    /* off is from the region's base; size is 1, 2, 4 or 8 and the access lies in the region.
     * A trapped region has read/write; a device-memory region has hpa instead. */
    uint64_t (*read)(void *dev, uint64_t off, unsigned size);
    void (*write)(void *dev, uint64_t off, unsigned size, uint64_t val);
    uint64_t (*hpa)(void *dev, uint64_t off);       /* host page of region offset off */
};

struct mmio_region {
    uint64_t base, len;
    const struct mmio_ops *ops;
    void *dev;
    uint64_t reads, writes;
};

struct mmio_table {
    struct mmio_region r[MMIO_MAX_REGIONS];     /* sorted by base, disjoint */
    unsigned n;
    /* Bumped by every register/unregister: translations cached from the old map (shadow
     * page tables) must be dropped when it changes. */
    uint64_t generation;
    uint64_t unclaimed_reads, unclaimed_writes, split_accesses;
};

void mmio_init(struct mmio_table *t);
/* False if len is 0, the range wraps, overlaps a region, or the table is full. */
bool mmio_register(struct mmio_table *t, uint64_t base, uint64_t len, const struct mmio_ops *ops, void *dev);
/* Removes the region that starts at base and belongs to dev; false if there is none. */
bool mmio_unregister(struct mmio_table *t, uint64_t base, const void *dev);
/* The region containing gpa, or NULL. */
struct mmio_region *mmio_find(struct mmio_table *t, uint64_t gpa);
const struct mmio_region *mmio_find_const(const struct mmio_table *t, uint64_t gpa);
/* Whether any region meets [gpa, gpa + len). */
bool mmio_overlaps(const struct mmio_table *t, uint64_t gpa, uint64_t len);
/* A trapped access of size 1, 2, 4 or 8 at gpa. False if no trapped region holds all of it
 * (unclaimed, device memory, or straddling a region's end): the caller decides what that
 * means (today: the VM stops with a diagnostic naming the address). */
bool mmio_read(struct mmio_table *t, uint64_t gpa, unsigned size, uint64_t *val);
bool mmio_write(struct mmio_table *t, uint64_t gpa, unsigned size, uint64_t val);
#endif
