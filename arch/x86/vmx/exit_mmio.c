/* Trapped MMIO: a shadow fault on a guest-physical page a device claims. The instruction at
 * RIP is fetched through the guest's page tables, decoded, and emulated once; each of its
 * memory accesses goes through mmu_read_gva/mmu_write_gva, which route every page to RAM or
 * to the device that claims it, at the width the guest used. A REP string moves at most
 * MMIO_REP_BATCH elements per exit, then resumes where it stands, like string I/O. */
#include "exit.h"
#include "vmx.h"
#include "mmu.h"
#include "vm/vm.h"
#include "arch/x86/cpu.h"
#include "arch/x86/insn_decode.h"
#include "arch/x86/insn_emulate.h"
#include "lib.h"
#include "layout.h"

#define MMIO_REP_BATCH  1024
#define SEG_COUNT       6
#define SEG_CS          1
#define INSN_FETCH_MAX  15

static bool env_read(void *ctx, uint64_t linear, void *buf, unsigned size)
{
    return mmu_read_gva(ctx, linear, buf, size);
}

static bool env_write(void *ctx, uint64_t linear, const void *buf, unsigned size)
{
    return mmu_write_gva(ctx, linear, buf, size);
}

static enum insn_mode code_mode(struct vcpu *v)
{
    uint64_t ar = vmread(VMCS_GUEST_CS_AR);
    if ((v->efer & EFER_LMA) && (ar & AR_L))
        return INSN_MODE_64;
    return (ar & AR_DB) ? INSN_MODE_32 : INSN_MODE_16;
}

/* The instruction bytes: those up to the end of RIP's page first, the rest only if the
 * decoder needs them (a fetch from the next page may fault, as the CPU's would). */
static int fetch_decode(struct vcpu *v, uint64_t linear, enum insn_mode mode, uint8_t *code, struct insn *in)
{
    size_t first = MIN((size_t)INSN_FETCH_MAX, PAGE_SIZE - (linear & (PAGE_SIZE - 1)));
    if (!mmu_read_gva(v, linear, code, first))
        return 0;
    int r = insn_decode(code, first, mode, in);
    if (r != INSN_ETRUNC || first == INSN_FETCH_MAX)
        return r;
    if (!mmu_read_gva(v, linear + first, code + first, INSN_FETCH_MAX - first))
        return 0;
    return insn_decode(code, INSN_FETCH_MAX, mode, in);
}

enum vcpu_action exit_mmio(struct vcpu *v, uint64_t gva, uint64_t gpa)
{
    /* The CPU itself touched the region while delivering an event (an IDT, GDT or stack in
     * MMIO): there is no instruction to emulate. */
    if (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID)
        return vcpu_fail(v, "event delivery touched MMIO at guest-physical %#llx", (unsigned long long)gpa);
    struct insn_env env = { .read = env_read, .write = env_write, .ctx = v };
    for (unsigned i = 0; i < 16; i++)
        env.gpr[i] = vcpu_gpr(v, i);
    env.rip = vmread(VMCS_GUEST_RIP);
    env.rflags = vmread(VMCS_GUEST_RFLAGS);
    for (unsigned s = 0; s < SEG_COUNT; s++)
        env.seg_base[s] = vmread(VMCS_GUEST_ES_BASE + 2 * s);
    enum insn_mode mode = code_mode(v);
    if (mode == INSN_MODE_64)
        env.seg_base[0] = env.seg_base[1] = env.seg_base[2] = env.seg_base[3] = 0;

    uint8_t code[INSN_FETCH_MAX] = { 0 };
    struct insn in;
    uint64_t fetch_at = mode == INSN_MODE_64 ? env.rip : (env.seg_base[SEG_CS] + env.rip) & 0xFFFFFFFFu;
    int len = fetch_decode(v, fetch_at, mode, code, &in);
    if (len == 0)
        return v->vm->state == VM_RUNNING ? VCPU_RESUME : VCPU_STOP;  /* #PF queued, or stopped */
    if (len < 0)
        return vcpu_fail(v, "MMIO access at guest-physical %#llx by an instruction monovisor cannot emulate "
                         "(%s): %02x %02x %02x %02x %02x %02x %02x %02x", (unsigned long long)gpa,
                         len == INSN_ETRUNC ? "truncated" : len == INSN_EINVAL ? "invalid" : "unsupported",
                         code[0], code[1], code[2], code[3], code[4], code[5], code[6], code[7]);
    v->mmio_exits++;
    /* Traced as an MMIO exit at the register's guest-physical address (the #PF's linear
     * address says nothing about which device register it was). */
    v->tr.exit.flags |= TRACE_F_MMIO;
    v->tr.exit.event = TRACE_EV_MMIO;
    v->tr.exit.qual = gpa;
    enum insn_result r = insn_emulate(&in, &env, MMIO_REP_BATCH);
    if (v->vm->state != VM_RUNNING)
        return VCPU_STOP;
    for (unsigned i = 0; i < 16; i++)
        vcpu_set_gpr(v, i, env.gpr[i]);
    vmwrite(VMCS_GUEST_RFLAGS, env.rflags);
    if (r == INSN_DONE) {
        vmwrite(VMCS_GUEST_RIP, mode == INSN_MODE_64 ? env.rip : env.rip & 0xFFFFFFFFu);
        uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
        if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
            vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
    }
    return VCPU_RESUME;
}
