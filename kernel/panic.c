#include "lib.h"
#include "arch/x86/cpu.h"
#include "arch/x86/exception.h"

void panic(const char *fmt, ...)
{
    cli();
    va_list ap;
    va_start(ap, fmt);
    kprintf("\nmonovisor: PANIC: ");
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    print_stack_trace((uint64_t)__builtin_frame_address(0));
    kprintf("monovisor: system halted\n");
    cpu_halt_forever();
}
