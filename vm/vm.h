/* Virtual machines: configuration, memory, the vCPU, devices, lifecycle. */
#ifndef MV_VM_H
#define MV_VM_H
#include "compiler.h"
#include "vmconfig.h"
#include "mm/guest_mem.h"
#include "arch/x86/vmx/vcpu.h"
#include "pc_platform.h"
#include "dev/blockdev.h"
#include "dev/disk_timing.h"
#include "net/vswitch.h"

#define MAX_VMS          16
#define VM_MAX_ATTACHED  8
#define VM_CONSOLE_LINE  160
#define VM_CONSOLE_INPUT 256

enum vm_state { VM_CREATED, VM_RUNNING, VM_HALTED, VM_STOPPED, VM_FAILED };

struct vm_module {
    uint64_t host_start, host_end;  /* the boot module in host memory */
    char cmdline[VM_CMDLINE_MAX];
};

/* A drive made from a boot module: the module's memory is the medium, for the VMM's uptime. */
struct vm_drive {
    bool present, cdrom;
    struct blockdev bd;
    struct disk_timing timing;      /* the drive's service time, from the VM's disktime= */
    uint8_t *written;               /* a bit per sector the guest wrote (drive-dump written) */
    size_t module;                  /* boot module index */
    char model[41], serial[21];
};

/* The disk request the VM's disk thread is serving (the concurrent model). */
struct vm_disk_state {
    bool kicked;                    /* a device said it has work: look */
    bool inflight;                  /* job taken; it completes at ready_tsc */
    struct pc_disk_job job;
    uint64_t ready_tsc;
    uint64_t served, sync_served;   /* requests completed by the thread / inside exits */
    uint64_t service_tsc;           /* drive service time modelled, host TSC cycles */
};

/* A NIC's connection to the VMM's switch. */
struct vm_nic {
    struct vm *vm;
    unsigned index;
    bool present;
    int port;                       /* switch port while the VM runs, VSWITCH_NO_PORT otherwise */
    uint8_t mac[ETH_ALEN];
    uint16_t poll_ms;               /* 0: event-driven; else the net thread moves frames every poll_ms */
    uint64_t next_poll_tsc;
    bool more_tx;                   /* event-driven: a kick left frames queued (over budget) */
    struct vswitch_frame *backlog;  /* the port's held frames (VSWITCH_BACKLOG) */
    uint64_t tx_kicks, polls, tx_exits_frames;
    struct vswitch_port_stats last; /* the port's counters when the VM last left the switch */
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
    struct vm_drive drives[VM_DRIVE_POSITIONS];     /* by position; [VM_DRIVE_NONE] unused */
    struct vm_disk_state disk;
    struct vm_nic nics[VM_NICS];
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
/* vm_disks.c: a drive= module becomes drive cfg->drive of vm (checked: size, position). */
bool vm_drive_add(struct vm *vm, const struct vm_config *cfg, const void *data, uint64_t size,
                  size_t module, char *err, size_t errlen);
/* At each start: the drives onto the fresh platform, the disk requests' state cleared. */
bool vm_disks_attach(struct vm *vm, char *err, size_t errlen);
/* The platform's disk_kick: serve inside this exit (diskio=sync) or wake the disk thread. */
void vm_disk_kick(void *vm);
/* vm_net.c: at creation, the NICs' memory (false: out of memory); at each start, the NICs onto
 * the fresh platform and their ports onto the switch; when the VM stops, off the switch. */
bool vm_net_create(struct vm *vm, char *err, size_t errlen);
void vm_net_free(struct vm *vm);                /* a VM refused after vm_net_create */
bool vm_net_attach(struct vm *vm, char *err, size_t errlen);
void vm_net_detach(struct vm *vm);
/* The switch and its uplink to the machine's own NIC (prints "uplink: ..."); after sched_init. */
void vm_net_init(void);
/* The platform's NIC hooks. */
void vm_nic_tx_kick(void *vm, unsigned n);
void vm_nic_rx_kick(void *vm, unsigned n);
void vm_nic_tx_frame(void *vm, unsigned n, const uint8_t *frame, size_t len);
#endif
