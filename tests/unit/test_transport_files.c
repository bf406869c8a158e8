/* The room transport seam (transport.h) over its files implementation:
 * two members of one room, each with a transport of its own, as two
 * connections have, meet only through the operations a connection uses.
 * (The warden, the files transport's upkeep, is not started here: it is a
 * process of its own, tested by tests/integration/warden.test.js.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "support/tmpdir.h"
#include "transport.h"
#include "transport_files.h"

struct member {
	struct room_transport t;
	struct rundir rd;
	char name[PRESENCE_NAME_MAX + 1];
	int woken;       /* hooks.woken calls */
	struct buf read; /* the room lines read, one after another */
};

struct fixture {
	char dir[64];
	char rooms[128], users[128], run[128];
	struct chat_config cfg;
	struct member alice, bob;
};

static void woken(void *ctx)
{
	struct member *m = ctx;
	m->woken++;
}

static int collect(void *ctx, const char *line, size_t len)
{
	struct member *m = ctx;
	assert_non_null(line);
	return buf_append(&m->read, line, len);
}

/* Opens m's transport the way chat.c does. */
static void open_member(struct fixture *f, struct member *m)
{
	const struct transport_hooks hooks = { .woken = woken, .ctx = m };
	const char *failed = "unset";
	buf_init(&m->read, 0);
	m->rd.fd = -1;
	assert_int_equal(transport_files_open(&m->t, &f->cfg, "lobby", &hooks,
	                                      &failed), 0);
	assert_null(failed);
	assert_int_equal(transport_files_run_dir(&m->t, &m->rd), 0);
	assert_int_equal(transport_follow(&m->t, false), 0);
}

/* Joins as chat.c does: listed, claimed and announced under the room
 * lock.  Returns how many were present before. */
static size_t join(struct member *m, const char *base_name)
{
	struct presence_list members = { 0 };
	char line[128];
	assert_true(transport_lock(&m->t) >= 0);
	assert_true(transport_locked(&m->t));
	assert_int_equal(transport_list(&m->t, &members, true), 0);
	size_t before = members.n;
	assert_int_equal(transport_claim(&m->t, base_name, "red", false,
	                                 &members, m->name), 0);
	assert_int_equal(members.n, before + 1);
	assert_true(transport_claimed(&m->t));
	assert_int_equal(transport_open_private(&m->t), 0);
	int n = snprintf(line, sizeof line, "[12:00:00] %s joined\n", m->name);
	assert_int_equal(transport_append(&m->t, line, (size_t)n, false),
	                 (size_t)n);
	transport_unlock(&m->t);
	assert_false(transport_locked(&m->t));
	transport_free_listing(&members);
	return before;
}

/* Reads what the room has for m (with inotify: once woken). */
static void read_room(struct member *m)
{
	struct pollfd p = { transport_room_fd(&m->t), POLLIN, 0 };
	if (p.fd >= 0 && poll(&p, 1, 1000) == 1)
		transport_notice(&m->t);
	while (transport_read(&m->t, 64 * 1024, collect, m) == 1)
		;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_true(tmpdir_make(f->dir, sizeof f->dir, "test_transport"));
	snprintf(f->rooms, sizeof f->rooms, "%s/rooms", f->dir);
	snprintf(f->users, sizeof f->users, "%s/users", f->dir);
	snprintf(f->run, sizeof f->run, "%s/run", f->dir);
	f->cfg.rooms_dir = f->rooms;
	f->cfg.users_dir = f->users;
	f->cfg.run_dir = f->run;
	f->cfg.file_mode = 0640;
	f->cfg.dir_mode = 0750;
	f->cfg.poll_interval_ms = 100;
	open_member(f, &f->alice);
	open_member(f, &f->bob);
	*state = f;
	return 0;
}

static void close_member(struct member *m)
{
	transport_close(&m->t);
	assert_false(transport_is_open(&m->t));
	if (m->rd.fd >= 0)
		close(m->rd.fd);
	buf_free(&m->read);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close_member(&f->alice);
	close_member(&f->bob);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Membership: the second joiner lists the first; a taken name is
 * numbered; a released member is gone for lookups. */
static void test_membership(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(join(&f->alice, "Ann"), 0);
	assert_int_equal(join(&f->bob, "Ann"), 1);
	assert_string_equal(f->alice.name, "Ann");
	assert_string_equal(f->bob.name, "Ann1");
	assert_int_equal(transport_verified(&f->bob.t, "Ann", 3), 0);

	int member = transport_find(&f->bob.t, "Ann");
	assert_true(member >= 0);
	int again = transport_find(&f->alice.t, "Ann");
	assert_true(transport_same_member(&f->bob.t, member, again));
	transport_drop_member(&f->alice.t, again);
	transport_drop_member(&f->bob.t, member);

	assert_true(transport_lock(&f->alice.t) >= 0);
	assert_int_equal(transport_recolor(&f->alice.t, "#0f0"), 0);
	transport_release(&f->alice.t);
	transport_release(&f->alice.t); /* safe twice */
	assert_false(transport_claimed(&f->alice.t));
	transport_unlock(&f->alice.t);
	errno = 0;
	assert_int_equal(transport_find(&f->bob.t, "Ann"), -1);
	assert_int_equal(errno, ENOENT);
}

/* A listing with quits logged says how many it logged: the dead member's
 * file goes, its quit is in the log, and the next listing finds none. */
static void test_list_counts_reaped(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(join(&f->alice, "Ann"), 0);
	char path[256];
	snprintf(path, sizeof path, "%s/lobby_Zed", f->users);
	FILE *dead = fopen(path, "w"); /* nobody holds it: its owner died */
	assert_non_null(dead);
	fputs("Gray\n", dead);
	fclose(dead);
	struct presence_list members = { 0 };
	assert_true(transport_lock(&f->alice.t) >= 0);
	assert_int_equal(transport_list(&f->alice.t, &members, true), 1);
	assert_int_equal(members.n, 1);
	assert_string_equal(members.v[0].name, "Ann");
	assert_int_equal(transport_list(&f->alice.t, &members, true), 0);
	transport_unlock(&f->alice.t);
	transport_free_listing(&members);
	assert_int_equal(access(path, F_OK), -1);
	char log[256], text[1024] = "";
	snprintf(log, sizeof log, "%s/lobby.log", f->rooms);
	FILE *in = fopen(log, "r");
	assert_non_null(in);
	size_t n = fread(text, 1, sizeof text - 1, in);
	fclose(in);
	text[n] = '\0';
	assert_non_null(strstr(text, "] Zed quit the lobby\n"));
}

/* The log: one order for every member, history marked at the join. */
static void test_room_lines(void **state)
{
	struct fixture *f = *state;
	join(&f->alice, "Ann");
	join(&f->bob, "Bob");
	assert_int_equal(transport_rewind(&f->bob.t, 10), 0);
	assert_int_equal(transport_mark_history(&f->bob.t), 0);
	assert_false(transport_past_history(&f->bob.t));
	read_room(&f->bob);
	assert_true(transport_past_history(&f->bob.t));
	assert_string_equal(f->bob.read.data, "[12:00:00] Ann joined\n"
	                                      "[12:00:00] Bob joined\n");

	static const char two[] = "[12:00:01] Bob> a\n[12:00:01] Bob> b\n";
	assert_int_equal(transport_append(&f->bob.t, two, sizeof two - 1, true),
	                 sizeof two - 1);
	assert_false(transport_paused(&f->bob.t));
	/* Alice followed the room before her join made its log: she reads it
	 * from its start. */
	read_room(&f->alice);
	assert_string_equal(f->alice.read.data, "[12:00:00] Ann joined\n"
	                    "[12:00:00] Bob joined\n"
	                    "[12:00:01] Bob> a\n[12:00:01] Bob> b\n");
	if (transport_room_fd(&f->alice.t) >= 0)
		assert_true(f->alice.woken > 0);
}

/* Private lines: to one member's inbox alone, control lines included. */
static void test_private_lines(void **state)
{
	struct fixture *f = *state;
	struct buf got;
	buf_init(&got, 0);
	join(&f->alice, "Ann");
	join(&f->bob, "Bob");
	assert_true(transport_private_fd(&f->alice.t) >= 0);
	assert_int_equal(transport_receive(&f->alice.t, &got), 0);

	int member = transport_find(&f->bob.t, "Ann");
	assert_true(member >= 0);
	int channel = transport_connect(&f->bob.t, member);
	assert_true(channel >= 0);
	static const char line[] = "[12:00:02] Bob: psst\n";
	static const char order[] = { TRANSPORT_CONTROL, 'c', 'h', 'e', 'c',
	                              'k', '\n' };
	assert_int_equal(transport_send(&f->bob.t, channel, line,
	                                sizeof line - 1), 0);
	assert_int_equal(transport_send(&f->bob.t, channel, order,
	                                sizeof order), 0);
	errno = EINTR;
	transport_hang_up(&f->bob.t, channel);
	assert_int_equal(errno, EINTR); /* errno kept */
	transport_hang_up(&f->bob.t, -1);
	transport_drop_member(&f->bob.t, member);

	assert_int_equal(transport_receive(&f->alice.t, &got), 1);
	assert_int_equal(got.len, sizeof line - 1);
	assert_memory_equal(got.data, line, got.len);
	assert_int_equal(transport_receive(&f->alice.t, &got), 1);
	assert_int_equal(got.data[0], TRANSPORT_CONTROL);
	assert_int_equal(transport_receive(&f->alice.t, &got), 0);
	/* Bob's own inbox heard nothing. */
	assert_int_equal(transport_receive(&f->bob.t, &got), 0);

	transport_close_private(&f->alice.t);
	transport_close_private(&f->alice.t); /* safe twice */
	assert_int_equal(transport_private_fd(&f->alice.t), -1);
	buf_free(&got);
}

/* A directory that cannot be opened is named, and the transport can still
 * be closed. */
static void test_open_failure(void **state)
{
	struct fixture *f = *state;
	struct room_transport t;
	const char *failed = NULL;
	struct chat_config cfg = f->cfg;
	char file[128];
	snprintf(file, sizeof file, "%s/not-a-dir", f->dir);
	FILE *fp = fopen(file, "w");
	assert_non_null(fp);
	fclose(fp);
	cfg.users_dir = file;
	assert_int_equal(transport_files_open(&t, &cfg, "lobby", NULL, &failed),
	                 -1);
	assert_non_null(failed);
	assert_string_equal(failed, "cannot open the users directory");
	assert_true(transport_is_open(&t));
	transport_close(&t);
	assert_false(transport_is_open(&t));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_membership),
		T(test_list_counts_reaped),
		T(test_room_lines),
		T(test_private_lines),
		T(test_open_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
