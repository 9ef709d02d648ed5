#ifndef MV_X86_EXCEPTION_H
#define MV_X86_EXCEPTION_H
#include "compiler.h"

/* What isr_common leaves on the stack (lowest address first). */
struct exc_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

#define EXC_DE 0
#define EXC_DB 1
#define EXC_NMI 2
#define EXC_BP 3
#define EXC_UD 6
#define EXC_DF 8
#define EXC_GP 13
#define EXC_PF 14
#define EXC_MC 18
#define NUM_EXCEPTIONS 32

/* Handler for vectors >= 32 (interrupts); NULL means "unexpected interrupt". */
typedef void (*irq_handler_fn)(struct exc_frame *f);
void irq_set_handler(uint8_t vector, irq_handler_fn fn);
/* Runs the handler of a host interrupt the CPU acknowledged on a VM exit (no frame: f is
 * NULL). An unexpected vector is counted, not fatal: it was consumed already. */
void irq_dispatch_acked(uint8_t vector);
extern uint64_t irq_unexpected_count;

void print_stack_trace(uint64_t rbp);
#endif
