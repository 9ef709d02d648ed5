#ifndef MV_X86_RESET_H
#define MV_X86_RESET_H
#include "compiler.h"
/* Resets the machine: PCI reset control, then the 8042 reset line, then a triple fault. */
NORETURN void machine_reboot(void);
#endif
