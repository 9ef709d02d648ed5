/* QEMU fw_cfg, the I/O-port interface (selector 0x510, data 0x511): enough for guests built
 * like kvm-unit-tests, which read the signature and the CPU count. */
#ifndef MV_FW_CFG_H
#define MV_FW_CFG_H
#include "compiler.h"
#include "dev/ioport.h"
#define FW_CFG_PORT_SEL   0x510
#define FW_CFG_PORT_DATA  0x511
#define FW_CFG_SIGNATURE  0x0000
#define FW_CFG_ID         0x0001
#define FW_CFG_RAM_SIZE   0x0003
#define FW_CFG_NB_CPUS    0x0005
#define FW_CFG_MAX_CPUS   0x000F

struct fw_cfg {
    uint16_t selector;
    uint32_t offset;
    uint64_t ram_size;
    uint16_t ncpus;
};
bool fw_cfg_attach(struct ioport_table *io, struct fw_cfg *fc, uint64_t ram_size, uint16_t ncpus);
/* Pure model entry points (host-tested). */
void fw_cfg_select(struct fw_cfg *fc, uint16_t key);
uint8_t fw_cfg_read_byte(struct fw_cfg *fc);
#endif
