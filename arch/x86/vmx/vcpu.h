/* A virtual CPU: its VMCS, the guest registers the VMCS does not hold, the guest-visible
 * control registers (the VMCS holds the values the CPU really uses), MSRs, pending events,
 * the MMU and per-exit-reason statistics. */
#ifndef MV_VCPU_H
#define MV_VCPU_H
#include "compiler.h"
#include "vmcs.h"
#include "mm/gpt.h"
#include "mm/shadow.h"
#include "trace/trace.h"

struct vm;

/* Layout shared with include/vcpu_regs.inc. */
struct vcpu_regs {
    uint64_t rax, rcx, rdx, rbx, rsp_unused, rbp, rsi, rdi;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t cr2;
    uint64_t entry_tsc, exit_tsc;
};
STATIC_ASSERT(__builtin_offsetof(struct vcpu_regs, cr2) == 128, "vcpu_regs.inc REGS_CR2");
STATIC_ASSERT(__builtin_offsetof(struct vcpu_regs, exit_tsc) == 144, "vcpu_regs.inc REGS_EXIT_TSC");

/* GPR index as VM-exit qualifications encode it (0 = RAX ... 15 = R15; 4 = RSP lives in VMCS). */
#define GPR_RSP 4

struct pending_event {
    bool valid;
    uint8_t vector;
    uint8_t type;                   /* INTR_TYPE_* */
    bool has_error;
    uint32_t error;
    uint32_t instr_len;             /* for software interrupts/exceptions */
};

#define VCPU_MTRR_VAR_PAIRS 8
#define VCPU_MTRR_FIXED     11

struct vcpu_msrs {
    uint64_t pat, star, lstar, cstar, fmask, kernel_gs_base, tsc_aux, misc_enable;
    uint64_t mtrr_def_type, mtrr_fixed[VCPU_MTRR_FIXED], mtrr_var[2 * VCPU_MTRR_VAR_PAIRS];
};

/* With PCIDs a CR3 write may keep the TLB entries of the PCID it switches to (bit 63): the
 * shadow of each recently used PCID is kept, so switching back costs no refill. */
#define MMU_PCID_SLOTS 8
struct shadow_slot {
    struct shadow sh;                   /* sh.root_hpa == 0: empty */
    uint16_t pcid;
    uint64_t last_use;                  /* exit count at parking, for eviction */
};

/* The x87/SSE state (FXSAVE image): the guest's lives in the real registers while it runs. */
struct fxsave_area { uint8_t bytes[512]; } ALIGNED(16);

struct vcpu {
    struct fxsave_area fpu;             /* first: the struct is 16-byte aligned on the heap */
    struct vcpu_regs regs;
    struct vm *vm;
    uint64_t vmcs_pa;
    bool launched;
    uint32_t proc_ctls;             /* the primary controls as last written to the VMCS */

    /* The guest's view of its control state. */
    uint64_t cr0, cr3, cr4, efer, xcr0;
    uint64_t dr[4], dr6;
    struct vcpu_msrs msr;
    uint64_t tsc_offset;

    /* Interrupt/exception delivery. */
    struct pending_event pending;   /* injected at the next VM entry */
    int pending_irq;                /* external interrupt vector waiting for a window, or -1 */

    /* MMU state: the paging mode the guest is in, and what the CPU walks instead. */
    enum gpt_mode mode;
    struct shadow shadow;               /* what the CPU walks now: for PCID shadow_pcid */
    uint16_t shadow_pcid;
    struct shadow_slot parked[MMU_PCID_SLOTS];  /* other PCIDs' shadows, kept across CR3 writes */
    uint64_t pcid_switches, pcid_kept;  /* CR3 writes to another PCID; of those, no flush needed */
    uint64_t shadow_faults, shadow_flushes, guest_pf_injected;
    uint64_t mmio_generation;           /* the VM's MMIO map the shadow was built for */
    uint64_t mmio_exits;                /* trapped MMIO instructions emulated */
    uint64_t shadow_prefills;           /* faults that filled a whole large-page window */
    uint64_t shadow_large;              /* ... of them with one 2 MiB shadow leaf */

    /* Exit bookkeeping. */
    uint32_t exit_reason;
    uint64_t exit_qual;
    uint64_t exits;
    struct trace_vcpu tr;               /* the exit in flight and the cost aggregates */
    uint64_t unknown_msr_count;
    uint32_t last_unknown_msr;
};

enum vcpu_action { VCPU_RESUME, VCPU_STOP };

/* Creates the VMCS and sets the guest up in 32-bit protected mode, paging off. */
bool vcpu_init(struct vcpu *v, struct vm *vm, char *err, size_t errlen);
void vcpu_destroy(struct vcpu *v);
/* Flat 4 GiB 32-bit segments with these selectors and the guest's GDT (a loader wrote it):
 * the state a boot protocol promises (e.g. Linux's __BOOT_CS/__BOOT_DS). */
void vcpu_set_boot_segments(struct vcpu *v, uint16_t cs, uint16_t ds, uint64_t gdt_base, uint16_t gdt_limit);
/* Runs the guest until it stops (exit port, triple fault, fatal error, halt with nothing
 * that can wake it). */
void vcpu_run(struct vcpu *v);

/* Helpers for exit handlers. */
uint64_t vcpu_gpr(struct vcpu *v, unsigned idx);
void vcpu_set_gpr(struct vcpu *v, unsigned idx, uint64_t val);
void vcpu_skip_instruction(struct vcpu *v);
void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
void vcpu_inject_ud(struct vcpu *v);
void vcpu_inject_gp0(struct vcpu *v);
void vcpu_dump(struct vcpu *v);
/* Makes this vCPU's VMCS current again after its thread was switched out. */
void vcpu_reload(struct vcpu *v);
/* Ends the VM with a reason (printed, kept for `vms`); returns VCPU_STOP for handlers. */
enum vcpu_action vcpu_fail(struct vcpu *v, const char *fmt, ...) PRINTF_LIKE(2, 3);
#endif
