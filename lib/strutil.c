/* Bounded string helpers used by parsers of untrusted input (pure, host-tested). */
#include "lib.h"

size_t kstrnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

size_t kstrlcpy(char *dst, const char *src, size_t size)
{
    size_t n = 0;
    while (src[n])
        n++;
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        for (size_t i = 0; i < c; i++)
            dst[i] = src[i];
        dst[c] = '\0';
    }
    return n;
}

bool kparse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0, base = 10;
    if (!s || !*s)
        return false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!*s)
            return false;
    }
    bool any = false;
    for (; *s; s++) {
        unsigned d;
        char c = *s;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else break;
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
        any = true;
    }
    if (!any)
        return false;
    unsigned shift = 0;
    if (*s == 'K' || *s == 'k') shift = 10;
    else if (*s == 'M' || *s == 'm') shift = 20;
    else if (*s == 'G' || *s == 'g') shift = 30;
    else if (*s) return false;
    if (shift) {
        if (s[1] || v > (UINT64_MAX >> shift))
            return false;
        v <<= shift;
    }
    *out = v;
    return true;
}

bool kparse_ipv4(const char *s, uint8_t out[4])
{
    if (!s)
        return false;
    for (unsigned i = 0; i < 4; i++) {
        unsigned v = 0, digits = 0;
        const char *start = s;
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            v = v * 10 + (unsigned)(*s - '0');
            if (v > 255 || digits >= 3)
                return false;
        }
        if (!digits || (digits > 1 && *start == '0'))
            return false;               /* empty, or a leading zero (read as octal elsewhere) */
        out[i] = (uint8_t)v;
        if (i < 3 && *s++ != '.')
            return false;
    }
    return *s == '\0';
}
