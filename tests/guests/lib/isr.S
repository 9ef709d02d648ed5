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

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127,128,129,130,131,132,133,134,135,136,137,138,139,140,141,142,143,144,145,146,147,148,149,150,151,152,153,154,155,156,157,158,159,160,161,162,163,164,165,166,167,168,169,170,171,172,173,174,175,176,177,178,179,180,181,182,183,184,185,186,187,188,189,190,191,192,193,194,195,196,197,198,199,200,201,202,203,204,205,206,207,208,209,210,211,212,213,214,215,216,217,218,219,220,221,222,223,224,225,226,227,228,229,230,231,232,233,234,235,236,237,238,239,240,241,242,243,244,245,246,247,248,249,250,251,252,253,254,255
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
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127,128,129,130,131,132,133,134,135,136,137,138,139,140,141,142,143,144,145,146,147,148,149,150,151,152,153,154,155,156,157,158,159,160,161,162,163,164,165,166,167,168,169,170,171,172,173,174,175,176,177,178,179,180,181,182,183,184,185,186,187,188,189,190,191,192,193,194,195,196,197,198,199,200,201,202,203,204,205,206,207,208,209,210,211,212,213,214,215,216,217,218,219,220,221,222,223,224,225,226,227,228,229,230,231,232,233,234,235,236,237,238,239,240,241,242,243,244,245,246,247,248,249,250,251,252,253,254,255
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
