#include "vmx_caps.h"
#include "arch/x86/cpu.h"
#include "lib.h"

static bool read_ctl(struct vmx_caps *c, msr_read_fn rd, void *ctx, uint32_t msr,
                     struct vmx_ctl_caps *out)
{
    uint64_t v;
    if (!rd(ctx, msr, &v)) {
        c->error = "a VMX control capability MSR is missing";
        return false;
    }
    out->allowed0 = (uint32_t)v;
    out->allowed1 = (uint32_t)(v >> 32);
    return true;
}

void vmx_caps_read(struct vmx_caps *c, uint32_t cpuid1_ecx, msr_read_fn rd, void *ctx)
{
    memset(c, 0, sizeof(*c));
    c->vmx = cpuid1_ecx & CPUID1_ECX_VMX;
    /* IA32_FEATURE_CONTROL exists when VMX or SMX is enumerated. */
    if (cpuid1_ecx & (CPUID1_ECX_VMX | CPUID1_ECX_SMX))
        c->has_feature_control = rd(ctx, MSR_IA32_FEATURE_CONTROL, &c->feature_control);
    if (!c->vmx)
        return;
    if (!rd(ctx, MSR_IA32_VMX_BASIC, &c->basic)) {
        c->error = "IA32_VMX_BASIC is missing";
        return;
    }
    c->revision = (uint32_t)(c->basic & VMX_BASIC_REVISION_MASK);
    c->vmcs_size = (uint32_t)((c->basic >> VMX_BASIC_SIZE_SHIFT) & VMX_BASIC_SIZE_MASK);
    c->true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;

    /* With TRUE_* MSRs, they (not the legacy ones) give the real allowed-0 settings. */
    bool t = c->true_ctls;
    if (!read_ctl(c, rd, ctx, t ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS, &c->pin) ||
        !read_ctl(c, rd, ctx, t ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS, &c->proc) ||
        !read_ctl(c, rd, ctx, t ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS, &c->exit) ||
        !read_ctl(c, rd, ctx, t ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS, &c->entry))
        return;
    if (!rd(ctx, MSR_IA32_VMX_MISC, &c->misc) ||
        !rd(ctx, MSR_IA32_VMX_CR0_FIXED0, &c->cr0_fixed0) ||
        !rd(ctx, MSR_IA32_VMX_CR0_FIXED1, &c->cr0_fixed1) ||
        !rd(ctx, MSR_IA32_VMX_CR4_FIXED0, &c->cr4_fixed0) ||
        !rd(ctx, MSR_IA32_VMX_CR4_FIXED1, &c->cr4_fixed1)) {
        c->error = "a VMX misc/fixed-bit MSR is missing";
        return;
    }
    c->preemption_timer = c->pin.allowed1 & PIN_PREEMPTION_TIMER;
    c->preemption_timer_rate = (unsigned)(c->misc & VMX_MISC_PREEMPT_RATE_MASK);

    /* The secondary controls MSR exists only if the control that enables them may be 1. */
    if (c->proc.allowed1 & PROC_SECONDARY_CONTROLS) {
        if (!read_ctl(c, rd, ctx, MSR_IA32_VMX_PROCBASED_CTLS2, &c->proc2))
            return;
        c->ept = c->proc2.allowed1 & PROC2_ENABLE_EPT;
        c->vpid = c->proc2.allowed1 & PROC2_ENABLE_VPID;
        c->unrestricted_guest = c->proc2.allowed1 & PROC2_UNRESTRICTED_GUEST;
        if ((c->ept || c->vpid) && !rd(ctx, MSR_IA32_VMX_EPT_VPID_CAP, &c->ept_vpid_cap))
            c->error = "IA32_VMX_EPT_VPID_CAP is missing";
    }
}

#ifndef MONOVISOR_HOST_TEST
struct vmx_caps host_vmx_caps;

static bool host_rdmsr(void *ctx, uint32_t msr, uint64_t *val)
{
    (void)ctx;
    return rdmsr_safe(msr, val);
}

void vmx_caps_init(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    vmx_caps_read(&host_vmx_caps, c, host_rdmsr, NULL);
}
#endif
