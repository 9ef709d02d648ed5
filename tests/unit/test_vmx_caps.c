/* VMX capability decoding against MSR values of real CPU models. */
#include "test.h"
#include "arch/x86/cpu.h"
#include "arch/x86/vmx/vmx_caps.h"

struct msr { uint32_t idx; uint64_t val; };
static const struct msr *msrs;
static size_t nmsrs;
static int reads_of_absent;

static bool rd(void *ctx, uint32_t idx, uint64_t *v)
{
    (void)ctx;
    for (size_t i = 0; i < nmsrs; i++)
        if (msrs[i].idx == idx) { *v = msrs[i].val; return true; }
    reads_of_absent++;
    return false;
}

/* A Skylake-like set: TRUE controls, secondary controls with EPT, VPID, UG. */
static const struct msr skylake[] = {
    { MSR_IA32_FEATURE_CONTROL, 0x5 },
    { MSR_IA32_VMX_BASIC, 0x00da040000000004ull },
    { MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0x0000007f00000016ull },
    { MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0xfff9fffe04006172ull },
    { MSR_IA32_VMX_TRUE_EXIT_CTLS, 0x01ffffff00036dfbull },
    { MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0x0003ffff000011fbull },
    { MSR_IA32_VMX_PINBASED_CTLS, 0x0000007f00000016ull },
    { MSR_IA32_VMX_PROCBASED_CTLS, 0xfff9fffe0401e172ull },
    { MSR_IA32_VMX_MISC, 0x000000007004c1e7ull },
    { MSR_IA32_VMX_CR0_FIXED0, 0x80000021 }, { MSR_IA32_VMX_CR0_FIXED1, 0xffffffff },
    { MSR_IA32_VMX_CR4_FIXED0, 0x2000 }, { MSR_IA32_VMX_CR4_FIXED1, 0x3727ff },
    { MSR_IA32_VMX_PROCBASED_CTLS2, 0x00553cfe00000000ull },
    { MSR_IA32_VMX_EPT_VPID_CAP, 0x00000f0106734141ull },
};

TEST(skylake_like)
{
    struct vmx_caps c;
    msrs = skylake;
    nmsrs = sizeof(skylake) / sizeof(skylake[0]);
    vmx_caps_read(&c, CPUID1_ECX_VMX, rd, NULL);
    CHECK(c.vmx && !c.error);
    CHECK_EQ(c.revision, 4);
    CHECK_EQ(c.vmcs_size, 0x400);
    CHECK(c.true_ctls);
    CHECK_EQ(c.proc.allowed0, 0x04006172);          /* the TRUE MSR, not the legacy one */
    CHECK(c.ept && c.vpid && c.unrestricted_guest && c.preemption_timer);
    CHECK_EQ(c.preemption_timer_rate, 7);
    CHECK_EQ(c.feature_control, 5);
    /* Control adjustment: must-be-1 bits forced on, may-be-0-only bits forced off. */
    CHECK_EQ(vmx_ctl_adjust(&c.pin, 0), 0x16);
    CHECK_EQ(vmx_ctl_adjust(&c.pin, 0xffffffff), 0x7f);
}

TEST(no_secondary_controls_means_no_ept_and_no_proc2_read)
{
    struct msr m[sizeof(skylake) / sizeof(skylake[0])];
    memcpy(m, skylake, sizeof(m));
    m[3].val &= ~(PROC_SECONDARY_CONTROLS << 32);   /* TRUE_PROCBASED allowed-1 bit 31 */
    msrs = m;
    nmsrs = sizeof(m) / sizeof(m[0]) - 2;            /* proc2 and EPT cap MSRs absent */
    reads_of_absent = 0;
    struct vmx_caps c;
    vmx_caps_read(&c, CPUID1_ECX_VMX, rd, NULL);
    CHECK(!c.error);
    CHECK(!c.ept && !c.vpid && !c.unrestricted_guest);
    CHECK_EQ(reads_of_absent, 0);                    /* never probed what cannot exist */
}

TEST(no_vmx_reads_no_vmx_msrs)
{
    msrs = skylake;
    nmsrs = 0;
    reads_of_absent = 0;
    struct vmx_caps c;
    vmx_caps_read(&c, 0, rd, NULL);
    CHECK(!c.vmx && !c.has_feature_control);
    CHECK_EQ(reads_of_absent, 0);
}

TEST(legacy_ctls_without_true_bit)
{
    struct msr m[sizeof(skylake) / sizeof(skylake[0])];
    memcpy(m, skylake, sizeof(m));
    m[1].val &= ~VMX_BASIC_TRUE_CTLS;
    msrs = m;
    nmsrs = sizeof(m) / sizeof(m[0]);
    struct vmx_caps c;
    vmx_caps_read(&c, CPUID1_ECX_VMX, rd, NULL);
    CHECK(!c.true_ctls);
    CHECK_EQ(c.proc.allowed0, 0x0401e172);           /* legacy MSR used */
}

TEST(missing_mandatory_msr_is_an_error)
{
    msrs = skylake;
    nmsrs = 2;                                       /* only FEATURE_CONTROL and BASIC */
    struct vmx_caps c;
    vmx_caps_read(&c, CPUID1_ECX_VMX, rd, NULL);
    CHECK(c.error != NULL);
}
