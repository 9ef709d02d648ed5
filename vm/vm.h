/* Virtual machines: configuration, memory, the vCPU, devices, lifecycle. */
#ifndef MV_VM_H
#define MV_VM_H
#include "compiler.h"
#include "vmconfig.h"
#include "mm/guest_mem.h"
#include "arch/x86/vmx/vcpu.h"
#include "pc_platform.h"

#define MAX_VMS          16
#define VM_MAX_ATTACHED  8
#define VM_CONSOLE_LINE  160
#define VM_CONSOLE_INPUT 256

enum vm_state { VM_CREATED, VM_RUNNING, VM_HALTED, VM_STOPPED, VM_FAILED };

struct vm_module {
    uint64_t host_start, host_end;  /* the boot module in host memory */
    char cmdline[VM_CMDLINE_MAX];
};

struct vm {
    int id;
    struct vm_config cfg;
    enum vm_state state;
    int exit_code;                  /* from the exit port, -1 if none */
    char stop_reason[160];
    struct vm_module image;
    struct vm_module attached[VM_MAX_ATTACHED];
    size_t nattached;
    struct guest_mem mem;
    uint64_t *mem_chunks;
    struct vcpu vcpu;
    struct pc_platform plat;        /* its devices, IRQ router, timers and time base */
    struct thread *thread;          /* its vCPU thread while it exists */
    char con_line[VM_CONSOLE_LINE]; /* guest COM1 output, flushed per line with a prefix */
    size_t con_len;
    size_t con_shown;               /* of which already printed (the focused VM's partial line) */
    uint8_t con_in[VM_CONSOLE_INPUT];   /* typed for its COM1, not yet taken by the UART */
    size_t con_in_head, con_in_len;
    uint64_t con_in_dropped;
    bool con_focused;               /* the operator's console shows this guest (console_focus.c) */
};

extern struct vm *vms[MAX_VMS];
extern size_t nvms;
/* Called on a VM's vCPU thread as it ends (the console focus leaves that VM). */
extern void (*vm_thread_ended)(struct vm *vm);

/* Creates VMs from the boot modules' command lines; prints what it made and what it refused. */
void vms_create_from_modules(void);
/* Starts every VM marked autostart; they run concurrently with the shell. False if none. */
bool vms_autostart(void);
/* No autostart VM is still running. */
bool vms_autostart_done(void);
struct vm *vm_find(const char *name);
/* (Re)loads the guest image into fresh memory and starts its vCPU thread. */
void vm_start(struct vm *vm);
void vm_stop(struct vm *vm, enum vm_state state, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* A byte the guest sent out its COM1: printed a line at a time behind the VM's name, at once
 * while the VM has the console focus (con_focused). */
void vm_console_putc(struct vm *vm, char c);
/* Prints the guest's partial line again (the focus came to it). */
void vm_console_show(struct vm *vm);
/* A byte typed for the guest's COM1: held until its receiver has room. */
void vm_console_input(struct vm *vm, uint8_t c);
/* Moves held console input into the VM's COM1 receiver as it makes room (before each entry). */
void vm_console_pump(struct vm *vm);
/* vm_start + waits (blocking only the calling thread) until the VM has ended. */
void vm_run(struct vm *vm);
const char *vm_state_name(enum vm_state s);
#endif
