#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "php_session.h"

/* Every lookup runs on an exactly sized heap copy, so that any read past
 * len is caught by ASan; a FOUND value must lie inside the data. */
static enum php_session_result lookup(const char *data, size_t len,
                                      const char *key, char **found,
                                      size_t *found_len)
{
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, data, len);
	const char *v = NULL;
	size_t vl = 0;
	enum php_session_result r = php_session_find_string(copy, len, key, &v,
	                                                    &vl);
	if (r == PHP_SESSION_FOUND) {
		assert_non_null(v);
		assert_true(v >= copy && vl <= len);
		assert_true((size_t)(v - copy) <= len - vl);
		if (found) {
			*found = malloc(vl + 1);
			assert_non_null(*found);
			memcpy(*found, v, vl);
			(*found)[vl] = '\0';
			*found_len = vl;
		}
	}
	free(copy);
	return r;
}

static enum php_session_result result_of(const char *data, size_t len,
                                         const char *key)
{
	return lookup(data, len, key, NULL, NULL);
}

static void want_found(const char *data, size_t len, const char *key,
                       const char *want, size_t want_len)
{
	char *v = NULL;
	size_t vl = 0;
	assert_int_equal(lookup(data, len, key, &v, &vl), PHP_SESSION_FOUND);
	assert_int_equal(vl, want_len);
	assert_memory_equal(v, want, want_len);
	free(v);
}

#define FOUND(lit, want) \
	want_found((lit), sizeof(lit) - 1, "username", (want), sizeof(want) - 1)
#define RESULT(lit) result_of((lit), sizeof(lit) - 1, "username")

static void test_simple(void **state)
{
	(void)state;
	FOUND("username|s:5:\"Alice\";", "Alice");
	FOUND("username|s:0:\"\";", "");
	FOUND("username|s:13:\"Alice:#ff0000\";", "Alice:#ff0000");
}

static const char complex_session[] =
	"count|i:5;"
	"flag|b:1;"
	"off|b:0;"
	"nothing|N;"
	"ratio|d:1.5;"
	"list|a:2:{i:0;s:1:\"x\";s:1:\"k\";a:1:{i:0;O:8:\"stdClass\":1:"
	"{s:1:\"p\";i:1;}}}"
	"obj|O:3:\"Foo\":2:{s:1:\"a\";i:1;s:4:\"\0*\0b\";s:0:\"\";}"
	"empty|a:0:{}"
	"c|C:11:\"ArrayObject\":21:{x:i:0;a:0:{};m:a:0:{}}"
	"e|E:11:\"Suit:Hearts\";"
	"refs|a:2:{i:0;a:0:{}i:1;r:2;}"
	"ref2|R:2;"
	"a!b|i:1;"
	"username|s:14:\"\xc5\xbd" "elva:#ff0000\";"
	"after|i:1;";

static void test_after_other_values(void **state)
{
	(void)state;
	FOUND(complex_session, "Želva:#ff0000");
}

static void test_other_keys(void **state)
{
	(void)state;
	const size_t len = sizeof complex_session - 1;
	assert_int_equal(result_of(complex_session, len, "count"),
	                 PHP_SESSION_NOT_STRING);
	assert_int_equal(result_of(complex_session, len, "list"),
	                 PHP_SESSION_NOT_STRING);
	assert_int_equal(result_of(complex_session, len, "c"),
	                 PHP_SESSION_NOT_STRING);
	assert_int_equal(result_of(complex_session, len, "missing"),
	                 PHP_SESSION_MISSING);
	/* Strings inside arrays and objects are not session keys. */
	assert_int_equal(result_of(complex_session, len, "p"),
	                 PHP_SESSION_MISSING);
	assert_int_equal(result_of(complex_session, len, "a"),
	                 PHP_SESSION_MISSING);
}

static void test_all_scalar_forms(void **state)
{
	(void)state;
	FOUND("d1|d:INF;d2|d:-INF;d3|d:NAN;d4|d:1.0E+25;d5|d:-0.5;d6|d:.5;"
	      "d7|d:5.;d8|d:1e10;d9|d:-1.5E-7;d10|d:0;d11|d:+2;"
	      "d12|d:0.1000000000000000055511151231257827;"
	      "username|s:1:\"x\";", "x");
	FOUND("i1|i:-12;i2|i:+3;i3|i:9223372036854775807;"
	      "i4|i:-9223372036854775808;i5|i:0;i6|i:007;"
	      "username|s:1:\"x\";", "x");
	FOUND("o|O:8:\"stdClass\":1:{i:0;N;}"
	      "e|a:1:{i:0;E:7:\"Foo:Bar\";}"
	      "n|a:1:{s:1:\"k\";a:1:{s:0:\"\";N;}}"
	      "username|s:1:\"x\";", "x");
}

static void test_strings_that_look_like_syntax(void **state)
{
	(void)state;
	/* The old program took the text between the first two quotes. */
	FOUND("note|s:20:\"username|s:4:\"evil\";\";username|s:5:\"Alice\";",
	      "Alice");
	FOUND("x|s:8:\"a|b;c\"d}\";username|s:1:\"y\";", "y");
	FOUND("username|s:7:\"Al\"i\"ce\";", "Al\"i\"ce");
	FOUND("username|s:5:\"a;b|c\";", "a;b|c");
	FOUND("username|s:3:\"a\0b\";", "a\0b");
}

static void test_key_matching(void **state)
{
	(void)state;
	FOUND("user|s:1:\"x\";username|s:1:\"y\";", "y");
	assert_int_equal(RESULT("user|s:1:\"x\";usernamex|s:1:\"y\";"
	                        "Username|s:1:\"z\";xusername|s:1:\"w\";"),
	                 PHP_SESSION_MISSING);
	/* The first occurrence answers. */
	FOUND("username|s:1:\"a\";username|s:1:\"b\";", "a");
	want_found("|s:1:\"e\";", 9, "", "e", 1);
}

static void test_multibyte_lengths(void **state)
{
	(void)state;
	/* 13 characters, 14 bytes. */
	FOUND("username|s:14:\"Želva:#ff0000\";", "Želva:#ff0000");
	assert_int_equal(RESULT("username|s:13:\"Želva:#ff0000\";"),
	                 PHP_SESSION_MALFORMED);
	assert_int_equal(RESULT("username|s:15:\"Želva:#ff0000\";"),
	                 PHP_SESSION_MALFORMED);
	/* Counting characters instead of bytes is wrong either way. */
	assert_int_equal(RESULT("a|s:5:\"Želva\";username|s:1:\"x\";"),
	                 PHP_SESSION_MALFORMED);
	FOUND("a|s:6:\"Želva\";username|s:1:\"x\";", "x");
	FOUND("username|s:4:\"😀\";", "😀");
}

static void test_legacy_unset_marker(void **state)
{
	(void)state;
	FOUND("!a|username|s:5:\"Alice\";", "Alice");
	FOUND("!a|!b|username|s:1:\"x\";", "x");
	assert_int_equal(RESULT("!username|"), PHP_SESSION_MISSING);
	assert_int_equal(RESULT("!username|a|i:1;"), PHP_SESSION_MISSING);
	FOUND("!username|username|s:1:\"x\";", "x");
	assert_int_equal(RESULT("!username"), PHP_SESSION_MALFORMED);
}

static void test_not_string(void **state)
{
	(void)state;
	assert_int_equal(RESULT("username|i:5;"), PHP_SESSION_NOT_STRING);
	assert_int_equal(RESULT("username|N;"), PHP_SESSION_NOT_STRING);
	assert_int_equal(RESULT("username|b:0;"), PHP_SESSION_NOT_STRING);
	assert_int_equal(RESULT("username|d:1.5;"), PHP_SESSION_NOT_STRING);
	assert_int_equal(RESULT("username|a:1:{i:0;s:1:\"x\";}"),
	                 PHP_SESSION_NOT_STRING);
	assert_int_equal(RESULT("username|O:8:\"stdClass\":0:{}"),
	                 PHP_SESSION_NOT_STRING);
	assert_int_equal(RESULT("username|r:1;"), PHP_SESSION_NOT_STRING);
	assert_int_equal(RESULT("username|E:7:\"Foo:Bar\";"),
	                 PHP_SESSION_NOT_STRING);
	/* A broken value is malformed, not merely "not a string". */
	assert_int_equal(RESULT("username|i:5"), PHP_SESSION_MALFORMED);
	assert_int_equal(RESULT("username|a:1:{i:0;s:1:\"x\";"),
	                 PHP_SESSION_MALFORMED);
	assert_int_equal(RESULT("username|"), PHP_SESSION_MALFORMED);
	assert_int_equal(RESULT("username|x:1;"), PHP_SESSION_MALFORMED);
}

static void test_empty_and_missing(void **state)
{
	(void)state;
	const char *v = NULL;
	size_t vl = 0;
	assert_int_equal(php_session_find_string(NULL, 0, "username", &v, &vl),
	                 PHP_SESSION_MISSING);
	assert_int_equal(php_session_find_string("username|s:1:\"x\";", 0,
	                                         "username", &v, &vl),
	                 PHP_SESSION_MISSING);
	assert_int_equal(RESULT("a|i:1;b|s:1:\"x\";"), PHP_SESSION_MISSING);
}

static void test_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"hello", "username", "|", "a|", "a|i:1", "a|i:1;b",
		"a|s:-1:\"\";", "a|s::\"\";", "a|s:1:x;", "a|s:1:\"x\"",
		"a|s:1:\"x';", "a|s:1\"x\";", "a|b:2;", "a|b:;", "a|b1;",
		"a|i:;", "a|i:-;", "a|i:1.5;", "a|i:x;", "a|N:;", "a|N",
		"a|d:;", "a|d:.;", "a|d:1e;", "a|d:e5;", "a|d:1.5.5;",
		"a|d:inf;",
		"a|d:--1;", "a|d:1e+;",
		"a|i:9223372036854775808;", "a|i:-9223372036854775809;",
		"a|a:1:{d:1.0;N;}", "a|a:1:{N;N;}", "a|a:1:{i:0;N;",
		"a|a:2:{i:0;N;}", "a|a:0:{i:0;N;}", "a|a:1:{i:0;N;};",
		"a|a:1{i:0;N;}", "a|a:x:{}", "a|a:-1:{}",
		"a|O:0:\"\":0:{}", "a|O:3:\"Foo\":1:{}", "a|O:3:\"Foo\"0:{}",
		"a|E:3:\"Foo\";", "a|E:7:\"Foo:Bar\"",
		"a|C:3:\"Foo\":5:{ab}", "a|C:3:\"Foo\":2:{ab",
		"a|C:0:\"\":0:{}",
		"a|r:;", "a|R:x;", "a|r:-1;", "a|Z:1;", "a|S:1:\"x\";", "a|;",
		"garbage|username|s:1:\"x\";",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* Followed by a good username, it must not let the parser
		 * reach it. */
		char data[256];
		int n = snprintf(data, sizeof data, "%s%s", bad[i],
		                 "username|s:1:\"x\";");
		assert_true(n > 0 && (size_t)n < sizeof data);
		if (result_of(data, (size_t)n, "username") == PHP_SESSION_FOUND)
			fail_msg("skipped over: %s", bad[i]);
		if (result_of(bad[i], strlen(bad[i]), "username") !=
		    PHP_SESSION_MALFORMED)
			fail_msg("not refused alone: %s", bad[i]);
	}
}

static void test_trailing_garbage_after_key(void **state)
{
	(void)state;
	/* Only what comes before the key has to be a session. */
	FOUND("username|s:1:\"x\";\x01\xff garbage", "x");
}

static void test_huge_lengths(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"a|s:99999999999999999999999:\"x\";",
		"a|s:18446744073709551615:\"x\";",
		"a|s:18446744073709551616:\"x\";",
		"a|s:9223372036854775807:\"x\";",
		"a|s:2:\"x\";", "a|s:5:\"abc",
		"a|a:18446744073709551615:{}",
		"a|a:99999999999999999999999:{}",
		"a|a:4294967296:{}", "a|a:1000:{i:0;N;}",
		"a|O:8:\"stdClass\":18446744073709551615:{}",
		"a|O:18446744073709551615:\"stdClass\":0:{}",
		"a|C:3:\"Foo\":18446744073709551615:{}",
		"a|C:3:\"Foo\":18446744073709551616:{}",
		"a|E:18446744073709551615:\"Foo:Bar\";",
		"a|r:99999999999999999999;",
		"a|i:99999999999999999999999999999;",
		"username|s:18446744073709551615:\"x\";",
		"username|s:20:\"x\";",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (result_of(bad[i], strlen(bad[i]), "username") !=
		    PHP_SESSION_MALFORMED)
			fail_msg("not refused: %s", bad[i]);
}

/* "a|" + depth nested arrays around N; + the username. */
static char *nested(size_t depth, const char *key, size_t *len)
{
	const char open[] = "a:1:{i:0;";
	const char tail[] = "username|s:5:\"Alice\";";
	size_t n = strlen(key) + 1 + depth * (sizeof open - 1) + 2 + depth +
		   sizeof tail;
	char *s = malloc(n);
	assert_non_null(s);
	char *p = s + strlen(key);
	memcpy(s, key, strlen(key));
	*p++ = '|';
	for (size_t i = 0; i < depth; i++, p += sizeof open - 1)
		memcpy(p, open, sizeof open - 1);
	memcpy(p, "N;", 2);
	p += 2;
	memset(p, '}', depth);
	p += depth;
	memcpy(p, tail, sizeof tail);
	*len = (size_t)(p - s) + sizeof tail - 1;
	return s;
}

static void test_nesting_depth(void **state)
{
	(void)state;
	size_t len;
	char *s = nested(PHP_SESSION_MAX_DEPTH, "a", &len);
	want_found(s, len, "username", "Alice", 5);
	free(s);

	s = nested(PHP_SESSION_MAX_DEPTH + 1, "a", &len);
	assert_int_equal(result_of(s, len, "username"), PHP_SESSION_MALFORMED);
	free(s);

	s = nested(200000, "a", &len);
	assert_int_equal(result_of(s, len, "username"), PHP_SESSION_MALFORMED);
	free(s);

	/* The key's own value counts from the same depth. */
	s = nested(PHP_SESSION_MAX_DEPTH, "username", &len);
	assert_int_equal(result_of(s, len, "username"), PHP_SESSION_NOT_STRING);
	free(s);
	s = nested(PHP_SESSION_MAX_DEPTH + 1, "username", &len);
	assert_int_equal(result_of(s, len, "username"), PHP_SESSION_MALFORMED);
	free(s);
}

static void test_object_nesting_counts(void **state)
{
	(void)state;
	char data[4096];
	size_t n = 0;
	static const char obj[] = "O:1:\"X\":1:{s:1:\"p\";";
	static const char arr[] = "a:1:{i:0;";

	n += (size_t)snprintf(data, sizeof data, "a|");
	for (int i = 0; i <= PHP_SESSION_MAX_DEPTH; i++)
		n += (size_t)snprintf(data + n, sizeof data - n, "%s",
		                      i % 2 ? obj : arr);
	n += (size_t)snprintf(data + n, sizeof data - n, "N;");
	for (int i = 0; i <= PHP_SESSION_MAX_DEPTH; i++)
		data[n++] = '}';
	n += (size_t)snprintf(data + n, sizeof data - n,
	                      "username|s:1:\"x\";");
	assert_int_equal(result_of(data, n, "username"), PHP_SESSION_MALFORMED);
}

static const char *const pieces[] = {
	"count|i:-12;",
	"list|a:2:{i:0;s:3:\"a;}\";s:1:\"k\";a:1:{i:7;d:1.5;}}",
	"obj|O:8:\"stdClass\":1:{s:4:\"name\";b:1;}",
	"c|C:3:\"Foo\":4:{a}b;}",
	"e|E:7:\"Foo:Bar\";",
	"!gone|",
	"r|r:2;",
	"username|s:14:\"Želva:#ff0000\";",
	"after|a:1:{i:0;N;}",
};

static void test_every_truncation(void **state)
{
	(void)state;
	char data[512];
	size_t boundary[16], nb = 0, len = 0, user_end = 0;
	const size_t npieces = sizeof pieces / sizeof pieces[0];

	boundary[nb++] = 0;
	for (size_t i = 0; i < npieces; i++) {
		size_t n = strlen(pieces[i]);
		memcpy(data + len, pieces[i], n);
		len += n;
		boundary[nb++] = len;
		if (strncmp(pieces[i], "username|", 9) == 0)
			user_end = len;
	}
	want_found(data, len, "username", "Želva:#ff0000", 14);

	for (size_t n = 0; n <= len; n++) {
		char *v = NULL;
		size_t vl = 0;
		enum php_session_result r;
		r = lookup(data, n, "username", &v, &vl);
		if (n >= user_end) {
			assert_int_equal(r, PHP_SESSION_FOUND);
			assert_int_equal(vl, 14);
			assert_memory_equal(v, "Želva:#ff0000", 14);
			free(v);
			continue;
		}
		bool at_boundary = false;
		for (size_t b = 0; b < nb; b++)
			at_boundary |= boundary[b] == n;
		enum php_session_result want = at_boundary ?
			PHP_SESSION_MISSING : PHP_SESSION_MALFORMED;
		if (r != want)
			fail_msg("prefix of %zu bytes gave %d", n, (int)r);
	}
}

static void test_every_single_byte_change(void **state)
{
	(void)state;
	static const char subst[] = { '\0', '|', ';', ':', '"', '{', '}', '9',
	                              '0', 'a', 's', 'i', '!', '\xff' };
	char data[512];
	size_t len = 0;

	for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
		memcpy(data + len, pieces[i], strlen(pieces[i]));
		len += strlen(pieces[i]);
	}
	for (size_t pos = 0; pos < len; pos++) {
		char saved = data[pos];
		for (size_t k = 0; k < sizeof subst; k++) {
			data[pos] = subst[k];
			/* lookup checks that a FOUND value lies inside
			 * the data. */
			(void)result_of(data, len, "username");
			(void)result_of(data, pos + 1, "username");
		}
		data[pos] = saved;
	}
}

static void test_random_syntax_soup(void **state)
{
	(void)state;
	static const char alphabet[] = "|;:\"{}0123456789-+.aisdbNOCErRE!xu";
	uint64_t seed = 0x9E3779B97F4A7C15u;
	char data[64];

	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(round % (int)sizeof data);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 6364136223846793005u +
			       1442695040888963407u;
			data[i] = alphabet[(seed >> 33) %
			                   (sizeof alphabet - 1)];
		}
		(void)result_of(data, len, "x");
		(void)result_of(data, len, "u");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_after_other_values),
		cmocka_unit_test(test_other_keys),
		cmocka_unit_test(test_all_scalar_forms),
		cmocka_unit_test(test_strings_that_look_like_syntax),
		cmocka_unit_test(test_key_matching),
		cmocka_unit_test(test_multibyte_lengths),
		cmocka_unit_test(test_legacy_unset_marker),
		cmocka_unit_test(test_not_string),
		cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_trailing_garbage_after_key),
		cmocka_unit_test(test_huge_lengths),
		cmocka_unit_test(test_nesting_depth),
		cmocka_unit_test(test_object_nesting_counts),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_every_single_byte_change),
		cmocka_unit_test(test_random_syntax_soup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
