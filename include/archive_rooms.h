/* archive_rooms: the rooms `chat_server --archive` (archive.h) looks
 * after: those of the rooms set in Redis (P rooms), read again every
 * round, so a room is archived from its first line.
 *
 * A name in the set that is no room name the chat makes (room.h) would
 * become a file name: it is left out, and said once.  A room gone from the
 * set (its keys deleted by an administrator) has its mirrored members
 * removed from users/; its log and record stay. */
#ifndef CHAT_ARCHIVE_ROOMS_H
#define CHAT_ARCHIVE_ROOMS_H

#include <stdbool.h>
#include <stddef.h>

#include "archive_log.h"
#include "archive_presence.h"
#include "redis_link.h"
#include "redis_room.h"

struct redisReply;

struct archive_room {
	struct archive_log log;
	struct archive_mirror mirror;
	char key[REDIS_KEY_MAX]; /* its stream, P room:<room> */
	bool listed;             /* in the set at the last refresh */
};

struct archive_rooms {
	struct archive_room *v;
	size_t n;
	size_t cap;
	size_t bad; /* names left out at the last refresh, to say news once */
	/* P rooms:new (redis_room.h), read after fresh: a new room wakes the
	 * wait at once, and the next refresh takes it in. */
	char fresh_key[REDIS_KEY_MAX];
	struct stream_id fresh;
	/* The set as read at the last refresh is all there is: no news
	 * since (false at first, and after news or a failed refresh). */
	bool known;
};

/* Reads the rooms set (SMEMBERS) and makes rs its rooms: new ones added
 * (not yet resumed), gone ones dropped; rs->known on success.  0, or -1
 * with why in err. */
int archive_rooms_refresh(struct archive_rooms *rs, struct redis_link *link,
                          const char *prefix, int users_fd, char *err,
                          size_t errsz);

/* The room whose stream is key, or NULL. */
struct archive_room *archive_rooms_by_key(struct archive_rooms *rs,
                                          const char *key);

/* XREAD BLOCK block_ms COUNT ARCHIVE_READ_COUNT on the stream of every
 * resumed room, each after its last ID, and on the news of new rooms
 * (refresh first: it names that stream).  0 with *reply (NIL when the
 * wait ended without a line; the news in it are taken in, and are no
 * room's: rs->known is false after news), -1 with why in err. */
int archive_rooms_xread(struct archive_rooms *rs,
                        struct redis_link *link, int block_ms,
                        struct redisReply **reply, char *err, size_t errsz);

/* Drops every room (its mirrored files removed) and frees rs. */
void archive_rooms_free(struct archive_rooms *rs, int users_fd);

#endif
