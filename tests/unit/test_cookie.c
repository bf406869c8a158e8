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
	want_absent("a=1", NULL);
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
	/* Names are not decoded. */
	want_value("%50HPSESSID=x; PHPSESSID=y", "PHPSESSID", "y");
	want_value("%50HPSESSID=x; PHPSESSID=y", "%50HPSESSID", "x");
}

/* PHP stores ' ' and '.' of a name as '_' and compares what it stored. */
static void test_names_mangled(void **state)
{
	(void)state;
	want_value("PHP.SESSID=x", "PHP_SESSID", "x");
	want_value("PHP SESSID=x", "PHP_SESSID", "x");
	want_absent("PHP.SESSID=x", "PHP.SESSID");
	/* Whitespace after a name is part of it. */
	want_absent("PHPSESSID =abc", "PHPSESSID");
	want_value("PHPSESSID =abc", "PHPSESSID_", "abc");
	want_absent("PHPSESSID\t=abc", "PHPSESSID");
	want_value("PHPSESSID\t=abc", "PHPSESSID\t", "abc");
	want_value("PHPSESSID =a; PHPSESSID=b", "PHPSESSID", "b");
	/* A '[' without a ']' after it is read as '_', and so is what
	 * follows it. */
	want_value("PHPSESSID[=1; PHPSESSID=2", "PHPSESSID", "2");
	want_value("PHPSESSID[=1; PHPSESSID=2", "PHPSESSID_", "1");
	want_value("PHPSESSID[x=1", "PHPSESSID_x", "1");
	want_value("x[.a[ b=2", "x__a__b", "2");
	want_value("PHPSESSID]=1", "PHPSESSID]", "1");
}

/* A name that mangling turned into a __Host- or __Secure- one is
 * dropped (a browser sets those only under stricter rules). */
static void test_reserved_prefixes(void **state)
{
	(void)state;
	want_value("__Host-a=1", "__Host-a", "1");
	want_value("__Secure-a=1", "__Secure-a", "1");
	want_absent("._Host-a=1", "__Host-a");
	want_absent("_.Host-a=1", "__Host-a");
	want_absent(" _.Secure-a=1", "__Secure-a");
	want_value("._Host-a=1; __Host-a=2", "__Host-a", "2");
	/* A '[' read as '_' counts as mangling too. */
	want_absent("_[Host-a=1", "__Host-a");
	want_value("._Host-a[x]=1; __Host-a=2", "__Host-a", "2");
	want_value("__Hos[-a=1", "__Hos_-a", "1");
}

static void test_leading_whitespace_skipped(void **state)
{
	(void)state;
	want_value("  a=1 ;  PHPSESSID=abc; b=2", "PHPSESSID", "abc");
	want_value(" \t\n\v\f\rPHPSESSID=abc", "PHPSESSID", "abc");
	want_value("a=1;PHPSESSID=abc;b=2", "PHPSESSID", "abc");
}

static void test_value_kept_as_sent(void **state)
{
	(void)state;
	want_value("PHPSESSID= abc ", "PHPSESSID", " abc ");
	want_value("PHPSESSID=   ", "PHPSESSID", "   ");
	want_value("a=1 ; b=2", "a", "1 ");
	want_value("x= one two ", "x", " one two ");
	want_value("PHPSESSID=a\tb", "PHPSESSID", "a\tb");
}

/* The old program took the last occurrence; PHP takes the first. */
static void test_first_wins(void **state)
{
	(void)state;
	want_value("PHPSESSID=first; PHPSESSID=second", "PHPSESSID", "first");
	want_value("PHPSESSID=a; x=1; PHPSESSID=b; y=2; PHPSESSID=c",
	           "PHPSESSID", "a");
	want_value("PHPSESSID=a; PHPSESSID=", "PHPSESSID", "a");
	/* An empty first one is still the one. */
	want_value("PHPSESSID=; PHPSESSID=b", "PHPSESSID", "");
	want_value("PHPSESSID; PHPSESSID=b", "PHPSESSID", "");
	want_value("PHPSESSID=b; PHPSESSID", "PHPSESSID", "b");
	/* So is one with a value no session id can have. */
	want_value("PHPSESSID=\"a\"; PHPSESSID=b", "PHPSESSID", "\"a\"");
	want_value("PHPSESSID= a; PHPSESSID=b", "PHPSESSID", " a");
	/* Names that PHP stores alike are the same cookie. */
	want_value("PHP.SESSID=a; PHP_SESSID=b", "PHP_SESSID", "a");
	want_value(" PHPSESSID=a;PHPSESSID=b", "PHPSESSID", "a");
}

static void test_quotes_kept(void **state)
{
	(void)state;
	want_value("PHPSESSID=\"abc\"", "PHPSESSID", "\"abc\"");
	want_value("PHPSESSID= \"abc\" ", "PHPSESSID", " \"abc\" ");
	want_value("PHPSESSID=\"\"", "PHPSESSID", "\"\"");
	want_value("PHPSESSID=\"", "PHPSESSID", "\"");
	want_value("PHPSESSID=\"a b\"", "PHPSESSID", "\"a b\"");
	/* A quoted ';' still separates pairs. */
	want_value("k=\"a;k=b\"", "k", "\"a");
}

static void test_values_with_equals(void **state)
{
	(void)state;
	want_value("tok=a=b==", "tok", "a=b==");
	want_value("a==1", "a", "=1");
}

static void test_commas_are_part_of_the_value(void **state)
{
	(void)state;
	want_value("PHPSESSID=a,b", "PHPSESSID", "a,b");
	want_value("PHPSESSID=a, PHPSESSID=b", "PHPSESSID", "a, PHPSESSID=b");
	want_absent("a=1, PHPSESSID=b", "PHPSESSID");
}

static void test_empty_value(void **state)
{
	(void)state;
	want_value("PHPSESSID=", "PHPSESSID", "");
	want_value("PHPSESSID=; a=1", "PHPSESSID", "");
}

/* A pair without '=' is a cookie with an empty value. */
static void test_pair_without_equals(void **state)
{
	(void)state;
	want_value("PHPSESSID", "PHPSESSID", "");
	want_value("a=1; PHPSESSID ;b=2", "PHPSESSID_", "");
	want_value("junk; a=1; ;", "a", "1");
	want_value("junk; a=1; ;", "junk", "");
}

static void test_empty_names(void **state)
{
	(void)state;
	want_absent("=v; a=1", "");
	want_absent("a=1", "");
	want_value(" =x; PHPSESSID=2", "PHPSESSID", "2");
	want_value("=x; PHPSESSID=2", "PHPSESSID", "2");
	want_value("[x]=1; PHPSESSID=2", "PHPSESSID", "2");
}

static void test_trailing_separator(void **state)
{
	(void)state;
	want_value("a=1; PHPSESSID=abc;", "PHPSESSID", "abc");
	want_value("a=1; PHPSESSID=abc; ", "PHPSESSID", "abc");
}

static void test_percent_decoding(void **state)
{
	(void)state;
	want_value("PHPSESSID=%61bc", "PHPSESSID", "abc");
	want_value("PHPSESSID=%61%62%63", "PHPSESSID", "abc");
	want_value("PHPSESSID=%e2%82%AC", "PHPSESSID", "\xe2\x82\xac");
	want_value("PHPSESSID=a+b", "PHPSESSID", "a+b");
	want_value("PHPSESSID=%3B", "PHPSESSID", ";");
	want_value("PHPSESSID=%25", "PHPSESSID", "%");
	want_value("PHPSESSID=%%41", "PHPSESSID", "%A");
	/* A '%' without two hex digits stays. */
	want_value("PHPSESSID=%zz%4", "PHPSESSID", "%zz%4");
	want_value("PHPSESSID=a%", "PHPSESSID", "a%");
	want_value("PHPSESSID=a%2", "PHPSESSID", "a%2");
	want_value("PHPSESSID=%2g1", "PHPSESSID", "%2g1");
	/* PHP's session module reads the id up to a NUL byte. */
	want_value("PHPSESSID=a%00b", "PHPSESSID", "a");
	want_value("PHPSESSID=%00", "PHPSESSID", "");
}

/* name[...] makes the cookie an array, which PHP's session module does not
 * take for an id, whatever comes before or after it. */
static void test_array_syntax(void **state)
{
	(void)state;
	want_absent("PHPSESSID[x]=1", "PHPSESSID");
	want_absent("PHPSESSID[x]=1; PHPSESSID=a", "PHPSESSID");
	want_absent("PHPSESSID=a; PHPSESSID[x]=1", "PHPSESSID");
	want_absent("PHPSESSID=a; PHPSESSID[]=1", "PHPSESSID");
	want_absent("PHPSESSID=a; PHPSESSID[ ]=1", "PHPSESSID");
	want_absent("PHPSESSID=a; PHPSESSID[a]b=1", "PHPSESSID");
	want_absent("PHPSESSID=a; PHPSESSID[a][b=1", "PHPSESSID");
	want_absent("PHPSESSID=a; PHPSESSID[x]", "PHPSESSID");
	/* Another name's array does not matter. */
	want_value("PHPSESSID [x]=1; PHPSESSID=a", "PHPSESSID", "a");
	want_value("PHPSESSIDX[x]=1; PHPSESSID=a", "PHPSESSID", "a");
	want_value("PHPSESSID=a; PHPSESSID[x=1", "PHPSESSID", "a");
}

/* Nested deeper than 64 levels, PHP deletes the name instead: what came
 * before is gone, and a plain occurrence after it counts. */
static void test_nesting_limit(void **state)
{
	(void)state;
	char header[512];
	char levels[4 * COOKIE_MAX_NESTING + 8];

	for (int depth = COOKIE_MAX_NESTING - 1; depth <= COOKIE_MAX_NESTING + 1;
	     depth++) {
		size_t n = 0;
		for (int i = 0; i < depth; i++)
			n += (size_t)snprintf(levels + n, sizeof levels - n, "[a]");
		bool deleted = depth > COOKIE_MAX_NESTING;

		snprintf(header, sizeof header, "PHPSESSID=a; PHPSESSID%s=1",
		         levels);
		want_absent(header, "PHPSESSID");
		snprintf(header, sizeof header,
		         "PHPSESSID=a; PHPSESSID%s=1; PHPSESSID=b", levels);
		if (deleted)
			want_value(header, "PHPSESSID", "b");
		else
			want_absent(header, "PHPSESSID");
		/* The last level without ']' is still a level. */
		snprintf(header, sizeof header,
		         "PHPSESSID=a; PHPSESSID%s[x=1; PHPSESSID=b", levels);
		if (depth + 1 > COOKIE_MAX_NESTING)
			want_value(header, "PHPSESSID", "b");
		else
			want_absent(header, "PHPSESSID");
	}
}

static void test_size_limits(void **state)
{
	(void)state;
	char out[4];

	memset(out, 'Z', sizeof out);
	assert_true(cookie_find("k=abc", "k", out, sizeof out));
	assert_string_equal(out, "abc");

	assert_false(cookie_find("k=abcd", "k", out, sizeof out));
	/* Quotes are part of the value and count. */
	assert_false(cookie_find("k=\"abc\"", "k", out, sizeof out));
	assert_true(cookie_find("k=\"a\"", "k", out, sizeof out));
	assert_string_equal(out, "\"a\"");
	/* The decoded length counts. */
	assert_true(cookie_find("k=%61%62%63", "k", out, sizeof out));
	assert_string_equal(out, "abc");
	assert_true(cookie_find("k=abc%00def", "k", out, sizeof out));
	assert_string_equal(out, "abc");

	assert_false(cookie_find("k=a", "k", out, 0));
	assert_true(cookie_find("k=", "k", out, 1));
	assert_string_equal(out, "");
	assert_false(cookie_find("k=a", "k", out, 1));
}

static void test_first_too_long_is_absent(void **state)
{
	(void)state;
	char out[4];
	/* The first occurrence is the cookie; a later one that fits is not
	 * used instead. */
	assert_false(cookie_find("k=toolong; k=ok", "k", out, sizeof out));
	assert_true(cookie_find("k=ok; k=toolong", "k", out, sizeof out));
	assert_string_equal(out, "ok");
}

/* PHP reads 1000 named pairs (max_input_vars) and ignores the rest. */
static void test_pair_limit(void **state)
{
	(void)state;
	static char header[20000];
	size_t n = 0;
	for (int i = 0; i < COOKIE_MAX_PAIRS - 1; i++)
		n += (size_t)snprintf(header + n, sizeof header - n,
		                      "c%d=v%d; ", i, i);
	size_t before = n;

	snprintf(header + before, sizeof header - before, "PHPSESSID=end");
	want_value(header, "PHPSESSID", "end");
	want_value(header, "c998", "v998");
	want_value(header, "c0", "v0");

	/* Pairs without a name do not count; every other pair does. */
	snprintf(header + before, sizeof header - before,
	         ";; =x; =y;PHPSESSID=end");
	want_value(header, "PHPSESSID", "end");
	snprintf(header + before, sizeof header - before, "c0=dup; PHPSESSID=end");
	want_absent(header, "PHPSESSID");
	snprintf(header + before, sizeof header - before, "junk; PHPSESSID=end");
	want_absent(header, "PHPSESSID");
	snprintf(header + before, sizeof header - before, "[x]=1; PHPSESSID=end");
	want_absent(header, "PHPSESSID");
	/* Nor does a name[...] past the limit spoil a value before it. */
	snprintf(header + before, sizeof header - before,
	         "PHPSESSID=a; PHPSESSID[x]=1");
	want_value(header, "PHPSESSID", "a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_names_exact),
		cmocka_unit_test(test_names_mangled),
		cmocka_unit_test(test_reserved_prefixes),
		cmocka_unit_test(test_leading_whitespace_skipped),
		cmocka_unit_test(test_value_kept_as_sent),
		cmocka_unit_test(test_first_wins),
		cmocka_unit_test(test_quotes_kept),
		cmocka_unit_test(test_values_with_equals),
		cmocka_unit_test(test_commas_are_part_of_the_value),
		cmocka_unit_test(test_empty_value),
		cmocka_unit_test(test_pair_without_equals),
		cmocka_unit_test(test_empty_names),
		cmocka_unit_test(test_trailing_separator),
		cmocka_unit_test(test_percent_decoding),
		cmocka_unit_test(test_array_syntax),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_first_too_long_is_absent),
		cmocka_unit_test(test_pair_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
