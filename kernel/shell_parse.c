#include "shell.h"

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

int shell_split(char *line, char **argv, int max)
{
    int argc = 0;
    char *p = line;
    for (;;) {
        while (is_blank(*p))
            p++;
        if (!*p)
            return argc;
        if (argc == max)
            return -1;
        argv[argc++] = p;
        while (*p && !is_blank(*p))
            p++;
        if (*p)
            *p++ = '\0';
    }
}
