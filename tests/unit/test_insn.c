/* x86 decoder and emulator for MMIO. Every encoding below is assembled by the host assembler
 * (top-level asm in .code16/.code32/.code64), so the decoder is checked against what real
 * tools emit: decoded length = assembled length, mnemonic, operand and address size, and the
 * linear address for a known register file. Emulation runs against a fake memory that logs
 * every access (direction, address, width). Arithmetic and BT flags are cross-checked by
 * running the same operation natively on the host with the flags pushed and popped: the CPU
 * is the oracle. References are to the Intel SDM (Vol. 1 = basic architecture, Vol. 2 =
 * instruction set reference). */
#include "test.h"
#include <stdlib.h>
#include "arch/x86/insn_decode.h"
#include "arch/x86/insn_emulate.h"

/* ---- encodings ---------------------------------------------------------------------------- */

#define ACC_R       1       /* one read of the operand */
#define ACC_W       2       /* one write */
#define ACC_RW      3       /* one read then one write, same address and size */
#define ACC_MOVS    4       /* read the source, then write ES:rDI */
#define ACC_REP     5       /* a REP string: the first access is at the address */

/* X(id, mode, asm text, mnemonic, operand size, address size, memory access size, linear
 * address with std_env(mode), access kind) */
#define DECODE_CASES(X) \
    /* 64-bit: ModRM/SIB forms (SDM Vol. 2 tables 2-2, 2-3), REX (2.2.1), RIP-relative (2.2.1.6) */ \
    X(m64_st32,       64, "movl %eax, 0x10(%rbx)",            "mov", 4, 8, 4, 0x10110, ACC_W) \
    X(m64_st8,        64, "movb %al, (%rbx)",                 "mov", 1, 8, 1, 0x10100, ACC_W) \
    X(m64_st16,       64, "movw %ax, -0x10(%rbx)",            "mov", 2, 8, 2, 0x100F0, ACC_W) \
    X(m64_st64_sib,   64, "movq %rax, 0x100(%rbx,%rcx,4)",    "mov", 8, 8, 8, 0x10280, ACC_W) \
    X(m64_ld32,       64, "movl 0x10(%rsi), %edx",            "mov", 4, 8, 4, 0x10210, ACC_R) \
    X(m64_ld8h,       64, "movb (%rdi), %ah",                 "mov", 1, 8, 1, 0x10300, ACC_R) \
    X(m64_ld8sil,     64, "movb (%rdi), %sil",                "mov", 1, 8, 1, 0x10300, ACC_R) \
    X(m64_st8sil,     64, "movb %sil, (%rbx)",                "mov", 1, 8, 1, 0x10100, ACC_W) \
    X(m64_st8dh,      64, "movb %dh, (%rbx)",                 "mov", 1, 8, 1, 0x10100, ACC_W) \
    X(m64_ld64r,      64, "movq (%r8), %r9",                  "mov", 8, 8, 8, 0x10800, ACC_R) \
    X(m64_st_r10,     64, "movl %r10d, (%r11,%rcx,8)",        "mov", 4, 8, 4, 0x10C00, ACC_W) \
    X(m64_st_rexx,    64, "movl %eax, (%rbx,%r12,1)",         "mov", 4, 8, 4, 0x20D00, ACC_W) \
    X(m64_r13,        64, "movl %eax, (%r13)",                "mov", 4, 8, 4, 0x10D00, ACC_W) \
    X(m64_r12,        64, "movl %eax, (%r12)",                "mov", 4, 8, 4, 0x10C00, ACC_W) \
    X(m64_nobase,     64, "movl %eax, (,%rcx,8)",             "mov", 4, 8, 4, 0x100,   ACC_W) \
    X(m64_abs,        64, "movl %ecx, 0x10100",               "mov", 4, 8, 4, 0x10100, ACC_W) \
    X(m64_imm32,      64, "movl $0x12345678, 0x20(%rbp)",     "mov", 4, 8, 4, 0x10420, ACC_W) \
    X(m64_imm8,       64, "movb $0x5a, (%rsp)",               "mov", 1, 8, 1, 0x10500, ACC_W) \
    X(m64_imm64,      64, "movq $-1, 8(%rbx)",                "mov", 8, 8, 8, 0x10108, ACC_W) \
    X(m64_imm16,      64, "movw $0x1234, (%rbx)",             "mov", 2, 8, 2, 0x10100, ACC_W) \
    X(m64_rip,        64, "movl %eax, 0x100(%rip)",           "mov", 4, 8, 4, 0x10106, ACC_W) \
    X(m64_rip_imm,    64, "movl $1, 0x100(%rip)",             "mov", 4, 8, 4, 0x1010A, ACC_W) \
    X(m64_rip_imm8,   64, "movb $1, -0x10(%rip)",             "mov", 1, 8, 1, 0xFFF7,  ACC_W) \
    X(m64_rip_ld,     64, "movq 0x20(%rip), %rax",            "mov", 8, 8, 8, 0x10027, ACC_R) \
    X(m64_eip_ld,     64, "movl 0x20(%eip), %eax",            "mov", 4, 4, 4, 0x10027, ACC_R) \
    X(m64_fs_abs,     64, "movl %fs:0x10, %eax",              "mov", 4, 8, 4, 0x1010,  ACC_R) \
    X(m64_gs,         64, "movl %gs:(%rbx), %eax",            "mov", 4, 8, 4, 0x12100, ACC_R) \
    X(m64_es_null,    64, ".byte 0x26\n movl (%rbx), %eax",   "mov", 4, 8, 4, 0x10100, ACC_R) \
    X(m64_ss_null,    64, "movl %ss:(%rbx), %eax",            "mov", 4, 8, 4, 0x10100, ACC_R) \
    X(m64_moffs_ld,   64, "movabs 0x10100, %eax",             "mov", 4, 8, 4, 0x10100, ACC_R) \
    X(m64_moffs_st8,  64, "movabs %al, 0x10100",              "mov", 1, 8, 1, 0x10100, ACC_W) \
    X(m64_moffs_st64, 64, "movabs %rax, 0x10100",             "mov", 8, 8, 8, 0x10100, ACC_W) \
    X(m64_moffs_fs,   64, ".byte 0x64\n movabs 0x100, %al",   "mov", 1, 8, 1, 0x1100,  ACC_R) \
    X(m64_moffs32,    64, ".byte 0x67, 0xa1, 0, 1, 1, 0",     "mov", 4, 4, 4, 0x10100, ACC_R) \
    X(m64_movzbl,     64, "movzbl (%rbx), %eax",              "movzx", 4, 8, 1, 0x10100, ACC_R) \
    X(m64_movzwq,     64, "movzwq (%rbx), %rax",              "movzx", 8, 8, 2, 0x10100, ACC_R) \
    X(m64_movsbw,     64, "movsbw (%rbx), %ax",               "movsx", 2, 8, 1, 0x10100, ACC_R) \
    X(m64_movswl,     64, "movswl (%rbx), %eax",              "movsx", 4, 8, 2, 0x10100, ACC_R) \
    X(m64_movsbq_r8,  64, "movsbq (%rbx), %r8",               "movsx", 8, 8, 1, 0x10100, ACC_R) \
    X(m64_movslq,     64, "movslq (%rbx), %rax",              "movsxd", 8, 8, 4, 0x10100, ACC_R) \
    X(m64_movsxd32,   64, ".byte 0x63, 0x03",                 "movsxd", 4, 8, 4, 0x10100, ACC_R) \
    X(m64_movsxd16,   64, ".byte 0x66, 0x63, 0x03",           "movsxd", 2, 8, 2, 0x10100, ACC_R) \
    X(m64_movsb,      64, "movsb",                            "movs", 1, 8, 1, 0x10200, ACC_MOVS) \
    X(m64_movsl,      64, "movsl",                            "movs", 4, 8, 4, 0x10200, ACC_MOVS) \
    X(m64_rep_movsq,  64, "rep movsq",                        "movs", 8, 8, 8, 0x10200, ACC_REP) \
    X(m64_fs_movsb,   64, ".byte 0x64\n movsb",               "movs", 1, 8, 1, 0x11200, ACC_MOVS) \
    X(m64_rep_stosb,  64, "rep stosb",                        "stos", 1, 8, 1, 0x10300, ACC_REP) \
    X(m64_stosw,      64, "stosw",                            "stos", 2, 8, 2, 0x10300, ACC_W) \
    X(m64_stosq,      64, "stosq",                            "stos", 8, 8, 8, 0x10300, ACC_W) \
    X(m64_lodsl,      64, "lodsl",                            "lods", 4, 8, 4, 0x10200, ACC_R) \
    X(m64_a32_movsb,  64, "addr32 rep movsb",                 "movs", 1, 4, 1, 0x10200, ACC_REP) \
    X(m64_add,        64, "addl %eax, (%rbx)",                "add", 4, 8, 4, 0x10100, ACC_RW) \
    X(m64_add_to_reg, 64, "addb (%rbx), %cl",                 "add", 1, 8, 1, 0x10100, ACC_R) \
    X(m64_or_imm16,   64, "orw $0x1234, (%rbx)",              "or", 2, 8, 2, 0x10100, ACC_RW) \
    X(m64_and_imm8q,  64, "andq $-16, (%rbx)",                "and", 8, 8, 8, 0x10100, ACC_RW) \
    X(m64_sub_imm32,  64, "subl $0x12345678, 4(%rbx)",        "sub", 4, 8, 4, 0x10104, ACC_RW) \
    X(m64_xor_imm8,   64, "xorb $0x55, (%rbx)",               "xor", 1, 8, 1, 0x10100, ACC_RW) \
    X(m64_cmp,        64, "cmpl %ecx, (%rbx)",                "cmp", 4, 8, 4, 0x10100, ACC_R) \
    X(m64_cmp_reg,    64, "cmpq (%rbx), %rcx",                "cmp", 8, 8, 8, 0x10100, ACC_R) \
    X(m64_adc,        64, "adcl %eax, (%rbx)",                "adc", 4, 8, 4, 0x10100, ACC_RW) \
    X(m64_sbb,        64, "sbbq $1, (%rbx)",                  "sbb", 8, 8, 8, 0x10100, ACC_RW) \
    X(m64_test,       64, "testb %al, (%rbx)",                "test", 1, 8, 1, 0x10100, ACC_R) \
    X(m64_test_imm,   64, "testl $0x80, (%rbx)",              "test", 4, 8, 4, 0x10100, ACC_R) \
    X(m64_test_imm8,  64, "testb $1, (%rbx)",                 "test", 1, 8, 1, 0x10100, ACC_R) \
    X(m64_lock_add,   64, "lock addl %eax, (%rbx)",           "add", 4, 8, 4, 0x10100, ACC_RW) \
    X(m64_lock_or,    64, "lock orl $1, (%rbx)",              "or", 4, 8, 4, 0x10100, ACC_RW) \
    X(m64_xchg,       64, "xchgl %eax, (%rbx)",               "xchg", 4, 8, 4, 0x10100, ACC_RW) \
    X(m64_xchg8,      64, "xchgb %cl, (%rbx)",                "xchg", 1, 8, 1, 0x10100, ACC_RW) \
    X(m64_xchg64,     64, "xchgq %r15, 8(%rbx)",              "xchg", 8, 8, 8, 0x10108, ACC_RW) \
    X(m64_bt,         64, "btl %ecx, (%rbx)",                 "bt", 4, 8, 4, 0x10104, ACC_R) \
    X(m64_bts,        64, "btsq %rcx, (%rbx)",                "bts", 8, 8, 8, 0x10100, ACC_RW) \
    X(m64_btr,        64, "btrw %cx, (%rbx)",                 "btr", 2, 8, 2, 0x10104, ACC_RW) \
    X(m64_btc_imm,    64, "btcl $5, (%rbx)",                  "btc", 4, 8, 4, 0x10100, ACC_RW) \
    X(m64_bt_imm,     64, "btq $63, (%rbx)",                  "bt", 8, 8, 8, 0x10100, ACC_R) \
    X(m64_lock_bts,   64, "lock btsl %edx, (%rbx)",           "bts", 4, 8, 4, 0x10108, ACC_RW) \
    X(m64_not,        64, "notl (%rbx)",                      "not", 4, 8, 4, 0x10100, ACC_RW) \
    X(m64_neg,        64, "negb (%rbx)",                      "neg", 1, 8, 1, 0x10100, ACC_RW) \
    X(m64_inc,        64, "incw (%rbx)",                      "inc", 2, 8, 2, 0x10100, ACC_RW) \
    X(m64_dec,        64, "decq (%rbx)",                      "dec", 8, 8, 8, 0x10100, ACC_RW) \
    X(m64_lock_inc,   64, "lock incl (%rbx)",                 "inc", 4, 8, 4, 0x10100, ACC_RW) \
    X(m64_w_over_66,  64, ".byte 0x66, 0x48, 0x89, 0x03",     "mov", 8, 8, 8, 0x10100, ACC_W) \
    X(m64_rex_lost,   64, ".byte 0x48, 0x66, 0x89, 0x03",     "mov", 2, 8, 2, 0x10100, ACC_W) \
    X(m64_a32,        64, "movl %eax, (%ebx)",                "mov", 4, 4, 4, 0x10100, ACC_W) \
    X(m64_rep_ign,    64, "rep; movl %eax, (%rbx)",           "mov", 4, 8, 4, 0x10100, ACC_W) \
    /* 32-bit: default segments (SDM Vol. 1 table 3-5: SS for an EBP/ESP base) */ \
    X(m32_st,         32, "movl %eax, 0x10(%ebx)",            "mov", 4, 4, 4, 0x10110, ACC_W) \
    X(m32_ebp,        32, "movl %eax, (%ebp)",                "mov", 4, 4, 4, 0x10500, ACC_W) \
    X(m32_esp,        32, "movl %eax, 4(%esp)",               "mov", 4, 4, 4, 0x10604, ACC_W) \
    X(m32_ebp_idx,    32, "movl %eax, (%ebp,%ecx,2)",         "mov", 4, 4, 4, 0x10540, ACC_W) \
    X(m32_idx_ebp,    32, "movl %eax, (%ecx,%ebp,1)",         "mov", 4, 4, 4, 0x10420, ACC_W) \
    X(m32_abs,        32, "movl %ecx, 0x10100",               "mov", 4, 4, 4, 0x10100, ACC_W) \
    X(m32_nobase,     32, "movl %ecx, 0x100(,%edx,4)",        "mov", 4, 4, 4, 0x200,   ACC_W) \
    X(m32_fs16,       32, "movw %ax, %fs:(%ebx)",             "mov", 2, 4, 2, 0x11100, ACC_W) \
    X(m32_es8h,       32, "movb %ah, %es:(%edi)",             "mov", 1, 4, 1, 0x10300, ACC_W) \
    X(m32_ss,         32, "movl %ss:(%ebx), %eax",            "mov", 4, 4, 4, 0x10200, ACC_R) \
    X(m32_ds_ebp,     32, "movl %ds:(%ebp), %eax",            "mov", 4, 4, 4, 0x10400, ACC_R) \
    X(m32_gs_ld,      32, "movb %gs:0x10(%esi), %dl",         "mov", 1, 4, 1, 0x12210, ACC_R) \
    X(m32_a16,        32, "movl %eax, (%bx,%si)",             "mov", 4, 2, 4, 0x300,   ACC_W) \
    X(m32_imm32,      32, "movl $0xdeadbeef, (%ebx)",         "mov", 4, 4, 4, 0x10100, ACC_W) \
    X(m32_imm8,       32, "movb $7, 1(%ebx)",                 "mov", 1, 4, 1, 0x10101, ACC_W) \
    X(m32_imm16,      32, "movw $-2, (%ebx)",                 "mov", 2, 4, 2, 0x10100, ACC_W) \
    X(m32_moffs8,     32, "movb 0x10100, %al",                "mov", 1, 4, 1, 0x10100, ACC_R) \
    X(m32_moffs16,    32, "movw %ax, 0x10100",                "mov", 2, 4, 2, 0x10100, ACC_W) \
    X(m32_moffs_a16,  32, ".byte 0x67, 0xa1, 0x00, 0x02",     "mov", 4, 2, 4, 0x200,   ACC_R) \
    X(m32_movzbl,     32, "movzbl (%ebx), %eax",              "movzx", 4, 4, 1, 0x10100, ACC_R) \
    X(m32_movzbw,     32, "movzbw (%ebx), %ax",               "movzx", 2, 4, 1, 0x10100, ACC_R) \
    X(m32_movswl,     32, "movswl (%ebx), %ecx",              "movsx", 4, 4, 2, 0x10100, ACC_R) \
    X(m32_movsbl,     32, "movsbl 3(%ebx), %edx",             "movsx", 4, 4, 1, 0x10103, ACC_R) \
    X(m32_rep_movsl,  32, "rep movsl",                        "movs", 4, 4, 4, 0x10200, ACC_REP) \
    X(m32_movsw,      32, "movsw",                            "movs", 2, 4, 2, 0x10200, ACC_MOVS) \
    X(m32_stosb,      32, "stosb",                            "stos", 1, 4, 1, 0x10300, ACC_W) \
    X(m32_rep_stosl,  32, "rep stosl",                        "stos", 4, 4, 4, 0x10300, ACC_REP) \
    X(m32_lodsb,      32, "lodsb",                            "lods", 1, 4, 1, 0x10200, ACC_R) \
    X(m32_a16_movsb,  32, ".byte 0x67, 0xf3, 0xa4",           "movs", 1, 2, 1, 0x200,   ACC_REP) \
    X(m32_gs_movsb,   32, ".byte 0x65, 0xa4",                 "movs", 1, 4, 1, 0x12200, ACC_MOVS) \
    X(m32_add_imm8,   32, "addl $1, (%ebx)",                  "add", 4, 4, 4, 0x10100, ACC_RW) \
    X(m32_sub16,      32, "subw %ax, (%ebx)",                 "sub", 2, 4, 2, 0x10100, ACC_RW) \
    X(m32_cmp_imm8,   32, "cmpb $0x10, (%ebx)",               "cmp", 1, 4, 1, 0x10100, ACC_R) \
    X(m32_and_to_reg, 32, "andl (%ebx), %ecx",                "and", 4, 4, 4, 0x10100, ACC_R) \
    X(m32_or8,        32, "orb %cl, (%ebx)",                  "or", 1, 4, 1, 0x10100, ACC_RW) \
    X(m32_xor_to_reg, 32, "xorl 4(%ebx), %eax",               "xor", 4, 4, 4, 0x10104, ACC_R) \
    X(m32_adc_imm16,  32, "adcw $0x1234, (%ebx)",             "adc", 2, 4, 2, 0x10100, ACC_RW) \
    X(m32_sbb,        32, "sbbl %edx, (%ebx)",                "sbb", 4, 4, 4, 0x10100, ACC_RW) \
    X(m32_test16,     32, "testw %ax, (%ebx)",                "test", 2, 4, 2, 0x10100, ACC_R) \
    X(m32_test_imm,   32, "testl $0x10000, (%ebx)",           "test", 4, 4, 4, 0x10100, ACC_R) \
    X(m32_xchg16,     32, "xchgw %cx, (%ebx)",                "xchg", 2, 4, 2, 0x10100, ACC_RW) \
    X(m32_bts,        32, "btsl %ecx, (%ebx)",                "bts", 4, 4, 4, 0x10104, ACC_RW) \
    X(m32_bt_imm,     32, "btw $3, (%ebx)",                   "bt", 2, 4, 2, 0x10100, ACC_R) \
    X(m32_btr_imm,    32, "btrl $31, (%ebx)",                 "btr", 4, 4, 4, 0x10100, ACC_RW) \
    X(m32_btc16,      32, "btcw %dx, (%ebx)",                 "btc", 2, 4, 2, 0x10108, ACC_RW) \
    X(m32_neg,        32, "negl (%ebx)",                      "neg", 4, 4, 4, 0x10100, ACC_RW) \
    X(m32_not8,       32, "notb (%ebx)",                      "not", 1, 4, 1, 0x10100, ACC_RW) \
    X(m32_inc,        32, "incl (%ebx)",                      "inc", 4, 4, 4, 0x10100, ACC_RW) \
    X(m32_dec8,       32, "decb (%ebx)",                      "dec", 1, 4, 1, 0x10100, ACC_RW) \
    X(m32_lock_xor,   32, "lock xorl %eax, (%ebx)",           "xor", 4, 4, 4, 0x10100, ACC_RW) \
    X(m32_grp1_82,    32, ".byte 0x82, 0x03, 0x01",           "add", 1, 4, 1, 0x10100, ACC_RW) \
    /* 16-bit: SDM Vol. 2 table 2-1 (BX/BP + SI/DI), SS for BP, 16-bit wrap of the EA */ \
    X(m16_bx_si,      16, "movw %ax, (%bx,%si)",              "mov", 2, 2, 2, 0x10300, ACC_W) \
    X(m16_bx_di_d8,   16, "movw %ax, 0x10(%bx,%di)",          "mov", 2, 2, 2, 0x10410, ACC_W) \
    X(m16_bp_si,      16, "movb %al, -2(%bp,%si)",            "mov", 1, 2, 1, 0x115FE, ACC_W) \
    X(m16_bp_di,      16, "movw (%bp,%di), %cx",              "mov", 2, 2, 2, 0x11700, ACC_R) \
    X(m16_si_d16,     16, "movw 0x1234(%si), %ax",            "mov", 2, 2, 2, 0x11434, ACC_R) \
    X(m16_di,         16, "movw %ax, (%di)",                  "mov", 2, 2, 2, 0x10300, ACC_W) \
    X(m16_bp,         16, "movw %ax, (%bp)",                  "mov", 2, 2, 2, 0x11400, ACC_W) \
    X(m16_abs,        16, "movw %cx, 0x2000",                 "mov", 2, 2, 2, 0x12000, ACC_W) \
    X(m16_bx,         16, "movw (%bx), %dx",                  "mov", 2, 2, 2, 0x10100, ACC_R) \
    X(m16_wrap,       16, "movw %ax, -0x400(%bx,%si)",        "mov", 2, 2, 2, 0x1FF00, ACC_W) \
    X(m16_op32,       16, "movl %eax, (%bx)",                 "mov", 4, 2, 4, 0x10100, ACC_W) \
    X(m16_a32,        16, "movl %eax, (%ebx)",                "mov", 4, 4, 4, 0x20100, ACC_W) \
    X(m16_a32_sib,    16, "movl %eax, (%ebx,%ecx,4)",         "mov", 4, 4, 4, 0x20180, ACC_W) \
    X(m16_fs,         16, "movw %fs:(%bx), %ax",              "mov", 2, 2, 2, 0x12100, ACC_R) \
    X(m16_ss,         16, "movw %ss:(%bx), %ax",              "mov", 2, 2, 2, 0x11100, ACC_R) \
    X(m16_ds_bp,      16, "movw %ds:(%bp), %ax",              "mov", 2, 2, 2, 0x10400, ACC_R) \
    X(m16_cs,         16, "movb %cs:(%si), %al",              "mov", 1, 2, 1, 0x200,   ACC_R) \
    X(m16_gs,         16, "movb %gs:(%di), %al",              "mov", 1, 2, 1, 0x13300, ACC_R) \
    X(m16_imm16,      16, "movw $0x1234, (%bx)",              "mov", 2, 2, 2, 0x10100, ACC_W) \
    X(m16_imm8,       16, "movb $0x12, 1(%bx)",               "mov", 1, 2, 1, 0x10101, ACC_W) \
    X(m16_imm32,      16, "movl $0x12345678, (%bx)",          "mov", 4, 2, 4, 0x10100, ACC_W) \
    X(m16_moffs8,     16, "movb 0x10, %al",                   "mov", 1, 2, 1, 0x10010, ACC_R) \
    X(m16_moffs16,    16, "movw %ax, 0x20",                   "mov", 2, 2, 2, 0x10020, ACC_W) \
    X(m16_moffs32,    16, "movl 0x30, %eax",                  "mov", 4, 2, 4, 0x10030, ACC_R) \
    X(m16_moffs_fs,   16, "movw %fs:0x40, %ax",               "mov", 2, 2, 2, 0x12040, ACC_R) \
    X(m16_movzbw,     16, "movzbw (%bx), %ax",                "movzx", 2, 2, 1, 0x10100, ACC_R) \
    X(m16_movzbl,     16, "movzbl (%bx), %eax",               "movzx", 4, 2, 1, 0x10100, ACC_R) \
    X(m16_movsbw,     16, "movsbw (%si), %cx",                "movsx", 2, 2, 1, 0x10200, ACC_R) \
    X(m16_movzwl,     16, "movzwl (%di), %edx",               "movzx", 4, 2, 2, 0x10300, ACC_R) \
    X(m16_movswl,     16, "movswl (%bx), %eax",               "movsx", 4, 2, 2, 0x10100, ACC_R) \
    X(m16_movsb,      16, "movsb",                            "movs", 1, 2, 1, 0x10200, ACC_MOVS) \
    X(m16_rep_movsw,  16, "rep movsw",                        "movs", 2, 2, 2, 0x10200, ACC_REP) \
    X(m16_stosb,      16, "stosb",                            "stos", 1, 2, 1, 0x10300, ACC_W) \
    X(m16_rep_stosw,  16, "rep stosw",                        "stos", 2, 2, 2, 0x10300, ACC_REP) \
    X(m16_lodsw,      16, "lodsw",                            "lods", 2, 2, 2, 0x10200, ACC_R) \
    X(m16_rep_movsl,  16, "rep movsl",                        "movs", 4, 2, 4, 0x10200, ACC_REP) \
    X(m16_a32_movsb,  16, ".byte 0x67, 0xa4",                 "movs", 1, 4, 1, 0x20200, ACC_MOVS) \
    X(m16_fs_movsb,   16, ".byte 0x64, 0xa4",                 "movs", 1, 2, 1, 0x12200, ACC_MOVS) \
    X(m16_add,        16, "addw %ax, (%bx)",                  "add", 2, 2, 2, 0x10100, ACC_RW) \
    X(m16_or_imm8,    16, "orb $1, (%bx,%si)",                "or", 1, 2, 1, 0x10300, ACC_RW) \
    X(m16_cmp_imm16,  16, "cmpw $0x1234, (%di)",              "cmp", 2, 2, 2, 0x10300, ACC_R) \
    X(m16_test_imm,   16, "testw $0x8000, (%bx)",             "test", 2, 2, 2, 0x10100, ACC_R) \
    X(m16_adc_to_reg, 16, "adcw (%bx), %cx",                  "adc", 2, 2, 2, 0x10100, ACC_R) \
    X(m16_sbb8,       16, "sbbb %al, (%bx)",                  "sbb", 1, 2, 1, 0x10100, ACC_RW) \
    X(m16_xor_sext,   16, "xorw $-1, (%bx)",                  "xor", 2, 2, 2, 0x10100, ACC_RW) \
    X(m16_and32,      16, "andl %eax, (%bx)",                 "and", 4, 2, 4, 0x10100, ACC_RW) \
    X(m16_sub_bp,     16, "subb (%bp), %dl",                  "sub", 1, 2, 1, 0x11400, ACC_R) \
    X(m16_xchg,       16, "xchgw %ax, (%bx)",                 "xchg", 2, 2, 2, 0x10100, ACC_RW) \
    X(m16_xchg8h,     16, "xchgb %ah, (%si)",                 "xchg", 1, 2, 1, 0x10200, ACC_RW) \
    X(m16_bt,         16, "btw %cx, (%bx)",                   "bt", 2, 2, 2, 0x10104, ACC_R) \
    X(m16_bts_imm,    16, "btsw $15, (%bx)",                  "bts", 2, 2, 2, 0x10100, ACC_RW) \
    X(m16_btr32,      16, "btrl %ecx, (%bx)",                 "btr", 4, 2, 4, 0x10104, ACC_RW) \
    X(m16_btc_imm,    16, "btcw $1, (%di)",                   "btc", 2, 2, 2, 0x10300, ACC_RW) \
    X(m16_not,        16, "notw (%bx)",                       "not", 2, 2, 2, 0x10100, ACC_RW) \
    X(m16_inc8,       16, "incb (%si)",                       "inc", 1, 2, 1, 0x10200, ACC_RW) \
    X(m16_dec,        16, "decw (%di)",                       "dec", 2, 2, 2, 0x10300, ACC_RW) \
    X(m16_neg32,      16, "negl (%bx)",                       "neg", 4, 2, 4, 0x10100, ACC_RW) \
    X(m16_lock_dec,   16, "lock decw (%bx)",                  "dec", 2, 2, 2, 0x10100, ACC_RW)

/* Encodings used only by the value tests. */
#define EXTRA_CASES(X) \
    X(x64_bt_imm33,   64, ".byte 0x0f, 0xba, 0x23, 33")       /* btl $33: taken mod 32 */ \
    X(x64_max_len,    64, ".byte 0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e\n movw $0x1234, (%rbx)") \
    X(x64_too_long,   64, ".byte 0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e,0x3e\n movw $0x1234, (%rbx)") \
    X(x64_two_segs,   64, ".byte 0x64, 0x65\n movl (%rbx), %eax") \
    X(x64_std_movsl,  64, "rep movsl") \
    X(x64_rep_movsb,  64, "rep movsb") \
    X(x32_two_segs,   32, ".byte 0x65, 0x64\n movl (%ebx), %eax")

#define ASM_DIRECTIVE(mode) ".code" #mode
#define MODE_OF(mode) ((mode) == 16 ? INSN_MODE_16 : (mode) == 32 ? INSN_MODE_32 : INSN_MODE_64)

#define ENC(id, mode, text, ...) \
    __asm__(".pushsection .rodata\n" ASM_DIRECTIVE(mode) "\n" #id ":\n\t" text "\n" #id "_end:\n" \
            "\t.code64\n\t.popsection\n"); \
    extern const uint8_t id[], id##_end[];
DECODE_CASES(ENC)
EXTRA_CASES(ENC)

struct dcase {
    const char *id, *text;
    const uint8_t *code, *end;
    enum insn_mode mode;
    const char *name;
    unsigned op_size, addr_size, mem_size;
    uint64_t linear;
    int acc;
};
#define ROW(id, mode, text, name, osz, asz, msz, lin, acc) \
    { #id, text, id, id##_end, MODE_OF(mode), name, osz, asz, msz, lin, acc },
static const struct dcase dcases[] = { DECODE_CASES(ROW) };

/* ---- fake memory ---------------------------------------------------------------------------- */

#define MEM_SIZE        0x40000     /* linear 0..256 KiB is RAM; above it, accesses fail */
#define LOG_MAX         256
#define FLAGS_FIXED     0x2ull      /* RFLAGS bit 1 is always set */

static uint8_t mem[MEM_SIZE];
struct access { bool write; uint64_t linear; unsigned size; };
static struct access acc_log[LOG_MAX];
static unsigned nacc, nbad_size;
static long fail_from = -1;         /* accesses with this index and later fail */
static bool permissive;             /* fuzz: every address answers */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t xorshift(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static bool in_ram(uint64_t lin, unsigned size)
{
    return lin < MEM_SIZE && size <= MEM_SIZE - lin;
}

static bool log_access(bool write, uint64_t lin, unsigned size)
{
    if (size != 1 && size != 2 && size != 4 && size != 8)
        nbad_size++;
    unsigned i = nacc++;
    if (i < LOG_MAX)
        acc_log[i] = (struct access){ write, lin, size };
    if (fail_from >= 0 && i >= (unsigned long)fail_from)
        return false;
    return permissive || in_ram(lin, size);
}

static bool fake_read(void *ctx, uint64_t lin, void *buf, unsigned size)
{
    if (!log_access(false, lin, size))
        return false;
    if (in_ram(lin, size)) {
        memcpy(buf, mem + lin, size);
    } else {
        for (unsigned i = 0; i < size; i++)
            ((uint8_t *)buf)[i] = (uint8_t)xorshift();
    }
    return true;
}

static bool fake_write(void *ctx, uint64_t lin, const void *buf, unsigned size)
{
    if (!log_access(true, lin, size))
        return false;
    if (in_ram(lin, size))
        memcpy(mem + lin, buf, size);
    return true;
}

static void mem_reset(void)
{
    for (size_t i = 0; i < MEM_SIZE; i++)
        mem[i] = (uint8_t)(i * 7 + 3);
    nacc = nbad_size = 0;
    fail_from = -1;
    permissive = false;
}

static void put(uint64_t lin, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        mem[lin + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(uint64_t lin, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)mem[lin + i] << (8 * i);
    return v;
}

/* The register file the decode table's linear addresses assume. 16-bit: BX=0100 SI=0200
 * DI=0300 BP=0400 SP=0500 CX=0020 DX=0040; DS=ES base 10000, SS 11000, FS 12000, GS 13000.
 * 32-bit: flat except SS base 100, FS 1000, GS 2000. 64-bit: only FS 1000 and GS 2000 count
 * (ES/CS/SS/DS bases are poisoned to show they are ignored). */
static const uint64_t std_gpr[16] = {
    0x1122334455667788ull, 0x20, 0x40, 0x10100, 0x10500, 0x10400, 0x10200, 0x10300,
    0x10800, 0x10900, 0x10A00, 0x10B00, 0x10C00, 0x10D00, 0x10E00, 0x10F00,
};
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

static struct insn_env std_env(enum insn_mode mode)
{
    struct insn_env e = { .read = fake_read, .write = fake_write, .rflags = FLAGS_FIXED };
    memcpy(e.gpr, std_gpr, sizeof e.gpr);
    static const uint64_t seg16[6] = { 0x10000, 0, 0x11000, 0x10000, 0x12000, 0x13000 };
    static const uint64_t seg32[6] = { 0, 0, 0x100, 0, 0x1000, 0x2000 };
    static const uint64_t seg64[6] = { 0xDEAD0000, 0xDEAD0000, 0xDEAD0000, 0xDEAD0000, 0x1000, 0x2000 };
    const uint64_t *s = mode == INSN_MODE_16 ? seg16 : mode == INSN_MODE_32 ? seg32 : seg64;
    memcpy(e.seg_base, s, sizeof e.seg_base);
    e.rip = mode == INSN_MODE_64 ? 0x10000 : 0x1000;
    return e;
}

static int decode(const uint8_t *b, const uint8_t *e, enum insn_mode mode, struct insn *in)
{
    return insn_decode(b, (size_t)(e - b), mode, in);
}

/* Decodes (which must succeed with the assembled length) and emulates. */
static enum insn_result run_code(const uint8_t *b, const uint8_t *e, enum insn_mode mode,
                                 struct insn_env *env, unsigned max_reps)
{
    struct insn in;
    int n = decode(b, e, mode, &in);
    CHECK_EQ(n, e - b);
    if (n <= 0)
        return INSN_ABORT;
    return insn_emulate(&in, env, max_reps);
}
#define RUN(id, env, reps) run_code(id, id##_end, MODE_OF(id##_mode), env, reps)
#define MODE_DEF(id, mode, ...) enum { id##_mode = mode };
DECODE_CASES(MODE_DEF)
EXTRA_CASES(MODE_DEF)
#define LEN(id) ((uint64_t)(id##_end - id))

/* ---- the decode table ------------------------------------------------------------------------ */

/* Every row: assembled length, mnemonic, sizes, linear address, and the accesses emulation
 * makes (count, order, direction, width = what the guest used). */
TEST(decode_table_all_modes)
{
    for (size_t i = 0; i < ARRAY_SIZE(dcases); i++) {
        const struct dcase *c = &dcases[i];
        struct insn in;
        int n = decode(c->code, c->end, c->mode, &in);
        int want = (int)(c->end - c->code);
        if (n != want) {
            test_failed_checks++;
            fprintf(stderr, "  %s (%s): decode returned %d, assembled length %d\n", c->id, c->text, n, want);
            continue;
        }
        CHECK_EQ(in.length, want);
        CHECK_STR(insn_name(&in), c->name);
        struct insn_env env = std_env(c->mode);
        uint64_t lin = insn_mem_linear(&in, &env);
        if (in.op_size != c->op_size || in.addr_size != c->addr_size || lin != c->linear) {
            test_failed_checks++;
            fprintf(stderr, "  %s (%s): op_size %u addr_size %u linear %#llx, expected %u %u %#llx\n",
                    c->id, c->text, in.op_size, in.addr_size, (unsigned long long)lin,
                    c->op_size, c->addr_size, (unsigned long long)c->linear);
        }
        mem_reset();
        uint64_t rip0 = env.rip;
        enum insn_result r = insn_emulate(&in, &env, 1000);
        CHECK_EQ(r, INSN_DONE);
        CHECK_EQ(env.rip, rip0 + (uint64_t)want);
        CHECK_EQ(nbad_size, 0);
        bool ok = nacc >= 1 && acc_log[0].linear == c->linear && acc_log[0].size == c->mem_size;
        switch (c->acc) {
        case ACC_R:
            ok = ok && nacc == 1 && !acc_log[0].write;
            break;
        case ACC_W:
            ok = ok && nacc == 1 && acc_log[0].write;
            break;
        case ACC_RW:
            ok = ok && nacc == 2 && !acc_log[0].write && acc_log[1].write &&
                 acc_log[1].linear == c->linear && acc_log[1].size == c->mem_size;
            break;
        case ACC_MOVS:
            ok = ok && nacc == 2 && !acc_log[0].write && acc_log[1].write && acc_log[1].size == c->mem_size;
            break;
        default:
            break;
        }
        if (!ok) {
            test_failed_checks++;
            fprintf(stderr, "  %s (%s): %u accesses, first %s %#llx size %u\n", c->id, c->text, nacc,
                    nacc ? (acc_log[0].write ? "write" : "read") : "-",
                    nacc ? (unsigned long long)acc_log[0].linear : 0ull, nacc ? acc_log[0].size : 0);
        }
    }
}

/* SDM Vol. 2 2.3.11: an instruction is at most 15 bytes; any valid encoding cut short must
 * ask for more bytes, never be taken for something else, and never be read past its end
 * (each prefix is copied into a buffer of exactly that size for ASan). */
TEST(truncated_encodings_ask_for_more)
{
    for (size_t i = 0; i < ARRAY_SIZE(dcases); i++) {
        const struct dcase *c = &dcases[i];
        size_t len = (size_t)(c->end - c->code);
        for (size_t k = 0; k < len; k++) {
            uint8_t *buf = malloc(k ? k : 1);
            memcpy(buf, c->code, k);
            struct insn in;
            int r = insn_decode(buf, k, c->mode, &in);
            if (r != INSN_ETRUNC) {
                test_failed_checks++;
                fprintf(stderr, "  %s: %zu of %zu bytes gave %d\n", c->id, k, len, r);
            }
            free(buf);
        }
    }
}

/* ---- MOV, MOVZX/MOVSX ------------------------------------------------------------------------ */

/* SDM Vol. 1 3.4.1.1: 32-bit results zero-extend into the 64-bit register, 8/16-bit results
 * leave the rest alone; REX turns byte registers 4..7 from AH..BH into SPL..DIL (Vol. 2 2.2.1.2). */
TEST(mov_values_and_register_merge)
{
    mem_reset();
    struct insn_env env = std_env(INSN_MODE_64);
    put(0x10300, 0xAB, 1);
    CHECK_EQ(RUN(m64_ld8h, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RAX], 0x112233445566AB88ull);
    CHECK_EQ(env.rip, 0x10000 + LEN(m64_ld8h));
    CHECK_EQ(RUN(m64_ld8sil, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RSI], 0x102ABull);

    env = std_env(INSN_MODE_64);
    env.gpr[RDX] = 0xFFFFFFFF00000040ull;
    put(0x10210, 0xCAFEBABE, 4);
    CHECK_EQ(RUN(m64_ld32, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RDX], 0xCAFEBABEull);

    put(0x10800, 0x0102030405060708ull, 8);
    CHECK_EQ(RUN(m64_ld64r, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[R9], 0x0102030405060708ull);

    env = std_env(INSN_MODE_64);
    env.gpr[RSI] = 0x99;
    env.gpr[RDX] = 0x7700;
    CHECK_EQ(RUN(m64_st8sil, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 1), 0x99);
    CHECK_EQ(RUN(m64_st8dh, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 1), 0x77);

    mem_reset();
    env = std_env(INSN_MODE_64);
    uint8_t after = mem[0x10102];
    CHECK_EQ(RUN(m64_imm16, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 2), 0x1234);
    CHECK_EQ(mem[0x10102], after);              /* a 2-byte store touches 2 bytes */
    CHECK_EQ(RUN(m64_imm64, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10108, 8), ~0ull);           /* imm32 sign-extended to 64 bits */
    CHECK_EQ(RUN(m64_imm32, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10420, 4), 0x12345678);
    env.rip = 0x10000;
    CHECK_EQ(RUN(m64_rip, &env, 1), INSN_DONE);     /* relative to the next instruction */
    CHECK_EQ(get(0x10000 + LEN(m64_rip) + 0x100, 4), 0x55667788);
    CHECK_EQ(RUN(m64_moffs_st64, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 8), std_gpr[RAX]);
    put(0x10100, 0xF00DF00D, 4);
    CHECK_EQ(RUN(m64_moffs_ld, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RAX], 0xF00DF00Dull);
    CHECK_EQ(RUN(m64_w_over_66, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 8), 0xF00DF00Dull);

    /* 16-bit code: a 16-bit load merges, 66 makes it 32-bit. */
    mem_reset();
    env = std_env(INSN_MODE_16);
    env.gpr[RDX] = 0xAAAABBBBCCCCDDDDull;
    put(0x10100, 0x4321, 2);
    CHECK_EQ(RUN(m16_bx, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RDX], 0xAAAABBBBCCCC4321ull);
    CHECK_EQ(env.rip, 0x1000 + LEN(m16_bx));
    CHECK_EQ(RUN(m16_imm32, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 4), 0x12345678);
    CHECK_EQ(RUN(m16_wrap, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x1FF00, 2), 0x7788);

    /* 32-bit: an AH store, a byte immediate. */
    mem_reset();
    env = std_env(INSN_MODE_32);
    CHECK_EQ(RUN(m32_es8h, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10300, 1), 0x77);
    CHECK_EQ(RUN(m32_imm16, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 2), 0xFFFE);
    CHECK_EQ(RUN(m32_moffs8, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RAX], 0x11223344556677FEull);
}

/* MOVZX/MOVSX (SDM Vol. 2 MOVZX, MOVSX/MOVSXD): one read of the source width. */
TEST(movzx_movsx_values)
{
    mem_reset();
    struct insn_env env = std_env(INSN_MODE_64);
    put(0x10100, 0x80018080ull, 4);
    CHECK_EQ(RUN(m64_movzbl, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RAX], 0x80);
    env.gpr[RAX] = 0x1111111111111111ull;
    CHECK_EQ(RUN(m64_movsbw, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RAX], 0x111111111111FF80ull);
    CHECK_EQ(RUN(m64_movswl, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RAX], 0xFFFF8080ull);
    CHECK_EQ(RUN(m64_movzwq, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RAX], 0x8080ull);
    CHECK_EQ(RUN(m64_movsbq_r8, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[R8], 0xFFFFFFFFFFFFFF80ull);
    CHECK_EQ(RUN(m64_movslq, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RAX], 0xFFFFFFFF80018080ull);
    env.gpr[RAX] = ~0ull;
    CHECK_EQ(RUN(m64_movsxd32, &env, 1), INSN_DONE);  /* no REX.W: a plain 32-bit load */
    CHECK_EQ(env.gpr[RAX], 0x80018080ull);

    mem_reset();
    env = std_env(INSN_MODE_16);
    put(0x10200, 0xF0, 1);
    CHECK_EQ(RUN(m16_movsbw, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RCX], 0xFFF0);
    put(0x10300, 0x9000, 2);
    env.gpr[RDX] = 0xFFFFFFFFFFFFFFFFull;
    CHECK_EQ(RUN(m16_movzwl, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RDX], 0x9000);
}

/* ---- ALU, native oracle ------------------------------------------------------------------- */

/* The host runs the same operation with the same input flags; its pushed RFLAGS is the
 * reference. The red zone is skipped before pushing. */
#define FLAGS_IN  "lea -128(%%rsp), %%rsp\n\tpush %[fin]\n\tpopfq\n\t"
#define FLAGS_OUT "\n\tpushfq\n\tpop %[fl]\n\tlea 128(%%rsp), %%rsp"
typedef uint64_t (*native2_fn)(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fout);
typedef uint64_t (*native1_fn)(uint64_t a, uint64_t fin, uint64_t *fout);
#define NATIVE2(fn, mnem, T) \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fout) \
    { \
        T d = (T)a, s = (T)b; \
        uint64_t fl; \
        __asm__ volatile(FLAGS_IN mnem " %[s], %[d]" FLAGS_OUT \
                         : [d] "+r"(d), [fl] "=&r"(fl) : [s] "r"(s), [fin] "r"(fin) : "cc"); \
        *fout = fl; \
        return d; \
    }
#define NATIVE1(fn, mnem, T) \
    static uint64_t fn(uint64_t a, uint64_t fin, uint64_t *fout) \
    { \
        T d = (T)a; \
        uint64_t fl; \
        __asm__ volatile(FLAGS_IN mnem " %[d]" FLAGS_OUT : [d] "+r"(d), [fl] "=&r"(fl) : [fin] "r"(fin) : "cc"); \
        *fout = fl; \
        return d; \
    }
#define NATIVE_SIZES(kind, op) \
    kind(native_##op##_1, #op, uint8_t) kind(native_##op##_2, #op, uint16_t) \
    kind(native_##op##_4, #op, uint32_t) kind(native_##op##_8, #op, uint64_t)
#define NATIVE_ROW(op) { native_##op##_1, native_##op##_2, native_##op##_4, native_##op##_8 }
NATIVE_SIZES(NATIVE2, add) NATIVE_SIZES(NATIVE2, or) NATIVE_SIZES(NATIVE2, adc)
NATIVE_SIZES(NATIVE2, sbb) NATIVE_SIZES(NATIVE2, and) NATIVE_SIZES(NATIVE2, sub)
NATIVE_SIZES(NATIVE2, xor) NATIVE_SIZES(NATIVE2, cmp) NATIVE_SIZES(NATIVE2, test)
NATIVE_SIZES(NATIVE1, inc) NATIVE_SIZES(NATIVE1, dec) NATIVE_SIZES(NATIVE1, neg)
NATIVE_SIZES(NATIVE1, not)
/* In enum insn_op order: the group-1 ops, then TEST. */
static const native2_fn native2[9][4] = {
    NATIVE_ROW(add), NATIVE_ROW(or), NATIVE_ROW(adc), NATIVE_ROW(sbb), NATIVE_ROW(and),
    NATIVE_ROW(sub), NATIVE_ROW(xor), NATIVE_ROW(cmp), NATIVE_ROW(test),
};
static const native1_fn native1[4][4] = {   /* INC DEC NEG NOT */
    NATIVE_ROW(inc), NATIVE_ROW(dec), NATIVE_ROW(neg), NATIVE_ROW(not),
};

static unsigned size_index(unsigned size)
{
    return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

static uint64_t mask_of(unsigned size)
{
    return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Random operands, often at the edges where carries and overflows live. */
static uint64_t edgy(unsigned size)
{
    uint64_t m = mask_of(size), top = 1ull << (8 * size - 1);
    switch (xorshift() % 8) {
    case 0: return 0;
    case 1: return m;
    case 2: return top;
    case 3: return top - 1;
    case 4: return (xorshift() % 32) & m;
    case 5: return (m - xorshift() % 32) & m;
    default: return xorshift() & m;
    }
}

/* The flags the SDM defines for op (Vol. 2 instruction pages; Vol. 1 appendix A): logic ops
 * and TEST leave AF undefined. */
static uint64_t defined_flags(int op)
{
    bool logic = op == INSN_OP_OR || op == INSN_OP_AND || op == INSN_OP_XOR || op == INSN_OP_TEST;
    return logic ? INSN_RFLAGS_ARITH & ~INSN_RFLAGS_AF : INSN_RFLAGS_ARITH;
}

static size_t emit_size_prefix(uint8_t *p, unsigned size)
{
    if (size == 2) { p[0] = 0x66; return 1; }
    if (size == 8) { p[0] = 0x48; return 1; }
    return 0;
}

/* Every ALU op at every width in its four memory forms (r/m,r; r,r/m; 80/81 /op imm;
 * 83 /op imm8), against the host: result, flags, and that CMP/TEST write nothing. */
TEST(alu_flags_match_native_execution)
{
    static const unsigned sizes[4] = { 1, 2, 4, 8 };
    rng_state = 0x0123456789ABCDEFull;
    for (unsigned iter = 0; iter < 40000; iter++) {
        int op = (int)(xorshift() % 9);
        unsigned size = sizes[xorshift() % 4];
        unsigned form = (unsigned)(xorshift() % 4);
        if (op == INSN_OP_TEST && form != 0)
            form = 2;                               /* TEST has no r,r/m or 83 form */
        if (form == 3 && size == 1)
            form = 2;
        uint64_t a = edgy(size), b = edgy(size), m = mask_of(size);
        uint64_t fin = (xorshift() & INSN_RFLAGS_ARITH) | FLAGS_FIXED;
        uint8_t code[16];
        size_t n = emit_size_prefix(code, size);
        uint64_t imm = 0;
        if (form <= 1) {
            code[n++] = op == INSN_OP_TEST ? (uint8_t)(size == 1 ? 0x84 : 0x85)
                                           : (uint8_t)(op * 8 + (form ? 2 : 0) + (size == 1 ? 0 : 1));
            code[n++] = 0x0B;                       /* mod 0, reg = rCX, rm = [rBX] */
        } else if (form == 2) {
            code[n++] = op == INSN_OP_TEST ? (uint8_t)(size == 1 ? 0xF6 : 0xF7) : (uint8_t)(size == 1 ? 0x80 : 0x81);
            code[n++] = (uint8_t)((op == INSN_OP_TEST ? 0 : op) << 3 | 3);
            unsigned isz = size == 1 ? 1 : size == 2 ? 2 : 4;
            imm = b & mask_of(isz);
            for (unsigned i = 0; i < isz; i++)
                code[n++] = (uint8_t)(imm >> (8 * i));
            b = (uint64_t)((int64_t)(imm << (64 - 8 * isz)) >> (64 - 8 * isz)) & m;
        } else {
            code[n++] = 0x83;
            code[n++] = (uint8_t)(op << 3 | 3);
            code[n++] = (uint8_t)b;
            b = (uint64_t)(int64_t)(int8_t)(uint8_t)b & m;
        }
        mem_reset();
        struct insn_env env = std_env(INSN_MODE_64);
        env.rflags = fin;
        uint64_t rcx0 = 0xA5A5A5A5A5A5A5A5ull & ~m;
        env.gpr[RCX] = rcx0 | (form == 1 ? a : b);
        put(0x10100, form == 1 ? b : a, size);
        struct insn in;
        int len = insn_decode(code, n, INSN_MODE_64, &in);
        CHECK_EQ(len, n);
        if (len != (int)n)
            continue;
        CHECK_EQ(insn_emulate(&in, &env, 1), INSN_DONE);
        uint64_t fl, r = native2[op][size_index(size)](a, b, fin, &fl);
        uint64_t want_f = defined_flags(op);
        bool writes = op != INSN_OP_CMP && op != INSN_OP_TEST;
        uint64_t got = form == 1 ? env.gpr[RCX] : get(0x10100, size);
        uint64_t want = form == 1 ? (writes ? (size >= 4 ? r & m : rcx0 | (r & m)) : rcx0 | a)
                                  : (writes ? r & m : a);
        bool ok = got == want && (env.rflags & want_f) == (fl & want_f) &&
                  (env.rflags & ~INSN_RFLAGS_ARITH) == (fin & ~INSN_RFLAGS_ARITH) &&
                  nacc == (writes && form != 1 ? 2u : 1u);
        if (!ok) {
            test_failed_checks++;
            fprintf(stderr, "  op %d size %u form %u a %#llx b %#llx fin %#llx: got %#llx fl %#llx, host %#llx fl %#llx\n",
                    op, size, form, (unsigned long long)a, (unsigned long long)b, (unsigned long long)fin,
                    (unsigned long long)got, (unsigned long long)env.rflags, (unsigned long long)want,
                    (unsigned long long)fl);
            break;
        }
    }
}

/* NOT NEG INC DEC (F6/F7 /2 /3, FE/FF /0 /1) on memory; INC/DEC keep CF, NOT keeps all. */
TEST(unary_ops_match_native_execution)
{
    static const unsigned sizes[4] = { 1, 2, 4, 8 };
    static const uint8_t grp_reg[4] = { 0, 1, 3, 2 };     /* INC DEC NEG NOT ModRM.reg */
    rng_state = 0xFEEDFACECAFEBEEFull;
    for (unsigned iter = 0; iter < 20000; iter++) {
        unsigned k = (unsigned)(xorshift() % 4), size = sizes[xorshift() % 4];
        uint64_t a = edgy(size), fin = (xorshift() & INSN_RFLAGS_ARITH) | FLAGS_FIXED;
        uint8_t code[8];
        size_t n = emit_size_prefix(code, size);
        code[n++] = k < 2 ? (uint8_t)(size == 1 ? 0xFE : 0xFF) : (uint8_t)(size == 1 ? 0xF6 : 0xF7);
        code[n++] = (uint8_t)(grp_reg[k] << 3 | 3);
        mem_reset();
        struct insn_env env = std_env(INSN_MODE_64);
        env.rflags = fin;
        put(0x10100, a, size);
        struct insn in;
        CHECK_EQ(insn_decode(code, n, INSN_MODE_64, &in), n);
        CHECK_EQ(insn_emulate(&in, &env, 1), INSN_DONE);
        uint64_t fl, r = native1[k][size_index(size)](a, fin, &fl);
        if (get(0x10100, size) != (r & mask_of(size)) || (env.rflags & INSN_RFLAGS_ARITH) != (fl & INSN_RFLAGS_ARITH) ||
            (env.rflags & ~INSN_RFLAGS_ARITH) != (fin & ~INSN_RFLAGS_ARITH)) {
            test_failed_checks++;
            fprintf(stderr, "  unary %u size %u a %#llx: got %#llx fl %#llx, host %#llx fl %#llx\n", k, size,
                    (unsigned long long)a, (unsigned long long)get(0x10100, size),
                    (unsigned long long)env.rflags, (unsigned long long)r, (unsigned long long)fl);
            break;
        }
    }
}

/* Hand-computed cases, in all three modes (SDM Vol. 1 3.4.3.1 for the flag meanings). */
TEST(alu_hand_values)
{
    mem_reset();
    struct insn_env env = std_env(INSN_MODE_64);
    env.gpr[RAX] = 1;
    put(0x10100, 0xFFFFFFFF, 4);
    CHECK_EQ(RUN(m64_add, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 4), 0);
    CHECK_EQ(env.rflags, FLAGS_FIXED | INSN_RFLAGS_CF | INSN_RFLAGS_PF | INSN_RFLAGS_AF | INSN_RFLAGS_ZF);
    CHECK_EQ(RUN(m64_adc, &env, 1), INSN_DONE);         /* 0 + 1 + CF */
    CHECK_EQ(get(0x10100, 4), 2);
    CHECK_EQ(env.rflags, FLAGS_FIXED);

    /* CMP reads only and sets flags as SUB would */
    nacc = 0;
    env.gpr[RCX] = 3;
    CHECK_EQ(RUN(m64_cmp, &env, 1), INSN_DONE);         /* 2 - 3 */
    CHECK_EQ(nacc, 1);
    CHECK_EQ(get(0x10100, 4), 2);
    CHECK_EQ(env.rflags, FLAGS_FIXED | INSN_RFLAGS_CF | INSN_RFLAGS_SF | INSN_RFLAGS_AF | INSN_RFLAGS_PF);
    CHECK_EQ(RUN(m64_cmp_reg, &env, 1), INSN_DONE);     /* 3 - mem(8 bytes) */
    CHECK_EQ(env.gpr[RCX], 3);

    /* an ALU op into a register merges (8-bit) */
    put(0x10100, 0xF0, 1);
    env.gpr[RCX] = 0xAB20;
    CHECK_EQ(RUN(m64_add_to_reg, &env, 1), INSN_DONE);  /* CL = 0x20 + 0xF0 = 0x10, CF */
    CHECK_EQ(env.gpr[RCX], 0xAB10);
    CHECK(env.rflags & INSN_RFLAGS_CF);
    put(0x10100, 0xFFFFFFFF12345678ull, 8);
    CHECK_EQ(RUN(m64_and_imm8q, &env, 1), INSN_DONE);   /* 83 /4 ib: -16 sign-extended to 64 */
    CHECK_EQ(get(0x10100, 8), 0xFFFFFFFF12345670ull);
    CHECK(env.rflags & INSN_RFLAGS_SF);
    put(0x10104, 0x12345678, 4);
    CHECK_EQ(RUN(m64_sub_imm32, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10104, 4), 0);
    CHECK(env.rflags & INSN_RFLAGS_ZF);
    put(0x10100, 0x80, 4);
    CHECK_EQ(RUN(m64_test_imm, &env, 1), INSN_DONE);
    CHECK_EQ(env.rflags & (INSN_RFLAGS_ZF | INSN_RFLAGS_CF | INSN_RFLAGS_OF), 0);
    CHECK_EQ(get(0x10100, 4), 0x80);

    /* 16-bit: OF on 0x7FFF + 1, 83 /6 sign-extends -1 to FFFF */
    mem_reset();
    env = std_env(INSN_MODE_16);
    env.gpr[RAX] = 0xFFFF0001;
    put(0x10100, 0x7FFF, 2);
    CHECK_EQ(RUN(m16_add, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 2), 0x8000);
    CHECK_EQ(env.rflags, FLAGS_FIXED | INSN_RFLAGS_OF | INSN_RFLAGS_SF | INSN_RFLAGS_AF | INSN_RFLAGS_PF);
    CHECK_EQ(RUN(m16_xor_sext, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 2), 0x7FFF);
    CHECK_EQ(env.rflags, FLAGS_FIXED | INSN_RFLAGS_PF);  /* low byte FF: even parity */
    put(0x10300, 0x1234, 2);
    CHECK_EQ(RUN(m16_cmp_imm16, &env, 1), INSN_DONE);
    CHECK_EQ(env.rflags, FLAGS_FIXED | INSN_RFLAGS_ZF | INSN_RFLAGS_PF);
    CHECK_EQ(RUN(m16_test_imm, &env, 1), INSN_DONE);    /* 0x7FFF & 0x8000 = 0 */
    CHECK(env.rflags & INSN_RFLAGS_ZF);

    /* 32-bit: SBB with borrow in, 82 (alias of 80) adds */
    mem_reset();
    env = std_env(INSN_MODE_32);
    env.rflags = FLAGS_FIXED | INSN_RFLAGS_CF;
    env.gpr[RDX] = 5;
    put(0x10100, 5, 4);
    CHECK_EQ(RUN(m32_sbb, &env, 1), INSN_DONE);         /* 5 - 5 - 1 */
    CHECK_EQ(get(0x10100, 4), 0xFFFFFFFF);
    CHECK_EQ(env.rflags, FLAGS_FIXED | INSN_RFLAGS_CF | INSN_RFLAGS_SF | INSN_RFLAGS_AF | INSN_RFLAGS_PF);
    CHECK_EQ(RUN(m32_grp1_82, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 1), 0x00);
    CHECK_EQ(RUN(m32_and_to_reg, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RCX], 0x20 & 0xFFFFFF00u);
}

/* ---- XCHG ----------------------------------------------------------------------------------- */

/* XCHG with memory (SDM Vol. 2 XCHG: implicitly locked): one read, one write, register gets
 * the old value. */
TEST(xchg_swaps)
{
    mem_reset();
    struct insn_env env = std_env(INSN_MODE_64);
    put(0x10100, 0xDEADBEEF, 4);
    CHECK_EQ(RUN(m64_xchg, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 4), 0x55667788);
    CHECK_EQ(env.gpr[RAX], 0xDEADBEEF);
    CHECK_EQ(RUN(m64_xchg8, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 1), 0x20);
    CHECK_EQ(env.gpr[RCX], 0x88);
    env.gpr[R15] = 0x0102030405060708ull;
    put(0x10108, 0x1111222233334444ull, 8);
    CHECK_EQ(RUN(m64_xchg64, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[R15], 0x1111222233334444ull);
    CHECK_EQ(get(0x10108, 8), 0x0102030405060708ull);

    mem_reset();
    env = std_env(INSN_MODE_16);
    put(0x10200, 0x5A, 1);
    CHECK_EQ(RUN(m16_xchg8h, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10200, 1), 0x77);
    CHECK_EQ(env.gpr[RAX], 0x1122334455665A88ull);
}

/* ---- BT family -------------------------------------------------------------------------------- */

#define NATIVE_BT(fn, mnem, T) \
    static uint64_t fn(void *p, uint64_t off, uint64_t fin) \
    { \
        T o = (T)off; \
        uint64_t fl; \
        __asm__ volatile(FLAGS_IN mnem " %[o], (%[p])" FLAGS_OUT \
                         : [fl] "=&r"(fl) : [o] "r"(o), [p] "r"(p), [fin] "r"(fin) : "cc", "memory"); \
        return fl; \
    }
#define NATIVE_BT_SIZES(op) \
    NATIVE_BT(native_##op##_w, #op "w", uint16_t) NATIVE_BT(native_##op##_l, #op "l", uint32_t) \
    NATIVE_BT(native_##op##_q, #op "q", uint64_t)
NATIVE_BT_SIZES(bt) NATIVE_BT_SIZES(bts) NATIVE_BT_SIZES(btr) NATIVE_BT_SIZES(btc)
typedef uint64_t (*native_bt_fn)(void *p, uint64_t off, uint64_t fin);
static const native_bt_fn native_bt[4][3] = {
    { native_bt_w, native_bt_l, native_bt_q }, { native_bts_w, native_bts_l, native_bts_q },
    { native_btr_w, native_btr_l, native_btr_q }, { native_btc_w, native_btc_l, native_btc_q },
};

/* BT/BTS/BTR/BTC with a register bit offset into memory (SDM Vol. 2 BT, "Bit(BitBase,
 * BitOffset)"): the offset is signed and may lie outside the operand. The host executes the
 * same instruction on a real buffer; the emulated one must leave the same bytes and CF, and
 * access one operand-sized word. */
TEST(bt_memory_matches_native_execution)
{
    static const unsigned sizes[3] = { 2, 4, 8 };
    enum { WINDOW = 256, BASE = 0x10100 };
    static uint8_t host[WINDOW];
    rng_state = 0x5151515151515151ull;
    for (unsigned iter = 0; iter < 20000; iter++) {
        unsigned k = (unsigned)(xorshift() % 4), si = (unsigned)(xorshift() % 3), size = sizes[si];
        int64_t off = (int64_t)(xorshift() % 1024) - 512;  /* bits: +-64 bytes */
        uint64_t fin = (xorshift() & INSN_RFLAGS_ARITH) | FLAGS_FIXED;
        mem_reset();
        for (unsigned i = 0; i < WINDOW; i++)
            host[i] = mem[BASE - WINDOW / 2 + i] = (uint8_t)xorshift();
        uint64_t fl = native_bt[k][si](host + WINDOW / 2, (uint64_t)off, fin);
        uint8_t code[8];
        size_t n = emit_size_prefix(code, size);
        code[n++] = 0x0F;
        code[n++] = (uint8_t)(0xA3 + 8 * k);
        code[n++] = 0x0B;                       /* [rBX], rCX */
        struct insn_env env = std_env(INSN_MODE_64);
        env.rflags = fin;
        env.gpr[RCX] = (uint64_t)off;
        struct insn in;
        CHECK_EQ(insn_decode(code, n, INSN_MODE_64, &in), n);
        uint64_t word = BASE + (uint64_t)((off >= 0 ? off : off - (int64_t)(8 * size) + 1) / (int64_t)(8 * size) * (int64_t)size);
        CHECK_EQ(insn_mem_linear(&in, &env), word);
        CHECK_EQ(insn_emulate(&in, &env, 1), INSN_DONE);
        bool ok = !memcmp(host, mem + BASE - WINDOW / 2, WINDOW) &&
                  (env.rflags & INSN_RFLAGS_CF) == (fl & INSN_RFLAGS_CF) &&
                  (env.rflags & ~INSN_RFLAGS_CF) == (fin & ~INSN_RFLAGS_CF) &&
                  nacc == (k ? 2u : 1u) && acc_log[0].linear == word && acc_log[0].size == size;
        if (!ok) {
            test_failed_checks++;
            fprintf(stderr, "  bt%u size %u offset %lld: mismatch\n", k, size, (long long)off);
            break;
        }
    }
}

TEST(bt_hand_values)
{
    /* 64-bit: offset 32 in a dword operand is bit 0 of the next dword */
    mem_reset();
    struct insn_env env = std_env(INSN_MODE_64);
    put(0x10104, 1, 4);
    CHECK_EQ(RUN(m64_bt, &env, 1), INSN_DONE);
    CHECK(env.rflags & INSN_RFLAGS_CF);
    /* negative offset: -1 is bit 31 of the dword below */
    env.gpr[RCX] = 0xFFFFFFFF;
    put(0x100FC, 0x80000000, 4);
    CHECK_EQ(RUN(m64_bt, &env, 1), INSN_DONE);
    CHECK(env.rflags & INSN_RFLAGS_CF);
    CHECK_EQ(acc_log[nacc - 1].linear, 0x100FC);
    /* the imm8 form takes the offset modulo the width and never moves the address */
    put(0x10100, 0, 8);
    CHECK_EQ(RUN(m64_btc_imm, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 4), 0x20);
    CHECK(!(env.rflags & INSN_RFLAGS_CF));
    CHECK_EQ(RUN(m64_btc_imm, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 4), 0);
    CHECK(env.rflags & INSN_RFLAGS_CF);
    put(0x10100, 2, 4);
    nacc = 0;
    CHECK_EQ(RUN(x64_bt_imm33, &env, 1), INSN_DONE);
    CHECK(env.rflags & INSN_RFLAGS_CF);
    CHECK_EQ(acc_log[0].linear, 0x10100);
    put(0x10100, 1ull << 63, 8);
    CHECK_EQ(RUN(m64_bt_imm, &env, 1), INSN_DONE);
    CHECK(env.rflags & INSN_RFLAGS_CF);
    /* lock bts with EDX = 64: dword at +8 */
    put(0x10108, 0, 4);
    CHECK_EQ(RUN(m64_lock_bts, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10108, 4), 1);
    CHECK(!(env.rflags & INSN_RFLAGS_CF));

    /* 16-bit: BT word with CX = -16 is bit 0 of the word at -2; BTR dword */
    mem_reset();
    env = std_env(INSN_MODE_16);
    env.gpr[RCX] = 0xFFF0;
    put(0x100FE, 1, 2);
    nacc = 0;
    CHECK_EQ(RUN(m16_bt, &env, 1), INSN_DONE);
    CHECK(env.rflags & INSN_RFLAGS_CF);
    CHECK_EQ(acc_log[0].linear, 0x100FE);
    CHECK_EQ(acc_log[0].size, 2);
    env = std_env(INSN_MODE_16);
    put(0x10104, 0xFFFFFFFF, 4);
    CHECK_EQ(RUN(m16_btr32, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10104, 4), 0xFFFFFFFE);
    CHECK_EQ(RUN(m16_bts_imm, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 2) >> 15, 1);

    /* 32-bit: BTR imm 31 */
    mem_reset();
    env = std_env(INSN_MODE_32);
    put(0x10100, 0x80000001, 4);
    CHECK_EQ(RUN(m32_btr_imm, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10100, 4), 1);
    CHECK(env.rflags & INSN_RFLAGS_CF);
}

/* ---- string instructions ----------------------------------------------------------------------- */

/* MOVS/STOS/LODS (SDM Vol. 2 MOVS, STOS, LODS, REP): rSI/rDI step by the element size, down
 * with DF=1, rCX counts at the address size; ES for the destination, the override for the
 * source. */
TEST(rep_movs_forward_and_backward)
{
    mem_reset();
    struct insn_env env = std_env(INSN_MODE_64);
    for (unsigned i = 0; i < 16; i++)
        mem[0x10200 + i] = (uint8_t)(0xC0 + i);
    env.gpr[RCX] = 16;
    CHECK_EQ(RUN(x64_rep_movsb, &env, 100), INSN_DONE);
    CHECK_EQ(env.gpr[RSI], 0x10210);
    CHECK_EQ(env.gpr[RDI], 0x10310);
    CHECK_EQ(env.gpr[RCX], 0);
    CHECK_EQ(env.rip, 0x10000 + LEN(x64_rep_movsb));
    CHECK(!memcmp(mem + 0x10300, mem + 0x10200, 16));
    CHECK_EQ(nacc, 32);
    for (unsigned i = 0; i < 32; i++)
        CHECK(acc_log[i].size == 1 && acc_log[i].write == (i & 1));

    /* DF=1: from the top down */
    mem_reset();
    env = std_env(INSN_MODE_64);
    env.rflags |= INSN_RFLAGS_DF;
    env.gpr[RCX] = 4;
    env.gpr[RSI] = 0x1020C;
    env.gpr[RDI] = 0x1030C;
    CHECK_EQ(RUN(x64_std_movsl, &env, 100), INSN_DONE);
    CHECK_EQ(env.gpr[RSI], 0x101FC);
    CHECK_EQ(env.gpr[RDI], 0x102FC);
    CHECK(!memcmp(mem + 0x10300, mem + 0x10200, 16));
    CHECK_EQ(acc_log[0].linear, 0x1020C);
    CHECK_EQ(acc_log[7].linear, 0x10300);
    CHECK_EQ(acc_log[0].size, 4);

    /* max_reps: INSN_AGAIN with rip unchanged until rCX reaches 0 */
    mem_reset();
    env = std_env(INSN_MODE_64);
    env.gpr[RCX] = 10;
    unsigned calls = 0;
    enum insn_result r;
    do {
        r = RUN(m64_rep_movsq, &env, 3);
        calls++;
        if (r == INSN_AGAIN)
            CHECK_EQ(env.rip, 0x10000);
    } while (r == INSN_AGAIN && calls < 10);
    CHECK_EQ(r, INSN_DONE);
    CHECK_EQ(calls, 4);
    CHECK_EQ(env.gpr[RSI], 0x10200 + 80);
    CHECK_EQ(env.rip, 0x10000 + LEN(m64_rep_movsq));
    CHECK(!memcmp(mem + 0x10300, mem + 0x10200, 80));
    CHECK_EQ(nacc, 20);

    /* rCX = 0: nothing moves, the instruction completes */
    mem_reset();
    env = std_env(INSN_MODE_64);
    env.gpr[RCX] = 0;
    CHECK_EQ(RUN(m64_rep_movsq, &env, 3), INSN_DONE);
    CHECK_EQ(nacc, 0);
    CHECK_EQ(env.gpr[RSI], 0x10200);
    CHECK_EQ(env.rip, 0x10000 + LEN(m64_rep_movsq));

    /* no REP: one element, rCX untouched; max_reps 0 still makes one step */
    CHECK_EQ(RUN(m64_movsl, &env, 0), INSN_DONE);
    CHECK_EQ(env.gpr[RCX], 0);
    CHECK_EQ(env.gpr[RSI], 0x10204);
    CHECK_EQ(env.gpr[RDI], 0x10304);
    env.gpr[RCX] = 2;
    CHECK_EQ(RUN(m64_rep_movsq, &env, 0), INSN_AGAIN);
    CHECK_EQ(env.gpr[RCX], 1);
}

TEST(rep_stos_and_lods)
{
    mem_reset();
    struct insn_env env = std_env(INSN_MODE_64);
    env.gpr[RCX] = 0x40;
    CHECK_EQ(RUN(m64_rep_stosb, &env, 1000), INSN_DONE);
    for (unsigned i = 0; i < 0x40; i++)
        CHECK_EQ(mem[0x10300 + i], 0x88);
    CHECK_EQ(mem[0x10340], (uint8_t)(0x10340 * 7 + 3));
    CHECK_EQ(env.gpr[RDI], 0x10340);
    CHECK_EQ(env.gpr[RSI], 0x10200);            /* STOS leaves rSI */
    CHECK_EQ(RUN(m64_stosq, &env, 1), INSN_DONE);
    CHECK_EQ(get(0x10340, 8), std_gpr[RAX]);
    CHECK_EQ(env.gpr[RDI], 0x10348);
    put(0x10200, 0x87654321, 4);
    CHECK_EQ(RUN(m64_lodsl, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RAX], 0x87654321);         /* 32-bit load zero-extends */
    CHECK_EQ(env.gpr[RSI], 0x10204);
    CHECK_EQ(env.gpr[RDI], 0x10348);            /* LODS leaves rDI */

    /* 16-bit: REP STOSW with DF=1 */
    mem_reset();
    env = std_env(INSN_MODE_16);
    env.rflags |= INSN_RFLAGS_DF;
    env.gpr[RCX] = 3;
    CHECK_EQ(RUN(m16_rep_stosw, &env, 100), INSN_DONE);
    CHECK_EQ(get(0x102FC, 6), 0x778877887788ull);
    CHECK_EQ(env.gpr[RDI], 0x102FA);
    put(0x10200, 0xBEEF, 2);
    CHECK_EQ(RUN(m16_lodsw, &env, 1), INSN_DONE);
    CHECK_EQ(env.gpr[RAX], 0x112233445566BEEFull);
    CHECK_EQ(env.gpr[RSI], 0x101FE);
}

/* The address size picks the width of rSI/rDI/rCX (SDM Vol. 2 MOVS): 16-bit ones wrap at
 * 64 KiB and keep the bits above, 32-bit ones in 64-bit mode zero-extend. */
TEST(string_address_size_masking)
{
    mem_reset();
    struct insn_env env = std_env(INSN_MODE_16);
    env.gpr[RSI] = 0xABCD0000FFFFull;
    env.gpr[RDI] = 0x777700000000ull;
    env.gpr[RCX] = 0x12340002ull;
    mem[0x1FFFF] = 0x11;
    mem[0x10000] = 0x22;
    CHECK_EQ(RUN(m16_movsb, &env, 100), INSN_DONE);
    CHECK_EQ(acc_log[0].linear, 0x1FFFF);
    CHECK_EQ(acc_log[1].linear, 0x10000);
    CHECK_EQ(mem[0x10000], 0x11);
    CHECK_EQ(env.gpr[RSI], 0xABCD00000000ull);  /* SI wrapped, the bits above kept */
    CHECK_EQ(env.gpr[RDI], 0x777700000001ull);
    CHECK_EQ(env.gpr[RCX], 0x12340002ull);      /* no REP: rCX untouched */
    mem_reset();
    env = std_env(INSN_MODE_16);
    env.gpr[RSI] = 0xABCD0000FFFFull;
    env.gpr[RDI] = 0x777700000000ull;
    env.gpr[RCX] = 0x12340002ull;
    mem[0x1FFFF] = 0x11;
    mem[0x10000] = 0x22;
    CHECK_EQ(RUN(m16_rep_movsw, &env, 100), INSN_DONE);
    CHECK_EQ(acc_log[0].linear, 0x1FFFF);       /* DS:FFFF, a word */
    CHECK_EQ(acc_log[1].linear, 0x10000);       /* ES:0000 */
    CHECK_EQ(acc_log[2].linear, 0x10001);       /* DS:0001 after the wrap */
    CHECK_EQ(env.gpr[RSI], 0xABCD00000003ull);
    CHECK_EQ(env.gpr[RDI], 0x777700000004ull);
    CHECK_EQ(env.gpr[RCX], 0x12340000ull);

    /* 32-bit addressing in 64-bit mode (67 F3 A4) */
    mem_reset();
    env = std_env(INSN_MODE_64);
    env.gpr[RSI] = 0x100010200ull;
    env.gpr[RDI] = 0xFFFF000000010300ull;
    env.gpr[RCX] = 0xFFFFFFFF00000001ull;
    CHECK_EQ(RUN(m64_a32_movsb, &env, 100), INSN_DONE);
    CHECK_EQ(acc_log[0].linear, 0x10200);
    CHECK_EQ(acc_log[1].linear, 0x10300);
    CHECK_EQ(env.gpr[RSI], 0x10201);
    CHECK_EQ(env.gpr[RDI], 0x10301);
    CHECK_EQ(env.gpr[RCX], 0);

    /* 16-bit addressing in 32-bit code (67 F3 A4), DF=1 wrapping below 0 */
    mem_reset();
    env = std_env(INSN_MODE_32);
    env.rflags |= INSN_RFLAGS_DF;
    env.gpr[RSI] = 0x50000;
    env.gpr[RDI] = 0x60001;
    env.gpr[RCX] = 0x90002;
    CHECK_EQ(RUN(m32_a16_movsb, &env, 100), INSN_DONE);
    CHECK_EQ(acc_log[0].linear, 0x0);
    CHECK_EQ(acc_log[1].linear, 0x1);
    CHECK_EQ(acc_log[2].linear, 0xFFFF);
    CHECK_EQ(acc_log[3].linear, 0x0);
    CHECK_EQ(env.gpr[RSI], 0x5FFFE);
    CHECK_EQ(env.gpr[RDI], 0x6FFFF);
    CHECK_EQ(env.gpr[RCX], 0x90000);
}

/* A segment override applies to the MOVS source; the destination stays ES (SDM Vol. 2 MOVS). */
TEST(string_segment_override)
{
    mem_reset();
    struct insn_env env = std_env(INSN_MODE_32);
    put(0x12200, 0x5A, 1);
    CHECK_EQ(RUN(m32_gs_movsb, &env, 1), INSN_DONE);
    CHECK_EQ(acc_log[0].linear, 0x12200);
    CHECK_EQ(acc_log[1].linear, 0x10300);
    CHECK_EQ(mem[0x10300], 0x5A);
    env = std_env(INSN_MODE_32);
    env.seg_base[INSN_SEG_ES] = 0x8000;
    nacc = 0;
    CHECK_EQ(RUN(m32_stosb, &env, 1), INSN_DONE);
    CHECK_EQ(acc_log[0].linear, 0x18300);

    mem_reset();
    env = std_env(INSN_MODE_64);
    CHECK_EQ(RUN(m64_fs_movsb, &env, 1), INSN_DONE);
    CHECK_EQ(acc_log[0].linear, 0x11200);       /* FS base applies in 64-bit mode */
    CHECK_EQ(acc_log[1].linear, 0x10300);       /* ES base does not */

    mem_reset();
    env = std_env(INSN_MODE_16);
    CHECK_EQ(RUN(m16_fs_movsb, &env, 1), INSN_DONE);
    CHECK_EQ(acc_log[0].linear, 0x12200);
    CHECK_EQ(acc_log[1].linear, 0x10300);
}

/* ---- failures ------------------------------------------------------------------------------- */

static bool env_same(const struct insn_env *a, const struct insn_env *b)
{
    return !memcmp(a->gpr, b->gpr, sizeof a->gpr) && a->rip == b->rip && a->rflags == b->rflags;
}

/* A failed callback abandons the instruction with nothing committed; REP keeps what the
 * iterations before the failing one did, so re-executing resumes. */
TEST(abort_leaves_state)
{
    static const struct { const uint8_t *b, *e; enum insn_mode mode; long fail; } cases[] = {
        { m64_ld32, m64_ld32_end, INSN_MODE_64, 0 },
        { m64_add, m64_add_end, INSN_MODE_64, 0 },
        { m64_add, m64_add_end, INSN_MODE_64, 1 },          /* the write fails */
        { m64_add_to_reg, m64_add_to_reg_end, INSN_MODE_64, 0 },
        { m64_xchg, m64_xchg_end, INSN_MODE_64, 1 },
        { m64_bts, m64_bts_end, INSN_MODE_64, 1 },
        { m64_neg, m64_neg_end, INSN_MODE_64, 1 },
        { m64_inc, m64_inc_end, INSN_MODE_64, 1 },
        { m64_movslq, m64_movslq_end, INSN_MODE_64, 0 },
        { m64_lodsl, m64_lodsl_end, INSN_MODE_64, 0 },
        { m64_movsl, m64_movsl_end, INSN_MODE_64, 1 },
        { m16_bt, m16_bt_end, INSN_MODE_16, 0 },
        { m32_sub16, m32_sub16_end, INSN_MODE_32, 1 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        mem_reset();
        struct insn_env env = std_env(cases[i].mode);
        env.rflags = FLAGS_FIXED | INSN_RFLAGS_CF | INSN_RFLAGS_ZF;
        struct insn_env before = env;
        fail_from = cases[i].fail;
        CHECK_EQ(run_code(cases[i].b, cases[i].e, cases[i].mode, &env, 1), INSN_ABORT);
        CHECK(env_same(&env, &before));
    }

    /* an address outside RAM fails the same way */
    mem_reset();
    struct insn_env env = std_env(INSN_MODE_64);
    env.gpr[RBX] = 0x7FFF0000;
    struct insn_env before = env;
    CHECK_EQ(RUN(m64_st32, &env, 1), INSN_ABORT);
    CHECK(env_same(&env, &before));

    /* REP MOVSB failing on its third element */
    mem_reset();
    env = std_env(INSN_MODE_64);
    env.gpr[RCX] = 10;
    fail_from = 4;                                          /* reads/writes 0-3 succeed */
    CHECK_EQ(RUN(x64_rep_movsb, &env, 100), INSN_ABORT);
    CHECK_EQ(env.gpr[RCX], 8);
    CHECK_EQ(env.gpr[RSI], 0x10202);
    CHECK_EQ(env.gpr[RDI], 0x10302);
    CHECK_EQ(env.rip, 0x10000);
    fail_from = -1;
    CHECK_EQ(RUN(x64_rep_movsb, &env, 100), INSN_DONE);
    CHECK_EQ(env.gpr[RCX], 0);
    CHECK(!memcmp(mem + 0x10300, mem + 0x10200, 10));
}

/* ---- prefixes and errors ------------------------------------------------------------------- */

TEST(prefix_rules)
{
    struct insn in;
    /* the last segment override wins */
    CHECK_EQ(decode(x64_two_segs, x64_two_segs_end, INSN_MODE_64, &in), LEN(x64_two_segs));
    CHECK_EQ(in.seg, INSN_SEG_GS);
    CHECK_EQ(decode(x32_two_segs, x32_two_segs_end, INSN_MODE_32, &in), LEN(x32_two_segs));
    CHECK_EQ(in.seg, INSN_SEG_FS);
    /* ES/CS/SS/DS overrides are null in 64-bit mode */
    CHECK_EQ(decode(m64_ss_null, m64_ss_null_end, INSN_MODE_64, &in), LEN(m64_ss_null));
    CHECK_EQ(in.seg, INSN_SEG_DS);
    /* REX.W beats 66; a REX followed by a legacy prefix is ignored (SDM Vol. 2 2.2.1) */
    CHECK_EQ(decode(m64_w_over_66, m64_w_over_66_end, INSN_MODE_64, &in), 4);
    CHECK_EQ(in.op_size, 8);
    CHECK_EQ(decode(m64_rex_lost, m64_rex_lost_end, INSN_MODE_64, &in), 4);
    CHECK_EQ(in.rex, 0);
    CHECK_EQ(in.op_size, 2);
    /* REP on a non-string op is ignored; LOCK is recorded */
    CHECK_EQ(decode(m64_rep_ign, m64_rep_ign_end, INSN_MODE_64, &in), LEN(m64_rep_ign));
    CHECK_EQ(in.rep, INSN_REP_NONE);
    CHECK_EQ(decode(m64_lock_add, m64_lock_add_end, INSN_MODE_64, &in), LEN(m64_lock_add));
    CHECK(in.prefixes & INSN_PFX_LOCK);
    CHECK_EQ(decode(m64_rep_movsq, m64_rep_movsq_end, INSN_MODE_64, &in), LEN(m64_rep_movsq));
    CHECK_EQ(in.rep, INSN_REP_REP);
    /* RIP-relative: base RIP, disp as encoded */
    CHECK_EQ(decode(m64_rip_imm, m64_rip_imm_end, INSN_MODE_64, &in), 10);
    CHECK_EQ(in.base, INSN_REG_RIP);
    CHECK_EQ(in.disp, 0x100);
    CHECK_EQ(in.imm, 1);
    /* the same bytes in 32-bit mode are an absolute disp32 */
    CHECK_EQ(decode(m64_rip_imm, m64_rip_imm_end, INSN_MODE_32, &in), 10);
    CHECK_EQ(in.base, INSN_REG_NONE);
    /* 15 bytes is the limit (SDM Vol. 2 2.3.11) */
    CHECK_EQ(LEN(x64_max_len), 15);
    CHECK_EQ(decode(x64_max_len, x64_max_len_end, INSN_MODE_64, &in), 15);
    CHECK_EQ(LEN(x64_too_long), 16);
    CHECK_EQ(decode(x64_too_long, x64_too_long_end, INSN_MODE_64, &in), INSN_EINVAL);
    CHECK_EQ(insn_decode(x64_too_long, 15, INSN_MODE_64, &in), INSN_EINVAL);
    CHECK_EQ(insn_decode(x64_too_long, 14, INSN_MODE_64, &in), INSN_ETRUNC);
    CHECK_EQ(insn_decode(x64_max_len, 0, INSN_MODE_64, &in), INSN_ETRUNC);
}

/* Bytes that are not instructions (#UD) versus valid ones this emulator leaves alone. */
TEST(invalid_and_unsupported)
{
    static const struct { uint8_t b[8]; uint8_t n; enum insn_mode mode; int want; } cases[] = {
        { { 0xF0, 0x89, 0x03 }, 3, INSN_MODE_64, INSN_EINVAL },           /* lock mov */
        { { 0xF0, 0x39, 0x03 }, 3, INSN_MODE_64, INSN_EINVAL },           /* lock cmp */
        { { 0xF0, 0x03, 0x03 }, 3, INSN_MODE_64, INSN_EINVAL },           /* lock add r, m */
        { { 0xF0, 0x0F, 0xA3, 0x03 }, 4, INSN_MODE_64, INSN_EINVAL },     /* lock bt */
        { { 0xF0, 0x01, 0xC3 }, 3, INSN_MODE_64, INSN_EINVAL },           /* lock add reg, reg */
        { { 0xF0, 0xA4 }, 2, INSN_MODE_32, INSN_EINVAL },                 /* lock movsb */
        { { 0xFE, 0x13 }, 2, INSN_MODE_32, INSN_EINVAL },                 /* FE /2 */
        { { 0xFF, 0x3B }, 2, INSN_MODE_32, INSN_EINVAL },                 /* FF /7 */
        { { 0xC7, 0x0B, 0, 0, 0, 0 }, 6, INSN_MODE_32, INSN_EINVAL },     /* C7 /1 */
        { { 0x0F, 0xBA, 0x1B, 1 }, 4, INSN_MODE_32, INSN_EINVAL },        /* 0F BA /3 */
        { { 0x0F, 0x0B }, 2, INSN_MODE_16, INSN_EINVAL },                 /* UD2 */
        { { 0x06 }, 1, INSN_MODE_64, INSN_EINVAL },                       /* push es */
        { { 0x82, 0x03, 1 }, 3, INSN_MODE_64, INSN_EINVAL },
        { { 0xD6 }, 1, INSN_MODE_64, INSN_EINVAL },
        { { 0x06 }, 1, INSN_MODE_32, INSN_EUNSUPPORTED },
        { { 0x89, 0xC3 }, 2, INSN_MODE_64, INSN_EUNSUPPORTED },           /* mov ebx, eax */
        { { 0x04, 0x01 }, 2, INSN_MODE_32, INSN_EUNSUPPORTED },           /* add al, 1 */
        { { 0x90 }, 1, INSN_MODE_64, INSN_EUNSUPPORTED },                 /* nop */
        { { 0x40 }, 1, INSN_MODE_32, INSN_EUNSUPPORTED },                 /* inc eax */
        { { 0x63, 0x03 }, 2, INSN_MODE_32, INSN_EUNSUPPORTED },           /* arpl */
        { { 0xF7, 0x23 }, 2, INSN_MODE_32, INSN_EUNSUPPORTED },           /* mul dword [ebx] */
        { { 0xFF, 0x13 }, 2, INSN_MODE_32, INSN_EUNSUPPORTED },           /* call [ebx] */
        { { 0xA6 }, 1, INSN_MODE_32, INSN_EUNSUPPORTED },                 /* cmpsb */
        { { 0x0F, 0xB8, 0x03 }, 3, INSN_MODE_32, INSN_EUNSUPPORTED },     /* jmpe/popcnt */
        { { 0xC6, 0xF8, 0 }, 3, INSN_MODE_64, INSN_EUNSUPPORTED },        /* xabort */
        { { 0x0F, 0xB6, 0xC0 }, 3, INSN_MODE_64, INSN_EUNSUPPORTED },     /* movzx eax, al */
        { { 0xC4, 0xE2, 0x79 }, 3, INSN_MODE_64, INSN_EUNSUPPORTED },     /* VEX */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint8_t *buf = malloc(cases[i].n);
        memcpy(buf, cases[i].b, cases[i].n);
        struct insn in;
        int r = insn_decode(buf, cases[i].n, cases[i].mode, &in);
        if (r != cases[i].want) {
            test_failed_checks++;
            fprintf(stderr, "  case %zu: %d, expected %d\n", i, r, cases[i].want);
        }
        free(buf);
    }
}

/* ---- fuzz ------------------------------------------------------------------------------------- */

/* Bytes the fuzzer favours, so it reaches deep into the decoder. */
static const uint8_t interesting[] = {
    0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x40, 0x41, 0x44, 0x48, 0x4C, 0x4F,
    0x0F, 0x00, 0x01, 0x03, 0x08, 0x09, 0x21, 0x29, 0x31, 0x39, 0x3B, 0x63, 0x80, 0x81, 0x83, 0x84,
    0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xAA, 0xAB, 0xAC,
    0xAD, 0xC6, 0xC7, 0xF6, 0xF7, 0xFE, 0xFF, 0xB6, 0xB7, 0xBE, 0xBF, 0xBA, 0xBB, 0xB3, 0xAB, 0x04,
    0x05, 0x44, 0x45, 0x84, 0x85, 0x24, 0x25,
};

/* 200k random byte strings in all three modes: a length in 1..15 no longer than the input or
 * an error; ASan sees every read (exact-size buffers); success is stable under more trailing
 * bytes and every shorter prefix says ETRUNC; emulation of what decodes (against a memory that
 * answers everywhere) is free of UB, makes only 1/2/4/8-byte accesses, advances rip exactly
 * on INSN_DONE, and never runs more REP steps than allowed. */
TEST(fuzz_decode_and_emulate)
{
    static const enum insn_mode modes[3] = { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };
    uint8_t raw[24];
    unsigned decoded = 0;
    rng_state = 0xDEADBEEFCAFEF00Dull;
    mem_reset();
    permissive = true;
    for (unsigned iter = 0; iter < 200000; iter++) {
        size_t len = 1 + (size_t)(xorshift() % 17);
        bool biased = xorshift() & 1;
        for (size_t i = 0; i < sizeof raw; i++)
            raw[i] = biased && (xorshift() % 3) ? interesting[xorshift() % sizeof interesting] : (uint8_t)xorshift();
        uint8_t *buf = malloc(len);
        memcpy(buf, raw, len);
        enum insn_mode mode = modes[iter % 3];
        struct insn in;
        int r = insn_decode(buf, len, mode, &in);
        if (r < 0) {
            CHECK(r == INSN_ETRUNC || r == INSN_EINVAL || r == INSN_EUNSUPPORTED);
            free(buf);
            continue;
        }
        decoded++;
        CHECK(r >= 1 && r <= 15 && (size_t)r <= len && in.length == r);
        CHECK(in.op_size == 1 || in.op_size == 2 || in.op_size == 4 || in.op_size == 8);
        CHECK(in.addr_size == 2 || in.addr_size == 4 || in.addr_size == 8);
        CHECK(in.seg <= INSN_SEG_GS);
        struct insn again;
        CHECK_EQ(insn_decode(raw, sizeof raw, mode, &again), r);
        CHECK(again.op == in.op && again.op_size == in.op_size && again.disp == in.disp &&
              again.imm == in.imm && again.base == in.base && again.index == in.index);
        for (int k = 0; k < r; k++)
            CHECK_EQ(insn_decode(buf, (size_t)k, mode, &again), INSN_ETRUNC);

        struct insn_env env = { .read = fake_read, .write = fake_write };
        for (unsigned g = 0; g < 16; g++)
            env.gpr[g] = xorshift() >> (xorshift() % 64);
        for (unsigned s = 0; s < 6; s++)
            env.seg_base[s] = xorshift() & 0xFFFFF;
        env.rip = xorshift();
        env.rflags = (xorshift() & (INSN_RFLAGS_ARITH | INSN_RFLAGS_DF)) | FLAGS_FIXED;
        uint64_t rip0 = env.rip, rcx0 = env.gpr[RCX];
        unsigned max_reps = 1 + (unsigned)(xorshift() % 4);
        nacc = nbad_size = 0;
        fail_from = (xorshift() % 8) ? -1 : (long)(xorshift() % 3);
        struct insn_env before = env;
        enum insn_result res = insn_emulate(&in, &env, max_reps);
        CHECK_EQ(nbad_size, 0);
        CHECK(nacc <= 2 * max_reps);
        if (res == INSN_DONE) {
            uint64_t want = rip0 + in.length;
            CHECK_EQ(env.rip, mode == INSN_MODE_64 ? want : want & 0xFFFFFFFF);
            CHECK((env.rflags & ~(INSN_RFLAGS_ARITH)) == (before.rflags & ~(INSN_RFLAGS_ARITH)));
        } else if (res == INSN_AGAIN) {
            CHECK(in.rep != INSN_REP_NONE);
            CHECK_EQ(env.rip, rip0);
            CHECK(env.gpr[RCX] != rcx0);
        } else {
            CHECK_EQ(res, INSN_ABORT);
            CHECK_EQ(env.rip, rip0);
            if (in.rep == INSN_REP_NONE)
                CHECK(env_same(&env, &before));
        }
        free(buf);
    }
    permissive = false;
    CHECK(decoded > 10000);
}
