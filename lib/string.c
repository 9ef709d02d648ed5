/* The mem and str primitives the compiler may call in a freestanding image. */
#include "lib.h"

/* REP STOS/MOVS a word at a time, then the odd bytes. On hardware with fast strings REP STOSB
 * would do as well, but an emulator without repeat speed-ups (Debian's Bochs) runs one
 * iteration per instruction: zeroing 4 KiB took 4107 cycles byte-wise there, 516 word-wise,
 * and a shadow page table is zeroed on every fill after a flush, guest RAM when a VM starts. */
#ifdef __x86_64__
#define STOS_W "rep stosq"
#define MOVS_W "rep movsq"
#else
#define STOS_W "rep stosl"
#define MOVS_W "rep movsl"
#endif
#define WORD_BYTES sizeof(unsigned long)

void *memset(void *d, int c, size_t n)
{
    void *p = d;
    size_t words = n / WORD_BYTES, bytes = n % WORD_BYTES;
    unsigned long v = (unsigned long)(uint8_t)c * (~0ul / 0xFF);       /* c in every byte */
    __asm__ volatile(STOS_W "\n\t"
                     "mov %3, %1\n\t"
                     "rep stosb"
                     : "+D"(p), "+c"(words) : "a"(v), "r"(bytes) : "memory");
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    void *dp = d;
    size_t words = n / WORD_BYTES, bytes = n % WORD_BYTES;
    __asm__ volatile(MOVS_W "\n\t"
                     "mov %3, %1\n\t"
                     "rep movsb"
                     : "+D"(dp), "+c"(words), "+S"(s) : "r"(bytes) : "memory");
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    if (dp < sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n--)
        dp[n] = sp[n];
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (; *s; s++)
        if (*s == (char)c)
            return (char *)s;
    return c ? NULL : (char *)s;
}

void *memchr(const void *s, int c, size_t n)
{
    const uint8_t *p = s;
    for (; n; n--, p++)
        if (*p == (uint8_t)c)
            return (void *)p;
    return NULL;
}
