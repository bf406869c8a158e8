#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cookie.h"

static void want_value(const char *header, const char *name, const char *want)
{
	char out[64];
	memset(out, 'Z', sizeof out);
	assert_true(cookie_find(header, name, out, sizeof out));
	assert_string_equal(out, want);
}

static void want_absent(const char *header, const char *name)
{
	char out[64];
	assert_false(cookie_find(header, name, out, sizeof out));
}

static void test_positions(void **state)
{
	(void)state;
	want_value("PHPSESSID=abc", "PHPSESSID", "abc");
	want_value("PHPSESSID=abc; a=1; b=2", "PHPSESSID", "abc");
	want_value("a=1; PHPSESSID=abc; b=2", "PHPSESSID", "abc");
	want_value("a=1; b=2; PHPSESSID=abc", "PHPSESSID", "abc");
	want_value("a=1; b=2", "a", "1");
	want_value("a=1; b=2", "b", "2");
}

static void test_absent(void **state)
{
	(void)state;
	want_absent("a=1; b=2", "PHPSESSID");
	want_absent("", "PHPSESSID");
	want_absent(";;; ;", "PHPSESSID");
	want_absent(NULL, "PHPSESSID");
}

static void test_names_exact(void **state)
{
	(void)state;
	want_absent("phpsessid=abc", "PHPSESSID");
	want_absent("PHPSESSIDX=abc", "PHPSESSID");
	want_absent("XPHPSESSID=abc", "PHPSESSID");
	want_absent("PHPSESS=abc", "PHPSESSID");
	want_absent("PHP SESSID=abc", "PHPSESSID");
	want_value("PHPSESSIDX=1; PHPSESSID=2", "PHPSESSID", "2");
}

static void test_trimming(void **state)
{
	(void)state;
	want_value("  a=1 ;  PHPSESSID =  abc  ; b=2", "PHPSESSID", "abc");
	want_value("\tPHPSESSID\t=\tabc\t", "PHPSESSID", "abc");
	want_value("a=1;PHPSESSID=abc;b=2", "PHPSESSID", "abc");
	want_value("x= one two ", "x", "one two");
}

static void test_last_wins(void **state)
{
	(void)state;
	want_value("PHPSESSID=first; PHPSESSID=second", "PHPSESSID", "second");
	want_value("PHPSESSID=a; x=1; PHPSESSID=b; y=2; PHPSESSID=c",
	           "PHPSESSID", "c");
	want_value("PHPSESSID=a; PHPSESSID=", "PHPSESSID", "");
}

static void test_quotes_removed(void **state)
{
	(void)state;
	want_value("PHPSESSID=\"abc\"", "PHPSESSID", "abc");
	want_value("PHPSESSID= \"abc\" ", "PHPSESSID", "abc");
	want_value("PHPSESSID=\"\"", "PHPSESSID", "");
	want_value("PHPSESSID=\"", "PHPSESSID", "\"");
	want_value("PHPSESSID=\"abc", "PHPSESSID", "\"abc");
	want_value("PHPSESSID=abc\"", "PHPSESSID", "abc\"");
	want_value("PHPSESSID=\"a b\"", "PHPSESSID", "a b");
}

static void test_values_with_equals(void **state)
{
	(void)state;
	want_value("tok=a=b==", "tok", "a=b==");
	want_value("a==1", "a", "=1");
}

static void test_empty_value(void **state)
{
	(void)state;
	want_value("PHPSESSID=", "PHPSESSID", "");
	want_value("PHPSESSID=; a=1", "PHPSESSID", "");
	want_value("PHPSESSID=   ", "PHPSESSID", "");
}

static void test_pairs_without_equals_skipped(void **state)
{
	(void)state;
	want_value("PHPSESSID; PHPSESSID=x", "PHPSESSID", "x");
	want_value("PHPSESSID=x; PHPSESSID", "PHPSESSID", "x");
	want_value("junk; a=1; ;", "a", "1");
	want_absent("PHPSESSID", "PHPSESSID");
}

static void test_trailing_separator(void **state)
{
	(void)state;
	want_value("a=1; PHPSESSID=abc;", "PHPSESSID", "abc");
	want_value("a=1; PHPSESSID=abc; ", "PHPSESSID", "abc");
}

static void test_empty_name(void **state)
{
	(void)state;
	want_value("=v; a=1", "", "v");
	want_absent("a=1", "");
}

static void test_size_limits(void **state)
{
	(void)state;
	char out[4];

	memset(out, 'Z', sizeof out);
	assert_true(cookie_find("k=abc", "k", out, sizeof out));
	assert_string_equal(out, "abc");

	assert_false(cookie_find("k=abcd", "k", out, sizeof out));
	/* The quotes do not count against the room. */
	assert_true(cookie_find("k=\"abc\"", "k", out, sizeof out));
	assert_string_equal(out, "abc");

	assert_false(cookie_find("k=a", "k", out, 0));
	assert_true(cookie_find("k=", "k", out, 1));
	assert_string_equal(out, "");
	assert_false(cookie_find("k=a", "k", out, 1));
}

static void test_last_too_long_is_absent(void **state)
{
	(void)state;
	char out[4];
	/* The last occurrence is the cookie; a fitting earlier one is stale. */
	assert_false(cookie_find("k=ok; k=toolong", "k", out, sizeof out));
	assert_true(cookie_find("k=toolong; k=ok", "k", out, sizeof out));
	assert_string_equal(out, "ok");
}

static void test_long_header(void **state)
{
	(void)state;
	static char header[20000];
	size_t n = 0;
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(header + n, sizeof header - n,
		                      "c%d=v%d; ", i, i);
	snprintf(header + n, sizeof header - n, "PHPSESSID=end");
	want_value(header, "PHPSESSID", "end");
	want_value(header, "c999", "v999");
	want_value(header, "c0", "v0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_names_exact),
		cmocka_unit_test(test_trimming),
		cmocka_unit_test(test_last_wins),
		cmocka_unit_test(test_quotes_removed),
		cmocka_unit_test(test_values_with_equals),
		cmocka_unit_test(test_empty_value),
		cmocka_unit_test(test_pairs_without_equals_skipped),
		cmocka_unit_test(test_trailing_separator),
		cmocka_unit_test(test_empty_name),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_last_too_long_is_absent),
		cmocka_unit_test(test_long_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
