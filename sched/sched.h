/* Cooperative scheduler: threads run until they yield or block. Two kinds share one CPU:
 * vCPU threads (run a guest; the VMX preemption timer bounds how long the guest keeps the CPU
 * between yields) and VMM threads (the shell, watchers, device completion work). A blocked
 * thread names what ends the wait: a host-TSC deadline, a readiness check, or both. When
 * nothing can run, the CPU idles until the earliest deadline or a readiness check passes. */
#ifndef MV_SCHED_H
#define MV_SCHED_H
#include "compiler.h"

#define THREAD_NAME_MAX   24
#define THREAD_STACK_SIZE (32 * 1024)

enum thread_state { THREAD_RUNNABLE, THREAD_BLOCKED, THREAD_DONE };
enum thread_kind { THREAD_VMM, THREAD_VCPU };

typedef bool (*thread_ready_fn)(void *arg);

struct thread {
    char name[THREAD_NAME_MAX];
    enum thread_kind kind;
    enum thread_state state;
    uint64_t rsp;                   /* saved by sched_switch */
    void *stack;                    /* NULL for the boot thread */
    void (*entry)(void *arg);
    void *arg;
    uint64_t wake_tsc;              /* blocked: runnable again at this host TSC (UINT64_MAX: never) */
    thread_ready_fn ready;          /* blocked: ... or when this says so */
    void *ready_arg;
    uint64_t run_tsc;               /* host TSC cycles spent running */
    uint64_t switches;              /* times switched in */
    uint64_t slice_start;           /* host TSC when last switched in */
    struct thread *next;            /* the run ring */
};

/* The boot context becomes the first thread (the shell). */
void sched_init(const char *boot_thread_name);
struct thread *thread_create(const char *name, enum thread_kind kind, void (*entry)(void *), void *arg);
/* Lets every other runnable thread run once. */
void sched_yield(void);
/* Waits until the host TSC reaches wake_tsc or ready(arg) is true (either may be absent). */
void sched_block(uint64_t wake_tsc, thread_ready_fn ready, void *arg);
/* Ends a blocked thread's wait at host TSC `tsc` at the latest (now: at the next scheduling
 * point, which a running vCPU reaches on its next exit). For work handed to a VMM thread. */
void sched_wake(struct thread *t, uint64_t tsc);
/* For the vCPU loop: true once the current thread has run longer than its slice, or a
 * blocked thread's deadline has come. */
bool sched_slice_expired(void);
/* The host TSC at which the current thread should give the CPU up (for the preemption timer). */
uint64_t sched_slice_end(void);
/* Threads, states and run time (the `sched` command). */
void sched_dump(void);
#endif
