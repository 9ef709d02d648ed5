/* The firmware tables a VM's guest finds in its BIOS area (ACPI, MP), see pc_firmware.c. */
#ifndef MV_PC_FIRMWARE_H
#define MV_PC_FIRMWARE_H
#include "compiler.h"
#include "mm/guest_mem.h"

/* False (with err) only if the tables do not fit, which would be a build-time mistake. */
bool pc_firmware_write(struct guest_mem *m, char *err, size_t errlen);
#endif
