/* redis_room: one room's keys in Redis (TRANSPORT=redis), and what both a
 * connection (transport_redis.c) and the per-host archiver (archive.h) do
 * with them.  docs/scale-out.md gives the design; the keys, all under
 * REDIS_KEY_PREFIX (P):
 *
 *   P room:<room>            stream; field "l" = one log line, exactly as
 *                            rooms/<room>.log holds it, without its '\n';
 *                            trimmed with MAXLEN ~ REDIS_STREAM_MAX
 *   P members:<room>         hash; name -> "<conn> <v> <colour>": conn the
 *                            connection's id (REDIS_CONN_ID_LEN hex
 *                            digits), v '1' for a verified name, else '0',
 *                            the colour possibly empty
 *   P alive:<room>           sorted set; name -> the time (ms, the Redis
 *                            server's clock) after which it counts as dead
 *   P lock:<room>            string; the room lock's random token, PX
 *   P lockq:<room>           list; a release's token, which wakes the
 *                            first waiter in BLPOP (one at most, 1 s)
 *
 * A room name may hold ':', so every kind of key has a name of its own
 * before the room (never "<kind>:<room>:<suffix>" beside "<kind>:<room>",
 * which the room "<room>:<suffix>" would also name); a private stream's
 * suffix is a connection id, 16 hex digits, and ":bytes" after one.
 *   P priv:<room>:<conn>     stream; private lines to one connection not
 *                            read yet, field "l" = the line without its
 *                            '\n'; REDIS_PRIVATE_MAX bytes at most,
 *                            counted in P priv:<room>:<conn>:bytes
 *   P rooms                  set; every room that has a stream
 *   P rooms:new              stream; field "r" = a room as it enters the
 *                            rooms set, so that the archivers, waiting in
 *                            XREAD, hear of it at once; MAXLEN ~ 1000
 *   P clients:<room>         hash; name -> "<run_id>:<client id>:<host id>":
 *                            the member's reader connection to Redis, and
 *                            its host (redis_host.h)
 *   P hosts                  sorted set; host id -> the time after which
 *                            the host counts as gone (redis_host.h)
 *
 * Channels (Pub/Sub), not keys: every line appended to P room:<room> is
 * announced, by the script that appends it, on
 *   P chan:<room>            "<id before> <id> <line>\n", in stream order
 * and every private line on its addressee's
 *   P pchan:<room>:<conn>    "" (the line stays in the private stream)
 *
 * Times are the server's (TIME), so hosts whose clocks differ agree on who
 * is dead.  A process that dies is dead at once: the kernel closes its
 * sockets, Redis drops its clients, and a member whose recorded client is
 * no longer connected (CLIENT LIST ID) counts as dead like one whose score
 * passed; a host that vanishes without closing them is judged by its
 * archiver's word in P hosts (redis_alive.h).  A member refreshes its own
 * alive score every REDIS_HEARTBEAT_MS to now + REDIS_ALIVE_MS, for a host
 * with no archiver and a process that hangs; past either, whoever lists
 * the room with the lock held removes it and logs its quit, once (the
 * lock makes listers take turns).
 * Nobody is counted dead while the server has been up less than
 * REDIS_REAP_GRACE_S: after a restart, scores written before it are old,
 * and the living need a heartbeat to say so.
 *
 * Every function takes a blocking link (redis_link.h) and, on failure,
 * returns -1 with a one-line reason in r->err; the link may be broken
 * then (redis_link.h says when).  The room lock is src/redis_room_lock.c,
 * one connection's own entry (its heartbeat, colour, private lines)
 * src/redis_member.c, the rest src/redis_room.c. */
#ifndef CHAT_REDIS_ROOM_H
#define CHAT_REDIS_ROOM_H

#include <stdbool.h>
#include <stddef.h>

#include "presence.h"
#include "redis_link.h"
#include "room.h"
#include "stream_id.h"

/* A member's own heartbeat: for a host with no archiver to speak for it
 * (redis_host.h), and for a process that hangs without dying.  Rare, so
 * that an idle member's connection stays idle: Redis gives back a
 * client's buffers only after 2 s without a command. */
#define REDIS_HEARTBEAT_MS 30000
#define REDIS_ALIVE_MS 75000
#define REDIS_REAP_GRACE_S 16
#define REDIS_STREAM_MAX 10000
/* Bytes of private lines waiting unread for one connection at most (about
 * a local inbox's socket buffer): its reader deletes what it took, and
 * <priv key>:bytes counts what is left. */
#define REDIS_PRIVATE_MAX (256 * 1024)
#define REDIS_CONN_ID_LEN 16
#define REDIS_LOCK_TTL_MS 10000
#define REDIS_KEY_MAX (64 + 2 * ROOM_NAME_MAX + REDIS_CONN_ID_LEN)

enum redis_key_kind {
	REDIS_KEY_ROOM,    /* room:<room> */
	REDIS_KEY_MEMBERS, /* members:<room> */
	REDIS_KEY_ALIVE,   /* alive:<room> */
	REDIS_KEY_LOCK,    /* lock:<room> */
	REDIS_KEY_ROOMS,   /* rooms (room ignored) */
	REDIS_KEY_CLIENTS, /* clients:<room> */
	REDIS_KEY_NEW_ROOMS, /* rooms:new (room ignored) */
	REDIS_KEY_LOCK_QUEUE, /* lockq:<room> */
	REDIS_KEY_HOSTS,   /* hosts (room ignored; redis_host.h) */
	REDIS_KEY_CHANNEL, /* chan:<room>: a channel, not a key */
};

struct redis_room {
	struct redis_link *link;
	const char *prefix; /* REDIS_KEY_PREFIX */
	const char *room;
	/* A connection's own: the CLIENT ID of a link of its that Redis
	 * drops the moment the process dies (the reader), recorded at add
	 * and heartbeat.  NULL for others (the archiver). */
	const char *client;
	/* Its host (redis_host.h), recorded with client; NULL for others. */
	const char *host;
	bool named; /* the room is known to be in the rooms set */
	/* The last line this handle appended to the room's stream: 0-0
	 * before its first. */
	struct stream_id appended;
	char err[256];
};

/* A record of clients:<room>: "<run_id>:<client id>:<host id>"; a
 * member that listens through its host's relay (archive_relay.h) has
 * "<run_id>:<the relay's client id>.<conn>:<host id>" (redis_record.h
 * reads them). */
#define REDIS_CLIENT_RECORD_MAX (REDIS_RUN_ID_MAX + 48 + REDIS_CONN_ID_LEN + 1)

/* The command that says a member listening through its host's relay
 * (archive_relay.h) is gone, its socket closed: client is its record's
 * client ("<run_id>:<relay's id>.<conn>"), dead_client "<run_id>:0"; its
 * record then names dead_client, if it still named client, so that the
 * next lister counts it dead and logs its quit; its connection slot
 * (slot_key, the sorted set of its address; NULL for none) is let go.
 * keys holds the command's keys; c is zeroed first. */
struct redis_cmd;
void redis_room_gone_cmd(const struct redis_room *r, const char *conn,
                         const char *client, const char *dead_client,
                         const char *slot_key, char keys[2][REDIS_KEY_MAX],
                         struct redis_cmd *c);

/* The record of r's client into out, "" when r has none. */
void redis_room_client_record(const struct redis_room *r,
                              char out[REDIS_CLIENT_RECORD_MAX]);

/* The key of kind for r's room into out (REDIS_KEY_MAX bytes). */
void redis_room_key(const struct redis_room *r, enum redis_key_kind kind,
                    char *out);
/* The private stream of the connection conn (REDIS_CONN_ID_LEN hex). */
void redis_room_private_key(const struct redis_room *r, const char *conn,
                            char *out);

/* The channel on which conn's private lines are announced. */
void redis_room_private_channel(const struct redis_room *r, const char *conn,
                                char *out);

/* The count of bytes waiting in conn's private stream (out:
 * REDIS_KEY_MAX + 8 bytes). */
void redis_room_private_bytes_key(const struct redis_room *r,
                                  const char *conn, char *out);

/* A new random connection id: REDIS_CONN_ID_LEN hex digits and a NUL.
 * 0 or -1 (no randomness). */
int redis_room_new_id(char *out);

/* The server's clock in ms (TIME).  -1 on error. */
long long redis_room_now_ms(struct redis_room *r);
/* The same from a reply to TIME that the caller ran itself: -1 (r->err)
 * when it is not one. */
long long redis_room_time_of(struct redis_room *r,
                             const struct redisReply *rep);

/* Takes the room lock, waiting at most wait_ms (retrying every few ms);
 * token gets what unlock needs.  0, or -1 with errno ETIMEDOUT (the room
 * stays locked) or EIO (Redis failed: r->err). */
int redis_room_lock(struct redis_room *r, int wait_ms,
                    char token[REDIS_CONN_ID_LEN + 1]);
/* The same, but refused (ETIMEDOUT) only when the lock has not changed
 * hands for stall_ms: a storm of joins queues for it, each taking its
 * turn however long the queue, and only a room whose lock stays with one
 * holder (a hung process; its lock lives REDIS_LOCK_TTL_MS) is busy. */
int redis_room_lock_in_turn(struct redis_room *r, int stall_ms,
                            char token[REDIS_CONN_ID_LEN + 1]);
/* Releases the lock if it is still token's (a lock that timed out may be
 * someone else's by now). */
void redis_room_unlock(struct redis_room *r, const char *token);

/* A members hash value into e (name not set; the colour as the member
 * gave it, possibly empty or not one to show) and conn (may be NULL).
 * false when it is not one we wrote. */
bool redis_room_parse_member(const char *value, size_t len,
                             struct presence_entry *e,
                             char conn[REDIS_CONN_ID_LEN + 1]);

/* The members, in name order (out emptied first); with dead, those whose
 * alive score is past (when the grace allows) go there instead, still in
 * the room.  Lock held.  0 or -1. */
int redis_room_list(struct redis_room *r, struct presence_list *out,
                    struct presence_list *dead);

/* The members like redis_room_list without dead, each colour as the
 * member gave it (what its presence file would hold). */
int redis_room_list_as_given(struct redis_room *r, struct presence_list *out);

/* Appends whole lines data[0..len) ('\n'-terminated) to the room's stream
 * in one pipeline, and names the room in the rooms set.  Returns the bytes
 * stored (whole lines), len when all were; on less, r->err says why. */
size_t redis_room_append(struct redis_room *r, const char *data, size_t len);

/* Lock held: lists the room like redis_room_list, and for every dead
 * member removes it (members, alive, its private stream) and appends its
 * quit line.  live gets the rest.  Returns how many were reaped, or -1. */
int redis_room_reap(struct redis_room *r, struct presence_list *live);

/* Adds name to the room (members and alive, score now + REDIS_ALIVE_MS)
 * for connection conn.  1 when added, 0 when the name was taken, -1. */
int redis_room_add(struct redis_room *r, const char *name, const char *conn,
                   const char *color, bool verified);
/* Removes name from the room if it is still conn's (conn NULL: whoever's),
 * with its private stream.  0 or -1. */
int redis_room_remove(struct redis_room *r, const char *name,
                      const char *conn);

/* ---- one connection's own entry ---- */

/* The members hash's value of a member into out: "<conn> <1|0> <color>",
 * conn first and REDIS_CONN_ID_LEN long, as the scripts read it
 * (string.sub(v, 1, 16)).  snprintf's count. */
int redis_room_member_value(char *out, size_t outsz, const char *conn,
                            const char *color, bool verified);

/* Renews conn's alive score (now + REDIS_ALIVE_MS) and its private
 * stream's expiry.  When the name is nobody's (Redis lost it, or it was
 * reaped) it is taken again with color and verified.  1 renewed, 2 taken
 * again, 0 the name is someone else's now, -1 on error. */
int redis_room_heartbeat(struct redis_room *r, const char *name,
                         const char *conn, const char *color, bool verified);
/* Sets the colour of name if it is conn's.  0 or -1. */
int redis_room_set_color(struct redis_room *r, const char *name,
                         const char *conn, const char *color, bool verified);
/* Whether name[0..len) is present with a verified name: 1, 0 (not, or on
 * error). */
int redis_room_member_verified(struct redis_room *r, const char *name,
                               size_t len);
/* The connection of member name into conn: 1, 0 nobody of that name,
 * -1 error. */
int redis_room_member_conn(struct redis_room *r, const char *name,
                           char conn[REDIS_CONN_ID_LEN + 1]);
/* The private line id ("ms-seq") of len bytes ('\n' included) was taken
 * by conn: it leaves the stream and the count.  0 or -1. */
int redis_room_private_taken(struct redis_room *r, const char *conn,
                             const char *id, size_t len);

/* Whether the member name still lives as far as Redis can tell at once:
 * 0 when the client it recorded is gone (its process died; the next
 * listing reaps it), else 1; -1 on error. */
int redis_room_member_alive(struct redis_room *r, const char *name);
/* Adds line[0..len) ('\n'-terminated) to the private stream of conn if
 * name is still conn's.  1 sent, 0 gone, 2 its queue is full
 * (REDIS_PRIVATE_MAX: it is not keeping up), -1 error. */
int redis_room_send_private(struct redis_room *r, const char *name,
                            const char *conn, const char *line, size_t len);

#endif
