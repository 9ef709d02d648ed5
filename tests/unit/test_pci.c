/* PCI mechanism #1 and the i440FX/PIIX3 functions: Linux's probes (arch/x86/pci/direct.c:
 * pci_check_type1, pci_sanity_check), BAR sizing as drivers/pci/probe.c does it, PIRQ routing
 * through PIRQRC, and garbage. */
#include "test.h"
#include "dev/pci.h"

static struct ioport_table io;
static struct pci_bus bus;

/* What the PIC would see. */
#define MAX_IRQ_LOG 64
static struct { unsigned irq; bool level; } irq_log[MAX_IRQ_LOG];
static unsigned nirq;

static void fake_set_irq(void *ctx, unsigned irq, bool level)
{
    CHECK(ctx == &bus);
    CHECK(irq < 16);
    if (nirq < MAX_IRQ_LOG) {
        irq_log[nirq].irq = irq;
        irq_log[nirq].level = level;
    }
    nirq++;
}

/* A test function with hooks that record what reached them. */
struct testdev {
    struct pci_function f;
    unsigned bar_calls, last_bar, cmd_calls;
    uint32_t last_old, last_new;
    uint16_t cmd_old, cmd_new;
    unsigned hook_reads, hook_writes, last_hook_offset;
    uint8_t regs[PCI_CONFIG_SIZE];      /* the device's own registers >= 0x40 */
};

static uint32_t td_read(struct pci_function *f, unsigned offset, unsigned size)
{
    struct testdev *t = f->dev;
    t->hook_reads++;
    t->last_hook_offset = offset;
    uint32_t v = 0;
    for (unsigned i = 0; i < size && offset + i < PCI_CONFIG_SIZE; i++)
        v |= (uint32_t)t->regs[offset + i] << (8 * i);
    return v;
}

static void td_write(struct pci_function *f, unsigned offset, unsigned size, uint32_t val)
{
    struct testdev *t = f->dev;
    t->hook_writes++;
    t->last_hook_offset = offset;
    for (unsigned i = 0; i < size && offset + i < PCI_CONFIG_SIZE; i++)
        t->regs[offset + i] = (uint8_t)(val >> (8 * i));
}

static void td_bar(struct pci_function *f, unsigned bar, uint32_t old, uint32_t new_value)
{
    struct testdev *t = f->dev;
    t->bar_calls++;
    t->last_bar = bar;
    t->last_old = old;
    t->last_new = new_value;
}

static void td_cmd(struct pci_function *f, uint16_t old, uint16_t new_value)
{
    struct testdev *t = f->dev;
    t->cmd_calls++;
    t->cmd_old = old;
    t->cmd_new = new_value;
}

static const struct pci_function_ops td_ops = {
    .config_read = td_read, .config_write = td_write, .bar_changed = td_bar, .command_changed = td_cmd,
};

static struct testdev td, td2;

static void reset(void)
{
    ioport_init(&io);
    pci_init(&bus, fake_set_irq, &bus);
    CHECK(pci_attach(&io, &bus));
    nirq = 0;
}

/* 00:03.0, a NIC-like function: 256-byte I/O BAR0, 4 KiB memory BAR1, INTA#. */
static void add_testdev(struct testdev *t, uint8_t devfn, uint8_t pin)
{
    memset(t, 0, sizeof(*t));
    pci_function_init(&t->f, devfn, 0x1234, 0x5678, 0x02000001, pin, &td_ops, t);
    pci_function_set_bar(&t->f, 0, 256, true);
    pci_function_set_bar(&t->f, 1, 4096, false);
    CHECK(pci_register(&bus, &t->f));
}

static uint32_t conf1(unsigned b, unsigned devfn, unsigned reg)
{
    return 0x80000000u | b << 16 | devfn << 8 | (reg & 0xFC);
}

/* Linux's pci_conf1_read/write. */
static uint32_t cfg_read(unsigned devfn, unsigned reg, unsigned len)
{
    ioport_out(&io, 0xCF8, 4, conf1(0, devfn, reg));
    return ioport_in(&io, (uint16_t)(0xCFC + (reg & (len == 4 ? 0 : len == 2 ? 2 : 3))), len);
}

static void cfg_write(unsigned devfn, unsigned reg, unsigned len, uint32_t val)
{
    ioport_out(&io, 0xCF8, 4, conf1(0, devfn, reg));
    ioport_out(&io, (uint16_t)(0xCFC + (reg & (len == 4 ? 0 : len == 2 ? 2 : 3))), len, val);
}

TEST(linux_check_type1_and_sanity)
{
    reset();
    ioport_out(&io, 0xCFB, 1, 0x01);            /* pci_check_type1 */
    uint32_t tmp = ioport_in(&io, 0xCF8, 4);
    ioport_out(&io, 0xCF8, 4, 0x80000000u);
    CHECK_EQ(ioport_in(&io, 0xCF8, 4), 0x80000000u);
    /* pci_sanity_check: some function on bus 0 is a host bridge, VGA, Intel or Compaq. */
    bool sane = false;
    for (unsigned devfn = 0; devfn < 0x100; devfn++) {
        uint32_t cls = cfg_read(devfn, PCI_CLASS_DEVICE, 2);
        uint32_t ven = cfg_read(devfn, PCI_VENDOR_ID, 2);
        if (cls == 0x0600 || cls == 0x0300 || ven == 0x8086 || ven == 0x0E11)
            sane = true;
    }
    CHECK(sane);
    ioport_out(&io, 0xCF8, 4, tmp);
    CHECK_EQ(ioport_in(&io, 0xCF8, 4), tmp & PCI_CONFIG_ADDRESS_MASK);
    CHECK_STR(ioport_owner_name(&io, 0xCF8), "pci-addr");
    CHECK_STR(ioport_owner_name(&io, 0xCF9), "none");   /* the reset control register's */
    CHECK_STR(ioport_owner_name(&io, 0xCFC), "pci-data");
    CHECK_STR(ioport_owner_name(&io, 0xCFF), "pci-data");
}

TEST(linux_check_type2_fails)
{
    reset();
    ioport_out(&io, 0xCFB, 1, 0x00);            /* pci_check_type2 uses byte accesses */
    ioport_out(&io, 0xCF8, 1, 0x00);
    ioport_out(&io, 0xCFA, 1, 0x00);
    CHECK_EQ(ioport_in(&io, 0xCF8, 1), 0xFF);
    CHECK_EQ(ioport_in(&io, 0xCFA, 1), 0xFF);
    CHECK_EQ(ioport_in(&io, 0xCF8, 4), 0);      /* the byte write did not reach CONFIG_ADDRESS */
    ioport_out(&io, 0xCF8, 2, 0x1234);
    CHECK_EQ(ioport_in(&io, 0xCF8, 4), 0);
}

TEST(config_address_readback)
{
    reset();
    ioport_out(&io, 0xCF8, 4, 0xFFFFFFFFu);
    CHECK_EQ(ioport_in(&io, 0xCF8, 4), 0x80FFFFFCu);
    ioport_out(&io, 0xCF8, 4, 0x7F000003u);
    CHECK_EQ(ioport_in(&io, 0xCF8, 4), 0);
    ioport_out(&io, 0xCF8, 4, conf1(0, PCI_DEVFN(1, 0), 0x60));
    CHECK_EQ(ioport_in(&io, 0xCF8, 4), 0x80000860u);
}

TEST(chipset_ids)
{
    reset();
    CHECK_EQ(cfg_read(0, PCI_VENDOR_ID, 4), 0x12378086u);
    CHECK_EQ(cfg_read(0, PCI_CLASS_REVISION, 4) >> 8, 0x060000);
    CHECK_EQ(cfg_read(0, PCI_CLASS_DEVICE, 2), 0x0600);
    CHECK_EQ(cfg_read(0, PCI_HEADER_TYPE, 1), 0x00);
    CHECK_EQ(cfg_read(0, PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    CHECK_EQ(cfg_read(0, PCI_STATUS, 2), 0x0280);
    CHECK_EQ(cfg_read(0, PCI_INTERRUPT_PIN, 1), 0);
    unsigned isa = PCI_DEVFN(1, 0);
    CHECK_EQ(cfg_read(isa, PCI_VENDOR_ID, 2), 0x8086);
    CHECK_EQ(cfg_read(isa, PCI_DEVICE_ID, 2), 0x7000);
    CHECK_EQ(cfg_read(isa, PCI_CLASS_REVISION, 4) >> 8, 0x060100);
    CHECK_EQ(cfg_read(isa, PCI_HEADER_TYPE, 1), 0x80);     /* multi-function */
    CHECK_EQ(cfg_read(isa, PCI_COMMAND, 2), 0x0007);
    CHECK_EQ(cfg_read(isa, PIIX3_PIRQRC, 4), 0x80808080u);
    /* Only the bridges exist; BARs are unimplemented. */
    for (unsigned bar = 0; bar < 6; bar++) {
        CHECK_EQ(cfg_read(0, PCI_BAR0 + 4 * bar, 4), 0);
        cfg_write(0, PCI_BAR0 + 4 * bar, 4, 0xFFFFFFFFu);
        CHECK_EQ(cfg_read(0, PCI_BAR0 + 4 * bar, 4), 0);
    }
}

TEST(absent_disabled_and_other_bus_read_all_ones)
{
    reset();
    CHECK_EQ(cfg_read(PCI_DEVFN(5, 0), PCI_VENDOR_ID, 4), 0xFFFFFFFFu);
    CHECK_EQ(cfg_read(PCI_DEVFN(5, 0), PCI_VENDOR_ID, 2), 0xFFFF);
    CHECK_EQ(cfg_read(PCI_DEVFN(5, 0), PCI_HEADER_TYPE, 1), 0xFF);
    CHECK_EQ(cfg_read(PCI_DEVFN(0, 1), PCI_VENDOR_ID, 4), 0xFFFFFFFFu);
    CHECK_EQ(pci_config_read(&bus, PCI_DEVFN(31, 7), 0, 4), 0xFFFFFFFFu);
    cfg_write(PCI_DEVFN(5, 0), PCI_COMMAND, 2, 0xFFFF);     /* ignored, no crash */
    /* Enable bit clear: no config cycle. */
    ioport_out(&io, 0xCF8, 4, 0x00000000u);
    CHECK_EQ(ioport_in(&io, 0xCFC, 4), 0xFFFFFFFFu);
    CHECK_EQ(ioport_in(&io, 0xCFE, 2), 0xFFFF);
    ioport_out(&io, 0xCFC, 4, 0);
    CHECK_EQ(cfg_read(0, PCI_VENDOR_ID, 4), 0x12378086u);
    /* Bus 1: no bridge answers. */
    ioport_out(&io, 0xCF8, 4, conf1(1, 0, 0));
    CHECK_EQ(ioport_in(&io, 0xCFC, 4), 0xFFFFFFFFu);
    ioport_out(&io, 0xCF8, 4, conf1(255, 0, 0));
    CHECK_EQ(ioport_in(&io, 0xCFC, 4), 0xFFFFFFFFu);
}

TEST(byte_and_word_lanes)
{
    reset();
    ioport_out(&io, 0xCF8, 4, conf1(0, 0, PCI_VENDOR_ID));
    CHECK_EQ(ioport_in(&io, 0xCFC, 1), 0x86);
    CHECK_EQ(ioport_in(&io, 0xCFD, 1), 0x80);
    CHECK_EQ(ioport_in(&io, 0xCFE, 1), 0x37);
    CHECK_EQ(ioport_in(&io, 0xCFF, 1), 0x12);
    CHECK_EQ(ioport_in(&io, 0xCFC, 2), 0x8086);
    CHECK_EQ(ioport_in(&io, 0xCFE, 2), 0x1237);
    CHECK_EQ(ioport_in(&io, 0xCFD, 2), 0x3780);   /* an unaligned word inside the dword */
    CHECK_EQ(ioport_in(&io, 0xCFD, 4), 0xFFFFFFFFu);   /* would run past 0xCFF */
    ioport_out(&io, 0xCF8, 4, conf1(0, PCI_DEVFN(1, 0), PCI_CLASS_REVISION));
    CHECK_EQ(ioport_in(&io, 0xCFE, 2), 0x0601);
    CHECK_EQ(ioport_in(&io, 0xCFF, 1), 0x06);
    CHECK_EQ(ioport_in(&io, 0xCFE, 1), 0x01);
    ioport_out(&io, 0xCF8, 4, conf1(0, PCI_DEVFN(1, 0), PIIX3_PIRQRC));
    ioport_out(&io, 0xCFE, 1, 0x0B);            /* PIRQRC[C] */
    CHECK_EQ(ioport_in(&io, 0xCFC, 4), 0x800B8080u);
    ioport_out(&io, 0xCFD, 2, 0x0A0A);          /* PIRQRC[B] and [C] */
    CHECK_EQ(ioport_in(&io, 0xCFC, 4), 0x800A0A80u);
}

TEST(read_only_fields_survive_writes)
{
    reset();
    add_testdev(&td, PCI_DEVFN(3, 0), 1);
    unsigned fns[] = { 0, PCI_DEVFN(1, 0), PCI_DEVFN(3, 0) };
    for (unsigned i = 0; i < ARRAY_SIZE(fns); i++) {
        uint32_t id = cfg_read(fns[i], PCI_VENDOR_ID, 4);
        uint32_t cls = cfg_read(fns[i], PCI_CLASS_REVISION, 4);
        uint32_t hdr = cfg_read(fns[i], PCI_HEADER_TYPE, 1);
        uint32_t status = cfg_read(fns[i], PCI_STATUS, 2);
        uint32_t pin = cfg_read(fns[i], PCI_INTERRUPT_PIN, 1);
        for (unsigned r = 0; r < 0x10; r += 4) {
            cfg_write(fns[i], r, 4, 0);
            cfg_write(fns[i], r, 4, 0xFFFFFFFFu);
        }
        cfg_write(fns[i], PCI_DEVICE_ID, 2, 0xBEEF);
        cfg_write(fns[i], PCI_HEADER_TYPE, 1, 0x7F);
        cfg_write(fns[i], PCI_INTERRUPT_PIN, 1, 4);
        CHECK_EQ(cfg_read(fns[i], PCI_VENDOR_ID, 4), id);
        CHECK_EQ(cfg_read(fns[i], PCI_CLASS_REVISION, 4), cls);
        CHECK_EQ(cfg_read(fns[i], PCI_HEADER_TYPE, 1), hdr);
        CHECK_EQ(cfg_read(fns[i], PCI_STATUS, 2), status);
        CHECK_EQ(cfg_read(fns[i], PCI_INTERRUPT_PIN, 1), pin);
    }
    /* The generic function: command IO/MEM/MASTER/PARITY/SERR, cache line, latency, line. */
    cfg_write(PCI_DEVFN(3, 0), PCI_COMMAND, 2, 0xFFFF);
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 0), PCI_COMMAND, 2), 0x0147);
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 0), PCI_CACHE_LINE_SIZE, 2), 0xFFFF);
    cfg_write(PCI_DEVFN(3, 0), PCI_INTERRUPT_LINE, 1, 11);
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 0), PCI_INTERRUPT_LINE, 4), 0x0000010B);
    /* Hardwired bridges' commands stay put. */
    CHECK_EQ(cfg_read(0, PCI_COMMAND, 2), 0x0006);
    CHECK_EQ(cfg_read(PCI_DEVFN(1, 0), PCI_COMMAND, 2), 0x0007);
}

TEST(bar_sizing_and_programming)
{
    reset();
    add_testdev(&td, PCI_DEVFN(3, 0), 1);
    unsigned d = PCI_DEVFN(3, 0);
    CHECK_EQ(cfg_read(d, PCI_BAR0, 4), 0x00000001u);
    CHECK_EQ(cfg_read(d, PCI_BAR0 + 4, 4), 0);
    CHECK_EQ(pci_bar_address(&td.f, 0), 0);
    CHECK(pci_bar_is_io(&td.f, 0));
    CHECK(!pci_bar_is_io(&td.f, 1));

    /* drivers/pci/probe.c __pci_read_base: save, write all-ones, read the size, restore. */
    uint32_t l = cfg_read(d, PCI_BAR0, 4);
    cfg_write(d, PCI_BAR0, 4, 0xFFFFFFFFu);
    uint32_t sz = cfg_read(d, PCI_BAR0, 4);
    CHECK_EQ(sz, 0xFFFFFF01u);
    CHECK_EQ(td.bar_calls, 1);
    CHECK_EQ(td.last_bar, 0);
    CHECK_EQ(td.last_old, 0x00000001u);
    CHECK_EQ(td.last_new, 0xFFFFFF01u);
    CHECK_EQ(pci_bar_address(&td.f, 0), 0);     /* the probe is not an address */
    cfg_write(d, PCI_BAR0, 4, l);
    CHECK_EQ(td.bar_calls, 2);
    CHECK_EQ(~(sz & PCI_BAR_IO_ADDR_MASK) + 1, 256);   /* pci_size: lowest set address bit */

    cfg_write(d, PCI_BAR0 + 4, 4, 0xFFFFFFFFu);
    CHECK_EQ(cfg_read(d, PCI_BAR0 + 4, 4), 0xFFFFF000u);
    CHECK_EQ(td.last_bar, 1);
    CHECK_EQ(pci_bar_address(&td.f, 1), 0);
    for (unsigned bar = 2; bar < 6; bar++) {
        cfg_write(d, PCI_BAR0 + 4 * bar, 4, 0xFFFFFFFFu);
        CHECK_EQ(cfg_read(d, PCI_BAR0 + 4 * bar, 4), 0);
    }
    cfg_write(d, PCI_ROM_ADDRESS, 4, 0xFFFFFFFFu);
    CHECK_EQ(cfg_read(d, PCI_ROM_ADDRESS, 4), 0);
    CHECK_EQ(td.bar_calls, 3);                  /* unimplemented BARs did not change */

    /* Program addresses; the low bits below the size are hardwired. */
    cfg_write(d, PCI_BAR0, 4, 0xC07F);
    CHECK_EQ(cfg_read(d, PCI_BAR0, 4), 0xC001u);
    CHECK_EQ(td.last_old, 0x00000001u);
    CHECK_EQ(td.last_new, 0x0000C001u);
    CHECK_EQ(pci_bar_address(&td.f, 0), 0xC000);
    cfg_write(d, PCI_BAR0 + 4, 4, 0xFEBF0ABCu);
    CHECK_EQ(cfg_read(d, PCI_BAR0 + 4, 4), 0xFEBF0000u);
    CHECK_EQ(td.last_bar, 1);
    CHECK_EQ(td.last_old, 0xFFFFF000u);
    CHECK_EQ(td.last_new, 0xFEBF0000u);
    CHECK_EQ(pci_bar_address(&td.f, 1), 0xFEBF0000u);
    unsigned calls = td.bar_calls;
    cfg_write(d, PCI_BAR0 + 4, 4, 0xFEBF0000u);  /* same value: no notification */
    CHECK_EQ(td.bar_calls, calls);
    /* A word write moves the window too. */
    cfg_write(d, PCI_BAR0 + 6, 2, 0xFEC0);
    CHECK_EQ(td.bar_calls, calls + 1);
    CHECK_EQ(pci_bar_address(&td.f, 1), 0xFEC00000u);

    /* Decoding follows COMMAND. */
    CHECK(!pci_bar_enabled(&td.f, 0));
    CHECK(!pci_bar_enabled(&td.f, 1));
    cfg_write(d, PCI_COMMAND, 2, PCI_COMMAND_IO);
    CHECK_EQ(td.cmd_calls, 1);
    CHECK_EQ(td.cmd_old, 0);
    CHECK_EQ(td.cmd_new, PCI_COMMAND_IO);
    CHECK(pci_bar_enabled(&td.f, 0));
    CHECK(!pci_bar_enabled(&td.f, 1));
    cfg_write(d, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    CHECK(pci_bar_enabled(&td.f, 1));
    CHECK_EQ(td.cmd_calls, 2);
    cfg_write(d, PCI_STATUS, 2, 0xFFFF);        /* the other half of the dword */
    CHECK_EQ(td.cmd_calls, 2);
    /* I/O windows beyond the 64 KiB port space decode nothing. */
    cfg_write(d, PCI_BAR0, 4, 0x10000);
    CHECK_EQ(pci_bar_address(&td.f, 0), 0);
    cfg_write(d, PCI_BAR0, 4, 0xFF00);
    CHECK_EQ(pci_bar_address(&td.f, 0), 0xFF00);
}

TEST(bar_size_rounding_and_command_enables)
{
    struct pci_function f;
    pci_function_init(&f, PCI_DEVFN(4, 0), 0x1234, 1, 0, 0, NULL, NULL);
    CHECK_EQ(pci_config_plain_read(&f, PCI_COMMAND, 2), 0);
    pci_config_plain_write(&f, PCI_COMMAND, 2, 0xFFFF);
    CHECK_EQ(pci_config_plain_read(&f, PCI_COMMAND, 2), 0x0144);  /* no BARs: no IO/MEM enable */
    pci_function_set_bar(&f, 0, 5, true);
    CHECK_EQ(f.bar_size[0], 8);
    pci_function_set_bar(&f, 1, 1, true);
    CHECK_EQ(f.bar_size[1], 4);
    pci_function_set_bar(&f, 2, 100, false);
    CHECK_EQ(f.bar_size[2], 128);
    pci_function_set_bar(&f, 3, 0x20000, true);
    CHECK_EQ(f.bar_size[3], 0);
    pci_function_set_bar(&f, 4, 0x80000001u, false);
    CHECK_EQ(f.bar_size[4], 0);
    pci_function_set_bar(&f, 5, 0x80000000u, false);
    CHECK_EQ(f.bar_size[5], 0x80000000u);
    pci_function_set_bar(&f, 6, 16, false);     /* no such BAR: ignored */
    pci_config_plain_write(&f, PCI_BAR0, 4, 0xFFFFFFFFu);
    CHECK_EQ(pci_config_plain_read(&f, PCI_BAR0, 4), 0xFFFFFFF9u);
    pci_config_plain_write(&f, PCI_BAR0 + 4, 4, 0xFFFFFFFFu);
    CHECK_EQ(pci_config_plain_read(&f, PCI_BAR0 + 4, 4), 0xFFFFFFFDu);
    pci_config_plain_write(&f, PCI_BAR0 + 8, 4, 0xFFFFFFFFu);
    CHECK_EQ(pci_config_plain_read(&f, PCI_BAR0 + 8, 4), 0xFFFFFF80u);
    pci_config_plain_write(&f, PCI_BAR0 + 12, 4, 0xFFFFFFFFu);
    CHECK_EQ(pci_config_plain_read(&f, PCI_BAR0 + 12, 4), 0);
    pci_config_plain_write(&f, PCI_BAR0 + 20, 4, 0xFFFFFFFFu);
    CHECK_EQ(pci_config_plain_read(&f, PCI_BAR0 + 20, 4), 0x80000000u);
    pci_config_plain_write(&f, PCI_COMMAND, 2, 0xFFFF);
    CHECK_EQ(pci_config_plain_read(&f, PCI_COMMAND, 2), 0x0147);
}

TEST(device_specific_hooks)
{
    reset();
    add_testdev(&td, PCI_DEVFN(3, 0), 1);
    unsigned d = PCI_DEVFN(3, 0);
    td.regs[0x40] = 0x5A;
    td.regs[0x41] = 0xA5;
    CHECK_EQ(cfg_read(d, 0x40, 2), 0xA55A);
    CHECK_EQ(td.hook_reads, 1);
    CHECK_EQ(td.last_hook_offset, 0x40);
    cfg_write(d, 0xFF, 1, 0x77);
    CHECK_EQ(td.hook_writes, 1);
    CHECK_EQ(td.regs[0xFF], 0x77);
    CHECK_EQ(cfg_read(d, 0xFC, 4), 0x77000000u);
    /* The header never reaches the hooks. */
    unsigned r = td.hook_reads, w = td.hook_writes;
    cfg_read(d, PCI_VENDOR_ID, 4);
    cfg_write(d, PCI_INTERRUPT_LINE, 1, 5);
    cfg_read(d, 0x3C, 4);
    CHECK_EQ(td.hook_reads, r);
    CHECK_EQ(td.hook_writes, w);
    /* Without hooks the device-specific space is plain memory under wmask (read-only 0). */
    cfg_write(0, 0x44, 4, 0xFFFFFFFFu);
    CHECK_EQ(cfg_read(0, 0x44, 4), 0);
    /* Misaligned or odd-sized direct calls are refused, not split. */
    CHECK_EQ(pci_config_read(&bus, 0, 3, 2), 0xFFFF);
    CHECK_EQ(pci_config_read(&bus, 0, 0, 3), 0xFFFFFF);
    CHECK_EQ(pci_config_read(&bus, 0, 256, 1), 0xFF);
    pci_config_write(&bus, d, 0xFE, 4, 0);
    CHECK_EQ(td.hook_writes, w);
}

TEST(i440fx_pam_and_smram)
{
    reset();
    for (unsigned r = I440FX_PAM0; r <= I440FX_PAM6; r++)
        CHECK_EQ(cfg_read(0, r, 1), 0);
    CHECK_EQ(cfg_read(0, I440FX_SMRAM, 1), 0x02);
    /* SeaBIOS-style: make 0xC0000-0xFFFFF read/write for shadowing, then read-only. */
    for (unsigned r = I440FX_PAM0; r <= I440FX_PAM6; r++)
        cfg_write(0, r, 1, 0xFF);
    CHECK_EQ(cfg_read(0, I440FX_PAM0, 1), 0x30);
    CHECK_EQ(cfg_read(0, 0x5C, 4), 0x33333333u);
    CHECK_EQ(cfg_read(0, 0x58, 4), 0x33333000u);  /* DRAMT at 0x58 stays 0 */
    cfg_write(0, 0x5C, 4, 0x11111111u);
    CHECK_EQ(cfg_read(0, 0x5C, 4), 0x11111111u);
    cfg_write(0, I440FX_SMRAM, 1, 0xFF);
    CHECK_EQ(cfg_read(0, I440FX_SMRAM, 1), 0x7A);
    cfg_write(0, I440FX_SMRAM, 1, 0x00);
    CHECK_EQ(cfg_read(0, I440FX_SMRAM, 1), 0x02);
}

TEST(pirqrc_registers)
{
    reset();
    unsigned isa = PCI_DEVFN(1, 0);
    for (unsigned p = 0; p < 4; p++) {
        CHECK_EQ(cfg_read(isa, PIIX3_PIRQRC + p, 1), 0x80);
        CHECK_EQ(pci_pirq_route(&bus, p), -1);
    }
    cfg_write(isa, PIIX3_PIRQRC, 4, 0xFFFFFFFFu);
    CHECK_EQ(cfg_read(isa, PIIX3_PIRQRC, 4), 0x8F8F8F8Fu);   /* bits 6:4 reserved */
    cfg_write(isa, PIIX3_PIRQRC, 4, 0x0F0E0B05u);
    CHECK_EQ(pci_pirq_route(&bus, 0), 5);
    CHECK_EQ(pci_pirq_route(&bus, 1), 11);
    CHECK_EQ(pci_pirq_route(&bus, 2), 14);
    CHECK_EQ(pci_pirq_route(&bus, 3), 15);
    /* The board's own IRQs are not routable. */
    static const unsigned bad[] = { 0, 1, 2, 8, 13 };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        cfg_write(isa, PIIX3_PIRQRC, 1, bad[i]);
        CHECK_EQ(pci_pirq_route(&bus, 0), -1);
    }
    static const unsigned good[] = { 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15 };
    for (unsigned i = 0; i < ARRAY_SIZE(good); i++) {
        cfg_write(isa, PIIX3_PIRQRC, 1, good[i]);
        CHECK_EQ(pci_pirq_route(&bus, 0), good[i]);
    }
    cfg_write(isa, PIIX3_PIRQRC, 1, 0x80 | 11);
    CHECK_EQ(pci_pirq_route(&bus, 0), -1);
    CHECK_EQ(pci_pirq_route(&bus, 4), -1);
}

TEST(intx_routing)
{
    reset();
    add_testdev(&td, PCI_DEVFN(3, 0), 1);       /* INTA# at slot 3: PIRQ (0 + 3) & 3 = D */
    unsigned isa = PCI_DEVFN(1, 0);
    pci_set_intx(&bus, &td.f, true);
    CHECK_EQ(bus.pirq_level[3], 1);
    CHECK_EQ(nirq, 0);                          /* PIRQRC[D] = 0x80: routed nowhere */
    pci_set_intx(&bus, &td.f, false);
    CHECK_EQ(nirq, 0);
    CHECK_EQ(bus.pirq_level[3], 0);

    cfg_write(isa, PIIX3_PIRQRC + 3, 1, 11);
    CHECK_EQ(nirq, 0);                          /* nothing asserted yet */
    pci_set_intx(&bus, &td.f, true);
    CHECK_EQ(nirq, 1);
    CHECK_EQ(irq_log[0].irq, 11);
    CHECK_EQ(irq_log[0].level, true);
    pci_set_intx(&bus, &td.f, true);            /* already high: no new edge */
    CHECK_EQ(nirq, 1);
    CHECK_EQ(bus.pirq_level[3], 1);
    pci_set_intx(&bus, &td.f, false);
    CHECK_EQ(nirq, 2);
    CHECK_EQ(irq_log[1].irq, 11);
    CHECK_EQ(irq_log[1].level, false);

    /* Re-routing while asserted moves the line. */
    pci_set_intx(&bus, &td.f, true);
    CHECK_EQ(nirq, 3);
    cfg_write(isa, PIIX3_PIRQRC + 3, 1, 10);
    CHECK_EQ(nirq, 5);
    CHECK_EQ(irq_log[3].irq, 11);
    CHECK_EQ(irq_log[3].level, false);
    CHECK_EQ(irq_log[4].irq, 10);
    CHECK_EQ(irq_log[4].level, true);
    cfg_write(isa, PIIX3_PIRQRC + 3, 1, 0x80 | 10);   /* disabling lowers it */
    CHECK_EQ(nirq, 6);
    CHECK_EQ(irq_log[5].irq, 10);
    CHECK_EQ(irq_log[5].level, false);
    cfg_write(isa, PIIX3_PIRQRC, 4, 0x09808080u);     /* dword write reaching D: back on 9 */
    CHECK_EQ(nirq, 7);
    CHECK_EQ(irq_log[6].irq, 9);
    CHECK_EQ(irq_log[6].level, true);
    pci_set_intx(&bus, &td.f, false);
    CHECK_EQ(nirq, 8);
    CHECK_EQ(irq_log[7].irq, 9);
    CHECK_EQ(irq_log[7].level, false);
    CHECK_EQ(bus.isa_irq_out, 0);
}

TEST(swizzle)
{
    reset();
    unsigned isa = PCI_DEVFN(1, 0);
    static const struct { unsigned dev, pin, irq; } cases[] = {
        { 2, 1, 10 }, { 2, 2, 11 }, { 4, 1, 5 }, { 4, 4, 11 }, { 5, 1, 9 }, { 31, 2, 5 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        reset();
        cfg_write(isa, PIIX3_PIRQRC, 4, 0x0B0A0905u);     /* A=5 B=9 C=10 D=11 */
        add_testdev(&td, PCI_DEVFN(cases[i].dev, 0), (uint8_t)cases[i].pin);
        pci_set_intx(&bus, &td.f, true);
        CHECK_EQ(nirq, 1);
        CHECK_EQ(irq_log[0].irq, cases[i].irq);
    }
    /* No pin, or a function that is not on this bus: nothing. */
    reset();
    cfg_write(isa, PIIX3_PIRQRC, 4, 0x0B0A0905u);
    add_testdev(&td, PCI_DEVFN(6, 0), 0);
    pci_set_intx(&bus, &td.f, true);
    pci_function_init(&td2.f, PCI_DEVFN(7, 0), 1, 2, 0, 1, NULL, NULL);
    pci_set_intx(&bus, &td2.f, true);
    CHECK_EQ(nirq, 0);
}

TEST(shared_pirq_and_shared_irq)
{
    reset();
    unsigned isa = PCI_DEVFN(1, 0);
    add_testdev(&td, PCI_DEVFN(3, 0), 1);       /* PIRQD */
    add_testdev(&td2, PCI_DEVFN(4, 0), 4);      /* INTD# at slot 4: (3 + 4) & 3 = D */
    cfg_write(isa, PIIX3_PIRQRC + 3, 1, 11);
    pci_set_intx(&bus, &td.f, true);
    pci_set_intx(&bus, &td2.f, true);
    CHECK_EQ(bus.pirq_level[3], 2);
    CHECK_EQ(nirq, 1);
    pci_set_intx(&bus, &td.f, false);
    CHECK_EQ(nirq, 1);                          /* td2 still holds PIRQD low (asserted) */
    pci_set_intx(&bus, &td2.f, false);
    CHECK_EQ(nirq, 2);
    CHECK_EQ(irq_log[1].irq, 11);
    CHECK_EQ(irq_log[1].level, false);

    /* Two PIRQs steered to the same IRQ are wired-OR too. */
    reset();
    struct testdev *a = &td, *b = &td2;
    add_testdev(a, PCI_DEVFN(3, 0), 1);         /* PIRQD */
    add_testdev(b, PCI_DEVFN(4, 0), 1);         /* PIRQA */
    cfg_write(isa, PIIX3_PIRQRC, 4, 0x0B80800Bu);
    pci_set_intx(&bus, &a->f, true);
    pci_set_intx(&bus, &b->f, true);
    CHECK_EQ(nirq, 1);
    pci_set_intx(&bus, &a->f, false);
    CHECK_EQ(nirq, 1);
    cfg_write(isa, PIIX3_PIRQRC, 1, 12);        /* PIRQA leaves 11: 11 drops, 12 rises */
    CHECK_EQ(nirq, 3);
    CHECK_EQ(irq_log[1].irq, 11);
    CHECK_EQ(irq_log[1].level, false);
    CHECK_EQ(irq_log[2].irq, 12);
    CHECK_EQ(irq_log[2].level, true);
}

TEST(register_and_multifunction)
{
    reset();
    add_testdev(&td, PCI_DEVFN(3, 0), 1);
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 0), PCI_HEADER_TYPE, 1), 0x00);
    struct pci_function dup;
    pci_function_init(&dup, PCI_DEVFN(3, 0), 1, 2, 0, 0, NULL, NULL);
    CHECK(!pci_register(&bus, &dup));
    pci_function_init(&dup, PCI_DEVFN(0, 0), 1, 2, 0, 0, NULL, NULL);
    CHECK(!pci_register(&bus, &dup));
    CHECK(!pci_register(&bus, NULL));
    /* A second function makes function 0 multi-function, whichever registers first. */
    struct pci_function f1;
    pci_function_init(&f1, PCI_DEVFN(3, 1), 0x1234, 0x9999, 0x01018000, 1, NULL, NULL);
    CHECK(pci_register(&bus, &f1));
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 0), PCI_HEADER_TYPE, 1), 0x80);
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 1), PCI_HEADER_TYPE, 1), 0x00);
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 1), PCI_VENDOR_ID, 4), 0x99991234u);
    struct pci_function g1, g0;
    pci_function_init(&g1, PCI_DEVFN(9, 2), 1, 2, 0, 0, NULL, NULL);
    pci_function_init(&g0, PCI_DEVFN(9, 0), 1, 3, 0, 0, NULL, NULL);
    CHECK(pci_register(&bus, &g1));
    CHECK(pci_register(&bus, &g0));
    CHECK_EQ(cfg_read(PCI_DEVFN(9, 0), PCI_HEADER_TYPE, 1), 0x80);
    /* PIIX3's IDE function joins 00:01 later; the header already says multi-function. */
    struct pci_function ide;
    pci_function_init(&ide, PCI_DEVFN(1, 1), 0x8086, 0x7010, 0x01018000, 0, NULL, NULL);
    CHECK(pci_register(&bus, &ide));
    CHECK_EQ(cfg_read(PCI_DEVFN(1, 0), PCI_HEADER_TYPE, 1), 0x80);
    CHECK_EQ(cfg_read(PCI_DEVFN(1, 1), PCI_DEVICE_ID, 2), 0x7010);
    /* The ports can be claimed only once per table. */
    CHECK(!pci_attach(&io, &bus));
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

TEST(garbage_fuzz)
{
    reset();
    add_testdev(&td, PCI_DEVFN(3, 0), 1);
    add_testdev(&td2, PCI_DEVFN(3, 1), 2);
    static const unsigned sizes[] = { 1, 2, 4 };
    for (unsigned i = 0; i < 100000; i++) {
        uint32_t r = rnd();
        uint16_t port = (uint16_t)(0xCF8 + (r & 7));
        unsigned size = sizes[(r >> 3) % 3];
        uint32_t val = rnd();
        if ((r >> 5) & 1) {
            /* Mostly addresses that hit bus 0, so that data accesses reach functions. */
            if (port == 0xCF8 && size == 4 && ((r >> 6) & 3))
                val = 0x80000000u | (val & 0x0000FFFCu);
            ioport_out(&io, port, size, val);
        } else {
            uint32_t v = ioport_in(&io, port, size);
            CHECK(size == 4 || v < (1u << (size * 8)));
        }
        if ((r >> 8) % 5 == 0) {
            static const unsigned fns[] = { 0, 8, 24, 25, 40 };
            unsigned devfn = (r >> 11) & 1 ? fns[(r >> 12) % 5] : (r >> 16) & 0xFF;
            unsigned offset = rnd() % 260;
            unsigned sz = rnd() % 6;
            pci_config_write(&bus, (uint8_t)devfn, offset, sz, rnd());
            (void)pci_config_read(&bus, (uint8_t)devfn, rnd() % 260, rnd() % 6);
        }
        if ((r >> 20) % 7 == 0)
            pci_set_intx(&bus, (r >> 23) & 1 ? &td.f : &td2.f, (r >> 24) & 1);
        if ((r >> 25) % 50 == 0)
            pci_bar_address((r >> 26) & 1 ? &td.f : &td2.f, (r >> 27) & 7);
    }
    CHECK_EQ(cfg_read(0, PCI_VENDOR_ID, 4), 0x12378086u);
    CHECK_EQ(cfg_read(0, PCI_CLASS_REVISION, 4), 0x06000002u);
    CHECK_EQ(cfg_read(PCI_DEVFN(1, 0), PCI_VENDOR_ID, 4), 0x70008086u);
    CHECK_EQ(cfg_read(PCI_DEVFN(1, 0), PCI_CLASS_REVISION, 4) >> 8, 0x060100);
    CHECK_EQ(cfg_read(PCI_DEVFN(1, 0), PCI_HEADER_TYPE, 1), 0x80);
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 0), PCI_VENDOR_ID, 4), 0x56781234u);
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 1), PCI_VENDOR_ID, 4), 0x56781234u);
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 0), PCI_INTERRUPT_PIN, 1), 1);
    CHECK_EQ(cfg_read(PCI_DEVFN(5, 0), PCI_VENDOR_ID, 4), 0xFFFFFFFFu);
    /* The counts match the functions' own levels, and what the PIC saw matches the routing. */
    unsigned lv[4] = { 0 };
    lv[(0 + 3) & 3] += td.f.intx_level;
    lv[(1 + 3) & 3] += td2.f.intx_level;
    for (unsigned p = 0; p < 4; p++)
        CHECK_EQ(bus.pirq_level[p], lv[p]);
    uint16_t expect = 0;
    for (unsigned p = 0; p < 4; p++)
        if (bus.pirq_level[p] && pci_pirq_route(&bus, p) >= 0)
            expect |= (uint16_t)(1u << pci_pirq_route(&bus, p));
    CHECK_EQ(bus.isa_irq_out, expect);
    CHECK(nirq > 0);
    /* Sizing still works after all that. */
    cfg_write(PCI_DEVFN(3, 0), PCI_BAR0, 4, 0xFFFFFFFFu);
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 0), PCI_BAR0, 4), 0xFFFFFF01u);
}

/* On an I/O APIC board each PIRQ also reaches a pin of its own (the ACPI _PRT's GSIs 16-19):
 * the hook sees the wired-OR of the functions on that PIRQ, whatever PIRQRC routes. */
static unsigned pirq_calls, pirq_last;
static bool pirq_last_level;
static void fake_pirq(void *ctx, unsigned pirq, bool level)
{
    CHECK(ctx == &bus);
    pirq_calls++;
    pirq_last = pirq;
    pirq_last_level = level;
}

TEST(pirq_hook_sees_the_wired_or)
{
    reset();
    pci_on_pirq(&bus, fake_pirq);
    pirq_calls = 0;
    add_testdev(&td, PCI_DEVFN(3, 0), 1);       /* PIRQD */
    add_testdev(&td2, PCI_DEVFN(7, 0), 1);      /* (0 + 7) & 3 = 3: PIRQD too */
    pci_set_intx(&bus, &td.f, true);
    CHECK_EQ(pirq_calls, 1);
    CHECK_EQ(pirq_last, 3);
    CHECK(pirq_last_level);
    CHECK_EQ(nirq, 0);                          /* PIRQRC disabled: the PIC sees nothing */
    pci_set_intx(&bus, &td2.f, true);
    CHECK_EQ(pirq_calls, 1);                    /* already high */
    pci_set_intx(&bus, &td.f, false);
    CHECK_EQ(pirq_calls, 1);                    /* td2 still holds it */
    pci_set_intx(&bus, &td2.f, false);
    CHECK_EQ(pirq_calls, 2);
    CHECK(!pirq_last_level);
}

/* The firmware's PCI setup (what SeaBIOS's pci_setup does before an OS runs): BARs get
 * naturally aligned addresses, largest first; INTERRUPT_LINE holds the PIRQRC route of the
 * function's swizzled pin; decoding and mastering are on, and the devices saw their BARs. */
TEST(firmware_setup_assigns_bars_and_irqs)
{
    static const uint8_t pirqs[PIIX3_PIRQS] = { 10, 10, 11, 11 };
    reset();
    add_testdev(&td, PCI_DEVFN(3, 0), 1);       /* 256-byte I/O, 4 KiB memory, PIRQD */
    add_testdev(&td2, PCI_DEVFN(4, 0), 1);      /* PIRQA */
    pci_function_set_bar(&td2.f, 2, 16, true);
    CHECK(pci_firmware_setup(&bus, pirqs, 0xC000, 0xC0000000u, 0xFEBFFFFFu));
    CHECK_EQ(pci_pirq_route(&bus, 0), 10);
    CHECK_EQ(pci_pirq_route(&bus, 3), 11);
    CHECK_EQ(pci_bar_address(&td.f, 0), 0xC000);        /* the two 256-byte BARs first */
    CHECK_EQ(pci_bar_address(&td2.f, 0), 0xC100);
    CHECK_EQ(pci_bar_address(&td2.f, 2), 0xC200);
    CHECK_EQ(pci_bar_address(&td.f, 1), 0xC0000000u);
    CHECK_EQ(pci_bar_address(&td2.f, 1), 0xC0001000u);
    for (unsigned bar = 0; bar < 3; bar++)
        if (td2.f.bar_size[bar])
            CHECK_EQ(pci_bar_address(&td2.f, bar) & (td2.f.bar_size[bar] - 1), 0);
    CHECK(pci_bar_enabled(&td.f, 0) && pci_bar_enabled(&td.f, 1) && pci_bar_enabled(&td2.f, 2));
    CHECK(cfg_read(PCI_DEVFN(3, 0), PCI_COMMAND, 2) & PCI_COMMAND_MASTER);
    CHECK_EQ(cfg_read(PCI_DEVFN(3, 0), PCI_INTERRUPT_LINE, 1), 11);
    CHECK_EQ(cfg_read(PCI_DEVFN(4, 0), PCI_INTERRUPT_LINE, 1), 10);
    CHECK(td.bar_calls >= 2 && td.cmd_calls >= 1);
    /* The chipset's own functions are left as they are. */
    CHECK_EQ(cfg_read(PCI_DEVFN(0, 0), PCI_INTERRUPT_LINE, 1), 0);

    /* A window too small for the BARs is refused, not wrapped. */
    reset();
    add_testdev(&td, PCI_DEVFN(3, 0), 1);
    CHECK(!pci_firmware_setup(&bus, pirqs, 0xFFC0, 0xC0000000u, 0xFEBFFFFFu));
}
