#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "presence.h"
#include "support/tmpdir.h"

#define CLAIMS 8

struct fixture {
	char dir[64];
	char users[128];
	int fd; /* the users directory */
	int run_fd; /* where the room locks are: the run directory */
	struct presence p[CLAIMS];
	struct presence_list list;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_true(tmpdir_make(f->dir, sizeof f->dir, "test_presence"));
	snprintf(f->users, sizeof f->users, "%s/a/users", f->dir);
	umask(022);
	f->fd = presence_open_dir(f->users, 0750);
	assert_true(f->fd >= 0);
	f->run_fd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->run_fd >= 0);
	for (int i = 0; i < CLAIMS; i++)
		f->p[i].file_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < CLAIMS; i++)
		presence_release(&f->p[i]);
	presence_list_free(&f->list);
	close(f->fd);
	close(f->run_fd);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Every membership call runs under the room lock, as presence.h asks. */
static int lock(struct fixture *f, const char *room)
{
	int fd = presence_lock_room(f->run_fd, room);
	assert_true(fd >= 0);
	return fd;
}

static void claim(struct fixture *f, int i, const char *room, const char *base,
                  const char *color, const char *want)
{
	int l = lock(f, room);
	int rc = presence_claim(&f->p[i], f->fd, 0640, room, base, color);
	presence_unlock_room(l);
	assert_int_equal(rc, 0);
	assert_string_equal(f->p[i].name, want);
	assert_true(f->p[i].file_fd >= 0);
}

static void plant(struct fixture *f, const char *name, const char *text)
{
	int fd = openat(f->fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static bool exists(struct fixture *f, const char *name)
{
	struct stat st;
	return fstatat(f->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static const char *file_text(struct fixture *f, const char *name)
{
	static char text[128];
	return tmpdir_read(f->fd, name, text, sizeof text);
}

/* The listing of room as "name:color," entries, like the user list. */
static const char *listing(struct fixture *f, const char *room)
{
	static char out[1024];
	int l = lock(f, room);
	int rc = presence_list(f->fd, room, &f->list);
	presence_unlock_room(l);
	assert_int_equal(rc, 0);
	out[0] = '\0';
	for (size_t i = 0; i < f->list.n; i++) {
		size_t len = strlen(out);
		snprintf(out + len, sizeof out - len, "%s:%s,", f->list.v[i].name,
		         f->list.v[i].color);
	}
	return out;
}

static void test_claim_writes_file(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Alice", "#f00", "Alice");
	assert_string_equal(file_text(f, "lobby_Alice"), "#f00\n");
	struct stat st;
	assert_int_equal(fstatat(f->fd, "lobby_Alice", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_string_equal(f->p[0].room, "lobby");
	assert_string_equal(listing(f, "lobby"), "Alice:#f00,");
}

static void test_claim_leaves_no_temp_files(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Alice", "#f00", "Alice");
	claim(f, 1, "lobby", "Alice", "#0f0", "Alice1");
	DIR *d = opendir(f->users);
	assert_non_null(d);
	struct dirent *e;
	int members = 0;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* nothing but presence files: no lock, no temporary file */
		assert_int_equal(strncmp(e->d_name, "lobby_", 6), 0);
		members++;
	}
	closedir(d);
	assert_int_equal(members, 2);
}

static void test_duplicate_names_numbered(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Alice", "#f00", "Alice");
	claim(f, 1, "lobby", "Alice", "#0f0", "Alice1");
	claim(f, 2, "lobby", "Alice", "#00f", "Alice2");
	assert_string_equal(file_text(f, "lobby_Alice1"), "#0f0\n");
	assert_string_equal(listing(f, "lobby"),
	                    "Alice:#f00,Alice1:#0f0,Alice2:#00f,");
}

static void test_number_after_highest(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Alice", "red", "Alice");
	claim(f, 1, "lobby", "Alice", "red", "Alice1");
	claim(f, 2, "lobby", "Alice", "red", "Alice2");
	presence_release(&f->p[1]);
	claim(f, 3, "lobby", "Alice", "red", "Alice3");
}

static void test_base_free_again(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Alice", "red", "Alice");
	claim(f, 1, "lobby", "Alice", "red", "Alice1");
	presence_release(&f->p[0]);
	claim(f, 2, "lobby", "Alice", "red", "Alice");
}

static void test_whole_names_compared(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Anna", "red", "Anna");
	claim(f, 1, "lobby", "Ann", "red", "Ann");
	claim(f, 2, "lobby", "Ann", "red", "Ann1");
	claim(f, 3, "lobby", "Anna", "red", "Anna1");
	claim(f, 4, "lobby", "An", "red", "An");
	assert_string_equal(listing(f, "lobby"),
	                    "An:red,Ann:red,Ann1:red,Anna:red,Anna1:red,");
}

static void test_same_name_other_room(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Bob", "red", "Bob");
	claim(f, 1, "other", "Bob", "blue", "Bob");
	claim(f, 2, "lobbyx", "Bob", "green", "Bob");
	assert_string_equal(listing(f, "lobby"), "Bob:red,");
	assert_string_equal(listing(f, "other"), "Bob:blue,");
	assert_string_equal(listing(f, "lobbyx"), "Bob:green,");
	assert_string_equal(listing(f, "lob"), "");
}

static void test_list_sorted_with_colors(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Zed", "#abc", "Zed");
	claim(f, 1, "lobby", "alice", "Gray", "alice");
	claim(f, 2, "lobby", "Bob", "DarkOrange", "Bob");
	claim(f, 3, "lobby", "Želva", "#123456", "Želva");
	/* C locale: byte order */
	assert_string_equal(listing(f, "lobby"),
	                    "Bob:DarkOrange,Zed:#abc,alice:Gray,Želva:#123456,");
	assert_int_equal(f->list.n, 4);
}

static void test_empty_room(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(listing(f, "lobby"), "");
	assert_int_equal(f->list.n, 0);
}

static void test_dead_file_removed(void **state)
{
	struct fixture *f = *state;
	plant(f, "lobby_Ghost", "#fff\n");
	claim(f, 0, "lobby", "Alice", "red", "Alice");
	assert_string_equal(listing(f, "lobby"), "Alice:red,");
	assert_false(exists(f, "lobby_Ghost"));
}

static void test_dead_name_claimable(void **state)
{
	struct fixture *f = *state;
	plant(f, "lobby_Ghost", "#fff\n");
	claim(f, 0, "lobby", "Ghost", "red", "Ghost");
	assert_string_equal(file_text(f, "lobby_Ghost"), "red\n");
	assert_string_equal(listing(f, "lobby"), "Ghost:red,");
}

/* A member killed with SIGKILL runs no cleanup; the kernel drops its
 * lock, and the next listing forgets it. */
static void test_killed_member_vanishes(void **state)
{
	struct fixture *f = *state;
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct presence p = { 0 };
		char ok = presence_claim(&p, f->fd, 0640, "lobby", "Dead",
		                         "red") == 0 ? 'y' : 'n';
		if (write(pipefd[1], &ok, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	char ok = 0;
	ssize_t got = read(pipefd[0], &ok, 1);
	close(pipefd[0]);
	if (got != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("the child did not report its claim");
	}
	const char *before = listing(f, "lobby");
	char copy[64];
	snprintf(copy, sizeof copy, "%s", before);
	claim(f, 0, "lobby", "Dead", "blue", "Dead1");
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(ok, 'y');
	assert_string_equal(copy, "Dead:red,");
	assert_true(exists(f, "lobby_Dead"));
	assert_string_equal(listing(f, "lobby"), "Dead1:blue,");
	assert_false(exists(f, "lobby_Dead"));
}

static void test_other_rooms_untouched(void **state)
{
	struct fixture *f = *state;
	plant(f, "lobbyx_Bob", "red\n");
	plant(f, "other_Bob", "red\n");
	plant(f, "lob_Bob", "red\n");
	assert_string_equal(listing(f, "lobby"), "");
	/* not ours to judge: still there */
	assert_true(exists(f, "lobbyx_Bob"));
	assert_true(exists(f, "other_Bob"));
	assert_true(exists(f, "lob_Bob"));
}

static void test_invalid_names_not_listed(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"lobby_a b", "lobby_<x>", "lobby_", "lobby_x_y", "lobby_a:b",
		"lobby_a,b", "lobby_\xff", "lobby_a\tb", "lobby_\"q\"",
		"lobby_a\xc2\x85" "b", "lobby_a\xc2\xa0" "b",
	};
	claim(f, 0, "lobby", "Alice", "red", "Alice");
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		plant(f, bad[i], "red\n");
		/* even with a live owner */
		int fd = openat(f->fd, bad[i], O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(flock(fd, LOCK_EX), 0);
		assert_string_equal(listing(f, "lobby"), "Alice:red,");
		close(fd);
	}
}

static void test_symlink_and_directory_not_listed(void **state)
{
	struct fixture *f = *state;
	plant(f, "target", "red\n");
	int fd = openat(f->fd, "target", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(symlinkat("target", f->fd, "lobby_Link"), 0);
	assert_int_equal(mkdirat(f->fd, "lobby_Dir", 0700), 0);
	assert_string_equal(listing(f, "lobby"), "");
	close(fd);
}

static void test_live_bad_color_shown_gray(void **state)
{
	struct fixture *f = *state;
	plant(f, "lobby_Eve", "red;background:url(x)\n");
	int fd = openat(f->fd, "lobby_Eve", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_string_equal(listing(f, "lobby"), "Eve:Gray,");
	close(fd);
}

static void test_release(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Alice", "red", "Alice");
	presence_release(&f->p[0]);
	assert_int_equal(f->p[0].file_fd, -1);
	assert_false(exists(f, "lobby_Alice"));
	assert_string_equal(listing(f, "lobby"), "");
	presence_release(&f->p[0]); /* twice is fine */
	assert_int_equal(f->p[0].file_fd, -1);
}

/* Release must not remove a file that is no longer ours. */
static void test_release_keeps_successor(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Alice", "red", "Alice");
	assert_int_equal(unlinkat(f->fd, "lobby_Alice", 0), 0);
	claim(f, 1, "lobby", "Alice", "blue", "Alice");
	presence_release(&f->p[0]);
	assert_true(exists(f, "lobby_Alice"));
	assert_string_equal(listing(f, "lobby"), "Alice:blue,");
}

static void test_set_color(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Alice", "red", "Alice");
	struct stat before, after;
	assert_int_equal(fstatat(f->fd, "lobby_Alice", &before, 0), 0);
	int l = lock(f, "lobby");
	int rc = presence_set_color(&f->p[0], "#00f");
	presence_unlock_room(l);
	assert_int_equal(rc, 0);
	assert_string_equal(file_text(f, "lobby_Alice"), "#00f\n");
	assert_string_equal(listing(f, "lobby"), "Alice:#00f,");
	/* rewritten in place: the inode (the inbox identity) stays */
	assert_int_equal(fstatat(f->fd, "lobby_Alice", &after, 0), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	/* a longer colour, then a shorter one: no stale tail */
	assert_int_equal(presence_set_color(&f->p[0], "LightGoldenRodYellow"), 0);
	assert_string_equal(file_text(f, "lobby_Alice"), "LightGoldenRodYellow\n");
	assert_int_equal(presence_set_color(&f->p[0], "#00f"), 0);
	assert_string_equal(file_text(f, "lobby_Alice"), "#00f\n");
	/* still live: the name stays taken */
	claim(f, 1, "lobby", "Alice", "red", "Alice1");
	assert_string_equal(listing(f, "lobby"), "Alice:#00f,Alice1:red,");
	presence_release(&f->p[0]);
	assert_false(exists(f, "lobby_Alice"));
	assert_string_equal(listing(f, "lobby"), "Alice1:red,");
}

static void test_set_color_after_release(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Alice", "red", "Alice");
	presence_release(&f->p[0]);
	assert_int_equal(presence_set_color(&f->p[0], "#00f"), -1);
	assert_false(exists(f, "lobby_Alice"));
}

/* The room lock is exclusive: a second taker waits for the first. */
static void test_room_lock_exclusive(void **state)
{
	struct fixture *f = *state;
	int l = lock(f, "lobby");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(l); /* the lock lives as long as any copy of l */
		int other = presence_lock_room(f->run_fd, "lobby");
		_exit(other >= 0 ? 0 : 1);
	}
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	int status;
	pid_t early = waitpid(pid, &status, WNOHANG);
	presence_unlock_room(l);
	if (early == 0)
		assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(early, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* another room's lock is independent */
	l = lock(f, "lobby");
	int other = presence_lock_room(f->run_fd, "other");
	assert_true(other >= 0);
	presence_unlock_room(other);
	presence_unlock_room(l);
}

/* A lock held too long (a stuck process) is given up on, with ETIMEDOUT;
 * the wait sleeps, and a signal of the timer does not outlive it. */
static void test_room_lock_wait_bounded(void **state)
{
	struct fixture *f = *state;
	int l = lock(f, "lobby");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(l);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int other = presence_lock_room_within(f->run_fd, "lobby", 200);
		int err = errno;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		          (t1.tv_nsec - t0.tv_nsec) / 1000000;
		_exit(other < 0 && err == ETIMEDOUT && ms >= 190 ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	presence_unlock_room(l);
	/* free again: taken at once */
	l = presence_lock_room_within(f->run_fd, "lobby", 200);
	assert_true(l >= 0);
	presence_unlock_room(l);
}

static void test_name_is_valid(void **state)
{
	(void)state;
	assert_true(presence_name_is_valid("Alice"));
	assert_true(presence_name_is_valid("Alice12"));
	assert_true(presence_name_is_valid("Želva"));
	assert_true(presence_name_is_valid("&lt;b&gt;"));
	assert_false(presence_name_is_valid(""));
	assert_false(presence_name_is_valid("a b"));
	assert_false(presence_name_is_valid("a_b"));
	assert_false(presence_name_is_valid("a/b"));
	assert_false(presence_name_is_valid("<x>"));
	assert_false(presence_name_is_valid("a:b"));
	assert_false(presence_name_is_valid("a,b"));
	assert_false(presence_name_is_valid("\xff"));
	assert_false(presence_name_is_valid("a\x7f"));
	assert_false(presence_name_is_valid("a\xc2\x85"));
	assert_false(presence_name_is_valid("a\xc2\xa0"));
	char longest[PRESENCE_NAME_MAX + 2];
	memset(longest, 'a', PRESENCE_NAME_MAX);
	longest[PRESENCE_NAME_MAX] = '\0';
	assert_true(presence_name_is_valid(longest));
	longest[PRESENCE_NAME_MAX] = 'a';
	longest[PRESENCE_NAME_MAX + 1] = '\0';
	assert_false(presence_name_is_valid(longest));
}

static void test_open_member(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Alice", "red", "Alice");
	plant(f, "lobby_Ghost", "red\n");
	int fd = presence_open_member(f->fd, "lobby", "Alice");
	assert_true(fd >= 0);
	struct stat a, b;
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(fstat(f->p[0].file_fd, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	close(fd);
	errno = 0;
	assert_int_equal(presence_open_member(f->fd, "lobby", "Ghost"), -1);
	assert_int_equal(errno, ESRCH);
	errno = 0;
	assert_int_equal(presence_open_member(f->fd, "lobby", "Nobody"), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(presence_open_member(f->fd, "other", "Alice"), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(presence_open_member(f->fd, "lobby", "../x"), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_open_dir_creates_and_refuses_symlink(void **state)
{
	struct fixture *f = *state;
	char path[160];
	snprintf(path, sizeof path, "%s/x/y/users", f->dir);
	int fd = presence_open_dir(path, 0700);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);
	snprintf(path, sizeof path, "%s/link", f->dir);
	assert_int_equal(symlink(f->users, path), 0);
	errno = 0;
	assert_int_equal(presence_open_dir(path, 0700), -1);
	/* dirs.h says ELOOP; Linux reports O_DIRECTORY|O_NOFOLLOW on a
	 * symlink as ENOTDIR.  Either way it is refused. */
	assert_true(errno == ELOOP || errno == ENOTDIR);
}


/* A join lists the room once: the claim numbers from that listing and
 * adds itself, so the listing is the user list, the same as a new one. */
static void test_claim_listed_adds_itself(void **state)
{
	struct fixture *f = *state;
	claim(f, 0, "lobby", "Bob", "blue", "Bob");
	claim(f, 1, "lobby", "Ann", "red", "Ann");
	int l = lock(f, "lobby");
	struct presence_list members = { 0 };
	assert_int_equal(presence_list(f->fd, "lobby", &members), 0);
	assert_int_equal(members.n, 2);
	assert_int_equal(presence_claim_listed(&f->p[2], f->fd, 0640, "lobby",
	                                       "Ann", "#00ff00", &members), 0);
	presence_unlock_room(l);
	assert_string_equal(f->p[2].name, "Ann1");
	assert_int_equal(members.n, 3);
	const char *want[][2] = { { "Ann", "red" }, { "Ann1", "#00ff00" },
	                          { "Bob", "blue" } };
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(members.v[i].name, want[i][0]);
		assert_string_equal(members.v[i].color, want[i][1]);
	}
	presence_list_free(&members);
	assert_string_equal(listing(f, "lobby"), "Ann:red,Ann1:#00ff00,Bob:blue,");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_claim_writes_file),
		T(test_claim_listed_adds_itself),
		T(test_claim_leaves_no_temp_files),
		T(test_duplicate_names_numbered),
		T(test_number_after_highest),
		T(test_base_free_again),
		T(test_whole_names_compared),
		T(test_same_name_other_room),
		T(test_list_sorted_with_colors),
		T(test_empty_room),
		T(test_dead_file_removed),
		T(test_dead_name_claimable),
		T(test_killed_member_vanishes),
		T(test_other_rooms_untouched),
		T(test_invalid_names_not_listed),
		T(test_symlink_and_directory_not_listed),
		T(test_live_bad_color_shown_gray),
		T(test_release),
		T(test_release_keeps_successor),
		T(test_set_color),
		T(test_set_color_after_release),
		T(test_room_lock_exclusive),
		T(test_room_lock_wait_bounded),
		T(test_name_is_valid),
		T(test_open_member),
		T(test_open_dir_creates_and_refuses_symlink),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
