#include "debug_exit.h"

void debug_exit_init(struct debug_exit *d, void (*exit)(void *, uint32_t, uint16_t), void *ctx)
{
    *d = (struct debug_exit){ .exit = exit, .ctx = ctx };
}

static void debug_exit_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct debug_exit *d = dev;
    if (d->exit)
        d->exit(d->ctx, val, port);
}

static const struct ioport_ops debug_exit_ops = { .name = "debug-exit", .in = NULL, .out = debug_exit_out };

bool debug_exit_attach(struct ioport_table *io, struct debug_exit *d)
{
    return ioport_register(io, DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE, &debug_exit_ops, d);
}
