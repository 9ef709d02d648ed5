/* Emulates one decoded instruction (arch/x86/insn_decode.h) on a register file, with every
 * memory access made through callbacks, one per operand at the width the guest used. Pure:
 * no VMX, no global state; the VMM supplies registers, segment bases and memory.
 * Rules it follows (Intel SDM Vol. 1 3.4.1.1, 3.4.3, 3.7.5, Vol. 2 instruction pages):
 *  - a 1- or 2-byte register write merges into the register, a 4-byte one zero-extends to 64
 *    bits (in every mode: outside 64-bit mode the upper halves are not visible to the guest);
 *  - RMW instructions make one read, then one write of the same size and address; CMP, TEST
 *    and BT only read;
 *  - linear = segment base + effective address, truncated to 32 bits outside 64-bit mode; in
 *    64-bit mode only FS and GS bases count;
 *  - arithmetic flags as the SDM defines them; where it leaves one undefined, AF is cleared
 *    (logic ops) and BT* leave everything but CF alone;
 *  - string ops use rSI/rDI/rCX at the address size (16-bit updates merge), DF for direction,
 *    ES for the destination (no override), the override for the source. */
#ifndef MV_INSN_EMULATE_H
#define MV_INSN_EMULATE_H
#include "compiler.h"
#include "arch/x86/insn_decode.h"

/* RFLAGS bits the emulator reads or writes. */
#define INSN_RFLAGS_CF      BIT(0)
#define INSN_RFLAGS_PF      BIT(2)
#define INSN_RFLAGS_AF      BIT(4)
#define INSN_RFLAGS_ZF      BIT(6)
#define INSN_RFLAGS_SF      BIT(7)
#define INSN_RFLAGS_DF      BIT(10)
#define INSN_RFLAGS_OF      BIT(11)
#define INSN_RFLAGS_ARITH   (INSN_RFLAGS_CF | INSN_RFLAGS_PF | INSN_RFLAGS_AF | INSN_RFLAGS_ZF | \
                             INSN_RFLAGS_SF | INSN_RFLAGS_OF)

struct insn_env {
    uint64_t gpr[16];           /* RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 (hardware order) */
    uint64_t rip, rflags;
    uint64_t seg_base[6];       /* ES CS SS DS FS GS (enum insn_seg) */
    /* Memory by linear address, size 1/2/4/8, little-endian in buf. False: the access failed
     * (the caller queued a #PF/#GP or stopped the VM), and the instruction is abandoned. */
    bool (*read)(void *ctx, uint64_t linear, void *buf, unsigned size);
    bool (*write)(void *ctx, uint64_t linear, const void *buf, unsigned size);
    void *ctx;
};

enum insn_result {
    INSN_DONE,      /* completed, rip advanced (wrapping at 32 bits outside 64-bit mode) */
    INSN_AGAIN,     /* a REP string op stopped after max_reps: rip unchanged, rCX/rSI/rDI
                       updated; run it again to continue */
    INSN_ABORT,     /* a callback failed: registers, flags and rip unchanged, except what
                       REP iterations completed before the failing one moved */
};

/* Emulates in (which insn_decode produced) on env. A REP string op runs at most max_reps
 * iterations per call (0 counts as 1), so a long one cannot hold the VMM. */
enum insn_result insn_emulate(const struct insn *in, struct insn_env *env, unsigned max_reps);

/* The linear address the instruction's (first) memory access uses with the current
 * registers: the source for MOVS/LODS, the destination for STOS; for BT* with a register
 * bit offset, the operand-sized word that holds the bit. For the caller to check against the
 * faulting address. */
uint64_t insn_mem_linear(const struct insn *in, const struct insn_env *env);

#endif
