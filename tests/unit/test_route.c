#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "presence.h"
#include "route.h"
#include "support/tmpdir.h"
#include "transport.h"

/* The one operation routing asks of a room transport: the member lookup
 * of the files transport (presence_open_member), in the room given. */
struct finder {
	int users_fd;
	const char *room;
};

static int find_member(void *st, const char *name)
{
	const struct finder *fi = st;
	return presence_open_member(fi->users_fd, fi->room, name);
}

static const struct transport_ops finder_ops = { .find = find_member };

static enum route_kind route_in(int users_fd, const char *room,
                                const char *msg, size_t len, struct route *r)
{
	struct finder fi = { users_fd, room };
	struct room_transport t = { &finder_ops, &fi };
	return route_message(msg, len, &t, r);
}

struct fixture {
	char dir[64];
	char users[128];
	int fd;              /* the users directory */
	int lock_fd;         /* where room locks go (the run directory) */
	struct presence bob; /* a live member of lobby, claimed by us */
};

/* Claims name in lobby the way a join does: under the room lock. */
static void claim(struct fixture *f, struct presence *p, const char *name)
{
	int lock = presence_lock_room(f->lock_fd, "lobby");
	assert_true(lock >= 0);
	assert_int_equal(presence_claim(p, f->fd, 0640, "lobby", name, "Gray"), 0);
	presence_unlock_room(lock);
	assert_string_equal(p->name, name);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_true(tmpdir_make(f->dir, sizeof f->dir, "test_route"));
	snprintf(f->users, sizeof f->users, "%s/users", f->dir);
	f->fd = presence_open_dir(f->users, 0750);
	assert_true(f->fd >= 0);
	f->lock_fd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->lock_fd >= 0);
	claim(f, &f->bob, "Bob");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	presence_release(&f->bob);
	close(f->fd);
	close(f->lock_fd);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static int route(struct fixture *f, const char *room, const char *msg,
                 struct route *r)
{
	memset(r, 0x5a, sizeof *r);
	return route_in(f->fd, room, msg, strlen(msg), r);
}

/* A private route: target and text as given, the member file pinned. */
static void expect_private(struct fixture *f, const char *msg,
                           const char *target, const char *text)
{
	struct route r;
	assert_int_equal(route(f, "lobby", msg, &r), 1);
	assert_string_equal(r.target, target);
	assert_int_equal(r.text_len, strlen(text));
	assert_memory_equal(r.text, text, r.text_len);
	assert_true(r.text >= msg && r.text + r.text_len == msg + strlen(msg));
	assert_true(r.member >= 0);
	/* The pinned file is the member's own presence file. */
	struct stat mine, pinned;
	assert_int_equal(fstat(f->bob.file_fd, &mine), 0);
	assert_int_equal(fstat(r.member, &pinned), 0);
	assert_true(mine.st_dev == pinned.st_dev && mine.st_ino == pinned.st_ino);
	close(r.member);
}

static void expect_room_in(struct fixture *f, const char *room, const char *msg)
{
	struct route r;
	assert_int_equal(route(f, room, msg, &r), 0);
	assert_int_equal(r.member, -1);
}

static void expect_room(struct fixture *f, const char *msg)
{
	expect_room_in(f, "lobby", msg);
}

static void test_whisper_to_a_member(void **state)
{
	struct fixture *f = *state;
	expect_private(f, "Bob: hi", "Bob", "hi");
	expect_private(f, "Bob: hi there: you", "Bob", "hi there: you");
	expect_private(f, "Bob:  two spaces", "Bob", " two spaces");
	expect_private(f, "Bob: {\"candidate\":\"x\"}", "Bob",
	               "{\"candidate\":\"x\"}");
}

static void test_empty_whisper(void **state)
{
	struct fixture *f = *state;
	expect_private(f, "Bob:", "Bob", "");
	expect_private(f, "Bob: ", "Bob", "");
}

static void test_not_a_member(void **state)
{
	struct fixture *f = *state;
	expect_room(f, "Zed: hi");
	expect_room(f, "bob: hi");
	expect_room(f, "Bo: hi");
	expect_room(f, "Bobby: hi");
	expect_room_in(f, "other", "Bob: hi");
}

static void test_not_whisper_shaped(void **state)
{
	struct fixture *f = *state;
	expect_room(f, "Bob:hi");
	expect_room(f, "Bob:no-space");
	expect_room(f, "Bob");
	expect_room(f, "Bob hi");
	expect_room(f, "hi Bob: there");
	expect_room(f, " Bob: hi");
	expect_room(f, ": hi");
	expect_room(f, ":");
	expect_room(f, "");
	expect_room(f, "Bob:: hi");
}

/* Only len bytes count. */
static void test_uses_len(void **state)
{
	struct fixture *f = *state;
	struct route r;
	memset(&r, 0, sizeof r);
	assert_int_equal(route_in(f->fd, "lobby", "Bob: hi", 3, &r), 0);
	assert_int_equal(r.member, -1);
	assert_int_equal(route_in(f->fd, "lobby", "Bob: hi there", 7, &r), 1);
	assert_int_equal(r.text_len, 2);
	assert_memory_equal(r.text, "hi", 2);
	close(r.member);
}

/* A presence file nobody holds locked belongs to a dead process. */
static void test_dead_member(void **state)
{
	struct fixture *f = *state;
	int fd = openat(f->fd, "lobby_Ghost", O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "Gray\n", 5), 5);
	close(fd);
	struct route r;
	errno = 0;
	assert_int_equal(route(f, "lobby", "Ghost: hi", &r), ROUTE_GONE);
	assert_int_equal(r.member, -1);
	/* The sender tells a dead member from nobody (see chat.c). */
	assert_int_equal(errno, ESRCH);
	/* Asking did not make it look alive. */
	assert_int_equal(route(f, "lobby", "Ghost: hi", &r), ROUTE_GONE);
	assert_int_equal(r.member, -1);
}

static void test_gone_member(void **state)
{
	struct fixture *f = *state;
	expect_private(f, "Bob: hi", "Bob", "hi");
	presence_release(&f->bob);
	expect_room(f, "Bob: hi");
}

/* A target that is no possible name never reaches the file system. */
static void test_bad_names(void **state)
{
	struct fixture *f = *state;
	/* A live file reachable through "..": a whisper must not find it. */
	struct presence other = { 0 };
	claim(f, &other, "x");
	expect_room(f, "../x: hi");
	expect_room(f, "../users/lobby_x: hi");
	expect_room(f, "/x: hi");
	expect_room(f, "lobby_x: hi");
	expect_room(f, ".: hi");
	expect_room(f, "Bob_: hi");
	expect_room(f, "x\x01: hi");
	char long_name[PRESENCE_NAME_MAX + 16];
	memset(long_name, 'a', PRESENCE_NAME_MAX + 1);
	memcpy(long_name + PRESENCE_NAME_MAX + 1, ": hi", 5);
	expect_room(f, long_name);
	presence_release(&other);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_whisper_to_a_member),
		T(test_empty_whisper),
		T(test_not_a_member),
		T(test_not_whisper_shaped),
		T(test_uses_len),
		T(test_dead_member),
		T(test_gone_member),
		T(test_bad_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
