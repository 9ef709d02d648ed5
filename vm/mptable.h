/* The Intel MultiProcessor Specification 1.4 tables a VM's guest finds in memory: the MP
 * floating pointer structure and the MP configuration table (processors, buses, the IOAPIC,
 * the I/O and local interrupt assignments), for OSes and boot code that read these rather
 * than the ACPI MADT. The same platform wiring as the ACPI tables (vm/acpi_tables.h). Pure C. */
#ifndef MV_MPTABLE_H
#define MV_MPTABLE_H
#include "compiler.h"
#include "vm/acpi_tables.h"

/* Where an OS looks for the floating pointer (MP spec 4): the first KiB of the EBDA, the last
 * KiB of base memory, or the BIOS ROM 0xF0000-0xFFFFF, on 16-byte boundaries. */
#define MP_SCAN_BIOS_BASE       0xF0000u
#define MP_SCAN_BIOS_END        0x100000u
#define MP_FPS_ALIGN            16
#define MP_MAX_CPUS             254         /* APIC IDs below 0xFF, "all local APICs" */
#define MP_LAPIC_VERSION_P6     0x14        /* an integrated xAPIC, as CPUs since the P6 */
#define MP_BUS_PCI              0           /* bus IDs of the configuration table */
#define MP_BUS_ISA              1

struct mptable_config {
    unsigned ncpus;                 /* LAPIC IDs 0 .. ncpus-1; CPU 0 is the bootstrap CPU */
    uint32_t lapic_addr;
    uint8_t lapic_version;          /* the LAPIC version register's bits 7:0 */
    uint32_t cpu_signature;         /* CPUID.1:EAX (stepping 3:0, model 7:4, family 11:8) */
    uint32_t cpu_features;          /* CPUID.1:EDX */
    uint32_t ioapic_addr;
    uint8_t ioapic_id;
    uint8_t sci_irq;                /* its ISA IRQ is level/active high, as in the MADT; 0: none */
    uint32_t pci_slots;             /* bit s: slot s's INTA-D lines are listed; 0: all 32 slots */
};

/* Writes the floating pointer at base (16-byte aligned, below 4 GiB) and the configuration
 * table right after it into buf, which stands for guest memory at base (cap bytes). Returns
 * the bytes used, or 0 if cap is too small or the config is invalid. */
size_t mptable_build(const struct mptable_config *c, uint64_t base, uint8_t *buf, size_t cap);
#endif
