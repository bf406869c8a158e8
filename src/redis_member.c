#include "redis_room.h"

#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "redis_alive.h"
#include "redis_cmd.h"
#include "redis_record.h"

/* ---- one connection's own entry ---- */

/* ARGV: name, conn, value, alive ms, private key's life ms. */
static const char heartbeat_script[] =
	"local v = redis.call('HGET', KEYS[1], ARGV[1]) "
	"local rc = 1 "
	"if not v then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) rc = 2 "
	"elseif string.sub(v, 1, 16) ~= ARGV[2] then return 0 end "
	"local t = redis.call('TIME') "
	"redis.call('ZADD', KEYS[2], t[1] * 1000 + math.floor(t[2] / 1000) "
	"+ tonumber(ARGV[4]), ARGV[1]) "
	"redis.call('PEXPIRE', KEYS[3], ARGV[5]) "
	"if ARGV[6] ~= '' then redis.call('HSET', KEYS[4], ARGV[1], ARGV[6]) "
	"end return rc";

/* ARGV: name, conn, value. */
static const char set_color_script[] =
	"local v = redis.call('HGET', KEYS[1], ARGV[1]) "
	"if not v or string.sub(v, 1, 16) ~= ARGV[2] then return 0 end "
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) return 1";

/* ARGV: name, conn, line, MAXLEN, private key's life ms, the addressee's
 * channel (a wake-up: the line stays in the stream until taken). */
static const char send_script[] =
	"local v = redis.call('HGET', KEYS[1], ARGV[1]) "
	"if not v or string.sub(v, 1, 16) ~= ARGV[2] then return 0 end "
	"local n = tonumber(redis.call('GET', KEYS[3]) or '0') "
	"if n > 0 and n + #ARGV[3] > tonumber(ARGV[4]) then return 2 end "
	"redis.call('XADD', KEYS[2], '*', 'l', ARGV[3]) "
	"redis.call('INCRBY', KEYS[3], #ARGV[3]) "
	"redis.call('PEXPIRE', KEYS[2], ARGV[5]) "
	"redis.call('PEXPIRE', KEYS[3], ARGV[5]) "
	"redis.call('PUBLISH', ARGV[6], '') return 1";

/* A private stream outlives its reader's last heartbeat a little. */
#define PRIVATE_LIFE_MS (2 * REDIS_ALIVE_MS)

/* A script on the members hash and conn's private stream. */
static long long member_script(struct redis_room *r, const char *script,
                               const char *name, const char *conn,
                               const char *third, size_t third_len,
                               const char *fourth)
{
	char members[REDIS_KEY_MAX], priv[REDIS_KEY_MAX], life[24];
	redis_room_key(r, REDIS_KEY_MEMBERS, members);
	redis_room_private_key(r, conn, priv);
	snprintf(life, sizeof life, "%d", PRIVATE_LIFE_MS);
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "EVAL", script, "2", members, priv, name, conn);
	redis_cmd_arg(&c, third, third_len);
	if (fourth)
		redis_cmd_str(&c, fourth);
	redis_cmd_str(&c, life);
	return redis_cmd_integer(r, &c);
}

int redis_room_member_value(char *out, size_t outsz, const char *conn,
                            const char *color, bool verified)
{
	return snprintf(out, outsz, "%s %c %s", conn, verified ? '1' : '0',
	                color);
}

int redis_room_heartbeat(struct redis_room *r, const char *name,
                         const char *conn, const char *color, bool verified)
{
	char members[REDIS_KEY_MAX], alive[REDIS_KEY_MAX], priv[REDIS_KEY_MAX];
	char clients[REDIS_KEY_MAX], value[64], ms[24], life[24];
	char record[REDIS_CLIENT_RECORD_MAX];
	redis_room_key(r, REDIS_KEY_MEMBERS, members);
	redis_room_key(r, REDIS_KEY_ALIVE, alive);
	redis_room_key(r, REDIS_KEY_CLIENTS, clients);
	redis_room_private_key(r, conn, priv);
	redis_room_member_value(value, sizeof value, conn, color, verified);
	snprintf(ms, sizeof ms, "%d", REDIS_ALIVE_MS);
	snprintf(life, sizeof life, "%d", PRIVATE_LIFE_MS);
	redis_room_client_record(r, record);
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "EVAL", heartbeat_script, "4", members, alive, priv,
	               clients, name, conn, value, ms, life, record);
	return (int)redis_cmd_integer(r, &c);
}

int redis_room_set_color(struct redis_room *r, const char *name,
                         const char *conn, const char *color, bool verified)
{
	char value[64];
	int n = redis_room_member_value(value, sizeof value, conn, color,
	                                verified);
	/* KEYS[2] (the private stream) is passed and not used. */
	return member_script(r, set_color_script, name, conn, value, (size_t)n,
	                     NULL) == 1 ? 0 : -1;
}

int redis_room_send_private(struct redis_room *r, const char *name,
                            const char *conn, const char *line, size_t len)
{
	char members[REDIS_KEY_MAX], priv[REDIS_KEY_MAX];
	char bytes[REDIS_KEY_MAX + 8], chan[REDIS_KEY_MAX];
	char max[24], life[24];
	redis_room_key(r, REDIS_KEY_MEMBERS, members);
	redis_room_private_key(r, conn, priv);
	redis_room_private_bytes_key(r, conn, bytes);
	redis_room_private_channel(r, conn, chan);
	snprintf(max, sizeof max, "%d", REDIS_PRIVATE_MAX);
	snprintf(life, sizeof life, "%d", PRIVATE_LIFE_MS);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "EVAL", send_script, "3", members, priv, bytes, name,
	               conn);
	redis_cmd_arg(&c, line, len);
	REDIS_CMD_STRS(&c, max, life, chan);
	long long v = redis_cmd_integer(r, &c);
	return v < 0 ? -1 : (int)v;
}

/* The line taken: out of the stream, and its bytes out of the count. */
static const char taken_script[] =
	"local n = redis.call('XDEL', KEYS[1], ARGV[1]) "
	"if n > 0 and redis.call('DECRBY', KEYS[2], ARGV[2]) <= 0 then "
	"redis.call('DEL', KEYS[2]) end return n";

int redis_room_private_taken(struct redis_room *r, const char *conn,
                             const char *id, size_t len)
{
	char priv[REDIS_KEY_MAX], bytes[REDIS_KEY_MAX + 8], n[24];
	redis_room_private_key(r, conn, priv);
	redis_room_private_bytes_key(r, conn, bytes);
	snprintf(n, sizeof n, "%zu", len > 0 ? len - 1 : 0); /* its '\n' */
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "EVAL", taken_script, "2", priv, bytes, id, n);
	return redis_cmd_integer(r, &c) < 0 ? -1 : 0;
}

/* The members hash's value of name into e and conn: 1, 0 none, -1. */
static int member_get(struct redis_room *r, const char *name, size_t len,
                      struct presence_entry *e, char *conn)
{
	char key[REDIS_KEY_MAX];
	redis_room_key(r, REDIS_KEY_MEMBERS, key);
	struct redis_cmd c = { 0 };
	redis_cmd_str(&c, "HGET");
	redis_cmd_str(&c, key);
	redis_cmd_arg(&c, name, len);
	redisReply *rep = redis_cmd_run(r, &c);
	if (!rep)
		return -1;
	int found = rep->type == REDIS_REPLY_STRING &&
	            redis_room_parse_member(rep->str, rep->len, e, conn);
	redis_link_reply_free(r->link, rep);
	return found;
}

int redis_room_member_verified(struct redis_room *r, const char *name,
                               size_t len)
{
	struct presence_entry e;
	return member_get(r, name, len, &e, NULL) == 1 && e.verified;
}

int redis_room_member_conn(struct redis_room *r, const char *name,
                           char conn[REDIS_CONN_ID_LEN + 1])
{
	struct presence_entry e;
	return member_get(r, name, strlen(name), &e, conn);
}

int redis_room_member_alive(struct redis_room *r, const char *name)
{
	char key[REDIS_KEY_MAX];
	redis_room_key(r, REDIS_KEY_CLIENTS, key);
	struct redis_cmd c = { 0 };
	REDIS_CMD_STRS(&c, "HGET", key, name);
	redisReply *rep = redis_cmd_run(r, &c);
	if (!rep)
		return -1;
	char record[REDIS_CLIENT_RECORD_MAX] = "", run_id[REDIS_RUN_ID_MAX + 1];
	if (rep->type == REDIS_REPLY_STRING && rep->len < sizeof record)
		memcpy(record, rep->str, rep->len + 1);
	redis_link_reply_free(r->link, rep);
	struct redis_record rec;
	if (!redis_record_parse(record, &rec))
		return 1; /* nothing recorded: its score says, at the listing */
	long long started;
	if (redis_link_server_run(r->link, run_id, &started, r->err,
	                          sizeof r->err) < 0)
		return -1;
	if (!redis_record_of_run(&rec, run_id))
		return 1; /* recorded before a restart: its heartbeat renews it */
	/* Through a relay: client 0 when its socket closed (dead); the
	 * relay's client else, which, gone, leaves it to its score (the relay
	 * went, not the member: redis_alive.h). */
	char id[24];
	snprintf(id, sizeof id, "%.*s", (int)rec.id_len, rec.id);
	if (strcmp(id, "0") == 0)
		return 0;
	bool relayed = rec.relayed;
	struct redis_cmd list = { 0 };
	REDIS_CMD_STRS(&list, "CLIENT", "LIST", "ID", id);
	rep = redis_cmd_run(r, &list);
	if (!rep)
		return -1;
	int alive = rep->type == REDIS_REPLY_STRING && rep->len > 0;
	redis_link_reply_free(r->link, rep);
	return alive || relayed;
}
