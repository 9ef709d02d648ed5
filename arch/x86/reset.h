#ifndef MV_X86_RESET_H
#define MV_X86_RESET_H
#include "compiler.h"
/* Resets the machine: PCI reset control, then the 8042 reset line, then a triple fault.
 * It first says on the console that it does, and why, and flushes the console: nothing in
 * the VMM resets the machine silently. */
NORETURN void machine_reboot(const char *why);
#endif
