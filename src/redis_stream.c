#include "redis_stream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "buf.h"

/* Entries a look-back asks for at most: it wants bytes, not lines, and a
 * line is at least a clock and a name. */
#define LOOK_BACK_COUNT 4096

/* A command on key with up to four more arguments; its reply must be an
 * array (r->err otherwise). */
static redisReply *query(struct redis_room *r, const char *cmd,
                         const char *key, int n, const char *const more[])
{
	const char *argv[6] = { cmd, key };
	size_t lens[6] = { strlen(cmd), strlen(key) };
	for (int i = 0; i < n && i < 4; i++) {
		argv[2 + i] = more[i];
		lens[2 + i] = strlen(more[i]);
	}
	redisReply *rep = redis_link_command(r->link, 2 + (n < 4 ? n : 4),
	                                     argv, lens, r->err,
	                                     sizeof r->err);
	if (rep && rep->type != REDIS_REPLY_ARRAY) {
		snprintf(r->err, sizeof r->err, "redis: %s %s: %.*s", cmd, key,
		         rep->type == REDIS_REPLY_ERROR ? (int)rep->len : 0,
		         rep->type == REDIS_REPLY_ERROR ? rep->str : "");
		redis_link_reply_free(r->link, rep);
		return NULL;
	}
	return rep;
}

/* One entry of a range reply: its id and its line (NULL when it has no
 * field "l"); false when it is not an entry. */
static bool entry(const redisReply *e, struct stream_id *id,
                  const redisReply **line)
{
	*line = NULL;
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    !stream_id_parse(e->element[0]->str, e->element[0]->len, id))
		return false;
	const redisReply *f = e->element[1];
	for (size_t i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements;
	     i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING &&
		    f->element[i]->len == 1 && f->element[i]->str[0] == 'l' &&
		    f->element[i + 1]->type == REDIS_REPLY_STRING)
			*line = f->element[i + 1];
	return true;
}

static redisReply *reverse(struct redis_room *r, const char *upto,
                           size_t count)
{
	char key[REDIS_KEY_MAX], n[24];
	redis_room_key(r, REDIS_KEY_ROOM, key);
	snprintf(n, sizeof n, "%zu", count);
	const char *const more[] = { upto, "-", "COUNT", n };
	return query(r, "XREVRANGE", key, 4, more);
}

int redis_stream_last_id(struct redis_room *r, struct stream_id *id)
{
	*id = (struct stream_id){ 0, 0 };
	redisReply *rep = reverse(r, "+", 1);
	const redisReply *line;
	if (rep && rep->elements > 0)
		entry(rep->element[0], id, &line);
	bool ok = rep != NULL;
	redis_link_reply_free(r->link, rep);
	return ok ? 0 : -1;
}

int redis_stream_nth_last_id(struct redis_room *r,
                             const struct stream_id *upto, size_t n,
                             struct stream_id *first)
{
	if (n == 0)
		return 0;
	char end[STREAM_ID_MAX] = "+";
	if (upto)
		stream_id_format(upto, end);
	redisReply *rep = reverse(r, end, n);
	if (!rep)
		return -1;
	const redisReply *line;
	int rc = rep->elements >= n &&
	         entry(rep->element[rep->elements - 1], first, &line) ? 1 : 0;
	redis_link_reply_free(r->link, rep);
	return rc;
}

/* line's bytes and a '\n' in out. */
static int with_newline(struct buf *out, const redisReply *line)
{
	out->len = 0;
	return buf_append(out, line->str, line->len) < 0 ||
	       buf_append(out, "\n", 1) < 0 ? -1 : 0;
}

int redis_stream_range(struct redis_room *r, const char *key,
                       const struct stream_id *after, int count,
                       stream_entry_fn fn, void *ctx)
{
	char room_key[REDIS_KEY_MAX], start[STREAM_ID_MAX + 1], n[16];
	if (!key) {
		redis_room_key(r, REDIS_KEY_ROOM, room_key);
		key = room_key;
	}
	start[0] = '('; /* exclusive: after the last one read */
	stream_id_format(after, start + 1);
	snprintf(n, sizeof n, "%d", count);
	const char *const more[] = { start, "+", "COUNT", n };
	redisReply *rep = query(r, "XRANGE", key, 4, more);
	if (!rep)
		return -1;
	struct buf text;
	buf_init(&text, 0);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < rep->elements; i++) {
		struct stream_id id;
		const redisReply *line;
		if (!entry(rep->element[i], &id, &line))
			continue;
		if (!line) /* not ours: passed over */
			continue;
		rc = with_newline(&text, line) < 0 ? -1
		     : fn(ctx, &id, text.data, text.len);
	}
	int held = (int)rep->elements;
	buf_free(&text);
	redis_link_reply_free(r->link, rep);
	if (rc < 0)
		snprintf(r->err, sizeof r->err, "out of memory reading a stream");
	return rc < 0 ? -1 : held;
}

int redis_stream_look_back(struct redis_room *r, const struct stream_id *upto,
                           size_t max_bytes, transport_line_fn fn,
                           void *ctx)
{
	if (upto->ms == 0 && upto->seq == 0)
		return 0;
	char end[STREAM_ID_MAX];
	stream_id_format(upto, end);
	redisReply *rep = reverse(r, end, LOOK_BACK_COUNT);
	if (!rep)
		return -1;
	/* Newest first: count back what fits, then hand it oldest first. */
	size_t fit = 0, bytes = 0;
	const redisReply *line;
	struct stream_id id;
	for (; fit < rep->elements; fit++) {
		if (!entry(rep->element[fit], &id, &line) || !line)
			continue;
		if (bytes + line->len + 1 > max_bytes)
			break;
		bytes += line->len + 1;
	}
	struct buf text;
	buf_init(&text, 0);
	int rc = 0;
	for (size_t i = fit; rc == 0 && i-- > 0;)
		if (entry(rep->element[i], &id, &line) && line)
			rc = with_newline(&text, line) < 0 ? -1
			     : fn(ctx, text.data, text.len) ? -1 : 0;
	buf_free(&text);
	redis_link_reply_free(r->link, rep);
	return rc;
}
