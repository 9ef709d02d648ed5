#include "reset.h"
#include "cpu.h"
#include "desc.h"
#include "lib.h"
#include "kernel/console.h"

#define PORT_RESET_CONTROL  0xCF9       /* PIIX/ICH reset control register */
#define RCR_SYS_RST         0x02
#define RCR_RST_CPU         0x04
#define PORT_KBC_STATUS     0x64
#define PORT_KBC_CMD        0x64
#define KBC_STATUS_IBF      0x02
#define KBC_CMD_PULSE_RESET 0xFE
#define KBC_WAIT_SPINS      100000

void machine_reboot(const char *why)
{
    kprintf("monovisor: rebooting the machine: %s\n", why);
    console_flush();
    cli();
    outb(PORT_RESET_CONTROL, RCR_SYS_RST);
    io_wait();
    outb(PORT_RESET_CONTROL, RCR_SYS_RST | RCR_RST_CPU);
    for (int i = 0; i < 1000; i++)
        io_wait();

    for (int i = 0; i < KBC_WAIT_SPINS && (inb(PORT_KBC_STATUS) & KBC_STATUS_IBF); i++)
        pause();
    outb(PORT_KBC_CMD, KBC_CMD_PULSE_RESET);
    for (int i = 0; i < 1000; i++)
        io_wait();

    /* Last resort: an exception with no IDT escalates to a triple fault, which resets. */
    static const struct desc_ptr no_idt = { 0, 0 };
    __asm__ volatile("lidt %0; int3" :: "m"(no_idt));
    cpu_halt_forever();
}
