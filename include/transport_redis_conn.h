/* transport_redis_conn: the state of one connection's room in Redis, as
 * the parts of the Redis transport (transport_redis.h) share it:
 * src/transport_redis.c (the links, outages, the reader's wake-up,
 * membership, opening), src/transport_redis_read.c (the room's lines) and
 * src/transport_redis_private.c (private lines).  Not for the rest of the
 * program, which knows the transport by its ops alone. */
#ifndef CHAT_TRANSPORT_REDIS_CONN_H
#define CHAT_TRANSPORT_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "presence.h"
#include "redis_alive.h"
#include "redis_host.h"
#include "redis_room.h"
#include "redis_stream.h"
#include "redis_url.h"
#include "transport.h"

/* A command waits this long for its reply before Redis counts as down. */
#define REPLY_WAIT_MS 2000
/* Lines taken per XRANGE: a browser that keeps up reads them at once. */
#define READ_COUNT 256
/* Lines announced on the room's channel that wait to be handed on, at
 * most: past them (a browser that does not keep up) the announcements
 * are dropped, and the lines taken from the stream when it is ready. */
#define PUSH_QUEUE 32
/* The writer (room.link) rests, its connection closed (redis_link.h),
 * once it has sent nothing for this long: most members only listen, and
 * every connection is a client the server keeps (a few KiB, and one of
 * its maxclients).  Its next command connects again. */
#define WRITER_REST_MS 5000
/* While Redis is down, a reconnection is tried this often. */
#define RETRY_MS 1000
/* Channels to other members open at once (a whisper opens one). */
#define CHANNELS_MAX 8
/* The room lock is waited for in turn (redis_room_lock_in_turn): the
 * room is busy only when one holder keeps the lock this long.  While it
 * changes hands a join waits its turn, however long the queue: in a
 * storm of joins every user list goes through the one server to every
 * member, and a joiner is better served late than refused. */
#define LOCK_WAIT_MS (3 * PRESENCE_LOCK_WAIT_MS)
/* Attempts at numbered names when others take them meanwhile. */
#define CLAIM_ATTEMPTS 64

struct member_handle {
	bool used;
	char name[PRESENCE_NAME_MAX + 1];
	char conn[REDIS_CONN_ID_LEN + 1];
};

/* A line announced on the room's channel: the reader's reply that holds
 * it, its id, and the line in the reply. */
struct pushed {
	struct redisReply *reply;
	struct stream_id id;
	const char *line;
	size_t len;
};

struct channel {
	int fd; /* an eventfd: always writable; -1 when free */
	int member;
};

struct redis_tr {
	const struct chat_config *cfg;
	struct transport_hooks hooks;
	struct redis_url url;
	const char *address; /* the browser's, "" when unknown (the caller's) */
	/* The host's relay (archive_relay.h): where it listens (NULL when
	 * there is no run directory), looked for once, through our
	 * descriptor of the run directory; whether the reader is it. */
	struct redis_url *relay_url;
	int run_fd;
	bool relay_looked, relayed;
	struct redis_link *reader;
	struct redis_room room; /* room.link: the writer */
	char room_name[ROOM_NAME_MAX + 1];
	char conn[REDIS_CONN_ID_LEN + 1];
	/* "<run_id>:<reader's CLIENT ID>", and ".<conn>" when the reader is
	 * the host's relay (redis_alive.h) */
	char client[REDIS_RUN_ID_MAX + 24 + REDIS_CONN_ID_LEN + 1];
	char host[REDIS_HOST_ID_LEN + 1]; /* redis_host.h */
	char lock_token[REDIS_CONN_ID_LEN + 1];
	bool locked, claimed, private_open, down, report_skips;
	char name[PRESENCE_NAME_MAX + 1];
	char color[COLOR_MAX + 1];
	bool verified;
	/* Reading: the last line read of each stream, the room's last line
	 * when the history was marked; behind: lines wait in the stream that
	 * no announcement brought (taken with XRANGE). */
	struct stream_id room_pos, priv_pos, history_end;
	bool room_behind, priv_behind;
	/* A rewind over this many lines up to rewind_upto, not done yet: the
	 * join asks for it with the room lock held, and the first read does
	 * it after, when the lock is free (transport_redis_read.c). */
	size_t rewind_n;
	struct stream_id rewind_upto;
	/* Announced lines not handed on yet, in stream order: queue[head]
	 * to queue[n - 1]. */
	struct pushed queue[PUSH_QUEUE];
	size_t queue_head, queue_n;
	/* A private line was announced after the first before_private of
	 * the queued lines: the rest wait until it is taken, so that the
	 * browser sees the two channels' lines in the order they were sent
	 * (a whisper, then a line to the room, from one sender). */
	bool private_first;
	size_t before_private;
	char priv_channel[REDIS_KEY_MAX]; /* where our private lines are
	                                     announced */
	/* The room's descriptor for the loop: an epoll set holding the
	 * reader's socket, so that it stays the same descriptor when the
	 * reader is replaced after an outage. */
	int wake_fd;
	int private_fd; /* eventfd, readable while a private line waits */
	bool evicted;   /* our name was given to another meanwhile */
	int timer_fd;   /* the heartbeat, the writer's rest, and the retries
	                   while down */
	struct timespec beat_at; /* our last heartbeat (elapsed.h) */
	bool beat_due;           /* the next tick beats, whenever it is */
	bool rest_planned;       /* the next tick is the writer's rest */
	/* The writer is awake for the room's business alone (the join and
	 * its first reads, a heartbeat): it rests as soon as that is done,
	 * not WRITER_REST_MS after its last command.  The member's own words
	 * (a line, a whisper, a colour) end the errand. */
	bool errand;
	struct member_handle members[CHANNELS_MAX];
	struct channel channels[CHANNELS_MAX];
};

/* ---- shared by the parts ---- */

/* Tells stderr what failed, with r->room.err. */
void redis_tr_say(struct redis_tr *r, const char *what);
/* Redis failed: told once, links closed, retried on the upkeep timer. */
void redis_tr_down(struct redis_tr *r);
/* The private descriptor readable (a line waits) or not. */
void redis_tr_signal_private(struct redis_tr *r, bool waiting);
/* Forgets the announced lines not handed on yet: they come again from
 * the stream (they are after room_pos). */
void redis_tr_drop_queue(struct redis_tr *r);
/* The writer rests WRITER_REST_MS after its last command, and as soon as
 * its errand (above) is done.  Called where a read of the streams ends,
 * and at the upkeep's ticks. */
void redis_tr_rest_writer(struct redis_tr *r);
/* The heartbeat comes now, not at its time (the upkeep timer's next tick
 * is in a millisecond). */
void redis_tr_beat_soon(struct redis_tr *r);

/* ---- the ops of the other parts (transport.h says what each does) ---- */

int redis_tr_follow(void *st, bool report_skips);
size_t redis_tr_append(void *st, const char *data, size_t len, bool member);
bool redis_tr_paused(void *st);
int redis_tr_read(void *st, size_t max_bytes, transport_line_fn fn,
                  void *ctx);
int redis_tr_rewind(void *st, size_t n);
int redis_tr_mark_history(void *st);
bool redis_tr_past_history(void *st);
int redis_tr_look_back(void *st, size_t max_bytes, transport_line_fn fn,
                       void *ctx);

int redis_tr_open_private(void *st);
int redis_tr_private_fd(void *st);
int redis_tr_receive(void *st, struct buf *out);
void redis_tr_close_private(void *st);
int redis_tr_find(void *st, const char *name);
bool redis_tr_same_member(void *st, int a, int b);
void redis_tr_drop_member(void *st, int member);
int redis_tr_connect(void *st, int member);
int redis_tr_send(void *st, int channel, const char *line, size_t len);
void redis_tr_hang_up(void *st, int channel);
/* Closes the channels still open (at the transport's close). */
void redis_tr_close_channels(struct redis_tr *r);

#endif
