/* Entering VMX root operation as the SDM prescribes (vol. 3, 24.7-24.8): IA32_FEATURE_CONTROL
 * must allow VMX outside SMX (we set and lock it if firmware left it unlocked), CR0 and CR4
 * must satisfy the FIXED0/FIXED1 MSRs, then VMXON on a region tagged with the VMCS revision. */
#include "vmx.h"
#include "vmx_caps.h"
#include "arch/x86/cpu.h"
#include "mm/memory.h"
#include "layout.h"
#include "lib.h"

static bool vmx_on;
static uint64_t vmxon_region;

bool vmx_enabled(void) { return vmx_on; }

uint64_t vmx_alloc_vmcs_page(void)
{
    uint64_t pa = pmm_alloc(&host_pmm);
    if (!pa)
        return 0;
    uint32_t *p = phys_to_virt(pa);
    memset(p, 0, PAGE_SIZE);
    p[0] = host_vmx_caps.revision;
    return pa;
}

const char *vmx_enable(void)
{
    const struct vmx_caps *c = &host_vmx_caps;
    if (vmx_on)
        return NULL;
    if (!c->vmx)
        return "this CPU has no VMX (CPUID.1:ECX.VMX=0)";
    if (c->error)
        return c->error;
    if (c->vmcs_size > PAGE_SIZE)
        return "VMCS larger than a page";

    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK)) {
        fc |= FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
        wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
    }
    if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
        return "firmware locked IA32_FEATURE_CONTROL with VMX disabled (enable VT-x in setup)";

    uint64_t cr0 = (read_cr0() | c->cr0_fixed0) & c->cr0_fixed1;
    /* OSFXSR: FXSAVE/FXRSTOR then cover the guests' SSE registers when vCPUs switch. */
    uint64_t cr4 = (read_cr4() | c->cr4_fixed0 | CR4_VMXE | CR4_OSFXSR | CR4_OSXMMEXCPT) & c->cr4_fixed1;
    write_cr0(cr0);
    write_cr4(cr4);

    vmxon_region = vmx_alloc_vmcs_page();
    if (!vmxon_region)
        return "out of memory for the VMXON region";
    bool fail;
    __asm__ volatile("vmxon %1; setna %0" : "=qm"(fail) : "m"(vmxon_region) : "cc", "memory");
    if (fail)
        return "VMXON failed";
    vmx_on = true;
    return NULL;
}
