#include "test.h"
#include "kernel/lineedit.h"
#include "kernel/shell.h"

static char screen[4096];
static size_t scr_len;
static void echo(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    memcpy(screen + scr_len, s, n);
    scr_len += n;
    screen[scr_len] = 0;
}

static struct lineedit le;
static enum le_result feed(const char *s)
{
    enum le_result r = LE_NONE;
    for (; *s; s++)
        r = le_feed(&le, (uint8_t)*s);
    return r;
}

TEST(typing_and_enter)
{
    le_init(&le, echo, NULL);
    scr_len = 0;
    CHECK_EQ(feed("help"), LE_NONE);
    CHECK_EQ(feed("\r"), LE_LINE);
    CHECK_STR(le.buf, "help");
    CHECK_STR(screen, "help\r\n");
}

TEST(backspace_and_delete)
{
    le_init(&le, echo, NULL);
    scr_len = 0;
    CHECK_EQ(feed("hex\x7fl\x08lp\r"), LE_LINE);
    CHECK_STR(le.buf, "help");
    CHECK_STR(screen, "hex\b \bl\b \blp\r\n");
    scr_len = 0;
    CHECK_EQ(feed("\x08\x08x\r"), LE_LINE);       /* backspace on empty line: nothing */
    CHECK_STR(le.buf, "x");
    CHECK_STR(screen, "x\r\n");
}

TEST(crlf_is_one_line_and_lf_alone_works)
{
    le_init(&le, echo, NULL);
    CHECK_EQ(feed("a\r"), LE_LINE);
    CHECK_EQ(le_feed(&le, '\n'), LE_NONE);       /* LF of the CRLF pair swallowed */
    CHECK_EQ(feed("b\n"), LE_LINE);
    CHECK_STR(le.buf, "b");
    CHECK_EQ(le_feed(&le, '\n'), LE_LINE);       /* a second LF is an empty line */
    CHECK_STR(le.buf, "");
}

TEST(ctrl_u_ctrl_c_and_escape_sequences)
{
    le_init(&le, echo, NULL);
    CHECK_EQ(feed("garbage\x15mem\r"), LE_LINE);
    CHECK_STR(le.buf, "mem");
    CHECK_EQ(feed("oops\x03"), LE_CANCEL);
    CHECK_EQ(feed("\x1b[A\x1b[1;5Cinfo\x1bOB\r"), LE_LINE);     /* arrows dropped */
    CHECK_STR(le.buf, "info");
    CHECK_EQ(feed("\x01\x02\xff" "x\r"), LE_LINE);               /* other control bytes dropped */
    CHECK_STR(le.buf, "x");
}

TEST(overlong_line_rings_and_keeps_prefix)
{
    le_init(&le, echo, NULL);
    scr_len = 0;
    for (int i = 0; i < LINE_MAX + 50; i++)
        le_feed(&le, 'a');
    CHECK(strchr(screen, '\a') != NULL);
    CHECK_EQ(le_feed(&le, '\r'), LE_LINE);
    CHECK_EQ(strlen(le.buf), LINE_MAX - 1);
}

TEST(shell_split_words)
{
    char line[] = "  vm   start\tlinux0  ";
    char *argv[4];
    CHECK_EQ(shell_split(line, argv, 4), 3);
    CHECK_STR(argv[0], "vm");
    CHECK_STR(argv[1], "start");
    CHECK_STR(argv[2], "linux0");
    char empty[] = " \t ";
    CHECK_EQ(shell_split(empty, argv, 4), 0);
    char many[] = "a b c d e";
    CHECK_EQ(shell_split(many, argv, 4), -1);
    char exact[] = "a b c d";
    CHECK_EQ(shell_split(exact, argv, 4), 4);
}
