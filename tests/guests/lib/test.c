/* Test reporting and the isa-debug-exit exit path (32-bit and 64-bit). */
#include "test.h"
#include "x86.h"

const char *current_test;
static u32 n_pass, n_fail;
static bool reported;           /* the current sub-test has printed its verdict */

#define DEBUG_EXIT_PORT 0xf4

static void verdict(const char *name, const char *word, const char *fmt, va_list ap)
{
	printf("TEST %s %s", name ? name : "?", word);
	if (fmt) {
		puts_raw(": ");
		vprintf(fmt, ap);
	}
	serial_putc('\n');
}

void run_test(const char *name, void (*fn)(void))
{
	current_test = name;
	reported = false;
	fn();
	if (!reported)
		test_fail("the test reported no verdict");
	current_test = NULL;
}

void test_pass(void)
{
	if (reported)
		return;
	reported = true;
	n_pass++;
	printf("TEST %s PASS\n", current_test);
}

void test_fail(const char *fmt, ...)
{
	va_list ap;
	if (reported)
		return;
	reported = true;
	n_fail++;
	va_start(ap, fmt);
	verdict(current_test, "FAIL", fmt, ap);
	va_end(ap);
}

void test_skip(const char *fmt, ...)
{
	va_list ap;
	if (reported)
		return;
	reported = true;
	va_start(ap, fmt);
	verdict(current_test, "SKIP", fmt, ap);
	va_end(ap);
}

void report(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;
	if (ok) {
		n_pass++;
		printf("TEST %s PASS\n", name);
		return;
	}
	n_fail++;
	va_start(ap, fmt);
	verdict(name, "FAIL", fmt, ap);
	va_end(ap);
}

void test_counts(u32 *passed, u32 *failed)
{
	*passed = n_pass;
	*failed = n_fail;
}

void test_set_counts(u32 passed, u32 failed)
{
	n_pass = passed;
	n_fail = failed;
}

void test_summary_exit(void)
{
	printf("SUMMARY %s: %u passed, %u failed\n", guest_name, n_pass, n_fail);
	guest_exit(n_fail || !n_pass ? 1 : 0);
}

void guest_exit(u32 code)
{
	serial_flush();                 /* the last line must not be lost in the UART */
	outl(DEBUG_EXIT_PORT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}
