/* The PC a VM sees: which chip answers at which ports and drives which IRQ line. */
#ifndef MV_PC_PLATFORM_H
#define MV_PC_PLATFORM_H
#include "compiler.h"
struct vm;

#define PC_IRQ_PIT      0
#define PC_IRQ_COM2     3
#define PC_IRQ_COM1     4
#define PC_IRQ_RTC      8
#define PC_COM1_BASE    0x3F8
#define PC_COM2_BASE    0x2F8
#define PC_BASE_MEM_KB  640

/* Fresh devices in their power-on state, registered in the VM's port table. */
bool pc_platform_attach(struct vm *vm, char *err, size_t errlen);
#endif
