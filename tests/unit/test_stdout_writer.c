#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "buf.h"
#include "stdout_writer.h"

#define KEEP OUTPUT_KEEP

struct fixture {
	int rd, wr;       /* the pipe; -1 once closed */
	size_t pipe_size; /* what the pipe holds unread */
	struct output out;
	struct buf want;  /* every byte pushed, in order */
	struct buf got;   /* every byte read from the pipe */
};

/* A pipe as small as the kernel allows, so that any real queue needs many
 * partial writes. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	int p[2];
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	f->rd = p[0];
	f->wr = p[1];
	assert_true(fcntl(f->wr, F_SETPIPE_SZ, 4096) > 0);
	int size = fcntl(f->wr, F_GETPIPE_SZ);
	assert_true(size > 0);
	f->pipe_size = (size_t)size;
	buf_init(&f->want, 0);
	buf_init(&f->got, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	output_free(&f->out);
	if (f->rd >= 0)
		close(f->rd);
	if (f->wr >= 0)
		close(f->wr);
	buf_free(&f->want);
	buf_free(&f->got);
	free(f);
	return 0;
}

static void init_output(struct fixture *f, size_t limit, size_t low_water)
{
	assert_int_equal(output_init(&f->out, f->wr, limit, low_water), 0);
	assert_true(fcntl(f->wr, F_GETFL) & O_NONBLOCK);
}

/* Line i: numbered, of a length that varies with i. */
static size_t make_line(size_t i, char *line, size_t size)
{
	int n = snprintf(line, size, "line %zu ", i);
	assert_true(n > 0 && (size_t)n < size);
	size_t len = (size_t)n;
	size_t pad = (i * 37) % 200;
	assert_true(len + pad + 1 <= size);
	memset(line + len, (int)('a' + i % 26), pad);
	len += pad;
	line[len++] = '\n';
	return len;
}

/* Pushes line i; on success it is part of the stream expected. */
static int push_line(struct fixture *f, size_t i)
{
	char line[256];
	size_t len = make_line(i, line, sizeof line);
	int rc = output_push(&f->out, line, len);
	if (rc == 0)
		assert_int_equal(buf_append(&f->want, line, len), 0);
	return rc;
}

static void push_lines(struct fixture *f, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		assert_int_equal(push_line(f, i), 0);
}

/* Reads at most max bytes the pipe holds; returns how many. */
static size_t read_pipe(struct fixture *f, size_t max)
{
	char chunk[4096];
	size_t total = 0;
	while (total < max) {
		size_t want = max - total < sizeof chunk ? max - total : sizeof chunk;
		ssize_t n = read(f->rd, chunk, want);
		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			break;
		}
		if (n == 0)
			break;
		assert_int_equal(buf_append(&f->got, chunk, (size_t)n), 0);
		total += (size_t)n;
	}
	return total;
}

static size_t in_pipe(const struct fixture *f)
{
	int n = 0;
	assert_int_equal(ioctl(f->rd, FIONREAD, &n), 0);
	return (size_t)n;
}

/* Whatever was pushed is either read, in the pipe, or still queued. */
static void check_accounting(const struct fixture *f)
{
	assert_int_equal(f->out.queue.len,
	                 f->want.len - f->got.len - in_pipe(f));
}

/* Flushes and reads until everything pushed has been read. */
static void drain(struct fixture *f)
{
	for (int i = 0; i < 100000 && (output_pending(&f->out) ||
	                                 in_pipe(f) > 0); i++) {
		assert_int_equal(output_flush(&f->out), 0);
		check_accounting(f);
		read_pipe(f, SIZE_MAX);
	}
	assert_false(output_pending(&f->out));
	assert_int_equal(in_pipe(f), 0);
}

static void expect_stream(const struct fixture *f)
{
	assert_int_equal(f->got.len, f->want.len);
	assert_memory_equal(f->got.data, f->want.data, f->want.len);
}

static void test_partial_writes_keep_the_stream(void **state)
{
	struct fixture *f = *state;
	init_output(f, 1024 * 1024, 512 * 1024);
	push_lines(f, 0, 2000);
	assert_true(f->want.len > 20 * f->pipe_size);

	assert_int_equal(output_flush(&f->out), 0);
	assert_true(output_pending(&f->out));
	size_t sent = in_pipe(f);
	assert_true(sent > 0 && sent < f->want.len);
	check_accounting(f);
	/* What went out was stepped over, not moved out of the way. */
	assert_ptr_equal(f->out.queue.data, f->out.queue.base + sent);

	drain(f);
	expect_stream(f);
}

static void test_interleaved_push_and_flush(void **state)
{
	struct fixture *f = *state;
	init_output(f, 1024 * 1024, 512 * 1024);
	for (size_t i = 0; i < 20000; i++) {
		assert_int_equal(push_line(f, i), 0);
		if (i % 3 == 0)
			assert_int_equal(output_flush(&f->out), 0);
		if (i % 5 == 0)
			read_pipe(f, 1 + (i * 131) % 1500);
		check_accounting(f);
	}
	drain(f);
	expect_stream(f);
}

/* Fills the queue with lines until one does not fit; returns the next
 * line number. */
static size_t fill(struct fixture *f, size_t i)
{
	while (push_line(f, i) == 0)
		i++;
	assert_int_equal(errno, EMSGSIZE);
	return i;
}

static void test_limit_counts_unsent_bytes(void **state)
{
	struct fixture *f = *state;
	const size_t limit = 8 * f->pipe_size, low = 4 * f->pipe_size;
	init_output(f, limit, low);

	size_t i = fill(f, 0);
	assert_true(f->out.queue.len <= limit);
	assert_true(f->out.queue.len > limit - 256);
	assert_false(output_has_room(&f->out));

	/* Once some went out, as much fits again, and no more. */
	size_t before = f->out.queue.len;
	assert_int_equal(output_flush(&f->out), 0);
	size_t sent = before - f->out.queue.len;
	assert_int_equal(sent, in_pipe(f));
	assert_true(sent > 0);
	i = fill(f, i);
	assert_true(f->out.queue.len <= limit);
	assert_true(f->out.queue.len > limit - 256);
	assert_true(f->want.len > limit + sent - 256);
	check_accounting(f);

	/* Room for the log again only below the low-water mark. */
	for (int n = 0; n < 1000 && !output_has_room(&f->out); n++) {
		assert_true(f->out.queue.len >= low);
		read_pipe(f, SIZE_MAX);
		assert_int_equal(output_flush(&f->out), 0);
	}
	assert_true(output_has_room(&f->out));
	assert_true(f->out.queue.len < low);

	drain(f);
	expect_stream(f);
	assert_true(i > 0);
}

static void test_storage_released_after_a_backlog(void **state)
{
	struct fixture *f = *state;
	init_output(f, 2 * 1024 * 1024, 512 * 1024);
	push_lines(f, 0, 10000);
	assert_true(f->out.queue.len > 1024 * 1024);
	assert_true(f->out.queue.cap > KEEP);

	/* Not while any of it waits. */
	assert_int_equal(output_flush(&f->out), 0);
	assert_true(output_pending(&f->out));
	assert_non_null(f->out.queue.base);

	drain(f);
	expect_stream(f);
	assert_null(f->out.queue.base);
	assert_null(f->out.queue.data);
	assert_int_equal(f->out.queue.cap, 0);

	/* The queue is usable afterwards, and a small one keeps its
	 * storage. */
	push_lines(f, 10000, 10010);
	drain(f);
	expect_stream(f);
	assert_non_null(f->out.queue.base);
	assert_true(f->out.queue.cap <= KEEP);
}

struct slow_reader {
	int fd;
	struct buf got;
	int error; /* errno of a failed read or append, else 0 */
};

/* Reads to end of file in small blocking reads, so the writer keeps
 * finding the pipe full. */
static void *read_slowly(void *arg)
{
	struct slow_reader *r = arg;
	char chunk[1000];
	for (;;) {
		ssize_t n = read(r->fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->error = n < 0 ? errno : 0;
			return NULL;
		}
		if (buf_append(&r->got, chunk, (size_t)n) < 0) {
			r->error = errno;
			return NULL;
		}
		usleep(100);
	}
}

static void test_drain_to_a_slow_reader(void **state)
{
	struct fixture *f = *state;
	init_output(f, 1024 * 1024, 512 * 1024);
	push_lines(f, 0, 3000);
	int flags = fcntl(f->rd, F_GETFL);
	assert_int_equal(fcntl(f->rd, F_SETFL, flags & ~O_NONBLOCK), 0);
	struct slow_reader r = { .fd = f->rd, .error = 0 };
	buf_init(&r.got, 0);
	pthread_t reader;
	assert_int_equal(pthread_create(&reader, NULL, read_slowly, &r), 0);

	output_drain(&f->out, 60 * 1000);
	bool pending = output_pending(&f->out);
	close(f->wr);
	f->wr = -1;
	assert_int_equal(pthread_join(reader, NULL), 0);

	assert_false(pending);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.got.len, f->want.len);
	assert_memory_equal(r.got.data, f->want.data, f->want.len);
	buf_free(&r.got);
}

static void test_reader_gone(void **state)
{
	struct fixture *f = *state;
	init_output(f, 1024 * 1024, 512 * 1024);
	close(f->rd);
	f->rd = -1;
	push_lines(f, 0, 1);
	errno = 0;
	assert_int_equal(output_flush(&f->out), -1);
	assert_int_equal(errno, EPIPE);
	assert_true(output_pending(&f->out));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	/* chat_server ignores SIGPIPE too: a closed reader is an EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		T(test_partial_writes_keep_the_stream),
		T(test_interleaved_push_and_flush),
		T(test_limit_counts_unsent_bytes),
		T(test_storage_released_after_a_backlog),
		T(test_drain_to_a_slow_reader),
		T(test_reader_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
