#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "room.h"

/* out is checked for writes past ROOM_NAME_MAX + 1 with a guard byte. */
struct room_out {
	char name[ROOM_NAME_MAX + 1];
	char guard;
};

static enum room_error room(const char *path_info, struct room_out *o)
{
	memset(o->name, 'Z', sizeof o->name);
	o->guard = 'G';
	enum room_error err = room_from_path_info(path_info, o->name);
	assert_int_equal(o->guard, 'G');
	if (err != ROOM_OK)
		assert_string_equal(o->name, "");
	return err;
}

static void expect_room(const char *path_info, const char *want)
{
	struct room_out o;
	assert_int_equal(room(path_info, &o), ROOM_OK);
	assert_string_equal(o.name, want);
}

static void expect_error(const char *path_info, enum room_error want)
{
	struct room_out o;
	assert_int_equal(room(path_info, &o), want);
}

static void test_first_segment(void **state)
{
	(void)state;
	expect_room("/lobby", "lobby");
	expect_room("lobby", "lobby");
	expect_room("/lobby/", "lobby");
	expect_room("/lobby/x", "lobby");
	expect_room("/lobby/x/y/../z", "lobby");
	expect_room("//lobby", "lobby");
	expect_room("///lobby//x", "lobby");
}

static void test_spaces_and_underscores(void **state)
{
	(void)state;
	expect_room("/my room", "my-room");
	expect_room("/my_room", "my-room");
	expect_room("/ a _b_ ", "-a--b--");
	expect_room("/_", "-");
	expect_room("/ ", "-");
}

static void test_non_ascii(void **state)
{
	(void)state;
	expect_room("/Železná hospoda", "Železná-hospoda");
	expect_room("/Železná-hospoda/", "Železná-hospoda");
	expect_room("/кафе", "кафе");
	expect_room("/茶室_1", "茶室-1");
	expect_room("/😀", "😀");
	expect_room("/\xc2\xa0", "\xc2\xa0"); /* NBSP is text, not control */
}

static void test_other_punctuation_allowed(void **state)
{
	(void)state;
	expect_room("/a.b", "a.b");
	expect_room("/a..", "a..");
	expect_room("/room.log", "room.log");
	expect_room("/50%-off", "50%-off");
	expect_room("/c++(x)", "c++(x)");
	expect_room("/-", "-");
}

static void test_empty(void **state)
{
	(void)state;
	expect_error(NULL, ROOM_EMPTY);
	expect_error("", ROOM_EMPTY);
	expect_error("/", ROOM_EMPTY);
	expect_error("///", ROOM_EMPTY);
}

static void test_length_limit(void **state)
{
	(void)state;
	char path[2 + 2 * ROOM_NAME_MAX + 8];
	char want[ROOM_NAME_MAX + 1];

	path[0] = '/';
	memset(path + 1, 'a', ROOM_NAME_MAX);
	path[1 + ROOM_NAME_MAX] = '\0';
	memset(want, 'a', ROOM_NAME_MAX);
	want[ROOM_NAME_MAX] = '\0';
	expect_room(path, want);

	strcpy(path + 1 + ROOM_NAME_MAX, "/more/after/the/segment");
	expect_room(path, want);

	path[1 + ROOM_NAME_MAX] = 'a';
	path[2 + ROOM_NAME_MAX] = '\0';
	expect_error(path, ROOM_TOO_LONG);
}

static void test_length_counts_bytes(void **state)
{
	(void)state;
	char path[1 + 2 * (ROOM_NAME_MAX / 2 + 1) + 1];
	size_t n = 1;

	path[0] = '/';
	for (int i = 0; i < ROOM_NAME_MAX / 2; i++) {
		memcpy(path + n, "é", 2);
		n += 2;
	}
	path[n] = '\0';
	expect_room(path, path + 1);

	memcpy(path + n, "é", 2);
	path[n + 2] = '\0';
	expect_error(path, ROOM_TOO_LONG);
}

static void test_very_long(void **state)
{
	(void)state;
	static char path[100000];
	memset(path, 'x', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	expect_error(path, ROOM_TOO_LONG);
}

static void test_dots(void **state)
{
	(void)state;
	expect_error("/.", ROOM_DOT);
	expect_error("/..", ROOM_DOT);
	expect_error("..", ROOM_DOT);
	expect_error("/../etc/passwd", ROOM_DOT);
	expect_error("/./lobby", ROOM_DOT);
	expect_error("/.hidden", ROOM_DOT);
	expect_error("/.lobby.lock", ROOM_DOT);
}

static void test_bad_utf8(void **state)
{
	(void)state;
	expect_error("/\xff", ROOM_BAD_UTF8);
	expect_error("/lob\xc3", ROOM_BAD_UTF8);
	expect_error("/\xc0\xaf..", ROOM_BAD_UTF8); /* overlong '/' */
	expect_error("/\xed\xa0\x80", ROOM_BAD_UTF8);
	expect_error("/a\x80z", ROOM_BAD_UTF8);
}

static void test_control_characters(void **state)
{
	(void)state;
	expect_error("/a\tb", ROOM_CONTROL);
	expect_error("/a\nb", ROOM_CONTROL);
	expect_error("/a\rb", ROOM_CONTROL);
	expect_error("/\x1b[31m", ROOM_CONTROL);
	expect_error("/\x01", ROOM_CONTROL);
	expect_error("/a\x7f", ROOM_CONTROL);
	expect_error("/a\xc2\x85", ROOM_CONTROL); /* NEL */
	expect_error("/\xc2\x80", ROOM_CONTROL);
	expect_error("/\xc2\x9f", ROOM_CONTROL);
}

static void test_bad_characters(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"/a\\b", "/<script>", "/a>b", "/a&b", "/a\"b", "/a'b", "/a`b",
		"/\\", "/&amp;", "/x\\..\\y",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_error(bad[i], ROOM_BAD_CHAR);
}

static void test_error_texts(void **state)
{
	(void)state;
	static const enum room_error errs[] = {
		ROOM_EMPTY, ROOM_TOO_LONG, ROOM_BAD_UTF8, ROOM_CONTROL,
		ROOM_DOT,   ROOM_BAD_CHAR,
	};
	const size_t n = sizeof errs / sizeof errs[0];

	for (size_t i = 0; i < n; i++) {
		const char *t = room_error_text(errs[i]);
		assert_non_null(t);
		assert_true(strlen(t) > 10);
		assert_int_equal(t[strlen(t) - 1], '.');
		assert_null(strchr(t, '\n'));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(t, room_error_text(errs[j]));
	}
	assert_non_null(strstr(room_error_text(ROOM_TOO_LONG), "100"));
	assert_non_null(room_error_text(ROOM_OK));
	assert_non_null(room_error_text((enum room_error)99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_segment),
		cmocka_unit_test(test_spaces_and_underscores),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_other_punctuation_allowed),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_length_counts_bytes),
		cmocka_unit_test(test_very_long),
		cmocka_unit_test(test_dots),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_bad_characters),
		cmocka_unit_test(test_error_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
