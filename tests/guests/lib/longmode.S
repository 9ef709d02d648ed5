/* Switch from 32-bit protected mode to 64-bit mode (IA-32e), and run 64-bit code.
 *
 * void lm_enter(u32 pml4, u32 entry64, u32 arg) -- does not return
 *
 * Follows the SDM sequence for activating IA-32e mode: with paging off, set CR4.PAE, load
 * CR3 with the PML4, set IA32_EFER.LME, then set CR0.PG (the CPU is now in compatibility
 * mode, IA32_EFER.LMA = 1), and far-jump to a code segment with L=1. The code doing this
 * must be identity-mapped. entry64 is then called with arg in RDI (System V ABI), on the
 * same stack, and must not return. */
#include "seg.h"

	.text
	.code32
	.globl lm_enter
lm_enter:
	cli
	mov 4(%esp), %edx               /* pml4 */
	mov 8(%esp), %esi               /* entry64 */
	mov 12(%esp), %edi              /* arg */
	mov %cr0, %eax                  /* paging must be off while LME is changed */
	and $0x7fffffff, %eax
	mov %eax, %cr0
	mov %cr4, %eax
	or $0x20, %eax                  /* CR4.PAE */
	mov %eax, %cr4
	mov %edx, %cr3
	mov $0xc0000080, %ecx           /* IA32_EFER */
	rdmsr
	or $0x100, %eax                 /* LME */
	wrmsr
	mov %cr0, %eax
	or $0x80010001, %eax            /* PG | WP | PE */
	mov %eax, %cr0
	ljmp $SEL_CODE64, $lm_entered

	.code64
lm_entered:
	/* A 32-bit operation zero-extends: clear whatever the upper halves hold. */
	mov %esi, %esi
	mov %edi, %edi
	mov %esp, %esp
	and $-16, %rsp
	mov $SEL_DATA32, %eax           /* data segments: base/limit ignored in 64-bit mode */
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	call *%rsi
1:	cli
	hlt
	jmp 1b
	.code32
