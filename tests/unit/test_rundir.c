#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"
#include "support/tmpdir.h"

/* Places under the scratch directory: a, then b. */
struct places {
	char a[128], b[128];
	struct rundir_place v[2];
	int users_fd;
};

static void make_places(struct tmpdir *t, struct places *p)
{
	snprintf(p->a, sizeof p->a, "%s/a", t->dir);
	snprintf(p->b, sizeof p->b, "%s/b", t->dir);
	assert_int_equal(mkdir(p->a, 0755), 0);
	assert_int_equal(mkdir(p->b, 01777), 0);
	p->v[0] = (struct rundir_place){ p->a, "chat_server", false, false,
	                                 "first" };
	p->v[1] = (struct rundir_place){ p->b, "chat_server", true, false,
	                                 "second" };
	assert_int_equal(mkdirat(t->fd, "users", 0755), 0);
	p->users_fd = openat(t->fd, "users", O_RDONLY | O_DIRECTORY);
	assert_true(p->users_fd >= 0);
}

static void expect_private(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, geteuid());
}

/* The first place is made, private, and named after the users directory. */
static void test_first_place_made_private(void **state)
{
	struct tmpdir *t = *state;
	struct places p;
	make_places(t, &p);
	struct stat users;
	assert_int_equal(fstat(p.users_fd, &users), 0);
	struct rundir rd;
	assert_int_equal(rundir_open_among(p.v, 2, p.users_fd, &rd), 0);
	char want[256];
	snprintf(want, sizeof want, "%s/chat_server/%jx-%jx", p.a,
	         (uintmax_t)users.st_dev, (uintmax_t)users.st_ino);
	assert_string_equal(rd.path, want);
	assert_string_equal(rd.why, "first");
	expect_private(want);
	/* and a second process of the same chat arrives at the same place */
	struct rundir again;
	assert_int_equal(rundir_open_among(p.v, 2, p.users_fd, &again), 0);
	assert_string_equal(again.path, rd.path);
	close(again.fd);
	close(rd.fd);
	close(p.users_fd);
}

/* A level that is a symlink, or that belongs to someone else, is passed
 * over for the next place; what we own but left open is made private. */
static void test_untrusted_places_passed_over(void **state)
{
	struct tmpdir *t = *state;
	struct places p;
	make_places(t, &p);
	char a_base[160], elsewhere[160], b_base[160];
	snprintf(a_base, sizeof a_base, "%s/chat_server", p.a);
	snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", t->dir);
	assert_int_equal(mkdir(elsewhere, 0700), 0);
	assert_int_equal(symlink(elsewhere, a_base), 0);
	snprintf(b_base, sizeof b_base, "%s/chat_server-%lu", p.b,
	         (unsigned long)geteuid());
	assert_int_equal(mkdir(b_base, 0777), 0);
	assert_int_equal(chmod(b_base, 0777), 0);
	struct rundir rd;
	assert_int_equal(rundir_open_among(p.v, 2, p.users_fd, &rd), 0);
	assert_string_equal(rd.why, "second");
	assert_non_null(strstr(rd.notes, a_base));
	expect_private(b_base); /* ours, so put back to 0700 */
	close(rd.fd);
	if (geteuid() == 0) {
		/* a squatter's directory is never used */
		assert_int_equal(chown(b_base, 4242, 4242), 0);
		assert_int_equal(rundir_open_among(p.v, 2, p.users_fd, &rd), -1);
		assert_int_equal(errno, EPERM);
		assert_non_null(strstr(rd.notes, "belongs to another user"));
	}
	close(p.users_fd);
}

/* RUN_DIR is used as given, made if missing, and kept private. */
static void test_configured(void **state)
{
	struct tmpdir *t = *state;
	char path[128];
	snprintf(path, sizeof path, "%s/x/run", t->dir);
	struct rundir rd;
	assert_int_equal(rundir_open(path, -1, &rd), 0);
	assert_string_equal(rd.path, path);
	assert_string_equal(rd.why, "RUN_DIR in the config");
	expect_private(path);
	close(rd.fd);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(rundir_open(path, -1, &rd), 0);
	expect_private(path);
	int sub = rundir_sub(rd.fd, "flood");
	assert_true(sub >= 0);
	close(sub);
	char flood[160];
	snprintf(flood, sizeof flood, "%s/flood", path);
	expect_private(flood);
	close(rd.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, tmpdir_setup, tmpdir_teardown)
		T(test_first_place_made_private),
		T(test_untrusted_places_passed_over),
		T(test_configured),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
