#include "entry_check.h"
#include "vcpu.h"
#include "vmx.h"
#include "vmx_caps.h"
#include "arch/x86/cpu.h"
#include "lib.h"

#define RFLAGS_FIXED1       BIT(1)
#define RFLAGS_RESERVED0    (0xFFFFFFFFFFC00000ull | BIT(15) | BIT(5) | BIT(3))
#define AR_TYPE_ACCESSED    1u
#define AR_TYPE_CODE        8u
#define AR_TYPE_TSS16_BUSY  3u
#define LIMIT_LOW_BITS      0xFFFu
#define LIMIT_HIGH_BITS     0xFFF00000u
#define ACTIVITY_MAX        3u

static const char *const seg_names[] = { "ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR" };

#define BAD(...) do { ksnprintf(out, len, __VA_ARGS__); return; } while (0)

void entry_check_explain(struct vcpu *v, char *out, size_t len)
{
    const struct vmx_caps *c = &host_vmx_caps;
    uint64_t cr0 = vmread(VMCS_GUEST_CR0), cr4 = vmread(VMCS_GUEST_CR4);
    uint64_t efer = vmread(VMCS_GUEST_IA32_EFER), entry = vmread(VMCS_ENTRY_CTLS);
    bool ia32e = entry & ENTRY_IA32E_MODE_GUEST;
    bool ug = (vmread(VMCS_PROC_CTLS) & PROC_SECONDARY_CONTROLS) &&
              (vmread(VMCS_PROC_CTLS2) & PROC2_UNRESTRICTED_GUEST);
    uint64_t fixed0 = c->cr0_fixed0 & (ug ? ~(uint64_t)(CR0_PE | CR0_PG) : UINT64_MAX);

    if ((cr0 & fixed0) != fixed0 || (cr0 & ~c->cr0_fixed1))
        BAD("guest CR0 %#llx violates IA32_VMX_CR0_FIXED0/1", (unsigned long long)cr0);
    if ((cr4 & c->cr4_fixed0) != c->cr4_fixed0 || (cr4 & ~c->cr4_fixed1))
        BAD("guest CR4 %#llx violates IA32_VMX_CR4_FIXED0/1", (unsigned long long)cr4);
    if ((cr0 & CR0_PG) && !(cr0 & CR0_PE))
        BAD("guest CR0.PG set without CR0.PE");
    if (ia32e && (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE)))
        BAD("IA-32e mode guest without CR0.PG and CR4.PAE");
    if ((entry & ENTRY_LOAD_EFER) && (!!(efer & EFER_LMA) != ia32e || ((cr0 & CR0_PG) && !!(efer & EFER_LME) != ia32e)))
        BAD("guest EFER %#llx LMA/LME disagree with the IA-32e mode control", (unsigned long long)efer);

    uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);
    if (!(rflags & RFLAGS_FIXED1) || (rflags & RFLAGS_RESERVED0))
        BAD("guest RFLAGS %#llx has reserved bits wrong", (unsigned long long)rflags);

    for (unsigned i = 0; i < 8; i++) {
        uint32_t ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + 2 * i);
        uint32_t lim = (uint32_t)vmread(VMCS_GUEST_ES_LIMIT + 2 * i);
        if (ar & AR_UNUSABLE)
            continue;
        if ((lim & LIMIT_LOW_BITS) != LIMIT_LOW_BITS && (ar & AR_G))
            BAD("%s: limit %#x with G=1 needs bits 11:0 set", seg_names[i], lim);
        if ((lim & LIMIT_HIGH_BITS) && !(ar & AR_G))
            BAD("%s: limit %#x above 1 MiB needs G=1", seg_names[i], lim);
        if (!(ar & AR_P))
            BAD("%s: usable but not present (AR %#x)", seg_names[i], ar);
    }
    uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);
    if (!(cs_ar & AR_S) || !(cs_ar & AR_TYPE_CODE) || !(cs_ar & AR_TYPE_ACCESSED))
        BAD("CS access rights %#x are not an accessed code segment", cs_ar);
    if (ia32e && (cs_ar & AR_L) && (cs_ar & AR_DB))
        BAD("CS has both L and D/B set");
    uint32_t tr_ar = (uint32_t)vmread(VMCS_GUEST_TR_AR);
    uint32_t tr_type = tr_ar & AR_TYPE_MASK;
    if ((tr_ar & AR_UNUSABLE) || (tr_ar & AR_S) ||
        (tr_type != AR_TYPE_TSS32_BUSY && (ia32e || tr_type != AR_TYPE_TSS16_BUSY)))
        BAD("TR access rights %#x are not a busy TSS", tr_ar);
    uint32_t ldtr_ar = (uint32_t)vmread(VMCS_GUEST_LDTR_AR);
    if (!(ldtr_ar & AR_UNUSABLE) && ((ldtr_ar & AR_TYPE_MASK) != AR_TYPE_LDT || (ldtr_ar & AR_S)))
        BAD("LDTR access rights %#x are not an LDT", ldtr_ar);

    uint64_t act = vmread(VMCS_GUEST_ACTIVITY_STATE), intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (act > ACTIVITY_MAX)
        BAD("activity state %llu invalid", (unsigned long long)act);
    if ((intr & INTERRUPTIBILITY_STI) && (intr & INTERRUPTIBILITY_MOV_SS))
        BAD("blocking by both STI and MOV SS");
    if ((intr & INTERRUPTIBILITY_STI) && !(rflags & RFLAGS_IF))
        BAD("blocking by STI with RFLAGS.IF=0");
    if (vmread(VMCS_LINK_POINTER) != UINT64_MAX)
        BAD("VMCS link pointer is not all-ones");
    ksnprintf(out, len, "no check of monovisor's partial list (SDM 27.3.1) failed");
}
