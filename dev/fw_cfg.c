#include "fw_cfg.h"
#include "lib.h"

#define FW_CFG_ID_TRADITIONAL 1u            /* bit 0: traditional (port) interface */

void fw_cfg_select(struct fw_cfg *fc, uint16_t key)
{
    fc->selector = key;
    fc->offset = 0;
}

/* Items are little-endian byte strings; reading past an item's end gives 0, as in QEMU. */
uint8_t fw_cfg_read_byte(struct fw_cfg *fc)
{
    uint8_t item[8] = { 0 };
    size_t len = 0;
    switch (fc->selector) {
    case FW_CFG_SIGNATURE:
        memcpy(item, "QEMU", 4);
        len = 4;
        break;
    case FW_CFG_ID:
        item[0] = FW_CFG_ID_TRADITIONAL;
        len = 4;
        break;
    case FW_CFG_RAM_SIZE:
        for (int i = 0; i < 8; i++)
            item[i] = (uint8_t)(fc->ram_size >> (8 * i));
        len = 8;
        break;
    case FW_CFG_NB_CPUS:
    case FW_CFG_MAX_CPUS:
        item[0] = (uint8_t)fc->ncpus;
        item[1] = (uint8_t)(fc->ncpus >> 8);
        len = 2;
        break;
    default:
        break;
    }
    uint8_t b = fc->offset < len ? item[fc->offset] : 0;
    if (fc->offset < UINT32_MAX)
        fc->offset++;
    return b;
}

static uint32_t fw_cfg_in(void *dev, uint16_t port, unsigned size)
{
    struct fw_cfg *fc = dev;
    if (port == FW_CFG_PORT_SEL)
        return fc->selector;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)     /* wider reads return successive bytes */
        v |= (uint32_t)fw_cfg_read_byte(fc) << (8 * i);
    return v;
}

static void fw_cfg_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    if (port == FW_CFG_PORT_SEL)
        fw_cfg_select(dev, (uint16_t)val);
}

static const struct ioport_ops fw_cfg_ops = { .name = "fw_cfg", .in = fw_cfg_in, .out = fw_cfg_out };

bool fw_cfg_attach(struct ioport_table *io, struct fw_cfg *fc, uint64_t ram_size, uint16_t ncpus)
{
    *fc = (struct fw_cfg){ .ram_size = ram_size, .ncpus = ncpus };
    return ioport_register(io, FW_CFG_PORT_SEL, 2, &fw_cfg_ops, fc);
}
