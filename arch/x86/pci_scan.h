/* Enumerating the machine's PCI functions through any configuration accessor: depth first from
 * bus 0, into the bus behind each PCI-to-PCI bridge. Pure (the accessor is the only contact
 * with hardware), so firmware that numbers its buses wrongly can be tried in a unit test. */
#ifndef MV_PCI_SCAN_H
#define MV_PCI_SCAN_H
#include "compiler.h"
#include "dev/pci_regs.h"

struct pci_cfg_access {
    uint32_t (*read32)(void *ctx, uint8_t bus, uint8_t devfn, uint8_t reg);    /* reg dword aligned */
    void *ctx;
};

struct pci_host_fn {
    uint8_t bus, devfn;
    uint16_t vendor, device;
    uint32_t class_rev;             /* class code 31:8, revision 7:0 */
    uint8_t header;                 /* header type without the multi-function bit */
    uint16_t command;
    uint8_t irq_line, irq_pin;
    uint32_t bar[PCI_NUM_BARS];     /* as the firmware left them (a bridge has 2) */
    uint8_t secondary, subordinate; /* bridges: the buses behind */
};

struct pci_scan_result {
    unsigned found;                 /* functions stored (at most the caller's max) */
    unsigned dropped;               /* more functions than the table holds */
    unsigned buses;                 /* buses scanned */
    unsigned bad_bridges;           /* bridges naming a bus already scanned, or one not above theirs */
};

/* Fills fns[0..max) in scan order. */
void pci_scan(const struct pci_cfg_access *a, struct pci_host_fn *fns, unsigned max, struct pci_scan_result *r);
#endif
