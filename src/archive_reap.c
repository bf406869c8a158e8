#include "archive_reap.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "archive.h"
#include "archive_log.h"
#include "buf.h"
#include "format.h"

/* How many members the room has (HLEN): a room nobody is in has nobody
 * to reap, and its lock is not worth taking. */
static long long members(struct redis_room *r)
{
	char key[REDIS_KEY_MAX];
	redis_room_key(r, REDIS_KEY_MEMBERS, key);
	const char *argv[] = { "HLEN", key };
	redisReply *reply = archive_command(r, 2, argv);
	long long n = reply && reply->type == REDIS_REPLY_INTEGER
	              ? reply->integer : -1;
	redis_link_reply_free(r->link, reply);
	return n;
}

/* Under the room's lock: the dead out, their quits and a user list in. */
static int reap(struct redis_room *r, struct presence_list *live)
{
	char token[REDIS_CONN_ID_LEN + 1];
	if (redis_room_lock(r, ARCHIVE_LOCK_WAIT_MS, token) < 0)
		return errno == ETIMEDOUT ? redis_room_list(r, live, NULL) : -1;
	int reaped = redis_room_reap(r, live);
	struct buf line;
	buf_init(&line, 0);
	if (reaped > 0) {
		fprintf(stderr, "chat_server --archive: %s: %d member%s whose "
		        "process had died removed, quit logged\n", r->room, reaped,
		        reaped == 1 ? "" : "s");
		if (format_userlist(&line, time(NULL), live->v, live->n) < 0 ||
		    redis_room_append(r, line.data, line.len) != line.len)
			reaped = -1;
	}
	buf_free(&line);
	redis_room_unlock(r, token);
	return reaped < 0 ? -1 : 0;
}

int archive_reap_room(struct redis_room *r, struct presence_list *live)
{
	long long n = members(r);
	live->n = 0;
	return n < 0 ? -1 : n > 0 ? reap(r, live) : 0;
}
