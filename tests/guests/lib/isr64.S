/* 64-bit exception entry stubs for vectors 0-31 and catch_setjmp/catch_longjmp, for the
 * 64-bit part of a guest (linked separately with ld -m elf_x86_64, see lm64.ld). */

	.text
	.code64

.macro STUB vec
	.balign 8
isr_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127,128,129,130,131,132,133,134,135,136,137,138,139,140,141,142,143,144,145,146,147,148,149,150,151,152,153,154,155,156,157,158,159,160,161,162,163,164,165,166,167,168,169,170,171,172,173,174,175,176,177,178,179,180,181,182,183,184,185,186,187,188,189,190,191,192,193,194,195,196,197,198,199,200,201,202,203,204,205,206,207,208,209,210,211,212,213,214,215,216,217,218,219,220,221,222,223,224,225,226,227,228,229,230,231,232,233,234,235,236,237,238,239,240,241,242,243,244,245,246,247,248,249,250,251,252,253,254,255
	STUB \v
	.endr

/* Frame (struct exc_frame in idt.h): 15 GPRs, vector, error code, then what the CPU
 * pushed in 64-bit mode: RIP, CS, RFLAGS, RSP, SS. */
isr_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	mov %rsp, %rbx                  /* callee-saved: the frame, whatever the alignment */
	and $-16, %rsp
	cld
	call exc_handler                /* returns only when the handler wants an IRETQ */
	mov %rbx, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp                   /* vector and error code */
	iretq

	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127,128,129,130,131,132,133,134,135,136,137,138,139,140,141,142,143,144,145,146,147,148,149,150,151,152,153,154,155,156,157,158,159,160,161,162,163,164,165,166,167,168,169,170,171,172,173,174,175,176,177,178,179,180,181,182,183,184,185,186,187,188,189,190,191,192,193,194,195,196,197,198,199,200,201,202,203,204,205,206,207,208,209,210,211,212,213,214,215,216,217,218,219,220,221,222,223,224,225,226,227,228,229,230,231,232,233,234,235,236,237,238,239,240,241,242,243,244,245,246,247,248,249,250,251,252,253,254,255
	.quad isr_\v
	.endr

	.text
	.globl catch_setjmp
catch_setjmp:
	mov (%rsp), %rax
	mov %rax, catch_jb + 56         /* return address */
	lea 8(%rsp), %rax
	mov %rax, catch_jb + 48         /* stack pointer after the return */
	mov %rbx, catch_jb + 0
	mov %rbp, catch_jb + 8
	mov %r12, catch_jb + 16
	mov %r13, catch_jb + 24
	mov %r14, catch_jb + 32
	mov %r15, catch_jb + 40
	movl $1, catch_armed
	xor %eax, %eax
	ret

	.globl catch_longjmp
catch_longjmp:
	movl $0, catch_armed
	cld
	mov catch_jb + 0, %rbx
	mov catch_jb + 8, %rbp
	mov catch_jb + 16, %r12
	mov catch_jb + 24, %r13
	mov catch_jb + 32, %r14
	mov catch_jb + 40, %r15
	mov catch_jb + 48, %rsp
	mov $1, %eax
	jmp *catch_jb + 56

	.bss
	.balign 8
	.globl catch_armed
catch_armed:
	.long 0
	.long 0
catch_jb:
	.space 64
