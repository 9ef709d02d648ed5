#include "sched.h"
#include "lib.h"
#include "mm/heap.h"
#include "layout.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "arch/x86/hosttimer.h"

/* A vCPU thread yields after this much host time so others (and the shell) get the CPU. */
#define SLICE_PER_SECOND  200
#define CALLEE_SAVED_REGS 6

void sched_switch(uint64_t *save_rsp, uint64_t new_rsp);

static struct thread boot_thread;
static struct thread *current;
static uint64_t idle_tsc, idle_since;
static uint64_t slice_tsc;

void sched_init(const char *boot_thread_name)
{
    kstrlcpy(boot_thread.name, boot_thread_name, sizeof(boot_thread.name));
    boot_thread.state = THREAD_RUNNABLE;
    boot_thread.next = &boot_thread;
    boot_thread.slice_start = rdtsc();
    boot_thread.switches = 1;
    current = &boot_thread;
    slice_tsc = tsc_hz ? tsc_hz / SLICE_PER_SECOND : 1000000;
}

static void thread_exit(void)
{
    current->state = THREAD_DONE;
    sched_yield();
    panic("a finished thread was scheduled");
}

static void thread_start(void)
{
    current->entry(current->arg);
    thread_exit();
}

struct thread *thread_create(const char *name, enum thread_kind kind, void (*entry)(void *), void *arg)
{
    struct thread *t = kzalloc(sizeof(*t));
    uint8_t *stack = kmalloc(THREAD_STACK_SIZE);
    if (!t || !stack) {
        kfree(t);
        kfree(stack);
        return NULL;
    }
    kstrlcpy(t->name, name, sizeof(t->name));
    t->kind = kind;
    t->entry = entry;
    t->arg = arg;
    t->stack = stack;
    t->wake_tsc = UINT64_MAX;
    /* The frame sched_switch pops: six registers, then the "return" into thread_start,
     * entered with the stack aligned as after a call. */
    uint64_t *sp = (uint64_t *)ALIGN_DOWN((uintptr_t)(stack + THREAD_STACK_SIZE), 16);
    *--sp = 0;                          /* thread_start's return address: never used */
    *--sp = (uint64_t)thread_start;
    for (int i = 0; i < CALLEE_SAVED_REGS; i++)
        *--sp = 0;
    t->rsp = (uint64_t)sp;
    t->state = THREAD_RUNNABLE;
    t->next = current->next;            /* runs after the current thread */
    current->next = t;
    return t;
}

static bool can_run(struct thread *t, uint64_t now)
{
    if (t->state == THREAD_RUNNABLE)
        return true;
    if (t->state != THREAD_BLOCKED)
        return false;
    if (now >= t->wake_tsc || (t->ready && t->ready(t->ready_arg))) {
        t->state = THREAD_RUNNABLE;
        return true;
    }
    return false;
}

/* Finished threads other than the current one are unlinked and freed. */
static void reap(void)
{
    for (struct thread *p = current; p->next != current;) {
        struct thread *t = p->next;
        if (t->state == THREAD_DONE) {
            p->next = t->next;
            kfree(t->stack);
            kfree(t);
        } else {
            p = t;
        }
    }
}

/* The earliest deadline of a blocked thread: a running vCPU is preempted for it. */
static uint64_t earliest_wake = UINT64_MAX;

static void recompute_earliest_wake(void)
{
    uint64_t e = UINT64_MAX;
    struct thread *t = current;
    do {
        if (t->state == THREAD_BLOCKED)
            e = MIN(e, t->wake_tsc);
        t = t->next;
    } while (t != current);
    earliest_wake = e;
}

/* A thread whose wait just ended (a timer interrupt due, input arrived) goes before the
 * runnable ones, like a boost: that is what keeps guest timer ticks on time under load.
 * Otherwise round-robin. */
static struct thread *pick(void)
{
    for (;;) {
        uint64_t now = rdtsc();
        for (struct thread *t = current->next;; t = t->next) {
            if (t->state == THREAD_BLOCKED && can_run(t, now))
                return t;
            if (t == current)
                break;
        }
        for (struct thread *t = current->next;; t = t->next) {
            if (can_run(t, now))
                return t;
            if (t == current)
                break;
        }
        /* Nothing can run: halt until the earliest deadline or an interrupt (console input),
         * then look again. */
        if (!idle_since)
            idle_since = now;
        host_idle(earliest_wake);
    }
}

static void switch_to(struct thread *next)
{
    uint64_t now = rdtsc();
    if (idle_since) {
        idle_tsc += now - idle_since;
        idle_since = 0;
    }
    current->run_tsc += now - current->slice_start;
    next->slice_start = now;
    bool had_deadline = next->wake_tsc != UINT64_MAX;
    next->wake_tsc = UINT64_MAX;
    next->ready = NULL;
    if (had_deadline)
        recompute_earliest_wake();
    if (next == current)
        return;
    next->switches++;
    struct thread *prev = current;
    current = next;
    sched_switch(&prev->rsp, next->rsp);
    reap();
}

void sched_yield(void)
{
    switch_to(pick());
}

void sched_block(uint64_t wake_tsc, thread_ready_fn ready, void *arg)
{
    current->state = THREAD_BLOCKED;
    current->wake_tsc = wake_tsc;
    current->ready = ready;
    current->ready_arg = arg;
    earliest_wake = MIN(earliest_wake, wake_tsc);
    switch_to(pick());
}

void sched_wake(struct thread *t, uint64_t tsc)
{
    if (t->state != THREAD_BLOCKED || tsc >= t->wake_tsc)
        return;
    t->wake_tsc = tsc;
    earliest_wake = MIN(earliest_wake, tsc);
}

bool sched_slice_expired(void)
{
    uint64_t now = rdtsc();
    return now - current->slice_start >= slice_tsc || now >= earliest_wake;
}

uint64_t sched_slice_end(void)
{
    return MIN(current->slice_start + slice_tsc, earliest_wake);
}

static const char *state_name(const struct thread *t)
{
    switch (t->state) {
    case THREAD_RUNNABLE: return t == current ? "running" : "runnable";
    case THREAD_BLOCKED: return "blocked";
    case THREAD_DONE: return "done";
    }
    return "?";
}

void sched_dump(void)
{
    uint64_t now = rdtsc();
    uint64_t khz = tsc_hz ? tsc_hz / 1000 : 1;
    kprintf("%-24s %-5s %-9s %12s %10s\n", "thread", "kind", "state", "run ms", "switches");
    struct thread *t = current;
    do {
        uint64_t run = t->run_tsc + (t == current ? now - t->slice_start : 0);
        kprintf("%-24s %-5s %-9s %12llu %10llu\n", t->name, t->kind == THREAD_VCPU ? "vcpu" : "vmm",
                state_name(t), (unsigned long long)(run / khz), (unsigned long long)t->switches);
        t = t->next;
    } while (t != current);
    const struct host_idle_stats *h = &host_idle_stats;
    kprintf("idle: %llu ms, %llu halts (timer: %s); wake-ups: %llu timer, %llu console, %llu spurious\n",
            (unsigned long long)(idle_tsc / khz), (unsigned long long)h->halts, host_timer_name(),
            (unsigned long long)h->timer_irqs, (unsigned long long)h->console_irqs,
            (unsigned long long)h->spurious_irqs);
}
