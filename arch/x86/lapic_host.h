/* The machine's own local APIC, as the VMM's timer and interrupt controller (guests never
 * see it: their APIC is the model in dev/lapic.c). x2APIC (MSRs) when the CPU has it, else
 * the xAPIC page mapped uncacheable. */
#ifndef MV_X86_LAPIC_HOST_H
#define MV_X86_LAPIC_HOST_H
#include "arch/x86/apic_defs.h"

/* Software-enables the LAPIC: spurious vector, LINT0 as ExtINT (the 8259 keeps working in
 * virtual-wire mode), LINT1 as NMI, timer masked. False if the CPU has no LAPIC. */
bool host_lapic_init(uint8_t spurious_vector);
bool host_lapic_present(void);
bool host_lapic_x2apic(void);
uint32_t host_lapic_read(uint32_t reg);
void host_lapic_write(uint32_t reg, uint32_t val);
void host_lapic_eoi(void);
#endif
