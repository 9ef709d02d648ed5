#ifndef MV_CONSOLE_FOCUS_H
#define MV_CONSOLE_FOCUS_H
#include "compiler.h"
/* Reads the console for ever, giving each byte to the shell or the focused guest. */
NORETURN void console_focus_run(void);
#endif
