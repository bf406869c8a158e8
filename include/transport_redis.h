/* transport_redis: a room kept in Redis Streams (TRANSPORT=redis), shared
 * by the chat_server processes of every host that uses the same Redis and
 * REDIS_KEY_PREFIX (transport.h; the keys: redis_room.h; the design:
 * docs/scale-out.md).
 *
 * A connection holds two links to Redis: a writer for its commands, and a
 * reader subscribed to the room's channel and its own private one, which
 * sends nothing once subscribed.  Every line appended to the room's stream
 * is announced on the room's channel with its id and the id before it
 * (redis_room.h): the reader queues a few of them (PUSH_QUEUE) to hand on
 * as the browser keeps up.  One it cannot place (a gap: it missed one), or
 * one that finds the queue full (a slow browser), is dropped, and the
 * lines are then taken with XRANGE from the last one read, as far as the
 * browser keeps up, so a slow browser never makes the process buffer the
 * room.  A private line is only announced: it is taken from the private
 * stream.
 *
 * Presence is the members hash with the client and host the connection
 * recorded (redis_alive.h, redis_host.h), and an alive score it renews
 * every REDIS_HEARTBEAT_MS on its upkeep timer (the only wake-up of an idle
 * member); the dead are reaped by the next lister, or by a host's archiver
 * within a second.  A member that reads its own quit line while it lives
 * beats at once, and so takes its name back.
 *
 * When Redis fails, the connection says so through hooks.unavailable,
 * refuses what it is sent (append fails with errno ENOTCONN), tries again
 * every second on its upkeep timer, and when Redis is back renews its
 * presence and goes on reading from the last line it read.  A member
 * counted out meanwhile (reaped, its quit logged) whose name is still
 * free takes it again and joins anew (hooks.rejoined); one whose name
 * went to another leaves. */
#ifndef CHAT_TRANSPORT_REDIS_H
#define CHAT_TRANSPORT_REDIS_H

#include "config.h"
#include "transport.h"

/* Opens room in Redis for a connection: both links, and the room's last
 * line as the place to follow from.  The reader listens through the
 * host's relay (archive_relay.h) when the archiver runs, else on a client
 * of its own.  address is the browser's ("" when unknown), whose slot
 * (limits_redis.h) the relay lets go when the connection ends however it
 * ends.  Returns 0, or -1 with *failed saying what failed (for the
 * browser) and the reason on stderr; t is open either way unless *failed
 * is NULL (no memory), and must be closed with transport_close. */
int transport_redis_open(struct room_transport *t,
                         const struct chat_config *cfg, const char *room,
                         const char *address,
                         const struct transport_hooks *hooks,
                         const char **failed);

/* The writer link of t's connection, for its other keys (limits_redis.h),
 * with *client the record of its reader, "<run_id>:<client id>"
 * (redis_alive.h); NULL while Redis is down, or when t is not a Redis
 * transport.  Valid until t's next call: an outage replaces both. */
struct redis_link *transport_redis_link(struct room_transport *t,
                                        const char **client);

#endif
