#include "hosttimer.h"
#include "cpu.h"
#include "cpuinfo.h"
#include "exception.h"
#include "lapic_host.h"
#include "platform.h"
#include "serial.h"
#include "tsc.h"
#include "dev/i8254.h"                  /* ports and rate: the same chip */
#include "lib.h"
#include "kernel/console.h"

#define PIT_SEL_CH0         0x00
#define PIT_ACCESS_LOHI     0x30
#define PIT_MODE0           0x00        /* interrupt on terminal count: a one-shot */
#define PIT_MAX_COUNT       0xFFFFu
#define LAPIC_CALIB_MS      10
#define FIXED_SHIFT         32          /* timer ticks per TSC cycle, 32.32 fixed point */

enum timer_kind { TIMER_NONE, TIMER_TSC_DEADLINE, TIMER_LAPIC_ONESHOT, TIMER_PIT };
static enum timer_kind kind;
static uint64_t ticks_per_tsc;          /* LAPIC/PIT ticks per TSC cycle, fixed point */
static uint64_t poll_tsc;
struct host_idle_stats host_idle_stats;

const char *host_timer_name(void)
{
    switch (kind) {
    case TIMER_TSC_DEADLINE: return "LAPIC TSC-deadline";
    case TIMER_LAPIC_ONESHOT: return "LAPIC one-shot";
    case TIMER_PIT: return "8254 channel 0 one-shot";
    case TIMER_NONE: break;
    }
    return "none (idle spins)";
}

static void on_lapic_timer(struct exc_frame *f)
{
    (void)f;
    host_idle_stats.timer_irqs++;
    host_lapic_eoi();
}

static void on_lapic_spurious(struct exc_frame *f)
{
    (void)f;
    host_idle_stats.spurious_irqs++;    /* no EOI for the LAPIC's spurious vector */
}

static void on_pit(struct exc_frame *f)
{
    (void)f;
    host_idle_stats.timer_irqs++;
    host_pic_eoi(HOST_IRQ_PIT);
}

static void on_com1(struct exc_frame *f)
{
    (void)f;
    if (console_irq())
        host_idle_stats.console_irqs++;
    host_pic_eoi(HOST_IRQ_COM1);
}

/* IRQ 7 and 15 with nothing else on them: a chip's spurious request, or a real one to end. */
static void spurious_or_eoi(unsigned irq)
{
    if (host_pic_spurious(irq))
        host_idle_stats.spurious_irqs++;
    else
        host_pic_eoi(irq);
}

static void on_pic_irq7(struct exc_frame *f)
{
    (void)f;
    spurious_or_eoi(HOST_IRQ_SPURIOUS);
}

static void on_pic_irq15(struct exc_frame *f)
{
    (void)f;
    spurious_or_eoi(HOST_IRQ_SLAVE_SPURIOUS);
}

static uint64_t to_fixed(uint32_t ticks, uint64_t tsc)
{
    return tsc ? ((uint64_t)ticks << FIXED_SHIFT) / tsc : 0;     /* ticks < 2^32: no overflow */
}

static uint64_t ticks_for(uint64_t delta_tsc)
{
    return (uint64_t)(((unsigned __int128)delta_tsc * ticks_per_tsc) >> FIXED_SHIFT);
}

/* The LAPIC timer's rate is the bus or crystal clock, which CPUID may not state: count it
 * against the TSC. */
static bool calibrate_lapic_timer(void)
{
    host_lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV1);
    host_lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONESHOT | HOST_TIMER_VECTOR);
    host_lapic_write(LAPIC_TIMER_ICR, UINT32_MAX);
    uint64_t t0 = rdtsc(), want = tsc_hz / 1000 * LAPIC_CALIB_MS;
    while (rdtsc() - t0 < want)
        pause();
    uint32_t left = host_lapic_read(LAPIC_TIMER_CCR);
    uint64_t t1 = rdtsc();
    host_lapic_write(LAPIC_TIMER_ICR, 0);
    ticks_per_tsc = to_fixed(UINT32_MAX - left, t1 - t0);
    return ticks_per_tsc != 0;
}

static void pick_timer(void)
{
    if (!tsc_hz)
        return;                         /* no time base: nothing to convert deadlines with */
    if (host_lapic_init(HOST_SPURIOUS_VECTOR)) {
        irq_set_handler(HOST_TIMER_VECTOR, on_lapic_timer);
        irq_set_handler(HOST_SPURIOUS_VECTOR, on_lapic_spurious);
        if (boot_cpu.leaf1_ecx & CPUID1_ECX_TSC_DEADLINE) {
            host_lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | HOST_TIMER_VECTOR);
            kind = TIMER_TSC_DEADLINE;
            return;
        }
        if (calibrate_lapic_timer()) {
            host_lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_ONESHOT | HOST_TIMER_VECTOR);
            kind = TIMER_LAPIC_ONESHOT;
            return;
        }
    }
    ticks_per_tsc = to_fixed(PIT_HZ, tsc_hz);
    irq_set_handler(HOST_PIC_VECTOR_BASE + HOST_IRQ_PIT, on_pit);
    host_pic_unmask(HOST_IRQ_PIT);
    kind = TIMER_PIT;
}

void host_timer_init(void)
{
    irq_set_handler(HOST_PIC_VECTOR_BASE + HOST_IRQ_SPURIOUS, on_pic_irq7);
    irq_set_handler(HOST_PIC_VECTOR_BASE + HOST_IRQ_SLAVE_SPURIOUS, on_pic_irq15);
    pick_timer();
    poll_tsc = tsc_hz / 1000 * HOST_IDLE_POLL_MS;
    if (com1.present) {
        irq_set_handler(HOST_PIC_VECTOR_BASE + HOST_IRQ_COM1, on_com1);
        console_enable_irqs();
        host_pic_unmask(HOST_IRQ_COM1);
    }
}

void host_timer_arm(uint64_t tsc)
{
    switch (kind) {
    case TIMER_TSC_DEADLINE:
        /* 0 disarms; a deadline already past fires at once, as wanted. */
        wrmsr(MSR_IA32_TSC_DEADLINE, tsc == UINT64_MAX ? 0 : tsc);
        break;
    case TIMER_LAPIC_ONESHOT: {
        /* An initial count of 0 stops the timer; a due deadline gets the shortest count. */
        uint64_t now = rdtsc();
        uint64_t t = tsc == UINT64_MAX ? 0 : tsc > now ? MAX(ticks_for(tsc - now), 1) : 1;
        host_lapic_write(LAPIC_TIMER_ICR, (uint32_t)MIN(t, UINT32_MAX));
        break;
    }
    case TIMER_PIT: {
        if (tsc == UINT64_MAX)
            break;                      /* a mode-0 count just ends; a stray IRQ is harmless */
        uint64_t now = rdtsc();
        uint64_t t = tsc > now ? ticks_for(tsc - now) : 1;
        t = MIN(MAX(t, 1), PIT_MAX_COUNT);
        outb(I8254_PORT_CMD, PIT_SEL_CH0 | PIT_ACCESS_LOHI | PIT_MODE0);
        outb(I8254_PORT_CH0, t & 0xFF);
        outb(I8254_PORT_CH0, t >> 8);
        break;
    }
    case TIMER_NONE:
        break;
    }
}

void host_idle(uint64_t wake_tsc)
{
    if (kind == TIMER_NONE) {
        pause();
        return;
    }
    uint64_t now = rdtsc();
    if (wake_tsc <= now)
        return;
    host_timer_arm(MIN(wake_tsc, now + poll_tsc));
    host_idle_stats.halts++;
    /* STI's one-instruction shadow makes "sti; hlt" atomic: an interrupt that is already
     * pending wakes the HLT instead of slipping in before it. */
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}
