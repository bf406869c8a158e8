/* moderation_redis against a real redis-server (support/redis_server.h):
 * two links stand for two hosts; what one stores the other reads, and
 * changes that cross are both kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "moderation_redis.h"
#include "support/redis_server.h"

static int start(void **state)
{
	return redis_server_setup(state, "test_moderation_redis");
}

static struct mod_command command(const char *line)
{
	struct mod_command cmd;
	char err[256];
	assert_int_equal(moderation_parse(line, strlen(line), &cmd, err,
	                                  sizeof err), 1);
	return cmd;
}

static void test_shared_between_hosts(void **state)
{
	struct redis_link *a = redis_server_link(*state, 0);
	struct redis_link *b = redis_server_link(*state, 0);
	struct mod_state st;
	time_t now = time(NULL);
	struct mod_command ban = command("/ban Bob 60 spam");
	assert_int_equal(moderation_redis_update(a, "m1:", "lobby", &ban,
	                                         "Alice", now, &st), 0);
	moderation_state_free(&st);
	/* The other host sees the ban, and of no other room or chat. */
	assert_int_equal(moderation_redis_load(b, "m1:", "lobby", now, &st), 0);
	assert_non_null(moderation_banned(&st, "Bob", "", now));
	moderation_state_free(&st);
	assert_int_equal(moderation_redis_load(b, "m1:", "hall", now, &st), 0);
	assert_null(moderation_banned(&st, "Bob", "", now));
	moderation_state_free(&st);
	assert_int_equal(moderation_redis_load(b, "m2:", "lobby", now, &st), 0);
	assert_null(moderation_banned(&st, "Bob", "", now));
	moderation_state_free(&st);
	/* A change from the other host keeps the first. */
	struct mod_command mute = command("/mute Carol 10");
	assert_int_equal(moderation_redis_update(b, "m1:", "lobby", &mute,
	                                         "Dave", now, &st), 0);
	moderation_state_free(&st);
	assert_int_equal(moderation_redis_load(a, "m1:", "lobby", now, &st), 0);
	assert_non_null(moderation_banned(&st, "Bob", "", now));
	assert_non_null(moderation_muted(&st, "Carol", now));
	moderation_state_free(&st);
	/* Undone, the state is gone from Redis. */
	struct mod_command unban = command("/unban Bob");
	struct mod_command unmute = command("/unmute Carol");
	assert_int_equal(moderation_redis_update(a, "m1:", "lobby", &unban,
	                                         "Alice", now, &st), 0);
	moderation_state_free(&st);
	assert_int_equal(moderation_redis_update(a, "m1:", "lobby", &unmute,
	                                         "Alice", now, &st), 0);
	moderation_state_free(&st);
	redisReply *rep = redis_server_command(a, 2, "EXISTS", "m1:mod:lobby");
	assert_int_equal(rep->integer, 0);
	redis_link_reply_free(a, rep);
	redis_link_close(a);
	redis_link_close(b);
}

/* A change is a transaction on the key it watched: one that another
 * change overtook fails in Redis (EXEC's nil), and a change reads the
 * state as the last one left it: nothing is lost. */
static void test_crossing_changes(void **state)
{
	struct redis_link *a = redis_server_link(*state, 0);
	struct redis_link *b = redis_server_link(*state, 0);
	struct mod_state st;
	time_t now = time(NULL);
	/* b watches as an update does, then a writes: b's EXEC fails, and
	 * b's next change sees a's ban. */
	redisReply *w = redis_server_command(b, 2, "WATCH", "m3:mod:lobby");
	redis_link_reply_free(b, w);
	struct mod_command ban = command("/ban Bob 60");
	assert_int_equal(moderation_redis_update(a, "m3:", "lobby", &ban,
	                                         "Alice", now, &st), 0);
	moderation_state_free(&st);
	redisReply *m = redis_server_command(b, 1, "MULTI");
	redis_link_reply_free(b, m);
	redisReply *s = redis_server_command(b, 3, "SET", "m3:mod:lobby", "{}");
	redis_link_reply_free(b, s);
	redisReply *e = redis_server_command(b, 1, "EXEC");
	assert_int_equal(e->type, REDIS_REPLY_NIL); /* Redis's side of it */
	redis_link_reply_free(b, e);
	struct mod_command lock = command("/lock");
	assert_int_equal(moderation_redis_update(b, "m3:", "lobby", &lock,
	                                         "Dave", now, &st), 0);
	assert_true(st.locked);
	assert_non_null(moderation_banned(&st, "Bob", "", now));
	moderation_state_free(&st);
	redis_link_close(a);
	redis_link_close(b);
}

static void test_damaged_and_down(void **state)
{
	struct redis_link *a = redis_server_link(*state, 0);
	struct mod_state st;
	time_t now = time(NULL);
	redisReply *r = redis_server_command(a, 3, "SET", "m4:mod:lobby",
	                                     "not json");
	redis_link_reply_free(a, r);
	errno = 0;
	assert_int_equal(moderation_redis_load(a, "m4:", "lobby", now, &st), -1);
	assert_int_equal(errno, EBADMSG);
	moderation_state_free(&st);
	struct mod_command ban = command("/ban Bob 60");
	assert_int_equal(moderation_redis_update(a, "m4:", "lobby", &ban,
	                                         "Alice", now, &st), -1);
	moderation_state_free(&st);
	r = redis_server_command(a, 2, "GET", "m4:mod:lobby");
	assert_string_equal(r->str, "not json"); /* left alone */
	redis_link_reply_free(a, r);
	errno = 0;
	assert_int_equal(moderation_redis_load(NULL, "m4:", "lobby", now, &st),
	                 -1);
	assert_int_equal(errno, EIO);
	moderation_state_free(&st);
	redis_link_close(a);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_between_hosts),
		cmocka_unit_test(test_crossing_changes),
		cmocka_unit_test(test_damaged_and_down),
	};
	return cmocka_run_group_tests(tests, start, redis_server_teardown);
}
