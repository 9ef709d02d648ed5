/* printf-style formatting: one pure core that writes through a sink, so the console,
 * string buffers and host tests all share it. No floating point (the VMM has no FPU use). */
#include "lib.h"

struct spec {
    bool left, zero, plus, space, alt;
    int width, prec;        /* prec < 0: none */
    int len;                /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t */
};

static int emit(fmt_sink_fn sink, void *ctx, char c, int n)
{
    for (int i = 0; i < n; i++)
        sink(ctx, c);
    return n > 0 ? n : 0;
}

static int format_number(fmt_sink_fn sink, void *ctx, const struct spec *sp,
                         uint64_t v, bool negative, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int nd = 0;
    do {
        tmp[nd++] = digits[v % base];
        v /= base;
    } while (v);
    if (sp->prec == 0 && nd == 1 && tmp[0] == '0')
        nd = 0;                                 /* "%.0d" of 0 prints nothing */

    char prefix[3];
    int np = 0;
    if (negative)
        prefix[np++] = '-';
    else if (sp->plus)
        prefix[np++] = '+';
    else if (sp->space)
        prefix[np++] = ' ';
    if (sp->alt && base == 16 && (nd > 1 || tmp[0] != '0')) {
        prefix[np++] = '0';
        prefix[np++] = upper ? 'X' : 'x';
    } else if (sp->alt && base == 8 && (nd == 0 || tmp[nd - 1] != '0')) {
        prefix[np++] = '0';
    }

    int zeros = sp->prec > nd ? sp->prec - nd : 0;
    int body = np + zeros + nd;
    int pad = sp->width > body ? sp->width - body : 0;
    int out = 0;
    if (!sp->left && !(sp->zero && sp->prec < 0))
        out += emit(sink, ctx, ' ', pad);
    for (int i = 0; i < np; i++, out++)
        sink(ctx, prefix[i]);
    if (!sp->left && sp->zero && sp->prec < 0)
        out += emit(sink, ctx, '0', pad);
    out += emit(sink, ctx, '0', zeros);
    while (nd)
        sink(ctx, tmp[--nd]), out++;
    if (sp->left)
        out += emit(sink, ctx, ' ', pad);
    return out;
}

int kvformat(fmt_sink_fn sink, void *ctx, const char *fmt, va_list ap)
{
    int out = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            sink(ctx, *fmt);
            out++;
            continue;
        }
        struct spec sp = { .prec = -1 };
        for (;;) {
            char f = *++fmt;
            if (f == '-') sp.left = true;
            else if (f == '0') sp.zero = true;
            else if (f == '+') sp.plus = true;
            else if (f == ' ') sp.space = true;
            else if (f == '#') sp.alt = true;
            else break;
        }
        if (*fmt == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                sp.width = sp.width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            sp.prec = 0;
            if (*fmt == '*') {
                sp.prec = va_arg(ap, int);
                if (sp.prec < 0)
                    sp.prec = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    sp.prec = sp.prec * 10 + (*fmt++ - '0');
            }
        }
        switch (*fmt) {
        case 'h': sp.len = -1; if (fmt[1] == 'h') { sp.len = -2; fmt++; } fmt++; break;
        case 'l': sp.len = 1; if (fmt[1] == 'l') { sp.len = 2; fmt++; } fmt++; break;
        case 'z': case 't': case 'j': sp.len = 3; fmt++; break;
        default: break;
        }

        char c = *fmt;
        switch (c) {
        case 'd': case 'i': {
            int64_t v;
            if (sp.len == 2) v = va_arg(ap, long long);
            else if (sp.len == 1 || sp.len == 3) v = va_arg(ap, long);
            else v = va_arg(ap, int);
            if (sp.len == -1) v = (short)v;
            if (sp.len == -2) v = (signed char)v;
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            out += format_number(sink, ctx, &sp, mag, v < 0, 10, false);
            break;
        }
        case 'u': case 'x': case 'X': case 'o': {
            uint64_t v;
            if (sp.len == 2) v = va_arg(ap, unsigned long long);
            else if (sp.len == 1 || sp.len == 3) v = va_arg(ap, unsigned long);
            else v = va_arg(ap, unsigned int);
            if (sp.len == -1) v = (unsigned short)v;
            if (sp.len == -2) v = (unsigned char)v;
            unsigned base = c == 'u' ? 10 : c == 'o' ? 8 : 16;
            sp.plus = sp.space = false;
            out += format_number(sink, ctx, &sp, v, false, base, c == 'X');
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            sp.alt = true;
            out += format_number(sink, ctx, &sp, v, false, 16, false);
            break;
        }
        case 'c': {
            char ch = (char)va_arg(ap, int);
            int pad = sp.width > 1 ? sp.width - 1 : 0;
            if (!sp.left) out += emit(sink, ctx, ' ', pad);
            sink(ctx, ch);
            out++;
            if (sp.left) out += emit(sink, ctx, ' ', pad);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int n = 0;
            while (s[n] && (sp.prec < 0 || n < sp.prec))
                n++;
            int pad = sp.width > n ? sp.width - n : 0;
            if (!sp.left) out += emit(sink, ctx, ' ', pad);
            for (int i = 0; i < n; i++)
                sink(ctx, s[i]);
            out += n;
            if (sp.left) out += emit(sink, ctx, ' ', pad);
            break;
        }
        case '%':
            sink(ctx, '%');
            out++;
            break;
        case '\0':
            return out;                 /* lone '%' at the end: stop, don't read past */
        default:                        /* unknown conversion: print it verbatim */
            sink(ctx, '%');
            sink(ctx, c);
            out += 2;
            break;
        }
    }
    return out;
}

struct bufsink {
    char *buf;
    size_t size, pos;
};

static void buf_put(void *ctx, char c)
{
    struct bufsink *b = ctx;
    if (b->pos + 1 < b->size)
        b->buf[b->pos] = c;
    b->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct bufsink b = { buf, size, 0 };
    int n = kvformat(buf_put, &b, fmt, ap);
    if (size)
        buf[b.pos < size ? b.pos : size - 1] = '\0';
    return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
