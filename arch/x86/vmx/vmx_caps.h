/* VMX capabilities as the capability MSRs report them (Intel SDM vol. 3, appendix A). */
#ifndef MV_VMX_CAPS_H
#define MV_VMX_CAPS_H
#include "compiler.h"

#define FEATURE_CONTROL_LOCK            BIT(0)
#define FEATURE_CONTROL_VMX_IN_SMX      BIT(1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX BIT(2)

#define VMX_BASIC_REVISION_MASK     0x7FFFFFFFull
#define VMX_BASIC_SIZE_SHIFT        32
#define VMX_BASIC_SIZE_MASK         0x1FFFull
#define VMX_BASIC_MEMTYPE_SHIFT     50
#define VMX_BASIC_MEMTYPE_MASK      0xFull
#define VMX_BASIC_INS_OUTS_INFO     BIT(54)
#define VMX_BASIC_TRUE_CTLS         BIT(55)

#define PIN_PREEMPTION_TIMER        BIT(6)
#define PROC_SECONDARY_CONTROLS     BIT(31)
#define PROC2_ENABLE_EPT            BIT(1)
#define PROC2_ENABLE_VPID           BIT(5)
#define PROC2_UNRESTRICTED_GUEST    BIT(7)
#define VMX_MISC_PREEMPT_RATE_MASK  0x1Full

/* An allowed-0/allowed-1 pair: a bit set in allowed0 must be 1, a bit clear in allowed1
 * must be 0. */
struct vmx_ctl_caps {
    uint32_t allowed0, allowed1;
};

struct vmx_caps {
    bool vmx;                       /* CPUID.1:ECX.VMX */
    bool has_feature_control;
    uint64_t feature_control;
    uint64_t basic;
    uint32_t revision, vmcs_size;
    bool true_ctls;
    struct vmx_ctl_caps pin, proc, proc2, exit, entry;
    uint64_t misc, ept_vpid_cap;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    bool ept, vpid, unrestricted_guest, preemption_timer;
    unsigned preemption_timer_rate;  /* timer ticks every 2^rate TSC cycles */
    const char *error;              /* a capability MSR that could not be read */
};

/* Reads an MSR; false if it does not exist (#GP). */
typedef bool (*msr_read_fn)(void *ctx, uint32_t msr, uint64_t *val);

/* Fills caps from CPUID.1:ECX and the MSRs, reading only MSRs that the earlier ones say
 * exist. Pure: the MSR reader is a parameter. */
void vmx_caps_read(struct vmx_caps *c, uint32_t cpuid1_ecx, msr_read_fn rd, void *ctx);

/* (wanted | must-be-1) & may-be-1: the value to program into a VMX control. */
static inline uint32_t vmx_ctl_adjust(const struct vmx_ctl_caps *cap, uint32_t wanted)
{
    return (wanted | cap->allowed0) & cap->allowed1;
}

extern struct vmx_caps host_vmx_caps;
void vmx_caps_init(void);
#endif
