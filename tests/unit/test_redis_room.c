/* redis_room and redis_stream against a real redis-server of the group's
 * own (support/redis_server.h): the room's keys as docs/scale-out.md
 * gives them, read back with plain commands. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "redis_alive.h"
#include "redis_host.h"
#include "redis_record.h"
#include "redis_room.h"
#include "redis_stream.h"
#include "support/redis_server.h"

static int start(void **state)
{
	return redis_server_setup(state, "test_redis_room");
}

/* A room of its own in the group's server (each test a prefix). */
static struct redis_room room_of(void **state, const char *prefix)
{
	struct redis_room r = { .prefix = prefix, .room = "lobby" };
	r.link = redis_server_link(*state, 0);
	return r;
}


static long long integer(struct redis_room *r, int argc, const char *a,
                         const char *b, const char *c)
{
	redisReply *rep = argc == 2
	                  ? redis_server_command(r->link, 2, a, b)
	                  : redis_server_command(r->link, 3, a, b, c);
	assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
	long long v = rep->integer;
	redis_link_reply_free(r->link, rep);
	return v;
}

static void test_stream_ids(void **state)
{
	(void)state;
	struct stream_id a, b;
	char text[STREAM_ID_MAX];
	assert_true(stream_id_parse("1700000000000-3", 15, &a));
	assert_true(a.ms == 1700000000000ULL && a.seq == 3);
	stream_id_format(&a, text);
	assert_string_equal(text, "1700000000000-3");
	assert_true(stream_id_parse("18446744073709551615-0", 22, &b));
	assert_true(stream_id_cmp(&a, &b) < 0 && stream_id_cmp(&b, &a) > 0);
	assert_int_equal(stream_id_cmp(&a, &a), 0);
	static const char *const bad[] = { "", "-", "1-", "-1", "1", "1-2-3",
	                                   "a-1", "1 -2", "+1-2",
	                                   "18446744073709551616-0" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_false(stream_id_parse(bad[i], strlen(bad[i]), &b));
	b = stream_id_before(&a);
	assert_true(b.ms == a.ms && b.seq == 2);
	a.seq = 0;
	b = stream_id_before(&a);
	assert_true(b.ms == a.ms - 1 && b.seq == ~0ULL);
}

static void test_lock(void **state)
{
	struct redis_room r = room_of(state, "t1:");
	char mine[REDIS_CONN_ID_LEN + 1], other[REDIS_CONN_ID_LEN + 1];
	assert_int_equal(redis_room_lock(&r, 100, mine), 0);
	errno = 0;
	assert_int_equal(redis_room_lock(&r, 50, other), -1);
	assert_int_equal(errno, ETIMEDOUT);
	/* A lock that is no longer ours is not released by us. */
	redis_room_unlock(&r, "0000000000000000");
	assert_int_equal(integer(&r, 2, "EXISTS", "t1:lock:lobby", NULL), 1);
	redis_room_unlock(&r, mine);
	assert_int_equal(integer(&r, 2, "EXISTS", "t1:lock:lobby", NULL), 0);
	assert_int_equal(redis_room_lock(&r, 50, other), 0);
	assert_string_not_equal(mine, other);
	redis_room_unlock(&r, other);
	redis_link_close(r.link);
}

static void test_members(void **state)
{
	struct redis_room r = room_of(state, "t2:");
	struct presence_list l = { 0 };
	assert_int_equal(redis_room_add(&r, "Bob", "00000000000000b0", "#00f",
	                                false), 1);
	assert_int_equal(redis_room_add(&r, "Alice", "00000000000000a0",
	                                "#f00", true), 1);
	assert_int_equal(redis_room_add(&r, "Alice", "00000000000000a1", "",
	                                false), 0);
	/* A value we did not write is nobody's. */
	redisReply *rep = redis_server_command(r.link, 4, "HSET",
	                                       "t2:members:lobby", "Mallory",
	                      "junk");
	redis_link_reply_free(r.link, rep);
	assert_int_equal(redis_room_list(&r, &l, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].name, "Alice");
	assert_string_equal(l.v[0].color, "#f00");
	assert_true(l.v[0].verified);
	assert_string_equal(l.v[1].name, "Bob");
	assert_false(l.v[1].verified);
	assert_int_equal(redis_room_member_verified(&r, "Alice", 5), 1);
	assert_int_equal(redis_room_member_verified(&r, "Bob", 3), 0);
	char conn[REDIS_CONN_ID_LEN + 1];
	assert_int_equal(redis_room_member_conn(&r, "Bob", conn), 1);
	assert_string_equal(conn, "00000000000000b0");
	assert_int_equal(redis_room_member_conn(&r, "Zed", conn), 0);
	/* Only the connection that holds a name lets it go. */
	assert_int_equal(redis_room_remove(&r, "Bob", "00000000000000b1"), 0);
	assert_int_equal(redis_room_member_conn(&r, "Bob", conn), 1);
	assert_int_equal(redis_room_remove(&r, "Bob", "00000000000000b0"), 0);
	assert_int_equal(redis_room_member_conn(&r, "Bob", conn), 0);
	redisReply *score = redis_server_command(r.link, 3, "ZSCORE",
	                                         "t2:alive:lobby", "Bob");
	assert_int_equal(score->type, REDIS_REPLY_NIL);
	redis_link_reply_free(r.link, score);
	presence_list_free(&l);
	redis_link_close(r.link);
}

struct collected {
	char text[256];
	int lines;
	char first[STREAM_ID_MAX]; /* the first entry's id */
};

static int collect_entry(void *ctx, const struct stream_id *id,
                         const char *line, size_t len)
{
	struct collected *c = ctx;
	if (!c->lines)
		stream_id_format(id, c->first);
	strncat(c->text, line, len);
	c->lines++;
	return 0;
}

static int collect_line(void *ctx, const char *line, size_t len)
{
	struct collected *c = ctx;
	strncat(c->text, line, len);
	c->lines++;
	return 0;
}

static void test_stream(void **state)
{
	struct redis_room r = room_of(state, "t3:");
	struct stream_id zero = { 0, 0 }, last, first;
	assert_int_equal(redis_stream_last_id(&r, &last), 0);
	assert_int_equal(stream_id_cmp(&last, &zero), 0);
	static const char lines[] = "[10:00:00] a\n[10:00:01] b\n[10:00:02] c\n";
	assert_int_equal(redis_room_append(&r, lines, sizeof lines - 1),
	                 sizeof lines - 1);
	assert_int_equal(integer(&r, 2, "XLEN", "t3:room:lobby", NULL), 3);
	assert_int_equal(integer(&r, 3, "SISMEMBER", "t3:rooms", "lobby"), 1);
	/* Read in steps of two, each line whole with its newline. */
	struct collected c = { "", 0, "" };
	struct stream_id at = zero;
	assert_int_equal(redis_stream_range(&r, NULL, &at, 2, collect_entry, &c),
	                 2);
	assert_string_equal(c.text, "[10:00:00] a\n[10:00:01] b\n");
	assert_int_equal(redis_stream_last_id(&r, &last), 0);
	/* The handle knows its last line: the reply to its XADD. */
	assert_int_equal(stream_id_cmp(&r.appended, &last), 0);
	assert_int_equal(redis_stream_nth_last_id(&r, NULL, 3, &first), 1);
	assert_int_equal(redis_stream_nth_last_id(&r, NULL, 4, &first), 0);
	assert_int_equal(redis_stream_nth_last_id(&r, NULL, 0, &first), 0);
	assert_int_equal(redis_stream_nth_last_id(&r, NULL, 1, &first), 1);
	assert_int_equal(stream_id_cmp(&first, &last), 0);
	/* Counted back from a line of the stream: the one before the last
	 * is the 1st up to it, and there are two lines up to it, not three. */
	struct stream_id second;
	assert_int_equal(redis_stream_nth_last_id(&r, NULL, 2, &second), 1);
	assert_int_equal(redis_stream_nth_last_id(&r, &second, 1, &first), 1);
	assert_int_equal(stream_id_cmp(&first, &second), 0);
	assert_int_equal(redis_stream_nth_last_id(&r, &second, 2, &first), 1);
	assert_int_equal(redis_stream_nth_last_id(&r, &second, 3, &first), 0);
	/* After the last: nothing. */
	c = (struct collected){ "", 0, "" };
	assert_int_equal(redis_stream_range(&r, NULL, &last, 10, collect_entry,
	                                    &c), 0);
	/* The look-back takes whole lines that fit, oldest first. */
	c = (struct collected){ "", 0, "" };
	assert_int_equal(redis_stream_look_back(&r, &last, 30, collect_line, &c),
	                 0);
	assert_string_equal(c.text, "[10:00:01] b\n[10:00:02] c\n");
	c = (struct collected){ "", 0, "" };
	assert_int_equal(redis_stream_look_back(&r, &zero, 300, collect_line,
	                                        &c), 0);
	assert_int_equal(c.lines, 0);
	redis_link_close(r.link);
}

static void test_private_and_heartbeat(void **state)
{
	struct redis_room r = room_of(state, "t4:");
	redisReply *rep;
	const char *conn = "00000000000000c0";
	assert_int_equal(redis_room_add(&r, "Carol", conn, "red", false), 1);
	assert_int_equal(redis_room_send_private(&r, "Carol", conn,
	                                         "psst\n", 5), 1);
	assert_int_equal(redis_room_send_private(&r, "Carol",
	                                         "00000000000000c1", "no\n", 3),
	                 0);
	assert_int_equal(redis_room_send_private(&r, "Zed", conn, "no\n", 3), 0);
	struct collected c = { "", 0, "" };
	struct stream_id zero = { 0, 0 };
	assert_int_equal(redis_stream_range(&r, "t4:priv:lobby:00000000000000c0",
	                                    &zero, 10, collect_entry, &c), 1);
	assert_string_equal(c.text, "psst\n");
	assert_true(integer(&r, 2, "PTTL", "t4:priv:lobby:00000000000000c0",
	                    NULL) > 0);
	/* A full queue refuses, and a line taken makes room. */
	static char big[64 * 1024];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\n';
	for (int i = 0; i < 4; i++) /* 4 + 4 * 65535 bytes: 256 KiB */
		assert_int_equal(redis_room_send_private(&r, "Carol", conn, big,
		                                         sizeof big), 1);
	assert_int_equal(redis_room_send_private(&r, "Carol", conn, big,
	                                         sizeof big), 2);
	assert_int_equal(redis_room_private_taken(&r, conn, c.first, 5), 0);
	assert_int_equal(redis_room_send_private(&r, "Carol", conn, big,
	                                         sizeof big), 2);
	assert_int_equal(redis_room_send_private(&r, "Carol", conn, "fits\n",
	                                         5), 1);
	rep = redis_server_command(r.link, 2, "GET",
	                           "t4:priv:lobby:00000000000000c0:bytes");
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	assert_int_equal(atoi(rep->str), REDIS_PRIVATE_MAX);
	redis_link_reply_free(r.link, rep);
	/* Never in the room's stream. */
	assert_int_equal(integer(&r, 2, "EXISTS", "t4:room:lobby", NULL), 0);
	assert_int_equal(redis_room_heartbeat(&r, "Carol", conn, "red", false),
	                 1);
	assert_int_equal(redis_room_heartbeat(&r, "Carol", "00000000000000c1",
	                                      "red", false), 0);
	assert_int_equal(redis_room_set_color(&r, "Carol", conn, "blue", false),
	                 0);
	assert_int_equal(redis_room_set_color(&r, "Carol", "00000000000000c1",
	                                      "blue", false), -1);
	/* Lost (a Redis without its data), the name is taken again. */
	assert_int_equal(integer(&r, 3, "HDEL", "t4:members:lobby", "Carol"), 1);
	assert_int_equal(redis_room_heartbeat(&r, "Carol", conn, "blue", false),
	                 2);
	struct presence_list l = { 0 };
	assert_int_equal(redis_room_list(&r, &l, NULL), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].color, "blue");
	presence_list_free(&l);
	redis_link_close(r.link);
}

static long long uptime(struct redis_room *r)
{
	redisReply *rep = redis_server_command(r->link, 2, "INFO", "server");
	const char *at = strstr(rep->str, "uptime_in_seconds:");
	long long up = at ? atoll(at + 18) : -1;
	redis_link_reply_free(r->link, rep);
	return up;
}

/* A member whose alive score is past is reaped once, with its quit line,
 * but not while the server is younger than the grace. */
static void test_reap(void **state)
{
	struct redis_room r = room_of(state, "t5:");
	struct presence_list live = { 0 };
	assert_int_equal(redis_room_add(&r, "Dead", "00000000000000d0", "", false),
	                 1);
	assert_int_equal(redis_room_add(&r, "Live", "00000000000000d1", "",
	                                false), 1);
	redisReply *rep = redis_server_command(r.link, 4, "ZADD",
	                                       "t5:alive:lobby", "1", "Dead");
	redis_link_reply_free(r.link, rep);
	/* One whose connection to Redis is gone is dead at once, its score
	 * fresh: its process died. */
	struct redis_room gone = room_of(state, "t5:");
	rep = redis_server_command(gone.link, 2, "CLIENT", "ID");
	char id[REDIS_RUN_ID_MAX + 24], run_id[REDIS_RUN_ID_MAX + 1], err[256];
	long long client = rep->integer, up;
	redis_link_reply_free(gone.link, rep);
	assert_int_equal(redis_link_server_run(gone.link, run_id, &up, err,
	                                       sizeof err), 0);
	snprintf(id, sizeof id, "%s:%lld", run_id, client);
	gone.client = id;
	assert_int_equal(redis_room_add(&gone, "Gone", "00000000000000d2", "",
	                                false), 1);
	assert_int_equal(redis_room_member_alive(&r, "Gone"), 1);
	redis_link_close(gone.link);
	for (int i = 0; i < 100 && redis_room_member_alive(&r, "Gone") == 1; i++)
		usleep(10000);
	assert_int_equal(redis_room_member_alive(&r, "Gone"), 0);
	assert_int_equal(redis_room_member_alive(&r, "Live"), 1);
	if (uptime(&r) < REDIS_REAP_GRACE_S) {
		/* In the grace, a score is not judged; a gone client is. */
		assert_int_equal(redis_room_reap(&r, &live), 1);
		assert_int_equal(live.n, 2);
	} else {
		fail_msg("the server is older than the grace: nothing tested");
	}
	/* Redis gives its uptime in whole seconds, so the moment it started
	 * is known to within a second (redis_link_server_run): one more,
	 * and the grace is over by every reckoning. */
	while (uptime(&r) < REDIS_REAP_GRACE_S + 1)
		sleep(1);
	/* The living beat meanwhile. */
	assert_int_equal(redis_room_heartbeat(&r, "Live", "00000000000000d1", "",
	                                      false), 1);
	assert_int_equal(redis_room_reap(&r, &live), 1);
	assert_int_equal(live.n, 1);
	assert_string_equal(live.v[0].name, "Live");
	assert_int_equal(redis_room_reap(&r, &live), 0);
	struct collected c = { "", 0, "" };
	struct stream_id zero = { 0, 0 };
	assert_int_equal(redis_stream_range(&r, NULL, &zero, 10, collect_entry,
	                                    &c), 2);
	assert_non_null(strstr(c.text, "] Dead quit the lobby\n"));
	assert_non_null(strstr(c.text, "] Gone quit the lobby\n"));
	assert_int_equal(integer(&r, 2, "HLEN", "t5:clients:lobby", NULL), 0);
	presence_list_free(&live);
	redis_link_close(r.link);
}

static void test_host_id(void **state)
{
	(void)state;
	char a[REDIS_HOST_ID_LEN + 1], b[REDIS_HOST_ID_LEN + 1];
	char again[REDIS_HOST_ID_LEN + 1];
	redis_host_id("/srv/chat/users", a);
	redis_host_id("/srv/chat2/users", b);
	redis_host_id("/srv/chat/users", again);
	assert_int_equal(strlen(a), REDIS_HOST_ID_LEN);
	assert_int_equal(strspn(a, "0123456789abcdef"), REDIS_HOST_ID_LEN);
	assert_string_equal(a, again);
	assert_string_not_equal(a, b);
}

/* A member of this run whose client is connected: "Name" on host. */
static void add_on_host(struct redis_room *r, const char *client,
                        const char *name, const char *conn, const char *host)
{
	struct redis_room m = *r;
	m.client = client;
	m.host = host;
	assert_int_equal(redis_room_add(&m, name, conn, "", false), 1);
}

static bool listed_alive(struct redis_room *r, const char *name)
{
	struct presence_list live = { 0 }, dead = { 0 };
	assert_int_equal(redis_room_list(r, &live, &dead), 0);
	bool found = false;
	for (size_t i = 0; i < live.n; i++)
		found = found || strcmp(live.v[i].name, name) == 0;
	presence_list_free(&live);
	presence_list_free(&dead);
	return found;
}

/* A host's archiver speaks for its members: past its word they are
 * dead, their own scores fresh and their clients connected; a host with
 * no word leaves them to their own scores. */
static void test_host_word(void **state)
{
	struct redis_room r = room_of(state, "t6:");
	while (uptime(&r) < REDIS_REAP_GRACE_S)
		sleep(1);
	redisReply *rep = redis_server_command(r.link, 2, "CLIENT", "ID");
	char client[REDIS_RUN_ID_MAX + 24], run_id[REDIS_RUN_ID_MAX + 1];
	char err[256];
	long long up;
	snprintf(client, sizeof client, "%lld", rep->integer);
	redis_link_reply_free(r.link, rep);
	assert_int_equal(redis_link_server_run(r.link, run_id, &up, err,
	                                       sizeof err), 0);
	char record[sizeof client + sizeof run_id];
	snprintf(record, sizeof record, "%s:%s", run_id, client);
	const char *here = "aaaaaaaaaaaaaaaa", *gone = "bbbbbbbbbbbbbbbb";
	const char *silent = "cccccccccccccccc";
	add_on_host(&r, record, "Here", "00000000000000e0", here);
	add_on_host(&r, record, "Gone", "00000000000000e1", gone);
	add_on_host(&r, record, "Lone", "00000000000000e2", silent);
	assert_int_equal(redis_host_beat(r.link, "t6:", here, err, sizeof err),
	                 0);
	assert_int_equal(redis_host_beat(r.link, "t6:", gone, err, sizeof err),
	                 0);
	assert_true(listed_alive(&r, "Gone"));
	/* Its host's word ran out a moment ago; its last beat was before. */
	long long now = redis_room_now_ms(&r);
	char beat[32], word[32];
	snprintf(beat, sizeof beat, "%lld", now - 1000 + REDIS_ALIVE_MS);
	snprintf(word, sizeof word, "%lld", now - 1);
	rep = redis_server_command(r.link, 4, "ZADD", "t6:alive:lobby", beat,
	                           "Gone");
	redis_link_reply_free(r.link, rep);
	rep = redis_server_command(r.link, 4, "ZADD", "t6:hosts", word, gone);
	redis_link_reply_free(r.link, rep);
	assert_false(listed_alive(&r, "Gone"));
	assert_true(listed_alive(&r, "Here"));
	assert_true(listed_alive(&r, "Lone"));
	/* It beats after its host's word ran out (it read its quit, and took
	 * its name again): alive, on its own score, until the archiver
	 * speaks again. */
	struct redis_room gone_member = r;
	gone_member.client = record;
	gone_member.host = gone;
	assert_int_equal(redis_room_heartbeat(&gone_member, "Gone",
	                                      "00000000000000e1", "", false), 1);
	assert_true(listed_alive(&r, "Gone"));
	/* An archiver stopped on purpose: its members are judged by their
	 * own scores, fresh here, past there. */
	assert_int_equal(redis_host_forget(r.link, "t6:", here, err, sizeof err),
	                 0);
	assert_true(listed_alive(&r, "Here"));
	rep = redis_server_command(r.link, 4, "ZADD", "t6:alive:lobby", "1",
	                           "Here");
	redis_link_reply_free(r.link, rep);
	assert_false(listed_alive(&r, "Here"));
	/* The record the member left holds its host. */
	rep = redis_server_command(r.link, 3, "HGET", "t6:clients:lobby",
	                           "Lone");
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	struct redis_record rec;
	assert_true(redis_record_parse(rep->str, &rec));
	assert_non_null(rec.host);
	assert_string_equal(rec.host, silent);
	redis_link_reply_free(r.link, rep);
	redis_link_close(r.link);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_ids),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_private_and_heartbeat),
		cmocka_unit_test(test_reap),
		cmocka_unit_test(test_host_id),
		cmocka_unit_test(test_host_word),
	};
	return cmocka_run_group_tests(tests, start, redis_server_teardown);
}
