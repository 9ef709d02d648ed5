/* Freestanding library: formatting, strings, panic. */
#ifndef MV_LIB_H
#define MV_LIB_H
#include "compiler.h"

/* Formatting core (lib/format.c) is pure and shared with host tests. Supports
 * %d %i %u %x %X %o %p %s %c %% with flags '-', '0', '+', ' ', '#', width, precision
 * (also '*'), and length modifiers hh h l ll z t j. Returns the characters produced. */
typedef void (*fmt_sink_fn)(void *ctx, char c);
int kvformat(fmt_sink_fn sink, void *ctx, const char *fmt, va_list ap);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* Bounded string helpers that host libc does not have (lib/strutil.c, pure). */
size_t kstrlcpy(char *dst, const char *src, size_t size);
size_t kstrnlen(const char *s, size_t max);
/* Parses decimal or 0x-hex with optional K/M/G suffix; false on garbage or overflow. */
bool kparse_u64(const char *s, uint64_t *out);
/* Dotted-quad IPv4 ("10.0.2.2"): four decimal octets 0-255, no leading zeros; false otherwise. */
bool kparse_ipv4(const char *s, uint8_t out[4]);

/* lib/codec.c: base64 into out (NUL-terminated; returns its length, 0 if out is too small),
 * and CRC-32 as zlib computes it (start with crc = 0). */
size_t base64_encode(const void *src, size_t len, char *out, size_t outlen);
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#ifndef MONOVISOR_HOST_TEST
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
void *memchr(const void *s, int c, size_t n);

int kprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
int kvprintf(const char *fmt, va_list ap);
NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);
#define ASSERT(c) do { if (!(c)) panic("assertion failed: %s at %s:%d", #c, __FILE__, __LINE__); } while (0)
#else
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#define kprintf printf                  /* host tests see the messages on stdout */
#define ASSERT(c) do { if (!(c)) { fprintf(stderr, "assertion failed: %s at %s:%d\n", #c, __FILE__, __LINE__); abort(); } } while (0)
#endif
#endif
