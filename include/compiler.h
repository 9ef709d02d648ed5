#ifndef MV_COMPILER_H
#define MV_COMPILER_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>

#define ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))
#define PACKED          __attribute__((packed))
#define NORETURN        __attribute__((noreturn))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define UNUSED          __attribute__((unused))
#define USED            __attribute__((used))
#define SECTION(s)      __attribute__((section(s)))
#define ALIGNED(n)      __attribute__((aligned(n)))
#define MIN(a, b)       ((a) < (b) ? (a) : (b))
#define MAX(a, b)       ((a) > (b) ? (a) : (b))
#define BIT(n)          (1ull << (n))
#define STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif
