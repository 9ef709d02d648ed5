#include "shell.h"
#include "lineedit.h"
#include "console.h"
#include "lib.h"

extern const struct shell_cmd __shell_cmds_start[], __shell_cmds_end[];

static const struct shell_cmd *find(const char *name)
{
    for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

int shell_execute(char *line)
{
    char *argv[SHELL_MAX_ARGS];
    int argc = shell_split(line, argv, SHELL_MAX_ARGS);
    if (argc < 0) {
        kprintf("error: too many arguments (at most %d)\n", SHELL_MAX_ARGS - 1);
        return -1;
    }
    if (argc == 0)
        return 0;
    const struct shell_cmd *c = find(argv[0]);
    if (!c) {
        kprintf("error: unknown command '%s' (try 'help')\n", argv[0]);
        return -1;
    }
    return c->fn(argc, argv);
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    kprintf("commands:\n");
    for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++) {
        char usage[48];
        ksnprintf(usage, sizeof(usage), "%s %s", c->name, c->args);
        kprintf("  %-24s %s\n", usage, c->help);
    }
    return 0;
}
SHELL_COMMAND(help, "help", "", "list commands", cmd_help);

static void echo(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    console_write(s, n);
}

static struct lineedit le;

void shell_redraw(void)
{
    kprintf("%s%.*s", SHELL_PROMPT, (int)le.len, le.buf);
}

void shell_start(void)
{
    le_init(&le, echo, NULL);
    kprintf("%s", SHELL_PROMPT);
}

void shell_feed(uint8_t c)
{
    enum le_result r = le_feed(&le, c);
    if (r == LE_NONE)
        return;
    if (r == LE_LINE)
        shell_execute(le.buf);
    kprintf("%s", SHELL_PROMPT);
}
