#include "debug_exit.h"
#include "vm/vm.h"

static void debug_exit_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct vm *vm = dev;
    vm->exit_code = (int)val;
    vm_stop(vm, VM_STOPPED, "exited with code %u (port %#x)", val, port);
}

static const struct ioport_ops debug_exit_ops = { .name = "debug-exit", .in = NULL, .out = debug_exit_out };

bool debug_exit_attach(struct vm *vm)
{
    return ioport_register(&vm->io, DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE, &debug_exit_ops, vm);
}
