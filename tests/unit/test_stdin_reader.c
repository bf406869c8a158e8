#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "stdin_reader.h"

#define READ_CHUNK 4096 /* what one input_fill reads at most */

struct fixture {
	int rd, wr;     /* the pipe; wr is -1 once closed */
	struct input in;
	struct buf log; /* events seen, as "L[text]" or "T" */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	int p[2];
	assert_int_equal(pipe(p), 0);
	f->rd = p[0];
	f->wr = p[1];
	buf_init(&f->log, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	input_free(&f->in);
	close(f->rd);
	if (f->wr >= 0)
		close(f->wr);
	buf_free(&f->log);
	free(f);
	return 0;
}

static void feed(struct fixture *f, const char *data, size_t len)
{
	assert_int_equal(write(f->wr, data, len), (ssize_t)len);
}

static void feed_str(struct fixture *f, const char *s)
{
	feed(f, s, strlen(s));
}

static void close_writer(struct fixture *f)
{
	close(f->wr);
	f->wr = -1;
}

/* Records every event up to INPUT_NONE; returns how many there were. */
static int take_events(struct fixture *f)
{
	int count = 0;
	char *line;
	size_t len;
	enum input_event ev;
	while ((ev = input_next(&f->in, &line, &len)) != INPUT_NONE) {
		if (ev == INPUT_LINE) {
			assert_int_equal(line[len], '\0');
			assert_null(memchr(line, '\n', len));
			assert_int_equal(buf_append(&f->log, "L[", 2), 0);
			assert_int_equal(buf_append(&f->log, line, len), 0);
			assert_int_equal(buf_append(&f->log, "]", 1), 0);
		} else {
			assert_int_equal(ev, INPUT_TOO_LONG);
			assert_int_equal(buf_append(&f->log, "T", 1), 0);
		}
		count++;
	}
	return count;
}

/* One read, then every event it made complete. */
static int fill_and_take(struct fixture *f)
{
	long n = input_fill(&f->in);
	assert_true(n >= 0);
	assert_true(f->in.pending.len <= f->in.max_line + READ_CHUNK);
	return take_events(f);
}

/* Reads to end of input (the writer must be closed). */
static void take_all(struct fixture *f)
{
	for (int i = 0; i < 10000 && !f->in.eof; i++)
		fill_and_take(f);
	assert_true(f->in.eof);
	take_events(f);
}

static void expect_log(struct fixture *f, const char *want)
{
	const char *got = f->log.len ? f->log.data : "";
	assert_string_equal(got, want);
}

static void test_lines_in_one_read(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 100);
	feed_str(f, "a\nbb\nccc\n");
	assert_int_equal(fill_and_take(f), 3);
	expect_log(f, "L[a]L[bb]L[ccc]");
}

static void test_split_across_reads(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 100);
	feed_str(f, "hel");
	assert_int_equal(fill_and_take(f), 0);
	feed_str(f, "lo\nwor");
	assert_int_equal(fill_and_take(f), 1);
	expect_log(f, "L[hello]");
	feed_str(f, "l");
	assert_int_equal(fill_and_take(f), 0);
	feed_str(f, "d\n\n!");
	assert_int_equal(fill_and_take(f), 2);
	expect_log(f, "L[hello]L[world]L[]");
	feed_str(f, "\n");
	assert_int_equal(fill_and_take(f), 1);
	expect_log(f, "L[hello]L[world]L[]L[!]");
}

static void test_line_returned_is_writable(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 100);
	feed_str(f, "abc\ndef\n");
	assert_true(input_fill(&f->in) > 0);
	char *line;
	size_t len;
	assert_int_equal(input_next(&f->in, &line, &len), INPUT_LINE);
	assert_int_equal(len, 3);
	line[0] = 'X'; /* parse cleans lines in place */
	assert_string_equal(line, "Xbc");
	assert_int_equal(input_next(&f->in, &line, &len), INPUT_LINE);
	assert_string_equal(line, "def");
	assert_int_equal(input_next(&f->in, &line, &len), INPUT_NONE);
}

static void test_exactly_max_line(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 8);
	feed_str(f, "12345678\n");
	assert_int_equal(fill_and_take(f), 1);
	expect_log(f, "L[12345678]");
}

static void test_max_line_plus_one(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 8);
	feed_str(f, "123456789\nnext\n");
	close_writer(f);
	take_all(f);
	expect_log(f, "TL[next]");
}

/* The line is known to be too long before its end arrives; the rest of it
 * must not come out as a line of its own. */
static void test_too_long_before_newline(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 8);
	feed_str(f, "123456789");
	assert_int_equal(fill_and_take(f), 1);
	expect_log(f, "T");
	feed_str(f, "abc");
	assert_int_equal(fill_and_take(f), 0);
	feed_str(f, "def\nok\n");
	assert_int_equal(fill_and_take(f), 1);
	expect_log(f, "TL[ok]");
}

static void test_too_long_over_many_reads(void **state)
{
	struct fixture *f = *state;
	enum { LONG = 5 * READ_CHUNK + 123 };
	char *data = malloc(LONG);
	assert_non_null(data);
	memset(data, 'x', LONG);
	input_init(&f->in, f->rd, 100);
	feed_str(f, "before\n");
	feed(f, data, LONG);
	feed_str(f, "\nafter\n");
	close_writer(f);
	free(data);
	take_all(f);
	expect_log(f, "L[before]TL[after]");
}

static void test_two_long_lines(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 4);
	feed_str(f, "toolong1\nok\ntoolong2\n\n");
	close_writer(f);
	take_all(f);
	expect_log(f, "TL[ok]TL[]");
}

static void test_last_line_without_newline(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 100);
	feed_str(f, "one\ntwo");
	assert_int_equal(fill_and_take(f), 1);
	expect_log(f, "L[one]");
	close_writer(f);
	assert_int_equal(input_fill(&f->in), 0);
	assert_true(f->in.eof);
	assert_int_equal(take_events(f), 1);
	expect_log(f, "L[one]L[two]");
	assert_int_equal(take_events(f), 0);
}

static void test_last_line_at_eof_too_long(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 4);
	feed_str(f, "abcd\nabcde");
	close_writer(f);
	take_all(f);
	expect_log(f, "L[abcd]T");
}

static void test_empty_lines(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 100);
	feed_str(f, "\n\nx\n\n");
	close_writer(f);
	take_all(f);
	expect_log(f, "L[]L[]L[x]L[]");
}

static void test_eof_without_data(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 100);
	close_writer(f);
	assert_int_equal(input_fill(&f->in), 0);
	assert_true(f->in.eof);
	assert_int_equal(take_events(f), 0);
}

static void test_fill_returns_bytes(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 100);
	feed_str(f, "12345");
	assert_int_equal(input_fill(&f->in), 5);
	assert_false(f->in.eof);
}

static void test_fill_error(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, -1, 100);
	assert_int_equal(input_fill(&f->in), -1);
}

static void test_bytes_kept(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 100);
	feed_str(f, "  \\back\\slash\t \xc5\xbd\r\n");
	close_writer(f);
	take_all(f);
	expect_log(f, "L[  \\back\\slash\t \xc5\xbd\r]");
}

static void test_lines_taken_in_place(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 100);
	feed_str(f, "a\nbb\nccc\n");
	assert_true(input_fill(&f->in) > 0);
	char *a, *b, *c;
	size_t len;
	assert_int_equal(input_next(&f->in, &a, &len), INPUT_LINE);
	assert_int_equal(input_next(&f->in, &b, &len), INPUT_LINE);
	assert_int_equal(input_next(&f->in, &c, &len), INPUT_LINE);
	/* Taking a line does not move the lines after it. */
	assert_ptr_equal(b, a + 2);
	assert_ptr_equal(c, a + 5);
	assert_string_equal(c, "ccc");
}

/* Lines of every length up to max_line, cut anywhere by 4 KiB reads. */
static void test_many_lines_over_many_reads(void **state)
{
	struct fixture *f = *state;
	const size_t max_line = 300;
	input_init(&f->in, f->rd, max_line);
	/* A bug that waits for more must fail the test, not hang it. */
	int flags = fcntl(f->rd, F_GETFL);
	assert_int_equal(fcntl(f->rd, F_SETFL, flags | O_NONBLOCK), 0);
	struct buf want;
	buf_init(&want, 0);
	char line[301];
	size_t i = 0;
	for (int batch = 0; batch < 40; batch++) {
		size_t fed = 0;
		for (; fed < 16 * 1024; i++) {
			size_t len = (i * 53) % (max_line + 1);
			memset(line, 'a' + (int)(i % 26), len);
			line[len] = '\n';
			feed(f, line, len + 1);
			fed += len + 1;
			assert_int_equal(buf_append(&want, "L[", 2), 0);
			assert_int_equal(buf_append(&want, line, len), 0);
			assert_int_equal(buf_append(&want, "]", 1), 0);
		}
		while (f->log.len < want.len) {
			fill_and_take(f);
			/* No larger an allocation than one line and one read
			 * ever needed. */
			assert_true(f->in.pending.cap <
			            2 * (max_line + READ_CHUNK + 2));
		}
	}
	assert_int_equal(f->log.len, want.len);
	assert_memory_equal(f->log.data, want.data, want.len);
	buf_free(&want);
}


/* One long line (a WebRTC offer) does not keep its buffer afterwards. */
static void test_long_line_buffer_released(void **state)
{
	struct fixture *f = *state;
	input_init(&f->in, f->rd, 64 * 1024);
	static char big[40 * 1024];
	memset(big, 'o', sizeof big - 1);
	big[sizeof big - 1] = '\n';
	for (size_t at = 0; at < sizeof big; at += READ_CHUNK) {
		size_t n = sizeof big - at < READ_CHUNK ? sizeof big - at : READ_CHUNK;
		feed(f, big + at, n);
		fill_and_take(f);
	}
	assert_true(f->in.pending.cap >= sizeof big);
	feed_str(f, "short\n");
	assert_int_equal(fill_and_take(f), 1);
	assert_true(f->in.pending.cap <= 3 * READ_CHUNK);
	assert_int_equal(f->log.len, 2 + (sizeof big - 1) + 1 + 8);
	assert_string_equal(f->log.data + f->log.len - 8, "L[short]");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_lines_in_one_read),
		T(test_long_line_buffer_released),
		T(test_split_across_reads),
		T(test_line_returned_is_writable),
		T(test_exactly_max_line),
		T(test_max_line_plus_one),
		T(test_too_long_before_newline),
		T(test_too_long_over_many_reads),
		T(test_two_long_lines),
		T(test_last_line_without_newline),
		T(test_last_line_at_eof_too_long),
		T(test_empty_lines),
		T(test_eof_without_data),
		T(test_fill_returns_bytes),
		T(test_fill_error),
		T(test_bytes_kept),
		T(test_lines_taken_in_place),
		T(test_many_lines_over_many_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
