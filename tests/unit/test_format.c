#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "format.h"
#include "presence.h"

/* 2023-11-14 22:13:20 UTC */
#define T0 ((time_t)1700000000)

static int utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* out must hold exactly want (a whole line), NUL-terminated. */
static void expect_line(const struct buf *out, const char *want)
{
	assert_int_equal(out->len, strlen(want));
	assert_memory_equal(out->data, want, out->len);
	assert_int_equal(out->data[out->len], '\0');
}

static struct presence_entry entry(const char *name, const char *color)
{
	struct presence_entry e;
	memset(&e, 0, sizeof e);
	snprintf(e.name, sizeof e.name, "%s", name);
	snprintf(e.color, sizeof e.color, "%s", color);
	return e;
}

static void test_clock(void **state)
{
	(void)state;
	char out[11];
	format_clock(T0, out);
	assert_string_equal(out, "[22:13:20]");
	format_clock(0, out);
	assert_string_equal(out, "[00:00:00]");
	format_clock(86399, out);
	assert_string_equal(out, "[23:59:59]");
	format_clock(T0 + 3600 + 61, out);
	assert_string_equal(out, "[23:14:21]");
}

static void test_clock_is_local_time(void **state)
{
	(void)state;
	char out[11];
	setenv("TZ", "CET-1", 1); /* POSIX rule: UTC+1, no tzdata needed */
	tzset();
	format_clock(T0, out);
	setenv("TZ", "UTC", 1);
	tzset();
	assert_string_equal(out, "[23:13:20]");
}

static void test_welcome(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_welcome(&b, T0, "lobby", "Alice"), 0);
	expect_line(&b, "[22:13:20] Welcome to the chat room lobby Alice!\n");
	buf_free(&b);
}

static void test_join(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_join(&b, T0, "Železná-hospoda", "Anonymous1"), 0);
	expect_line(&b, "[22:13:20] Anonymous1 joined the Železná-hospoda\n");
	buf_free(&b);
}

static void test_quit(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_quit(&b, T0, "lobby", "Bob"), 0);
	expect_line(&b, "[22:13:20] Bob quit the lobby\n");
	buf_free(&b);
}

static void test_message(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_message(&b, T0, "Alice", "hello world", 11), 0);
	expect_line(&b, "[22:13:20] Alice> hello world\n");
	buf_free(&b);
}

static void test_message_bytes_kept(void **state)
{
	(void)state;
	static const char text[] = "<b>&amp; %s %n\t\\ \"q\" 'x' \xc5\xbd \xf0\x9f\x98\x80"
	                           " Bob: {\"type\":\"offer\"}";
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_message(&b, T0, "A", text, strlen(text)), 0);
	char want[256];
	snprintf(want, sizeof want, "[22:13:20] A> %s\n", text);
	expect_line(&b, want);
	buf_free(&b);
}

static void test_message_uses_len(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_message(&b, T0, "A", "hello, and more", 5), 0);
	expect_line(&b, "[22:13:20] A> hello\n");
	assert_int_equal(format_message(&b, T0, "A", "ignored", 0), 0);
	expect_line(&b, "[22:13:20] A> \n");
	buf_free(&b);
}

static void test_whisper_shape(void **state)
{
	(void)state;
	static const char text[] = "Bob: psst";
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_message(&b, T0, "Alice", text, strlen(text)), 0);
	expect_line(&b, "[22:13:20] Alice> Bob: psst\n");
	buf_free(&b);
}

static void test_private(void **state)
{
	(void)state;
	static const char text[] = "{\"type\":\"offer\",\"sdp\":\"v=0zalomeni\"}";
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_private(&b, T0, "Alice", "Bob", text,
	                                strlen(text)), 0);
	expect_line(&b, "[22:13:20] Alice> Bob: {\"type\":\"offer\","
	                "\"sdp\":\"v=0zalomeni\"}\n");
	assert_int_equal(format_private(&b, T0, "Alice", "Bob", "psst!", 4), 0);
	expect_line(&b, "[22:13:20] Alice> Bob: psst\n");
	buf_free(&b);
}

static void test_whisper_notice(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_whisper_notice(&b, T0, "Alice", "Bob"), 0);
	expect_line(&b, "[22:13:20] Alice whispers something to Bob\n");
	buf_free(&b);
}

static void test_result_keeps_leading_space(void **state)
{
	(void)state;
	static const char r[] = " Changed color to #0f0";
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_result(&b, T0, "Alice", r, strlen(r)), 0);
	expect_line(&b, "[22:13:20] Alice>  Changed color to #0f0\n");
	buf_free(&b);
}

static void test_result_dice(void **state)
{
	(void)state;
	static const char r[] = " Throws 2 6-sided dice, throws again on 6: 6, 1, 3";
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_result(&b, T0, "Bob", r, strlen(r)), 0);
	expect_line(&b, "[22:13:20] Bob>  Throws 2 6-sided dice, throws again "
	                "on 6: 6, 1, 3\n");
	buf_free(&b);
}

static void test_userlist_empty(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_userlist(&b, T0, NULL, 0), 0);
	expect_line(&b, "[22:13:20] Userlist: \n");
	buf_free(&b);
}

static void test_userlist_one(void **state)
{
	(void)state;
	struct presence_entry v[1] = { entry("a", "#f00") };
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_userlist(&b, T0, v, 1), 0);
	expect_line(&b, "[22:13:20] Userlist: a:#f00,\n");
	buf_free(&b);
}

static void test_userlist_three(void **state)
{
	(void)state;
	struct presence_entry v[3] = {
		entry("a", "#f00"), entry("b", "Gray"), entry("Želva", "#abc"),
	};
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_userlist(&b, T0, v, 3), 0);
	expect_line(&b, "[22:13:20] Userlist: a:#f00,b:Gray,Želva:#abc,\n");
	buf_free(&b);
}

static void test_error(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(format_error(&b, T0, "room name is empty"), 0);
	expect_line(&b, "[22:13:20] Error: room name is empty\n");
	assert_int_equal(format_notice(&b, T0, "the room is available again"),
	                 0);
	expect_line(&b, "[22:13:20] Notice: the room is available again\n");
	buf_free(&b);
}

static void test_buffer_emptied_first(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "left over from before\n"), 0);
	assert_int_equal(format_quit(&b, T0, "r", "n"), 0);
	expect_line(&b, "[22:13:20] n quit the r\n");
	assert_int_equal(format_join(&b, T0, "r", "m"), 0);
	expect_line(&b, "[22:13:20] m joined the r\n");
	buf_free(&b);
}

static void test_limit(void **state)
{
	(void)state;
	static const char want[] = "[22:13:20] Alice joined the lobby\n";
	struct buf b;
	buf_init(&b, strlen(want));
	assert_int_equal(format_join(&b, T0, "lobby", "Alice"), 0);
	expect_line(&b, want);
	buf_free(&b);

	buf_init(&b, strlen(want) - 1);
	assert_int_equal(format_join(&b, T0, "lobby", "Alice"), -1);
	assert_int_equal(format_welcome(&b, T0, "lobby", "Alice"), -1);
	assert_int_equal(format_message(&b, T0, "Alice", "0123456789012345678",
	                                19), -1);
	buf_free(&b);

	struct presence_entry v[2] = { entry("a", "#f00"), entry("b", "Gray") };
	buf_init(&b, 30); /* "[22:13:20] Userlist: a:#f00,b:Gray,\n" is 36 */
	assert_int_equal(format_userlist(&b, T0, v, 2), -1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_clock_is_local_time),
		cmocka_unit_test(test_welcome),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_quit),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_message_bytes_kept),
		cmocka_unit_test(test_message_uses_len),
		cmocka_unit_test(test_whisper_shape),
		cmocka_unit_test(test_private),
		cmocka_unit_test(test_whisper_notice),
		cmocka_unit_test(test_result_keeps_leading_space),
		cmocka_unit_test(test_result_dice),
		cmocka_unit_test(test_userlist_empty),
		cmocka_unit_test(test_userlist_one),
		cmocka_unit_test(test_userlist_three),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_buffer_emptied_first),
		cmocka_unit_test(test_limit),
	};
	return cmocka_run_group_tests(tests, utc, NULL);
}
