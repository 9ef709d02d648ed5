/* The serial command shell. Subsystems add commands next to their own code with
 * SHELL_COMMAND; the linker gathers them into one table. */
#ifndef MV_SHELL_H
#define MV_SHELL_H
#include "compiler.h"

#define SHELL_MAX_ARGS 16
#define SHELL_PROMPT "monovisor> "

struct shell_cmd {
    const char *name;
    const char *args;       /* usage of the arguments, "" if none */
    const char *help;
    int (*fn)(int argc, char **argv);
};

#define SHELL_COMMAND(id, name_, args_, help_, fn_) \
    static const struct shell_cmd shell_cmd_##id USED SECTION(".shell_cmds") ALIGNED(8) = \
        { name_, args_, help_, fn_ }

/* Splits line in place on blanks into at most max args; returns argc, or -1 if there were
 * more words than max. Quotes are not special: commands take simple words. */
int shell_split(char *line, char **argv, int max);

#ifndef MONOVISOR_HOST_TEST
/* Prints the first prompt. */
void shell_start(void);
/* One byte typed at the shell (console_focus.c decides what is the shell's). */
void shell_feed(uint8_t c);
int shell_execute(char *line);
/* Prints the prompt and the line being edited again, after other output. */
void shell_redraw(void);
#endif
#endif
