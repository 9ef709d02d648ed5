/* Serial line editor: printable input, backspace/DEL, Ctrl-U (kill line), Ctrl-C (cancel),
 * CR/LF/CRLF as end of line, ANSI escape sequences (arrow keys) swallowed. Pure: output
 * (echo) goes through a callback so host tests can check exactly what a terminal sees. */
#ifndef MV_LINEEDIT_H
#define MV_LINEEDIT_H
#include "compiler.h"

#define LINE_MAX 256

enum le_result { LE_NONE, LE_LINE, LE_CANCEL };

struct lineedit {
    char buf[LINE_MAX];
    size_t len;
    int esc_state;          /* 0 none, 1 after ESC, 2 inside CSI */
    bool last_cr;           /* swallow the LF of a CRLF pair */
    void (*echo)(void *ctx, const char *s, size_t n);
    void *ctx;
};

void le_init(struct lineedit *le, void (*echo)(void *, const char *, size_t), void *ctx);
/* Feeds one input byte. On LE_LINE, le->buf holds the NUL-terminated line (until the next
 * call to le_feed). */
enum le_result le_feed(struct lineedit *le, uint8_t c);
#endif
