#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirs.h"
#include "support/tmpdir.h"

static void test_open_at_creates_with_mode(void **state)
{
	struct tmpdir *t = *state;
	mode_t old = umask(0);
	int fd = dirs_open_at(t->fd, "sub", 0710);
	umask(old);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0710);
	close(fd);
	/* and opens it again as it is */
	fd = dirs_open_at(t->fd, "sub", 0700);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0710);
	close(fd);
}

static void test_open_at_refuses_symlink(void **state)
{
	struct tmpdir *t = *state;
	assert_int_equal(mkdirat(t->fd, "real", 0700), 0);
	assert_int_equal(symlinkat("real", t->fd, "link"), 0);
	errno = 0;
	assert_int_equal(dirs_open_at(t->fd, "link", 0700), -1);
	assert_int_equal(errno, ELOOP);
}

static void test_open_at_refuses_file(void **state)
{
	struct tmpdir *t = *state;
	int fd = openat(t->fd, "file", O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	errno = 0;
	assert_int_equal(dirs_open_at(t->fd, "file", 0700), -1);
	assert_int_equal(errno, ENOTDIR);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tmpdir_setup, tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_at_creates_with_mode),
		T(test_open_at_refuses_symlink),
		T(test_open_at_refuses_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
