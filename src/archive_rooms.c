#include "archive_rooms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "archive.h"
#include "grow.h"

struct archive_room *archive_rooms_by_key(struct archive_rooms *rs,
                                          const char *key)
{
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].key, key) == 0)
			return &rs->v[i];
	return NULL;
}

static struct archive_room *by_name(struct archive_rooms *rs, const char *name,
                                    size_t len)
{
	for (size_t i = 0; i < rs->n; i++)
		if (strlen(rs->v[i].log.room) == len &&
		    memcmp(rs->v[i].log.room, name, len) == 0)
			return &rs->v[i];
	return NULL;
}

static int add(struct archive_rooms *rs, const char *prefix, const char *name,
               size_t len)
{
	struct archive_room *v = grow(rs->v, &rs->cap, rs->n, sizeof *v);
	if (!v)
		return -1;
	rs->v = v;
	char room[ROOM_NAME_MAX + 1];
	memcpy(room, name, len); /* archive_room_name_ok: len fits */
	room[len] = '\0';
	struct archive_room *rm = &rs->v[rs->n++];
	memset(rm, 0, sizeof *rm);
	archive_log_init(&rm->log, room);
	archive_mirror_init(&rm->mirror, room);
	const struct redis_room r = { .prefix = prefix, .room = rm->log.room };
	redis_room_key(&r, REDIS_KEY_ROOM, rm->key);
	rm->listed = true;
	return 0;
}

/* Takes the rooms of the SMEMBERS reply; counts the names left out. */
static int take(struct archive_rooms *rs, const redisReply *set,
                const char *prefix, size_t *bad)
{
	for (size_t i = 0; i < set->elements; i++) {
		const redisReply *e = set->element[i];
		struct archive_room *rm;
		if (e->type != REDIS_REPLY_STRING ||
		    !archive_room_name_ok(e->str, e->len))
			++*bad;
		else if ((rm = by_name(rs, e->str, e->len)))
			rm->listed = true;
		else if (add(rs, prefix, e->str, e->len) < 0)
			return -1;
	}
	return 0;
}

int archive_rooms_refresh(struct archive_rooms *rs, struct redis_link *link,
                          const char *prefix, int users_fd, char *err,
                          size_t errsz)
{
	char key[REDIS_KEY_MAX];
	const struct redis_room r = { .prefix = prefix };
	redis_room_key(&r, REDIS_KEY_ROOMS, key);
	redis_room_key(&r, REDIS_KEY_NEW_ROOMS, rs->fresh_key);
	const char *argv[] = { "SMEMBERS", key };
	const size_t lens[] = { strlen(argv[0]), strlen(key) };
	redisReply *set = redis_link_command(link, 2, argv, lens, err, errsz);
	if (!set || set->type != REDIS_REPLY_ARRAY) {
		if (set)
			snprintf(err, errsz, "SMEMBERS %s: not a set", key);
		redis_link_reply_free(link, set);
		return -1;
	}
	rs->known = false;
	for (size_t i = 0; i < rs->n; i++)
		rs->v[i].listed = false;
	size_t bad = 0;
	int rc = take(rs, set, prefix, &bad);
	redis_link_reply_free(link, set);
	if (rc < 0) {
		snprintf(err, errsz, "out of memory");
		return -1; /* the unlisted stay until a refresh succeeds */
	}
	if (bad > rs->bad)
		fprintf(stderr, "chat_server --archive: %s holds %zu name%s that "
		        "no room can have; left out\n", key, bad,
		        bad == 1 ? "" : "s");
	rs->bad = bad;
	for (size_t i = rs->n; i-- > 0;) {
		if (rs->v[i].listed)
			continue;
		archive_mirror_clear(&rs->v[i].mirror, users_fd);
		rs->v[i] = rs->v[--rs->n];
	}
	rs->known = true;
	return 0;
}

/* The last news of new rooms in reply, taken in. */
static void take_news(struct archive_rooms *rs, const redisReply *reply)
{
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY &&
	                   i < reply->elements; i++) {
		const redisReply *s = reply->element[i];
		if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
		    s->element[0]->type != REDIS_REPLY_STRING ||
		    strcmp(s->element[0]->str, rs->fresh_key) != 0)
			continue;
		const redisReply *e = s->element[1];
		const redisReply *last = e->type == REDIS_REPLY_ARRAY &&
		                         e->elements ? e->element[e->elements - 1]
		                                     : NULL;
		if (last && last->type == REDIS_REPLY_ARRAY && last->elements &&
		    last->element[0]->type == REDIS_REPLY_STRING &&
		    stream_id_parse(last->element[0]->str, last->element[0]->len,
		                    &rs->fresh))
			rs->known = false;
	}
}

int archive_rooms_xread(struct archive_rooms *rs,
                        struct redis_link *link, int block_ms,
                        struct redisReply **reply, char *err, size_t errsz)
{
	char block[16], count[16];
	size_t max = 8 + 2 * rs->n, argc = 0;
	const char **argv = malloc(max * sizeof *argv);
	size_t *lens = malloc(max * sizeof *lens);
	char (*ids)[STREAM_ID_MAX] = calloc(rs->n + 1, sizeof *ids);
	*reply = NULL;
	if (!argv || !lens || !ids) {
		free(argv);
		free(lens);
		free(ids);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	snprintf(block, sizeof block, "%d", block_ms);
	snprintf(count, sizeof count, "%d", ARCHIVE_READ_COUNT);
	const char *head[] = { "XREAD", "BLOCK", block, "COUNT", count,
	                       "STREAMS" };
	for (size_t i = 0; i < sizeof head / sizeof *head; i++)
		argv[argc++] = head[i];
	size_t rooms = 0;
	stream_id_format(&rs->fresh, ids[rooms++]);
	argv[argc++] = rs->fresh_key;
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].log.resumed) {
			stream_id_format(&rs->v[i].log.last, ids[rooms++]);
			argv[argc++] = rs->v[i].key;
		}
	for (size_t i = 0; i < rooms; i++)
		argv[argc++] = ids[i];
	for (size_t i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	*reply = redis_link_command(link, (int)argc, argv, lens, err, errsz);
	int rc = *reply && (*reply)->type != REDIS_REPLY_ERROR ? 0 : -1;
	if (rc < 0 && *reply)
		snprintf(err, errsz, "XREAD: %.*s", (int)(*reply)->len,
		         (*reply)->str);
	if (rc < 0) {
		redis_link_reply_free(link, *reply);
		*reply = NULL;
	} else {
		take_news(rs, *reply);
	}
	free(argv);
	free(lens);
	free(ids);
	return rc;
}

void archive_rooms_free(struct archive_rooms *rs, int users_fd)
{
	for (size_t i = 0; i < rs->n; i++)
		archive_mirror_clear(&rs->v[i].mirror, users_fd);
	grow_free(rs->v, rs->cap, sizeof *rs->v);
	rs->v = NULL;
	rs->n = rs->cap = 0;
}
