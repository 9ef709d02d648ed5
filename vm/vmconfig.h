/* VM configuration from boot-module command lines. A module whose command line has
 *   vm=NAME [kind=multiboot] [mem=SIZE] [mmu=shadow] [autostart=yes|no] [-- GUEST CMDLINE]
 * creates a VM from that module; a module with
 *   attach=NAME [-- MODULE CMDLINE]
 * becomes an extra boot module (e.g. an initrd) of VM NAME. Words without '=' before "--"
 * (the module's path, which some loaders prepend) are ignored. SIZE takes K/M/G suffixes. */
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

struct vm_config {
    char name[VM_NAME_MAX];             /* vm=, or the target of attach= */
    enum vm_kind kind;
    enum vm_mmu mmu;
    uint64_t mem;
    bool autostart;
    char cmdline[VM_CMDLINE_MAX];       /* after "--" */
};

/* Parses one module command line. On VMCFG_ERROR, err says what is wrong. */
enum vmcfg_type vmconfig_parse(const char *line, struct vm_config *cfg, char *err, size_t errlen);
const char *vm_kind_name(enum vm_kind k);
const char *vm_mmu_name(enum vm_mmu m);
#endif
