#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "append.h"
#include "support/tmpdir.h"

#define LOG "room.log"


static int add(struct tmpdir *f, const char *name, const char *line)
{
	return append_line(f->fd, name, 0640, line, strlen(line));
}

/* The whole file (static storage). */
static const char *content(struct tmpdir *f, const char *name)
{
	static char text[64 * 1024];
	return tmpdir_read(f->fd, name, text, sizeof text);
}

static bool exists(struct tmpdir *f, const char *name)
{
	struct stat st;
	return fstatat(f->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_creates_with_mode(void **state)
{
	struct tmpdir *f = *state;
	mode_t old = umask(0);
	int rc = append_line(f->fd, LOG, 0604, "a\n", 2);
	umask(old);
	assert_int_equal(rc, 0);
	struct stat st;
	assert_int_equal(fstatat(f->fd, LOG, &st, 0), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0604);
	assert_string_equal(content(f, LOG), "a\n");
}

static void test_existing_mode_kept(void **state)
{
	struct tmpdir *f = *state;
	mode_t old = umask(0);
	assert_int_equal(append_line(f->fd, LOG, 0600, "a\n", 2), 0);
	assert_int_equal(append_line(f->fd, LOG, 0666, "b\n", 2), 0);
	umask(old);
	struct stat st;
	assert_int_equal(fstatat(f->fd, LOG, &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_lines_appended_whole(void **state)
{
	struct tmpdir *f = *state;
	assert_int_equal(add(f, LOG, "[10:00:00] Alice joined the lobby\n"), 0);
	assert_int_equal(add(f, LOG, "[10:00:01] Alice> hi\n"), 0);
	assert_int_equal(add(f, LOG, "\n"), 0);
	assert_int_equal(add(f, LOG, "[10:00:02] Alice quit the lobby\n"), 0);
	assert_string_equal(content(f, LOG),
	                    "[10:00:00] Alice joined the lobby\n"
	                    "[10:00:01] Alice> hi\n"
	                    "\n"
	                    "[10:00:02] Alice quit the lobby\n");
}

static void test_appends_to_existing(void **state)
{
	struct tmpdir *f = *state;
	int fd = openat(f->fd, LOG, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old\n", 4), 4);
	close(fd);
	assert_int_equal(add(f, LOG, "new\n"), 0);
	assert_string_equal(content(f, LOG), "old\nnew\n");
}

static void test_symlink_refused(void **state)
{
	struct tmpdir *f = *state;
	assert_int_equal(add(f, "target", "t\n"), 0);
	assert_int_equal(symlinkat("target", f->fd, LOG), 0);
	errno = 0;
	assert_int_equal(add(f, LOG, "evil\n"), -1);
	assert_int_equal(errno, ELOOP);
	assert_string_equal(content(f, "target"), "t\n");
}

static void test_dangling_symlink_refused(void **state)
{
	struct tmpdir *f = *state;
	assert_int_equal(symlinkat("created-through-link", f->fd, LOG), 0);
	assert_int_equal(add(f, LOG, "evil\n"), -1);
	assert_false(exists(f, "created-through-link"));
}

static void test_fifo_refused(void **state)
{
	struct tmpdir *f = *state;
	assert_int_equal(mkfifoat(f->fd, LOG, 0600), 0);
	double t = now();
	assert_int_equal(add(f, LOG, "x\n"), -1);
	assert_true(now() - t < 2.0);
}

static void test_fifo_with_reader_refused(void **state)
{
	struct tmpdir *f = *state;
	assert_int_equal(mkfifoat(f->fd, LOG, 0600), 0);
	int rd = openat(f->fd, LOG, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	assert_int_equal(add(f, LOG, "x\n"), -1);
	char c;
	assert_true(read(rd, &c, 1) <= 0); /* nothing went into the FIFO */
	close(rd);
}

static void test_directory_refused(void **state)
{
	struct tmpdir *f = *state;
	assert_int_equal(mkdirat(f->fd, LOG, 0700), 0);
	assert_int_equal(add(f, LOG, "x\n"), -1);
}

/* Sets the soft file size limit; returns the old limits. */
static struct rlimit limit_file_size(rlim_t bytes)
{
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = bytes;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	return old;
}

static void test_short_write_undone(void **state)
{
	struct tmpdir *f = *state;
	static const char old_text[] = "0123456789\n";
	assert_int_equal(add(f, LOG, old_text), 0);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old = limit_file_size(sizeof old_text - 1 + 5);
	errno = 0;
	int rc = add(f, LOG, "this line does not fit\n");
	int err = errno;
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -1);
	assert_int_not_equal(err, 0);
	assert_string_equal(content(f, LOG), old_text);
	/* and the log goes on normally afterwards */
	assert_int_equal(add(f, LOG, "next\n"), 0);
	assert_string_equal(content(f, LOG), "0123456789\nnext\n");
}

static void test_write_at_limit_refused(void **state)
{
	struct tmpdir *f = *state;
	static const char old_text[] = "0123456789\n";
	assert_int_equal(add(f, LOG, old_text), 0);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old = limit_file_size(sizeof old_text - 1);
	int rc = add(f, LOG, "x\n");
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -1);
	assert_string_equal(content(f, LOG), old_text);
}

/* Writers in several processes: every line arrives whole. */
static void test_concurrent_writers(void **state)
{
	struct tmpdir *f = *state;
	enum { WRITERS = 4, LINES = 200 };
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			char line[64];
			for (int i = 0; i < LINES; i++) {
				int n = snprintf(line, sizeof line,
				                 "writer %d line %03d xxxxxxxxxx\n", w, i);
				if (append_line(f->fd, LOG, 0640, line, (size_t)n) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	const char *text = content(f, LOG);
	int next[WRITERS] = { 0 };
	int lines = 0;
	for (const char *p = text; *p; lines++) {
		int w, i, used = 0;
		assert_int_equal(sscanf(p, "writer %d line %d xxxxxxxxxx\n%n", &w, &i,
		                        &used), 2);
		assert_true(used > 0);
		assert_true(w >= 0 && w < WRITERS);
		assert_int_equal(i, next[w]); /* in order, none lost */
		next[w]++;
		p += used;
	}
	assert_int_equal(lines, WRITERS * LINES);
}

/* An append that waited for the lock while logrotate renamed the log goes
 * to the new file under the name, never to the renamed one. */
static void test_renamed_while_waiting(void **state)
{
	struct tmpdir *f = *state;
	assert_int_equal(add(f, LOG, "old\n"), 0);
	int held = openat(f->fd, LOG, O_RDONLY);
	assert_true(held >= 0);
	assert_int_equal(flock(held, LOCK_EX), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(held);
		_exit(append_line(f->fd, LOG, 0640, "new\n", 4) == 0 ? 0 : 1);
	}
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	int rc = renameat(f->fd, LOG, f->fd, LOG ".1");
	close(held);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(rc, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_string_equal(content(f, LOG ".1"), "old\n");
	assert_string_equal(content(f, LOG), "new\n");
}

/* A rotation's marker makes writers wait until it is removed. */
static void test_pause_holds_writers(void **state)
{
	struct tmpdir *f = *state;
	assert_int_equal(add(f, LOG, "before\n"), 0);
	assert_int_equal(append_pause(f->fd, 0640), 0);
	assert_true(exists(f, APPEND_PAUSE_NAME));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(append_line(f->fd, LOG, 0640, "during\n", 7) == 0 ? 0 : 1);
	struct timespec pause = { 0, 300 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	const char *mid = content(f, LOG);
	char copy[64];
	snprintf(copy, sizeof copy, "%s", mid);
	int status;
	pid_t early = waitpid(pid, &status, WNOHANG);
	assert_int_equal(append_resume(f->fd), 0);
	if (early == 0)
		assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(early, 0);
	assert_string_equal(copy, "before\n");
	assert_false(exists(f, APPEND_PAUSE_NAME));
	assert_string_equal(content(f, LOG), "before\nduring\n");
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_stale_marker_ignored(void **state)
{
	struct tmpdir *f = *state;
	int fd = openat(f->fd, APPEND_PAUSE_NAME, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	struct timespec old[2] = {
		{ time(NULL) - APPEND_PAUSE_STALE_S - 10, 0 },
		{ time(NULL) - APPEND_PAUSE_STALE_S - 10, 0 },
	};
	assert_int_equal(futimens(fd, old), 0);
	close(fd);
	double t = now();
	assert_int_equal(add(f, LOG, "x\n"), 0);
	assert_true(now() - t < 1.0);
	assert_string_equal(content(f, LOG), "x\n");
}

/* --pause-appends waits for an append that holds the log's lock. */
static void test_pause_waits_for_inflight(void **state)
{
	struct tmpdir *f = *state;
	assert_int_equal(add(f, LOG, "x\n"), 0);
	int held = openat(f->fd, LOG, O_RDONLY);
	assert_true(held >= 0);
	assert_int_equal(flock(held, LOCK_EX), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(held); /* the lock belongs to the parent's description */
		_exit(append_pause(f->fd, 0640) == 0 ? 0 : 1);
	}
	struct timespec pause = { 0, 300 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	int status;
	pid_t early = waitpid(pid, &status, WNOHANG);
	close(held);
	if (early == 0)
		assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(early, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(append_resume(f->fd), 0);
	assert_int_equal(append_resume(f->fd), 0); /* no marker: fine */
}


/* A writer that keeps the log open (struct append_log) and learns of
 * changes in the directory the way chat_server does: from inotify. */
struct watcher {
	int inotify_fd;
	unsigned long changes;
	int waits;        /* calls of the wait callback */
	int dir_fd;       /* resumes appends after 3 waits, when >= 0 */
};

static bool count_changes(void *ctx, unsigned long *count)
{
	struct watcher *w = ctx;
	char events[4096];
	ssize_t n;
	while ((n = read(w->inotify_fd, events, sizeof events)) > 0) {
		const struct inotify_event *ev;
		for (char *p = events; p < events + n; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)p;
			w->changes++;
		}
	}
	*count = w->changes;
	return true;
}

static void resume_soon(void *ctx)
{
	struct watcher *w = ctx;
	if (++w->waits == 3 && w->dir_fd >= 0)
		append_resume(w->dir_fd);
}

static void watch_dir(struct tmpdir *f, struct watcher *w)
{
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(w->inotify_fd >= 0);
	assert_true(inotify_add_watch(w->inotify_fd, f->dir, IN_CREATE |
	                              IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE) >= 0);
	w->dir_fd = -1;
}

static int add_seen(struct tmpdir *f, struct append_seen *seen,
                    struct watcher *w, const char *line)
{
	const struct append_options opt = {
		.wait = resume_soon, .ctx = w, .seen = seen,
		.changes = w && w->inotify_fd >= 0 ? count_changes : NULL,
	};
	return append_line_with(f->fd, LOG, 0640, line, strlen(line), &opt);
}

/* The lowest free descriptor number: it moves if one is left open. */
static int lowest_free_fd(void)
{
	int fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	return fd;
}

static void test_seen_lines_whole_and_closed(void **state)
{
	struct tmpdir *f = *state;
	struct watcher w = { 0 };
	watch_dir(f, &w);
	struct append_seen seen = { 0 };
	int free_fd = lowest_free_fd();
	assert_int_equal(add_seen(f, &seen, &w, "one\n"), 0);
	assert_true(seen.valid);
	assert_int_equal(add_seen(f, &seen, &w, "two\n"), 0);
	assert_int_equal(lowest_free_fd(), free_fd);
	assert_string_equal(content(f, LOG), "one\ntwo\n");
	close(w.inotify_fd);
}

/* logrotate's rename shows in the directory: the next line goes to the
 * new file under the name, not to the archive. */
static void test_seen_follows_rename(void **state)
{
	struct tmpdir *f = *state;
	struct watcher w = { 0 };
	watch_dir(f, &w);
	struct append_seen seen = { 0 };
	assert_int_equal(add_seen(f, &seen, &w, "old\n"), 0);
	assert_int_equal(renameat(f->fd, LOG, f->fd, LOG ".1"), 0);
	assert_int_equal(add_seen(f, &seen, &w, "new\n"), 0);
	assert_string_equal(content(f, LOG ".1"), "old\n");
	assert_string_equal(content(f, LOG), "new\n");
	close(w.inotify_fd);
}

/* The count is what the writer trusts: with no change reported, a pause
 * marker goes unseen (the reason a line is cheap)... */
static void test_seen_trusts_the_count(void **state)
{
	struct tmpdir *f = *state;
	struct watcher w = { 0 };
	watch_dir(f, &w);
	struct append_seen seen = { 0 };
	assert_int_equal(add_seen(f, &seen, &w, "a\n"), 0);
	int blind = inotify_init1(IN_NONBLOCK); /* events go nowhere now */
	assert_true(blind >= 0);
	int seeing = w.inotify_fd;
	w.inotify_fd = blind;
	assert_int_equal(append_pause(f->fd, 0640), 0);
	assert_int_equal(add_seen(f, &seen, &w, "b\n"), 0);
	assert_int_equal(w.waits, 0);
	/* ...and once it is reported, the writer waits for the resume. */
	w.inotify_fd = seeing;
	w.dir_fd = f->fd;
	assert_int_equal(add_seen(f, &seen, &w, "c\n"), 0);
	assert_true(w.waits >= 3);
	assert_string_equal(content(f, LOG), "a\nb\nc\n");
	close(blind);
	close(seeing);
}

/* Without a count (no inotify), every line is checked in full. */
static void test_seen_checked_without_count(void **state)
{
	struct tmpdir *f = *state;
	struct watcher w = { .inotify_fd = -1, .dir_fd = -1 };
	struct append_seen seen = { 0 };
	assert_int_equal(add_seen(f, &seen, &w, "before\n"), 0);
	assert_false(seen.valid);
	assert_int_equal(append_pause(f->fd, 0640), 0);
	w.dir_fd = f->fd;
	assert_int_equal(add_seen(f, &seen, &w, "after\n"), 0);
	assert_true(w.waits >= 3);
	assert_string_equal(content(f, LOG), "before\nafter\n");
}

/* A symlink planted at the name is a change in the directory: refused. */
static void test_seen_refuses_planted_symlink(void **state)
{
	struct tmpdir *f = *state;
	struct watcher w = { 0 };
	watch_dir(f, &w);
	struct append_seen seen = { 0 };
	assert_int_equal(add_seen(f, &seen, &w, "a\n"), 0);
	assert_int_equal(renameat(f->fd, LOG, f->fd, "target"), 0);
	assert_int_equal(symlinkat("target", f->fd, LOG), 0);
	assert_int_equal(add_seen(f, &seen, &w, "b\n"), -1);
	assert_string_equal(content(f, "target"), "a\n");
	close(w.inotify_fd);
}

/* A short write is cut back on the fast way as well. */
static void test_seen_short_write_undone(void **state)
{
	struct tmpdir *f = *state;
	struct watcher w = { 0 };
	watch_dir(f, &w);
	struct append_seen seen = { 0 };
	assert_int_equal(add_seen(f, &seen, &w, "0123456789\n"), 0);
	assert_true(seen.valid);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old = limit_file_size(11 + 5);
	int rc = add_seen(f, &seen, &w, "this line does not fit\n");
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -1);
	assert_string_equal(content(f, LOG), "0123456789\n");
	assert_int_equal(add_seen(f, &seen, &w, "next\n"), 0);
	assert_string_equal(content(f, LOG), "0123456789\nnext\n");
	close(w.inotify_fd);
}


/* Several lines in one write: a short write keeps the lines it completed
 * (followers may have delivered them) and cuts back only the broken one. */
static void test_lines_short_write_keeps_whole_lines(void **state)
{
	struct tmpdir *f = *state;
	static const char lines[] = "first line\nsecond line\nthird line\n";
	const struct append_options none = { 0 };
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old = limit_file_size(11 + 5); /* inside the second */
	errno = 0;
	size_t kept = append_lines_with(f->fd, LOG, 0640, lines,
	                                sizeof lines - 1, &none);
	int err = errno;
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(kept, 11);
	assert_int_equal(err, EFBIG);
	assert_string_equal(content(f, LOG), "first line\n");
	assert_int_equal(append_lines_with(f->fd, LOG, 0640, lines + kept,
	                                   sizeof lines - 1 - kept, &none),
	                 sizeof lines - 1 - kept);
	assert_string_equal(content(f, LOG), lines);
}


/* A marker left by a rotation that died (stale, so writers went on) and a
 * new pause: writers that trust their count must still see it begin. */
static void test_seen_waits_for_pause_over_stale_marker(void **state)
{
	struct tmpdir *f = *state;
	int fd = openat(f->fd, APPEND_PAUSE_NAME, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	struct timespec old[2] = {
		{ time(NULL) - APPEND_PAUSE_STALE_S - 10, 0 },
		{ time(NULL) - APPEND_PAUSE_STALE_S - 10, 0 },
	};
	assert_int_equal(futimens(fd, old), 0);
	close(fd);
	struct watcher w = { 0 };
	watch_dir(f, &w);
	struct append_seen seen = { 0 };
	/* The first line creates the log, a change the second one checks. */
	assert_int_equal(add_seen(f, &seen, &w, "before\n"), 0);
	assert_int_equal(add_seen(f, &seen, &w, "before\n"), 0);
	assert_true(seen.valid);
	assert_int_equal(w.waits, 0);
	assert_int_equal(append_pause(f->fd, 0640), 0);
	w.dir_fd = f->fd;
	assert_int_equal(add_seen(f, &seen, &w, "after\n"), 0);
	assert_true(w.waits >= 3);
	assert_false(exists(f, APPEND_PAUSE_NAME));
	assert_string_equal(content(f, LOG), "before\nbefore\nafter\n");
	close(w.inotify_fd);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tmpdir_setup, tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_creates_with_mode),
		T(test_seen_lines_whole_and_closed),
		T(test_seen_follows_rename),
		T(test_seen_trusts_the_count),
		T(test_seen_waits_for_pause_over_stale_marker),
		T(test_seen_checked_without_count),
		T(test_seen_refuses_planted_symlink),
		T(test_seen_short_write_undone),
		T(test_existing_mode_kept),
		T(test_lines_appended_whole),
		T(test_appends_to_existing),
		T(test_symlink_refused),
		T(test_dangling_symlink_refused),
		T(test_fifo_refused),
		T(test_fifo_with_reader_refused),
		T(test_directory_refused),
		T(test_short_write_undone),
		T(test_lines_short_write_keeps_whole_lines),
		T(test_write_at_limit_refused),
		T(test_concurrent_writers),
		T(test_renamed_while_waiting),
		T(test_pause_holds_writers),
		T(test_stale_marker_ignored),
		T(test_pause_waits_for_inflight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
