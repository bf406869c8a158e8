#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

struct fixture {
	struct loop l;
	int in[2];  /* a pipe watched as LOOP_STDIN */
	int out[2]; /* a pipe watched as LOOP_STDOUT (its write end) */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_int_equal(loop_open(&f->l), 0);
	assert_int_equal(pipe(f->in), 0);
	assert_int_equal(pipe(f->out), 0);
	assert_int_equal(loop_set_fd(&f->l, LOOP_STDIN, f->in[0]), 0);
	assert_int_equal(loop_set_fd(&f->l, LOOP_STDOUT, f->out[1]), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	loop_close(&f->l);
	for (int i = 0; i < 2; i++) {
		if (f->in[i] >= 0)
			close(f->in[i]);
		if (f->out[i] >= 0)
			close(f->out[i]);
	}
	free(f);
	return 0;
}

static void test_nothing_ready_times_out(void **state)
{
	struct fixture *f = *state;
	bool ready[LOOP_SOURCES];
	assert_int_equal(loop_want(&f->l, LOOP_STDIN, EPOLLIN), 0);
	assert_int_equal(loop_wait(&f->l, 0, ready), 0);
	for (int s = 0; s < LOOP_SOURCES; s++)
		assert_false(ready[s]);
}

static void test_input_ready(void **state)
{
	struct fixture *f = *state;
	bool ready[LOOP_SOURCES];
	assert_int_equal(loop_want(&f->l, LOOP_STDIN, EPOLLIN), 0);
	assert_int_equal(write(f->in[1], "x", 1), 1);
	assert_int_equal(loop_wait(&f->l, 1000, ready), 1);
	assert_true(ready[LOOP_STDIN]);
	assert_false(ready[LOOP_STDOUT]);
	/* level-triggered: still ready until read */
	assert_int_equal(loop_wait(&f->l, 0, ready), 1);
	char c;
	assert_int_equal(read(f->in[0], &c, 1), 1);
	assert_int_equal(loop_wait(&f->l, 0, ready), 0);
}

/* Asking for nothing (a full output queue) hides waiting input... */
static void test_unwanted_input_not_reported(void **state)
{
	struct fixture *f = *state;
	bool ready[LOOP_SOURCES];
	assert_int_equal(loop_want(&f->l, LOOP_STDIN, EPOLLIN), 0);
	assert_int_equal(write(f->in[1], "x", 1), 1);
	assert_int_equal(loop_want(&f->l, LOOP_STDIN, 0), 0);
	assert_int_equal(loop_wait(&f->l, 0, ready), 0);
	assert_false(ready[LOOP_STDIN]);
	/* ...until it is asked for again. */
	assert_int_equal(loop_want(&f->l, LOOP_STDIN, EPOLLIN), 0);
	assert_int_equal(loop_wait(&f->l, 0, ready), 1);
	assert_true(ready[LOOP_STDIN]);
}

static void test_output_ready_and_switching(void **state)
{
	struct fixture *f = *state;
	bool ready[LOOP_SOURCES];
	assert_int_equal(loop_want(&f->l, LOOP_STDOUT, EPOLLOUT), 0);
	assert_int_equal(loop_wait(&f->l, 0, ready), 1);
	assert_true(ready[LOOP_STDOUT]);
	/* the same interest twice, then another: both fine */
	assert_int_equal(loop_want(&f->l, LOOP_STDOUT, EPOLLOUT), 0);
	assert_int_equal(loop_want(&f->l, LOOP_STDOUT, EPOLLIN), 0);
	assert_int_equal(loop_wait(&f->l, 0, ready), 0);
}

static void test_hangup_reported(void **state)
{
	struct fixture *f = *state;
	bool ready[LOOP_SOURCES];
	assert_int_equal(loop_want(&f->l, LOOP_STDIN, EPOLLIN), 0);
	close(f->in[1]);
	f->in[1] = -1;
	assert_int_equal(loop_wait(&f->l, 1000, ready), 1);
	assert_true(ready[LOOP_STDIN]);
}

/* epoll refuses regular files; poll(2) calls them always ready. */
static void test_regular_file_always_ready(void **state)
{
	struct fixture *f = *state;
	bool ready[LOOP_SOURCES];
	char path[] = "/tmp/test_loop.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(loop_set_fd(&f->l, LOOP_PRIVATE, fd), 0);
	assert_int_equal(loop_want(&f->l, LOOP_PRIVATE, EPOLLIN), 0);
	assert_int_equal(loop_wait(&f->l, 1000, ready), 1);
	assert_true(ready[LOOP_PRIVATE]);
	assert_int_equal(loop_want(&f->l, LOOP_PRIVATE, 0), 0);
	assert_int_equal(loop_wait(&f->l, 0, ready), 0);
	close(fd);
}

static void test_missing_source_ignored(void **state)
{
	struct fixture *f = *state;
	bool ready[LOOP_SOURCES];
	assert_int_equal(loop_want(&f->l, LOOP_ROOM, EPOLLIN), 0);
	assert_int_equal(loop_wait(&f->l, 0, ready), 0);
	assert_false(ready[LOOP_ROOM]);
}

static void test_bad_descriptor_fails(void **state)
{
	struct fixture *f = *state;
	int fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(loop_set_fd(&f->l, LOOP_PRIVATE, fd), 0);
	assert_int_equal(loop_want(&f->l, LOOP_PRIVATE, EPOLLIN), -1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_nothing_ready_times_out),
		T(test_input_ready),
		T(test_unwanted_input_not_reported),
		T(test_output_ready_and_switching),
		T(test_hangup_reported),
		T(test_regular_file_always_ready),
		T(test_missing_source_ignored),
		T(test_bad_descriptor_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
