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
};

extern struct vm *vms[MAX_VMS];
extern size_t nvms;

/* Creates VMs from the boot modules' command lines; prints what it made and what it refused. */
void vms_create_from_modules(void);
/* Starts every VM marked autostart; they run concurrently with the shell. */
void vms_autostart(void);
struct vm *vm_find(const char *name);
/* (Re)loads the guest image into fresh memory and starts its vCPU thread. */
void vm_start(struct vm *vm);
void vm_stop(struct vm *vm, enum vm_state state, const char *fmt, ...) PRINTF_LIKE(3, 4);
void vm_console_putc(struct vm *vm, char c);
/* Moves held console input into the VM's COM1 receiver as it makes room (before each entry). */
void vm_console_pump(struct vm *vm);
/* Console input from the shell thread: true if it was the focus key (Ctrl-]) or went to the
 * focused guest's COM1; false if the shell has the focus. */
bool vm_console_route(int c);
/* vm_start + waits (blocking only the calling thread) until the VM has ended. */
void vm_run(struct vm *vm);
const char *vm_state_name(enum vm_state s);
#endif
