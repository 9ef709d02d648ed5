/* isa-debug-exit compatible exit port: a guest write ends its VM with that code. */
#ifndef MV_DEBUG_EXIT_H
#define MV_DEBUG_EXIT_H
#include "compiler.h"
struct vm;
#define DEBUG_EXIT_PORT 0xF4
#define DEBUG_EXIT_SIZE 4
bool debug_exit_attach(struct vm *vm);
#endif
