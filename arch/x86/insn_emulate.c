/* x86 emulation of one decoded instruction for MMIO (see insn_emulate.h for the rules).
 * Everything that can fail (the memory callbacks) happens before any register or flag is
 * written, so a failed access leaves the guest's state as it was. */
#include "insn_emulate.h"

#define GPR_AX              0
#define GPR_CX              1
#define GPR_SI              6
#define GPR_DI              7
#define GPR_COUNT           16
#define SEG_COUNT           6
#define HIGH8_SHIFT         8       /* AH..BH are bits 15:8 */
#define BYTE_MASK           0xFFull
#define LINEAR32_MASK       0xFFFFFFFFull   /* linear addresses outside 64-bit mode */
#define AF_CARRY_BIT        0x10    /* AF: carry/borrow out of bit 3, seen at bit 4 */
#define MAX_ACCESS          8


/* Arithmetic shift right of a two's complement value, without relying on signed shifts. */
static uint64_t sar64(uint64_t v, unsigned n)
{
    return (v & BIT(63)) ? ~(~v >> n) : v >> n;
}

static unsigned log2_size(unsigned size)
{
    return size >= 8 ? 3 : size >= 4 ? 2 : size >= 2 ? 1 : 0;
}

static uint64_t reg_read(const struct insn_env *env, unsigned r, bool high8, unsigned size)
{
    uint64_t v = env->gpr[r % GPR_COUNT];
    if (high8)
        return (v >> HIGH8_SHIFT) & BYTE_MASK;
    return v & insn_size_mask(size);
}

/* 8/16-bit writes merge, 32-bit writes zero-extend, 64-bit writes replace (SDM Vol. 1 3.4.1.1). */
static void reg_write(struct insn_env *env, unsigned r, bool high8, unsigned size, uint64_t v)
{
    uint64_t *g = &env->gpr[r % GPR_COUNT];
    if (high8)
        *g = (*g & ~(BYTE_MASK << HIGH8_SHIFT)) | ((v & BYTE_MASK) << HIGH8_SHIFT);
    else if (size < 4)
        *g = (*g & ~insn_size_mask(size)) | (v & insn_size_mask(size));
    else
        *g = v & insn_size_mask(size);
}

static bool mem_read(struct insn_env *env, uint64_t linear, unsigned size, uint64_t *v)
{
    uint8_t buf[MAX_ACCESS] = { 0 };
    if (!env->read(env->ctx, linear, buf, size))
        return false;
    uint64_t x = 0;
    for (unsigned i = 0; i < size; i++)
        x |= (uint64_t)buf[i] << (8 * i);
    *v = x;
    return true;
}

static bool mem_write(struct insn_env *env, uint64_t linear, unsigned size, uint64_t v)
{
    uint8_t buf[MAX_ACCESS];
    for (unsigned i = 0; i < size; i++)
        buf[i] = (uint8_t)(v >> (8 * i));
    return env->write(env->ctx, linear, buf, size);
}

static uint64_t linear(const struct insn *in, const struct insn_env *env, unsigned seg, uint64_t ea)
{
    if (seg >= SEG_COUNT)
        seg = INSN_SEG_DS;
    if (in->mode == INSN_MODE_64)
        return (seg == INSN_SEG_FS || seg == INSN_SEG_GS) ? ea + env->seg_base[seg] : ea;
    return (env->seg_base[seg] + ea) & LINEAR32_MASK;
}

/* base + index * scale + disp, at the address size; RIP-relative counts from the next
 * instruction (SDM Vol. 2 2.2.1.6). Sums wrap, so full-width registers give the same low bits. */
static uint64_t effective_address(const struct insn *in, const struct insn_env *env)
{
    uint64_t ea = (uint64_t)in->disp;
    if (in->base == INSN_REG_RIP)
        ea += env->rip + in->length;
    else if (in->base < GPR_COUNT)
        ea += env->gpr[in->base];
    if (in->index < GPR_COUNT)
        ea += env->gpr[in->index] * in->scale;
    return ea & insn_size_mask(in->addr_size);
}

/* BT* with a register offset on memory: the offset is signed and may leave the operand; the
 * CPU reads the operand-sized word EA + size * (offset DIV bits) (SDM Vol. 2, BT). */
static uint64_t bt_word_delta(const struct insn *in, const struct insn_env *env)
{
    if (in->src != INSN_SRC_REG)
        return 0;
    uint64_t off = insn_sign_extend(reg_read(env, in->reg, in->reg_high8, in->op_size), in->op_size);
    return sar64(off, 3 + log2_size(in->op_size)) * in->op_size;
}

static unsigned bt_bit(const struct insn *in, const struct insn_env *env)
{
    uint64_t off = in->src == INSN_SRC_REG ? reg_read(env, in->reg, in->reg_high8, in->op_size) : in->imm;
    return (unsigned)(off & (8u * in->op_size - 1));
}

static bool is_bt(enum insn_op op)
{
    return op == INSN_OP_BT || op == INSN_OP_BTS || op == INSN_OP_BTR || op == INSN_OP_BTC;
}

uint64_t insn_mem_linear(const struct insn *in, const struct insn_env *env)
{
    uint64_t amask = insn_size_mask(in->addr_size);
    switch (in->op) {
    case INSN_OP_MOVS: case INSN_OP_LODS:
        return linear(in, env, in->seg, env->gpr[GPR_SI] & amask);
    case INSN_OP_STOS:
        return linear(in, env, INSN_SEG_ES, env->gpr[GPR_DI] & amask);
    default:
        break;
    }
    uint64_t ea = effective_address(in, env);
    if (is_bt(in->op))
        ea = (ea + bt_word_delta(in, env)) & amask;
    return linear(in, env, in->seg, ea);
}

static bool even_parity8(uint64_t v)
{
    unsigned x = (unsigned)(v & BYTE_MASK);
    x ^= x >> 4;
    x ^= x >> 2;
    x ^= x >> 1;
    return !(x & 1);
}

/* SF ZF PF of a result (SDM Vol. 1 3.4.3.1): PF looks at the low byte only. */
static uint64_t result_flags(uint64_t r, unsigned size)
{
    uint64_t f = 0;
    r &= insn_size_mask(size);
    if (!r)
        f |= INSN_RFLAGS_ZF;
    if (r & BIT(8 * size - 1))
        f |= INSN_RFLAGS_SF;
    if (even_parity8(r))
        f |= INSN_RFLAGS_PF;
    return f;
}

/* a op b (with the carry for ADC/SBB); returns the result and sets *flags to the new
 * arithmetic flags. Carry and overflow come from the operands' and result's top bits, so the
 * same formulas hold at every width without a wider type. */
static uint64_t alu(enum insn_op op, unsigned size, uint64_t a, uint64_t b, uint64_t rflags, uint64_t *flags)
{
    uint64_t m = insn_size_mask(size), top = BIT(8 * size - 1);
    uint64_t cin = (rflags & INSN_RFLAGS_CF) ? 1 : 0, r, f = 0;
    a &= m;
    b &= m;
    switch (op) {
    case INSN_OP_ADD: case INSN_OP_ADC:
        r = (a + b + (op == INSN_OP_ADC ? cin : 0)) & m;
        if (((a & b) | ((a | b) & ~r)) & top)
            f |= INSN_RFLAGS_CF;
        if ((a ^ r) & (b ^ r) & top)
            f |= INSN_RFLAGS_OF;
        if ((a ^ b ^ r) & AF_CARRY_BIT)
            f |= INSN_RFLAGS_AF;
        break;
    case INSN_OP_SUB: case INSN_OP_SBB: case INSN_OP_CMP:
        r = (a - b - (op == INSN_OP_SBB ? cin : 0)) & m;
        if (((~a & b) | ((~a | b) & r)) & top)
            f |= INSN_RFLAGS_CF;
        if ((a ^ b) & (a ^ r) & top)
            f |= INSN_RFLAGS_OF;
        if ((a ^ b ^ r) & AF_CARRY_BIT)
            f |= INSN_RFLAGS_AF;
        break;
    case INSN_OP_OR:
        r = a | b;
        break;
    case INSN_OP_XOR:
        r = a ^ b;
        break;
    default:    /* AND, TEST */
        r = a & b;
        break;
    }
    *flags = f | result_flags(r, size);
    return r;
}

static uint64_t set_arith(uint64_t rflags, uint64_t mask, uint64_t flags)
{
    return (rflags & ~mask) | (flags & mask);
}

static enum insn_result finish(const struct insn *in, struct insn_env *env)
{
    env->rip += in->length;
    if (in->mode != INSN_MODE_64)
        env->rip &= LINEAR32_MASK;
    return INSN_DONE;
}

static enum insn_result string_op(const struct insn *in, struct insn_env *env, unsigned max_reps)
{
    unsigned size = in->op_size, asz = in->addr_size;
    uint64_t amask = insn_size_mask(asz);
    uint64_t step = (env->rflags & INSN_RFLAGS_DF) ? (uint64_t)0 - size : size;
    bool rep = in->rep != INSN_REP_NONE;
    uint64_t count = rep ? env->gpr[GPR_CX] & amask : 1;
    uint64_t n = MIN(count, (uint64_t)(max_reps ? max_reps : 1));
    for (uint64_t i = 0; i < n; i++) {
        uint64_t si = env->gpr[GPR_SI] & amask, di = env->gpr[GPR_DI] & amask, v;
        switch (in->op) {
        case INSN_OP_MOVS:
            if (!mem_read(env, linear(in, env, in->seg, si), size, &v) ||
                !mem_write(env, linear(in, env, INSN_SEG_ES, di), size, v))
                return INSN_ABORT;
            break;
        case INSN_OP_STOS:
            if (!mem_write(env, linear(in, env, INSN_SEG_ES, di), size, reg_read(env, GPR_AX, false, size)))
                return INSN_ABORT;
            break;
        default:    /* LODS */
            if (!mem_read(env, linear(in, env, in->seg, si), size, &v))
                return INSN_ABORT;
            reg_write(env, GPR_AX, false, size, v);
            break;
        }
        if (in->op != INSN_OP_STOS)
            reg_write(env, GPR_SI, false, asz, si + step);
        if (in->op != INSN_OP_LODS)
            reg_write(env, GPR_DI, false, asz, di + step);
        if (rep)
            reg_write(env, GPR_CX, false, asz, (env->gpr[GPR_CX] & amask) - 1);
    }
    if (rep && (env->gpr[GPR_CX] & amask))
        return INSN_AGAIN;
    return finish(in, env);
}

enum insn_result insn_emulate(const struct insn *in, struct insn_env *env, unsigned max_reps)
{
    if (in->op == INSN_OP_MOVS || in->op == INSN_OP_STOS || in->op == INSN_OP_LODS)
        return string_op(in, env, max_reps);

    unsigned size = in->op_size;
    uint64_t lin = insn_mem_linear(in, env), m, flags;
    uint64_t rv = reg_read(env, in->reg, in->reg_high8, size);
    uint64_t src = in->src == INSN_SRC_IMM ? in->imm : rv;

    switch (in->op) {
    case INSN_OP_MOV:
        if (in->to_reg) {
            if (!mem_read(env, lin, size, &m))
                return INSN_ABORT;
            reg_write(env, in->reg, in->reg_high8, size, m);
        } else if (!mem_write(env, lin, size, src)) {
            return INSN_ABORT;
        }
        return finish(in, env);

    case INSN_OP_MOVZX: case INSN_OP_MOVSX:
        if (!mem_read(env, lin, in->src_size, &m))
            return INSN_ABORT;
        if (in->op == INSN_OP_MOVSX)
            m = insn_sign_extend(m, in->src_size);
        reg_write(env, in->reg, in->reg_high8, size, m);
        return finish(in, env);

    case INSN_OP_XCHG:
        if (!mem_read(env, lin, size, &m) || !mem_write(env, lin, size, rv))
            return INSN_ABORT;
        reg_write(env, in->reg, in->reg_high8, size, m);
        return finish(in, env);

    case INSN_OP_BT: case INSN_OP_BTS: case INSN_OP_BTR: case INSN_OP_BTC: {
        if (!mem_read(env, lin, size, &m))
            return INSN_ABORT;
        uint64_t bit = BIT(bt_bit(in, env));
        uint64_t nv = in->op == INSN_OP_BTS ? m | bit : in->op == INSN_OP_BTR ? m & ~bit : m ^ bit;
        if (in->op != INSN_OP_BT && !mem_write(env, lin, size, nv))
            return INSN_ABORT;
        env->rflags = set_arith(env->rflags, INSN_RFLAGS_CF, (m & bit) ? INSN_RFLAGS_CF : 0);
        return finish(in, env);
    }

    case INSN_OP_NOT:
        if (!mem_read(env, lin, size, &m) || !mem_write(env, lin, size, ~m & insn_size_mask(size)))
            return INSN_ABORT;
        return finish(in, env);

    case INSN_OP_NEG: case INSN_OP_INC: case INSN_OP_DEC: {
        if (!mem_read(env, lin, size, &m))
            return INSN_ABORT;
        uint64_t r, mask = INSN_RFLAGS_ARITH;
        if (in->op == INSN_OP_NEG) {
            r = alu(INSN_OP_SUB, size, 0, m, 0, &flags);
        } else {
            /* INC/DEC leave CF alone */
            r = alu(in->op == INSN_OP_INC ? INSN_OP_ADD : INSN_OP_SUB, size, m, 1, 0, &flags);
            mask &= ~INSN_RFLAGS_CF;
        }
        if (!mem_write(env, lin, size, r))
            return INSN_ABORT;
        env->rflags = set_arith(env->rflags, mask, flags);
        return finish(in, env);
    }

    default: {  /* ADD OR ADC SBB AND SUB XOR CMP TEST */
        if ((unsigned)in->op > INSN_OP_TEST)
            return INSN_ABORT;
        if (!mem_read(env, lin, size, &m))
            return INSN_ABORT;
        uint64_t a = in->to_reg ? rv : m, b = in->to_reg ? m : src;
        uint64_t r = alu(in->op, size, a, b, env->rflags, &flags);
        bool writes = in->op != INSN_OP_CMP && in->op != INSN_OP_TEST;
        if (writes && !in->to_reg && !mem_write(env, lin, size, r))
            return INSN_ABORT;
        if (writes && in->to_reg)
            reg_write(env, in->reg, in->reg_high8, size, r);
        env->rflags = set_arith(env->rflags, INSN_RFLAGS_ARITH, flags);
        return finish(in, env);
    }
    }
}
