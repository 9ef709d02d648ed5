/* MOV to/from CR0, CR3, CR4, CR8, CLTS, LMSW, and MOV to/from debug registers. */
#include "exit.h"
#include "vmx.h"
#include "mmu.h"
#include "vm/vm.h"
#include "arch/x86/cpu.h"
#include "arch/x86/exception.h"
#include "lib.h"

#define CR0_VALID   (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
                     CR0_NW | CR0_CD | CR0_PG)
#define LMSW_BITS   (CR0_PE | CR0_MP | CR0_EM | CR0_TS)
#define CR3_LEGACY_MASK 0xFFFFFFFFull
#define CR8_TPR_MASK    0xFull

/* Bits of CR0 the guest may change without an exit: the real register holds them. */
static uint64_t guest_cr0(struct vcpu *v)
{
    return (vmread(VMCS_GUEST_CR0) & ~CR0_HOST_OWNED) | (v->cr0 & CR0_HOST_OWNED);
}

/* Returns false after injecting #GP for a value the architecture refuses. */
static bool set_cr0(struct vcpu *v, uint64_t val)
{
    uint64_t old = guest_cr0(v);
    if ((val >> 32) || (val & ~CR0_VALID) || ((val & CR0_PG) && !(val & CR0_PE)) ||
        ((val & CR0_NW) && !(val & CR0_CD)) ||
        ((val & CR0_PG) && !(old & CR0_PG) && (v->efer & EFER_LME) && !(v->cr4 & CR4_PAE))) {
        vcpu_inject_gp0(v);
        return false;
    }
    if (!(val & CR0_PE)) {
        vcpu_fail(v, "guest entered real mode (CR0.PE=0): not supported yet with shadow paging");
        return false;
    }
    v->cr0 = val | CR0_ET;                  /* ET is hardwired to 1 */
    mmu_update_mode(v);
    return true;
}

static bool set_cr4(struct vcpu *v, uint64_t val)
{
    /* PCIDE may only be turned on in long mode with PCID 0 current (SDM 4.10.1). */
    bool pcide_on = (val & CR4_PCIDE) && !(v->cr4 & CR4_PCIDE);
    if ((val & ~CR4_GUEST_ALLOWED) || ((v->efer & EFER_LMA) && !(val & CR4_PAE)) ||
        (pcide_on && (!(v->efer & EFER_LMA) || (v->cr3 & CR3_PCID_MASK)))) {
        vcpu_inject_gp0(v);
        return false;
    }
    v->cr0 = guest_cr0(v);
    v->cr4 = val;
    mmu_update_mode(v);
    return true;
}

enum vcpu_action exit_cr_access(struct vcpu *v)
{
    uint64_t q = v->exit_qual;
    unsigned cr = q & CRQ_CR_MASK, type = (q >> CRQ_TYPE_SHIFT) & CRQ_TYPE_MASK;
    unsigned gpr = (q >> CRQ_GPR_SHIFT) & CRQ_GPR_MASK;
    bool ok = true;
    switch (type) {
    case CRQ_TYPE_MOV_TO_CR: {
        uint64_t val = vcpu_gpr(v, gpr);
        if (!(v->efer & EFER_LMA))
            val &= CR3_LEGACY_MASK;
        if (cr == 0)
            ok = set_cr0(v, val);
        else if (cr == 3)
            ok = mmu_set_cr3(v, val);
        else if (cr == 4)
            ok = set_cr4(v, val);
        else if (cr == 8) {
            if (val & ~CR8_TPR_MASK) {          /* bits 63:4 are reserved */
                vcpu_inject_gp0(v);
                return VCPU_RESUME;
            }
            pc_set_cr8(&v->vm->plat, (uint8_t)val);
        } else
            return vcpu_fail(v, "MOV to CR%u exit", cr);
        break;
    }
    case CRQ_TYPE_MOV_FROM_CR:
        if (cr == 3)
            vcpu_set_gpr(v, gpr, v->cr3);
        else if (cr == 8)
            vcpu_set_gpr(v, gpr, pc_cr8(&v->vm->plat));
        else
            return vcpu_fail(v, "MOV from CR%u exit", cr);
        break;
    case CRQ_TYPE_CLTS:
        vmwrite(VMCS_GUEST_CR0, vmread(VMCS_GUEST_CR0) & ~CR0_TS);
        v->cr0 &= ~CR0_TS;
        vmwrite(VMCS_CR0_READ_SHADOW, v->cr0);
        break;
    case CRQ_TYPE_LMSW: {
        uint64_t src = (q >> CRQ_LMSW_SRC_SHIFT) & LMSW_BITS;
        uint64_t cur = guest_cr0(v);
        ok = set_cr0(v, (cur & ~(LMSW_BITS & ~CR0_PE)) | src | (cur & CR0_PE));  /* LMSW cannot clear PE */
        break;
    }
    }
    if (v->vm->state != VM_RUNNING)
        return VCPU_STOP;
    if (ok)
        vcpu_skip_instruction(v);
    return VCPU_RESUME;
}

#define DR6_RESERVED_HIGH   0xFFFFFFFF00000000ull
#define DR7_RESERVED_HIGH   0xFFFFFFFF00000000ull

static void write_real_dr(unsigned n, uint64_t val)
{
    /* The VMM never uses the debug registers: the guest's values can live in them directly. */
    switch (n) {
    case 0: __asm__ volatile("mov %0, %%dr0" :: "r"(val)); break;
    case 1: __asm__ volatile("mov %0, %%dr1" :: "r"(val)); break;
    case 2: __asm__ volatile("mov %0, %%dr2" :: "r"(val)); break;
    case 3: __asm__ volatile("mov %0, %%dr3" :: "r"(val)); break;
    }
}

void vcpu_load_debug_regs(const struct vcpu *v)
{
    for (unsigned i = 0; i < 4; i++)
        write_real_dr(i, v->dr[i]);
}

enum vcpu_action exit_dr_access(struct vcpu *v)
{
    uint64_t q = v->exit_qual;
    unsigned dr = q & DRQ_DR_MASK, gpr = (q >> DRQ_GPR_SHIFT) & CRQ_GPR_MASK;
    if (dr == 4 || dr == 5) {
        if (v->cr4 & CR4_DE) {
            vcpu_inject_ud(v);
            return VCPU_RESUME;
        }
        dr += 2;                            /* DR4/DR5 alias DR6/DR7 when CR4.DE=0 */
    }
    if (vcpu_cpl() != 0) {
        vcpu_inject_gp0(v);
        return VCPU_RESUME;
    }
    if (q & DRQ_FROM_DR) {
        uint64_t val = dr < 4 ? v->dr[dr] : dr == 6 ? v->dr6 : vmread(VMCS_GUEST_DR7);
        vcpu_set_gpr(v, gpr, val);
    } else {
        uint64_t val = vcpu_gpr(v, gpr);
        if (dr < 4) {
            v->dr[dr] = val;
            write_real_dr(dr, val);
        } else if ((val & (dr == 6 ? DR6_RESERVED_HIGH : DR7_RESERVED_HIGH)) && (v->efer & EFER_LMA)) {
            vcpu_inject_gp0(v);
            return VCPU_RESUME;
        } else if (dr == 6) {
            v->dr6 = val;
        } else {
            vmwrite(VMCS_GUEST_DR7, val);
        }
    }
    vcpu_skip_instruction(v);
    return VCPU_RESUME;
}
