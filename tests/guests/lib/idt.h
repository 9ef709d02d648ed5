/* Exceptions in 32-bit protected mode (isr.S) and in 64-bit mode (isr64.S): an IDT with handlers for vectors 0-31 that record
 * the vector, error code, CR2 and faulting EIP, and three ways to go on afterwards:
 *
 *  1. A hook per vector (set_exc_hook): called with the frame; returning true IRETs back,
 *     e.g. after advancing frame->ip past the faulting instruction.
 *  2. An armed catch (call_catch, or catch_setjmp directly): the handler resumes at the
 *     recovery point, like longjmp.
 *  3. Otherwise the exception is unexpected: the current sub-test fails, the summary is
 *     printed and the guest exits with 1. */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H
#include "types.h"

/* Every vector has a stub: exceptions 0-31, the PIC's 16 IRQs at IRQ_VECTOR_BASE (guests
 * program ICW2 so), and the rest for APIC vectors. */
#define IDT_VECTORS 256
#define IRQ_VECTOR_BASE 32

#ifdef __x86_64__
struct exc_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 ip, cs, flags, sp, ss;                            /* pushed by the CPU */
};
#else
struct exc_frame {
	u32 edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;   /* pushal */
	u32 vector, error;
	u32 ip, cs, flags;                                    /* pushed by the CPU */
};
#endif

struct fault_info {
	u32 vector, error;
	ulong cr2, ip;
	u32 count;              /* exceptions taken so far */
};
extern volatile struct fault_info last_fault;

/* A hook on an IRQ vector is the interrupt handler: it returns true to IRET. */
typedef bool (*exc_hook_t)(struct exc_frame *f);

void idt_init(void);
void set_exc_hook(u32 vector, exc_hook_t hook);

int catch_setjmp(void) __attribute__((returns_twice));
void catch_disarm(void);
/* Runs fn(arg) with a catch armed. Returns -1 if it returned normally, otherwise the
 * vector of the exception it raised (details in last_fault). */
int call_catch(void (*fn)(void *), void *arg);

/* RDMSR/WRMSR that return -1 on success or the vector they raised. */
int rdmsr_catch(u32 msr, u64 *val);
int wrmsr_catch(u32 msr, u64 val);

const char *exc_name(u32 vector);

#endif
