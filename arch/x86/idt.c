/* The host IDT and what happens on a CPU exception inside the VMM: exception-table
 * fixups for probing instructions, otherwise a full register dump and a halt. */
#include "desc.h"
#include "exception.h"
#include "cpu.h"
#include "layout.h"
#include "lib.h"
#include "serial.h"
#include "kernel/console.h"

#define IDT_GATE_INT64  0xEull
#define IDT_P           BIT(47)
#define MAX_TRACE_FRAMES 24

struct idt_entry { uint64_t lo, hi; };
static struct idt_entry idt[256] ALIGNED(16);
struct desc_ptr host_idt_ptr;
static irq_handler_fn irq_handlers[256];

extern const uint64_t isr_stub_table[256];
extern char __image_start[], __image_end[], boot_stack_guard[];

struct ex_table_entry { uint64_t insn, fixup; };
extern const struct ex_table_entry __ex_table_start[], __ex_table_end[];

static const char *const exc_names[NUM_EXCEPTIONS] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
    "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
    "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security", "reserved 31",
};

static void set_gate(unsigned vec, uint64_t handler, unsigned ist)
{
    idt[vec].lo = (handler & 0xFFFF) | ((uint64_t)SEL_KCODE << 16) | ((uint64_t)ist << 32) |
                  (IDT_GATE_INT64 << 40) | IDT_P | ((handler >> 16 & 0xFFFF) << 48);
    idt[vec].hi = handler >> 32;
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, isr_stub_table[v], 0);
    set_gate(EXC_DF, isr_stub_table[EXC_DF], IST_DOUBLE_FAULT);
    set_gate(EXC_NMI, isr_stub_table[EXC_NMI], IST_NMI);
    set_gate(EXC_MC, isr_stub_table[EXC_MC], IST_MCE);
    host_idt_ptr.limit = sizeof(idt) - 1;
    host_idt_ptr.base = (uint64_t)idt;
    __asm__ volatile("lidt %0" :: "m"(host_idt_ptr));
}

void irq_set_handler(uint8_t vector, irq_handler_fn fn)
{
    irq_handlers[vector] = fn;
}

uint64_t irq_unexpected_count;

void irq_dispatch_acked(uint8_t vector)
{
    if (vector >= NUM_EXCEPTIONS && irq_handlers[vector])
        irq_handlers[vector](NULL);
    else
        irq_unexpected_count++;
}

static bool in_image(uint64_t a, uint64_t len)
{
    return a >= (uint64_t)__image_start && a + len <= (uint64_t)__image_end && a + len > a;
}

void print_stack_trace(uint64_t rbp)
{
    kprintf("stack trace (addr2line -e build/monovisor.elf <addr>):\n");
    for (int i = 0; i < MAX_TRACE_FRAMES && rbp; i++) {
        /* Frames live on our stacks, all inside the image: anything else ends the walk. */
        if ((rbp & 7) || !in_image(rbp, 16) || rbp - (uint64_t)boot_stack_guard < PAGE_SIZE) {
            kprintf("  <frame pointer %#llx not on a VMM stack: stop>\n", (unsigned long long)rbp);
            return;
        }
        const uint64_t *fp = (const uint64_t *)rbp;
        kprintf("  #%-2d %#llx\n", i, (unsigned long long)fp[1]);
        if (fp[0] <= rbp)       /* stacks grow down: callers' frames are above */
            return;
        rbp = fp[0];
    }
}

static void dump_frame(const struct exc_frame *f)
{
    uint64_t cr2 = read_cr2();
    kprintf("vector %llu (%s), error code 0x%llx\n", (unsigned long long)f->vector,
            f->vector < NUM_EXCEPTIONS ? exc_names[f->vector] : "interrupt",
            (unsigned long long)f->error_code);
    kprintf("RIP %016llx  CS %04llx  RFLAGS %016llx\n", (unsigned long long)f->rip,
            (unsigned long long)f->cs, (unsigned long long)f->rflags);
    kprintf("RSP %016llx  SS %04llx\n", (unsigned long long)f->rsp, (unsigned long long)f->ss);
    kprintf("RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n", (unsigned long long)f->rax,
            (unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    kprintf("RSI %016llx RDI %016llx RBP %016llx R8  %016llx\n", (unsigned long long)f->rsi,
            (unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
    kprintf("R9  %016llx R10 %016llx R11 %016llx R12 %016llx\n", (unsigned long long)f->r9,
            (unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
    kprintf("R13 %016llx R14 %016llx R15 %016llx\n", (unsigned long long)f->r13,
            (unsigned long long)f->r14, (unsigned long long)f->r15);
    kprintf("CR0 %016llx CR2 %016llx CR3 %016llx CR4 %016llx\n",
            (unsigned long long)read_cr0(), (unsigned long long)cr2,
            (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
    if ((f->vector == EXC_PF || f->vector == EXC_DF) &&
        cr2 - (uint64_t)boot_stack_guard < PAGE_SIZE)
        kprintf("cause: VMM stack overflow (hit the guard page below the boot stack)\n");
    print_stack_trace(f->rbp);
}

void exception_dispatch(struct exc_frame *f)
{
    if (f->vector >= NUM_EXCEPTIONS && irq_handlers[f->vector]) {
        irq_handlers[f->vector](f);
        return;
    }
    if (f->vector < NUM_EXCEPTIONS && f->vector != EXC_DF && f->vector != EXC_MC) {
        for (const struct ex_table_entry *e = __ex_table_start; e < __ex_table_end; e++) {
            if (e->insn == f->rip) {
                f->rip = e->fixup;
                return;
            }
        }
    }
    kprintf("\nmonovisor: PANIC: CPU exception in the VMM\n");
    dump_frame(f);
    kprintf("monovisor: system halted\n");
    cpu_halt_forever();
}

void cpu_halt_forever(void)
{
    console_flush();
    for (;;) {
        cli();
        hlt();
    }
}
