; monovisor entry: Multiboot1 and Multiboot2 headers, 32-bit protected-mode entry,
; switch to long mode on identity-mapped 2 MiB pages, then kmain(magic, info).
%include "layout.inc"

MB1_MAGIC       equ 0x1BADB002
MB1_F_PAGEALIGN equ 1 << 0          ; modules page aligned
MB1_F_MEMINFO   equ 1 << 1          ; mem_* and mmap_* wanted
MB1_F_AOUT      equ 1 << 16         ; address fields valid: lets QEMU/iPXE load an ELF64
MB1_FLAGS       equ MB1_F_PAGEALIGN | MB1_F_MEMINFO | MB1_F_AOUT

MB2_MAGIC       equ 0xE85250D6
MB2_ARCH_I386   equ 0
MB2_TAG_END     equ 0
MB2_TAG_ADDR    equ 2
MB2_TAG_ENTRY   equ 3
MB2_TAG_MODALIGN equ 6

BOOT_MAGIC_MB1  equ 0x2BADB002
BOOT_MAGIC_MB2  equ 0x36D76289

COM1            equ 0x3F8
CR0_PE          equ 1 << 0
CR0_WP          equ 1 << 16
CR0_PG          equ 1 << 31
CR4_PAE         equ 1 << 5
MSR_EFER        equ 0xC0000080
EFER_LME        equ 1 << 8
PTE_P           equ 1 << 0
PTE_W           equ 1 << 1
PTE_PS          equ 1 << 7

extern __image_start, __load_end, __image_end
extern kmain
global mb_entry32, boot_pml4, boot_stack_top, boot_stack_guard, boot_stack_bottom
global boot_gdt_ptr64

section .multiboot
align 8
mb1_header:
    dd MB1_MAGIC
    dd MB1_FLAGS
    dd -(MB1_MAGIC + MB1_FLAGS)
    dd mb1_header                   ; header_addr
    dd __image_start                ; load_addr
    dd __load_end                   ; load_end_addr
    dd __image_end                  ; bss_end_addr
    dd mb_entry32                   ; entry_addr

align 8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    align 8
    dw MB2_TAG_ADDR, 0
    dd 24
    dd mb2_header, __image_start, __load_end, __image_end
    align 8
    dw MB2_TAG_ENTRY, 0
    dd 12
    dd mb_entry32
    align 8
    dw MB2_TAG_MODALIGN, 0
    dd 8
    align 8
    dw MB2_TAG_END, 0
    dd 8
mb2_header_end:

section .text.boot32
bits 32
mb_entry32:
    cli
    cld
    mov edi, eax                    ; boot magic, kept for kmain
    mov esi, ebx                    ; boot info physical address
    mov esp, boot_stack_top

    ; Zero .bss ourselves: not every loader honours bss_end_addr.
    mov ebp, edi                    ; the stack is in .bss: keep magic in a register
    mov edi, __load_end
    mov ecx, __image_end
    sub ecx, edi
    xor eax, eax
    rep stosb
    mov edi, ebp

    ; Long mode is mandatory: CPUID 0x80000001 EDX bit 29.
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode

    ; Identity map 0..4 GiB with 2 MiB pages: PML4[0] -> PDPT, PDPT[0..3] -> 4 PDs.
    mov eax, boot_pdpt
    or eax, PTE_P | PTE_W
    mov [boot_pml4], eax
    mov ecx, 0
.pdpt_loop:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd
    or eax, PTE_P | PTE_W
    mov [boot_pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jne .pdpt_loop
    mov ecx, 0                      ; 2048 PDEs of 2 MiB each
.pd_loop:
    mov eax, ecx
    shl eax, 21
    or eax, PTE_P | PTE_W | PTE_PS
    mov edx, ecx
    shr edx, 11                     ; high dword of the address: always 0 below 4 GiB
    mov [boot_pd + ecx * 8], eax
    mov [boot_pd + ecx * 8 + 4], edx
    inc ecx
    cmp ecx, 2048
    jne .pd_loop

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov eax, cr0
    or eax, CR0_PE | CR0_PG | CR0_WP
    mov cr0, eax
    lgdt [boot_gdt_ptr32]
    jmp BOOT_CS:long_mode_entry

.no_long_mode:
    mov esi, msg_no_lm
.putc:
    lodsb
    test al, al
    jz .dead
    mov ah, al
    mov ecx, 100000                 ; bounded wait: a missing UART must not hang us here
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jnz .send
    loop .wait
.send:
    mov al, ah
    mov dx, COM1
    out dx, al
    jmp .putc
.dead:
    hlt
    jmp .dead

bits 64
long_mode_entry:
    mov ax, BOOT_DS
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, boot_stack_top
    xor ebp, ebp                    ; terminates frame-pointer stack traces
    ; edi = magic, esi = info (zero-extended by the 32-bit moves above)
    mov edi, edi
    mov esi, esi
    call kmain
.hang:
    cli
    hlt
    jmp .hang

section .rodata
msg_no_lm: db "monovisor: FATAL: this CPU has no long mode (x86-64); cannot run", 13, 10, 0

align 16
boot_gdt:
    dq 0
    dq 0x00AF9A000000FFFF           ; 0x08: 64-bit code, DPL0
    dq 0x00CF92000000FFFF           ; 0x10: data, DPL0
boot_gdt_end:
boot_gdt_ptr32:
    dw boot_gdt_end - boot_gdt - 1
    dd boot_gdt

section .bss
align 4096
boot_pml4:  resb 4096
boot_pdpt:  resb 4096
boot_pd:    resb 4096 * 4
; The guard page below the boot stack is unmapped once host paging is built, so an
; overflow faults (and #DF on its own IST stack reports it) instead of corrupting .bss.
boot_stack_guard:  resb 4096
boot_stack_bottom: resb BOOT_STACK_SIZE
boot_stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
