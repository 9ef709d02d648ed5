/* The machine's own PCI functions (not a VM's), found once at boot through configuration
 * mechanism #1. What the VMM will drive itself (its uplink NIC) is picked from this table. */
#ifndef MV_PCI_HOST_H
#define MV_PCI_HOST_H
#include "pci_scan.h"

#define PCI_HOST_MAX_FNS 64

/* Probes for mechanism #1 and scans; prints one summary line. */
void pci_host_init(void);
bool pci_host_present(void);
/* The functions found, in scan order; *n is how many. */
const struct pci_host_fn *pci_host_functions(unsigned *n);
const struct pci_scan_result *pci_host_scan_result(void);
uint32_t pci_host_read32(uint8_t bus, uint8_t devfn, uint8_t reg);
void pci_host_write32(uint8_t bus, uint8_t devfn, uint8_t reg, uint32_t val);
/* The base class's name (PCI Code and ID Assignment spec 1.x, 1.1-1.12), "other" if unlisted. */
const char *pci_class_name(uint32_t class_rev);
#endif
