#include "limits_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "redis_record.h"
#include "transport_redis.h"

#define NS_PER_SECOND 1000000000.0
/* As in flood.c: no setting comes near, and every sum stays exact. */
#define LIMITS_NS_MAX (UINT64_C(1) << 60)

#define STR_(x) #x
#define STR(x) STR_(x)

/* KEYS: flood, conn.  ARGV: op (slot, join, line or kick), the member,
 * its run id, now in microseconds ("" for TIME), max, cost (points),
 * microseconds a point, burst, kick and horizon (microseconds ahead of
 * now), the closing time of a kick (ahead of now), then the members found
 * dead.  Returns {0 ok | 1 refused | 2 full, n}, and after a line let
 * through the room left for lines (microseconds) as a third.  Times are
 * written with %d: Lua's own number format keeps 14 digits, and a time in
 * microseconds has 16. */
static const char script[] =
	"local fk, ck, op, me = KEYS[1], KEYS[2], ARGV[1], ARGV[2]\n"
	"local now = tonumber(ARGV[4])\n"
	"if not now then\n"
	"  local t = redis.call('TIME')\n"
	"  now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
	"end\n"
	"local ms = math.floor(now / 1000)\n"
	"for i = 12, #ARGV do redis.call('ZREM', ck, ARGV[i]) end\n"
	"local mark = ARGV[3] .. ':'\n"
	"local stale = string.format('(%d', ms - " STR(LIMITS_REDIS_STALE_MS) ")\n"
	"for _, m in ipairs(redis.call('ZRANGEBYSCORE', ck, '-inf', stale)) do\n"
	"  if string.sub(m, 1, #mark) ~= mark then redis.call('ZREM', ck, m) end\n"
	"end\n"
	"if op == 'slot' and not redis.call('ZSCORE', ck, me) then\n"
	"  local max = tonumber(ARGV[5])\n"
	"  if max > 0 and redis.call('ZCARD', ck) >= max then return {2, 0} end\n"
	"end\n"
	"redis.call('ZADD', ck, ms, me)\n"
	"redis.call('PEXPIRE', ck, " STR(LIMITS_REDIS_CONN_TTL_MS) ")\n"
	"local n = math.min(redis.call('ZCARD', ck), " STR(FLOOD_SHARERS_MAX) ")\n"
	"if op == 'slot' then return {0, n} end\n"
	"local horizon = tonumber(ARGV[10])\n"
	"local function ahead(w)\n"
	"  w = tonumber(w)\n"
	"  if not w or w <= now or w - now > horizon then return 0 end\n"
	"  return w - now\n"
	"end\n"
	"local h = redis.call('HMGET', fk, 't', 'c')\n"
	"local t, c = ahead(h[1]), ahead(h[2])\n"
	"if op == 'kick' then\n"
	"  c = math.max(c, math.min(tonumber(ARGV[11]), horizon))\n"
	"else\n"
	"  if op == 'join' and c > 0 then return {1, n} end\n"
	"  local room = tonumber(op == 'join' and ARGV[8] or ARGV[9])\n"
	"  local step = math.floor(tonumber(ARGV[6]) / n * tonumber(ARGV[7]) + 0.5)\n"
	"  step = math.max(math.min(step, horizon), 0)\n"
	"  if step > room or t > room - step then return {1, n} end\n"
	"  t = t + step\n"
	"end\n"
	"redis.call('HSET', fk, 't', string.format('%d', now + t),\n"
	"           'c', string.format('%d', now + c))\n"
	"redis.call('PEXPIRE', fk, math.floor(math.max(t, c) / 1000) + 1)\n"
	"if op == 'line' then return {0, n, tonumber(ARGV[9]) - t} end\n"
	"return {0, n}\n";

enum script_result { SCRIPT_OK, SCRIPT_REFUSED, SCRIPT_FULL, SCRIPT_FAILED };

/* One step of the script: what it is given besides the keys. */
struct step {
	const char *op;
	const char *client;
	long long server_us; /* -1: the server's TIME */
	int max;
	double cost;
	uint64_t closing_ns; /* a kick's */
};

/* points as time ahead, no more than max, nothing for a negative or NaN
 * amount (flood.c's rounding). */
static uint64_t points_ns(const struct limits_redis *l, double points,
                          uint64_t max)
{
	double ns = points * l->ns_per_point;
	if (!(ns > 0))
		return 0;
	if (ns >= (double)max)
		return max;
	return (uint64_t)(ns + 0.5);
}

void limits_redis_conn_key(const char *prefix, const char *address,
                           char out[LIMITS_REDIS_KEY_MAX])
{
	snprintf(out, LIMITS_REDIS_KEY_MAX, "%sconn:%s", prefix, address);
}

void limits_redis_init(struct limits_redis *l, const char *prefix,
                       const char *address, int rate, int burst)
{
	*l = (struct limits_redis){ .sharers = 1 };
	limits_redis_conn_key(prefix, address, l->conn_key);
	snprintf(l->flood_key, sizeof l->flood_key, "%sflood:%s", prefix,
	         address);
	if (rate <= 0 || burst <= 0)
		return;
	l->flooding = true;
	l->ns_per_point = NS_PER_SECOND / rate;
	l->burst_ns = points_ns(l, burst, LIMITS_NS_MAX);
	l->kick_ns = points_ns(l, (double)burst * FLOOD_KICK_FACTOR,
	                       LIMITS_NS_MAX);
	l->horizon_ns = points_ns(l, (double)burst * (FLOOD_KICK_FACTOR + 1),
	                          LIMITS_NS_MAX);
}

static uint64_t clock_ns(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_MONOTONIC, &t) < 0)
		return 0;
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- the dead ---- */

/* The client id of member when it is of run (the run_id and ':' that
 * start it, run_len bytes), else NULL; *len its digits.  A member that
 * listens through its host's relay is "<relay's id>.<conn>" there: the
 * relay's id, whose slots live while the relay does and which the relay
 * lets go one by one (redis_room_gone_cmd).  Only digits are asked: one
 * CLIENT LIST ID that is not a number would fail the whole look. */
static const char *id_of_run(const char *member, const char *run,
                             size_t run_len, size_t *len)
{
	struct redis_record r;
	if (!redis_record_parse(member, &r) || r.run_len + 1 != run_len ||
	    strncmp(member, run, run_len) != 0)
		return NULL;
	*len = r.id_len;
	return r.id;
}

/* Whether CLIENT LIST's text lists client id (n digits). */
static bool listed(const char *list, const char *id, size_t n)
{
	for (const char *p = list; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, "id=", 3) == 0 && strncmp(p + 3, id, n) == 0 &&
		    p[3 + n] == ' ')
			return true;
	return false;
}

/* CLIENT LIST ID of the members of our run, but ourselves; NULL when
 * there are none or it failed (*failed then). */
static redisReply *ask_clients(struct redis_link *link, const redisReply *m,
                               const char *client, size_t run_len,
                               bool *failed, char *err, size_t errsz)
{
	const char *argv[LIMITS_REDIS_CHECK_MAX + 3] = { "CLIENT", "LIST", "ID" };
	size_t lens[LIMITS_REDIS_CHECK_MAX + 3];
	int argc = 3;
	for (int i = 0; i < 3; i++)
		lens[i] = strlen(argv[i]);
	for (size_t i = 0; i < m->elements && argc < (int)(sizeof argv /
	                                                    sizeof *argv); i++) {
		size_t len = 0;
		const char *id = m->element[i]->type == REDIS_REPLY_STRING
		                 ? id_of_run(m->element[i]->str, client, run_len,
		                             &len)
		                 : NULL;
		if (id && strcmp(m->element[i]->str, client) != 0) {
			lens[argc] = len;
			argv[argc++] = id;
		}
	}
	if (argc == 3)
		return NULL;
	redisReply *rep = redis_link_command(link, argc, argv, lens, err, errsz);
	if (!rep || rep->type != REDIS_REPLY_STRING) {
		if (rep)
			snprintf(err, errsz, "redis: CLIENT LIST gave no list");
		redis_link_reply_free(link, rep);
		*failed = true;
		return NULL;
	}
	return rep;
}

/* The oldest members of the address (ZRANGE), and into dead those of our
 * run whose client is gone; dead points into the reply, which the caller
 * frees after the script.  NULL on failure (err). */
static redisReply *find_dead(const struct limits_redis *l,
                             struct redis_link *link, const char *client,
                             const char **dead, int *n_dead, char *err,
                             size_t errsz)
{
	char last[16];
	snprintf(last, sizeof last, "%d", LIMITS_REDIS_CHECK_MAX - 1);
	const char *const argv[] = { "ZRANGE", l->conn_key, "0", last };
	const size_t lens[] = { 6, strlen(l->conn_key), 1, strlen(last) };
	redisReply *m = redis_link_command(link, 4, argv, lens, err, errsz);
	if (m && m->type != REDIS_REPLY_ARRAY) {
		snprintf(err, errsz, "redis: ZRANGE gave no array");
		redis_link_reply_free(link, m);
		return NULL;
	}
	const char *colon = strchr(client, ':');
	size_t run_len = colon ? (size_t)(colon - client) + 1 : 0;
	bool failed = false;
	redisReply *list = m && run_len ? ask_clients(link, m, client, run_len,
	                                              &failed, err, errsz)
	                                : NULL;
	*n_dead = 0;
	for (size_t i = 0; list && i < m->elements; i++) {
		size_t len = 0;
		const char *id = m->element[i]->type == REDIS_REPLY_STRING
		                 ? id_of_run(m->element[i]->str, client, run_len,
		                             &len)
		                 : NULL;
		if (id && strcmp(m->element[i]->str, client) != 0 &&
		    !listed(list->str, id, len))
			dead[(*n_dead)++] = m->element[i]->str;
	}
	redis_link_reply_free(link, list);
	if (failed) {
		redis_link_reply_free(link, m);
		return NULL;
	}
	return m;
}

/* ---- the script ---- */

/* SCRIPT LOAD: the text once per process, not with every line. */
static int load_script(struct limits_redis *l, struct redis_link *link,
                       char *err, size_t errsz)
{
	const char *const argv[] = { "SCRIPT", "LOAD", script };
	const size_t lens[] = { 6, 4, sizeof script - 1 };
	redisReply *rep = redis_link_command(link, 3, argv, lens, err, errsz);
	int rc = rep && rep->type == REDIS_REPLY_STRING &&
	         rep->len < sizeof l->sha ? 0 : -1;
	if (rc == 0)
		memcpy(l->sha, rep->str, rep->len + 1);
	else if (rep)
		snprintf(err, errsz, "redis refused the limits script: %.160s",
		         rep->type == REDIS_REPLY_ERROR ? rep->str : "no SHA1");
	redis_link_reply_free(link, rep);
	return rc;
}

static bool all_integers(const redisReply *rep)
{
	for (size_t i = 0; i < rep->elements; i++)
		if (rep->element[i]->type != REDIS_REPLY_INTEGER)
			return false;
	return true;
}

/* The script's reply as a result; *n gets its count, *room_ns the room it
 * left for lines (0 but after a line let through). */
static enum script_result result_of(const redisReply *rep, int *n,
                                    uint64_t *room_ns, char *err,
                                    size_t errsz)
{
	*room_ns = 0;
	if (rep->type == REDIS_REPLY_ARRAY && (rep->elements == 2 ||
	                                       rep->elements == 3) &&
	    all_integers(rep) && rep->element[0]->integer >= 0 &&
	    rep->element[0]->integer <= 2) {
		*n = (int)rep->element[1]->integer;
		if (rep->elements == 3 && rep->element[2]->integer > 0)
			*room_ns = (uint64_t)rep->element[2]->integer * 1000;
		return (enum script_result)rep->element[0]->integer;
	}
	snprintf(err, errsz, "redis: the limits script failed: %.160s",
	         rep->type == REDIS_REPLY_ERROR ? rep->str : "no verdict");
	return SCRIPT_FAILED;
}

static bool script_lost(const redisReply *rep)
{
	return rep->type == REDIS_REPLY_ERROR &&
	       strncmp(rep->str, "NOSCRIPT", 8) == 0;
}

/* Nanoseconds to decimal microseconds, rounded. */
static void micros(char out[24], uint64_t ns)
{
	snprintf(out, 24, "%llu", (unsigned long long)((ns + 500) / 1000));
}

/* EVALSHA of one step, with the members found dead. */
struct step_command {
	char run[REDIS_RUN_ID_MAX + 2], now[24], max[16], cost[32], per[24];
	char burst[24], kick[24], horizon[24], closing[24];
	const char *argv[LIMITS_REDIS_CHECK_MAX + 16];
	size_t lens[LIMITS_REDIS_CHECK_MAX + 16];
	int argc;
};

/* argv[1] is l->sha itself: measure() takes its length as it is then. */
static void build(struct step_command *c, const struct limits_redis *l,
                  const struct step *s, const char **dead, int n_dead)
{
	const char *colon = strchr(s->client, ':');
	snprintf(c->run, sizeof c->run, "%.*s",
	         colon ? (int)(colon - s->client) : 0, s->client);
	c->now[0] = '\0'; /* none given: the script reads the server's clock */
	if (s->server_us >= 0)
		snprintf(c->now, sizeof c->now, "%lld", s->server_us);
	snprintf(c->max, sizeof c->max, "%d", s->max);
	snprintf(c->cost, sizeof c->cost, "%.17g", s->cost);
	snprintf(c->per, sizeof c->per, "%.17g", l->ns_per_point / 1000);
	micros(c->burst, l->burst_ns);
	micros(c->kick, l->kick_ns);
	micros(c->horizon, l->horizon_ns);
	micros(c->closing, s->closing_ns);
	const char *head[] = {
		"EVALSHA", l->sha, "2", l->flood_key, l->conn_key, s->op,
		s->client, c->run, c->now, c->max, c->cost, c->per, c->burst,
		c->kick, c->horizon, c->closing,
	};
	c->argc = (int)(sizeof head / sizeof *head);
	memcpy(c->argv, head, sizeof head);
	for (int i = 0; i < n_dead && i < LIMITS_REDIS_CHECK_MAX; i++)
		c->argv[c->argc++] = dead[i];
}

static void measure(struct step_command *c)
{
	for (int i = 0; i < c->argc; i++)
		c->lens[i] = strlen(c->argv[i]);
}

/* The step's command, waited for; loads the script first, and again
 * when the server lost it (a restart, SCRIPT FLUSH). */
static enum script_result eval_step(struct limits_redis *l,
                                    struct redis_link *link,
                                    const struct step *s, const char **dead,
                                    int n_dead, char *err, size_t errsz)
{
	struct step_command c = { .argc = 0 };
	build(&c, l, s, dead, n_dead);
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((attempt > 0 || !l->sha[0]) &&
		    load_script(l, link, err, errsz) < 0)
			return SCRIPT_FAILED;
		measure(&c);
		redisReply *rep = redis_link_command(link, c.argc, c.argv, c.lens,
		                                     err, errsz);
		if (!rep)
			return SCRIPT_FAILED;
		bool lost = script_lost(rep);
		enum script_result r = lost ? SCRIPT_FAILED
		                            : result_of(rep, &l->sharers,
		                                        &l->margin_ns, err, errsz);
		redis_link_reply_free(link, rep);
		if (!lost)
			return r;
	}
	return SCRIPT_FAILED;
}

/* A fault told once: the transport tells the rest. */
static void say_fault(struct limits_redis *l, const char *err)
{
	if (!l->told)
		fprintf(stderr, "chat_server: cannot charge the address in "
		        "Redis (let through): %s\n", err);
	l->told = true;
}

/* The verdict of a line's charge that nobody waited for (defer_line).
 * The room it tells of does not count the lines charged after it without
 * waiting: the margin only ever shrinks here. */
static void settle(void *ctx, redisReply *rep)
{
	struct limits_redis *l = ctx;
	char err[256];
	int n = l->sharers;
	uint64_t room = 0;
	bool lost = script_lost(rep);
	enum script_result r = lost ? SCRIPT_FAILED
	                       : result_of(rep, &n, &room, err, sizeof err);
	l->sharers = n;
	if (r != SCRIPT_OK || n != 1)
		l->margin_ns = 0;
	else if (room < l->margin_ns)
		l->margin_ns = room;
	if (lost)
		l->sha[0] = '\0'; /* loaded again by the next step waited for */
	else if (r == SCRIPT_FAILED)
		say_fault(l, err);
}

/* A line's charge written without waiting for its verdict, when the
 * verdict cannot be a refusal: the address had only this connection at
 * the last count, which is not due again yet, its bucket had room for
 * this line besides those charged since, and the verdict of the line
 * before is in (a connection of the address that joined meanwhile shows
 * in it, and from then on every charge waits: one line at most goes
 * unjudged).  One round trip less before every line (docs/scale-out.md).
 * 1 sent, 0 to be waited for, -1 failed (err). */
static int defer_line(struct limits_redis *l, struct redis_link *link,
                      const struct step *s, uint64_t now, char *err,
                      size_t errsz)
{
	uint64_t step = points_ns(l, s->cost, l->horizon_ns); /* n is 1 */
	if (!link || !s->client || !s->client[0] || !l->sha[0] ||
	    redis_link_unawaited(link) > 0 || l->sharers != 1 ||
	    step > l->margin_ns || l->counted_at == 0 ||
	    now < l->counted_at || now - l->counted_at >= FLOOD_RECOUNT_NS)
		return 0;
	struct step_command c = { .argc = 0 };
	build(&c, l, s, NULL, 0);
	measure(&c);
	int rc = redis_link_send_unawaited(link, c.argc, c.argv, c.lens, settle,
	                                   l, err, errsz);
	if (rc > 0)
		l->margin_ns -= step;
	return rc;
}

/* A step, with a look for the dead first when it is time (or forced):
 * the count must not hold a connection that has gone. */
static enum script_result run_step(struct limits_redis *l,
                                   struct redis_link *link,
                                   const struct step *s, uint64_t now,
                                   bool force, char *err, size_t errsz)
{
	if (!link || !s->client || !s->client[0]) {
		snprintf(err, errsz, "redis: the room's link is down");
		return SCRIPT_FAILED;
	}
	const char *dead[LIMITS_REDIS_CHECK_MAX];
	int n_dead = 0;
	redisReply *members = NULL;
	if (force || l->counted_at == 0 || now < l->counted_at ||
	    now - l->counted_at >= FLOOD_RECOUNT_NS) {
		members = find_dead(l, link, s->client, dead, &n_dead, err, errsz);
		if (!members)
			return SCRIPT_FAILED;
		l->counted_at = now;
	}
	enum script_result r = eval_step(l, link, s, dead, n_dead, err, errsz);
	redis_link_reply_free(link, members);
	return r;
}

/* A failure during a charge lets the line through (flood.h). */
static enum flood_verdict fault(struct limits_redis *l, const char *err)
{
	say_fault(l, err);
	return FLOOD_OK;
}

int limits_redis_take_slot(struct limits_redis *l, struct redis_link *link,
                           const char *client, int max, char *err,
                           size_t errsz)
{
	const struct step s = { .op = "slot", .client = client,
	                        .server_us = -1, .max = max };
	enum script_result r = run_step(l, link, &s, clock_ns(), true, err,
	                                errsz);
	return r == SCRIPT_OK ? 1 : r == SCRIPT_FULL ? 0 : -1;
}

enum flood_verdict limits_redis_join_at(struct limits_redis *l,
                                        struct redis_link *link,
                                        const char *client, double cost,
                                        uint64_t now_ns, long long server_us)
{
	if (!l->flooding)
		return FLOOD_OK;
	char err[256];
	const struct step s = { .op = "join", .client = client,
	                        .server_us = server_us, .cost = cost };
	enum script_result r = run_step(l, link, &s, now_ns, false, err,
	                                sizeof err);
	if (r == SCRIPT_FAILED)
		return fault(l, err);
	return r == SCRIPT_OK ? FLOOD_OK : FLOOD_REFUSE;
}

/* The connection's own bucket: every line counts, refused ones too, up
 * to the horizon (flood.c). */
static uint64_t charge_own(struct limits_redis *l, uint64_t now,
                           uint64_t step)
{
	uint64_t ahead = l->own <= now || l->own - now > l->horizon_ns
	                 ? 0 : l->own - now;
	ahead = step >= l->horizon_ns - ahead ? l->horizon_ns : ahead + step;
	l->own = now + ahead;
	return ahead;
}

enum flood_verdict limits_redis_charge_at(struct limits_redis *l,
                                          struct redis_link *link,
                                          const char *client, double cost,
                                          uint64_t now_ns,
                                          long long server_us)
{
	if (!l->flooding)
		return FLOOD_OK;
	uint64_t ahead = charge_own(l, now_ns,
	                            points_ns(l, cost, l->horizon_ns));
	if (ahead > l->burst_ns && ahead <= l->kick_ns)
		return FLOOD_REFUSE;
	/* Kicked: closed to joins while this connection would still be
	 * refused, had it stayed. */
	bool kick = ahead > l->kick_ns;
	char err[256];
	const struct step s = {
		.op = kick ? "kick" : "line", .client = client,
		.server_us = server_us, .cost = cost,
		.closing_ns = kick ? ahead - l->burst_ns : 0,
	};
	int deferred = kick ? 0 : defer_line(l, link, &s, now_ns, err,
	                                     sizeof err);
	if (deferred > 0)
		return FLOOD_OK;
	if (deferred < 0)
		return fault(l, err);
	enum script_result r = run_step(l, link, &s, now_ns, false, err,
	                                sizeof err);
	if (kick)
		return FLOOD_KICK;
	if (r == SCRIPT_FAILED)
		return fault(l, err);
	return r == SCRIPT_OK ? FLOOD_OK : FLOOD_REFUSE;
}

enum flood_verdict limits_redis_join(struct limits_redis *l,
                                     struct redis_link *link,
                                     const char *client, double cost)
{
	uint64_t now = clock_ns();
	return now ? limits_redis_join_at(l, link, client, cost, now, -1)
	           : FLOOD_OK;
}

enum flood_verdict limits_redis_charge(struct limits_redis *l,
                                       struct redis_link *link,
                                       const char *client, double cost)
{
	uint64_t now = clock_ns();
	return now ? limits_redis_charge_at(l, link, client, cost, now, -1)
	           : FLOOD_OK;
}

/* ---- the connection's, through its transport ---- */

/* Set up once, whichever of slot and start comes first. */
static struct limits_redis *ready(struct limits_redis *l,
                                  const struct chat_config *cfg,
                                  const char *address)
{
	if (!l->set_up)
		limits_redis_init(l, cfg->redis_key_prefix, address,
		                  cfg->flood_rate, cfg->flood_burst);
	l->set_up = true;
	return l;
}

int limits_redis_slot(struct limits_redis *l, struct room_transport *t,
                      const struct chat_config *cfg, const char *address)
{
	const char *client = NULL;
	struct redis_link *link = transport_redis_link(t, &client);
	char err[256];
	ready(l, cfg, address); /* first: it sets l up from zero */
	int rc = limits_redis_take_slot(l, link, client,
	                                cfg->max_connections_per_address, err,
	                                sizeof err);
	if (rc < 0)
		fprintf(stderr, "chat_server: cannot count the connections of "
		        "%s: %s\n", address, err);
	l->slotted = rc > 0;
	l->max = cfg->max_connections_per_address;
	return rc;
}

enum flood_verdict limits_redis_start(struct limits_redis *l,
                                      struct room_transport *t,
                                      const struct chat_config *cfg,
                                      const char *address, double cost)
{
	const char *client = NULL;
	struct redis_link *link = transport_redis_link(t, &client);
	ready(l, cfg, address); /* first: it sets l up from zero */
	l->charged = true;
	return limits_redis_join(l, link, client, cost);
}

enum flood_verdict limits_redis_line(struct limits_redis *l,
                                     struct room_transport *t, double cost)
{
	if (!l->charged || !l->flooding)
		return FLOOD_OK;
	const char *client = NULL;
	struct redis_link *link = transport_redis_link(t, &client);
	return limits_redis_charge(l, link, client, cost);
}

void limits_redis_renew(struct limits_redis *l, struct room_transport *t)
{
	const char *client = NULL;
	struct redis_link *link = transport_redis_link(t, &client);
	char err[256];
	/* Our slot, taken again: its score renewed (a silent connection
	 * still counts), or recorded anew after a restart of Redis. */
	if (l->slotted && link)
		limits_redis_take_slot(l, link, client, l->max, err, sizeof err);
	else if (l->charged && l->flooding && link)
		limits_redis_charge(l, link, client, 0);
}
