/* The firmware tables of a VM, written into its BIOS area as a PC BIOS leaves them: the ACPI
 * tables (RSDP first) at 0xE0000, where an OS scans for the RSDP, and the MP table at 0xF0000.
 * Both describe the platform pc_platform.c builds: one vCPU, its LAPIC, the I/O APIC, the PM
 * block, the PCI interrupt wiring. The loaders' memory maps reserve this area. */
#include "pc_firmware.h"
#include "pc_platform.h"
#include "acpi_tables.h"
#include "mptable.h"
#include "lib.h"
#include "arch/x86/cpu.h"

#define PCI_MEM_BASE    0xC0000000u         /* above every VM's RAM (VM_MEM_MAX) */
#define PCI_MEM_LIMIT   0xFEBFFFFFu         /* below the I/O APIC */

static uint8_t scratch[ACPI_TABLES_MAX_SIZE];   /* VMs are prepared one at a time */

bool pc_firmware_write(struct guest_mem *m, char *err, size_t errlen)
{
    const struct acpi_config ac = {
        .ncpus = 1, .lapic_addr = FW_LAPIC_ADDR_DEFAULT, .ioapic_addr = FW_IOAPIC_ADDR_DEFAULT,
        .ioapic_id = PC_IOAPIC_ID, .pm_base = ACPI_PM_BASE_DEFAULT, .sci_irq = PC_IRQ_SCI,
        .pci_mem_base = PCI_MEM_BASE, .pci_mem_limit = PCI_MEM_LIMIT,
    };
    size_t n = acpi_build(&ac, ACPI_RSDP_SCAN_BASE, scratch, sizeof(scratch));
    if (!n || ACPI_RSDP_SCAN_BASE + n > MP_SCAN_BIOS_BASE || !gmem_write(m, ACPI_RSDP_SCAN_BASE, scratch, n)) {
        ksnprintf(err, errlen, "the ACPI tables do not fit the BIOS area");
        return false;
    }
    uint32_t sig, ebx, ecx, features;
    cpuid(1, 0, &sig, &ebx, &ecx, &features);
    const struct mptable_config mc = {
        .ncpus = 1, .lapic_addr = FW_LAPIC_ADDR_DEFAULT, .lapic_version = LAPIC_VERSION_ID,
        .cpu_signature = sig, .cpu_features = features | CPUID1_EDX_APIC,
        .ioapic_addr = FW_IOAPIC_ADDR_DEFAULT, .ioapic_id = PC_IOAPIC_ID, .sci_irq = PC_IRQ_SCI,
    };
    n = mptable_build(&mc, MP_SCAN_BIOS_BASE, scratch, sizeof(scratch));
    if (!n || MP_SCAN_BIOS_BASE + n > MP_SCAN_BIOS_END || !gmem_write(m, MP_SCAN_BIOS_BASE, scratch, n)) {
        ksnprintf(err, errlen, "the MP table does not fit the BIOS area");
        return false;
    }
    return true;
}
