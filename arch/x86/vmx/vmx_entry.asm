; VM entry and exit. vmx_run(regs, launched) loads the guest GPRs (and CR2, which the VMCS
; does not hold), enters the guest, and returns 0 after a VM exit with the guest GPRs saved,
; or 1 if VMLAUNCH/VMRESUME itself failed. TSC stamps are taken as the last thing before
; entry and the first thing after exit, so a trace record covers the whole software path.
bits 64
%include "vcpu_regs.inc"

VMCS_HOST_RSP equ 0x6C14

global vmx_run, vmx_exit_point
section .text

vmx_run:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push rdi                        ; the regs pointer, found at [rsp] after an exit
    mov rax, VMCS_HOST_RSP
    vmwrite rax, rsp
    mov r15d, esi                   ; launched flag survives rdtsc
    mov rax, [rdi + REGS_CR2]
    mov cr2, rax
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov [rdi + REGS_ENTRY_TSC], rax
    test r15d, r15d                 ; flags are kept by the MOVs below
    mov rax, [rdi + REGS_RAX]
    mov rcx, [rdi + REGS_RCX]
    mov rdx, [rdi + REGS_RDX]
    mov rbx, [rdi + REGS_RBX]
    mov rbp, [rdi + REGS_RBP]
    mov rsi, [rdi + REGS_RSI]
    mov r8,  [rdi + REGS_R8]
    mov r9,  [rdi + REGS_R9]
    mov r10, [rdi + REGS_R10]
    mov r11, [rdi + REGS_R11]
    mov r12, [rdi + REGS_R12]
    mov r13, [rdi + REGS_R13]
    mov r14, [rdi + REGS_R14]
    mov r15, [rdi + REGS_R15]
    mov rdi, [rdi + REGS_RDI]
    jnz .resume
    vmlaunch
    jmp .failed
.resume:
    vmresume
.failed:
    ; Still in the host with guest values in registers: restore ours and report.
    pop rdi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    mov eax, 1
    ret

vmx_exit_point:
    push rdx
    push rax
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov rdx, [rsp + 16]             ; regs pointer
    mov [rdx + REGS_EXIT_TSC], rax
    pop rax
    mov [rdx + REGS_RAX], rax
    pop rax
    mov [rdx + REGS_RDX], rax
    mov [rdx + REGS_RCX], rcx
    mov [rdx + REGS_RBX], rbx
    mov [rdx + REGS_RBP], rbp
    mov [rdx + REGS_RSI], rsi
    mov [rdx + REGS_RDI], rdi
    mov [rdx + REGS_R8],  r8
    mov [rdx + REGS_R9],  r9
    mov [rdx + REGS_R10], r10
    mov [rdx + REGS_R11], r11
    mov [rdx + REGS_R12], r12
    mov [rdx + REGS_R13], r13
    mov [rdx + REGS_R14], r14
    mov [rdx + REGS_R15], r15
    mov rax, cr2
    mov [rdx + REGS_CR2], rax
    pop rdi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    xor eax, eax
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
