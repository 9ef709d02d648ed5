/* Minimal host unit-test harness: TEST() registers a case; CHECK* record failures and
 * continue; each case prints "PASS name" or "FAIL name", then a summary line. */
#ifndef MV_TEST_H
#define MV_TEST_H
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdbool.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
extern int test_failed_checks;

#define TEST(name) \
    static void test_##name(void); \
    __attribute__((constructor)) static void reg_##name(void) { test_register(#name, test_##name); } \
    static void test_##name(void)

#define CHECK(c) do { if (!(c)) { test_failed_checks++; \
    fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); } } while (0)
#define CHECK_EQ(a, b) do { unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b); \
    if (_a != _b) { test_failed_checks++; fprintf(stderr, "  %s:%d: %s == %#llx, expected %s == %#llx\n", \
    __FILE__, __LINE__, #a, _a, #b, _b); } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); if (strcmp(_a, _b)) { test_failed_checks++; \
    fprintf(stderr, "  %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, _a, _b); } } while (0)
#endif
