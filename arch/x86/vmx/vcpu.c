/* vCPU set-up and the run loop. Every control is computed from the capability MSRs
 * ((wanted | allowed-0) & allowed-1); host state is the VMM's own; the guest starts the way
 * a Multiboot loader leaves a kernel: 32-bit protected mode, flat segments, paging off. */
#include "vcpu.h"
#include "vmx.h"
#include "vmx_caps.h"
#include "exit.h"
#include "mmu.h"
#include "vm/vm.h"
#include "sched/sched.h"
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/exception.h"
#include "mm/memory.h"
#include "layout.h"
#include "lib.h"

extern char vmx_exit_point[];
int vmx_run(struct vcpu_regs *regs, int launched);

#define GUEST_FLAT_LIMIT    0xFFFFFFFFu
#define GUEST_CS_SEL        0x08
#define GUEST_DS_SEL        0x10
#define GUEST_TR_LIMIT      0x67
#define RFLAGS_RESERVED_1   BIT(1)
#define DR7_INIT            0x400
#define DR6_INIT            0xFFFF0FF0ull
#define PAT_POWER_ON        0x0007040600070406ull
#define MISC_ENABLE_FAST_STRINGS BIT(0)
#define XCR0_X87            BIT(0)

/* Exceptions that always exit: #PF for the shadow MMU. */
#define EXCEPTION_BITMAP_SHADOW BIT(EXC_PF)

#define PREEMPTION_TIMER_MAX    0xFFFFFFFFull

static uint32_t pin_ctls, proc_ctls, proc2_ctls, exit_ctls, entry_ctls;
static unsigned preempt_shift;          /* the timer counts down every 2^shift TSC cycles */

static const char *setup_controls(void)
{
    const struct vmx_caps *c = &host_vmx_caps;
    pin_ctls = vmx_ctl_adjust(&c->pin, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER);
    preempt_shift = c->misc & VMX_MISC_PREEMPT_RATE_MASK;
    uint32_t want = PROC_USE_TSC_OFFSETTING | PROC_HLT_EXITING | PROC_INVLPG_EXITING |
                    PROC_MWAIT_EXITING | PROC_RDPMC_EXITING | PROC_CR3_LOAD_EXITING |
                    PROC_CR3_STORE_EXITING | PROC_MOV_DR_EXITING | PROC_UNCOND_IO_EXITING |
                    PROC_MONITOR_EXITING | PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
    if (c->proc.allowed1 & PROC_SECONDARY_CONTROLS)
        want |= PROC_SECONDARY_CONTROLS;
    proc_ctls = vmx_ctl_adjust(&c->proc, want);
    /* Without these the VMM cannot keep control of the guest's paging or its devices. */
    uint32_t needed = PROC_HLT_EXITING | PROC_INVLPG_EXITING | PROC_CR3_LOAD_EXITING |
                      PROC_CR3_STORE_EXITING | PROC_UNCOND_IO_EXITING;
    if ((proc_ctls & needed) != needed)
        return "the CPU cannot exit on HLT/INVLPG/CR3/I/O, which shadow paging needs";
    proc2_ctls = (proc_ctls & PROC_SECONDARY_CONTROLS) ? vmx_ctl_adjust(&c->proc2, PROC2_ENABLE_RDTSCP) : 0;
    exit_ctls = vmx_ctl_adjust(&c->exit, EXIT_HOST_ADDR_SPACE_64 | EXIT_ACK_INTR_ON_EXIT |
                                         EXIT_SAVE_EFER | EXIT_LOAD_EFER);
    entry_ctls = vmx_ctl_adjust(&c->entry, ENTRY_LOAD_EFER);
    if (!(exit_ctls & EXIT_HOST_ADDR_SPACE_64))
        return "the CPU cannot return to a 64-bit host";
    if (!(exit_ctls & EXIT_LOAD_EFER) || !(entry_ctls & ENTRY_LOAD_EFER) || !(exit_ctls & EXIT_SAVE_EFER))
        return "the CPU cannot load/save IA32_EFER on VM entry/exit";
    return NULL;
}

static void set_host_state(void)
{
    vmwrite(VMCS_HOST_CR0, read_cr0());
    vmwrite(VMCS_HOST_CR3, read_cr3());
    vmwrite(VMCS_HOST_CR4, read_cr4());
    vmwrite(VMCS_HOST_CS_SEL, SEL_KCODE);
    vmwrite(VMCS_HOST_SS_SEL, SEL_KDATA);
    vmwrite(VMCS_HOST_DS_SEL, SEL_KDATA);
    vmwrite(VMCS_HOST_ES_SEL, SEL_KDATA);
    vmwrite(VMCS_HOST_FS_SEL, 0);
    vmwrite(VMCS_HOST_GS_SEL, 0);
    vmwrite(VMCS_HOST_TR_SEL, SEL_TSS);
    vmwrite(VMCS_HOST_FS_BASE, 0);
    vmwrite(VMCS_HOST_GS_BASE, 0);
    vmwrite(VMCS_HOST_TR_BASE, (uint64_t)&host_tss);
    vmwrite(VMCS_HOST_GDTR_BASE, host_gdt_ptr.base);
    vmwrite(VMCS_HOST_IDTR_BASE, host_idt_ptr.base);
    vmwrite(VMCS_HOST_SYSENTER_CS, 0);
    vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
    vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
    vmwrite(VMCS_HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
    vmwrite(VMCS_HOST_RIP, (uint64_t)vmx_exit_point);
}

static void set_segment(unsigned sel_field, uint16_t sel, uint32_t ar)
{
    /* Guest segment fields are laid out in parallel: selector, limit, AR, base. */
    unsigned idx = (sel_field - VMCS_GUEST_ES_SEL) / 2;
    vmwrite(sel_field, sel);
    vmwrite(VMCS_GUEST_ES_LIMIT + idx * 2, GUEST_FLAT_LIMIT);
    vmwrite(VMCS_GUEST_ES_AR + idx * 2, ar);
    vmwrite(VMCS_GUEST_ES_BASE + idx * 2, 0);
}

#define FXSAVE_FCW_OFF      0
#define FXSAVE_MXCSR_OFF    24
#define FCW_INIT            0x037Fu         /* FNINIT's control word */
#define MXCSR_INIT          0x1F80u         /* all SIMD exceptions masked */

static void fpu_init_image(struct vcpu *v)
{
    memset(&v->fpu, 0, sizeof(v->fpu));
    uint16_t fcw = FCW_INIT;
    uint32_t mxcsr = MXCSR_INIT;
    memcpy(&v->fpu.bytes[FXSAVE_FCW_OFF], &fcw, sizeof(fcw));
    memcpy(&v->fpu.bytes[FXSAVE_MXCSR_OFF], &mxcsr, sizeof(mxcsr));
}

/* Registers the guest uses without exits and the VMM never touches (SYSCALL/SWAPGS MSRs,
 * x87/SSE, DR0-DR3) stay in the CPU while its vCPU runs; they are swapped only when another
 * vCPU is about to run. */
static struct vcpu *regs_owner;

static void lazy_regs_load(struct vcpu *v)
{
    if (regs_owner == v)
        return;
    if (regs_owner) {
        vcpu_save_msrs(regs_owner);
        __asm__ volatile("fxsave64 %0" : "=m"(regs_owner->fpu));
    }
    vcpu_load_msrs(v);
    __asm__ volatile("fxrstor64 %0" :: "m"(v->fpu));
    vcpu_load_debug_regs(v);
    regs_owner = v;
}

void vcpu_set_boot_segments(struct vcpu *v, uint16_t cs, uint16_t ds, uint64_t gdt_base, uint16_t gdt_limit)
{
    (void)v;
    const uint32_t code_ar = AR_TYPE_CODE_XRA | AR_S | AR_P | AR_DB | AR_G;
    const uint32_t data_ar = AR_TYPE_DATA_RWA | AR_S | AR_P | AR_DB | AR_G;
    set_segment(VMCS_GUEST_CS_SEL, cs, code_ar);
    set_segment(VMCS_GUEST_SS_SEL, ds, data_ar);
    set_segment(VMCS_GUEST_DS_SEL, ds, data_ar);
    set_segment(VMCS_GUEST_ES_SEL, ds, data_ar);
    set_segment(VMCS_GUEST_FS_SEL, ds, data_ar);
    set_segment(VMCS_GUEST_GS_SEL, ds, data_ar);
    vmwrite(VMCS_GUEST_GDTR_BASE, gdt_base);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, gdt_limit);
}

static void set_guest_state(struct vcpu *v)
{
    vcpu_set_boot_segments(v, GUEST_CS_SEL, GUEST_DS_SEL, 0, 0);
    vmwrite(VMCS_GUEST_LDTR_SEL, 0);
    vmwrite(VMCS_GUEST_LDTR_LIMIT, 0);
    vmwrite(VMCS_GUEST_LDTR_AR, AR_UNUSABLE);
    vmwrite(VMCS_GUEST_LDTR_BASE, 0);
    /* VM entry requires a usable busy TSS even though the guest has none yet. */
    vmwrite(VMCS_GUEST_TR_SEL, 0);
    vmwrite(VMCS_GUEST_TR_LIMIT, GUEST_TR_LIMIT);
    vmwrite(VMCS_GUEST_TR_AR, AR_TYPE_TSS32_BUSY | AR_P);
    vmwrite(VMCS_GUEST_TR_BASE, 0);
    vmwrite(VMCS_GUEST_IDTR_BASE, 0);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, 0);
    vmwrite(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED_1);
    vmwrite(VMCS_GUEST_RSP, 0);
    vmwrite(VMCS_GUEST_DR7, DR7_INIT);
    vmwrite(VMCS_GUEST_IA32_DEBUGCTL, 0);
    vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
    vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
    vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    vmwrite(VMCS_GUEST_PENDING_DBG, 0);
    vmwrite(VMCS_LINK_POINTER, UINT64_MAX);
    vmwrite(VMCS_CR0_MASK, CR0_HOST_OWNED);
    vmwrite(VMCS_CR4_MASK, CR4_HOST_OWNED);
    vmwrite(VMCS_CR3_TARGET_COUNT, 0);

    v->cr0 = CR0_PE | CR0_ET;
    v->cr3 = 0;
    v->cr4 = 0;
    v->efer = 0;
    v->xcr0 = XCR0_X87;
    v->dr6 = DR6_INIT;
    v->msr.pat = PAT_POWER_ON;
    v->msr.misc_enable = MISC_ENABLE_FAST_STRINGS;
    /* Guest TSC starts near 0 at VM start, as after a reset. */
    v->tsc_offset = (uint64_t)0 - rdtsc();
    vmwrite(VMCS_TSC_OFFSET, v->tsc_offset);
}

bool vcpu_init(struct vcpu *v, struct vm *vm, char *err, size_t errlen)
{
    memset(v, 0, sizeof(*v));
    fpu_init_image(v);
    v->vm = vm;
    v->tr.vm = (uint8_t)vm->id;
    v->pending_irq = -1;
    const char *why = setup_controls();
    if (why) {
        ksnprintf(err, errlen, "%s", why);
        return false;
    }
    v->vmcs_pa = vmx_alloc_vmcs_page();
    if (!v->vmcs_pa || !vmclear(v->vmcs_pa) || !vmptrld(v->vmcs_pa)) {
        ksnprintf(err, errlen, "cannot allocate or load a VMCS");
        return false;
    }
    vmwrite(VMCS_PIN_CTLS, pin_ctls);
    vmwrite(VMCS_PROC_CTLS, proc_ctls);
    v->proc_ctls = proc_ctls;
    if (proc_ctls & PROC_SECONDARY_CONTROLS)
        vmwrite(VMCS_PROC_CTLS2, proc2_ctls);
    vmwrite(VMCS_EXIT_CTLS, exit_ctls);
    vmwrite(VMCS_ENTRY_CTLS, entry_ctls);
    vmwrite(VMCS_EXCEPTION_BITMAP, EXCEPTION_BITMAP_SHADOW);
    vmwrite(VMCS_PF_ERROR_MASK, 0);
    vmwrite(VMCS_PF_ERROR_MATCH, 0);
    vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0);
    set_host_state();
    set_guest_state(v);
    if (!mmu_init(v, err, errlen))
        return false;
    return true;
}

void vcpu_destroy(struct vcpu *v)
{
    if (regs_owner == v)
        regs_owner = NULL;
    mmu_destroy(v);
    if (v->vmcs_pa) {
        vmclear(v->vmcs_pa);
        pmm_free(&host_pmm, v->vmcs_pa);
        v->vmcs_pa = 0;
    }
}

uint32_t vcpu_entry_ctls(void) { return entry_ctls; }

/* ---- registers ---- */

uint64_t vcpu_gpr(struct vcpu *v, unsigned idx)
{
    if (idx == GPR_RSP)
        return vmread(VMCS_GUEST_RSP);
    return ((uint64_t *)&v->regs)[idx & 15];
}

void vcpu_set_gpr(struct vcpu *v, unsigned idx, uint64_t val)
{
    if (idx == GPR_RSP)
        vmwrite(VMCS_GUEST_RSP, val);
    else
        ((uint64_t *)&v->regs)[idx & 15] = val;
}

void vcpu_skip_instruction(struct vcpu *v)
{
    uint64_t rip = vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTR_LEN);
    if (!(v->efer & EFER_LMA))
        rip &= 0xFFFFFFFFu;
    vmwrite(VMCS_GUEST_RIP, rip);
    /* The instruction completed: an STI/MOV-SS interrupt shadow ends with it. */
    uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/* ---- events ---- */

enum exc_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE_FAULT };

static enum exc_class classify(uint8_t vector)
{
    switch (vector) {
    case EXC_DE: case 10: case 11: case 12: case EXC_GP: return EXC_CONTRIBUTORY;
    case EXC_PF: return EXC_PAGE_FAULT;
    default: return EXC_BENIGN;
    }
}

/* A second exception raised while delivering a first one may become #DF, and #DF on #DF is a
 * triple fault (SDM vol. 3, table 6-5). */
void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    struct pending_event *p = &v->pending;
    if (p->valid && p->type == INTR_TYPE_HW_EXCEPTION) {
        if (p->vector == EXC_DF) {
            vm_stop(v->vm, VM_FAILED, "triple fault (exception %u while delivering #DF)", vector);
            return;
        }
        enum exc_class first = classify(p->vector), second = classify(vector);
        if ((first == EXC_CONTRIBUTORY && second == EXC_CONTRIBUTORY) ||
            (first == EXC_PAGE_FAULT && second != EXC_BENIGN)) {
            vector = EXC_DF;
            has_error = true;
            error = 0;
        }
    }
    *p = (struct pending_event){ true, vector, INTR_TYPE_HW_EXCEPTION, has_error, error, 0 };
}

void vcpu_inject_ud(struct vcpu *v) { vcpu_inject_exception(v, EXC_UD, false, 0); }
void vcpu_inject_gp0(struct vcpu *v) { vcpu_inject_exception(v, EXC_GP, true, 0); }

static bool guest_can_take_interrupt(void)
{
    return (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
           !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/* Arms the VMX preemption timer for the next device timer event or the end of the slice, so
 * a guest that spins gets its timer interrupts on time and the VMM gets the CPU back. Without
 * the timer (older CPUs) interrupts are delivered at the guest's next exit. */
static void arm_preemption_timer(struct vcpu *v)
{
    if (!(pin_ctls & PIN_PREEMPTION_TIMER))
        return;
    /* All in host TSC: the VM's own next timer, and when the scheduler wants the CPU back
     * (the end of the slice bounds a guest that never exits). */
    uint64_t now = rdtsc();
    uint64_t deadline = MIN(sched_slice_end(), pc_timer_deadline_host(&v->vm->plat));
    uint64_t ticks = deadline > now ? ((deadline - now) >> preempt_shift) + 1 : 0;
    vmwrite(VMCS_PREEMPTION_TIMER, MIN(ticks, PREEMPTION_TIMER_MAX));
}

/* Before each entry: bring device timers up to date; deliver the pending exception, else an
 * external interrupt from the platform if the guest can take one now (the INTA cycle happens only
 * then), else ask for an exit when it can. */
static void deliver_events(struct vcpu *v)
{
    struct vm *vm = v->vm;
    uint32_t proc = proc_ctls;
    pc_timers_update(&vm->plat);
    if (vm->con_in_len)
        vm_console_pump(vm);
    bool irq_waiting = v->pending_irq >= 0 || pc_intr_pending(&vm->plat);
    /* An NMI from the LAPIC (LINT1, an NMI IPI) is taken when nothing else is being injected
     * and the guest is not blocking NMIs: until then it stays latched in the LAPIC. */
    if (!v->pending.valid && pc_nmi_pending(&vm->plat) &&
        !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_STI |
                                                INTERRUPTIBILITY_MOV_SS)) && pc_take_nmi(&vm->plat))
        v->pending = (struct pending_event){ .valid = true, .vector = EXC_NMI, .type = INTR_TYPE_NMI };
    if (v->pending.valid) {
        struct pending_event *p = &v->pending;
        uint32_t info = INTR_INFO_VALID | p->vector | ((uint32_t)p->type << INTR_INFO_TYPE_SHIFT);
        if (p->has_error) {
            info |= INTR_INFO_ERROR_VALID;
            vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, p->error);
        }
        if (p->type == INTR_TYPE_SW_INTR || p->type == INTR_TYPE_SW_EXCEPTION ||
            p->type == INTR_TYPE_PRIV_SW_EXC)
            vmwrite(VMCS_ENTRY_INSTR_LEN, p->instr_len);
        vmwrite(VMCS_ENTRY_INTR_INFO, info);
        trace_inject(&v->tr, p->vector, p->type);
        p->valid = false;
        if (irq_waiting)
            proc |= PROC_INTR_WINDOW_EXITING;   /* after the exception's handler starts */
    } else if (irq_waiting) {
        if (guest_can_take_interrupt()) {
            uint8_t vector = v->pending_irq >= 0 ? (uint8_t)v->pending_irq : pc_intr_ack(&vm->plat);
            v->pending_irq = -1;
            vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | vector |
                                          (INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT));
            trace_inject(&v->tr, vector, INTR_TYPE_EXT_INTR);
        } else {
            proc |= PROC_INTR_WINDOW_EXITING;
        }
    }
    if (proc != v->proc_ctls) {         /* a VMWRITE only when interrupt-window exiting changes */
        vmwrite(VMCS_PROC_CTLS, proc);
        v->proc_ctls = proc;
    }
    arm_preemption_timer(v);
}

/* An exit that interrupted the delivery of an event (e.g. a shadow #PF while the guest's CPU
 * pushed an exception frame) must deliver that event again once the cause is handled. */
static void requeue_vectoring_event(struct vcpu *v)
{
    uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
    if (!(info & INTR_INFO_VALID))
        return;
    uint8_t type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
    if (type == INTR_TYPE_EXT_INTR && v->pending_irq < 0) {
        v->pending_irq = info & INTR_INFO_VECTOR_MASK;
        return;
    }
    v->pending = (struct pending_event){
        true, info & INTR_INFO_VECTOR_MASK, type, (info & INTR_INFO_ERROR_VALID) != 0,
        (uint32_t)vmread(VMCS_IDT_VECTORING_ERROR), (uint32_t)vmread(VMCS_EXIT_INSTR_LEN),
    };
}

/* After the thread ran again: another vCPU or the shell may have made its VMCS current. */
void vcpu_reload(struct vcpu *v)
{
    if (!vmptrld(v->vmcs_pa)) {
        vm_stop(v->vm, VM_FAILED, "VMPTRLD failed");
        return;
    }
    lazy_regs_load(v);
}

void vcpu_run(struct vcpu *v)
{
    struct vm *vm = v->vm;
    if (!vmptrld(v->vmcs_pa)) {
        vm_stop(vm, VM_FAILED, "VMPTRLD failed");
        return;
    }
    lazy_regs_load(v);
    while (vm->state == VM_RUNNING) {
        mmu_sync_map(v);
        deliver_events(v);
        if (vmx_run(&v->regs, v->launched)) {
            exit_report_entry_failure(v, true);
            return;
        }
        /* The cost of the previous exit: from its first instruction to this entry. */
        trace_exit_end(&v->tr, v->regs.entry_tsc);
        v->launched = true;
        v->exits++;
        v->exit_reason = (uint32_t)vmread(VMCS_EXIT_REASON);
        v->exit_qual = vmread(VMCS_EXIT_QUALIFICATION);
        unsigned basic = v->exit_reason & EXIT_REASON_BASIC_MASK;
        exit_trace_begin(v);
        if (v->exit_reason & EXIT_REASON_ENTRY_FAILURE) {
            exit_report_entry_failure(v, false);
            return;
        }
        /* (The CPU itself clears the valid bit of the entry interruption field on exit.) */
        requeue_vectoring_event(v);
        if (exit_dispatch(v, basic) == VCPU_STOP && vm->state == VM_RUNNING)
            vm_stop(vm, VM_FAILED, "stopped by the exit handler");
        if (sched_slice_expired()) {    /* the preemption timer guarantees we get here */
            uint64_t left = rdtsc();
            sched_yield();
            vcpu_reload(v);
            v->tr.exit.away += rdtsc() - left;
        }
    }
    trace_exit_end(&v->tr, rdtsc());         /* the exit that stopped the VM */
}

/* ---- diagnostics ---- */

void vcpu_dump(struct vcpu *v)
{
    const struct vcpu_regs *r = &v->regs;
    kprintf("  exit reason %u (%s), qualification %#llx, exits so far %llu\n",
            v->exit_reason & EXIT_REASON_BASIC_MASK,
            vmx_exit_reason_name(v->exit_reason & EXIT_REASON_BASIC_MASK),
            (unsigned long long)v->exit_qual, (unsigned long long)v->exits);
    kprintf("  RIP %016llx RSP %016llx RFLAGS %016llx\n", (unsigned long long)vmread(VMCS_GUEST_RIP),
            (unsigned long long)vmread(VMCS_GUEST_RSP), (unsigned long long)vmread(VMCS_GUEST_RFLAGS));
    kprintf("  RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n", (unsigned long long)r->rax,
            (unsigned long long)r->rbx, (unsigned long long)r->rcx, (unsigned long long)r->rdx);
    kprintf("  RSI %016llx RDI %016llx RBP %016llx R8  %016llx\n", (unsigned long long)r->rsi,
            (unsigned long long)r->rdi, (unsigned long long)r->rbp, (unsigned long long)r->r8);
    kprintf("  R9  %016llx R10 %016llx R11 %016llx R12 %016llx\n", (unsigned long long)r->r9,
            (unsigned long long)r->r10, (unsigned long long)r->r11, (unsigned long long)r->r12);
    kprintf("  R13 %016llx R14 %016llx R15 %016llx\n", (unsigned long long)r->r13,
            (unsigned long long)r->r14, (unsigned long long)r->r15);
    kprintf("  guest CR0 %08llx CR2 %016llx CR3 %016llx CR4 %08llx EFER %llx\n",
            (unsigned long long)v->cr0, (unsigned long long)r->cr2, (unsigned long long)v->cr3,
            (unsigned long long)v->cr4, (unsigned long long)v->efer);
    kprintf("  real  CR0 %08llx CR3 %016llx CR4 %08llx (shadow %s)\n",
            (unsigned long long)vmread(VMCS_GUEST_CR0), (unsigned long long)vmread(VMCS_GUEST_CR3),
            (unsigned long long)vmread(VMCS_GUEST_CR4), gpt_mode_name(v->mode));
    kprintf("  CS %04llx base %llx AR %05llx  SS %04llx  DS %04llx  TR %04llx\n",
            (unsigned long long)vmread(VMCS_GUEST_CS_SEL), (unsigned long long)vmread(VMCS_GUEST_CS_BASE),
            (unsigned long long)vmread(VMCS_GUEST_CS_AR), (unsigned long long)vmread(VMCS_GUEST_SS_SEL),
            (unsigned long long)vmread(VMCS_GUEST_DS_SEL), (unsigned long long)vmread(VMCS_GUEST_TR_SEL));
    kprintf("  IDT-vectoring %#llx interruptibility %#llx activity %llu\n",
            (unsigned long long)vmread(VMCS_IDT_VECTORING_INFO),
            (unsigned long long)vmread(VMCS_GUEST_INTERRUPTIBILITY),
            (unsigned long long)vmread(VMCS_GUEST_ACTIVITY_STATE));
}

enum vcpu_action vcpu_fail(struct vcpu *v, const char *fmt, ...)
{
    char why[128];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    vm_stop(v->vm, VM_FAILED, "%s", why);
    vcpu_dump(v);
    return VCPU_STOP;
}
