/* VM configuration from boot-module command lines. A module whose command line has
 *   vm=NAME [kind=multiboot] [mem=SIZE] [mmu=shadow] [autostart=yes|no]
 *           [diskio=concurrent|sync] [disktime=none|hdd2006] [nic=NIC[,NIC...]]
 *           [-- GUEST CMDLINE]
 * creates a VM from that module; each NIC is e1000 or virtio, optionally :event (frames move
 * inside the sender's exit, the default) or :pollN (a VMM thread moves them every N ms,
 * 1-1000, the seed paper's polled device model), up to VM_NICS of them, on the VMM's switch; a module with
 *   attach=NAME [-- MODULE CMDLINE]
 * becomes an extra boot module (e.g. an initrd) of VM NAME, and one with
 *   attach=NAME drive=hda|hdb|hdc|hdd|vda|vdb|vdc|vdd [media=disk|cdrom]
 * becomes one of its drives: hda/hdb the primary IDE channel's master/slave, hdc/hdd the
 * secondary's, vdX a virtio-blk function; a cdrom is an ATAPI drive (IDE only), read-only.
 * Words without '=' before "--" (the module's path, which some loaders prepend) are ignored.
 * SIZE takes K/M/G suffixes. */
#ifndef MV_VMCONFIG_H
#define MV_VMCONFIG_H
#include "compiler.h"

#define VM_NAME_MAX      32
#define VM_CMDLINE_MAX   256
#define VM_MEM_DEFAULT   (32ull << 20)
#define VM_MEM_MIN       (2ull << 20)
#define VM_MEM_MAX       (3ull << 30)       /* below the 32-bit MMIO hole */

enum vm_kind { VM_KIND_MULTIBOOT, VM_KIND_LINUX };
enum vm_mmu { VM_MMU_SHADOW, VM_MMU_EPT };
enum vmcfg_type { VMCFG_NONE, VMCFG_VM, VMCFG_ATTACH, VMCFG_ERROR };
/* Where a drive sits: the four IDE positions, then the virtio-blk functions. */
enum vm_drive_pos { VM_DRIVE_NONE, VM_DRIVE_HDA, VM_DRIVE_HDB, VM_DRIVE_HDC, VM_DRIVE_HDD,
                    VM_DRIVE_VDA, VM_DRIVE_VDB, VM_DRIVE_VDC, VM_DRIVE_VDD, VM_DRIVE_POSITIONS };
#define VM_DRIVE_IDE_FIRST  VM_DRIVE_HDA
#define VM_DRIVE_VIRTIO_FIRST VM_DRIVE_VDA
#define VM_DRIVE_IDE_COUNT  4
#define VM_DRIVE_VIRTIO_COUNT 4
/* How a disk request completes: in a VMM thread while the vCPU runs on (the seed paper's
 * method), or entirely inside the exit that started it (its "original" model). */
enum vm_diskio { VM_DISKIO_CONCURRENT, VM_DISKIO_SYNC };
/* The drive's own service time: none (RAM speed), or a 2006 desktop SATA disk. */
enum vm_disktime { VM_DISKTIME_NONE, VM_DISKTIME_HDD2006 };

#define VM_NICS          4
#define VM_NIC_POLL_MAX_MS 1000
enum vm_nic_model { VM_NIC_NONE, VM_NIC_E1000, VM_NIC_VIRTIO };
struct vm_nic_config {
    enum vm_nic_model model;
    uint16_t poll_ms;                   /* 0: event-driven */
};

struct vm_config {
    char name[VM_NAME_MAX];             /* vm=, or the target of attach= */
    enum vm_kind kind;
    enum vm_mmu mmu;
    uint64_t mem;
    bool autostart;
    enum vm_diskio diskio;
    enum vm_disktime disktime;
    struct vm_nic_config nic[VM_NICS];
    unsigned nnics;
    enum vm_drive_pos drive;            /* attach= with drive=: this module is that drive */
    bool cdrom;                         /* ... an ATAPI CD-ROM */
    char cmdline[VM_CMDLINE_MAX];       /* after "--" */
};

/* Parses one module command line. On VMCFG_ERROR, err says what is wrong. */
enum vmcfg_type vmconfig_parse(const char *line, struct vm_config *cfg, char *err, size_t errlen);
const char *vm_kind_name(enum vm_kind k);
const char *vm_mmu_name(enum vm_mmu m);
const char *vm_drive_name(enum vm_drive_pos d);     /* "hda" ... "vdd", "-" for none */
const char *vm_diskio_name(enum vm_diskio d);
const char *vm_disktime_name(enum vm_disktime t);
/* One NIC of nic= ("virtio:poll5"); false if malformed. */
bool vmconfig_parse_nic(const char *spec, struct vm_nic_config *nic);
const char *vm_nic_model_name(enum vm_nic_model m);  /* "e1000", "virtio", "-" */
#endif
