/* redis_stream: reading a room's stream (redis_room.h) by entry id
 * (stream_id.h).  Every entry holds one line in its field "l" (without
 * the '\n'); an entry without one is skipped. */
#ifndef CHAT_REDIS_STREAM_H
#define CHAT_REDIS_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "redis_room.h"
#include "stream_id.h"
#include "transport.h"

/* Called with one entry's id and its line, '\n' included; nonzero
 * stops. */
typedef int (*stream_entry_fn)(void *ctx, const struct stream_id *id,
                               const char *line, size_t len);

/* The id of the room stream's last entry into id, 0-0 when it has none.
 * 0 or -1. */
int redis_stream_last_id(struct redis_room *r, struct stream_id *id);

/* The id of the nth last entry of the room stream (n > 0) up to upto
 * (NULL: its end) into first.  1 when the stream holds n entries or more
 * there, 0 when fewer (first untouched), -1 on error; n == 0 gives 0. */
int redis_stream_nth_last_id(struct redis_room *r,
                             const struct stream_id *upto, size_t n,
                             struct stream_id *first);

/* Hands fn the entries after *after of key (NULL: the room stream), count
 * at most, in order.  Returns how many entries the reply held, or -1. */
int redis_stream_range(struct redis_room *r, const char *key,
                       const struct stream_id *after, int count,
                       stream_entry_fn fn, void *ctx);

/* Hands fn, oldest first, as many of the last lines up to and including
 * *upto as fit in max_bytes ('\n's counted), each with its '\n'.  0, or -1
 * (an error, or fn said stop). */
int redis_stream_look_back(struct redis_room *r, const struct stream_id *upto,
                           size_t max_bytes, transport_line_fn fn,
                           void *ctx);

#endif
