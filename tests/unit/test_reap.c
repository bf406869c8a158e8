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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "append.h"
#include "format.h"
#include "presence.h"
#include "reap.h"
#include "support/tmpdir.h"

struct fixture {
	struct tmpdir t;
	int users_fd, rooms_fd, run_fd;
};

static int open_sub(int dir, const char *name)
{
	assert_int_equal(mkdirat(dir, name, 0755), 0);
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	return fd;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	void *t = &f->t;
	if (!f || tmpdir_setup(&t) < 0)
		return -1;
	f->t = *(struct tmpdir *)t;
	free(t);
	f->users_fd = open_sub(f->t.fd, "users");
	f->rooms_fd = open_sub(f->t.fd, "rooms");
	f->run_fd = open_sub(f->t.fd, "run");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->users_fd);
	close(f->rooms_fd);
	close(f->run_fd);
	void *t = malloc(sizeof f->t);
	memcpy(t, &f->t, sizeof f->t);
	free(f);
	return tmpdir_teardown(&t);
}

static void write_log(struct fixture *f, const char *text)
{
	int fd = openat(f->rooms_fd, "lobby.log", O_WRONLY | O_CREAT | O_TRUNC,
	                0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The room log, into a buffer of the caller's. */
#define READ_LOG(f, buf) tmpdir_read((f)->rooms_fd, "lobby.log", buf, sizeof buf)

static bool logged(struct fixture *f, const char *text)
{
	write_log(f, text);
	return reap_quit_logged(f->rooms_fd, "lobby.log", "lobby", "Ann");
}

/* Only Ann's own last join or quit line counts, whole. */
static void test_quit_logged(void **state)
{
	struct fixture *f = *state;
	assert_true(logged(f, "[10:00:00] Ann joined the lobby\n"
	                      "[10:00:01] Ann quit the lobby\n"));
	assert_true(logged(f, "[10:00:01] Ann quit the lobby\n"
	                      "[10:00:02] Bob> hi\n"));
	assert_false(logged(f, "[10:00:01] Ann quit the lobby\n"
	                       "[10:00:02] Ann joined the lobby\n"));
	assert_false(logged(f, "[10:00:00] Ann joined the lobby\n"
	                       "[10:00:01] Bob> Ann quit the lobby\n"
	                       "[10:00:02] Anna quit the lobby\n"
	                       "[10:00:03] Ann quit the lobby2\n"
	                       "[10:00:04] Ann quit the lobby trailing\n"));
	assert_false(logged(f, "")); /* rotated away: log it again */
	assert_false(logged(f, "[10:00:01] Ann quit the lobby")); /* torn */
	assert_true(logged(f, "[10:00:01] Ann quit the lobby\n\n"));
}

/* A member that claims and dies without leaving: its exit status. */
static void die_in_room(struct fixture *f, const char *name, bool log_quit)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct presence p;
		int lock = presence_lock_room(f->run_fd, "lobby");
		if (lock < 0 || presence_claim(&p, f->users_fd, 0644, "lobby",
		                               name, "red") < 0)
			_exit(1);
		struct buf line;
		buf_init(&line, 0);
		if (log_quit &&
		    (format_quit(&line, time(NULL), "lobby", p.name) < 0 ||
		     append_line(f->rooms_fd, "lobby.log", 0644, line.data,
		                 line.len) < 0))
			_exit(1);
		_exit(0); /* as SIGKILL: no release; the kernel drops the lock */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void test_reap_room_logs_quit_once(void **state)
{
	struct fixture *f = *state;
	write_log(f, "[10:00:00] Ann joined the lobby\n");
	die_in_room(f, "Ann", false);
	struct stat st;
	assert_int_equal(fstatat(f->users_fd, "lobby_Ann", &st, 0), 0);
	assert_int_equal(reap_room(f->users_fd, f->rooms_fd, f->run_fd, "lobby",
	                           0644), 1);
	assert_int_equal(fstatat(f->users_fd, "lobby_Ann", &st, 0), -1);
	char log[4096], again[4096];
	READ_LOG(f, log);
	assert_int_equal(count(log, "] Ann quit the lobby\n"), 1);
	assert_non_null(strstr(log, "] Userlist: \n"));
	/* nothing left to do: nothing more is written */
	assert_int_equal(reap_room(f->users_fd, f->rooms_fd, f->run_fd, "lobby",
	                           0644), 0);
	assert_string_equal(READ_LOG(f, again), log);
}

/* Killed after its own quit line: the quit is not logged twice, but the
 * room still gets a user list without it. */
static void test_reap_after_own_quit(void **state)
{
	struct fixture *f = *state;
	write_log(f, "[10:00:00] Ann joined the lobby\n");
	die_in_room(f, "Ann", true);
	assert_int_equal(reap_all(f->users_fd, f->rooms_fd, f->run_fd, 0644, NULL), 1);
	char log[4096];
	READ_LOG(f, log);
	assert_int_equal(count(log, "] Ann quit the lobby\n"), 1);
	assert_int_equal(count(log, "] Userlist: \n"), 1);
}

/* Bob, a live member of lobby (this process), claimed as a join does. */
static void live_bob(struct fixture *f, struct presence *bob)
{
	int lock = presence_lock_room(f->run_fd, "lobby");
	assert_true(lock >= 0);
	assert_int_equal(presence_claim(bob, f->users_fd, 0644, "lobby", "Bob",
	                                "blue"), 0);
	presence_unlock_room(lock);
}

static void leave(struct fixture *f, struct presence *p)
{
	int lock = presence_lock_room(f->run_fd, "lobby");
	presence_release(p);
	presence_unlock_room(lock);
}

/* A live member is never reaped; only the dead one goes. */
static void test_reap_keeps_the_living(void **state)
{
	struct fixture *f = *state;
	struct presence bob;
	char log[4096];
	live_bob(f, &bob);
	write_log(f, "[10:00:00] Ann joined the lobby\n");
	die_in_room(f, "Ann", false);
	assert_int_equal(presence_file_is_dead(f->users_fd, "lobby_Ann"), 1);
	assert_int_equal(presence_file_is_dead(f->users_fd, "lobby_Bob"), 0);
	assert_int_equal(presence_file_is_dead(f->users_fd, "lobby_Nobody"), 0);
	assert_int_equal(reap_all(f->users_fd, f->rooms_fd, f->run_fd, 0644, NULL), 1);
	assert_non_null(strstr(READ_LOG(f, log), "] Userlist: Bob:blue,\n"));
	assert_int_equal(presence_file_is_dead(f->users_fd, "lobby_Bob"), 0);
	leave(f, &bob);
}

/* A member killed between its quit line and its user list: the room gets
 * the list it missed, once; a room whose last list is right gets none. */
static void test_stale_userlist_mended(void **state)
{
	struct fixture *f = *state;
	struct presence bob;
	live_bob(f, &bob);
	write_log(f, "[10:00:00] Userlist: Ann:red,Bob:blue,\n"
	             "[10:00:01] Ann quit the lobby\n");
	assert_int_equal(reap_room(f->users_fd, f->rooms_fd, f->run_fd, "lobby",
	                           0644), 0);
	char log[4096];
	READ_LOG(f, log);
	assert_int_equal(count(log, "] Userlist: Bob:blue,\n"), 1);
	assert_int_equal(reap_room(f->users_fd, f->rooms_fd, f->run_fd, "lobby",
	                           0644), 0);
	assert_int_equal(count(READ_LOG(f, log), "] Userlist: Bob:blue,\n"), 1);
	leave(f, &bob);
}

/* Room locks nobody holds are collected; a held one stays. */
static void test_collect_locks(void **state)
{
	struct fixture *f = *state;
	int held = presence_lock_room(f->run_fd, "lobby");
	int other = presence_lock_room(f->run_fd, "other");
	assert_true(held >= 0 && other >= 0);
	presence_unlock_room(other);
	assert_int_equal(presence_collect_locks(f->run_fd), 1);
	struct stat st;
	assert_int_equal(fstatat(f->run_fd, "lobby.lock", &st, 0), 0);
	assert_int_equal(fstatat(f->run_fd, "other.lock", &st, 0), -1);
	presence_unlock_room(held);
	/* a lock is taken again on a new file */
	held = presence_lock_room(f->run_fd, "other");
	assert_true(held >= 0);
	assert_int_equal(fstatat(f->run_fd, "other.lock", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	presence_unlock_room(held);
}

static void test_room_of(void **state)
{
	(void)state;
	char room[ROOM_NAME_MAX + 1];
	assert_true(presence_room_of("lobby_Ann", room));
	assert_string_equal(room, "lobby");
	assert_true(presence_room_of("Železná-hospoda_Ann1", room));
	assert_string_equal(room, "Železná-hospoda");
	assert_false(presence_room_of(".lobby.lock", room));
	assert_false(presence_room_of("lobby", room));
	assert_false(presence_room_of("_Ann", room));
	assert_false(presence_room_of("lobby_", room));
	assert_false(presence_room_of("lobby_a b", room));
	assert_false(presence_room_of("#12345", room));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_quit_logged),
		T(test_reap_room_logs_quit_once),
		T(test_reap_after_own_quit),
		T(test_reap_keeps_the_living),
		T(test_stale_userlist_mended),
		T(test_collect_locks),
		cmocka_unit_test(test_room_of),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
