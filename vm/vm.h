/* Virtual machines: configuration, memory, the vCPU, devices, lifecycle. */
#ifndef MV_VM_H
#define MV_VM_H
#include "compiler.h"
#include "vmconfig.h"
#include "mm/guest_mem.h"
#include "arch/x86/vmx/vcpu.h"
#include "dev/ioport.h"
#include "dev/fw_cfg.h"
#include "dev/i8259.h"
#include "dev/i8254.h"
#include "dev/mc146818.h"
#include "dev/ns16550.h"
#include "dev/i8042.h"
#include "dev/sysreset.h"
#include "dev/acpi_pmtimer.h"
#include "dev/pci.h"
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
    struct ioport_table io;
    struct fw_cfg fw_cfg;
    struct i8259 pic;
    struct i8254 pit;
    struct mc146818 rtc;
    struct ns16550 com1, com2;
    struct i8042 kbc;
    struct sysreset sysreset;
    struct acpi_pmtimer pmtimer;
    struct pci_bus pci;
    struct thread *thread;          /* its vCPU thread while it exists */
    uint64_t pit_checked;           /* PIT clock up to which IRQ0 edges were raised */
    uint64_t pit_ticks, pit_ticks_late, pit_ticks_pending;  /* raised; of which merged edges, or
                                                             * found the last one still in IRR */
    uint64_t time_base;             /* host TSC at power-on: platform time 0 (vmtime.h) */
    uint64_t timer_deadline;        /* platform time of the next device timer event (cached) */
    bool timers_dirty;              /* a write to a timer_source device may have moved it */
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
