/* Basic shell commands: machine information, memory, modules, reboot/halt, fault injection. */
#include "arch/x86/pci_host.h"
#include "shell.h"
#include "console.h"
#include "lib.h"
#include "boot/bootinfo.h"
#include "mm/memory.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuinfo.h"
#include "arch/x86/reset.h"
#include "arch/x86/tsc.h"
#include "arch/x86/vmx/vmx_caps.h"

extern struct boot_info boot_info;

static const char *yn(bool b) { return b ? "yes" : "no"; }

static void print_vmx_report(void)
{
    const struct vmx_caps *c = &host_vmx_caps;
    if (c->has_feature_control) {
        uint64_t fc = c->feature_control;
        kprintf("IA32_FEATURE_CONTROL: %#llx (%s, VMX outside SMX %s)\n", (unsigned long long)fc,
                (fc & FEATURE_CONTROL_LOCK) ? "locked" : "unlocked",
                (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX) ? "enabled" :
                (fc & FEATURE_CONTROL_LOCK) ? "disabled by firmware" : "not yet enabled");
    }
    if (!c->vmx) {
        kprintf("VMX: not present (CPUID.1:ECX.VMX=0)\n");
        return;
    }
    kprintf("VMX: present\n");
    if (c->error) {
        kprintf("  error: %s\n", c->error);
        return;
    }
    kprintf("  VMCS revision: %#x, VMCS size %u bytes, TRUE_* control MSRs %s\n",
            c->revision, c->vmcs_size, yn(c->true_ctls));
    kprintf("  EPT: %s\n  VPID: %s\n  unrestricted guest: %s\n", yn(c->ept), yn(c->vpid),
            yn(c->unrestricted_guest));
    if (c->preemption_timer)
        kprintf("  preemption timer: yes (1 tick per 2^%u TSC cycles)\n",
                c->preemption_timer_rate);
    else
        kprintf("  preemption timer: no\n");
    kprintf("  controls allowed-1: pin %#x proc %#x proc2 %#x exit %#x entry %#x\n",
            c->pin.allowed1, c->proc.allowed1, c->proc2.allowed1, c->exit.allowed1,
            c->entry.allowed1);
    kprintf("  CR0 fixed0/1 %#llx/%#llx  CR4 fixed0/1 %#llx/%#llx\n",
            (unsigned long long)c->cr0_fixed0, (unsigned long long)c->cr0_fixed1,
            (unsigned long long)c->cr4_fixed0, (unsigned long long)c->cr4_fixed1);
}

static int cmd_info(int argc, char **argv)
{
    kprintf("cpu: %s \"%s\" family %#x model %#x stepping %u\n", boot_cpu.vendor,
            boot_cpu.brand, boot_cpu.family, boot_cpu.model, boot_cpu.stepping);
    kprintf("tsc: %llu Hz\n", (unsigned long long)tsc_hz);
    kprintf("hypervisor bit (we run nested): %s\n", yn(boot_cpu.leaf1_ecx & CPUID1_ECX_HYPERVISOR));
    print_vmx_report();
    return 0;
}
SHELL_COMMAND(info, "info", "", "CPU, TSC and VMX capabilities", cmd_info);

/* The machine's PCI functions as the firmware left them (the VMs' buses are their own). */
static int cmd_pci(int argc, char **argv)
{
    if (!pci_host_present()) {
        kprintf("no PCI configuration mechanism #1\n");
        return 0;
    }
    unsigned n;
    const struct pci_host_fn *f = pci_host_functions(&n);
    kprintf("bdf      id        class  rev class name      cmd  irq pin  bars\n");
    for (unsigned i = 0; i < n; i++, f++) {
        kprintf("%02x:%02x.%u  %04x:%04x %06x %02x  %-16s %04x %3u %3u ", f->bus, PCI_DEV(f->devfn),
                PCI_FN(f->devfn), f->vendor, f->device, f->class_rev >> 8, f->class_rev & 0xFF,
                pci_class_name(f->class_rev), f->command, f->irq_line, f->irq_pin);
        for (unsigned b = 0; b < PCI_NUM_BARS; b++)
            if (f->bar[b])
                kprintf(" %u:%#x", b, f->bar[b]);
        if (f->header == PCI_HEADER_TYPE_BRIDGE)
            kprintf(" buses %u-%u", f->secondary, f->subordinate);
        kprintf("\n");
    }
    const struct pci_scan_result *r = pci_host_scan_result();
    kprintf("%u functions on %u buses; %u not listed; %u bridges not followed\n", r->found + r->dropped,
            r->buses, r->dropped, r->bad_bridges);
    return 0;
}
SHELL_COMMAND(pci, "pci", "", "the machine's PCI functions", cmd_pci);

static int cmd_mem(int argc, char **argv)
{
    kprintf("memory map (%s, %zu entries%s):\n", boot_info.protocol == 2 ? "Multiboot2" : "Multiboot1",
            boot_info.n_mmap, boot_info.mmap_truncated ? ", truncated" : "");
    for (size_t i = 0; i < boot_info.n_mmap; i++) {
        const struct mem_range *r = &boot_info.mmap[i];
        kprintf("  %016llx-%016llx %10llu KiB  %s\n", (unsigned long long)r->base,
                (unsigned long long)(r->base + r->len - 1), (unsigned long long)(r->len >> 10),
                mmap_type_name(r->type));
    }
    kprintf("free pages: %llu (%llu MiB) of %llu usable\n",
            (unsigned long long)host_pmm.free_frames,
            (unsigned long long)(host_pmm.free_frames >> 8),
            (unsigned long long)host_pmm.usable_frames);
    kprintf("heap: %zu bytes in %zu allocations, %zu bytes of arenas\n", host_heap.used_bytes,
            host_heap.nallocs, host_heap.arena_bytes);
    if (host_pmm.ignored_bytes)
        kprintf("ignored: %llu MiB above %llu GiB\n",
                (unsigned long long)(host_pmm.ignored_bytes >> 20),
                (unsigned long long)(PMM_MAX_PHYS >> 30));
    return 0;
}
SHELL_COMMAND(mem, "mem", "", "memory map and free pages", cmd_mem);

static int cmd_modules(int argc, char **argv)
{
    kprintf("%zu modules\n", boot_info.n_mods);
    for (size_t i = 0; i < boot_info.n_mods; i++) {
        const struct boot_module *m = &boot_info.mods[i];
        kprintf("  %zu: %#llx-%#llx %llu bytes  %s\n", i, (unsigned long long)m->start,
                (unsigned long long)m->end, (unsigned long long)(m->end - m->start), m->cmdline);
    }
    if (boot_info.mods_dropped)
        kprintf("  (%zu more ignored: at most %d are supported)\n", boot_info.mods_dropped,
                BI_MAX_MODULES);
    return 0;
}
SHELL_COMMAND(modules, "modules", "", "boot modules", cmd_modules);

static int cmd_reboot(int argc, char **argv)
{
    machine_reboot("the operator typed reboot");
}
SHELL_COMMAND(reboot, "reboot", "", "reset the machine", cmd_reboot);

static int cmd_halt(int argc, char **argv)
{
    kprintf("monovisor: halted\n");
    cpu_halt_forever();
}
SHELL_COMMAND(halt, "halt", "", "stop the machine (halts the CPU)", cmd_halt);

/* Deliberate faults, to see on real hardware that the VMM's fault reporting works. */
static volatile int crash_zero;
static int recurse(int depth);
static int (*volatile recurse_ptr)(int) = recurse;
static int recurse(int depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    return recurse_ptr(depth + 1) + pad[0];     /* through a pointer: no tail-call loop */
}

static int cmd_crash(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "ud")) {
        __asm__ volatile("ud2");
    } else if (!strcmp(what, "de")) {
        kprintf("%d\n", 1 / crash_zero);
    } else if (!strcmp(what, "gp")) {
        kprintf("%d\n", *(volatile int *)0x8000000000000000ull);   /* non-canonical */
    } else if (!strcmp(what, "pf")) {
        kprintf("%d\n", *(volatile int *)0xDEAD0000000ull);
    } else if (!strcmp(what, "stack")) {
        recurse_ptr(0);
    } else {
        kprintf("usage: crash ud|de|gp|pf|stack\n");
        return -1;
    }
    return 0;
}
SHELL_COMMAND(crash, "crash", "ud|de|gp|pf|stack", "raise a fault in the VMM (tests the dump)", cmd_crash);
