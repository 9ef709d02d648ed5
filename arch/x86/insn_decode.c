/* x86 decoder for MMIO emulation (SDM Vol. 2 chapter 2 and appendix A). Bytes are fetched one
 * field at a time, each only once the bytes before it say it is there: that is what makes a
 * cut-short valid encoding report INSN_ETRUNC and never read past len. */
#include "insn_decode.h"

/* Legacy prefixes (SDM Vol. 2 2.1.1) and the REX range (2.2.1). */
#define PFX_ES              0x26
#define PFX_CS              0x2E
#define PFX_SS              0x36
#define PFX_DS              0x3E
#define PFX_FS              0x64
#define PFX_GS              0x65
#define PFX_OPSIZE          0x66
#define PFX_ADDRSIZE        0x67
#define PFX_LOCK            0xF0
#define PFX_REPNE           0xF2
#define PFX_REP             0xF3
#define REX_MASK            0xF0
#define REX_BASE            0x40
#define REX_FIELD           0x0F
#define OPCODE_ESCAPE       0x0F

/* ModRM and SIB (SDM Vol. 2 2.1.5, tables 2-1..2-3). */
#define MODRM_MOD_SHIFT     6
#define MODRM_REG_SHIFT     3
#define MODRM_FIELD         0x07
#define MOD_NO_DISP         0
#define MOD_DISP8           1
#define MOD_DISP_FULL       2       /* disp16 or disp32 by address size */
#define MOD_REGISTER        3
#define RM_SIB              4
#define RM_DISP32           5       /* mod 0: disp32 alone; RIP-relative in 64-bit mode */
#define RM16_DISP16         6       /* 16-bit addressing, mod 0: disp16 alone */
#define SIB_SCALE_SHIFT     6
#define SIB_INDEX_SHIFT     3
#define SIB_NO_INDEX        4
#define SIB_BASE_NONE       5       /* with mod 0: no base, disp32 */
#define REG_EXT             8       /* REX.R/X/B add 8 to the 3-bit field */

#define GPR_AX              0
#define GPR_BX              3
#define GPR_SP              4
#define GPR_BP              5
#define GPR_SI              6
#define GPR_DI              7
#define HIGH8_FIRST         4       /* byte regs 4..7 without REX: AH CH DH BH */

/* One-byte opcode map (SDM Vol. 2 table A-2). */
#define OP_ALU_LAST         0x3F    /* 00..3F: eight ALU ops of six forms, and misc */
#define OP_ALU_OP_SHIFT     3
#define OP_ALU_FORM_MASK    0x07
#define ALU_FORM_EB_GB      0       /* r/m8, r8 */
#define ALU_FORM_EV_GV      1       /* r/m, r */
#define ALU_FORM_GB_EB      2       /* r8, r/m8 */
#define ALU_FORM_GV_EV      3       /* r, r/m */
#define ALU_FORM_AL_IB      4
#define ALU_FORM_AX_IZ      5
#define OP_WIDE_BIT         0x01    /* in pairs like 88/89: set = full operand size */
#define OP_TO_REG_BIT       0x02    /* 88/89 vs 8A/8B: set = the register is the destination */
#define OP_PUSHA            0x60    /* 60 61 9A CE D4 D5 D6 EA: invalid in 64-bit mode */
#define OP_POPA             0x61
#define OP_CALLF            0x9A
#define OP_INTO             0xCE
#define OP_AAM              0xD4
#define OP_AAD              0xD5
#define OP_SALC             0xD6
#define OP_JMPF             0xEA
#define OP_MOVSXD           0x63
#define OP_GRP1_EB_IB       0x80
#define OP_GRP1_EV_IZ       0x81
#define OP_GRP1_EB_IB_ALIAS 0x82    /* 80's twin, invalid in 64-bit mode */
#define OP_GRP1_EV_IB       0x83
#define OP_TEST_EB_GB       0x84
#define OP_TEST_EV_GV       0x85
#define OP_XCHG_EB_GB       0x86
#define OP_XCHG_EV_GV       0x87
#define OP_MOV_EB_GB        0x88
#define OP_MOV_GV_EV        0x8B
#define OP_MOV_AL_MOFFS     0xA0
#define OP_MOV_MOFFS_AX     0xA3
#define OP_MOVSB            0xA4
#define OP_MOVSV            0xA5
#define OP_STOSB            0xAA
#define OP_STOSV            0xAB
#define OP_LODSB            0xAC
#define OP_LODSV            0xAD
#define OP_GRP11_EB_IB      0xC6    /* MOV r/m8, imm8 */
#define OP_GRP11_EV_IZ      0xC7
#define OP_GRP3_EB          0xF6
#define OP_GRP3_EV          0xF7
#define OP_GRP4_EB          0xFE
#define OP_GRP5_EV          0xFF

/* ModRM reg field as an opcode extension. */
#define GRP11_MOV           0
#define GRP11_XBEGIN        7       /* C6 F8 XABORT / C7 F8 XBEGIN: register form only */
#define GRP3_TEST           0
#define GRP3_NOT            2
#define GRP3_NEG            3
#define GRP45_INC           0
#define GRP45_DEC           1
#define GRP5_INVALID        7
#define GRP8_BT             4       /* 0F BA /4../7: BT BTS BTR BTC */

/* Two-byte opcodes (SDM Vol. 2 table A-3). */
#define OP2_UD2             0x0B
#define OP2_BT              0xA3
#define OP2_BTS             0xAB
#define OP2_BTR             0xB3
#define OP2_BTC             0xBB
#define OP2_BT_OP_SHIFT     3       /* A3/AB/B3/BB: bits 4:3 pick BT BTS BTR BTC */
#define OP2_BT_OP_MASK      0x03
#define OP2_MOVZX_B         0xB6
#define OP2_MOVZX_W         0xB7
#define OP2_UD1             0xB9
#define OP2_GRP8            0xBA
#define OP2_MOVSX_B         0xBE
#define OP2_MOVSX_W         0xBF
#define OP2_UD0             0xFF
#define OP2_SRC_WORD_BIT    0x01    /* B6/BE byte source, B7/BF word source */

/* What an opcode takes after itself. */
#define F_MODRM             BIT(0)
#define F_BYTE              BIT(1)  /* 8-bit operand */
#define F_IMM8              BIT(2)  /* imm8, sign-extended to the operand size */
#define F_IMMZ              BIT(3)  /* imm16 or imm32 (sign-extended for 64-bit operands) */
#define F_MOFFS             BIT(4)  /* an address-size offset, no ModRM */
#define F_STRING            BIT(5)
#define F_GROUP             BIT(6)  /* the ModRM reg field picks the op */

#define SEG_NONE            0xFF

struct cursor {
    const uint8_t *code;
    size_t len, pos;
};

/* The next byte: INSN_EINVAL past the 15-byte limit, INSN_ETRUNC past what was given. */
static int fetch(struct cursor *c, uint8_t *b)
{
    if (c->pos >= INSN_MAX_LEN)
        return INSN_EINVAL;
    if (c->pos >= c->len)
        return INSN_ETRUNC;
    *b = c->code[c->pos++];
    return 0;
}

static int fetch_le(struct cursor *c, unsigned n, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t b;
        int r = fetch(c, &b);
        if (r)
            return r;
        x |= (uint64_t)b << (8 * i);
    }
    *v = x;
    return 0;
}


static bool rex_has(const struct insn *in, uint8_t bit)
{
    return (in->rex & bit) != 0;
}

/* ModRM memory operand (mod != 3), with SIB and displacement: 16-bit addressing per SDM
 * Vol. 2 table 2-1, 32/64-bit per tables 2-2/2-3 and 2.2.1.6 (RIP-relative). The default
 * segment is SS for a BP/SP base (Vol. 1 table 3-5), DS otherwise. */
static int decode_mem(struct cursor *c, struct insn *in)
{
    static const uint8_t base16[8] = { GPR_BX, GPR_BX, GPR_BP, GPR_BP, GPR_SI, GPR_DI, GPR_BP, GPR_BX };
    static const uint8_t index16[8] = { GPR_SI, GPR_DI, GPR_SI, GPR_DI,
                                        INSN_REG_NONE, INSN_REG_NONE, INSN_REG_NONE, INSN_REG_NONE };
    unsigned rm = in->modrm & MODRM_FIELD;
    unsigned disp_size = in->mod == MOD_DISP8 ? 1 : in->mod == MOD_DISP_FULL ? (in->addr_size == 2 ? 2 : 4) : 0;
    in->scale = 1;
    if (in->addr_size == 2) {
        in->base = base16[rm];
        in->index = index16[rm];
        if (in->mod == MOD_NO_DISP && rm == RM16_DISP16) {
            in->base = INSN_REG_NONE;
            disp_size = 2;
        }
    } else if (rm == RM_SIB) {
        uint8_t sib;
        int r = fetch(c, &sib);
        if (r)
            return r;
        in->has_sib = true;
        in->sib = sib;
        in->scale = (uint8_t)(1u << (sib >> SIB_SCALE_SHIFT));
        unsigned index = ((sib >> SIB_INDEX_SHIFT) & MODRM_FIELD) | (rex_has(in, INSN_REX_X) ? REG_EXT : 0);
        in->index = index == SIB_NO_INDEX ? INSN_REG_NONE : (uint8_t)index;
        unsigned base = sib & MODRM_FIELD;
        if (base == SIB_BASE_NONE && in->mod == MOD_NO_DISP) {
            in->base = INSN_REG_NONE;
            disp_size = 4;
        } else {
            in->base = (uint8_t)(base | (rex_has(in, INSN_REX_B) ? REG_EXT : 0));
        }
    } else if (rm == RM_DISP32 && in->mod == MOD_NO_DISP) {
        in->base = in->mode == INSN_MODE_64 ? INSN_REG_RIP : INSN_REG_NONE;
        in->index = INSN_REG_NONE;
        disp_size = 4;
    } else {
        in->base = (uint8_t)(rm | (rex_has(in, INSN_REX_B) ? REG_EXT : 0));
        in->index = INSN_REG_NONE;
    }
    in->seg = (in->base == GPR_BP || in->base == GPR_SP) ? INSN_SEG_SS : INSN_SEG_DS;
    uint64_t d = 0;
    int r = fetch_le(c, disp_size, &d);
    if (r)
        return r;
    in->disp_size = (uint8_t)disp_size;
    in->disp = (int64_t)insn_sign_extend(d, disp_size ? disp_size : 8);
    return 0;
}

/* The op for a one-byte opcode, and what follows it; a negative error if none. */
static int classify1(struct insn *in, uint8_t op, unsigned *flags)
{
    bool m64 = in->mode == INSN_MODE_64;
    if (op <= OP_ALU_LAST) {
        unsigned form = op & OP_ALU_FORM_MASK;
        if (form <= ALU_FORM_GV_EV) {
            in->op = (enum insn_op)(op >> OP_ALU_OP_SHIFT);
            in->src = INSN_SRC_REG;
            in->to_reg = (op & OP_TO_REG_BIT) != 0;
            *flags = F_MODRM | ((op & OP_WIDE_BIT) ? 0 : F_BYTE);
            return 0;
        }
        if (form == ALU_FORM_AL_IB || form == ALU_FORM_AX_IZ)
            return INSN_EUNSUPPORTED;       /* no memory operand */
        /* push/pop of segment registers, DAA DAS AAA AAS: gone in 64-bit mode */
        return m64 ? INSN_EINVAL : INSN_EUNSUPPORTED;
    }
    switch (op) {
    case OP_PUSHA: case OP_POPA: case OP_CALLF: case OP_INTO:
    case OP_AAM: case OP_AAD: case OP_SALC: case OP_JMPF:
        return m64 ? INSN_EINVAL : INSN_EUNSUPPORTED;
    case OP_MOVSXD:
        if (!m64)
            return INSN_EUNSUPPORTED;       /* ARPL */
        in->op = INSN_OP_MOVSX;
        in->src = INSN_SRC_REG;
        in->to_reg = true;
        *flags = F_MODRM;
        return 0;
    case OP_GRP1_EB_IB_ALIAS:
        if (m64)
            return INSN_EINVAL;
        /* fall through */
    case OP_GRP1_EB_IB:
        *flags = F_MODRM | F_GROUP | F_BYTE | F_IMM8;
        return 0;
    case OP_GRP1_EV_IZ:
        *flags = F_MODRM | F_GROUP | F_IMMZ;
        return 0;
    case OP_GRP1_EV_IB:
        *flags = F_MODRM | F_GROUP | F_IMM8;
        return 0;
    case OP_TEST_EB_GB: case OP_TEST_EV_GV:
    case OP_XCHG_EB_GB: case OP_XCHG_EV_GV:
        in->op = op <= OP_TEST_EV_GV ? INSN_OP_TEST : INSN_OP_XCHG;
        in->src = INSN_SRC_REG;
        *flags = F_MODRM | ((op & OP_WIDE_BIT) ? 0 : F_BYTE);
        return 0;
    case OP_GRP11_EB_IB: case OP_GRP11_EV_IZ:
        in->op = INSN_OP_MOV;
        in->src = INSN_SRC_IMM;
        *flags = F_MODRM | F_GROUP | ((op & OP_WIDE_BIT) ? F_IMMZ : F_BYTE | F_IMM8);
        return 0;
    case OP_GRP3_EB: case OP_GRP3_EV:
    case OP_GRP4_EB: case OP_GRP5_EV:
        *flags = F_MODRM | F_GROUP | ((op & OP_WIDE_BIT) ? 0 : F_BYTE);
        return 0;
    case OP_MOVSB: case OP_MOVSV:
    case OP_STOSB: case OP_STOSV:
    case OP_LODSB: case OP_LODSV:
        in->op = op <= OP_MOVSV ? INSN_OP_MOVS : op <= OP_STOSV ? INSN_OP_STOS : INSN_OP_LODS;
        in->src = in->op == INSN_OP_STOS ? INSN_SRC_REG : INSN_SRC_NONE;
        in->to_reg = in->op == INSN_OP_LODS;
        *flags = F_STRING | ((op & OP_WIDE_BIT) ? 0 : F_BYTE);
        return 0;
    default:
        break;
    }
    if (op >= OP_MOV_EB_GB && op <= OP_MOV_GV_EV) {
        in->op = INSN_OP_MOV;
        in->src = INSN_SRC_REG;
        in->to_reg = (op & OP_TO_REG_BIT) != 0;
        *flags = F_MODRM | ((op & OP_WIDE_BIT) ? 0 : F_BYTE);
        return 0;
    }
    if (op >= OP_MOV_AL_MOFFS && op <= OP_MOV_MOFFS_AX) {
        in->op = INSN_OP_MOV;
        in->src = INSN_SRC_REG;
        in->to_reg = (op & OP_TO_REG_BIT) == 0;     /* A0/A1 load, A2/A3 store */
        *flags = F_MOFFS | ((op & OP_WIDE_BIT) ? 0 : F_BYTE);
        return 0;
    }
    return INSN_EUNSUPPORTED;
}

static int classify2(struct insn *in, uint8_t op, unsigned *flags)
{
    switch (op) {
    case OP2_UD2: case OP2_UD1: case OP2_UD0:
        return INSN_EINVAL;
    case OP2_BT: case OP2_BTS: case OP2_BTR: case OP2_BTC:
        in->op = (enum insn_op)(INSN_OP_BT + ((op >> OP2_BT_OP_SHIFT) & OP2_BT_OP_MASK));
        in->src = INSN_SRC_REG;
        *flags = F_MODRM;
        return 0;
    case OP2_GRP8:
        *flags = F_MODRM | F_GROUP | F_IMM8;
        return 0;
    case OP2_MOVZX_B: case OP2_MOVZX_W:
    case OP2_MOVSX_B: case OP2_MOVSX_W:
        in->op = op <= OP2_MOVZX_W ? INSN_OP_MOVZX : INSN_OP_MOVSX;
        in->src = INSN_SRC_REG;
        in->to_reg = true;
        in->src_size = (op & OP2_SRC_WORD_BIT) ? 2 : 1;
        *flags = F_MODRM;
        return 0;
    default:
        return INSN_EUNSUPPORTED;
    }
}

/* Group opcodes: the op from the ModRM reg field. */
static int classify_group(struct insn *in, unsigned reg, unsigned *flags)
{
    uint8_t op = in->opcode;
    if (in->two_byte) {                             /* 0F BA */
        if (reg < GRP8_BT)
            return INSN_EINVAL;
        in->op = (enum insn_op)(INSN_OP_BT + (reg - GRP8_BT));
        in->src = INSN_SRC_IMM;
        return 0;
    }
    switch (op) {
    case OP_GRP1_EB_IB: case OP_GRP1_EV_IZ: case OP_GRP1_EB_IB_ALIAS: case OP_GRP1_EV_IB:
        in->op = (enum insn_op)reg;
        in->src = INSN_SRC_IMM;
        return 0;
    case OP_GRP11_EB_IB: case OP_GRP11_EV_IZ:
        if (reg == GRP11_MOV)
            return 0;
        return (reg == GRP11_XBEGIN && in->mod == MOD_REGISTER) ? INSN_EUNSUPPORTED : INSN_EINVAL;
    case OP_GRP3_EB: case OP_GRP3_EV:
        if (reg == GRP3_TEST) {                     /* the only member with an immediate */
            in->op = INSN_OP_TEST;
            in->src = INSN_SRC_IMM;
            *flags |= (*flags & F_BYTE) ? F_IMM8 : F_IMMZ;
            return 0;
        }
        if (reg == GRP3_NOT || reg == GRP3_NEG) {
            in->op = reg == GRP3_NOT ? INSN_OP_NOT : INSN_OP_NEG;
            return 0;
        }
        return INSN_EUNSUPPORTED;                   /* /1 TEST alias, MUL IMUL DIV IDIV */
    case OP_GRP4_EB: case OP_GRP5_EV:
        if (reg == GRP45_INC || reg == GRP45_DEC) {
            in->op = reg == GRP45_INC ? INSN_OP_INC : INSN_OP_DEC;
            return 0;
        }
        if (op == OP_GRP4_EB || reg == GRP5_INVALID)
            return INSN_EINVAL;
        return INSN_EUNSUPPORTED;                   /* CALL JMP PUSH */
    default:
        return INSN_EUNSUPPORTED;
    }
}

/* LOCK is #UD unless the instruction is a read-modify-write of memory (SDM Vol. 2, LOCK). */
static bool lockable(const struct insn *in)
{
    switch (in->op) {
    case INSN_OP_ADD: case INSN_OP_OR: case INSN_OP_ADC: case INSN_OP_SBB:
    case INSN_OP_AND: case INSN_OP_SUB: case INSN_OP_XOR:
        return !in->to_reg;
    case INSN_OP_XCHG: case INSN_OP_BTS: case INSN_OP_BTR: case INSN_OP_BTC:
    case INSN_OP_NOT: case INSN_OP_NEG: case INSN_OP_INC: case INSN_OP_DEC:
        return true;
    default:
        return false;
    }
}

/* The register operand from the ModRM reg field (or rAX): byte registers 4..7 are AH..BH
 * unless a REX prefix is present, which makes them SPL BPL SIL DIL (SDM Vol. 2 2.2.1.2). */
static void set_reg_operand(struct insn *in, unsigned reg)
{
    if (in->op_size == 1 && !in->rex && reg >= HIGH8_FIRST) {
        in->reg = (uint8_t)(reg - HIGH8_FIRST);
        in->reg_high8 = true;
    } else {
        in->reg = (uint8_t)reg;
        in->reg_high8 = false;
    }
}

static int decode_prefixes(struct cursor *c, struct insn *in, uint8_t *opcode)
{
    for (;;) {
        uint8_t b;
        int r = fetch(c, &b);
        if (r)
            return r;
        uint8_t seg = SEG_NONE;
        switch (b) {
        case PFX_ES: seg = INSN_SEG_ES; break;
        case PFX_CS: seg = INSN_SEG_CS; break;
        case PFX_SS: seg = INSN_SEG_SS; break;
        case PFX_DS: seg = INSN_SEG_DS; break;
        case PFX_FS: seg = INSN_SEG_FS; break;
        case PFX_GS: seg = INSN_SEG_GS; break;
        case PFX_OPSIZE: in->prefixes |= INSN_PFX_OPSIZE; break;
        case PFX_ADDRSIZE: in->prefixes |= INSN_PFX_ADDRSIZE; break;
        case PFX_LOCK: in->prefixes |= INSN_PFX_LOCK; break;
        case PFX_REPNE: in->prefixes |= INSN_PFX_REPNE; in->rep = INSN_REP_REPNE; break;
        case PFX_REP: in->prefixes |= INSN_PFX_REP; in->rep = INSN_REP_REP; break;
        default:
            if (in->mode == INSN_MODE_64 && (b & REX_MASK) == REX_BASE) {
                in->rex = b;            /* a later REX replaces an earlier one */
                continue;
            }
            *opcode = b;
            return 0;
        }
        if (seg != SEG_NONE) {
            in->prefixes |= INSN_PFX_SEG;
            in->seg_override = seg;
        }
        in->rex = 0;                    /* a REX not right before the opcode is ignored */
    }
}

int insn_decode(const uint8_t *code, size_t len, enum insn_mode mode, struct insn *out)
{
    if (mode != INSN_MODE_16 && mode != INSN_MODE_32 && mode != INSN_MODE_64)
        return INSN_EINVAL;
    struct cursor c = { .code = code, .len = len, .pos = 0 };
    struct insn in = { .mode = mode, .base = INSN_REG_NONE, .index = INSN_REG_NONE, .scale = 1,
                       .seg = INSN_SEG_DS };
    uint8_t op;
    int r = decode_prefixes(&c, &in, &op);
    if (r)
        return r;

    /* Operand and address size (SDM Vol. 1 table 3-4; REX.W wins over 66). */
    bool o66 = in.prefixes & INSN_PFX_OPSIZE, a67 = in.prefixes & INSN_PFX_ADDRSIZE;
    if (mode == INSN_MODE_64) {
        in.op_size = rex_has(&in, INSN_REX_W) ? 8 : o66 ? 2 : 4;
        in.addr_size = a67 ? 4 : 8;
    } else {
        bool big = (mode == INSN_MODE_32) != o66;
        in.op_size = big ? 4 : 2;
        in.addr_size = ((mode == INSN_MODE_32) != a67) ? 4 : 2;
    }

    unsigned flags = 0;
    if (op == OPCODE_ESCAPE) {
        r = fetch(&c, &op);
        if (r)
            return r;
        in.two_byte = true;
        in.opcode = op;
        r = classify2(&in, op, &flags);
    } else {
        in.opcode = op;
        r = classify1(&in, op, &flags);
    }
    if (r)
        return r;
    if (flags & F_BYTE)
        in.op_size = 1;
    if (!in.src_size)
        in.src_size = in.op == INSN_OP_MOVSX && !in.two_byte ? (uint8_t)MIN(in.op_size, 4) : in.op_size;

    if (flags & F_MODRM) {
        r = fetch(&c, &in.modrm);
        if (r)
            return r;
        in.has_modrm = true;
        in.mod = in.modrm >> MODRM_MOD_SHIFT;
        unsigned reg = (in.modrm >> MODRM_REG_SHIFT) & MODRM_FIELD;
        in.reg_field = (uint8_t)(reg | (rex_has(&in, INSN_REX_R) ? REG_EXT : 0));
        in.rm = (uint8_t)((in.modrm & MODRM_FIELD) | (rex_has(&in, INSN_REX_B) ? REG_EXT : 0));
        if (flags & F_GROUP) {
            r = classify_group(&in, reg, &flags);
            if (r)
                return r;
        } else {
            set_reg_operand(&in, in.reg_field);
        }
        if (in.mod == MOD_REGISTER)     /* register-only: nothing for the MMIO path to do */
            return (in.prefixes & INSN_PFX_LOCK) ? INSN_EINVAL : INSN_EUNSUPPORTED;
        r = decode_mem(&c, &in);
        if (r)
            return r;
    } else if (flags & F_MOFFS) {
        set_reg_operand(&in, GPR_AX);
        uint64_t moffs;
        r = fetch_le(&c, in.addr_size, &moffs);
        if (r)
            return r;
        in.disp = (int64_t)moffs;
        in.disp_size = in.addr_size;
    } else if (flags & F_STRING) {
        set_reg_operand(&in, GPR_AX);
    }
    if ((in.prefixes & INSN_PFX_LOCK) && !lockable(&in))
        return INSN_EINVAL;
    if (!(flags & F_STRING))
        in.rep = INSN_REP_NONE;

    /* Only FS and GS have bases in 64-bit mode: other overrides are null prefixes there. */
    if ((in.prefixes & INSN_PFX_SEG) &&
        (mode != INSN_MODE_64 || in.seg_override == INSN_SEG_FS || in.seg_override == INSN_SEG_GS))
        in.seg = in.seg_override;

    if (flags & (F_IMM8 | F_IMMZ)) {
        unsigned n = (flags & F_IMM8) ? 1 : in.op_size == 2 ? 2 : 4;
        uint64_t imm;
        r = fetch_le(&c, n, &imm);
        if (r)
            return r;
        in.imm_size = (uint8_t)n;
        /* 0F BA's imm8 is a bit offset, taken modulo the operand width: keep it raw */
        in.imm = in.two_byte ? imm : insn_sign_extend(imm, n) & insn_size_mask(in.op_size);
    }
    in.length = (uint8_t)c.pos;
    *out = in;
    return (int)c.pos;
}

const char *insn_name(const struct insn *in)
{
    static const char *const names[INSN_OP_COUNT] = {
        [INSN_OP_ADD] = "add", [INSN_OP_OR] = "or", [INSN_OP_ADC] = "adc", [INSN_OP_SBB] = "sbb",
        [INSN_OP_AND] = "and", [INSN_OP_SUB] = "sub", [INSN_OP_XOR] = "xor", [INSN_OP_CMP] = "cmp",
        [INSN_OP_TEST] = "test", [INSN_OP_MOV] = "mov", [INSN_OP_MOVZX] = "movzx",
        [INSN_OP_MOVSX] = "movsx", [INSN_OP_XCHG] = "xchg", [INSN_OP_BT] = "bt",
        [INSN_OP_BTS] = "bts", [INSN_OP_BTR] = "btr", [INSN_OP_BTC] = "btc", [INSN_OP_NOT] = "not",
        [INSN_OP_NEG] = "neg", [INSN_OP_INC] = "inc", [INSN_OP_DEC] = "dec",
        [INSN_OP_MOVS] = "movs", [INSN_OP_STOS] = "stos", [INSN_OP_LODS] = "lods",
    };
    if ((unsigned)in->op >= INSN_OP_COUNT)
        return "?";
    if (in->op == INSN_OP_MOVSX && !in->two_byte)
        return "movsxd";
    return names[in->op];
}
