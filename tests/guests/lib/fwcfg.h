/* QEMU fw_cfg through the legacy I/O ports: selector 0x510 (16-bit write), data 0x511
 * (byte reads). kvm-unit-tests reads the CPU count from it. */
#ifndef GUEST_FWCFG_H
#define GUEST_FWCFG_H
#include "types.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID 0x0001
#define FW_CFG_NB_CPUS 0x0005

void fwcfg_read(u16 key, void *buf, u32 len);
bool fwcfg_present(void);       /* the signature reads "QEMU" */
u16 fwcfg_nb_cpus(void);

#endif
