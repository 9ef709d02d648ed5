/* GDT, TSS and IDT of the host. */
#ifndef MV_X86_DESC_H
#define MV_X86_DESC_H
#include "compiler.h"

#define IST_DOUBLE_FAULT 1
#define IST_NMI          2
#define IST_MCE          3
#define IST_STACK_SIZE   0x4000

struct PACKED tss64 {
    uint32_t rsvd0;
    uint64_t rsp[3];
    uint64_t rsvd1;
    uint64_t ist[7];
    uint64_t rsvd2;
    uint16_t rsvd3;
    uint16_t iomap_base;
};

struct PACKED desc_ptr {
    uint16_t limit;
    uint64_t base;
};

extern struct tss64 host_tss;
extern uint64_t host_gdt[];
extern struct desc_ptr host_gdt_ptr, host_idt_ptr;

void gdt_init(void);
void idt_init(void);
#endif
