/* moderation_redis: a room's moderation state (moderation.h: bans, mutes,
 * the lock, the topic) kept in Redis with TRANSPORT=redis, so that a ban
 * given on one host is kept on every host.
 *
 * The key is P mod:<room> (REDIS_KEY_PREFIX P), holding exactly the text
 * a MODERATION_DIR/<room>.json file would.  A change reads, applies and
 * writes it back in a WATCH/MULTI/EXEC transaction, tried again when
 * another change came between: two moderators on two hosts never lose
 * one another's change.  The key has no expiry; an empty state deletes
 * it. */
#ifndef CHAT_MODERATION_REDIS_H
#define CHAT_MODERATION_REDIS_H

#include <time.h>

#include "moderation.h"
#include "redis_link.h"

/* The state of room into st (emptied first), as moderation_load reads a
 * file: what has run out is left out.  0, or -1 with errno (EIO: Redis
 * failed; EBADMSG: the text is damaged). */
int moderation_redis_load(struct redis_link *link, const char *prefix,
                          const char *room, time_t now, struct mod_state *st);

/* Applies cmd to the stored state, as moderation_update does.  0, or -1
 * with errno (EIO: Redis failed; ETIMEDOUT: other changes kept coming;
 * EBADMSG: the text is damaged and left alone; ENOSPC: too many). */
int moderation_redis_update(struct redis_link *link, const char *prefix,
                            const char *room, const struct mod_command *cmd,
                            const char *by, time_t now, struct mod_state *st);

#endif
