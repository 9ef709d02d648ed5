/* Port dispatch and the small devices that exist so far. */
#include "test.h"
#include "dev/ioport.h"
#include "dev/fw_cfg.h"

static struct ioport_table t;
static uint32_t last_out, last_port, last_size;
static uint32_t in_a(void *d, uint16_t port, unsigned size) { return 0x12345678 + *(int *)d; }
static void out_a(void *d, uint16_t port, unsigned size, uint32_t v) { last_out = v; last_port = port; last_size = size; }
static const struct ioport_ops ops_a = { .name = "a", .in = in_a, .out = out_a };
static const struct ioport_ops ops_wo = { .name = "wo", .in = NULL, .out = out_a };

TEST(ioport_dispatch_and_unowned)
{
    int one = 1;
    ioport_init(&t);
    CHECK(ioport_register(&t, 0x3f8, 8, &ops_a, &one));
    CHECK(!ioport_register(&t, 0x3fc, 8, &ops_a, &one));    /* overlap refused */
    CHECK(!ioport_register(&t, 0xfffc, 8, &ops_a, &one));   /* past 0xffff refused */
    CHECK(ioport_register(&t, 0xf4, 4, &ops_wo, &one));
    CHECK_EQ(ioport_in(&t, 0x3f8, 1), 0x79);                 /* truncated to the size */
    CHECK_EQ(ioport_in(&t, 0x3ff, 2), 0x5679);
    CHECK_EQ(ioport_in(&t, 0x3f8, 4), 0x12345679);
    ioport_out(&t, 0x3f9, 2, 0xABCDEF);
    CHECK(last_out == 0xCDEF && last_port == 0x3f9 && last_size == 2);
    CHECK_EQ(ioport_in(&t, 0x22e, 1), 0xFF);
    CHECK_EQ(ioport_in(&t, 0x22e, 2), 0xFFFF);
    CHECK_EQ(ioport_in(&t, 0x22e, 4), 0xFFFFFFFF);
    CHECK_EQ(ioport_in(&t, 0xf4, 1), 0xFF);                  /* write-only device reads open bus */
    ioport_out(&t, 0x80, 1, 0x55);
    CHECK_EQ(t.unowned_reads, 4);
    CHECK_EQ(t.unowned_writes, 1);
    CHECK_EQ(t.last_unowned, 0x80);
    CHECK_STR(ioport_owner_name(&t, 0x3fa), "a");
    CHECK_STR(ioport_owner_name(&t, 0x22e), "none");
}

/* A PCI I/O BAR the guest moves: the old range becomes open bus, the new one answers, and a
 * range moved back and forth many times never fills the table. */
TEST(ioport_unregister_moves_a_range)
{
    int one = 1, two = 2;
    ioport_init(&t);
    CHECK(ioport_register(&t, 0xc000, 0x40, &ops_a, &one));
    CHECK(ioport_register(&t, 0xc040, 0x10, &ops_a, &two));
    CHECK(!ioport_unregister(&t, 0xc000, &two));              /* not its range */
    CHECK(!ioport_unregister(&t, 0xc010, &one));              /* not its base */
    CHECK_EQ(ioport_in(&t, 0xc03f, 1), 0x79);
    CHECK(ioport_unregister(&t, 0xc000, &one));
    CHECK_EQ(ioport_in(&t, 0xc000, 4), 0xFFFFFFFF);
    CHECK_STR(ioport_owner_name(&t, 0xc000), "none");
    CHECK_EQ(ioport_in(&t, 0xc040, 1), 0x7A);                 /* the other device stays */
    for (unsigned i = 0; i < 4 * IOPORT_MAX_DEVS; i++) {
        uint16_t base = (uint16_t)(0xd000 + (i % 7) * 0x40);
        CHECK(ioport_register(&t, base, 0x40, &ops_a, &one));
        CHECK_EQ(ioport_in(&t, (uint16_t)(base + 0x3f), 1), 0x79);
        CHECK(ioport_unregister(&t, base, &one));
    }
    CHECK(t.ndevs <= 2);
    CHECK(!ioport_unregister(&t, 0xd000, &one));
}

TEST(fw_cfg_signature_and_cpu_count)
{
    struct fw_cfg fc = { .ncpus = 3, .ram_size = 32 << 20 };
    fw_cfg_select(&fc, FW_CFG_SIGNATURE);
    char sig[5] = { 0 };
    for (int i = 0; i < 4; i++)
        sig[i] = (char)fw_cfg_read_byte(&fc);
    CHECK_STR(sig, "QEMU");
    CHECK_EQ(fw_cfg_read_byte(&fc), 0);                      /* past the item */
    fw_cfg_select(&fc, FW_CFG_NB_CPUS);
    CHECK_EQ(fw_cfg_read_byte(&fc), 3);
    CHECK_EQ(fw_cfg_read_byte(&fc), 0);
    fw_cfg_select(&fc, FW_CFG_RAM_SIZE);
    uint64_t ram = 0;
    for (int i = 0; i < 8; i++)
        ram |= (uint64_t)fw_cfg_read_byte(&fc) << (8 * i);
    CHECK_EQ(ram, 32 << 20);
    fw_cfg_select(&fc, 0x1234);                              /* unknown key reads zeros */
    CHECK_EQ(fw_cfg_read_byte(&fc), 0);
}
