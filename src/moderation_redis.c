#include "moderation_redis.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "buf.h"
#include "config.h"
#include "room.h"

/* Changes that came between ours and made us read again, at most. */
#define UPDATE_TRIES 8

#define MOD_KEY_MAX (CONFIG_REDIS_KEY_PREFIX_MAX + ROOM_NAME_MAX + 8)

/* st emptied, and the room's key in key; -1 (errno EIO) without a link:
 * Redis is down. */
static int start(struct redis_link *link, const char *prefix,
                 const char *room, char key[MOD_KEY_MAX],
                 struct mod_state *st)
{
	moderation_state_init(st);
	if (!link) {
		errno = EIO;
		return -1;
	}
	snprintf(key, MOD_KEY_MAX, "%smod:%s", prefix, room);
	return 0;
}

/* A command of C strings (the last one of len bytes); its reply, or NULL
 * with errno EIO. */
static redisReply *run(struct redis_link *link, int argc,
                       const char *const argv[], size_t last_len)
{
	size_t lens[4];
	char err[256];
	for (int i = 0; i < argc; i++)
		lens[i] = i == argc - 1 && last_len ? last_len : strlen(argv[i]);
	redisReply *rep = redis_link_command(link, argc, argv, lens, err,
	                                     sizeof err);
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "chat_server: moderation in Redis: %s\n",
		        rep ? rep->str : err);
		redis_link_reply_free(link, rep);
		errno = EIO;
		return NULL;
	}
	return rep;
}

static int read_state(struct redis_link *link, const char *key, time_t now,
                      struct mod_state *st)
{
	const char *const get[] = { "GET", key };
	redisReply *rep = run(link, 2, get, 0);
	if (!rep)
		return -1;
	int rc = rep->type == REDIS_REPLY_STRING && rep->len > 0
	         ? moderation_parse_state(rep->str, rep->len, now, st) : 0;
	redis_link_reply_free(link, rep);
	return rc;
}

int moderation_redis_load(struct redis_link *link, const char *prefix,
                          const char *room, time_t now, struct mod_state *st)
{
	char key[MOD_KEY_MAX];
	if (start(link, prefix, room, key, st) < 0)
		return -1;
	return read_state(link, key, now, st);
}

/* MULTI, SET (or DEL of an empty state), EXEC: 1 written, 0 another
 * change came first (EXEC's nil), -1 failed. */
static int write_state(struct redis_link *link, const char *key,
                       const struct mod_state *st)
{
	struct buf text;
	buf_init(&text, 0);
	if (moderation_format_state(st, &text) < 0) {
		buf_free(&text);
		return -1;
	}
	bool empty = !st->topic[0] && !st->locked && !st->nbans && !st->nmutes;
	const char *const multi[] = { "MULTI" };
	const char *const set[] = { "SET", key, text.data };
	const char *const del[] = { "DEL", key };
	const char *const exec[] = { "EXEC" };
	redisReply *a = run(link, 1, multi, 0);
	redisReply *b = a ? empty ? run(link, 2, del, 0)
	                          : run(link, 3, set, text.len) : NULL;
	redisReply *c = b ? run(link, 1, exec, 0) : NULL;
	int rc = !c ? -1 : c->type == REDIS_REPLY_NIL ? 0 : 1;
	redis_link_reply_free(link, a);
	redis_link_reply_free(link, b);
	redis_link_reply_free(link, c);
	buf_free(&text);
	return rc;
}

/* One try: WATCH, read, apply, write.  1, 0 (again), -1. */
static int try_update(struct redis_link *link, const char *key,
                      const struct mod_command *cmd, const char *by,
                      time_t now, struct mod_state *st)
{
	const char *const watch[] = { "WATCH", key };
	const char *const unwatch[] = { "UNWATCH" };
	moderation_state_free(st);
	moderation_state_init(st);
	redisReply *w = run(link, 2, watch, 0);
	if (!w)
		return -1;
	redis_link_reply_free(link, w);
	if (read_state(link, key, now, st) < 0 ||
	    moderation_apply(st, cmd, by, now) < 0) {
		int saved = errno;
		redis_link_reply_free(link, run(link, 1, unwatch, 0));
		errno = saved;
		return -1;
	}
	return write_state(link, key, st);
}

int moderation_redis_update(struct redis_link *link, const char *prefix,
                            const char *room, const struct mod_command *cmd,
                            const char *by, time_t now, struct mod_state *st)
{
	char key[MOD_KEY_MAX];
	if (start(link, prefix, room, key, st) < 0)
		return -1;
	for (int i = 0; i < UPDATE_TRIES; i++) {
		int rc = try_update(link, key, cmd, by, now, st);
		if (rc != 0)
			return rc > 0 ? 0 : -1;
	}
	errno = ETIMEDOUT;
	return -1;
}
