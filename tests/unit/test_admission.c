#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admission.h"
#include "support/tmpdir.h"

#define ADDR "198.51.100.9"

static bool exists(struct tmpdir *fx, const char *name)
{
	struct stat st;
	return fstatat(fx->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static time_t mtime(struct tmpdir *fx, const char *name)
{
	struct stat st;
	assert_int_equal(fstatat(fx->fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_mtim.tv_sec;
}

/* Sets the mtime of name to seconds ago. */
static void age(struct tmpdir *fx, const char *name, time_t seconds)
{
	struct timespec t[2] = { { 0, UTIME_OMIT }, { time(NULL) - seconds, 0 } };
	assert_int_equal(utimensat(fx->fd, name, t, AT_SYMLINK_NOFOLLOW), 0);
}

static int take(struct tmpdir *fx, int max)
{
	return admission_take_slot(fx->fd, ADDR, max, 0600);
}

static void test_slots_counted(void **state)
{
	struct tmpdir *fx = *state;
	int a = take(fx, 2), b = take(fx, 2);
	assert_true(a >= 0 && b >= 0);
	errno = 0;
	assert_int_equal(take(fx, 2), -1);
	assert_int_equal(errno, EUSERS);
	close(a);
	int c = take(fx, 2);
	assert_true(c >= 0);
	close(b);
	close(c);
}

/* Made with the mode asked for, nothing added (callers pass 0600). */
static void test_slot_mode(void **state)
{
	struct tmpdir *fx = *state;
	mode_t old = umask(0);
	int fd = take(fx, 1);
	umask(old);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstatat(fx->fd, ADDR ".0", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	close(fd);
}

/* Taking a slot marks it used now: the collector's idle clock. */
static void test_take_touches(void **state)
{
	struct tmpdir *fx = *state;
	close(take(fx, 1));
	age(fx, ADDR ".0", 3600);
	int fd = take(fx, 1);
	assert_true(fd >= 0);
	assert_true(mtime(fx, ADDR ".0") >= time(NULL) - 5);
	close(fd);
}

static void test_collect_keeps_held(void **state)
{
	struct tmpdir *fx = *state;
	int fd = take(fx, 1);
	assert_true(fd >= 0);
	age(fx, ADDR ".0", 3600);
	assert_int_equal(admission_collect(fx->fd, 60), 0);
	assert_true(exists(fx, ADDR ".0"));
	/* Still ours: a second connection finds no slot. */
	assert_int_equal(take(fx, 1), -1);
	close(fd);
}

static void test_collect_removes_free_idle(void **state)
{
	struct tmpdir *fx = *state;
	int a = take(fx, 2), b = take(fx, 2);
	close(a);
	close(b);
	age(fx, ADDR ".0", 61);
	age(fx, ADDR ".1", 59); /* free, but used recently */
	assert_int_equal(admission_collect(fx->fd, 60), 1);
	assert_false(exists(fx, ADDR ".0"));
	assert_true(exists(fx, ADDR ".1"));
	assert_int_equal(admission_collect(fx->fd, 0), 1);
	assert_false(exists(fx, ADDR ".1"));
	/* And slots are taken as before. */
	a = take(fx, 1);
	assert_true(a >= 0);
	close(a);
}

/* Only regular files, and no hidden names: whatever else is there stays. */
static void test_collect_leaves_the_rest(void **state)
{
	struct tmpdir *fx = *state;
	assert_int_equal(mkdirat(fx->fd, "dir", 0700), 0);
	assert_int_equal(symlinkat(ADDR ".0", fx->fd, "link"), 0);
	assert_int_equal(mkfifoat(fx->fd, "fifo", 0600), 0);
	int fd = openat(fx->fd, ".hidden", O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	close(take(fx, 1));
	age(fx, ".hidden", 3600);
	age(fx, ADDR ".0", 3600);
	assert_int_equal(admission_collect(fx->fd, 60), 1);
	assert_true(exists(fx, "dir") && exists(fx, "link") &&
	            exists(fx, "fifo") && exists(fx, ".hidden"));
}

static int asked;

/* An admission_idle_fn that counts how often it is asked. */
static bool idle_counting(int fd, const struct stat *st, void *ctx)
{
	(void)fd;
	(void)st;
	asked++;
	return *(const bool *)ctx;
}

/* A file in use is not even locked by the collector when it is not idle;
 * an idle one is asked about again under the lock. */
static void test_collect_idle_asked_twice(void **state)
{
	struct tmpdir *fx = *state;
	close(take(fx, 1));
	bool idle = false;
	asked = 0;
	assert_int_equal(admission_collect_idle(fx->fd, idle_counting, &idle), 0);
	assert_int_equal(asked, 1);
	idle = true;
	asked = 0;
	assert_int_equal(admission_collect_idle(fx->fd, idle_counting, &idle), 1);
	assert_int_equal(asked, 2);
}

static void test_collect_bad_dir(void **state)
{
	(void)state;
	errno = 0;
	assert_int_equal(admission_collect(-1, 60), -1);
	assert_int_equal(errno, EBADF);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tmpdir_setup, tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_slots_counted),
		T(test_slot_mode),
		T(test_take_touches),
		T(test_collect_keeps_held),
		T(test_collect_removes_free_idle),
		T(test_collect_leaves_the_rest),
		T(test_collect_idle_asked_twice),
		T(test_collect_bad_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
