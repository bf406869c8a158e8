#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void test_init_is_empty(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 42);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.limit, 42);
	buf_free(&b);
}

static void test_append_and_terminate(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(buf_append_str(&b, "def"), 0);
	assert_int_equal(b.len, 6);
	assert_true(b.cap > b.len);
	assert_string_equal(b.data, "abcdef");
	buf_free(&b);
}

static void test_append_nothing(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append_str(&b, ""), 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_binary_bytes(void **state)
{
	(void)state;
	struct buf b;
	static const char bin[] = { 'a', '\0', 'b', '\n', '\0' };
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, bin, sizeof bin), 0);
	assert_int_equal(b.len, sizeof bin);
	assert_memory_equal(b.data, bin, sizeof bin);
	assert_int_equal(b.data[b.len], '\0');
	buf_free(&b);
}

static void test_grows_many_times(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 100000; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(buf_append(&b, &c, 1), 0);
	}
	assert_int_equal(b.len, 100000);
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(b.data[i], 'a' + (int)(i % 26));
	assert_int_equal(b.data[b.len], '\0');
	buf_free(&b);
}

static void test_limit_exactly_reached(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 5);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(buf_append(&b, "de", 2), 0);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "abcde");
	buf_free(&b);
}

static void test_limit_failure_leaves_buffer_unchanged(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 5);
	assert_int_equal(buf_append_str(&b, "abcd"), 0);
	char *data = b.data;
	size_t cap = b.cap;

	errno = 0;
	assert_int_equal(buf_append(&b, "xy", 2), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "abcd");

	errno = 0;
	assert_int_equal(buf_append_str(&b, "xy"), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_string_equal(b.data, "abcd");

	/* What still fits still goes in. */
	assert_int_equal(buf_append(&b, "x", 1), 0);
	assert_string_equal(b.data, "abcdx");
	buf_free(&b);
}

static void test_limit_on_empty_buffer(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 3);
	errno = 0;
	assert_int_equal(buf_append(&b, "abcd", 4), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_huge_append_refused_without_overflow(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	/* n + len + 1 would wrap: must be refused, not wrapped into a tiny
	 * allocation. */
	errno = 0;
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(errno, EMSGSIZE);
	errno = 0;
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 2), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "ab");
	buf_free(&b);
}

static void test_consume_part(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "line1\nline2\n"), 0);
	buf_consume(&b, 6);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "line2\n");
	buf_consume(&b, 0);
	assert_string_equal(b.data, "line2\n");
	buf_consume(&b, 5);
	assert_string_equal(b.data, "\n");
	buf_free(&b);
}

static void test_consume_all(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "abc"), 0);
	size_t cap = b.cap;
	buf_consume(&b, 3);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.data, "");
	buf_free(&b);
}

static void test_consume_on_empty(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	buf_consume(&b, 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_consume_frees_room_under_limit(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 4);
	assert_int_equal(buf_append_str(&b, "abcd"), 0);
	assert_int_equal(buf_append_str(&b, "e"), -1);
	buf_consume(&b, 2);
	assert_int_equal(buf_append_str(&b, "ef"), 0);
	assert_string_equal(b.data, "cdef");
	buf_free(&b);
}

static void test_clear_keeps_storage(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "hello"), 0);
	char *data = b.data;
	size_t cap = b.cap;
	buf_clear(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_append_str(&b, "x"), 0);
	assert_string_equal(b.data, "x");
	buf_free(&b);
}

static void test_clear_on_fresh_buffer(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	buf_clear(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_free_then_reuse(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 8);
	assert_int_equal(buf_append_str(&b, "abc"), 0);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.limit, 8);
	buf_free(&b); /* twice is harmless */
	assert_int_equal(buf_append_str(&b, "12345678"), 0);
	assert_int_equal(buf_append_str(&b, "9"), -1);
	assert_string_equal(b.data, "12345678");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_empty),
		cmocka_unit_test(test_append_and_terminate),
		cmocka_unit_test(test_append_nothing),
		cmocka_unit_test(test_binary_bytes),
		cmocka_unit_test(test_grows_many_times),
		cmocka_unit_test(test_limit_exactly_reached),
		cmocka_unit_test(test_limit_failure_leaves_buffer_unchanged),
		cmocka_unit_test(test_limit_on_empty_buffer),
		cmocka_unit_test(test_huge_append_refused_without_overflow),
		cmocka_unit_test(test_consume_part),
		cmocka_unit_test(test_consume_all),
		cmocka_unit_test(test_consume_on_empty),
		cmocka_unit_test(test_consume_frees_room_under_limit),
		cmocka_unit_test(test_clear_keeps_storage),
		cmocka_unit_test(test_clear_on_fresh_buffer),
		cmocka_unit_test(test_free_then_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
