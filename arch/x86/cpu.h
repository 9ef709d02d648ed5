/* Thin wrappers over x86 instructions, and architectural register/MSR names. */
#ifndef MV_X86_CPU_H
#define MV_X86_CPU_H
#include "compiler.h"

/* Architectural MSRs (Intel SDM vol. 4). */
#define MSR_IA32_APIC_BASE          0x1B
#define MSR_IA32_FEATURE_CONTROL    0x3A
#define MSR_IA32_VMX_BASIC          0x480
#define MSR_IA32_VMX_PINBASED_CTLS  0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS      0x483
#define MSR_IA32_VMX_ENTRY_CTLS     0x484
#define MSR_IA32_VMX_MISC           0x485
#define MSR_IA32_VMX_CR0_FIXED0     0x486
#define MSR_IA32_VMX_CR0_FIXED1     0x487
#define MSR_IA32_VMX_CR4_FIXED0     0x488
#define MSR_IA32_VMX_CR4_FIXED1     0x489
#define MSR_IA32_VMX_VMCS_ENUM      0x48A
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP   0x48C
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x48D
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48E
#define MSR_IA32_VMX_TRUE_EXIT_CTLS      0x48F
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS     0x490
#define MSR_IA32_EFER               0xC0000080

#define EFER_SCE    BIT(0)
#define EFER_LME    BIT(8)
#define EFER_LMA    BIT(10)
#define EFER_NXE    BIT(11)

#define CR0_PE  BIT(0)
#define CR0_MP  BIT(1)
#define CR0_EM  BIT(2)
#define CR0_TS  BIT(3)
#define CR0_ET  BIT(4)
#define CR0_NE  BIT(5)
#define CR0_WP  BIT(16)
#define CR0_AM  BIT(18)
#define CR0_NW  BIT(29)
#define CR0_CD  BIT(30)
#define CR0_PG  BIT(31)

#define CR4_VME     BIT(0)
#define CR4_PVI     BIT(1)
#define CR4_TSD     BIT(2)
#define CR4_DE      BIT(3)
#define CR4_PSE     BIT(4)
#define CR4_PAE     BIT(5)
#define CR4_MCE     BIT(6)
#define CR4_PGE     BIT(7)
#define CR4_PCE     BIT(8)
#define CR4_OSFXSR  BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_VMXE    BIT(13)
#define CR4_SMXE    BIT(14)
#define CR4_PCIDE   BIT(17)

#define RFLAGS_IF   BIT(9)

/* CPUID feature bits we test. */
#define CPUID1_ECX_VMX      BIT(5)
#define CPUID1_ECX_SMX      BIT(6)
#define CPUID1_ECX_HYPERVISOR BIT(31)
#define CPUID1_EDX_TSC      BIT(4)
#define CPUID1_EDX_MSR      BIT(5)
#define CPUID80000001_EDX_PDPE1GB BIT(26)
#define CPUID80000001_EDX_LM BIT(29)

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* RDMSR that survives a #GP (the exception handler resumes at the fixup label via the
 * exception table): for probing MSRs whose existence CPUID cannot tell. */
static inline bool rdmsr_safe(uint32_t msr, uint64_t *val)
{
    uint32_t lo = 0, hi = 0;
    bool ok;
    __asm__ volatile("1: rdmsr\n\t"
                     "mov $1, %2\n\t"
                     "jmp 3f\n"
                     "2: xor %2, %2\n"
                     "3:\n\t"
                     ".pushsection .ex_table, \"a\"\n\t"
                     ".balign 8\n\t"
                     ".quad 1b, 2b\n\t"
                     ".popsection"
                     : "=a"(lo), "=d"(hi), "=r"(ok) : "c"(msr));
    *val = ((uint64_t)hi << 32) | lo;
    return ok;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

#define DEFINE_CR(n) \
    static inline uint64_t read_cr##n(void) { uint64_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
    static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n :: "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint64_t read_rflags(void) { uint64_t v; __asm__ volatile("pushfq; popq %0" : "=r"(v)); return v; }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void pause(void) { __asm__ volatile("pause"); }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline void io_wait(void) { outb(0x80, 0); }

NORETURN void cpu_halt_forever(void);
#endif
