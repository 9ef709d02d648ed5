#include "test.h"
#include "vm/vmconfig.h"

static struct vm_config c;
static char err[128];

TEST(vm_with_all_options_and_cmdline)
{
    CHECK_EQ(vmconfig_parse("/boot/g.elf vm=web1 kind=multiboot mem=64M mmu=shadow autostart=no -- console=ttyS0 x=1",
                            &c, err, sizeof(err)), VMCFG_VM);
    CHECK_STR(c.name, "web1");
    CHECK_EQ(c.kind, VM_KIND_MULTIBOOT);
    CHECK_EQ(c.mem, 64ull << 20);
    CHECK_EQ(c.mmu, VM_MMU_SHADOW);
    CHECK(!c.autostart);
    CHECK_STR(c.cmdline, "console=ttyS0 x=1");
}

TEST(defaults)
{
    CHECK_EQ(vmconfig_parse("vm=a", &c, err, sizeof(err)), VMCFG_VM);
    CHECK_EQ(c.mem, VM_MEM_DEFAULT);
    CHECK(c.autostart);
    CHECK_STR(c.cmdline, "");
    CHECK_EQ(vmconfig_parse("  /boot/initrd.img  ", &c, err, sizeof(err)), VMCFG_NONE);
    CHECK_EQ(vmconfig_parse("", &c, err, sizeof(err)), VMCFG_NONE);
}

TEST(attach)
{
    CHECK_EQ(vmconfig_parse("attach=web1 -- initrd args", &c, err, sizeof(err)), VMCFG_ATTACH);
    CHECK_STR(c.name, "web1");
    CHECK_STR(c.cmdline, "initrd args");
    CHECK_EQ(vmconfig_parse("attach=web1 mem=4M", &c, err, sizeof(err)), VMCFG_ERROR);
}

TEST(errors_are_explained)
{
    CHECK_EQ(vmconfig_parse("vm=a mem=1M", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK(strstr(err, "out of range"));
    CHECK_EQ(vmconfig_parse("vm=a mem=lots", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK(strstr(err, "bad memory size"));
    CHECK_EQ(vmconfig_parse("vm=a kind=windows", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK(strstr(err, "unknown kind"));
    CHECK_EQ(vmconfig_parse("vm=a mmu=magic", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK_EQ(vmconfig_parse("vm=a colour=red", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK(strstr(err, "unknown option 'colour'"));
    CHECK_EQ(vmconfig_parse("vm=bad/name", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK_EQ(vmconfig_parse("vm=", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK_EQ(vmconfig_parse("vm=a vm=b", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK_EQ(vmconfig_parse("vm=a autostart=maybe", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK_EQ(vmconfig_parse("vm=a mem=18446744073709551615G", &c, err, sizeof(err)), VMCFG_ERROR);
    char longname[80];
    memset(longname, 'x', sizeof(longname));
    memcpy(longname, "vm=", 3);
    longname[79] = 0;
    CHECK_EQ(vmconfig_parse(longname, &c, err, sizeof(err)), VMCFG_ERROR);
    char longcmd[400] = "vm=a -- ";
    memset(longcmd + 8, 'y', 380);
    longcmd[388] = 0;
    CHECK_EQ(vmconfig_parse(longcmd, &c, err, sizeof(err)), VMCFG_ERROR);
}
