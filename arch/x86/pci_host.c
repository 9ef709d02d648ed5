/* See pci_host.h. Mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): CONFIG_ADDRESS at 0xCF8 selects
 * bus, device, function and dword; CONFIG_DATA at 0xCFC moves it. Presence is checked the way
 * a BIOS-less OS must: a dword written to CONFIG_ADDRESS with the enable bit reads back as
 * written only where the mechanism exists. Only the boot CPU runs here, before any thread, so
 * the address/data pair needs no lock; later readers use the table. */
#include "pci_host.h"
#include "cpu.h"
#include "lib.h"

static bool present;
static struct pci_host_fn fns[PCI_HOST_MAX_FNS];
static struct pci_scan_result result;

static uint32_t config_address(uint8_t bus, uint8_t devfn, uint8_t reg)
{
    return PCI_CONFIG_ENABLE | (uint32_t)bus << PCI_CONFIG_BUS_SHIFT | (uint32_t)devfn << PCI_CONFIG_DEVFN_SHIFT |
           (reg & PCI_CONFIG_REG_MASK);
}

uint32_t pci_host_read32(uint8_t bus, uint8_t devfn, uint8_t reg)
{
    outl(PCI_CONFIG_ADDRESS_PORT, config_address(bus, devfn, reg));
    return inl(PCI_CONFIG_DATA_PORT);
}

void pci_host_write32(uint8_t bus, uint8_t devfn, uint8_t reg, uint32_t val)
{
    outl(PCI_CONFIG_ADDRESS_PORT, config_address(bus, devfn, reg));
    outl(PCI_CONFIG_DATA_PORT, val);
}

static uint32_t access_read32(void *ctx, uint8_t bus, uint8_t devfn, uint8_t reg)
{
    return pci_host_read32(bus, devfn, reg);
}

static bool mechanism1_present(void)
{
    uint32_t saved = inl(PCI_CONFIG_ADDRESS_PORT);
    outl(PCI_CONFIG_ADDRESS_PORT, PCI_CONFIG_ENABLE);
    bool ok = inl(PCI_CONFIG_ADDRESS_PORT) == PCI_CONFIG_ENABLE;
    outl(PCI_CONFIG_ADDRESS_PORT, saved);
    return ok;
}

void pci_host_init(void)
{
    present = mechanism1_present();
    if (!present) {
        kprintf("pci: no configuration mechanism #1\n");
        return;
    }
    const struct pci_cfg_access a = { access_read32, NULL };
    pci_scan(&a, fns, PCI_HOST_MAX_FNS, &result);
    kprintf("pci: %u functions on %u buses", result.found + result.dropped, result.buses);
    if (result.dropped)
        kprintf(", %u past the table's %u", result.dropped, PCI_HOST_MAX_FNS);
    if (result.bad_bridges)
        kprintf(", %u bridges with bad bus numbers not followed", result.bad_bridges);
    kprintf("\n");
}

bool pci_host_present(void) { return present; }

const struct pci_host_fn *pci_host_functions(unsigned *n)
{
    *n = result.found;
    return fns;
}

const struct pci_scan_result *pci_host_scan_result(void) { return &result; }

const char *pci_class_name(uint32_t class_rev)
{
    static const char *const names[] = {
        "old", "storage", "network", "display", "multimedia", "memory", "bridge", "communication",
        "system", "input", "docking", "processor", "serial bus", "wireless", "intelligent I/O",
        "satellite", "crypto", "signal processing",
    };
    unsigned base = class_rev >> 24;
    return base < ARRAY_SIZE(names) ? names[base] : "other";
}
