/* Thin wrappers around x86 instructions. Every wrapper works in 32-bit and 64-bit code. */
#ifndef GUEST_X86_H
#define GUEST_X86_H
#include "types.h"

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

struct cpuid_regs { u32 eax, ebx, ecx, edx; };

static inline struct cpuid_regs cpuid_sub(u32 leaf, u32 sub)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(sub));
	return r;
}
static inline struct cpuid_regs cpuid(u32 leaf) { return cpuid_sub(leaf, 0); }

/* Highest extended leaf, or 0 when the 0x8000xxxx range is absent. */
static inline u32 cpuid_max_ext(void)
{
	u32 m = cpuid(0x80000000).eax;
	return (m >= 0x80000000u && m <= 0x8000ffffu) ? m : 0;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}
static inline u64 rdtscp(u32 *aux)
{
	u32 lo, hi, c;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c));
	*aux = c;
	return ((u64)hi << 32) | lo;
}

#define DEF_CR(n)                                                                         \
	static inline ulong read_cr##n(void)                                              \
	{ ulong v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; }          \
	static inline void write_cr##n(ulong v)                                           \
	{ __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEF_CR(0)
DEF_CR(2)
DEF_CR(3)
DEF_CR(4)
#undef DEF_CR

static inline void invlpg(ulong va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline void cli(void) { __asm__ volatile("cli"); }
static inline void sti(void) { __asm__ volatile("sti"); }
static inline void hlt(void) { __asm__ volatile("hlt"); }
static inline void barrier(void) { __asm__ volatile("" : : : "memory"); }
static inline ulong read_flags(void)
{
	ulong f;
	__asm__ volatile("pushf\n\tpop %0" : "=r"(f));
	return f;
}
static inline u16 read_cs(void) { u16 v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }

/* Volatile accessors, for memory the test reaches through another mapping. */
static inline u32 peek32(ulong a) { return *(volatile u32 *)a; }
static inline void poke32(ulong a, u32 v) { *(volatile u32 *)a = v; }
static inline u64 peek64(ulong a) { return *(volatile u64 *)a; }
static inline void poke64(ulong a, u64 v) { *(volatile u64 *)a = v; }

/* Architectural constants used by several guests. */
#define CR0_PE (1u << 0)
#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_PGE (1u << 7)
#define MSR_EFER 0xc0000080u
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)
#define FLAGS_DF (1u << 10)

/* u64 / u32 without libgcc (32-bit guests): two DIVs, high half first, so neither overflows. */
static inline u64 div64_32(u64 n, u32 d)
{
	u32 hi = (u32)(n >> 32), lo = (u32)n, q_hi = hi / d, r = hi % d, q_lo;
	__asm__("divl %2" : "=a"(q_lo), "+d"(r) : "rm"(d), "0"(lo));
	return (u64)q_hi << 32 | q_lo;
}
#endif
