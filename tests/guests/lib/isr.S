/* 32-bit entry stubs for exceptions (vectors 0-31) and the 16 PIC IRQs at 32-47, and the catch_setjmp/catch_longjmp pair
 * that lets a test resume at a recovery point after an expected fault. */

	.text
	.code32

/* Vectors that push an error code: #DF 8, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14, #AC 17,
 * #CP 21, #VC 29, #SX 30. The others get a dummy 0 so every frame looks the same. */
.macro STUB vec
	.balign 8
isr_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	push $0
	.endif
	push $\vec
	jmp isr_common
.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	STUB \v
	.endr

/* Frame seen by exc_handler (struct exc_frame in idt.h): pushal registers, vector, error
 * code, then what the CPU pushed: EIP, CS, EFLAGS. */
isr_common:
	pushal
	push %esp
	call exc_handler                /* returns only when the handler wants an IRET */
	add $4, %esp
	popal
	add $8, %esp                    /* vector and error code */
	iret

	.section .rodata
	.balign 4
	.globl isr_table
isr_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.long isr_\v
	.endr

/* int catch_setjmp(void): arms the catch and returns 0; after an exception while armed,
 * returns again with 1 (catch_longjmp, called by the handler). */
	.text
	.globl catch_setjmp
catch_setjmp:
	mov (%esp), %eax
	mov %eax, catch_jb + 20         /* return address */
	lea 4(%esp), %eax
	mov %eax, catch_jb + 16         /* stack pointer after the return */
	mov %ebx, catch_jb + 0
	mov %esi, catch_jb + 4
	mov %edi, catch_jb + 8
	mov %ebp, catch_jb + 12
	movl $1, catch_armed
	xor %eax, %eax
	ret

/* void catch_longjmp(void): leaves the exception handler for the recovery point. The
 * exception frame below is abandoned; we run at CPL 0 on the same stack throughout. */
	.globl catch_longjmp
catch_longjmp:
	movl $0, catch_armed
	cld
	mov catch_jb + 0, %ebx
	mov catch_jb + 4, %esi
	mov catch_jb + 8, %edi
	mov catch_jb + 12, %ebp
	mov catch_jb + 16, %esp
	mov $1, %eax
	jmp *catch_jb + 20

	.bss
	.balign 4
	.globl catch_armed
catch_armed:
	.long 0
catch_jb:
	.space 24
