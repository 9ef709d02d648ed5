#include "lineedit.h"
#include "lib.h"

#define CH_CTRL_C   0x03
#define CH_BS       0x08
#define CH_LF       0x0A
#define CH_CR       0x0D
#define CH_CTRL_U   0x15
#define CH_ESC      0x1B
#define CH_DEL      0x7F
#define CH_BELL     "\a"

void le_init(struct lineedit *le, void (*echo)(void *, const char *, size_t), void *ctx)
{
    memset(le, 0, sizeof(*le));
    le->echo = echo;
    le->ctx = ctx;
}

static void out(struct lineedit *le, const char *s, size_t n)
{
    if (le->echo)
        le->echo(le->ctx, s, n);
}

enum le_result le_feed(struct lineedit *le, uint8_t c)
{
    bool after_cr = le->last_cr;
    le->last_cr = false;

    if (le->esc_state == 1) {           /* ESC seen: '[' or 'O' starts a sequence */
        le->esc_state = (c == '[' || c == 'O') ? 2 : 0;
        return LE_NONE;
    }
    if (le->esc_state == 2) {           /* CSI: parameters until a final byte 0x40-0x7E */
        if (c >= 0x40 && c <= 0x7E)
            le->esc_state = 0;
        return LE_NONE;
    }

    switch (c) {
    case CH_CR:
    case CH_LF:
        if (c == CH_LF && after_cr)
            return LE_NONE;
        le->last_cr = c == CH_CR;
        le->buf[le->len] = '\0';
        le->len = 0;
        out(le, "\r\n", 2);
        return LE_LINE;
    case CH_BS:
    case CH_DEL:
        if (le->len) {
            le->len--;
            out(le, "\b \b", 3);
        }
        return LE_NONE;
    case CH_CTRL_U:
        while (le->len) {
            le->len--;
            out(le, "\b \b", 3);
        }
        return LE_NONE;
    case CH_CTRL_C:
        le->len = 0;
        le->buf[0] = '\0';
        out(le, "^C\r\n", 4);
        return LE_CANCEL;
    case CH_ESC:
        le->esc_state = 1;
        return LE_NONE;
    default:
        if (c < 0x20 || c > 0x7E)
            return LE_NONE;             /* other control and non-ASCII bytes are dropped */
        if (le->len + 1 >= LINE_MAX) {
            out(le, CH_BELL, 1);
            return LE_NONE;
        }
        le->buf[le->len++] = (char)c;
        out(le, (const char *)&c, 1);
        return LE_NONE;
    }
}
