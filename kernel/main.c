/* monovisor entry from boot/entry.asm: bring up the host, report the machine, run the shell. */
#include "sched/sched.h"
#include "lib.h"
#include "layout.h"
#include "console.h"
#include "shell.h"
#include "console_focus.h"
#include "version.h"
#include "boot/bootinfo.h"
#include "mm/memory.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuinfo.h"
#include "arch/x86/desc.h"
#include "arch/x86/paging.h"
#include "arch/x86/platform.h"
#include "arch/x86/tsc.h"
#include "arch/x86/hosttimer.h"
#include "arch/x86/pci_host.h"
#include "arch/x86/lapic_host.h"
#include "arch/x86/vmx/vmx_caps.h"
#include "arch/x86/vmx/vmx.h"
#include "vm/vm.h"
#include "trace/trace.h"

struct boot_info boot_info;

#define TRACE_BUF_RECORDS 65536u        /* 2 MiB */

static void trace_setup(void)
{
    uint64_t pages = ALIGN_UP((uint64_t)TRACE_BUF_RECORDS * sizeof(struct trace_rec), PAGE_SIZE) / PAGE_SIZE;
    uint64_t pa = pmm_alloc_contig(&host_pmm, pages, PAGE_SIZE);
    trace_init(pa ? phys_to_virt(pa) : NULL, TRACE_BUF_RECORDS);
}

static bool autostart_done(void *unused) { return vms_autostart_done(); }

/* Says when every autostart VM has ended (scripts wait for this line), then gives the prompt back. */
static void autostart_watch(void *unused)
{
    sched_block(UINT64_MAX, autostart_done, NULL);
    kprintf("\nmonovisor: all autostart VMs have run\n");
    shell_redraw();
}

/* Before paging_init only the low 4 GiB are mapped: boot info beyond that is refused. */
static const void *boot_phys_read(void *ctx, uint64_t pa, size_t len)
{
    (void)ctx;
    if (pa + len < pa || pa + len > paging_boot_limit())
        return NULL;
    return (const void *)(uintptr_t)pa;
}

static void report_vmx(void)
{
    const struct vmx_caps *c = &host_vmx_caps;
    if (!c->vmx) {
        kprintf("monovisor: VMX not available on this CPU (CPUID.1:ECX.VMX=0): "
                "guests cannot run, console only\n");
        return;
    }
    if (c->error) {
        kprintf("monovisor: VMX capability report incomplete: %s\n", c->error);
        return;
    }
    kprintf("VMX: revision %#x, EPT %s, VPID %s, unrestricted guest %s, preemption timer %s\n",
            c->revision, c->ept ? "yes" : "no", c->vpid ? "yes" : "no",
            c->unrestricted_guest ? "yes" : "no", c->preemption_timer ? "yes" : "no");
}

NORETURN void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
    console_init();
    gdt_init();
    idt_init();
    kprintf("\nmonovisor %s (build %s) starting\n", MONOVISOR_VERSION, build_id_string());

    /* Parse first: nothing may allocate before the boot info has been copied out. */
    if (!bootinfo_parse(&boot_info, magic, info, boot_phys_read, NULL)) {
        kprintf("monovisor: FATAL: bad boot information: %s\n", boot_info.err);
        kprintf("monovisor: system halted\n");
        cpu_halt_forever();
    }
    kprintf("loader: %s (Multiboot%d)\n", boot_info.loader[0] ? boot_info.loader : "unnamed",
            boot_info.protocol);
    kprintf("command line: %s\n", boot_info.cmdline);

    cpuinfo_init();
    memory_init(&boot_info);
    paging_init(host_max_phys);
    host_pic_disable();
    kprintf("memory: %llu MiB free of %llu MiB usable, %zu modules\n",
            (unsigned long long)(host_pmm.free_frames >> 8),
            (unsigned long long)(host_pmm.usable_frames >> 8), boot_info.n_mods);

    kprintf("cpu: %s %s (family %#x model %#x stepping %u)\n", boot_cpu.vendor,
            boot_cpu.brand, boot_cpu.family, boot_cpu.model, boot_cpu.stepping);
    uint64_t hz = tsc_calibrate();
    if (hz)
        kprintf("tsc: %llu.%03llu MHz (calibrated against PIT channel 2)\n",
                (unsigned long long)(hz / 1000000), (unsigned long long)(hz / 1000 % 1000));
    else
        kprintf("tsc: calibration failed (PIT channel 2 did not count)\n");
    host_timer_init();
    kprintf("host timer: %s%s\n", host_timer_name(),
            host_lapic_present() ? (host_lapic_x2apic() ? ", x2APIC" : ", xAPIC") : "");

    pci_host_init();
    vmx_caps_init();
    report_vmx();
    if (host_vmx_caps.vmx) {
        const char *why = vmx_enable();
        if (why)
            kprintf("monovisor: VMX not enabled: %s\n", why);
        else
            kprintf("monovisor: VMX enabled (VMXON)\n");
    }
    trace_setup();
    sched_init("shell");
    vm_net_init();
    vms_create_from_modules();
    if (vmx_enabled() && vms_autostart() &&
        !thread_create("autostart-watch", THREAD_VMM, autostart_watch, NULL))
        kprintf("monovisor: no memory for the autostart watcher\n");
    kprintf("monovisor: ready\n");
    console_focus_run();
}
