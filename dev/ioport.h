/* Per-VM I/O port space. Devices register their ranges from their own files; the I/O exit
 * path finds the owner with one table lookup (a byte per port). A port nobody owns reads as
 * all-ones and ignores writes, like an open ISA bus, and is counted. */
#ifndef MV_IOPORT_H
#define MV_IOPORT_H
#include "compiler.h"

#define IOPORT_COUNT     65536u
#define IOPORT_MAX_DEVS  63

struct ioport_ops {
    const char *name;
    /* size is 1, 2 or 4; the value read is truncated to size by the caller. */
    uint32_t (*in)(void *dev, uint16_t port, unsigned size);
    void (*out)(void *dev, uint16_t port, unsigned size, uint32_t val);
    /* An 8-bit ISA chip: a 2- or 4-byte access becomes byte accesses to consecutive ports,
     * each reaching whoever owns that port, as on the ISA bus. */
    bool bytewise;
};

struct ioport_dev {
    const struct ioport_ops *ops;
    void *dev;
    uint16_t base, count;
};

struct ioport_table {
    uint8_t owner[IOPORT_COUNT];            /* 0: none, else index+1 into devs */
    struct ioport_dev devs[IOPORT_MAX_DEVS];   /* ops NULL: a free slot */
    unsigned ndevs;
    uint64_t unowned_reads, unowned_writes;
    uint16_t last_unowned;
};

void ioport_init(struct ioport_table *t);
/* False if a port in the range is taken or the table is full. */
bool ioport_register(struct ioport_table *t, uint16_t base, uint16_t count,
                     const struct ioport_ops *ops, void *dev);
/* Frees the range registered at base by dev (a PCI I/O BAR the guest moved); false if none. */
bool ioport_unregister(struct ioport_table *t, uint16_t base, const void *dev);
uint32_t ioport_in(struct ioport_table *t, uint16_t port, unsigned size);
void ioport_out(struct ioport_table *t, uint16_t port, unsigned size, uint32_t val);
const char *ioport_owner_name(const struct ioport_table *t, uint16_t port);
#endif
