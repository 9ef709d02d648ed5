/* RDMSR/WRMSR. Every MSR access exits (no MSR bitmap is loaded, so all do); the ones guests
 * need are emulated here, per vCPU. MSRs the guest's SYSCALL/SWAPGS/RDTSCP use directly are
 * also written to the real register (the VMM itself never uses them). Anything else raises
 * #GP in the guest, as on a CPU without that MSR, and is counted. */
#include "exit.h"
#include "vmx.h"
#include "vmx_caps.h"
#include "mmu.h"
#include "vm/vm.h"
#include "arch/x86/cpu.h"
#include "lib.h"

#define MSR_TSC             0x10
#define MSR_PLATFORM_ID     0x17
#define MSR_BIOS_SIGN_ID    0x8B
#define MSR_MTRRCAP         0xFE
#define MSR_SYSENTER_CS     0x174
#define MSR_SYSENTER_ESP    0x175
#define MSR_SYSENTER_EIP    0x176
#define MSR_MCG_CAP         0x179
#define MSR_MCG_STATUS      0x17A
#define MSR_MISC_ENABLE     0x1A0
#define MSR_MTRR_PHYS_FIRST 0x200
#define MSR_MTRR_FIX64K     0x250
#define MSR_MTRR_FIX16K_0   0x258
#define MSR_MTRR_FIX16K_1   0x259
#define MSR_MTRR_FIX4K_FIRST 0x268
#define MSR_MTRR_FIX4K_LAST 0x26F
#define MSR_PAT             0x277
#define MSR_MTRR_DEF_TYPE   0x2FF
#define MSR_STAR            0xC0000081
#define MSR_LSTAR           0xC0000082
#define MSR_CSTAR           0xC0000083
#define MSR_FMASK           0xC0000084
#define MSR_FS_BASE         0xC0000100
#define MSR_GS_BASE         0xC0000101
#define MSR_KERNEL_GS_BASE  0xC0000102
#define MSR_TSC_AUX         0xC0000103

/* MTRRCAP: variable ranges, fixed ranges supported, write-combining supported. */
#define MTRRCAP_VALUE       (VCPU_MTRR_VAR_PAIRS | BIT(8) | BIT(10))
#define EFER_WRITABLE       (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define PAT_VALID_TYPES     0xF3u           /* UC, WC, WT, WP, WB, UC- : types 0,1,4,5,6,7 */

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static bool pat_valid(uint64_t v)
{
    for (int i = 0; i < 8; i++)
        if (!(PAT_VALID_TYPES & (1u << ((v >> (8 * i)) & 0xFF))) || ((v >> (8 * i)) & 0xF8))
            return false;
    return true;
}

static uint64_t *mtrr_slot(struct vcpu *v, uint32_t msr)
{
    if (msr >= MSR_MTRR_PHYS_FIRST && msr < MSR_MTRR_PHYS_FIRST + 2 * VCPU_MTRR_VAR_PAIRS)
        return &v->msr.mtrr_var[msr - MSR_MTRR_PHYS_FIRST];
    if (msr == MSR_MTRR_FIX64K)
        return &v->msr.mtrr_fixed[0];
    if (msr == MSR_MTRR_FIX16K_0 || msr == MSR_MTRR_FIX16K_1)
        return &v->msr.mtrr_fixed[1 + msr - MSR_MTRR_FIX16K_0];
    if (msr >= MSR_MTRR_FIX4K_FIRST && msr <= MSR_MTRR_FIX4K_LAST)
        return &v->msr.mtrr_fixed[3 + msr - MSR_MTRR_FIX4K_FIRST];
    if (msr == MSR_MTRR_DEF_TYPE)
        return &v->msr.mtrr_def_type;
    return NULL;
}

static uint64_t *plain_slot(struct vcpu *v, uint32_t msr)
{
    switch (msr) {
    case MSR_STAR: return &v->msr.star;
    case MSR_LSTAR: return &v->msr.lstar;
    case MSR_CSTAR: return &v->msr.cstar;
    case MSR_FMASK: return &v->msr.fmask;
    case MSR_KERNEL_GS_BASE: return &v->msr.kernel_gs_base;
    case MSR_TSC_AUX: return &v->msr.tsc_aux;
    case MSR_MISC_ENABLE: return &v->msr.misc_enable;
    case MSR_PAT: return &v->msr.pat;
    default: return mtrr_slot(v, msr);
    }
}

static enum vcpu_action unknown_msr(struct vcpu *v, uint32_t msr)
{
    v->unknown_msr_count++;
    v->last_unknown_msr = msr;
    vcpu_inject_gp0(v);
    return VCPU_RESUME;
}

enum vcpu_action exit_rdmsr(struct vcpu *v)
{
    uint32_t msr = (uint32_t)v->regs.rcx;
    uint64_t val;
    uint64_t *slot;
    switch (msr) {
    case MSR_IA32_EFER: val = v->efer; break;
    case MSR_TSC: val = rdtsc() + v->tsc_offset; break;
    case MSR_SYSENTER_CS: val = vmread(VMCS_GUEST_SYSENTER_CS); break;
    case MSR_SYSENTER_ESP: val = vmread(VMCS_GUEST_SYSENTER_ESP); break;
    case MSR_SYSENTER_EIP: val = vmread(VMCS_GUEST_SYSENTER_EIP); break;
    case MSR_KERNEL_GS_BASE: val = rdmsr(MSR_KERNEL_GS_BASE); break;     /* SWAPGS changes it */
    case MSR_FS_BASE: val = vmread(VMCS_GUEST_FS_BASE); break;
    case MSR_GS_BASE: val = vmread(VMCS_GUEST_GS_BASE); break;
    case MSR_MTRRCAP: val = MTRRCAP_VALUE; break;
    case MSR_IA32_FEATURE_CONTROL: val = FEATURE_CONTROL_LOCK; break;    /* locked, VMX off */
    case MSR_PLATFORM_ID:
    case MSR_BIOS_SIGN_ID:
    case MSR_MCG_CAP:
    case MSR_MCG_STATUS: val = 0; break;
    case MSR_IA32_APIC_BASE: val = pc_apic_base(&v->vm->plat); break;
    case MSR_IA32_TSC_DEADLINE: val = pc_tsc_deadline_read(&v->vm->plat); break;
    default:
        if (msr >= MSR_X2APIC_BASE && msr <= X2APIC_MSR_LAST) {
            if (!pc_x2apic_read(&v->vm->plat, msr, &val)) {
                vcpu_inject_gp0(v);
                return VCPU_RESUME;
            }
            break;
        }
        slot = plain_slot(v, msr);
        if (!slot)
            return unknown_msr(v, msr);
        val = *slot;
        break;
    }
    v->regs.rax = (uint32_t)val;
    v->regs.rdx = val >> 32;
    vcpu_skip_instruction(v);
    return VCPU_RESUME;
}

enum vcpu_action exit_wrmsr(struct vcpu *v)
{
    uint32_t msr = (uint32_t)v->regs.rcx;
    uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
    bool gp = false;
    switch (msr) {
    case MSR_IA32_EFER:
        if ((val & ~EFER_WRITABLE) || (((val ^ v->efer) & EFER_LME) && (v->cr0 & CR0_PG))) {
            gp = true;
            break;
        }
        v->cr0 = (vmread(VMCS_GUEST_CR0) & ~CR0_HOST_OWNED) | (v->cr0 & CR0_HOST_OWNED);
        v->efer = (val & ~EFER_LMA) | (v->efer & EFER_LMA);
        mmu_update_mode(v);
        break;
    case MSR_TSC:
        v->tsc_offset = val - rdtsc();
        vmwrite(VMCS_TSC_OFFSET, v->tsc_offset);
        break;
    case MSR_SYSENTER_CS: vmwrite(VMCS_GUEST_SYSENTER_CS, val); break;
    case MSR_SYSENTER_ESP: vmwrite(VMCS_GUEST_SYSENTER_ESP, val); break;
    case MSR_SYSENTER_EIP: vmwrite(VMCS_GUEST_SYSENTER_EIP, val); break;
    case MSR_FS_BASE:
    case MSR_GS_BASE:
        if (!canonical(val))
            gp = true;
        else
            vmwrite(msr == MSR_FS_BASE ? VMCS_GUEST_FS_BASE : VMCS_GUEST_GS_BASE, val);
        break;
    case MSR_PAT:
        if (!pat_valid(val))
            gp = true;
        else
            v->msr.pat = val;
        break;
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_KERNEL_GS_BASE:
        if (!canonical(val)) {
            gp = true;
            break;
        }
        /* fall through */
    case MSR_STAR:
    case MSR_FMASK:
    case MSR_TSC_AUX:
        /* The upper halves of FMASK and TSC_AUX are reserved: the real WRMSR would #GP in
         * the VMM, so the guest gets the #GP. */
        if ((msr == MSR_TSC_AUX || msr == MSR_FMASK) && (val >> 32)) {
            gp = true;
            break;
        }
        *plain_slot(v, msr) = val;
        wrmsr(msr, val);            /* used by SYSCALL/SWAPGS/RDTSCP in the guest directly */
        break;
    case MSR_IA32_FEATURE_CONTROL:
    case MSR_MTRRCAP:
        gp = true;                  /* read-only */
        break;
    case MSR_BIOS_SIGN_ID:
    case MSR_MCG_STATUS:
        break;                      /* accepted and ignored, as microcode loaders expect */
    case MSR_IA32_APIC_BASE:
        gp = !pc_set_apic_base(&v->vm->plat, val, mmu_maxphyaddr());
        break;
    case MSR_IA32_TSC_DEADLINE:
        pc_tsc_deadline_write(&v->vm->plat, val, rdtsc() + v->tsc_offset);
        break;
    default: {
        if (msr >= MSR_X2APIC_BASE && msr <= X2APIC_MSR_LAST) {
            gp = !pc_x2apic_write(&v->vm->plat, msr, val);
            break;
        }
        uint64_t *slot = plain_slot(v, msr);
        if (!slot)
            return unknown_msr(v, msr);
        *slot = val;
        break;
    }
    }
    if (gp) {
        vcpu_inject_gp0(v);
        return VCPU_RESUME;
    }
    vcpu_skip_instruction(v);
    return VCPU_RESUME;
}

void vcpu_save_msrs(struct vcpu *v)
{
    v->msr.kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);     /* SWAPGS changes it without an exit */
}

void vcpu_load_msrs(const struct vcpu *v)
{
    wrmsr(MSR_STAR, v->msr.star);
    wrmsr(MSR_LSTAR, v->msr.lstar);
    wrmsr(MSR_CSTAR, v->msr.cstar);
    wrmsr(MSR_FMASK, v->msr.fmask);
    wrmsr(MSR_KERNEL_GS_BASE, v->msr.kernel_gs_base);
    if ((vmread(VMCS_PROC_CTLS) & PROC_SECONDARY_CONTROLS) && (vmread(VMCS_PROC_CTLS2) & PROC2_ENABLE_RDTSCP))
        wrmsr(MSR_TSC_AUX, v->msr.tsc_aux);
}
