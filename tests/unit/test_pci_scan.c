/* The host's PCI enumeration (arch/x86/pci_scan.c) over a fake configuration space: empty
 * slots read all ones (PCI 3.0, 6.2.1); functions 1-7 are probed only behind a multi-function
 * header (a single-function device may alias itself at every function number, as some do);
 * the bus behind a PCI-to-PCI bridge (type-1 header, bus numbers at 0x18, PCI-to-PCI Bridge
 * 1.2, 3.2.5.3) is scanned once; bridges whose secondary bus is not above their own, or names
 * a bus already scanned (firmware that loops) are counted and not followed; a table too small
 * counts what it dropped. */
#include "test.h"
#include "arch/x86/pci_scan.h"
#include <string.h>

#define BUSES 8

struct fake_fn {
    bool present;
    uint32_t cfg[PCI_CONFIG_SIZE / 4];
};

struct fake_pci {
    struct fake_fn fn[BUSES][PCI_MAX_DEVICES * PCI_MAX_FUNCTIONS];
    unsigned reads[BUSES];
    bool alias_single;              /* single-function devices answer at every function */
};

static uint32_t fake_read(void *ctx, uint8_t bus, uint8_t devfn, uint8_t reg)
{
    struct fake_pci *p = ctx;
    CHECK((reg & 3) == 0);
    if (bus >= BUSES)
        return 0xFFFFFFFFu;
    p->reads[bus]++;
    const struct fake_fn *f = &p->fn[bus][devfn];
    if (!f->present && p->alias_single && PCI_FN(devfn) && p->fn[bus][PCI_DEVFN(PCI_DEV(devfn), 0)].present)
        f = &p->fn[bus][PCI_DEVFN(PCI_DEV(devfn), 0)];
    return f->present ? f->cfg[reg / 4] : 0xFFFFFFFFu;
}

static struct fake_fn *add(struct fake_pci *p, unsigned bus, unsigned dev, unsigned fn, uint16_t vendor,
                           uint16_t device, uint32_t class_code, uint8_t header)
{
    struct fake_fn *f = &p->fn[bus][PCI_DEVFN(dev, fn)];
    f->present = true;
    f->cfg[PCI_VENDOR_ID / 4] = vendor | (uint32_t)device << 16;
    f->cfg[PCI_CLASS_REVISION / 4] = class_code << 8 | 0x03;
    f->cfg[PCI_CACHE_LINE_SIZE / 4] = (uint32_t)header << 16;
    f->cfg[PCI_COMMAND / 4] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
    return f;
}

static struct fake_fn *add_bridge(struct fake_pci *p, unsigned bus, unsigned dev, uint8_t secondary,
                                  uint8_t subordinate)
{
    struct fake_fn *f = add(p, bus, dev, 0, 0x8086, 0x244e, 0x060400, PCI_HEADER_TYPE_BRIDGE);
    f->cfg[PCI_PRIMARY_BUS / 4] = bus | (uint32_t)secondary << 8 | (uint32_t)subordinate << 16;
    return f;
}

static struct fake_pci *machine(void)
{
    static struct fake_pci p;
    memset(&p, 0, sizeof(p));
    return &p;
}

static void scan(struct fake_pci *p, struct pci_host_fn *out, unsigned max, struct pci_scan_result *r)
{
    const struct pci_cfg_access a = { fake_read, p };
    pci_scan(&a, out, max, r);
}

TEST(pci_scan_reads_a_pc_bus_0)
{
    struct fake_pci *p = machine();
    add(p, 0, 0, 0, 0x8086, 0x1237, 0x060000, PCI_HEADER_TYPE_NORMAL);
    add(p, 0, 1, 0, 0x8086, 0x7000, 0x060100, PCI_HEADER_TYPE_NORMAL | PCI_HEADER_TYPE_MULTI);
    add(p, 0, 1, 1, 0x8086, 0x7010, 0x010180, PCI_HEADER_TYPE_NORMAL);
    struct fake_fn *nic = add(p, 0, 3, 0, 0x8086, 0x100e, 0x020000, PCI_HEADER_TYPE_NORMAL);
    nic->cfg[PCI_BAR0 / 4] = 0xfebc0000;
    nic->cfg[PCI_BAR0 / 4 + 1] = 0xc001;
    nic->cfg[PCI_INTERRUPT_LINE / 4] = 11 | 1u << 8;
    struct pci_host_fn f[8];
    struct pci_scan_result r;
    scan(p, f, 8, &r);
    CHECK_EQ(r.found, 4);
    CHECK_EQ(r.dropped, 0);
    CHECK_EQ(r.buses, 1);
    CHECK_EQ(r.bad_bridges, 0);
    CHECK_EQ(f[0].device, 0x1237);
    CHECK_EQ(f[1].devfn, PCI_DEVFN(1, 0));
    CHECK_EQ(f[1].header, PCI_HEADER_TYPE_NORMAL);      /* the multi-function bit is stripped */
    CHECK_EQ(f[2].devfn, PCI_DEVFN(1, 1));
    CHECK_EQ(f[2].class_rev, 0x01018003u);
    CHECK_EQ(f[3].vendor, 0x8086);
    CHECK_EQ(f[3].device, 0x100e);
    CHECK_EQ(f[3].bar[0], 0xfebc0000u);
    CHECK_EQ(f[3].bar[1], 0xc001u);
    CHECK_EQ(f[3].irq_line, 11);
    CHECK_EQ(f[3].irq_pin, 1);
    CHECK_EQ(f[3].command, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
}

TEST(pci_scan_probes_functions_1_7_only_behind_a_multifunction_header)
{
    struct fake_pci *p = machine();
    p->alias_single = true;
    add(p, 0, 0, 0, 0x8086, 0x1237, 0x060000, PCI_HEADER_TYPE_NORMAL);
    add(p, 0, 2, 0, 0x1234, 0x1111, 0x030000, PCI_HEADER_TYPE_NORMAL);
    struct pci_host_fn f[32];
    struct pci_scan_result r;
    scan(p, f, 32, &r);
    CHECK_EQ(r.found, 2);                       /* not 16 aliases */
    CHECK_EQ(f[1].devfn, PCI_DEVFN(2, 0));
}

TEST(pci_scan_follows_bridges_depth_first)
{
    struct fake_pci *p = machine();
    add(p, 0, 0, 0, 0x8086, 0x1237, 0x060000, PCI_HEADER_TYPE_NORMAL);
    add_bridge(p, 0, 30, 1, 2);
    add_bridge(p, 1, 0, 2, 2);
    add(p, 2, 5, 0, 0x8086, 0x10d3, 0x020000, PCI_HEADER_TYPE_NORMAL);
    add(p, 1, 4, 0, 0x1af4, 0x1000, 0x020000, PCI_HEADER_TYPE_NORMAL);
    add(p, 0, 31, 0, 0x8086, 0x2918, 0x060100, PCI_HEADER_TYPE_NORMAL);
    struct pci_host_fn f[8];
    struct pci_scan_result r;
    scan(p, f, 8, &r);
    CHECK_EQ(r.found, 6);
    CHECK_EQ(r.buses, 3);
    CHECK_EQ(r.bad_bridges, 0);
    CHECK_EQ(f[1].header, PCI_HEADER_TYPE_BRIDGE);
    CHECK_EQ(f[1].secondary, 1);
    CHECK_EQ(f[1].subordinate, 2);
    CHECK_EQ(f[2].bus, 1);                      /* bus 1's bridge, then bus 2 behind it */
    CHECK_EQ(f[3].bus, 2);
    CHECK_EQ(f[3].device, 0x10d3);
    CHECK_EQ(f[4].bus, 1);
    CHECK_EQ(f[4].device, 0x1000);
    CHECK_EQ(f[5].devfn, PCI_DEVFN(31, 0));
    CHECK_EQ(p->reads[3], 0);                   /* nothing named bus 3 */
}

TEST(pci_scan_does_not_follow_looping_or_backward_bridges)
{
    struct fake_pci *p = machine();
    add_bridge(p, 0, 1, 1, 1);
    add_bridge(p, 1, 0, 1, 1);                  /* secondary == its own bus */
    add_bridge(p, 1, 1, 0, 0);                  /* back to bus 0 */
    add_bridge(p, 0, 2, 1, 1);                  /* a second bridge to bus 1 */
    struct pci_host_fn f[16];
    struct pci_scan_result r;
    scan(p, f, 16, &r);
    CHECK_EQ(r.found, 4);
    CHECK_EQ(r.buses, 2);
    CHECK_EQ(r.bad_bridges, 3);
}

TEST(pci_scan_counts_what_the_table_cannot_hold)
{
    struct fake_pci *p = machine();
    for (unsigned d = 0; d < 10; d++)
        add(p, 0, d, 0, 0x8086, (uint16_t)(0x100 + d), 0x020000, PCI_HEADER_TYPE_NORMAL);
    add_bridge(p, 0, 20, 1, 1);
    add(p, 1, 0, 0, 0x8086, 0x1234, 0x020000, PCI_HEADER_TYPE_NORMAL);
    struct pci_host_fn f[4];
    struct pci_scan_result r;
    scan(p, f, 4, &r);
    CHECK_EQ(r.found, 4);
    CHECK_EQ(r.dropped, 8);                     /* 10 + the bridge + the one behind it - 4 */
    CHECK_EQ(r.buses, 2);                       /* a dropped bridge is still followed */
    CHECK_EQ(f[3].device, 0x103);
}

TEST(pci_scan_skips_vendor_0_and_empty_machines)
{
    struct fake_pci *p = machine();
    struct fake_fn *z = add(p, 0, 4, 0, 0x0000, 0x0000, 0, PCI_HEADER_TYPE_NORMAL);
    (void)z;
    struct pci_host_fn f[4];
    struct pci_scan_result r;
    scan(p, f, 4, &r);
    CHECK_EQ(r.found, 0);
    CHECK_EQ(r.buses, 1);
    CHECK_EQ(p->reads[0], PCI_MAX_DEVICES);     /* one vendor read per slot, nothing more */
}
