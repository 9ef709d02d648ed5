/* VM lifecycle: made from boot modules at start-up, (re)started from the shell, stopped by the
 * guest (exit port, hypercall), by a fatal condition (triple fault, access outside its memory,
 * unhandled exit) or by the operator. A failing VM never takes the VMM or other VMs down. */
#include "vm.h"
#include "mbguest.h"
#include "bzimage.h"
#include "pc_firmware.h"
#include "kernel/console.h"
#include "lib.h"
#include "layout.h"
#include "kernel/shell.h"         /* SHELL_COMMAND only */
#include "arch/x86/tsc.h"
#include "sched/sched.h"
#include "boot/bootinfo.h"
#include "mm/memory.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/vmx/mmu.h"

extern struct boot_info boot_info;
struct vm *vms[MAX_VMS];
size_t nvms;
void (*vm_thread_ended)(struct vm *vm);

static uint64_t chunk_alloc(void *ctx)
{
    return pmm_alloc_contig(&host_pmm, GMEM_CHUNK_SIZE / PAGE_SIZE, GMEM_CHUNK_SIZE);
}
static void chunk_free(void *ctx, uint64_t hpa) { pmm_free_contig(&host_pmm, hpa, GMEM_CHUNK_SIZE / PAGE_SIZE); }
static void *chunk_ptr(void *ctx, uint64_t hpa) { return phys_to_virt(hpa); }
static const struct gmem_ops gmem_host_ops = { chunk_alloc, chunk_free, chunk_ptr, NULL };

const char *vm_state_name(enum vm_state s)
{
    switch (s) {
    case VM_CREATED: return "created";
    case VM_RUNNING: return "running";
    case VM_HALTED: return "halted";
    case VM_STOPPED: return "stopped";
    case VM_FAILED: return "failed";
    }
    return "?";
}

struct vm *vm_find(const char *name)
{
    for (size_t i = 0; i < nvms; i++)
        if (!strcmp(vms[i]->cfg.name, name))
            return vms[i];
    return NULL;
}

/* Prints the part of the guest's current line not shown yet, behind the VM's name; with
 * newline, ends the line. */
static void console_emit(struct vm *vm, bool newline)
{
    if (!vm->con_shown)
        kprintf("%s[%s] ", console_at_line_start() ? "" : "\n", vm->cfg.name);
    kprintf("%.*s%s", (int)(vm->con_len - vm->con_shown), vm->con_line + vm->con_shown, newline ? "\n" : "");
    vm->con_shown = newline ? 0 : vm->con_len;
    if (newline)
        vm->con_len = 0;
}

static void guest_line_end(struct vm *vm)
{
    console_emit(vm, true);
}

/* Guest output goes out a line at a time, each behind the VM's name; the focused guest's
 * partial line (a shell prompt, an echoed keystroke) goes out at once. */
void vm_console_putc(struct vm *vm, char c)
{
    if (c == '\r')
        return;
    if (c == '\n' || vm->con_len == VM_CONSOLE_LINE) {
        guest_line_end(vm);
        if (c == '\n')
            return;
    }
    /* Control bytes from a guest must not drive the operator's terminal. */
    vm->con_line[vm->con_len++] = (c >= 0x20 && c < 0x7F) || c == '\t' ? c : '.';
    if (vm->con_focused)
        console_emit(vm, false);
}

void vm_console_show(struct vm *vm)
{
    vm->con_shown = 0;
    if (vm->con_len)
        console_emit(vm, false);
}

void vm_console_input(struct vm *vm, uint8_t c)
{
    if (vm->con_in_len < VM_CONSOLE_INPUT)
        vm->con_in[(vm->con_in_head + vm->con_in_len++) % VM_CONSOLE_INPUT] = c;
    else
        vm->con_in_dropped++;           /* typed faster than the guest reads, for long */
    vm_console_pump(vm);
}

void vm_console_pump(struct vm *vm)
{
    /* Held back while the UART's receiver is full, as a terminal paced by the line would be. */
    while (vm->con_in_len && ns16550_rx_ready(&vm->plat.com1)) {
        ns16550_rx(&vm->plat.com1, vm->con_in[vm->con_in_head]);
        vm->con_in_head = (vm->con_in_head + 1) % VM_CONSOLE_INPUT;
        vm->con_in_len--;
    }
    /* The typist paused: bytes below the FIFO's trigger level get the character-timeout
     * interrupt now rather than four character times later (the console has no line clock). */
    if (!vm->con_in_len)
        ns16550_rx_timeout(&vm->plat.com1);
}

void vm_stop(struct vm *vm, enum vm_state state, const char *fmt, ...)
{
    if (vm->state != VM_RUNNING)
        return;                         /* the first reason wins */
    if (vm->con_len)
        guest_line_end(vm);
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(vm->stop_reason, sizeof(vm->stop_reason), fmt, ap);
    va_end(ap);
    vm->state = state;
    vm_net_detach(vm);                  /* no frame reaches a VM that is not running */
    kprintf("monovisor: vm %s %s: %s (after %llu exits)\n", vm->cfg.name, vm_state_name(state),
            vm->stop_reason, (unsigned long long)vm->vcpu.exits);
}

/* ---- what the platform asks of its VM ---- */

/* A reset from the keyboard controller, port 0x92 or 0xCF9 ends this VM only; the operator
 * (or `vm start`) brings it back. */
static void platform_reset(void *vm, const char *why) { vm_stop(vm, VM_STOPPED, "reset by the guest (%s)", why); }
static void platform_console_tx(void *vm, uint8_t c) { vm_console_putc(vm, (char)c); }
static void platform_exit(void *ctx, uint32_t code, uint16_t port)
{
    struct vm *vm = ctx;
    vm->exit_code = (int)code;
    vm_stop(vm, VM_STOPPED, "exited with code %u (port %#x)", code, port);
}
static void platform_power_off(void *vm) { vm_stop(vm, VM_STOPPED, "powered off (ACPI S5)"); }
static const struct pc_platform_hooks platform_hooks = { platform_reset, platform_console_tx, platform_exit,
                                                         platform_power_off, vm_disk_kick,
                                                         vm_nic_tx_kick, vm_nic_rx_kick, vm_nic_tx_frame };

static bool attach_platform(struct vm *vm, char *err, size_t errlen)
{
    return pc_firmware_write(&vm->mem, err, errlen) &&
           pc_platform_attach(&vm->plat, &vm->mem, &platform_hooks, vm, err, errlen) &&
           vm_disks_attach(vm, err, errlen) && vm_net_attach(vm, err, errlen) &&
           pc_pci_firmware_setup(&vm->plat, err, errlen);
}

static void *module_ptr(const struct vm_module *m) { return phys_to_virt(m->host_start); }

/* Places attached modules at the top of guest RAM, page aligned, highest first. */
static bool load_modules(struct vm *vm, struct mbguest_module *mods, uint32_t low_limit, char *err, size_t errlen)
{
    uint64_t top = vm->mem.size;
    for (size_t i = 0; i < vm->nattached; i++) {
        const struct vm_module *m = &vm->attached[i];
        uint64_t len = m->host_end - m->host_start;
        if (len + PAGE_SIZE > top || ALIGN_DOWN(top - len, PAGE_SIZE) < low_limit) {
            ksnprintf(err, errlen, "module %zu (%llu bytes) does not fit in the VM's memory", i,
                      (unsigned long long)len);
            return false;
        }
        top = ALIGN_DOWN(top - len, PAGE_SIZE);
        gmem_write(&vm->mem, top, module_ptr(m), len);
        mods[i] = (struct mbguest_module){ top, top + len, m->cmdline };
    }
    return true;
}

/* A Multiboot1 kernel: image, modules at the top of RAM, the info block; EAX/EBX per the spec. */
static bool prepare_multiboot(struct vm *vm, char *err, size_t errlen)
{
    struct mbguest_image img;
    if (!mbguest_load(&vm->mem, module_ptr(&vm->image), vm->image.host_end - vm->image.host_start, &img, err, errlen))
        return false;
    struct mbguest_module mods[VM_MAX_ATTACHED];
    uint32_t info;
    if (!load_modules(vm, mods, img.load_end, err, errlen) ||
        !mbguest_write_info(&vm->mem, vm->cfg.cmdline, mods, vm->nattached, &info, err, errlen))
        return false;
    if (!vcpu_init(&vm->vcpu, vm, err, errlen) || !attach_platform(vm, err, errlen))
        return false;
    vm->vcpu.regs.rax = MB1_BOOT_MAGIC;
    vm->vcpu.regs.rbx = info;
    vmwrite(VMCS_GUEST_RIP, img.entry);
    return true;
}

/* A Linux bzImage through the 32-bit boot protocol; the one attached module is the initrd. */
static bool prepare_linux(struct vm *vm, char *err, size_t errlen)
{
    const uint8_t *initrd = NULL;
    size_t initrd_len = 0;
    if (vm->nattached > 1) {
        ksnprintf(err, errlen, "a linux VM takes one attached module (the initrd), not %zu", vm->nattached);
        return false;
    }
    if (vm->nattached) {
        initrd = module_ptr(&vm->attached[0]);
        initrd_len = vm->attached[0].host_end - vm->attached[0].host_start;
    }
    struct bzimage_layout l;
    if (!bzimage_load(&vm->mem, module_ptr(&vm->image), vm->image.host_end - vm->image.host_start,
                      vm->cfg.cmdline, initrd, initrd_len, &l, err, errlen))
        return false;
    if (!vcpu_init(&vm->vcpu, vm, err, errlen) || !attach_platform(vm, err, errlen))
        return false;
    vcpu_set_boot_segments(&vm->vcpu, BZ_BOOT_CS, BZ_BOOT_DS, l.gdt_gpa, (uint16_t)l.gdt_limit);
    vm->vcpu.regs.rsi = l.boot_params_gpa;
    vmwrite(VMCS_GUEST_RIP, l.entry_gpa);
    return true;
}

/* Fresh memory, the image and its boot data, devices and a reset vCPU. */
static bool vm_prepare(struct vm *vm, char *err, size_t errlen)
{
    if (vm->mem.nchunks)
        gmem_destroy(&vm->mem);
    if (vm->vcpu.vmcs_pa)
        vcpu_destroy(&vm->vcpu);
    if (!tsc_hz) {
        ksnprintf(err, errlen, "the TSC frequency is unknown, so guest device clocks cannot run");
        return false;
    }
    if (!gmem_init(&vm->mem, vm->cfg.mem, vm->mem_chunks, &gmem_host_ops)) {
        ksnprintf(err, errlen, "not enough host memory for %llu MiB", (unsigned long long)(vm->cfg.mem >> 20));
        return false;
    }
    if (!(vm->cfg.kind == VM_KIND_LINUX ? prepare_linux(vm, err, errlen) : prepare_multiboot(vm, err, errlen)))
        return false;
    vm->exit_code = -1;
    vm->stop_reason[0] = '\0';
    vm->con_len = vm->con_shown = 0;
    vm->con_in_len = 0;
    return true;
}

static void vm_thread(void *arg)
{
    struct vm *vm = arg;
    vcpu_run(&vm->vcpu);
    vm->thread = NULL;
    if (vm_thread_ended)
        vm_thread_ended(vm);
}

static bool vm_thread_gone(void *vm) { return !((struct vm *)vm)->thread; }

void vm_start(struct vm *vm)
{
    char err[128];
    if (vm->thread) {
        kprintf("monovisor: vm %s is %s: its vCPU thread has not ended\n", vm->cfg.name,
                vm_state_name(vm->state));
        return;
    }
    if (!vmx_enabled()) {
        kprintf("monovisor: vm %s: cannot start: VMX is not enabled\n", vm->cfg.name);
        return;
    }
    if (!vm_prepare(vm, err, sizeof(err))) {
        vm_net_detach(vm);              /* the NICs may be on the switch already */
        vm->state = VM_FAILED;
        ksnprintf(vm->stop_reason, sizeof(vm->stop_reason), "%s", err);
        kprintf("monovisor: vm %s: cannot start: %s\n", vm->cfg.name, err);
        return;
    }
    kprintf("monovisor: vm %s starting (%s, %llu MiB, %s paging)\n", vm->cfg.name,
            vm_kind_name(vm->cfg.kind), (unsigned long long)(vm->mem.size >> 20), vm_mmu_name(vm->cfg.mmu));
    vm->state = VM_RUNNING;
    char name[THREAD_NAME_MAX];
    ksnprintf(name, sizeof(name), "vcpu0:%s", vm->cfg.name);
    vm->thread = thread_create(name, THREAD_VCPU, vm_thread, vm);
    if (!vm->thread)
        vm_stop(vm, VM_FAILED, "no memory for its vCPU thread");
}

/* Runs the VM and, like a real machine's power-off, waits for it to end. */
void vm_run(struct vm *vm)
{
    vm_start(vm);
    while (vm->thread)
        sched_block(UINT64_MAX, vm_thread_gone, vm);
}

/* The header and whether the kernel's decompression footprint fits the VM; the initrd and the
 * rest are checked when it starts (attachments come later). */
static bool linux_image_ok(const struct vm_config *cfg, const struct boot_module *m, char *err, size_t errlen)
{
    struct bzimage_info bi;
    if (!bzimage_parse(phys_to_virt(m->start), m->end - m->start, &bi, err, errlen))
        return false;
    uint64_t need = bzimage_runtime_start(&bi) + bi.init_size;
    if (need > cfg->mem) {
        ksnprintf(err, errlen, "the kernel needs %llu MiB of RAM to decompress, the VM has %llu MiB",
                  (unsigned long long)((need + (1u << 20) - 1) >> 20), (unsigned long long)(cfg->mem >> 20));
        return false;
    }
    return true;
}

static bool create_vm(const struct vm_config *cfg, const struct boot_module *m, char *err, size_t errlen)
{
    if (vm_find(cfg->name)) {
        ksnprintf(err, errlen, "a VM named '%s' already exists", cfg->name);
        return false;
    }
    if (nvms == MAX_VMS) {
        ksnprintf(err, errlen, "at most %d VMs", MAX_VMS);
        return false;
    }
    if (cfg->mmu != VM_MMU_SHADOW) {
        ksnprintf(err, errlen, "mmu '%s' is not supported yet", vm_mmu_name(cfg->mmu));
        return false;
    }
    if ((cfg->mem >> 12) > host_pmm.free_frames) {
        ksnprintf(err, errlen, "not enough host memory for %llu MiB (%llu MiB free)",
                  (unsigned long long)(cfg->mem >> 20), (unsigned long long)(host_pmm.free_frames >> 8));
        return false;
    }
    struct vm *vm = kzalloc(sizeof(*vm));
    uint64_t *chunks = kzalloc((cfg->mem >> GMEM_CHUNK_SHIFT) * sizeof(uint64_t) + sizeof(uint64_t));
    if (!vm || !chunks) {
        ksnprintf(err, errlen, "out of memory");
        return false;
    }
    vm->id = (int)nvms;
    vm->cfg = *cfg;
    vm->mem_chunks = chunks;
    vm->image = (struct vm_module){ m->start, m->end, "" };
    vm->exit_code = -1;
    if (!vm_net_create(vm, err, errlen)) {
        kfree(chunks);
        kfree(vm);
        return false;
    }
    /* Validate the image now, so a bad module is refused at boot, not when started. */
    if (cfg->kind == VM_KIND_LINUX) {
        if (!linux_image_ok(cfg, m, err, errlen)) {
            vm_net_free(vm);
            kfree(chunks);
            kfree(vm);
            return false;
        }
        vms[nvms++] = vm;
        return true;
    }
    if (!gmem_init(&vm->mem, cfg->mem, chunks, &gmem_host_ops)) {
        ksnprintf(err, errlen, "not enough host memory for %llu MiB", (unsigned long long)(cfg->mem >> 20));
        vm_net_free(vm);
        kfree(chunks);
        kfree(vm);
        return false;
    }
    struct mbguest_image img;
    bool ok = mbguest_load(&vm->mem, module_ptr(&vm->image), m->end - m->start, &img, err, errlen);
    gmem_destroy(&vm->mem);
    if (!ok) {
        vm_net_free(vm);
        kfree(chunks);
        kfree(vm);
        return false;
    }
    vms[nvms++] = vm;
    return true;
}

void vms_create_from_modules(void)
{
    char err[128];
    struct vm_config cfg;
    /* Two passes: VMs first, then attachments, so order on the loader's line does not matter. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < boot_info.n_mods; i++) {
            const struct boot_module *m = &boot_info.mods[i];
            enum vmcfg_type t = vmconfig_parse(m->cmdline, &cfg, err, sizeof(err));
            if (pass == 0 && t == VMCFG_ERROR) {
                kprintf("monovisor: module %zu: bad VM configuration: %s\n", i, err);
            } else if (pass == 0 && t == VMCFG_VM) {
                if (create_vm(&cfg, m, err, sizeof(err)))
                    kprintf("monovisor: vm %s created from module %zu (%llu MiB)\n", cfg.name, i,
                            (unsigned long long)(cfg.mem >> 20));
                else
                    kprintf("monovisor: vm %s not created: %s\n", cfg.name, err);
            } else if (pass == 1 && t == VMCFG_ATTACH) {
                struct vm *vm = vm_find(cfg.name);
                if (vm && cfg.drive != VM_DRIVE_NONE) {
                    if (vm_drive_add(vm, &cfg, phys_to_virt(m->start), m->end - m->start, i, err, sizeof(err)))
                        kprintf("monovisor: vm %s: drive %s is module %zu (%llu KiB%s)\n", cfg.name,
                                vm_drive_name(cfg.drive), i, (unsigned long long)((m->end - m->start) >> 10),
                                cfg.cdrom ? ", cdrom" : "");
                    else
                        kprintf("monovisor: module %zu: no drive %s for vm %s: %s\n", i,
                                vm_drive_name(cfg.drive), cfg.name, err);
                    continue;
                }
                if (!vm || vm->nattached == VM_MAX_ATTACHED) {
                    kprintf("monovisor: module %zu: cannot attach to vm '%s'%s\n", i, cfg.name,
                            vm ? " (too many modules)" : " (no such VM)");
                    continue;
                }
                struct vm_module *a = &vm->attached[vm->nattached++];
                *a = (struct vm_module){ m->start, m->end, "" };
                kstrlcpy(a->cmdline, cfg.cmdline, sizeof(a->cmdline));
            }
        }
    }
}

bool vms_autostart_done(void)
{
    for (size_t i = 0; i < nvms; i++)
        if (vms[i]->cfg.autostart && vms[i]->thread)
            return false;
    return true;
}

bool vms_autostart(void)
{
    bool any = false;
    for (size_t i = 0; i < nvms; i++)
        if (vms[i]->cfg.autostart) {
            vm_start(vms[i]);
            any = true;
        }
    return any;
}

/* ---- shell ---- */

static int cmd_vms(int argc, char **argv)
{
    kprintf("%-16s %-8s %6s %10s  %s\n", "name", "state", "code", "exits", "reason");
    for (size_t i = 0; i < nvms; i++) {
        struct vm *vm = vms[i];
        char code[12] = "-";
        if (vm->exit_code >= 0)
            ksnprintf(code, sizeof(code), "%d", vm->exit_code);
        kprintf("%-16s %-8s %6s %10llu  %s\n", vm->cfg.name, vm_state_name(vm->state), code,
                (unsigned long long)vm->vcpu.exits, vm->stop_reason);
    }
    return 0;
}
SHELL_COMMAND(vms, "vms", "", "list VMs: state, exit code, exit count", cmd_vms);

static int cmd_vm(int argc, char **argv)
{
    struct vm *vm = argc == 3 ? vm_find(argv[2]) : NULL;
    if (argc != 3 || (strcmp(argv[1], "start") && strcmp(argv[1], "run") && strcmp(argv[1], "stop"))) {
        kprintf("usage: vm start|run|stop NAME\n");
        return -1;
    }
    if (!vm) {
        kprintf("error: no VM named '%s'\n", argv[2]);
        return -1;
    }
    if (!strcmp(argv[1], "start")) {
        vm_start(vm);
    } else if (!strcmp(argv[1], "run")) {
        vm_run(vm);
    } else if (vm->state == VM_RUNNING) {
        vm_stop(vm, VM_STOPPED, "stopped from the shell");
    } else {
        kprintf("vm %s is %s\n", vm->cfg.name, vm_state_name(vm->state));
    }
    return 0;
}
SHELL_COMMAND(vm, "vm", "start|run|stop NAME",
              "start a VM in the background, run one until it ends, or stop one", cmd_vm);

static int cmd_sched(int argc, char **argv)
{
    sched_dump();
    return 0;
}
SHELL_COMMAND(sched, "sched", "", "threads (vCPUs and VMM threads), states and run time", cmd_sched);

static int cmd_regs(int argc, char **argv)
{
    struct vm *vm = argc == 2 ? vm_find(argv[1]) : NULL;
    if (!vm) {
        kprintf("usage: regs NAME (a VM that has run)\n");
        return -1;
    }
    if (!vm->vcpu.vmcs_pa || !vmptrld(vm->vcpu.vmcs_pa)) {
        kprintf("vm %s has no vCPU state yet\n", vm->cfg.name);
        return -1;
    }
    kprintf("vm %s (%s):\n", vm->cfg.name, vm_state_name(vm->state));
    vcpu_dump(&vm->vcpu);
    return 0;
}
SHELL_COMMAND(regs, "regs", "NAME", "a VM's registers", cmd_regs);
