/* The host GDT: flat 64-bit code/data and a TSS. The TSS is needed for IST stacks (a
 * stack overflow reaches #DF on a fresh stack) and because VM exit requires a non-null TR. */
#include "desc.h"
#include "layout.h"

#define GDT_CODE64  0x00AF9A000000FFFFull   /* P, DPL0, code, L=1 */
#define GDT_DATA    0x00CF92000000FFFFull   /* P, DPL0, data, writable */
#define TSS_TYPE_AVAIL64 0x9ull
#define DESC_P      BIT(47)

struct tss64 host_tss ALIGNED(16);
uint64_t host_gdt[5] ALIGNED(16);
struct desc_ptr host_gdt_ptr;
static uint8_t ist_stacks[3][IST_STACK_SIZE] ALIGNED(4096);

void gdt_init(void)
{
    host_gdt[0] = 0;
    host_gdt[SEL_KCODE / 8] = GDT_CODE64;
    host_gdt[SEL_KDATA / 8] = GDT_DATA;

    uint64_t base = (uint64_t)&host_tss, limit = sizeof(host_tss) - 1;
    host_gdt[SEL_TSS / 8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
                            (TSS_TYPE_AVAIL64 << 40) | DESC_P |
                            ((limit >> 16 & 0xF) << 48) | ((base >> 24 & 0xFF) << 56);
    host_gdt[SEL_TSS / 8 + 1] = base >> 32;

    host_tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)ist_stacks[0] + IST_STACK_SIZE;
    host_tss.ist[IST_NMI - 1] = (uint64_t)ist_stacks[1] + IST_STACK_SIZE;
    host_tss.ist[IST_MCE - 1] = (uint64_t)ist_stacks[2] + IST_STACK_SIZE;
    host_tss.iomap_base = sizeof(host_tss);     /* no I/O bitmap */

    host_gdt_ptr.limit = sizeof(host_gdt) - 1;
    host_gdt_ptr.base = (uint64_t)host_gdt;
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "mov %2, %%ax\n\t"
        "mov %%ax, %%ds\n\t"
        "mov %%ax, %%es\n\t"
        "mov %%ax, %%ss\n\t"
        "ltr %w3\n\t"
        :: "m"(host_gdt_ptr), "i"(SEL_KCODE), "i"(SEL_KDATA), "r"(SEL_TSS) : "rax", "memory");
}
