#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "archive_state.h"

/* A copy of text in a buffer of exactly its length, no NUL after it: the
 * parsers take a length, and a read past it is caught (AddressSanitizer). */
static char *exact(const char *text, size_t *len)
{
	*len = strlen(text);
	char *copy = malloc(*len ? *len : 1);
	assert_non_null(copy);
	memcpy(copy, text, *len);
	return copy;
}

static bool parse_id(const char *text, struct stream_id *id)
{
	size_t len;
	char *copy = exact(text, &len);
	bool ok = stream_id_parse(copy, len, id);
	free(copy);
	return ok;
}

static bool parse_record(const char *text, struct archive_record *r)
{
	size_t len;
	char *copy = exact(text, &len);
	bool ok = archive_record_parse(copy, len, r);
	free(copy);
	return ok;
}

static void test_ids(void **state)
{
	(void)state;
	struct stream_id id;
	char out[STREAM_ID_MAX];
	assert_true(parse_id("1700000000000-0", &id));
	assert_true(id.ms == 1700000000000ULL && id.seq == 0);
	assert_true(parse_id("0-0", &id));
	assert_true(parse_id("18446744073709551615-18446744073709551615", &id));
	assert_true(id.ms == ~0ULL && id.seq == ~0ULL);
	stream_id_format(&id, out);
	assert_string_equal(out, "18446744073709551615-18446744073709551615");
	static const char *const bad[] = {
		"", "-", "1-", "-1", "1", "1-2-3", " 1-2", "1-2 ", "+1-2", "1--2",
		"18446744073709551616-0", "0-18446744073709551616", "1-a", "0x1-0",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (parse_id(bad[i], &id))
			fail_msg("\"%s\" taken for an id", bad[i]);
}

static void test_id_order(void **state)
{
	(void)state;
	const struct stream_id a = { 5, 9 }, b = { 6, 0 }, c = { 6, 1 };
	assert_true(stream_id_cmp(&a, &b) < 0);
	assert_true(stream_id_cmp(&b, &c) < 0);
	assert_true(stream_id_cmp(&c, &a) > 0);
	assert_int_equal(stream_id_cmp(&b, &b), 0);
}

static void test_records(void **state)
{
	(void)state;
	char text[ARCHIVE_RECORD_MAX + 1];
	const struct archive_record r = { { ~0ULL, ~0ULL }, ~0ULL, ~0ULL };
	size_t len = archive_record_format(&r, text);
	assert_int_equal(len, strlen(text));
	assert_true(len <= ARCHIVE_RECORD_MAX);
	struct archive_record back;
	assert_true(parse_record(text, &back));
	assert_memory_equal(&back, &r, sizeof r);
	const struct archive_record s = { { 1700000000000ULL, 3 }, 1234, 99 };
	archive_record_format(&s, text);
	assert_string_equal(text, "1700000000000-3 1234 99\n");
	static const char *const bad[] = {
		"", "\n", "1-0 2 3", "1-0 2 3\n\n", "1-0 2\n", "1-0  2 3\n",
		"1-0 2 3 \n", "1 2 3\n", "1-0 -2 3\n", "1-0 2 3\nx", "x-0 2 3\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (parse_record(bad[i], &back))
			fail_msg("\"%s\" taken for a record", bad[i]);
}

static void test_resume_plan(void **state)
{
	(void)state;
	const struct archive_record r = { { 10, 0 }, 77, 1000 };
	/* The same log, grown: killed between a write and its record. */
	assert_int_equal(archive_resume_plan(&r, true, 77, 1001),
	                 ARCHIVE_RESUME_COUNT);
	/* As recorded. */
	assert_int_equal(archive_resume_plan(&r, true, 77, 1000),
	                 ARCHIVE_RESUME_AT_RECORD);
	/* copytruncate. */
	assert_int_equal(archive_resume_plan(&r, true, 77, 10),
	                 ARCHIVE_RESUME_AT_RECORD);
	/* Renamed away and made anew, longer already. */
	assert_int_equal(archive_resume_plan(&r, true, 78, 5000),
	                 ARCHIVE_RESUME_AT_RECORD);
	/* Gone. */
	assert_int_equal(archive_resume_plan(&r, false, 0, 0),
	                 ARCHIVE_RESUME_AT_RECORD);
}

static void test_next_line_is(void **state)
{
	(void)state;
	size_t len;
	char *log = exact("a\nbb\n\nc", &len);
	size_t pos = 0;
	assert_false(archive_next_line_is(log, len, &pos, "b", 1));
	assert_int_equal(pos, 0);
	assert_true(archive_next_line_is(log, len, &pos, "a", 1));
	assert_int_equal(pos, 2);
	/* A prefix of the line is not the line. */
	assert_false(archive_next_line_is(log, len, &pos, "b", 1));
	assert_true(archive_next_line_is(log, len, &pos, "bb", 2));
	assert_true(archive_next_line_is(log, len, &pos, "", 0));
	/* A line cut off by a kill in the middle of a write is no entry. */
	assert_false(archive_next_line_is(log, len, &pos, "c", 1));
	assert_int_equal(pos, 6);
	pos = len;
	assert_false(archive_next_line_is(log, len, &pos, "", 0));
	pos = len + 1;
	assert_false(archive_next_line_is(log, len, &pos, "", 0));
	free(log);
	pos = 0;
	assert_false(archive_next_line_is(NULL, 0, &pos, "x", 1));
}

static void test_line_ok(void **state)
{
	(void)state;
	assert_true(archive_line_ok("[12:00:00] Ann> hi", 18));
	assert_true(archive_line_ok("x", 1));
	assert_false(archive_line_ok("", 0));
	assert_false(archive_line_ok("a\nb", 3));
	assert_false(archive_line_ok("ab\n", 3));
	assert_false(archive_line_ok("a\0b", 3));
	/* Only len bytes are looked at. */
	assert_true(archive_line_ok("ab\n", 2));
}

static void test_room_names(void **state)
{
	(void)state;
	assert_true(archive_room_name_ok("lobby", 5));
	assert_true(archive_room_name_ok("caf\xc3\xa9", 5));
	assert_true(archive_room_name_ok("lobbyX", 5)); /* len counts */
	static const char *const bad[] = {
		"", ".", "..", ".hidden", "a/b", "a_b", "a b", "a<b", "a\nb",
		"\xff", "x\"y",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (archive_room_name_ok(bad[i], strlen(bad[i])))
			fail_msg("\"%s\" taken for a room", bad[i]);
	assert_false(archive_room_name_ok("a\0b", 3));
	char long_name[101]; /* ROOM_NAME_MAX + 1 */
	memset(long_name, 'a', sizeof long_name);
	assert_false(archive_room_name_ok(long_name, sizeof long_name));
	assert_true(archive_room_name_ok(long_name, 100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_id_order),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_resume_plan),
		cmocka_unit_test(test_next_line_is),
		cmocka_unit_test(test_line_ok),
		cmocka_unit_test(test_room_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
