#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "follow.h"
#include "support/tmpdir.h"

#define LOG "room.log"

/* Every line the follower delivered, concatenated, and how many. */
struct collected {
	struct buf text;
	int lines;
	int stop_after; /* ask the follower to stop after this many (0: never) */
};

struct fixture {
	char dir[64];
	int dir_fd;
	struct follower f;
	bool open;
	struct collected c;
};

static int collect(void *ctx, const char *line, size_t len)
{
	struct collected *c = ctx;
	assert_true(len > 0);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1));
	assert_int_equal(buf_append(&c->text, line, len), 0);
	c->lines++;
	return c->stop_after && c->lines >= c->stop_after ? 1 : 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_true(tmpdir_make(f->dir, sizeof f->dir, "test_follow"));
	f->dir_fd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->dir_fd >= 0);
	buf_init(&f->c.text, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->open)
		follower_close(&f->f);
	buf_free(&f->c.text);
	close(f->dir_fd);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void write_file(struct fixture *f, const char *name, const char *data,
                       size_t len, int flags)
{
	int fd = openat(f->dir_fd, name, O_WRONLY | O_CREAT | flags, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void append(struct fixture *f, const char *name, const char *s)
{
	write_file(f, name, s, strlen(s), O_APPEND);
}

/* copytruncate's second half: the file shrinks to 0 in place. */
static void truncate_file(struct fixture *f, const char *name)
{
	int fd = openat(f->dir_fd, name, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 0), 0);
	close(fd);
}

static void open_follower(struct fixture *f, int inotify_fd)
{
	assert_int_equal(follower_open(&f->f, f->dir_fd, LOG, inotify_fd), 0);
	f->open = true;
}

/* Calls follower_update until it is caught up. */
static void update_all(struct fixture *f)
{
	for (int i = 0; i < 1000; i++) {
		int rc = follower_update(&f->f, 1 << 20, collect, &f->c);
		assert_true(rc == 0 || rc == 1);
		if (rc == 0)
			return;
	}
	fail_msg("follower_update never caught up");
}

/* What was delivered since the last call. */
static void expect_new(struct fixture *f, const char *want, int lines)
{
	const char *got = f->c.text.len ? f->c.text.data : "";
	assert_string_equal(got, want);
	assert_int_equal(f->c.lines, lines);
	buf_clear(&f->c.text);
	f->c.lines = 0;
}

static void test_starts_at_end(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "old1\nold2\n");
	open_follower(f, -1);
	update_all(f);
	expect_new(f, "", 0);
	append(f, LOG, "new1\nnew2\n");
	update_all(f);
	expect_new(f, "new1\nnew2\n", 2);
	update_all(f);
	expect_new(f, "", 0);
	append(f, LOG, "new3\n");
	update_all(f);
	expect_new(f, "new3\n", 1);
}

static void test_partial_line_held(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "");
	open_follower(f, -1);
	append(f, LOG, "hal");
	update_all(f);
	expect_new(f, "", 0);
	append(f, LOG, "f\nnex");
	update_all(f);
	expect_new(f, "half\n", 1);
	append(f, LOG, "t");
	update_all(f);
	expect_new(f, "", 0);
	append(f, LOG, "\n\n");
	update_all(f);
	expect_new(f, "next\n\n", 2);
}

static void test_rewind_lines(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "l1\nl2\nl3\nl4\nl5\n");
	open_follower(f, -1);
	assert_int_equal(follower_rewind_lines(&f->f, 3), 0);
	update_all(f);
	expect_new(f, "l3\nl4\nl5\n", 3);
	append(f, LOG, "l6\n");
	update_all(f);
	expect_new(f, "l6\n", 1);
}

static void test_rewind_with_partial_tail(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "l1\nl2\nl3\nhalf");
	open_follower(f, -1);
	assert_int_equal(follower_rewind_lines(&f->f, 2), 0);
	update_all(f);
	expect_new(f, "l2\nl3\n", 2);
	append(f, LOG, "-done\n");
	update_all(f);
	expect_new(f, "half-done\n", 1);
}

static void test_rewind_more_than_file(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "l1\nl2\n");
	open_follower(f, -1);
	assert_int_equal(follower_rewind_lines(&f->f, 20), 0);
	update_all(f);
	expect_new(f, "l1\nl2\n", 2);
}

static void test_rewind_zero(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "l1\nl2\n");
	open_follower(f, -1);
	assert_int_equal(follower_rewind_lines(&f->f, 0), 0);
	update_all(f);
	expect_new(f, "", 0);
}

static void test_rewind_long_file(void **state)
{
	struct fixture *f = *state;
	char line[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(line, sizeof line, "line %04d\n", i);
		append(f, LOG, line);
	}
	open_follower(f, -1);
	assert_int_equal(follower_rewind_lines(&f->f, 2), 0);
	update_all(f);
	expect_new(f, "line 2998\nline 2999\n", 2);
}

static void test_rewind_missing_file(void **state)
{
	struct fixture *f = *state;
	open_follower(f, -1);
	assert_int_equal(follower_rewind_lines(&f->f, 20), 0);
	update_all(f);
	expect_new(f, "", 0);
}

/* The trap: the file is truncated and regrown past the old offset before
 * the follower looks. */
static void test_copytruncate_regrown_longer(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "aaaa\nbbbb\n");
	open_follower(f, -1);
	truncate_file(f, LOG);
	append(f, LOG, "first new line\nsecond new line\n");
	update_all(f);
	expect_new(f, "first new line\nsecond new line\n", 2);
	append(f, LOG, "third\n");
	update_all(f);
	expect_new(f, "third\n", 1);
}

static void test_copytruncate_regrown_same_size(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "[10:00:00] a> x\n");
	open_follower(f, -1);
	truncate_file(f, LOG);
	append(f, LOG, "[10:00:01] b> y\n");
	update_all(f);
	expect_new(f, "[10:00:01] b> y\n", 1);
}

static void test_copytruncate_after_reading(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "");
	open_follower(f, -1);
	append(f, LOG, "[10:00:00] one\n[10:00:01] two\n");
	update_all(f);
	expect_new(f, "[10:00:00] one\n[10:00:01] two\n", 2);
	truncate_file(f, LOG);
	append(f, LOG, "[10:00:02] three\n[10:00:03] four\n[10:00:04] five\n");
	update_all(f);
	expect_new(f, "[10:00:02] three\n[10:00:03] four\n[10:00:04] five\n", 3);
}

static void test_copytruncate_shorter(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "a long old line\nanother long old line\n");
	open_follower(f, -1);
	truncate_file(f, LOG);
	update_all(f);
	expect_new(f, "", 0);
	append(f, LOG, "x\n");
	update_all(f);
	expect_new(f, "x\n", 1);
}

static void test_copytruncate_shorter_at_once(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "a long old line\nanother long old line\n");
	open_follower(f, -1);
	truncate_file(f, LOG);
	append(f, LOG, "x\ny\n");
	update_all(f);
	expect_new(f, "x\ny\n", 2);
}

static void test_copytruncate_drops_partial(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "old\n");
	open_follower(f, -1);
	append(f, LOG, "unfinished");
	update_all(f);
	expect_new(f, "", 0);
	truncate_file(f, LOG);
	append(f, LOG, "fresh start line\n");
	update_all(f);
	expect_new(f, "fresh start line\n", 1);
}

static void test_rename_create(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "old\n");
	open_follower(f, -1);
	assert_int_equal(renameat(f->dir_fd, LOG, f->dir_fd, LOG ".1"), 0);
	append(f, LOG ".1", "inflight\n");
	append(f, LOG, "new1\nnew2\n");
	update_all(f);
	expect_new(f, "inflight\nnew1\nnew2\n", 3);
	append(f, LOG, "new3\n");
	append(f, LOG ".1", "late\n");
	update_all(f);
	expect_new(f, "new3\n", 1);
	update_all(f);
	expect_new(f, "", 0);
}

static void test_rename_completes_partial(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "old\n");
	open_follower(f, -1);
	append(f, LOG, "par");
	update_all(f);
	expect_new(f, "", 0);
	assert_int_equal(renameat(f->dir_fd, LOG, f->dir_fd, LOG ".1"), 0);
	append(f, LOG ".1", "tial\n");
	append(f, LOG, "new\n");
	update_all(f);
	expect_new(f, "partial\nnew\n", 2);
}

/* A writer that holds the log's append lock across the rename finishes its
 * line in the old file; the follower waits for it before leaving. */
static void test_rename_waits_for_inflight_append(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "old\n");
	open_follower(f, -1);
	int sync[2];
	assert_int_equal(pipe(sync), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = openat(f->dir_fd, LOG, O_WRONLY | O_APPEND);
		if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(sync[1], "x", 1) != 1)
			_exit(1);
		struct timespec t = { 0, 300 * 1000 * 1000 };
		nanosleep(&t, NULL);
		_exit(write(fd, "inflight\n", 9) == 9 ? 0 : 1);
	}
	close(sync[1]);
	char c;
	ssize_t got = read(sync[0], &c, 1);
	close(sync[0]);
	if (got != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("writer did not start");
	}
	assert_int_equal(renameat(f->dir_fd, LOG, f->dir_fd, LOG ".1"), 0);
	append(f, LOG, "new\n");
	update_all(f);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	expect_new(f, "inflight\nnew\n", 2);
}

static void test_rename_before_new_file(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "old\n");
	open_follower(f, -1);
	assert_int_equal(renameat(f->dir_fd, LOG, f->dir_fd, LOG ".1"), 0);
	append(f, LOG ".1", "inflight\n");
	update_all(f);
	expect_new(f, "inflight\n", 1);
	append(f, LOG, "new1\n");
	update_all(f);
	expect_new(f, "new1\n", 1);
}

static void test_delete_and_recreate(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "old\n");
	open_follower(f, -1);
	assert_int_equal(unlinkat(f->dir_fd, LOG, 0), 0);
	update_all(f);
	expect_new(f, "", 0);
	append(f, LOG, "again\n");
	update_all(f);
	expect_new(f, "again\n", 1);
	append(f, LOG, "more\n");
	update_all(f);
	expect_new(f, "more\n", 1);
}

static void test_delete_and_recreate_between_updates(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "old\n");
	open_follower(f, -1);
	assert_int_equal(unlinkat(f->dir_fd, LOG, 0), 0);
	append(f, LOG, "again\n");
	update_all(f);
	expect_new(f, "again\n", 1);
}

static void test_file_appears_later(void **state)
{
	struct fixture *f = *state;
	open_follower(f, -1);
	assert_int_equal(f->f.fd, -1);
	update_all(f);
	expect_new(f, "", 0);
	append(f, LOG, "first\nsecond\n");
	update_all(f);
	expect_new(f, "first\nsecond\n", 2);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_overlong_line_skipped(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "");
	open_follower(f, -1);
	char *big = repeat('x', FOLLOW_LINE_MAX + 100);
	append(f, LOG, "short\n");
	append(f, LOG, big);
	append(f, LOG, "\nafter\n");
	free(big);
	update_all(f);
	expect_new(f, "short\nafter\n", 2);
}

static void test_overlong_line_over_updates(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "");
	open_follower(f, -1);
	char *part = repeat('y', FOLLOW_LINE_MAX / 2 + 10);
	append(f, LOG, part);
	update_all(f);
	append(f, LOG, part);
	update_all(f);
	append(f, LOG, part);
	append(f, LOG, "\nnext\n");
	free(part);
	update_all(f);
	expect_new(f, "next\n", 1);
}

static void test_long_line_within_limit(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "");
	open_follower(f, -1);
	char *line = repeat('z', FOLLOW_LINE_MAX - 1);
	append(f, LOG, line);
	append(f, LOG, "\nnext\n");
	update_all(f);
	assert_int_equal(f->c.lines, 2);
	assert_int_equal(f->c.text.len, FOLLOW_LINE_MAX + 5);
	assert_memory_equal(f->c.text.data, line, FOLLOW_LINE_MAX - 1);
	assert_string_equal(f->c.text.data + FOLLOW_LINE_MAX - 1, "\nnext\n");
	free(line);
}

static void test_max_bytes(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "");
	open_follower(f, -1);
	struct buf want;
	buf_init(&want, 0);
	char line[32];
	for (int i = 0; i < 4000; i++) {
		snprintf(line, sizeof line, "line %04d\n", i);
		assert_int_equal(buf_append_str(&want, line), 0);
	}
	append(f, LOG, want.data);
	assert_int_equal(follower_update(&f->f, 1, collect, &f->c), 1);
	assert_true(f->c.lines > 0);
	assert_true(f->c.lines < 4000);
	int calls = 1;
	while (follower_update(&f->f, 1, collect, &f->c) == 1)
		calls++;
	assert_true(calls > 1);
	assert_int_equal(f->c.lines, 4000);
	assert_string_equal(f->c.text.data, want.data);
	buf_free(&want);
}

static void test_callback_stops(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "");
	open_follower(f, -1);
	append(f, LOG, "a\nb\nc\n");
	f->c.stop_after = 1;
	assert_int_equal(follower_update(&f->f, 1 << 20, collect, &f->c), -1);
	assert_int_equal(f->c.lines, 1);
	assert_string_equal(f->c.text.data, "a\n");
}

static void test_symlink_refused(void **state)
{
	struct fixture *f = *state;
	append(f, "target", "x\n");
	assert_int_equal(symlinkat("target", f->dir_fd, LOG), 0);
	assert_int_equal(follower_open(&f->f, f->dir_fd, LOG, -1), -1);
	follower_close(&f->f);
}

static void test_fifo_refused(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(mkfifoat(f->dir_fd, LOG, 0600), 0);
	assert_int_equal(follower_open(&f->f, f->dir_fd, LOG, -1), -1);
	follower_close(&f->f);
}

static bool readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void drain_events(int fd)
{
	char ev[4096];
	while (read(fd, ev, sizeof ev) > 0)
		;
}

static void test_inotify_append(void **state)
{
	struct fixture *f = *state;
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0);
	append(f, LOG, "old\n");
	open_follower(f, in);
	drain_events(in);
	assert_false(readable_within(in, 0));
	append(f, LOG, "hello\n");
	assert_true(readable_within(in, 3000));
	drain_events(in);
	update_all(f);
	expect_new(f, "hello\n", 1);
	follower_close(&f->f);
	f->open = false;
	close(in);
}

static void test_inotify_file_created(void **state)
{
	struct fixture *f = *state;
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0);
	open_follower(f, in);
	assert_false(readable_within(in, 0));
	append(f, LOG, "first\n");
	assert_true(readable_within(in, 3000));
	drain_events(in);
	update_all(f);
	expect_new(f, "first\n", 1);
	append(f, LOG, "second\n");
	assert_true(readable_within(in, 3000));
	update_all(f);
	expect_new(f, "second\n", 1);
	follower_close(&f->f);
	f->open = false;
	close(in);
}

/* Reads the events and shows them to the follower, as its owner does. */
static void notice_events(struct fixture *f, int fd)
{
	char ev[4096];
	ssize_t n;
	while ((n = read(fd, ev, sizeof ev)) > 0)
		follower_notice(&f->f, ev, (size_t)n);
}

static void test_inotify_after_rename(void **state)
{
	struct fixture *f = *state;
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0);
	append(f, LOG, "old\n");
	open_follower(f, in);
	update_all(f); /* the follower has looked once: now it waits for events */
	assert_int_equal(renameat(f->dir_fd, LOG, f->dir_fd, LOG ".1"), 0);
	append(f, LOG, "n1\n");
	assert_true(readable_within(in, 3000));
	notice_events(f, in);
	update_all(f);
	expect_new(f, "n1\n", 1);
	drain_events(in);
	/* the new file is watched now */
	append(f, LOG, "n2\n");
	assert_true(readable_within(in, 3000));
	update_all(f);
	expect_new(f, "n2\n", 1);
	follower_close(&f->f);
	f->open = false;
	close(in);
}


/* Appends to the file change no name: the count stands still.  Every way
 * a name changes (the marker of a pause, logrotate's rename and removal)
 * moves it. */
static void test_dir_changes_counted(void **state)
{
	struct fixture *f = *state;
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0);
	append(f, LOG, "old\n");
	open_follower(f, in);
	notice_events(f, in);
	unsigned long before = f->f.dir_changes;
	append(f, LOG, "more\n");
	assert_true(readable_within(in, 3000));
	notice_events(f, in);
	assert_int_equal(f->f.dir_changes, before);
	int marker = openat(f->dir_fd, ".rotating", O_WRONLY | O_CREAT, 0600);
	assert_true(marker >= 0);
	close(marker);
	notice_events(f, in);
	assert_true(f->f.dir_changes > before);
	before = f->f.dir_changes;
	assert_int_equal(renameat(f->dir_fd, LOG, f->dir_fd, LOG ".1"), 0);
	notice_events(f, in);
	assert_true(f->f.dir_changes > before);
	before = f->f.dir_changes;
	assert_int_equal(unlinkat(f->dir_fd, LOG ".1", 0), 0);
	notice_events(f, in);
	assert_true(f->f.dir_changes > before);
	follower_close(&f->f);
	f->open = false;
	close(in);
}


/* History while others talk: a joiner opens the follower, then appends
 * its join line; more than n lines may land in between.  None is lost. */
static void test_rewind_keeps_lines_since_open(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "o1\no2\no3\no4\n");
	open_follower(f, -1);
	append(f, LOG, "n1\nn2\nn3\nn4\nn5\n");
	assert_int_equal(follower_rewind_lines(&f->f, 3), 0);
	update_all(f);
	expect_new(f, "n1\nn2\nn3\nn4\nn5\n", 5);
}

/* ...while the usual case still gets the last n lines. */
static void test_rewind_reaches_before_open(void **state)
{
	struct fixture *f = *state;
	append(f, LOG, "o1\no2\no3\no4\n");
	open_follower(f, -1);
	append(f, LOG, "n1\n");
	assert_int_equal(follower_rewind_lines(&f->f, 3), 0);
	update_all(f);
	expect_new(f, "o3\no4\nn1\n", 3);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_starts_at_end),
		T(test_partial_line_held),
		T(test_rewind_lines),
		T(test_rewind_keeps_lines_since_open),
		T(test_rewind_reaches_before_open),
		T(test_rewind_with_partial_tail),
		T(test_rewind_more_than_file),
		T(test_rewind_zero),
		T(test_rewind_long_file),
		T(test_rewind_missing_file),
		T(test_copytruncate_regrown_longer),
		T(test_copytruncate_regrown_same_size),
		T(test_copytruncate_after_reading),
		T(test_copytruncate_shorter),
		T(test_copytruncate_shorter_at_once),
		T(test_copytruncate_drops_partial),
		T(test_rename_create),
		T(test_rename_completes_partial),
		T(test_rename_waits_for_inflight_append),
		T(test_rename_before_new_file),
		T(test_delete_and_recreate),
		T(test_delete_and_recreate_between_updates),
		T(test_file_appears_later),
		T(test_overlong_line_skipped),
		T(test_overlong_line_over_updates),
		T(test_long_line_within_limit),
		T(test_max_bytes),
		T(test_callback_stops),
		T(test_symlink_refused),
		T(test_fifo_refused),
		T(test_inotify_append),
		T(test_inotify_file_created),
		T(test_inotify_after_rename),
		T(test_dir_changes_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
