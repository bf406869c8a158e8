#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "inbox.h"
#include "support/tmpdir.h"

struct fixture {
	char dir[64];
	int run_fd;         /* the run directory */
	int presence_fd;    /* the receiver's presence file */
	int member_fd;      /* another descriptor of it, as a sender has */
	struct inbox ib;
	struct buf out;
};

static int open_file(const char *dir, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	assert_true(fd >= 0);
	return fd;
}

static int open_dir(const char *path)
{
	assert_int_equal(mkdir(path, 0750), 0);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_true(tmpdir_make(f->dir, sizeof f->dir, "test_inbox"));
	char run[128];
	snprintf(run, sizeof run, "%s/run", f->dir);
	f->run_fd = open_dir(run);
	f->presence_fd = open_file(f->dir, "lobby_Bob");
	f->member_fd = open_file(f->dir, "lobby_Bob");
	f->ib.fd = -1;
	buf_init(&f->out, 0);
	assert_int_equal(inbox_open(&f->ib, f->run_fd, f->presence_fd, 0640), 0);
	assert_true(f->ib.fd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	inbox_close(&f->ib);
	buf_free(&f->out);
	close(f->member_fd);
	close(f->presence_fd);
	close(f->run_fd);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Connects to the receiver's inbox as a sender does: through another
 * descriptor of its presence file. */
static int connect_member(struct fixture *f)
{
	int fd = inbox_connect(f->run_fd, f->member_fd);
	assert_true(fd >= 0);
	return fd;
}

static void send_ok(struct fixture *f, const char *line)
{
	int fd = connect_member(f);
	assert_int_equal(inbox_try_send(fd, line, strlen(line)), 0);
	close(fd);
}

static void expect_line(struct fixture *f, const char *line)
{
	assert_int_equal(inbox_receive(&f->ib, &f->out), 1);
	assert_int_equal(f->out.len, strlen(line));
	assert_memory_equal(f->out.data, line, f->out.len);
}

static void expect_nothing(struct fixture *f)
{
	assert_int_equal(inbox_receive(&f->ib, &f->out), 0);
}

static void expect_gone(int run_fd, int member_fd)
{
	errno = 0;
	assert_int_equal(inbox_connect(run_fd, member_fd), -1);
	assert_true(errno == ENOENT || errno == ECONNREFUSED);
}

static bool writable(int fd)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	assert_true(poll(&p, 1, 0) >= 0);
	return (p.revents & POLLOUT) != 0;
}

static void test_send_and_receive(void **state)
{
	struct fixture *f = *state;
	expect_nothing(f);
	send_ok(f, "[12:00:00] Alice> Bob: hi\n");
	expect_line(f, "[12:00:00] Alice> Bob: hi\n");
	expect_nothing(f);
}

static void test_lines_in_order(void **state)
{
	struct fixture *f = *state;
	send_ok(f, "one\n");
	send_ok(f, "two\n");
	send_ok(f, "three\n");
	expect_line(f, "one\n");
	expect_line(f, "two\n");
	expect_line(f, "three\n");
	expect_nothing(f);
}

/* Only whole single lines are taken; anything else is dropped. */
static void test_partial_and_multiple_lines_dropped(void **state)
{
	struct fixture *f = *state;
	send_ok(f, "no newline");
	expect_nothing(f);
	send_ok(f, "two\nlines\n");
	expect_nothing(f);
	send_ok(f, "\nx");
	expect_nothing(f);
	send_ok(f, "no newline");
	send_ok(f, "after\n");
	expect_line(f, "after\n");
	expect_nothing(f);
}

static void test_closed_inbox(void **state)
{
	struct fixture *f = *state;
	inbox_close(&f->ib);
	inbox_close(&f->ib); /* twice is safe */
	expect_gone(f->run_fd, f->member_fd);
}

/* A process that died left its socket file: nobody reads it. */
static void test_dead_inbox(void **state)
{
	struct fixture *f = *state;
	close(f->ib.fd);
	f->ib.fd = -1;
	expect_gone(f->run_fd, f->member_fd);
}

/* The addressee leaves while a sender holds a connected socket. */
static void test_gone_after_connect(void **state)
{
	struct fixture *f = *state;
	int fd = connect_member(f);
	inbox_close(&f->ib);
	errno = 0;
	assert_int_equal(inbox_try_send(fd, "late\n", 5), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(fd);
}

/* A line in flight never reaches whoever binds the same name later. */
static void test_rebound_name_not_reached(void **state)
{
	struct fixture *f = *state;
	int fd = connect_member(f);
	inbox_close(&f->ib);
	assert_int_equal(inbox_open(&f->ib, f->run_fd, f->presence_fd, 0640), 0);
	errno = 0;
	assert_int_equal(inbox_try_send(fd, "late\n", 5), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(fd);
	expect_nothing(f);
	send_ok(f, "new\n");
	expect_line(f, "new\n");
}

/* Another presence file (someone who joined later under the same name) has
 * another inbox. */
static void test_other_presence_file_other_inbox(void **state)
{
	struct fixture *f = *state;
	int later = open_file(f->dir, "lobby_Bob2");
	expect_gone(f->run_fd, later);
	expect_nothing(f);

	struct inbox ib2 = { .fd = -1 };
	assert_int_equal(inbox_open(&ib2, f->run_fd, later, 0640), 0);
	assert_string_not_equal(ib2.name, f->ib.name);
	int two = inbox_connect(f->run_fd, later);
	assert_true(two >= 0);
	assert_int_equal(inbox_try_send(two, "for two\n", 8), 0);
	close(two);
	send_ok(f, "for one\n");
	assert_int_equal(inbox_receive(&ib2, &f->out), 1);
	assert_int_equal(f->out.len, 8);
	assert_memory_equal(f->out.data, "for two\n", 8);
	assert_int_equal(inbox_receive(&ib2, &f->out), 0);
	expect_line(f, "for one\n");
	inbox_close(&ib2);
	close(later);
}

static char *line_of(size_t len)
{
	char *s = malloc(len);
	assert_non_null(s);
	memset(s, 'x', len - 1);
	s[len - 1] = '\n';
	return s;
}

static void test_size_limit(void **state)
{
	struct fixture *f = *state;
	int fd = connect_member(f);
	/* The largest line is delivered whole. */
	char *max = line_of(INBOX_LINE_MAX);
	assert_int_equal(inbox_try_send(fd, max, INBOX_LINE_MAX), 0);
	assert_int_equal(inbox_receive(&f->ib, &f->out), 1);
	assert_int_equal(f->out.len, INBOX_LINE_MAX);
	assert_memory_equal(f->out.data, max, INBOX_LINE_MAX);
	free(max);

	char *over = line_of(INBOX_LINE_MAX + 1);
	errno = 0;
	assert_int_equal(inbox_try_send(fd, over, INBOX_LINE_MAX + 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	free(over);
	expect_nothing(f);
	close(fd);
}

/* A receiver that does not read: the sender is told EAGAIN at once (no
 * waiting), POLLOUT says when there is room again, and what was queued
 * arrives in order. */
static void test_full_queue(void **state)
{
	struct fixture *f = *state;
	int fd = connect_member(f);
	char line[32];
	int sent = 0, rc = 0;
	assert_true(writable(fd));
	for (; sent < 100000; sent++) {
		int n = snprintf(line, sizeof line, "%d\n", sent);
		errno = 0;
		rc = inbox_try_send(fd, line, (size_t)n);
		if (rc < 0)
			break;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(errno, EAGAIN);
	assert_true(sent > 0);
	assert_false(writable(fd));
	for (int i = 0; i < sent; i++) {
		int n = snprintf(line, sizeof line, "%d\n", i);
		assert_int_equal(inbox_receive(&f->ib, &f->out), 1);
		assert_int_equal(f->out.len, (size_t)n);
		assert_memory_equal(f->out.data, line, (size_t)n);
	}
	expect_nothing(f);
	assert_true(writable(fd));
	assert_int_equal(inbox_try_send(fd, "again\n", 6), 0);
	expect_line(f, "again\n");
	close(fd);
}

/* sun_path is about 100 bytes; the run directory may be longer. */
static void test_long_run_dir(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/", f->dir);
	memset(path + n, 'd', 150);
	path[n + 150] = '\0';
	int run = open_dir(path);
	struct inbox ib = { .fd = -1 };
	assert_int_equal(inbox_open(&ib, run, f->presence_fd, 0640), 0);
	int fd = inbox_connect(run, f->member_fd);
	assert_true(fd >= 0);
	assert_int_equal(inbox_try_send(fd, "far\n", 4), 0);
	close(fd);
	assert_int_equal(inbox_receive(&ib, &f->out), 1);
	assert_int_equal(f->out.len, 4);
	assert_memory_equal(f->out.data, "far\n", 4);
	inbox_close(&ib);
	close(run);
}

/* A socket file left by a dead process with the same name is replaced. */
static void test_stale_socket_replaced(void **state)
{
	struct fixture *f = *state;
	close(f->ib.fd); /* died without unbinding */
	f->ib.fd = -1;
	assert_int_equal(inbox_open(&f->ib, f->run_fd, f->presence_fd, 0640), 0);
	send_ok(f, "new\n");
	expect_line(f, "new\n");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_send_and_receive),
		T(test_lines_in_order),
		T(test_partial_and_multiple_lines_dropped),
		T(test_closed_inbox),
		T(test_dead_inbox),
		T(test_gone_after_connect),
		T(test_rebound_name_not_reached),
		T(test_other_presence_file_other_inbox),
		T(test_size_limit),
		T(test_full_queue),
		T(test_long_run_dir),
		T(test_stale_socket_replaced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
