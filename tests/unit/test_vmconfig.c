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
    CHECK_EQ(c.drive, VM_DRIVE_NONE);
}

TEST(drives)
{
    CHECK_EQ(vmconfig_parse("/boot/disk.img attach=web1 drive=hda", &c, err, sizeof(err)), VMCFG_ATTACH);
    CHECK_EQ(c.drive, VM_DRIVE_HDA);
    CHECK(!c.cdrom);
    CHECK_STR(vm_drive_name(c.drive), "hda");
    CHECK_EQ(vmconfig_parse("attach=web1 drive=hdc media=cdrom", &c, err, sizeof(err)), VMCFG_ATTACH);
    CHECK_EQ(c.drive, VM_DRIVE_HDC);
    CHECK(c.cdrom);
    CHECK_EQ(vmconfig_parse("attach=web1 media=disk drive=vdd", &c, err, sizeof(err)), VMCFG_ATTACH);
    CHECK_EQ(c.drive, VM_DRIVE_VDD);
    CHECK_STR(vm_drive_name(c.drive), "vdd");
    CHECK_EQ(vmconfig_parse("attach=web1 drive=sda", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK(strstr(err, "unknown drive 'sda'"));
    CHECK_EQ(vmconfig_parse("attach=web1 drive=vda media=cdrom", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK(strstr(err, "IDE drive"));
    CHECK_EQ(vmconfig_parse("attach=web1 media=cdrom", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK(strstr(err, "needs drive="));
    CHECK_EQ(vmconfig_parse("attach=web1 drive=hda media=tape", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK_EQ(vmconfig_parse("vm=web1 drive=hda", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK(strstr(err, "attach="));
    CHECK_EQ(vmconfig_parse("attach=web1 drive=hda diskio=sync", &c, err, sizeof(err)), VMCFG_ERROR);
}

TEST(disk_options)
{
    CHECK_EQ(vmconfig_parse("vm=a", &c, err, sizeof(err)), VMCFG_VM);
    CHECK_EQ(c.diskio, VM_DISKIO_CONCURRENT);       /* the seed's method is the default */
    CHECK_EQ(c.disktime, VM_DISKTIME_NONE);
    CHECK_EQ(vmconfig_parse("vm=a diskio=sync disktime=hdd2006", &c, err, sizeof(err)), VMCFG_VM);
    CHECK_EQ(c.diskio, VM_DISKIO_SYNC);
    CHECK_EQ(c.disktime, VM_DISKTIME_HDD2006);
    CHECK_STR(vm_diskio_name(c.diskio), "sync");
    CHECK_STR(vm_disktime_name(c.disktime), "hdd2006");
    CHECK_EQ(vmconfig_parse("vm=a diskio=async", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK(strstr(err, "unknown diskio"));
    CHECK_EQ(vmconfig_parse("vm=a disktime=ssd", &c, err, sizeof(err)), VMCFG_ERROR);
    CHECK(strstr(err, "unknown disktime"));
}

TEST(nic_options)
{
    CHECK_EQ(vmconfig_parse("vm=a", &c, err, sizeof(err)), VMCFG_VM);
    CHECK_EQ(c.nnics, 0u);                          /* no NIC unless asked for */
    CHECK_EQ(vmconfig_parse("vm=a nic=e1000,virtio:poll100,virtio:event,e1000:poll5", &c, err, sizeof(err)),
             VMCFG_VM);
    CHECK_EQ(c.nnics, 4u);
    CHECK_EQ(c.nic[0].model, VM_NIC_E1000);
    CHECK_EQ(c.nic[0].poll_ms, 0);                  /* event-driven is the default */
    CHECK_EQ(c.nic[1].model, VM_NIC_VIRTIO);
    CHECK_EQ(c.nic[1].poll_ms, 100);
    CHECK_EQ(c.nic[2].model, VM_NIC_VIRTIO);
    CHECK_EQ(c.nic[2].poll_ms, 0);
    CHECK_EQ(c.nic[3].poll_ms, 5);
    CHECK_STR(vm_nic_model_name(c.nic[3].model), "e1000");
    CHECK_EQ(vmconfig_parse("vm=a nic=virtio nic=none", &c, err, sizeof(err)), VMCFG_VM);
    CHECK_EQ(c.nnics, 0u);                          /* the last nic= wins */
    CHECK_EQ(vmconfig_parse("vm=a nic=virtio:poll1000", &c, err, sizeof(err)), VMCFG_VM);
    CHECK_EQ(c.nic[0].poll_ms, 1000);
    static const char *const bad[] = { "nic=rtl8139", "nic=e1000:poll0", "nic=e1000:poll1001", "nic=e1000:poll",
                                       "nic=e1000:pollx", "nic=e1000:fast", "nic=e1000,", "nic=,virtio",
                                       "nic=e1000,e1000,e1000,e1000,e1000", "nic=e1000:poll99999" };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        char line[96];
        snprintf(line, sizeof(line), "vm=a %s", bad[i]);
        CHECK_EQ(vmconfig_parse(line, &c, err, sizeof(err)), VMCFG_ERROR);
        CHECK(strstr(err, "NIC"));
    }
    CHECK_EQ(vmconfig_parse("attach=a nic=e1000", &c, err, sizeof(err)), VMCFG_ERROR);
    struct vm_nic_config n;
    CHECK(vmconfig_parse_nic("virtio:poll7", &n) && n.model == VM_NIC_VIRTIO && n.poll_ms == 7);
    CHECK(!vmconfig_parse_nic("virtio:", &n));
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
