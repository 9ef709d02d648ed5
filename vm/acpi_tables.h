/* The ACPI tables a VM's guest finds in memory, as firmware would have left them: RSDP, RSDT,
 * XSDT, FADT, FACS, MADT and a DSDT in AML (ACPI 6.0 revisions), written by the VMM into a
 * buffer that stands for guest memory. A small AML emitter of its own encodes the DSDT. Pure C:
 * the builder knows nothing of VMs, it is handed the platform as a config.
 * Also the platform's interrupt wiring that these tables and the MP table (vm/mptable.h) both
 * describe. */
#ifndef MV_ACPI_TABLES_H
#define MV_ACPI_TABLES_H
#include "compiler.h"

/* ---- The platform's interrupt wiring, as the firmware tables describe it ---- */
#define FW_LAPIC_ADDR_DEFAULT   0xFEE00000u
#define FW_IOAPIC_ADDR_DEFAULT  0xFEC00000u
#define FW_IOAPIC_PINS          24          /* 82093AA: GSI base 0, pins 0-23 */
#define FW_ISA_IRQS             16          /* ISA IRQ n reaches IOAPIC pin n ... */
#define FW_PIT_IRQ              0
#define FW_PIT_GSI              2           /* ... except the PIT's IRQ0, on pin 2 */
#define FW_CASCADE_IRQ          2           /* the 8259 cascade: no ISA device behind it */
#define FW_SCI_IRQ_DEFAULT      9
#define FW_PCI_SLOTS            32
#define FW_PCI_PINS             4           /* INTA#-INTD# */
#define FW_PIRQ_GSI_BASE        16          /* PIRQA-D reach IOAPIC pins 16-19 */

/* The GSI of PCI slot 'slot''s INTx pin (0 = INTA# .. 3 = INTD#): the PIIX3 swizzle
 * PIRQ = (slot + pin) & 3 (dev/pci.h), then PIRQ n on pin 16 + n. */
static inline unsigned fw_pci_intx_gsi(unsigned slot, unsigned pin)
{
    return FW_PIRQ_GSI_BASE + ((slot + pin) & (FW_PCI_PINS - 1));
}

/* ---- ACPI tables ---- */
/* Where an OS scans for the RSDP (ACPI 6.0, 5.2.5.1): 16-byte boundaries in the BIOS area. */
#define ACPI_RSDP_SCAN_BASE     0xE0000u
#define ACPI_RSDP_SCAN_END      0x100000u
#define ACPI_RSDP_ALIGN         16
#define ACPI_MAX_CPUS           254         /* xAPIC IDs below 0xFF, the broadcast ID */
#define ACPI_TABLES_MAX_SIZE    0x4000u     /* what acpi_build uses at most, ACPI_MAX_CPUS vCPUs */

struct acpi_config {
    unsigned ncpus;                 /* LAPIC IDs and ACPI processor UIDs 0 .. ncpus-1 */
    uint32_t lapic_addr;
    uint32_t ioapic_addr;
    uint8_t ioapic_id;
    uint16_t pm_base;               /* PM1a event block; PM1a control at +4, PM timer at +8 */
    uint8_t sci_irq;                /* an ISA IRQ, level/active high (its MADT override) */
    bool vga_present;               /* clears IAPC_BOOT_ARCH's "VGA not present" */
    bool fixed_power_button;        /* advertise PM1's PWRBTN (acpi_pm_power_button); if
                                     * false, FADT PWR_BUTTON says there is none */
    uint32_t pci_mem_base, pci_mem_limit;   /* the PCI0 32-bit memory window, inclusive */
};

/* Writes all tables into buf, which stands for guest memory at guest-physical base (cap
 * bytes): the RSDP first, at base, so base must be 16-byte aligned (in the scan area unless
 * the OS is told where the RSDP is), and everything must lie below 4 GiB. Returns the bytes
 * used, or 0 if cap is too small or the config is invalid. */
size_t acpi_build(const struct acpi_config *c, uint64_t base, uint8_t *buf, size_t cap);

/* ---- AML emitter (ACPI 6.0, chapter 20), used for the DSDT ---- */
/* Bytes go to buf at len; running out of room (or a malformed name or ID) sets error, and
 * then nothing more is written. */
struct aml {
    uint8_t *buf;
    size_t cap, len;
    bool error;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);
/* A PkgLength-prefixed body: aml_open marks where it starts, aml_close puts the PkgLength
 * (1-4 bytes, the shortest that holds it, counting itself) in front of what was emitted
 * since. Nests. */
size_t aml_open(const struct aml *a);
void aml_close(struct aml *a, size_t mark);
/* A NameString: "\\" and "^" prefixes, then 4-character segments separated by '.', each
 * padded with '_' ("\\_SB.PCI0", "RTC"). */
void aml_namestring(struct aml *a, const char *path);
/* An integer with the shortest encoding: ZeroOp, OneOp, or a Byte/Word/DWord/QWord prefix. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* The 32-bit compressed EISA ID of "ABC1234" (three capitals, four hex digits), as a DWord. */
void aml_eisaid(struct aml *a, const char *id);
uint32_t aml_eisaid_value(const char *id);  /* 0 if malformed */
/* BufferOp with its size and bytes. */
void aml_buffer(struct aml *a, const uint8_t *data, size_t len);
#endif
