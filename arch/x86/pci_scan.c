/* See pci_scan.h. Function 0 of every slot is probed; functions 1-7 only when function 0's
 * header says multi-function (PCI 3.0, 6.2.1: single-function devices may answer at every
 * function number). A bridge's secondary bus is scanned once, and only if it lies above the
 * bridge's own: firmware that loops its bus numbers cannot make the scan recurse forever. */
#include "pci_scan.h"
#include "lib.h"

#define PCI_MAX_DEPTH 16            /* bridges nested deeper than this are not followed */

struct scan {
    const struct pci_cfg_access *a;
    struct pci_host_fn *fns;
    unsigned max;
    struct pci_scan_result *r;
    uint8_t seen[PCI_MAX_BUSES / 8];
};

static uint32_t rd(const struct scan *s, uint8_t bus, uint8_t devfn, uint8_t reg)
{
    return s->a->read32(s->a->ctx, bus, devfn, reg);
}

static bool bus_seen(struct scan *s, unsigned bus)
{
    bool was = s->seen[bus / 8] & (1u << (bus % 8));
    s->seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
    return was;
}

static void scan_bus(struct scan *s, uint8_t bus, unsigned depth);

/* The header type register: byte 2 of the dword at 0x0C. */
static uint8_t header_type(const struct scan *s, uint8_t bus, uint8_t devfn)
{
    return (uint8_t)(rd(s, bus, devfn, PCI_CACHE_LINE_SIZE) >> 16);
}

static void add_function(struct scan *s, uint8_t bus, uint8_t devfn, uint32_t id, uint8_t hdr, unsigned depth)
{
    struct pci_host_fn f = { .bus = bus, .devfn = devfn, .vendor = (uint16_t)id, .device = (uint16_t)(id >> 16) };
    f.header = hdr & PCI_HEADER_TYPE_MASK;
    f.class_rev = rd(s, bus, devfn, PCI_CLASS_REVISION);
    f.command = (uint16_t)rd(s, bus, devfn, PCI_COMMAND);
    uint32_t irq = rd(s, bus, devfn, PCI_INTERRUPT_LINE);
    f.irq_line = (uint8_t)irq;
    f.irq_pin = (uint8_t)(irq >> 8);
    unsigned nbars = f.header == PCI_HEADER_TYPE_BRIDGE ? PCI_BRIDGE_BARS
                     : f.header == PCI_HEADER_TYPE_NORMAL ? PCI_NUM_BARS : 0;
    for (unsigned b = 0; b < nbars; b++)
        f.bar[b] = rd(s, bus, devfn, (uint8_t)(PCI_BAR0 + 4 * b));
    if (f.header == PCI_HEADER_TYPE_BRIDGE) {
        uint32_t buses = rd(s, bus, devfn, PCI_PRIMARY_BUS);
        f.secondary = (uint8_t)(buses >> 8);
        f.subordinate = (uint8_t)(buses >> 16);
    }
    if (s->r->found < s->max)
        s->fns[s->r->found++] = f;
    else
        s->r->dropped++;
    if (f.header == PCI_HEADER_TYPE_BRIDGE) {
        if (f.secondary <= bus || depth + 1 >= PCI_MAX_DEPTH || bus_seen(s, f.secondary))
            s->r->bad_bridges++;
        else
            scan_bus(s, f.secondary, depth + 1);
    }
}

static void scan_bus(struct scan *s, uint8_t bus, unsigned depth)
{
    s->r->buses++;
    for (unsigned dev = 0; dev < PCI_MAX_DEVICES; dev++) {
        uint32_t id = rd(s, bus, PCI_DEVFN(dev, 0), PCI_VENDOR_ID);
        if ((uint16_t)id == PCI_VENDOR_NONE || (uint16_t)id == 0)
            continue;
        uint8_t hdr = header_type(s, bus, PCI_DEVFN(dev, 0));
        add_function(s, bus, PCI_DEVFN(dev, 0), id, hdr, depth);
        if (!(hdr & PCI_HEADER_TYPE_MULTI))
            continue;
        for (unsigned fn = 1; fn < PCI_MAX_FUNCTIONS; fn++) {
            id = rd(s, bus, PCI_DEVFN(dev, fn), PCI_VENDOR_ID);
            if ((uint16_t)id != PCI_VENDOR_NONE && (uint16_t)id != 0)
                add_function(s, bus, PCI_DEVFN(dev, fn), id, header_type(s, bus, PCI_DEVFN(dev, fn)), depth);
        }
    }
}

void pci_scan(const struct pci_cfg_access *a, struct pci_host_fn *fns, unsigned max, struct pci_scan_result *r)
{
    struct scan s = { .a = a, .fns = fns, .max = max, .r = r };
    memset(r, 0, sizeof(*r));
    bus_seen(&s, 0);
    scan_bus(&s, 0, 0);
}
