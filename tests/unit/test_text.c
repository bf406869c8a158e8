#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* Checks s (a literal, whose length is given by sizeof) against text_is_utf8
 * from an exactly sized heap copy, so a read past len shows up under ASan. */
static bool utf8(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, s, len);
	bool ok = text_is_utf8(copy, len);
	free(copy);
	return ok;
}

#define UTF8(lit) utf8((lit), sizeof(lit) - 1)

/* An independent decoder that works from the bit patterns, to compare the
 * range-based one against for every short sequence. */
static size_t ref_seq(const unsigned char *s, size_t avail)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return s[0] ? 1 : 0;
	if ((s[0] & 0xE0) == 0xC0) {
		n = 2;
		cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3;
		cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

static bool ref_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = ref_seq(s + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

static void test_ascii_and_empty(void **state)
{
	(void)state;
	assert_true(text_is_utf8("", 0));
	assert_true(UTF8("hello, world"));
	assert_true(UTF8("\t tab and \x7f DEL are still UTF-8"));
}

static void test_valid_multibyte(void **state)
{
	(void)state;
	assert_true(UTF8("\xc2\x80"));             /* U+0080 */
	assert_true(UTF8("\xdf\xbf"));             /* U+07FF */
	assert_true(UTF8("\xe0\xa0\x80"));         /* U+0800 */
	assert_true(UTF8("\xed\x9f\xbf"));         /* U+D7FF */
	assert_true(UTF8("\xee\x80\x80"));         /* U+E000 */
	assert_true(UTF8("\xef\xbf\xbf"));         /* U+FFFF */
	assert_true(UTF8("\xf0\x90\x80\x80"));     /* U+10000 */
	assert_true(UTF8("\xf4\x8f\xbf\xbf"));     /* U+10FFFF */
	assert_true(UTF8("Železná hospoda €5 😀"));
}

static void test_overlongs_refused(void **state)
{
	(void)state;
	assert_false(UTF8("\xc0\x80"));
	assert_false(UTF8("\xc0\xaf")); /* overlong '/' */
	assert_false(UTF8("\xc1\xbf"));
	assert_false(UTF8("\xe0\x80\x80"));
	assert_false(UTF8("\xe0\x9f\xbf"));
	assert_false(UTF8("\xf0\x80\x80\x80"));
	assert_false(UTF8("\xf0\x8f\xbf\xbf"));
}

static void test_surrogates_and_beyond_refused(void **state)
{
	(void)state;
	assert_false(UTF8("\xed\xa0\x80")); /* U+D800 */
	assert_false(UTF8("\xed\xbf\xbf")); /* U+DFFF */
	assert_false(UTF8("\xf4\x90\x80\x80")); /* U+110000 */
	assert_false(UTF8("\xf5\x80\x80\x80"));
	assert_false(UTF8("\xf8\x88\x80\x80\x80"));
	assert_false(UTF8("\xfe"));
	assert_false(UTF8("\xff"));
}

static void test_broken_sequences_refused(void **state)
{
	(void)state;
	assert_false(UTF8("\x80"));
	assert_false(UTF8("a\xbf" "b"));
	assert_false(UTF8("\xc3"));             /* truncated at the end */
	assert_false(UTF8("\xe2\x82"));
	assert_false(UTF8("\xf0\x9f\x98"));
	assert_false(UTF8("\xe2\x28\xa1"));     /* bad continuation */
	assert_false(UTF8("\xc3(x"));
	assert_false(UTF8("\xf0\x9f\x98\x28"));
}

static void test_nul_refused(void **state)
{
	(void)state;
	assert_false(text_is_utf8("\0", 1));
	assert_false(text_is_utf8("ab\0cd", 5));
}

static void test_len_is_respected(void **state)
{
	(void)state;
	/* Bytes after len are not looked at, bad or not. */
	assert_true(text_is_utf8("abc\xff", 3));
	/* A sequence cut by len is broken even if the bytes go on. */
	assert_false(text_is_utf8("\xc3\xa9", 1));
	assert_false(text_is_utf8("\xf0\x9f\x98\x80", 3));
}

static void test_matches_reference_up_to_three_bytes(void **state)
{
	(void)state;
	unsigned char s[3];
	for (unsigned a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		assert_int_equal(text_is_utf8((char *)s, 1), ref_valid(s, 1));
		for (unsigned b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			assert_int_equal(text_is_utf8((char *)s, 2),
			                 ref_valid(s, 2));
			/* A third byte only matters after a lead byte. */
			if (a < 0xC0)
				continue;
			for (unsigned c = 0; c < 256; c++) {
				s[2] = (unsigned char)c;
				assert_int_equal(text_is_utf8((char *)s, 3),
				                 ref_valid(s, 3));
			}
		}
	}
}

static void test_matches_reference_four_bytes(void **state)
{
	(void)state;
	static const unsigned char tails[] = { 0x00, 0x41, 0x7F, 0x80, 0x8F,
	                                       0x90, 0xBF, 0xC0, 0xFF };
	const size_t nt = sizeof tails;
	unsigned char s[4];

	for (unsigned a = 0xE0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			for (size_t cd = 0; cd < nt * nt; cd++) {
				s[0] = (unsigned char)a;
				s[1] = (unsigned char)b;
				s[2] = tails[cd / nt];
				s[3] = tails[cd % nt];
				assert_int_equal(text_is_utf8((char *)s, 4),
				                 ref_valid(s, 4));
			}
}

/* Strips a copy of lit and compares the result with want. */
static void check_strip(const char *lit, size_t len, const char *want,
                        size_t want_len)
{
	char *copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, lit, len);
	copy[len] = '#'; /* must survive: nothing past len is written */
	size_t n = text_strip_controls(copy, len);
	assert_int_equal(n, want_len);
	assert_memory_equal(copy, want, want_len);
	assert_int_equal(copy[len], '#');
	free(copy);
}

#define STRIP(lit, want) \
	check_strip((lit), sizeof(lit) - 1, (want), sizeof(want) - 1)

static void test_strip_c0_keeps_tab(void **state)
{
	(void)state;
	STRIP("a\nb\rc\td", "abc\td");
	STRIP("\x01\x02\x1f" "x", "x");
	STRIP("bell\a esc\x1b[31m", "bell esc[31m");
	check_strip("a\0b", 3, "ab", 2);
}

static void test_strip_del_and_c1(void **state)
{
	(void)state;
	STRIP("a\x7f" "b", "ab");
	STRIP("x\xc2\x80y", "xy");      /* U+0080 */
	STRIP("x\xc2\x85y", "xy");      /* NEL */
	STRIP("x\xc2\x9b" "31m", "x31m"); /* CSI */
	STRIP("x\xc2\x9fy", "xy");      /* U+009F */
}

static void test_strip_keeps_other_text(void **state)
{
	(void)state;
	STRIP("\xc2\xa0nbsp \xc2\xbf", "\xc2\xa0nbsp \xc2\xbf");
	/* Continuation bytes in 80..9F belong to other characters. */
	STRIP("€ Ā 😀 Železná", "€ Ā 😀 Železná");
	STRIP("plain text", "plain text");
}

static void test_strip_edges(void **state)
{
	(void)state;
	check_strip("", 0, "", 0);
	STRIP("\n\r\x7f\xc2\x85", "");
	STRIP("\nstart", "start");
	STRIP("end\n", "end");
}

/* Every byte: the digits of both cases, and nothing else. */
static void test_hex_digit(void **state)
{
	(void)state;
	const char *digits = "0123456789abcdef";
	for (int c = 0; c < 256; c++) {
		const char *at = c ? strchr(digits, tolower(c)) : NULL;
		int want = at && isxdigit(c) ? (int)(at - digits) : -1;
		assert_int_equal(text_hex_digit((char)c), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_and_empty),
		cmocka_unit_test(test_valid_multibyte),
		cmocka_unit_test(test_overlongs_refused),
		cmocka_unit_test(test_surrogates_and_beyond_refused),
		cmocka_unit_test(test_broken_sequences_refused),
		cmocka_unit_test(test_nul_refused),
		cmocka_unit_test(test_len_is_respected),
		cmocka_unit_test(test_matches_reference_up_to_three_bytes),
		cmocka_unit_test(test_matches_reference_four_bytes),
		cmocka_unit_test(test_strip_c0_keeps_tab),
		cmocka_unit_test(test_strip_del_and_c1),
		cmocka_unit_test(test_strip_keeps_other_text),
		cmocka_unit_test(test_strip_edges),
		cmocka_unit_test(test_hex_digit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
