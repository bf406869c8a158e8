/* limits_redis against a real redis-server of the group's own
 * (support/redis_server.h): flood.h's arithmetic counted in Redis, the
 * slots of MAX_CONNECTIONS_PER_ADDRESS, and the keys' expiry.  Times are
 * given (the connection's clock and the server's), so nothing depends on
 * how fast the tests run; each test has a key prefix of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "limits_redis.h"
#include "redis_alive.h"
#include "support/redis_server.h"

#define ADDR "198.51.100.7"
#define RATE 10  /* a point leaks in 100 ms */
#define BURST 50
#define T0_US 1700000000000000LL /* the server's time in the tests */
#define T0_NS UINT64_C(5000000000000)
#define MS_US 1000LL

/* A connection: its own link, as its reader link would be recorded. */
struct conn {
	struct redis_link *link;
	char client[REDIS_RUN_ID_MAX + 24];
};

static int start(void **state)
{
	return redis_server_setup(state, "test_limits_redis");
}


static long long integer(struct redis_link *link, const char *a,
                         const char *b)
{
	redisReply *rep = redis_server_command(link, 2, a, b);
	assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
	long long v = rep->integer;
	redis_link_reply_free(link, rep);
	return v;
}

static void connect_one(void **state, struct conn *c)
{
	c->link = redis_server_link(*state, 0);
	char run[REDIS_RUN_ID_MAX + 1], err[256];
	long long started;
	assert_int_equal(redis_link_server_run(c->link, run, &started, err,
	                                       sizeof err), 0);
	long long id = integer(c->link, "CLIENT", "ID");
	snprintf(c->client, sizeof c->client, "%s:%lld", run, id);
}

/* limits for ADDR under prefix, flood control on. */
static struct limits_redis limits(const char *prefix)
{
	struct limits_redis l;
	limits_redis_init(&l, prefix, ADDR, RATE, BURST);
	return l;
}

static enum flood_verdict join_at(struct limits_redis *l, struct conn *c,
                                  long long dt_us)
{
	return limits_redis_join_at(l, c->link, c->client, 3.0,
	                            T0_NS + (uint64_t)dt_us * 1000, T0_US + dt_us);
}

static enum flood_verdict line_at(struct limits_redis *l, struct conn *c,
                                  long long dt_us)
{
	return limits_redis_charge_at(l, c->link, c->client, 1.0,
	                              T0_NS + (uint64_t)dt_us * 1000,
	                              T0_US + dt_us);
}

/* A join costs 3 points of the address's 50: 16 fit (48), the 17th does
 * not, and one fits again once 1 point has leaked (100 ms). */
static void test_join_budget(void **state)
{
	struct conn a;
	connect_one(state, &a);
	struct limits_redis l = limits("t1:");
	for (int i = 0; i < 16; i++)
		assert_int_equal(join_at(&l, &a, 0), FLOOD_OK);
	assert_int_equal(l.sharers, 1);
	assert_int_equal(join_at(&l, &a, 0), FLOOD_REFUSE);
	assert_int_equal(join_at(&l, &a, 99 * MS_US), FLOOD_REFUSE);
	assert_int_equal(join_at(&l, &a, 100 * MS_US), FLOOD_OK);
	assert_int_equal(join_at(&l, &a, 100 * MS_US), FLOOD_REFUSE);
	redis_link_close(a.link);
}

/* Lines: 50 pass, the next 50 are refused, the 101st closes the
 * connection, and its address takes no join until the connection's own
 * score would be back at the burst (51 points over it: 5.1 s). */
static void test_lines_kick_and_closed(void **state)
{
	struct conn a;
	connect_one(state, &a);
	struct limits_redis l = limits("t2:");
	for (int i = 0; i < 50; i++)
		assert_int_equal(line_at(&l, &a, 0), FLOOD_OK);
	for (int i = 0; i < 50; i++)
		assert_int_equal(line_at(&l, &a, 0), FLOOD_REFUSE);
	assert_int_equal(line_at(&l, &a, 0), FLOOD_KICK);
	struct limits_redis other = limits("t2:");
	assert_int_equal(join_at(&other, &a, 0), FLOOD_REFUSE);
	assert_int_equal(join_at(&other, &a, 5000 * MS_US), FLOOD_REFUSE);
	assert_int_equal(join_at(&other, &a, 5100 * MS_US), FLOOD_OK);
	/* Another address is not touched. */
	struct limits_redis elsewhere;
	limits_redis_init(&elsewhere, "t2:", "203.0.113.9", RATE, BURST);
	assert_int_equal(limits_redis_join_at(&elsewhere, a.link, a.client, 3.0,
	                                      T0_NS, T0_US), FLOOD_OK);
	redis_link_close(a.link);
}

/* The address's lines: each connection within its own burst, together
 * past FLOOD_KICK_FACTOR times the address's budget (here n is 1: the
 * three share one member), the next line is refused. */
static void test_address_lines(void **state)
{
	struct conn a;
	connect_one(state, &a);
	struct limits_redis x = limits("t3:"), y = limits("t3:"),
	                    z = limits("t3:");
	for (int i = 0; i < 50; i++) {
		assert_int_equal(line_at(&x, &a, 0), FLOOD_OK);
		assert_int_equal(line_at(&y, &a, 0), FLOOD_OK);
	}
	assert_int_equal(line_at(&z, &a, 0), FLOOD_REFUSE);
	assert_int_equal(line_at(&z, &a, 100 * MS_US), FLOOD_OK);
	redis_link_close(a.link);
}

static long long bucket_us(struct conn *c, const char *key)
{
	redisReply *rep = redis_server_command(c->link, 3, "HGET", key, "t");
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	long long t = atoll(rep->str);
	redis_link_reply_free(c->link, rep);
	return t;
}

/* The only connection of its address, with room in the bucket: a line's
 * charge is written, not waited for, and the next reply read brings its
 * verdict in; the charge after a line whose verdict is not in waits. */
static void test_lines_not_waited_for(void **state)
{
	struct conn a;
	connect_one(state, &a);
	struct limits_redis l = limits("t10:");
	assert_int_equal(line_at(&l, &a, 0), FLOOD_OK);
	assert_int_equal(redis_link_unawaited(a.link), 0); /* the first waits */
	assert_int_equal(line_at(&l, &a, 0), FLOOD_OK);
	assert_int_equal(redis_link_unawaited(a.link), 1);
	assert_int_equal(line_at(&l, &a, 0), FLOOD_OK);
	assert_int_equal(redis_link_unawaited(a.link), 0);
	assert_int_equal(line_at(&l, &a, 0), FLOOD_OK);
	assert_int_equal(redis_link_unawaited(a.link), 1);
	/* Every line is in the bucket: 4 points, 400 ms ahead. */
	assert_int_equal(bucket_us(&a, "t10:flood:" ADDR), T0_US + 400 * MS_US);
	assert_int_equal(redis_link_unawaited(a.link), 0);
	assert_int_equal(l.sharers, 1);
	redis_link_close(a.link);
}

/* A second connection of the address joins while the first's line is on
 * its way, and fills the bucket: that one line gets through unjudged, the
 * next waits for its verdict and is refused. */
static void test_unjudged_line_at_most_one(void **state)
{
	struct conn a, b;
	connect_one(state, &a);
	connect_one(state, &b);
	struct limits_redis la = limits("t11:"), lb = limits("t11:");
	char err[256];
	assert_int_equal(limits_redis_take_slot(&la, a.link, a.client, 0, err,
	                                        sizeof err), 1);
	assert_int_equal(line_at(&la, &a, 0), FLOOD_OK);
	assert_int_equal(limits_redis_take_slot(&lb, b.link, b.client, 0, err,
	                                        sizeof err), 1);
	/* b's lines fill the address's room for lines but 10 ms: less than
	 * a line costs, even shared by two (50 ms). */
	char full[32];
	snprintf(full, sizeof full, "%lld", T0_US + 9990 * MS_US);
	redis_link_reply_free(b.link, redis_server_command(b.link, 4, "HSET",
	                                                   "t11:flood:" ADDR,
	                                                   "t", full));
	assert_int_equal(line_at(&la, &a, 0), FLOOD_OK); /* unjudged */
	assert_int_equal(redis_link_unawaited(a.link), 1);
	assert_int_equal(line_at(&la, &a, 0), FLOOD_REFUSE);
	assert_int_equal(la.sharers, 2);
	assert_int_equal(la.margin_ns, 0);
	assert_int_equal(line_at(&la, &a, 0), FLOOD_REFUSE);
	assert_int_equal(redis_link_unawaited(a.link), 0);
	redis_link_close(a.link);
	redis_link_close(b.link);
}

/* n connections of the address give it n budgets (each join 3/n points),
 * n counting at most FLOOD_SHARERS_MAX. */
static void expect_joins(void **state, const char *prefix, int conns,
                         int sharers, int joins)
{
	struct conn *c = calloc((size_t)conns, sizeof *c);
	assert_non_null(c);
	char err[256];
	for (int i = 0; i < conns; i++) {
		connect_one(state, &c[i]);
		struct limits_redis slot = limits(prefix);
		assert_int_equal(limits_redis_take_slot(&slot, c[i].link,
		                                        c[i].client, 0, err,
		                                        sizeof err), 1);
	}
	struct limits_redis l = limits(prefix);
	for (int i = 0; i < joins; i++)
		assert_int_equal(join_at(&l, &c[0], 0), FLOOD_OK);
	assert_int_equal(l.sharers, sharers);
	assert_int_equal(join_at(&l, &c[0], 0), FLOOD_REFUSE);
	for (int i = 0; i < conns; i++)
		redis_link_close(c[i].link);
	free(c);
}

static void test_budget_grows(void **state)
{
	expect_joins(state, "t4:", 4, 4, 66);   /* 0.75 points each */
	expect_joins(state, "t5:", 20, 16, 266); /* 0.1875 points each */
}

/* True once take_slot for c succeeds within a second: Redis drops a
 * closed link's client as soon as it reads the close. */
static bool slot_soon(struct conn *c, const char *prefix, int max)
{
	char err[256];
	for (int i = 0; i < 100; i++) {
		struct limits_redis l = limits(prefix);
		int rc = limits_redis_take_slot(&l, c->link, c->client, max, err,
		                                sizeof err);
		assert_int_not_equal(rc, -1);
		if (rc == 1)
			return true;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return false;
}

static void test_slots(void **state)
{
	struct conn c[3];
	char err[256];
	for (int i = 0; i < 3; i++)
		connect_one(state, &c[i]);
	struct limits_redis l = limits("t6:");
	assert_int_equal(limits_redis_take_slot(&l, c[0].link, c[0].client, 2,
	                                        err, sizeof err), 1);
	assert_int_equal(limits_redis_take_slot(&l, c[1].link, c[1].client, 2,
	                                        err, sizeof err), 1);
	assert_int_equal(limits_redis_take_slot(&l, c[2].link, c[2].client, 2,
	                                        err, sizeof err), 0);
	/* One already held is held still. */
	assert_int_equal(limits_redis_take_slot(&l, c[1].link, c[1].client, 2,
	                                        err, sizeof err), 1);
	/* A member that is no client of this run of the server is gone. */
	redisReply *rep = redis_server_command(c[2].link, 4, "ZADD",
	                                       "t6:conn:" ADDR, "1",
	                      "0123abcd:999999");
	redis_link_reply_free(c[2].link, rep);
	/* A closed link's slot is free at once. */
	redis_link_close(c[0].link);
	assert_true(slot_soon(&c[2], "t6:", 2));
	assert_int_equal(integer(c[2].link, "ZCARD", "t6:conn:" ADDR), 2);
	redis_link_close(c[1].link);
	redis_link_close(c[2].link);
}

/* A member of an earlier run of the server counts until
 * LIMITS_REDIS_STALE_MS after its last join or line. */
static void test_earlier_run(void **state)
{
	struct conn a;
	connect_one(state, &a);
	char score[32];
	snprintf(score, sizeof score, "%lld", T0_US / 1000 - 1000);
	redisReply *rep = redis_server_command(a.link, 4, "ZADD",
	                                       "t7:conn:" ADDR, score,
	                      "0123abcd:5");
	redis_link_reply_free(a.link, rep);
	struct limits_redis l = limits("t7:");
	assert_int_equal(join_at(&l, &a, 0), FLOOD_OK);
	assert_int_equal(l.sharers, 2);
	assert_int_equal(join_at(&l, &a, LIMITS_REDIS_STALE_MS * MS_US),
	                 FLOOD_OK);
	assert_int_equal(l.sharers, 1);
	redis_link_close(a.link);
}

/* Every key expires: the address's bucket when its times have passed,
 * its connections an hour after their last join or line. */
static void test_ttls(void **state)
{
	struct conn a;
	connect_one(state, &a);
	char err[256];
	struct limits_redis l = limits("t8:");
	assert_int_equal(limits_redis_take_slot(&l, a.link, a.client, 3, err,
	                                        sizeof err), 1);
	long long conn_ttl = integer(a.link, "PTTL", "t8:conn:" ADDR);
	assert_true(conn_ttl > 0 && conn_ttl <= LIMITS_REDIS_CONN_TTL_MS);
	assert_int_equal(integer(a.link, "EXISTS", "t8:flood:" ADDR), 0);
	/* On the server's own clock (TIME). */
	assert_int_equal(limits_redis_join(&l, a.link, a.client, 3.0), FLOOD_OK);
	long long flood_ttl = integer(a.link, "PTTL", "t8:flood:" ADDR);
	assert_true(flood_ttl > 250 && flood_ttl <= 301);
	for (int i = 0; i < 101; i++)
		limits_redis_charge(&l, a.link, a.client, 1.0);
	/* Kicked: closed for 5.1 s, the bucket 5.3 s ahead at most. */
	flood_ttl = integer(a.link, "PTTL", "t8:flood:" ADDR);
	assert_true(flood_ttl > 4000 && flood_ttl <= 15001);
	long long left = integer(a.link, "TTL", "t8:conn:" ADDR);
	assert_true(left > 0);
	redis_link_close(a.link);
}

/* Redis down (no link): every charge passes, a slot cannot be had. */
static void test_faults(void **state)
{
	(void)state;
	struct limits_redis l = limits("t9:");
	char err[256];
	assert_int_equal(limits_redis_join(&l, NULL, NULL, 3.0), FLOOD_OK);
	assert_int_equal(limits_redis_charge(&l, NULL, NULL, 1.0), FLOOD_OK);
	assert_int_equal(limits_redis_take_slot(&l, NULL, NULL, 2, err,
	                                        sizeof err), -1);
	/* No flood control: nothing is asked of Redis. */
	struct limits_redis off;
	limits_redis_init(&off, "t9:", ADDR, 0, BURST);
	assert_int_equal(limits_redis_join(&off, NULL, NULL, 3.0), FLOOD_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_budget),
		cmocka_unit_test(test_lines_kick_and_closed),
		cmocka_unit_test(test_address_lines),
		cmocka_unit_test(test_lines_not_waited_for),
		cmocka_unit_test(test_unjudged_line_at_most_one),
		cmocka_unit_test(test_budget_grows),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_earlier_run),
		cmocka_unit_test(test_ttls),
		cmocka_unit_test(test_faults),
	};
	return cmocka_run_group_tests(tests, start, redis_server_teardown);
}
