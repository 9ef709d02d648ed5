/* x86 instruction decoder for the instructions a guest uses on MMIO: MOV (all forms with a
 * memory operand, moffs, immediates), MOVZX/MOVSX/MOVSXD, MOVS/STOS/LODS (with REP), the
 * ALU group with a memory operand (ADD OR ADC SBB AND SUB XOR CMP, TEST), XCHG, BT/BTS/BTR/BTC,
 * NOT/NEG/INC/DEC. 16-, 32- and 64-bit code; prefixes 66, 67, REX, segment overrides, F2/F3,
 * F0. Pure: it reads only code[0..len) and writes only *out.
 * Register-only forms (ModRM mod = 3, AL/eAX-immediate forms) decode to INSN_EUNSUPPORTED: the
 * VMM only emulates instructions that touch memory, so every decoded instruction has one
 * (MOVS has two). References: Intel SDM Vol. 2 chapter 2 (instruction format) and the
 * opcode map in Vol. 2 appendix A. */
#ifndef MV_INSN_DECODE_H
#define MV_INSN_DECODE_H
#include "compiler.h"

#define INSN_MAX_LEN        15      /* SDM Vol. 2 2.3.11: longer is #GP/#UD */
#define INSN_ETRUNC         (-1)    /* needs more bytes than were given */
#define INSN_EINVAL         (-2)    /* not an instruction (the CPU raises #UD), or > 15 bytes */
#define INSN_EUNSUPPORTED   (-3)    /* a valid instruction this emulator does not handle */

enum insn_mode { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };   /* the code segment's default */

/* Segment registers in the SDM's encoding order (that of struct insn_env's seg_base). */
enum insn_seg { INSN_SEG_ES, INSN_SEG_CS, INSN_SEG_SS, INSN_SEG_DS, INSN_SEG_FS, INSN_SEG_GS };

/* General-purpose registers in hardware order; base/index use these, or the two below. */
#define INSN_REG_NONE       0xFF    /* no base / no index */
#define INSN_REG_RIP        0x10    /* RIP-relative: base is the next instruction's address */

/* The eight ALU operations keep their group-1 /digit order (SDM Vol. 2 A.4, group 1), so
 * opcode bits 5:3 and the ModRM reg field of 80/81/83 map onto them directly. */
enum insn_op {
    INSN_OP_ADD, INSN_OP_OR, INSN_OP_ADC, INSN_OP_SBB,
    INSN_OP_AND, INSN_OP_SUB, INSN_OP_XOR, INSN_OP_CMP,
    INSN_OP_TEST,
    INSN_OP_MOV, INSN_OP_MOVZX, INSN_OP_MOVSX,     /* MOVSXD is INSN_OP_MOVSX with src_size 4 */
    INSN_OP_XCHG,
    INSN_OP_BT, INSN_OP_BTS, INSN_OP_BTR, INSN_OP_BTC,
    INSN_OP_NOT, INSN_OP_NEG, INSN_OP_INC, INSN_OP_DEC,
    INSN_OP_MOVS, INSN_OP_STOS, INSN_OP_LODS,
    INSN_OP_COUNT
};

/* Where the operation's second operand comes from (the first is the memory operand, or for
 * a load into a register (to_reg) the register). */
enum insn_src { INSN_SRC_NONE, INSN_SRC_REG, INSN_SRC_IMM };

enum insn_rep { INSN_REP_NONE, INSN_REP_REP /* F3 */, INSN_REP_REPNE /* F2 */ };

/* Legacy prefixes seen (any order, any count). */
#define INSN_PFX_OPSIZE     BIT(0)  /* 66 */
#define INSN_PFX_ADDRSIZE   BIT(1)  /* 67 */
#define INSN_PFX_LOCK       BIT(2)  /* F0 */
#define INSN_PFX_REPNE      BIT(3)  /* F2 */
#define INSN_PFX_REP        BIT(4)  /* F3 */
#define INSN_PFX_SEG        BIT(5)  /* 26 2E 36 3E 64 65 (seg_override says which) */

/* REX bits (SDM Vol. 2 2.2.1). */
#define INSN_REX_B          BIT(0)
#define INSN_REX_X          BIT(1)
#define INSN_REX_R          BIT(2)
#define INSN_REX_W          BIT(3)

struct insn {
    uint8_t length;             /* 1..15 */
    enum insn_mode mode;
    enum insn_op op;
    uint8_t opcode;             /* the opcode byte; after 0F when two_byte */
    bool two_byte;
    uint8_t prefixes;           /* INSN_PFX_* */
    uint8_t seg_override;       /* enum insn_seg, valid with INSN_PFX_SEG: the last one wins */
    uint8_t rex;                /* the REX byte that took effect, 0 if none */
    enum insn_rep rep;          /* string ops only; ignored on the others */
    uint8_t op_size;            /* operand size in bytes: 1, 2, 4, 8 (the element for strings) */
    uint8_t src_size;           /* MOVZX/MOVSX: the memory operand's size; else op_size */
    uint8_t addr_size;          /* 2, 4, 8 */

    bool has_modrm, has_sib;
    uint8_t modrm, sib;
    uint8_t mod, reg_field, rm; /* ModRM fields; reg_field and rm include REX.R / REX.B */

    /* The register operand (reg field, or rAX for moffs/STOS/LODS). */
    uint8_t reg;                /* GPR index 0..15 */
    bool reg_high8;             /* AH CH DH BH: bits 15:8 of GPR reg */
    enum insn_src src;
    bool to_reg;                /* the result goes to the register (loads, ALU r,r/m) */

    /* The memory operand (for MOVS/STOS/LODS: implied by rSI/rDI, these are unused). */
    uint8_t base, index;        /* GPR index, INSN_REG_NONE, or INSN_REG_RIP for base */
    uint8_t scale;              /* 1, 2, 4, 8 */
    int64_t disp;               /* sign-extended; moffs forms: the offset (zero-extended) */
    uint8_t disp_size;          /* 0, 1, 2, 4, 8 bytes in the encoding */
    uint8_t seg;                /* enum insn_seg of the memory operand (MOVS/LODS: source) */

    uint64_t imm;               /* extended (BT imm8: raw) and masked to op_size */
    uint8_t imm_size;           /* bytes in the encoding */
};

/* All ones in an operand of size bytes (1, 2, 4, 8), and a value of that size sign-extended. */
static inline uint64_t insn_size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : BIT(8 * size) - 1;
}

static inline uint64_t insn_sign_extend(uint64_t v, unsigned size)
{
    if (size >= 8)
        return v;
    uint64_t sign = BIT(8 * size - 1);
    return ((v & insn_size_mask(size)) ^ sign) - sign;
}

/* Decodes one instruction from code[0..len); len may exceed 15, only 15 bytes are looked at.
 * Returns its length (1..15) or INSN_ETRUNC / INSN_EINVAL / INSN_EUNSUPPORTED. Never reads
 * a byte it has not decided it needs, so a valid encoding cut short always gives
 * INSN_ETRUNC. *out is only meaningful on success. */
int insn_decode(const uint8_t *code, size_t len, enum insn_mode mode, struct insn *out);

/* A short lower-case mnemonic, e.g. "mov", "movzx", "stos"; "?" for a bad op. */
const char *insn_name(const struct insn *in);

#endif
