#include "exit.h"
#include "vmx.h"
#include "mmu.h"
#include "entry_check.h"
#include "vm/vm.h"
#include "sched/sched.h"
#include "arch/x86/cpu.h"
#include "arch/x86/exception.h"
#include "lib.h"

STATIC_ASSERT(EXIT_REASON_MAX <= TRACE_REASONS, "every exit reason has its own aggregate");

void exit_trace_begin(struct vcpu *v)
{
    unsigned reason = v->exit_reason & EXIT_REASON_BASIC_MASK;
    uint64_t q = v->exit_qual;
    struct trace_exit e = { .event = TRACE_EV_EXIT, .reason = (uint16_t)reason, .qual = q,
                            .tsc = v->regs.exit_tsc };
    switch (reason) {
    case EXIT_REASON_IO:
        e.event = TRACE_EV_IO;
        e.info = (uint32_t)(q >> IOQ_PORT_SHIFT) & 0xFFFF;
        e.flags = (uint16_t)(((q & IOQ_IN) ? TRACE_F_IN : 0) | ((q & IOQ_STRING) ? TRACE_F_STRING : 0) |
                             ((q & IOQ_REP) ? TRACE_F_REP : 0) |
                             (((q & IOQ_SIZE_MASK) + 1) << TRACE_F_SIZE_SHIFT));
        break;
    case EXIT_REASON_RDMSR:
    case EXIT_REASON_WRMSR:
        e.event = TRACE_EV_MSR;
        e.info = (uint32_t)v->regs.rcx;
        e.flags = reason == EXIT_REASON_RDMSR ? TRACE_F_IN : 0;
        break;
    case EXIT_REASON_CR_ACCESS:
        e.event = TRACE_EV_CR;
        e.info = q & CRQ_CR_MASK;
        e.flags = (uint16_t)((q >> CRQ_TYPE_SHIFT) & CRQ_TYPE_MASK);
        break;
    case EXIT_REASON_EXCEPTION_NMI:
        if ((vmread(VMCS_EXIT_INTR_INFO) & INTR_INFO_VECTOR_MASK) == EXC_PF)
            e.event = TRACE_EV_PF;
        break;
    default:
        break;
    }
    trace_exit_begin(&v->tr, &e);
}

static enum vcpu_action exit_exception(struct vcpu *v)
{
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
    uint8_t vector = info & INTR_INFO_VECTOR_MASK;
    uint8_t type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
    if (type == INTR_TYPE_NMI) {
        /* A host NMI arrived while the guest ran: nothing in the VMM sends NMIs yet. */
        kprintf("monovisor: NMI during guest execution (ignored)\n");
        return VCPU_RESUME;
    }
    if (vector == EXC_PF)
        return mmu_page_fault(v, v->exit_qual, (uint32_t)vmread(VMCS_EXIT_INTR_ERROR));
    return vcpu_fail(v, "unexpected exception %u exit (not in the exception bitmap)", vector);
}

static enum vcpu_action exit_external_interrupt(struct vcpu *v)
{
    /* Acknowledged on exit: the CPU took the vector from the controller, so the host handler
     * runs here (console input, a late one-shot timer). */
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
    if (info & INTR_INFO_VALID)
        irq_dispatch_acked((uint8_t)(info & INTR_INFO_VECTOR_MASK));
    return VCPU_RESUME;
}

static enum vcpu_action exit_triple_fault(struct vcpu *v)
{
    vm_stop(v->vm, VM_FAILED, "triple fault");
    vcpu_dump(v);
    return VCPU_STOP;
}

static enum vcpu_action exit_ignore(struct vcpu *v)
{
    return VCPU_RESUME;                 /* INIT/SIPI on the BSP: no APs to start */
}

static enum vcpu_action exit_interrupt_window(struct vcpu *v)
{
    return VCPU_RESUME;                 /* deliver_events() injects now that the guest can take it */
}

/* Called by the scheduler for a halted vCPU (another VM's VMCS may be current: no VMCS
 * access here). Raising due timer interrupts is part of the check. */
static bool halt_should_end(void *arg)
{
    struct vcpu *v = arg;
    if (v->vm->state != VM_RUNNING)
        return true;
    pc_timers_update(&v->vm->plat);
    return v->pending_irq >= 0 || pc_intr_pending(&v->vm->plat);
}

/* HLT with IF=1: the vCPU thread blocks until an interrupt is deliverable, the next device
 * timer is due, or the VM is stopped; other threads run meanwhile. With IF=0, or when the
 * platform says nothing could ever raise an unmasked interrupt, nothing can wake it: the VM
 * stops as halted. */
static enum vcpu_action exit_hlt(struct vcpu *v)
{
    struct vm *vm = v->vm;
    vcpu_skip_instruction(v);
    if (!(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF)) {
        vm_stop(vm, VM_HALTED, "halted with interrupts disabled: nothing can wake it");
        return VCPU_STOP;
    }
    if (halt_should_end(v))
        return VCPU_RESUME;             /* an interrupt is already deliverable */
    do {
        if (!pc_may_wake(&vm->plat)) {
            vm_stop(vm, VM_HALTED, "halted, waiting for an interrupt that no device will raise");
            return VCPU_STOP;
        }
        sched_block(pc_timer_deadline_host(&vm->plat), halt_should_end, v);
    } while (!halt_should_end(v));
    vcpu_reload(v);
    return vm->state == VM_RUNNING ? VCPU_RESUME : VCPU_STOP;
}

static enum vcpu_action exit_skip(struct vcpu *v)
{
    vcpu_skip_instruction(v);           /* INVD, WBINVD, PAUSE, MONITOR, MWAIT: no effect needed */
    return VCPU_RESUME;
}

static enum vcpu_action exit_invlpg(struct vcpu *v)
{
    mmu_invlpg(v, v->exit_qual);
    vcpu_skip_instruction(v);
    return VCPU_RESUME;
}

static enum vcpu_action exit_rdpmc(struct vcpu *v)
{
    vcpu_inject_gp0(v);                 /* no performance counters are exposed */
    return VCPU_RESUME;
}

static void return_tsc(struct vcpu *v, uint64_t tsc)
{
    v->regs.rax = (uint32_t)tsc;
    v->regs.rdx = tsc >> 32;
}

static enum vcpu_action exit_rdtsc(struct vcpu *v)
{
    return_tsc(v, rdtsc() + v->tsc_offset);
    vcpu_skip_instruction(v);
    return VCPU_RESUME;
}

static enum vcpu_action exit_rdtscp(struct vcpu *v)
{
    return_tsc(v, rdtsc() + v->tsc_offset);
    v->regs.rcx = (uint32_t)v->msr.tsc_aux;
    vcpu_skip_instruction(v);
    return VCPU_RESUME;
}

static enum vcpu_action exit_vmx_instruction(struct vcpu *v)
{
    vcpu_inject_ud(v);                  /* VMX is hidden from guests (no nesting) */
    return VCPU_RESUME;
}

static enum vcpu_action exit_xsetbv(struct vcpu *v)
{
    vcpu_inject_ud(v);                  /* XSAVE is hidden, so CR4.OSXSAVE cannot be set */
    return VCPU_RESUME;
}

static enum vcpu_action exit_preemption_timer(struct vcpu *v)
{
    return VCPU_RESUME;     /* a device timer is due (deliver_events raises it) or the slice ended */
}

static const exit_handler_fn handlers[EXIT_REASON_MAX] = {
    [EXIT_REASON_EXCEPTION_NMI] = exit_exception,
    [EXIT_REASON_EXTERNAL_INTR] = exit_external_interrupt,
    [EXIT_REASON_TRIPLE_FAULT] = exit_triple_fault,
    [EXIT_REASON_INIT] = exit_ignore,
    [EXIT_REASON_SIPI] = exit_ignore,
    [EXIT_REASON_INTR_WINDOW] = exit_interrupt_window,
    [EXIT_REASON_CPUID] = exit_cpuid,
    [EXIT_REASON_GETSEC] = exit_vmx_instruction,
    [EXIT_REASON_HLT] = exit_hlt,
    [EXIT_REASON_INVD] = exit_skip,
    [EXIT_REASON_INVLPG] = exit_invlpg,
    [EXIT_REASON_RDPMC] = exit_rdpmc,
    [EXIT_REASON_RDTSC] = exit_rdtsc,
    [EXIT_REASON_VMCALL] = exit_vmcall,
    [EXIT_REASON_VMCLEAR] = exit_vmx_instruction,
    [EXIT_REASON_VMLAUNCH] = exit_vmx_instruction,
    [EXIT_REASON_VMPTRLD] = exit_vmx_instruction,
    [EXIT_REASON_VMPTRST] = exit_vmx_instruction,
    [EXIT_REASON_VMREAD] = exit_vmx_instruction,
    [EXIT_REASON_VMRESUME] = exit_vmx_instruction,
    [EXIT_REASON_VMWRITE] = exit_vmx_instruction,
    [EXIT_REASON_VMXOFF] = exit_vmx_instruction,
    [EXIT_REASON_VMXON] = exit_vmx_instruction,
    [EXIT_REASON_CR_ACCESS] = exit_cr_access,
    [EXIT_REASON_DR_ACCESS] = exit_dr_access,
    [EXIT_REASON_IO] = exit_io,
    [EXIT_REASON_RDMSR] = exit_rdmsr,
    [EXIT_REASON_WRMSR] = exit_wrmsr,
    [EXIT_REASON_MWAIT] = exit_skip,
    [EXIT_REASON_MONITOR] = exit_skip,
    [EXIT_REASON_PAUSE] = exit_skip,
    [EXIT_REASON_INVEPT] = exit_vmx_instruction,
    [EXIT_REASON_RDTSCP] = exit_rdtscp,
    [EXIT_REASON_PREEMPTION_TIMER] = exit_preemption_timer,
    [EXIT_REASON_INVVPID] = exit_vmx_instruction,
    [EXIT_REASON_WBINVD] = exit_skip,
    [EXIT_REASON_XSETBV] = exit_xsetbv,
    [EXIT_REASON_VMFUNC] = exit_vmx_instruction,
};

enum vcpu_action exit_dispatch(struct vcpu *v, unsigned reason)
{
    exit_handler_fn fn = reason < EXIT_REASON_MAX ? handlers[reason] : NULL;
    if (!fn)
        return vcpu_fail(v, "unhandled VM exit %u (%s)", reason, vmx_exit_reason_name(reason));
    return fn(v);
}

void exit_report_entry_failure(struct vcpu *v, bool instr_failed)
{
    if (instr_failed) {
        unsigned err = (unsigned)vmread(VMCS_INSTR_ERROR);
        vm_stop(v->vm, VM_FAILED, "%s failed: VM-instruction error %u (%s)",
                v->launched ? "VMRESUME" : "VMLAUNCH", err, vmx_instr_error_name(err));
    } else {
        unsigned basic = v->exit_reason & EXIT_REASON_BASIC_MASK;
        char why[96];
        entry_check_explain(v, why, sizeof(why));
        vm_stop(v->vm, VM_FAILED, "VM entry failed: exit reason %u (%s), qualification %llu: %s",
                basic, vmx_exit_reason_name(basic), (unsigned long long)v->exit_qual, why);
    }
    vcpu_dump(v);
}

const char *vmx_exit_reason_name(unsigned r)
{
    static const char *const names[EXIT_REASON_MAX] = {
        [0] = "exception/NMI", [1] = "external interrupt", [2] = "triple fault", [3] = "INIT",
        [4] = "SIPI", [5] = "I/O SMI", [6] = "other SMI", [7] = "interrupt window",
        [8] = "NMI window", [9] = "task switch", [10] = "CPUID", [11] = "GETSEC", [12] = "HLT",
        [13] = "INVD", [14] = "INVLPG", [15] = "RDPMC", [16] = "RDTSC", [17] = "RSM",
        [18] = "VMCALL", [19] = "VMCLEAR", [20] = "VMLAUNCH", [21] = "VMPTRLD", [22] = "VMPTRST",
        [23] = "VMREAD", [24] = "VMRESUME", [25] = "VMWRITE", [26] = "VMXOFF", [27] = "VMXON",
        [28] = "CR access", [29] = "DR access", [30] = "I/O instruction", [31] = "RDMSR",
        [32] = "WRMSR", [33] = "invalid guest state", [34] = "MSR loading", [36] = "MWAIT",
        [37] = "monitor trap flag", [39] = "MONITOR", [40] = "PAUSE", [41] = "machine check",
        [43] = "TPR below threshold", [44] = "APIC access", [46] = "GDTR/IDTR access",
        [47] = "LDTR/TR access", [48] = "EPT violation", [49] = "EPT misconfiguration",
        [50] = "INVEPT", [51] = "RDTSCP", [52] = "preemption timer", [53] = "INVVPID",
        [54] = "WBINVD", [55] = "XSETBV", [57] = "RDRAND", [58] = "INVPCID", [59] = "VMFUNC",
        [61] = "RDSEED", [63] = "XSAVES", [64] = "XRSTORS",
    };
    return r < EXIT_REASON_MAX && names[r] ? names[r] : "unknown";
}

const char *vmx_instr_error_name(unsigned e)
{
    switch (e) {
    case 1: return "VMCALL in VMX root operation";
    case 2: return "VMCLEAR with invalid address";
    case 3: return "VMCLEAR with VMXON pointer";
    case 4: return "VMLAUNCH with non-clear VMCS";
    case 5: return "VMRESUME with non-launched VMCS";
    case 6: return "VMRESUME after VMXOFF";
    case 7: return "VM entry with invalid control field(s)";
    case 8: return "VM entry with invalid host-state field(s)";
    case 9: return "VMPTRLD with invalid address";
    case 10: return "VMPTRLD with VMXON pointer";
    case 11: return "VMPTRLD with incorrect VMCS revision";
    case 12: return "VMREAD/VMWRITE of unsupported component";
    case 13: return "VMWRITE of read-only component";
    case 15: return "VMXON in VMX root operation";
    case 16: return "VM entry with invalid executive-VMCS pointer";
    case 26: return "VM entry with events blocked by MOV SS";
    case 28: return "invalid operand to INVEPT/INVVPID";
    default: return "see SDM vol. 3, 31.4";
    }
}
