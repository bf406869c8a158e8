#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void test_init_is_empty(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 42);
	assert_null(b.data);
	assert_null(b.base);
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

static void test_consume_does_not_move_the_rest(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "line1\nline2\n"), 0);
	char *data = b.data;
	size_t cap = b.cap;
	buf_consume(&b, 6);
	assert_ptr_equal(b.data, data + 6);
	assert_ptr_equal(b.base, data);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.data, "line2\n");
	buf_free(&b);
}

static void test_consume_all_starts_over_at_the_front(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "abcdef"), 0);
	buf_consume(&b, 2);
	buf_consume(&b, 4);
	assert_ptr_equal(b.data, b.base);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_free(&b);
}

static void test_append_reclaims_a_larger_consumed_prefix(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "abcdefgh"), 0);
	buf_consume(&b, 6);
	assert_int_equal(buf_append_str(&b, "x"), 0);
	assert_ptr_equal(b.data, b.base);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "ghx");
	buf_free(&b);
}

static void test_append_leaves_a_smaller_prefix_alone(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "abcdefghijklmnopqrst"), 0);
	buf_consume(&b, 2);
	assert_int_equal(buf_append_str(&b, "u"), 0);
	assert_ptr_equal(b.data, b.base + 2);
	assert_string_equal(b.data, "cdefghijklmnopqrstu");
	buf_free(&b);
}

static void test_append_reclaims_rather_than_grows(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	char text[61];
	memset(text, 'a', 60);
	text[60] = '\0';
	assert_int_equal(buf_append_str(&b, text), 0);
	size_t cap = b.cap;
	assert_true(cap < 60 + 10 + 10 + 1);
	buf_consume(&b, 10);
	assert_int_equal(buf_append(&b, "0123456789", 10), 0);
	assert_int_equal(b.cap, cap);
	assert_ptr_equal(b.data, b.base);
	assert_int_equal(b.len, 60);
	assert_memory_equal(b.data + 50, "0123456789", 10);
	assert_int_equal(b.data[60], '\0');
	buf_free(&b);
}

static void test_limited_buffer_keeps_its_allocation(void **state)
{
	(void)state;
	struct buf b;
	char text[100];
	memset(text, 'a', sizeof text);
	buf_init(&b, sizeof text);
	assert_int_equal(buf_append(&b, text, sizeof text), 0);
	size_t cap = b.cap;
	assert_true(cap >= 30 + 70 + 20 + 1);
	buf_consume(&b, 30);
	/* Fits behind the held bytes: nothing moves. */
	assert_int_equal(buf_append(&b, "0123456789abcdefghij", 20), 0);
	assert_ptr_equal(b.data, b.base + 30);
	/* Does not: moved to the front rather than grown. */
	buf_consume(&b, 1);
	assert_true(30 + 1 + 89 + 11 + 1 > cap);
	assert_int_equal(buf_append(&b, "ABCDEFGHIJK", 11), 0);
	assert_ptr_equal(b.data, b.base);
	assert_int_equal(b.cap, cap);
	assert_int_equal(b.len, 100);
	assert_memory_equal(b.data + 69, "0123456789abcdefghijABCDEFGHIJK", 31);
	/* Always full, a byte out and a byte in: it never grows. */
	for (int i = 0; i < 1000; i++) {
		buf_consume(&b, 1);
		assert_int_equal(buf_append(&b, "z", 1), 0);
		assert_int_equal(b.cap, cap);
	}
	assert_int_equal(buf_append(&b, "z", 1), -1);
	buf_free(&b);
}

/* Byte i of the stream the queue test pushes. */
static char stream_byte(size_t i)
{
	return (char)('a' + (i * 7 + i / 251) % 26);
}

struct queue_run {
	struct buf b;
	size_t pushed, taken; /* stream bytes in and out */
	size_t moved;         /* bytes moved to the front by appends */
};

static void queue_push(struct queue_run *q, size_t n)
{
	char chunk[512];
	assert_true(n <= sizeof chunk);
	for (size_t i = 0; i < n; i++)
		chunk[i] = stream_byte(q->pushed + i);
	size_t head = q->b.data ? (size_t)(q->b.data - q->b.base) : 0;
	size_t len = q->b.len;
	assert_int_equal(buf_append(&q->b, chunk, n), 0);
	if (head > 0 && q->b.data == q->b.base)
		q->moved += len;
	q->pushed += n;
	/* No larger an allocation than a buffer that always moved. */
	assert_true(q->b.cap < 2 * (q->b.limit + 1));
}

static void queue_take(struct queue_run *q, size_t n)
{
	if (n > q->b.len)
		n = q->b.len;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(q->b.data[i], stream_byte(q->taken + i));
	char *rest = q->b.data + n;
	bool all = n == q->b.len;
	buf_consume(&q->b, n);
	if (!all)
		assert_ptr_equal(q->b.data, rest);
	q->taken += n;
}

/* A writer's queue: filled to its limit, drained 4 KiB at a time (a full
 * pipe) while lines keep coming.  Every byte comes out once, in order;
 * taking never moves the rest, and reclaiming space moves about as many
 * bytes as went through (once more when the queue has filled its
 * allocation), not that many per take. */
static void test_queue_drained_in_pieces(void **state)
{
	(void)state;
	struct queue_run q = { .pushed = 0 };
	const size_t limit = 256 * 1024;
	buf_init(&q.b, limit);
	for (int round = 0; round < 20; round++) {
		while (q.b.len + 512 <= limit)
			queue_push(&q, 100 + (q.pushed % 413));
		while (q.b.len > 0) {
			queue_take(&q, 4096);
			queue_push(&q, 1 + (q.pushed % 97));
			queue_take(&q, 1 + (q.taken % 300));
		}
	}
	assert_int_equal(q.taken, q.pushed);
	assert_true(q.pushed > 20 * limit);
	assert_true(q.moved > 0);
	/* Moving every remainder after every take, as once, would be about
	 * thirty times what went through. */
	assert_true(q.moved < 2 * q.pushed);
	buf_free(&q.b);
}

/* A buffer that held one long message gives its storage back when done;
 * one that stayed small keeps it for the next message. */
static void test_done_releases_only_big_storage(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "short", 5), 0);
	buf_done(&b, 1024);
	assert_int_equal(b.len, 0);
	assert_non_null(b.base);
	assert_true(b.cap <= 1024);
	static char big[5000];
	memset(big, 'x', sizeof big);
	assert_int_equal(buf_append(&b, big, sizeof big), 0);
	assert_true(b.cap > 1024);
	buf_done(&b, 1024);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_null(b.base);
	assert_int_equal(buf_append(&b, "again", 5), 0);
	assert_string_equal(b.data, "again");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_empty),
		cmocka_unit_test(test_done_releases_only_big_storage),
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
		cmocka_unit_test(test_consume_does_not_move_the_rest),
		cmocka_unit_test(test_consume_all_starts_over_at_the_front),
		cmocka_unit_test(test_append_reclaims_a_larger_consumed_prefix),
		cmocka_unit_test(test_append_leaves_a_smaller_prefix_alone),
		cmocka_unit_test(test_append_reclaims_rather_than_grows),
		cmocka_unit_test(test_limited_buffer_keeps_its_allocation),
		cmocka_unit_test(test_queue_drained_in_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
