/* The console focus: the operator's terminal talks to the monovisor shell or to one guest's
 * COM1, and Ctrl-] moves it along the running VMs and back to the shell. This loop owns the
 * keyboard side of the console; it feeds the shell or a VM, and neither knows the other. */
#include "console_focus.h"
#include "console.h"
#include "shell.h"
#include "lib.h"
#include "vm/vm.h"

#define CONSOLE_FOCUS_KEY 0x1D          /* Ctrl-] */

static struct vm *focus;                /* NULL: the shell */

static void set_focus(struct vm *vm)
{
    if (focus)
        focus->con_focused = false;
    focus = vm;
    if (vm) {
        vm->con_focused = true;
        kprintf("\n-- console: vm %s (COM1); Ctrl-] switches --\n", vm->cfg.name);
        vm_console_show(vm);
    } else {
        kprintf("\n-- console: monovisor shell; Ctrl-] switches --\n");
        shell_redraw();
    }
}

/* Ctrl-] moves the focus to the next running VM, after the last one back to the shell. */
static void focus_next(void)
{
    size_t i = 0;
    if (focus)
        while (i < nvms && vms[i] != focus)
            i++;
    for (i = focus ? i + 1 : 0; i < nvms; i++)
        if (vms[i]->state == VM_RUNNING)
            break;
    set_focus(i < nvms ? vms[i] : NULL);
}

/* On the ending VM's thread: the terminal goes back to the shell. */
static void focused_vm_ended(struct vm *vm)
{
    if (focus == vm)
        set_focus(NULL);
}

void console_focus_run(void)
{
    vm_thread_ended = focused_vm_ended;
    shell_start();
    for (;;) {
        int c = console_getc_wait();
        if (c == CONSOLE_FOCUS_KEY) {
            focus_next();
        } else if (!focus) {
            shell_feed((uint8_t)c);
        } else if (focus->state != VM_RUNNING) {
            kprintf("\n-- vm %s is %s --", focus->cfg.name, vm_state_name(focus->state));
            set_focus(NULL);
        } else {
            vm_console_input(focus, (uint8_t)c);
        }
    }
}
