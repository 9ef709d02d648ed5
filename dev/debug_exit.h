/* isa-debug-exit compatible exit port: a guest write ends its VM with that code. */
#ifndef MV_DEBUG_EXIT_H
#define MV_DEBUG_EXIT_H
#include "compiler.h"
#include "dev/ioport.h"
#define DEBUG_EXIT_PORT 0xF4
#define DEBUG_EXIT_SIZE 4

struct debug_exit {
    void (*exit)(void *ctx, uint32_t code, uint16_t port);
    void *ctx;
};

void debug_exit_init(struct debug_exit *d, void (*exit)(void *, uint32_t, uint16_t), void *ctx);
bool debug_exit_attach(struct ioport_table *io, struct debug_exit *d);
#endif
