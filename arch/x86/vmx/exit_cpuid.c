/* CPUID: the host's values, minus what monovisor does not virtualise (VMX, SMX, MONITOR,
 * XSAVE/AVX, PMU, SMEP/SMAP...), plus the hypervisor bit and leaf. The APIC, x2APIC and
 * TSC-deadline bits describe the emulated LAPIC (dev/lapic.c), whose timer runs at the
 * crystal clock leaf 0x15 reports, as on Intel parts since Skylake. */
#include "exit.h"
#include "vmx.h"
#include "vmx_caps.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "lib.h"
#include "dev/lapic.h"

#define LEAF_HV_BASE        0x40000000u
#define LEAF_HV_FEATURES    0x40000001u
#define LEAF_HV_LAST        0x400000FFu
#define HV_INTERFACE_VERSION 1u
#define LEAF_FEATURES       1u
#define LEAF_MONITOR        5u
#define LEAF_THERMAL        6u
#define LEAF_EXT_FEATURES   7u
#define LEAF_PMU            0xAu
#define LEAF_XSAVE          0xDu
#define LEAF_TOPOLOGY       0xBu
#define LEAF_TSC_CRYSTAL    0x15u
#define LEAF_FREQUENCY      0x16u
#define LEAF_EXT_INFO       0x80000001u

#define L1_ECX_MONITOR      BIT(3)
#define L1_ECX_DS_CPL       BIT(4)
#define L1_ECX_EST          BIT(7)
#define L1_ECX_TM2          BIT(8)
#define L1_ECX_PDCM         BIT(15)
#define L1_ECX_PCID         BIT(17)
#define L1_ECX_X2APIC       BIT(21)
#define L1_ECX_TSC_DEADLINE BIT(24)
#define L1_ECX_XSAVE        BIT(26)
#define L1_ECX_OSXSAVE      BIT(27)
#define L1_ECX_AVX          BIT(28)
#define L1_ECX_HIDDEN       (CPUID1_ECX_VMX | CPUID1_ECX_SMX | L1_ECX_MONITOR | L1_ECX_DS_CPL | \
                             L1_ECX_EST | L1_ECX_TM2 | L1_ECX_PDCM | L1_ECX_XSAVE | \
                             L1_ECX_OSXSAVE | L1_ECX_AVX)
#define L1_ECX_LAPIC        (L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE)
#define L1_EDX_ACPI         BIT(22)
#define L1_EDX_HTT          BIT(28)
#define L1_EDX_TM           BIT(29)
#define L1_EDX_PBE          BIT(31)
#define L1_EDX_DS           BIT(21)
#define L1_EDX_HIDDEN       (L1_EDX_ACPI | L1_EDX_HTT | L1_EDX_TM | L1_EDX_PBE | L1_EDX_DS)
#define L1_EBX_BRAND_CLFLUSH 0x0000FFFFu    /* keep brand index and CLFLUSH size; APIC id 0, 1 CPU */
#define L1_EBX_ONE_LOGICAL  (1u << 16)
/* Leaf 7 EBX: instruction-set extensions that need no OS or VMM support. */
#define L7_EBX_BMI1         BIT(3)
#define L7_EBX_BMI2         BIT(8)
#define L7_EBX_ERMS         BIT(9)
#define L7_EBX_ADX          BIT(19)
#define L7_EBX_ALLOWED      (L7_EBX_BMI1 | L7_EBX_BMI2 | L7_EBX_ERMS | L7_EBX_ADX)
#define EXT_EDX_RDTSCP      BIT(27)

/* "monovisor" split over EBX, ECX, EDX, NUL-padded. */
static const char hv_signature[12] = "monovisor";

enum vcpu_action exit_cpuid(struct vcpu *v)
{
    uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
    uint32_t a = 0, b = 0, c = 0, d = 0;
    if (leaf >= LEAF_HV_BASE && leaf <= LEAF_HV_LAST) {
        if (leaf == LEAF_HV_BASE) {
            a = LEAF_HV_FEATURES;
            memcpy(&b, hv_signature, 4);
            memcpy(&c, hv_signature + 4, 4);
            memcpy(&d, hv_signature + 8, 4);
        } else if (leaf == LEAF_HV_FEATURES) {
            a = HV_INTERFACE_VERSION;
        }
    } else {
        cpuid(leaf, sub, &a, &b, &c, &d);
        switch (leaf) {
        case LEAF_FEATURES:
            b = (b & L1_EBX_BRAND_CLFLUSH) | L1_EBX_ONE_LOGICAL;
            c = (c & ~L1_ECX_HIDDEN) | CPUID1_ECX_HYPERVISOR | L1_ECX_LAPIC;
            d = (d & ~L1_EDX_HIDDEN) | CPUID1_EDX_APIC;
            break;
        case LEAF_EXT_FEATURES:
            b = sub == 0 ? b & L7_EBX_ALLOWED : 0;
            a = c = d = 0;
            break;
        case LEAF_MONITOR:
        case LEAF_THERMAL:
        case LEAF_PMU:
        case LEAF_XSAVE:
            a = b = c = d = 0;
            break;
        /* The TSC rate the VMM measured, not the CPU's nominal clock (Bochs claims 3.5 GHz for
         * a 100 MHz TSC): the guest needs no calibration against its PIT, which a vCPU that
         * shares the CPU with others cannot do reliably (its time jumps when it is switched
         * out). Leaf 0x15: the crystal is the LAPIC timer's clock (Linux takes its timer rate
         * from it), and TSC = crystal * EBX / EAX. Linux multiplies crystal kHz by EBX in 32
         * bits, so EBX stays below 2^32 / (crystal kHz), as real parts' small ratios do: the
         * largest denominator that allows, the numerator rounded. */
        case LEAF_TSC_CRYSTAL: {
            const uint64_t crystal_khz = LAPIC_TIMER_HZ / 1000, limit = UINT32_MAX / crystal_khz;
            uint64_t ratio_up = (tsc_hz + LAPIC_TIMER_HZ - 1) / LAPIC_TIMER_HZ;
            uint64_t den = ratio_up ? MAX(limit / ratio_up, 1) : 0;
            uint64_t num = den ? (tsc_hz * den + LAPIC_TIMER_HZ / 2) / LAPIC_TIMER_HZ : 0;
            a = num ? (uint32_t)den : 0;
            b = (uint32_t)MIN(num, limit);
            c = LAPIC_TIMER_HZ;
            d = 0;
            break;
        }
        case LEAF_FREQUENCY:
            a = b = (uint32_t)(tsc_hz / 1000000);
            c = LAPIC_TIMER_HZ / 1000000;       /* the bus (reference) clock */
            d = 0;
            break;
        case LEAF_TOPOLOGY:
            d = 0;                              /* the vCPU's x2APIC ID */
            break;
        case LEAF_EXT_INFO:
            if (!(vmread(VMCS_PROC_CTLS) & PROC_SECONDARY_CONTROLS) ||
                !(vmread(VMCS_PROC_CTLS2) & PROC2_ENABLE_RDTSCP))
                d &= ~EXT_EDX_RDTSCP;
            break;
        default:
            break;
        }
    }
    v->regs.rax = a;
    v->regs.rbx = b;
    v->regs.rcx = c;
    v->regs.rdx = d;
    vcpu_skip_instruction(v);
    return VCPU_RESUME;
}
