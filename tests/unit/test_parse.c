#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "parse.h"

#define LINE_MAX_TEST 256

struct parsed {
	enum request_kind kind;
	char text[LINE_MAX_TEST + 1];
	size_t len;
};

/* Parses a copy of in[0..len) with room for the terminator, the way
 * stdin_reader hands lines over. */
static struct parsed parse(const char *in, size_t len)
{
	struct parsed p;
	assert_true(len < LINE_MAX_TEST);
	memset(p.text, 'Z', sizeof p.text);
	memcpy(p.text, in, len);
	p.text[len] = '\0';
	p.len = len;
	p.kind = parse_request(p.text, &p.len);
	assert_true(p.len <= len);
	return p;
}

static void expect(const char *in, size_t len, enum request_kind kind,
                   const char *text)
{
	struct parsed p = parse(in, len);
	assert_int_equal(p.kind, kind);
	assert_int_equal(p.len, strlen(text));
	assert_memory_equal(p.text, text, p.len);
	assert_int_equal(p.text[p.len], '\0');
}

#define EXPECT(lit, kind, text) expect(lit, sizeof lit - 1, kind, text)

static void test_empty(void **state)
{
	(void)state;
	EXPECT("", REQUEST_EMPTY, "");
}

static void test_command(void **state)
{
	(void)state;
	EXPECT("/dice 2 6 6", REQUEST_COMMAND, "/dice 2 6 6");
	EXPECT("/", REQUEST_COMMAND, "/");
	EXPECT("/color #0f0", REQUEST_COMMAND, "/color #0f0");
}

static void test_message(void **state)
{
	(void)state;
	EXPECT("hello", REQUEST_MESSAGE, "hello");
	EXPECT("Bob: psst", REQUEST_MESSAGE, "Bob: psst");
	EXPECT("Želva 😀", REQUEST_MESSAGE, "Želva 😀");
	EXPECT("a/b", REQUEST_MESSAGE, "a/b");
	EXPECT("\\back\\slash\\", REQUEST_MESSAGE, "\\back\\slash\\");
}

/* The old program's `read` trimmed; we keep the text as sent. */
static void test_whitespace_kept(void **state)
{
	(void)state;
	EXPECT("  two leading", REQUEST_MESSAGE, "  two leading");
	EXPECT("trailing  ", REQUEST_MESSAGE, "trailing  ");
	EXPECT(" /dice 1 6 6", REQUEST_MESSAGE, " /dice 1 6 6");
}

static void test_bad_utf8(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"\xff", "abc\xc5", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"ok\x80ok", "/dice \xfe",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct parsed p = parse(bad[i], strlen(bad[i]));
		assert_int_equal(p.kind, REQUEST_BAD_UTF8);
	}
	/* NUL is not text */
	struct parsed p = parse("a\0b", 3);
	assert_int_equal(p.kind, REQUEST_BAD_UTF8);
}

static void test_controls_removed(void **state)
{
	(void)state;
	EXPECT("a\x01" "b\x1b[31mc\x7f" "d", REQUEST_MESSAGE, "ab[31mcd");
	EXPECT("a\nb", REQUEST_MESSAGE, "ab");
	EXPECT("a\xc2\x85" "b\xc2\x9f" "c", REQUEST_MESSAGE, "abc"); /* C1 */
	EXPECT("\x01/dice 1 6 6", REQUEST_COMMAND, "/dice 1 6 6");
}

static void test_tab_kept(void **state)
{
	(void)state;
	EXPECT("a\tb", REQUEST_MESSAGE, "a\tb");
	EXPECT("\t", REQUEST_MESSAGE, "\t");
}

static void test_non_controls_kept(void **state)
{
	(void)state;
	/* U+00A0 and U+00FF follow the C1 range; they are text. */
	EXPECT("a\xc2\xa0" "b\xc3\xbf", REQUEST_MESSAGE, "a\xc2\xa0" "b\xc3\xbf");
}

static void test_carriage_return_at_end(void **state)
{
	(void)state;
	EXPECT("hello\r", REQUEST_MESSAGE, "hello");
	EXPECT("/dice 1 6 6\r", REQUEST_COMMAND, "/dice 1 6 6");
}

static void test_empty_after_stripping(void **state)
{
	(void)state;
	EXPECT("\r", REQUEST_EMPTY, "");
	EXPECT("\x01\x02\x7f", REQUEST_EMPTY, "");
	EXPECT("\xc2\x80\xc2\x9f\r", REQUEST_EMPTY, "");
}

static void test_len_respected(void **state)
{
	(void)state;
	char line[16] = "hello, world";
	size_t len = 5;
	assert_int_equal(parse_request(line, &len), REQUEST_MESSAGE);
	assert_int_equal(len, 5);
	assert_string_equal(line, "hello");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_whitespace_kept),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_controls_removed),
		cmocka_unit_test(test_tab_kept),
		cmocka_unit_test(test_non_controls_kept),
		cmocka_unit_test(test_carriage_return_at_end),
		cmocka_unit_test(test_empty_after_stripping),
		cmocka_unit_test(test_len_respected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
