/* Test reporting. Every sub-test prints exactly one line:
 *     TEST <name> PASS
 *     TEST <name> FAIL: <reason>
 *     TEST <name> SKIP: <reason>        (a feature the CPU does not have; not counted)
 * and the guest ends with "SUMMARY <guest>: N passed, M failed", then exits through the
 * isa-debug-exit port 0xf4 with 0 (all passed) or 1.
 *
 * A sub-test is a function run by run_test(); it reports with test_pass(), test_fail() or
 * test_skip(), or with CHECK(), which fails the test and returns on a false condition. */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H
#include "types.h"
#include "console.h"

extern const char guest_name[];         /* defined by each guest */
extern const char *current_test;        /* name of the running sub-test (or NULL) */

void run_test(const char *name, void (*fn)(void));
void test_pass(void);
void test_fail(const char *fmt, ...) PRINTF(1, 2);
void test_skip(const char *fmt, ...) PRINTF(1, 2);
/* Report a sub-test outside run_test(). */
void report(const char *name, bool ok, const char *fmt, ...) PRINTF(3, 4);
void test_counts(u32 *passed, u32 *failed);
void test_set_counts(u32 passed, u32 failed);
NORETURN void test_summary_exit(void);
NORETURN void guest_exit(u32 code);     /* flush COM1, outl(0xf4, code), cli; hlt forever */

#define CHECK(cond, ...)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			test_fail(__VA_ARGS__);                                           \
			return;                                                           \
		}                                                                         \
	} while (0)

#endif
