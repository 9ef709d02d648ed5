/* VM-exit handling: one handler per basic exit reason, found by table lookup. A reason
 * without a handler stops that VM with a full dump; the VMM carries on. */
#ifndef MV_VMX_EXIT_H
#define MV_VMX_EXIT_H
#include "vcpu.h"

typedef enum vcpu_action (*exit_handler_fn)(struct vcpu *v);

enum vcpu_action exit_dispatch(struct vcpu *v, unsigned reason);
/* Hands the trace facility what this exit is (class, port or MSR, direction) and when it began. */
void exit_trace_begin(struct vcpu *v);
/* VMLAUNCH/VMRESUME failed (instr_failed) or the entry failed its guest-state checks. */
void exit_report_entry_failure(struct vcpu *v, bool instr_failed);
uint32_t vcpu_entry_ctls(void);

enum vcpu_action exit_cpuid(struct vcpu *v);
enum vcpu_action exit_cr_access(struct vcpu *v);
enum vcpu_action exit_dr_access(struct vcpu *v);
enum vcpu_action exit_io(struct vcpu *v);
enum vcpu_action exit_rdmsr(struct vcpu *v);
enum vcpu_action exit_wrmsr(struct vcpu *v);
enum vcpu_action exit_vmcall(struct vcpu *v);
/* A guest access to a trapped MMIO region (from a shadow fault at gva, guest-physical gpa):
 * decode the instruction at RIP and emulate it against the devices. */
enum vcpu_action exit_mmio(struct vcpu *v, uint64_t gva, uint64_t gpa);

/* Hypercalls: VMCALL with the number in RAX, arguments in RBX, RCX; result in RAX. */
#define HC_PRINT        0       /* RBX = guest-virtual string, RCX = length (<= HC_PRINT_MAX) */
#define HC_EXIT         1       /* RBX = exit code: the VM stops */
#define HC_PRINT_MAX    256
#define HC_ENOSYS       ((uint64_t)-38)
#define HC_EINVAL       ((uint64_t)-22)
/* The guest's SYSCALL/SWAPGS/RDTSCP MSRs, which it uses without exits: read back the one the
 * guest changes behind the VMM's back, or put them all into the CPU (the VMCS must be current). */
void vcpu_save_msrs(struct vcpu *v);
void vcpu_load_msrs(const struct vcpu *v);
/* Puts this vCPU's DR0-DR3 into the CPU (DR7 and DR6 are in the VMCS and the vCPU). */
void vcpu_load_debug_regs(const struct vcpu *v);
#endif
