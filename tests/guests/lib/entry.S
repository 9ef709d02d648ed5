/* Multiboot1 entry of every test guest (32-bit protected mode, paging off).
 * The loader hands over EAX = 0x2BADB002 and EBX = the Multiboot information; the GDTR,
 * IDTR and segment registers may be anything, so we load our own GDT first. */
#include "seg.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003     /* bit 0: page-align modules, bit 1: memory information */

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	cld
	mov %eax, %esi                  /* keep magic and info pointer out of stosl's way */
	mov %ebx, %ebp
	mov $__bss_start, %edi          /* the loader should have zeroed .bss; be sure */
	mov $__bss_end, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl
	mov $boot_stack_top, %esp
	lgdt gdt_desc
	ljmp $SEL_CODE32, $1f
1:	mov $SEL_DATA32, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	push $0                         /* EFLAGS: IF=0, DF=0, everything else clear */
	popf
	push %ebp
	push %esi
	call lib_main                   /* does not return */
2:	cli
	hlt
	jmp 2b

	/* In .data, with the accessed bits preset: the CPU writes them on a segment load. */
	.data
	.balign 8
	.globl gdt
gdt:
	.quad 0                         /* 0x00 null */
	.quad 0x00cf9b000000ffff        /* 0x08 32-bit code, base 0, 4 GiB */
	.quad 0x00cf93000000ffff        /* 0x10 32-bit data, base 0, 4 GiB */
	.quad 0x00af9b000000ffff        /* 0x18 64-bit code (L=1, D=0) */
	.quad 0x00cf93000000ffff        /* 0x20 second data segment, for segment tests */
	.quad 0x00cf13000000ffff        /* 0x28 data segment marked not present (P=0) */
gdt_end:
	.balign 4
	.word 0
	.globl gdt_desc
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.balign 16
	.globl boot_stack, boot_stack_top
boot_stack:
	.space 16384
boot_stack_top:
