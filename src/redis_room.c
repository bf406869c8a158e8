#include "redis_room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "format.h"
#include "redis_alive.h"
#include "redis_cmd.h"

static const char *const kind_names[] = {
	[REDIS_KEY_ROOM] = "room:",
	[REDIS_KEY_MEMBERS] = "members:",
	[REDIS_KEY_ALIVE] = "alive:",
	[REDIS_KEY_LOCK] = "lock:",
	[REDIS_KEY_ROOMS] = "rooms",
	[REDIS_KEY_CLIENTS] = "clients:",
	[REDIS_KEY_NEW_ROOMS] = "rooms:new",
	[REDIS_KEY_LOCK_QUEUE] = "lockq:",
	[REDIS_KEY_HOSTS] = "hosts",
	[REDIS_KEY_CHANNEL] = "chan:",
};

void redis_room_key(const struct redis_room *r, enum redis_key_kind kind,
                    char *out)
{
	bool of_room = kind != REDIS_KEY_ROOMS && kind != REDIS_KEY_NEW_ROOMS &&
	               kind != REDIS_KEY_HOSTS;
	snprintf(out, REDIS_KEY_MAX, "%s%s%s", r->prefix, kind_names[kind],
	         of_room ? r->room : "");
}

void redis_room_client_record(const struct redis_room *r,
                              char out[REDIS_CLIENT_RECORD_MAX])
{
	snprintf(out, REDIS_CLIENT_RECORD_MAX, "%s%s%s",
	         r->client ? r->client : "", r->client && r->host ? ":" : "",
	         r->client && r->host ? r->host : "");
}

void redis_room_private_key(const struct redis_room *r, const char *conn,
                            char *out)
{
	snprintf(out, REDIS_KEY_MAX, "%spriv:%s:%s", r->prefix, r->room, conn);
}

void redis_room_private_channel(const struct redis_room *r, const char *conn,
                                char *out)
{
	snprintf(out, REDIS_KEY_MAX, "%spchan:%s:%s", r->prefix, r->room, conn);
}

void redis_room_private_bytes_key(const struct redis_room *r,
                                  const char *conn, char *out)
{
	char priv[REDIS_KEY_MAX];
	redis_room_private_key(r, conn, priv);
	snprintf(out, REDIS_KEY_MAX + 8, "%.*s:bytes", REDIS_KEY_MAX - 1, priv);
}

int redis_room_new_id(char *out)
{
	/* The kernel's CSPRNG: an id needs no more, and loading libcrypto
	 * for it would cost every connection its mapping. */
	unsigned char raw[REDIS_CONN_ID_LEN / 2];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return -1;
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

long long redis_room_time_of(struct redis_room *r, const redisReply *rep)
{
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
	    rep->element[0]->type == REDIS_REPLY_STRING &&
	    rep->element[1]->type == REDIS_REPLY_STRING)
		return strtoll(rep->element[0]->str, NULL, 10) * 1000 +
		       strtoll(rep->element[1]->str, NULL, 10) / 1000;
	snprintf(r->err, sizeof r->err, "redis: TIME gave no time");
	return -1;
}

long long redis_room_now_ms(struct redis_room *r)
{
	struct redis_cmd c = { 0 };
	redis_cmd_str(&c, "TIME");
	redisReply *rep = redis_cmd_run(r, &c);
	long long ms = rep ? redis_room_time_of(r, rep) : -1;
	redis_link_reply_free(r->link, rep);
	return ms;
}

/* ---- members ---- */

bool redis_room_parse_member(const char *value, size_t len,
                             struct presence_entry *e,
                             char conn[REDIS_CONN_ID_LEN + 1])
{
	const size_t head = REDIS_CONN_ID_LEN + 3; /* "<conn> <v> " */
	if (len < head || len - head > COLOR_MAX ||
	    value[REDIS_CONN_ID_LEN] != ' ' ||
	    (value[REDIS_CONN_ID_LEN + 1] != '0' &&
	     value[REDIS_CONN_ID_LEN + 1] != '1') ||
	    value[REDIS_CONN_ID_LEN + 2] != ' ' ||
	    strspn(value, "0123456789abcdef") != REDIS_CONN_ID_LEN)
		return false;
	memcpy(e->color, value + head, len - head);
	e->color[len - head] = '\0';
	e->verified = value[REDIS_CONN_ID_LEN + 1] == '1';
	if (conn) {
		memcpy(conn, value, REDIS_CONN_ID_LEN);
		conn[REDIS_CONN_ID_LEN] = '\0';
	}
	return true;
}

/* Sorts one hash field and value into out or dead. */
static int sort_member(const redisReply *name, const redisReply *value,
                       const struct redis_alive *alive, bool as_given,
                       struct presence_list *out, struct presence_list *dead)
{
	struct presence_entry e;
	if (name->type != REDIS_REPLY_STRING || name->len > PRESENCE_NAME_MAX ||
	    !redis_room_parse_member(value->str, value->len, &e, NULL))
		return 0; /* not ours: never shown */
	memcpy(e.name, name->str, name->len);
	e.name[name->len] = '\0';
	if (!as_given && !color_is_valid(e.color)) /* as a presence file's is
	                                               shown */
		snprintf(e.color, sizeof e.color, "%s", COLOR_DEFAULT);
	bool gone = alive && redis_alive_dead(alive, e.name);
	return presence_list_push(gone ? dead : out, &e);
}

/* The members hash, and what judges them when dead is asked for, in one
 * round trip: the members first, then the judgement's queries, so that a
 * member that a heartbeat adds meanwhile (it takes no lock) is not listed
 * at all, rather than listed without its score, and so dead.  0, or -1
 * (r->err) with nothing to free. */
static int fetch_listing(struct redis_room *r, bool judge,
                         redisReply **members, struct redis_alive *alive)
{
	struct redis_cmd cmds[1 + REDIS_ALIVE_QUERIES] = { 0 };
	redisReply *replies[1 + REDIS_ALIVE_QUERIES];
	char key[REDIS_KEY_MAX];
	redis_room_key(r, REDIS_KEY_MEMBERS, key);
	REDIS_CMD_STRS(&cmds[0], "HGETALL", key);
	size_t n = 1 + (judge ? redis_alive_queries(r, alive, cmds + 1) : 0);
	if (redis_cmd_run_all(r, cmds, n, replies) < 0)
		return -1;
	*members = replies[0];
	int rc = judge ? redis_alive_take(r, alive, replies + 1) : 0;
	if (rc == 0 && replies[0]->type != REDIS_REPLY_ARRAY) {
		snprintf(r->err, sizeof r->err, "redis: HGETALL gave no array");
		rc = -1;
	}
	if (rc < 0) {
		if (judge)
			redis_alive_free(r, alive);
		redis_link_reply_free(r->link, *members);
	}
	return rc;
}

static int list(struct redis_room *r, struct presence_list *out,
                struct presence_list *dead, bool as_given)
{
	struct redis_alive alive = { 0 };
	redisReply *members;
	out->n = 0;
	if (dead)
		dead->n = 0;
	if (fetch_listing(r, dead != NULL, &members, &alive) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i + 1 < members->elements; i += 2)
		rc = sort_member(members->element[i], members->element[i + 1],
		                 dead ? &alive : NULL, as_given, out, dead);
	if (dead)
		redis_alive_free(r, &alive);
	redis_link_reply_free(r->link, members);
	if (rc < 0)
		snprintf(r->err, sizeof r->err, "out of memory listing a room");
	presence_list_sort(out);
	return rc;
}

int redis_room_list(struct redis_room *r, struct presence_list *out,
                    struct presence_list *dead)
{
	return list(r, out, dead, false);
}

int redis_room_list_as_given(struct redis_room *r, struct presence_list *out)
{
	return list(r, out, NULL, true);
}

/* ---- the room's stream ---- */

/* The room into the rooms set, and news of it to the archivers if it is
 * new there. */
static const char name_script[] =
	"if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then "
	"redis.call('XADD', KEYS[2], 'MAXLEN', '~', '1000', '*', 'r', ARGV[1]) "
	"end return 0";

static int send_name(struct redis_room *r)
{
	char rooms[REDIS_KEY_MAX], fresh[REDIS_KEY_MAX];
	redis_room_key(r, REDIS_KEY_ROOMS, rooms);
	redis_room_key(r, REDIS_KEY_NEW_ROOMS, fresh);
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "EVAL", name_script, "2", rooms, fresh, r->room);
	return redis_link_send(r->link, c.argc, c.argv, c.lens, r->err,
	                       sizeof r->err);
}

/* Lua: the line LINE into the stream KEY (MAXLEN ~ MAX), and announced on
 * the room's channel CHAN with its id and the id before it, so that a
 * member that finds the one before is not its last knows it missed some
 * (redis_room.h), and with the '\n' that ends it in a log, so that a
 * member hands it on as it came.  One script: the announcements come in
 * stream order. */
#define PUBLISHED_XADD(KEY, LINE, MAX, CHAN) \
	"local last = redis.call('XREVRANGE', " KEY ", '+', '-', 'COUNT', 1) " \
	"local prev = last[1] and last[1][1] or '0-0' " \
	"local id = redis.call('XADD', " KEY ", 'MAXLEN', '~', " MAX ", '*', " \
	"'l', " LINE ") " \
	"redis.call('PUBLISH', " CHAN ", prev .. ' ' .. id .. ' ' .. " LINE \
	" .. '\\n') "

/* ARGV: the line, MAXLEN, the room's channel. */
static const char append_script[] =
	PUBLISHED_XADD("KEYS[1]", "ARGV[1]", "ARGV[2]", "ARGV[3]") "return id";

/* Queues the appending of each line of data[0..len).  Returns how many. */
static int send_lines(struct redis_room *r, const char *data, size_t len)
{
	char key[REDIS_KEY_MAX], chan[REDIS_KEY_MAX], max[24];
	redis_room_key(r, REDIS_KEY_ROOM, key);
	redis_room_key(r, REDIS_KEY_CHANNEL, chan);
	snprintf(max, sizeof max, "%d", REDIS_STREAM_MAX);
	int sent = 0;
	for (const char *p = data, *end = data + len; p < end; sent++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct redis_cmd c = { 0 };
		REDIS_CMD_STRS(&c, "EVAL", append_script, "1", key);
		redis_cmd_arg(&c, p, n);
		REDIS_CMD_STRS(&c, max, chan);
		if (redis_link_send(r->link, c.argc, c.argv, c.lens, r->err,
		                    sizeof r->err) < 0)
			break;
		p = nl ? nl + 1 : end;
	}
	return sent;
}

/* The next reply: 1 taken, 0 refused (r->err), -1 none (broken).  A
 * line's reply is its id: it goes to *id when id is not NULL. */
static int take_reply(struct redis_room *r, const char *what,
                      struct stream_id *id)
{
	redisReply *rep = redis_link_receive(r->link, r->err, sizeof r->err);
	if (!rep)
		return -1;
	bool refused = rep->type == REDIS_REPLY_ERROR;
	if (refused)
		snprintf(r->err, sizeof r->err, "redis refused %s: %.*s", what,
		         (int)(rep->len < 160 ? rep->len : 160), rep->str);
	else if (id && rep->type == REDIS_REPLY_STRING)
		(void)stream_id_parse(rep->str, rep->len, id);
	redis_link_reply_free(r->link, rep);
	return refused ? 0 : 1;
}

size_t redis_room_append(struct redis_room *r, const char *data, size_t len)
{
	/* Named once per handle: the first append of a connection. */
	bool naming = !r->named;
	if (naming && send_name(r) < 0)
		return 0;
	int sent = send_lines(r, data, len);
	int rc = naming ? take_reply(r, "the room's name", NULL) : 1;
	if (rc < 0)
		return 0;
	r->named = rc > 0; /* else tried again next time */
	/* The stored lines are a prefix: up to the first refused. */
	size_t stored = 0;
	bool ok = true;
	for (int i = 0; i < sent; i++) {
		rc = take_reply(r, "a line", &r->appended);
		if (rc < 0)
			return stored; /* the link is broken: nothing more comes */
		ok = ok && rc > 0;
		const char *nl = memchr(data + stored, '\n', len - stored);
		if (ok)
			stored = nl ? (size_t)(nl - data) + 1 : len;
	}
	return stored;
}

/* ---- joining and leaving ---- */

/* Adds the member if the name is free, its alive score by the server's
 * clock. */
static const char add_script[] =
	"if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then "
	"return 0 end "
	"if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[4]) "
	"end "
	"local t = redis.call('TIME') "
	"redis.call('ZADD', KEYS[2], t[1] * 1000 + math.floor(t[2] / 1000) "
	"+ tonumber(ARGV[3]), ARGV[1]) return 1";

int redis_room_add(struct redis_room *r, const char *name, const char *conn,
                   const char *color, bool verified)
{
	char members[REDIS_KEY_MAX], alive[REDIS_KEY_MAX], clients[REDIS_KEY_MAX];
	char value[64], ms[24], record[REDIS_CLIENT_RECORD_MAX];
	redis_room_key(r, REDIS_KEY_MEMBERS, members);
	redis_room_key(r, REDIS_KEY_ALIVE, alive);
	redis_room_key(r, REDIS_KEY_CLIENTS, clients);
	redis_room_member_value(value, sizeof value, conn, color, verified);
	snprintf(ms, sizeof ms, "%d", REDIS_ALIVE_MS);
	redis_room_client_record(r, record);
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "EVAL", add_script, "3", members, alive, clients,
	               name, value, ms, record);
	long long v = redis_cmd_integer(r, &c);
	return v < 0 ? -1 : (int)v;
}

/* Removes the member if it is still the connection's (ARGV[2] empty:
 * whoever's). */
static const char remove_script[] =
	"local v = redis.call('HGET', KEYS[1], ARGV[1]) "
	"if not v then return 0 end "
	"if ARGV[2] ~= '' and string.sub(v, 1, 16) ~= ARGV[2] then return 0 end "
	"redis.call('HDEL', KEYS[1], ARGV[1]) "
	"redis.call('ZREM', KEYS[2], ARGV[1]) "
	"redis.call('HDEL', KEYS[4], ARGV[1]) "
	"redis.call('DEL', KEYS[3], KEYS[5]) return 1";

static int remove_member(struct redis_room *r, const char *name,
                         const char *conn, const char *priv_conn)
{
	char members[REDIS_KEY_MAX], alive[REDIS_KEY_MAX], priv[REDIS_KEY_MAX];
	char clients[REDIS_KEY_MAX], bytes[REDIS_KEY_MAX + 8];
	redis_room_key(r, REDIS_KEY_MEMBERS, members);
	redis_room_key(r, REDIS_KEY_ALIVE, alive);
	redis_room_key(r, REDIS_KEY_CLIENTS, clients);
	redis_room_private_key(r, priv_conn, priv);
	redis_room_private_bytes_key(r, priv_conn, bytes);
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "EVAL", remove_script, "5", members, alive, priv,
	               clients, bytes, name, conn ? conn : "");
	return redis_cmd_integer(r, &c) < 0 ? -1 : 0;
}

int redis_room_remove(struct redis_room *r, const char *name,
                      const char *conn)
{
	char key[REDIS_KEY_MAX];
	redis_room_key(r, REDIS_KEY_MEMBERS, key);
	if (conn)
		return remove_member(r, name, conn, conn);
	/* Whoever's: its private stream is named by the connection in the
	 * hash. */
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "HGET", key, name);
	redisReply *rep = redis_cmd_run(r, &c);
	char owner[REDIS_CONN_ID_LEN + 1] = "";
	struct presence_entry e;
	if (rep && rep->type == REDIS_REPLY_STRING)
		redis_room_parse_member(rep->str, rep->len, &e, owner);
	bool failed = !rep;
	redis_link_reply_free(r->link, rep);
	if (failed)
		return -1;
	return owner[0] ? remove_member(r, name, NULL, owner) : 0;
}

/* A relayed member's socket closed (archive_relay.h): its record, if it
 * is still the one made through this relay, names client 0, which no
 * server has, so the next lister counts it dead; its connection slot
 * goes.  ARGV: conn, its client, client 0 of the run, the slot's key
 * ("" when none). */
static const char gone_script[] =
	"if ARGV[4] ~= '' then redis.call('ZREM', ARGV[4], ARGV[2]) end "
	"local m = redis.call('HGETALL', KEYS[1]) "
	"for i = 1, #m, 2 do "
	"if string.sub(m[i + 1], 1, 16) == ARGV[1] then "
	"local rec = redis.call('HGET', KEYS[2], m[i]) "
	"if rec and string.sub(rec, 1, #ARGV[2] + 1) == ARGV[2] .. ':' then "
	"redis.call('HSET', KEYS[2], m[i], ARGV[3] .. "
	"string.sub(rec, #ARGV[2] + 1)) return 1 end "
	"return 0 end end return 0";

void redis_room_gone_cmd(const struct redis_room *r, const char *conn,
                         const char *client, const char *dead_client,
                         const char *slot_key, char keys[2][REDIS_KEY_MAX],
                         struct redis_cmd *c)
{
	redis_room_key(r, REDIS_KEY_MEMBERS, keys[0]);
	redis_room_key(r, REDIS_KEY_CLIENTS, keys[1]);
	memset(c, 0, sizeof *c);
	REDIS_CMD_STRS(c, "EVAL", gone_script, "2", keys[0], keys[1], conn,
	               client, dead_client, slot_key ? slot_key : "");
}

/* The connection id of name, to remove exactly the one found dead. */
static int owner_of(struct redis_room *r, const char *name, char *conn)
{
	char key[REDIS_KEY_MAX];
	redis_room_key(r, REDIS_KEY_MEMBERS, key);
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "HGET", key, name);
	redisReply *rep = redis_cmd_run(r, &c);
	struct presence_entry e;
	bool found = rep && rep->type == REDIS_REPLY_STRING &&
	             redis_room_parse_member(rep->str, rep->len, &e, conn);
	bool failed = !rep;
	redis_link_reply_free(r->link, rep);
	return failed ? -1 : found ? 1 : 0;
}

/* The dead member out of the room and its quit line into the stream, in
 * one step: a reaper that dies or loses Redis halfway leaves the member
 * for the next, never a member gone without its quit.  ARGV: name, conn,
 * the quit line, MAXLEN, the room, the room's channel. */
static const char reap_script[] =
	"local v = redis.call('HGET', KEYS[1], ARGV[1]) "
	"if not v or string.sub(v, 1, 16) ~= ARGV[2] then return 0 end "
	"redis.call('HDEL', KEYS[1], ARGV[1]) "
	"redis.call('ZREM', KEYS[2], ARGV[1]) "
	"redis.call('HDEL', KEYS[4], ARGV[1]) "
	"redis.call('DEL', KEYS[3], KEYS[5]) "
	PUBLISHED_XADD("KEYS[6]", "ARGV[3]", "ARGV[4]", "ARGV[6]")
	"redis.call('SADD', KEYS[7], ARGV[5]) return 1";

static int reap_one(struct redis_room *r, const char *name, struct buf *line)
{
	char conn[REDIS_CONN_ID_LEN + 1];
	int found = owner_of(r, name, conn);
	if (found <= 0)
		return found;
	if (format_quit(line, time(NULL), r->room, name) < 0)
		return -1;
	char keys[7][REDIS_KEY_MAX + 8], max[24];
	redis_room_key(r, REDIS_KEY_MEMBERS, keys[0]);
	redis_room_key(r, REDIS_KEY_ALIVE, keys[1]);
	redis_room_private_key(r, conn, keys[2]);
	redis_room_key(r, REDIS_KEY_CLIENTS, keys[3]);
	redis_room_private_bytes_key(r, conn, keys[4]);
	redis_room_key(r, REDIS_KEY_ROOM, keys[5]);
	redis_room_key(r, REDIS_KEY_ROOMS, keys[6]);
	snprintf(max, sizeof max, "%d", REDIS_STREAM_MAX);
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "EVAL", reap_script, "7", keys[0], keys[1], keys[2],
	               keys[3], keys[4], keys[5], keys[6], name, conn);
	redis_cmd_arg(&c, line->data, line->len - 1); /* without its '\n' */
	char chan[REDIS_KEY_MAX];
	redis_room_key(r, REDIS_KEY_CHANNEL, chan);
	REDIS_CMD_STRS(&c, max, r->room, chan);
	long long v = redis_cmd_integer(r, &c);
	return v < 0 ? -1 : (int)v;
}

int redis_room_reap(struct redis_room *r, struct presence_list *live)
{
	struct presence_list dead = { 0 };
	struct buf line;
	buf_init(&line, 0);
	int rc = redis_room_list(r, live, &dead);
	int reaped = 0;
	for (size_t i = 0; rc == 0 && i < dead.n; i++) {
		rc = reap_one(r, dead.v[i].name, &line);
		reaped += rc > 0;
		rc = rc < 0 ? -1 : 0;
	}
	buf_free(&line);
	presence_list_free(&dead);
	return rc < 0 ? -1 : reaped;
}
