#include "transport_redis.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "presence.h"
#include "redis_alive.h"
#include "redis_room.h"
#include "redis_url.h"
#include "redis_stream.h"

/* A command waits this long for its reply before Redis counts as down. */
#define REPLY_WAIT_MS 2000
/* Lines taken per XRANGE: a browser that keeps up reads them at once. */
#define READ_COUNT 256
/* Lines an XREAD brings at most: a member that keeps up takes them from
 * its reply, without another round trip. */
#define XREAD_COUNT 32
/* While Redis is down, a reconnection is tried this often. */
#define RETRY_MS 1000
/* Channels to other members open at once (a whisper opens one). */
#define CHANNELS_MAX 8
/* The room lock is waited for in a queue (redis_room.h), longer than a
 * files room's: in a storm of joins every user list goes through the one
 * server to every member, so the queue moves more slowly, and a joiner
 * is better served late than refused. */
#define LOCK_WAIT_MS (3 * PRESENCE_LOCK_WAIT_MS)
/* Attempts at numbered names when others take them meanwhile. */
#define CLAIM_ATTEMPTS 64

struct member_handle {
	bool used;
	char name[PRESENCE_NAME_MAX + 1];
	char conn[REDIS_CONN_ID_LEN + 1];
};

struct channel {
	int fd; /* an eventfd: always writable; -1 when free */
	int member;
};

struct redis_tr {
	const struct chat_config *cfg;
	struct transport_hooks hooks;
	struct redis_url url;
	struct redis_link *reader;
	struct redis_room room; /* room.link: the writer */
	char room_name[ROOM_NAME_MAX + 1];
	char conn[REDIS_CONN_ID_LEN + 1];
	char client[REDIS_RUN_ID_MAX + 24]; /* "<run_id>:<reader's CLIENT ID>"
	                                      (redis_alive.h) */
	char lock_token[REDIS_CONN_ID_LEN + 1];
	bool locked, claimed, private_open, down, report_skips;
	char name[PRESENCE_NAME_MAX + 1];
	char color[COLOR_MAX + 1];
	bool verified;
	/* Reading: the last line read of each stream, the room's last line
	 * when the history was marked, and what the reader waits for. */
	struct stream_id room_pos, priv_pos, history_end;
	bool xread_pending, room_behind, priv_behind;
	/* The last XREAD reply while its room lines are handed on: entries
	 * its array, next the first not handed. */
	struct redisReply *held;
	const struct redisReply *held_entries;
	size_t held_next;
	/* The room's descriptor for the loop: an epoll set holding the
	 * reader's socket, so that it stays the same descriptor when the
	 * reader is replaced after an outage. */
	int wake_fd;
	int private_fd; /* eventfd, readable while a private line waits */
	bool evicted;   /* our name was given to another meanwhile */
	int timer_fd;   /* the heartbeat, and the retries while down */
	struct member_handle members[CHANNELS_MAX];
	struct channel channels[CHANNELS_MAX];
};

static void say(struct redis_tr *r, const char *what)
{
	fprintf(stderr, "chat_server: %s: %s\n", what, r->room.err);
}

/* ---- Redis down, and back ---- */

static void set_timer(struct redis_tr *r, int ms)
{
	const struct itimerspec its = {
		{ ms / 1000, (ms % 1000) * 1000000L },
		{ ms / 1000, (ms % 1000) * 1000000L },
	};
	if (r->timer_fd >= 0)
		timerfd_settime(r->timer_fd, 0, &its, NULL);
}

/* Its lines come again from the stream (they are after room_pos). */
static void drop_held(struct redis_tr *r)
{
	if (r->held)
		redis_link_reply_free(r->reader, r->held);
	r->held = NULL;
	r->held_entries = NULL;
	r->held_next = 0;
}

static void close_links(struct redis_tr *r)
{
	drop_held(r);
	redis_link_close(r->reader);
	redis_link_close(r->room.link);
	r->reader = r->room.link = NULL;
	r->xread_pending = false;
}

/* A command found Redis gone: the connection is told once, and the
 * upkeep timer tries again every RETRY_MS. */
static void go_down(struct redis_tr *r)
{
	if (r->down)
		return;
	say(r, "the room's Redis failed");
	close_links(r);
	r->down = true;
	r->locked = false;
	set_timer(r, RETRY_MS);
	if (r->hooks.unavailable)
		r->hooks.unavailable(r->hooks.ctx, true);
}

/* The reader's CLIENT ID, which Redis forgets the moment we die. */
static int reader_id(struct redis_tr *r)
{
	const char *const argv[] = { "CLIENT", "ID" };
	const size_t lens[] = { 6, 2 };
	struct redisReply *rep = redis_link_command(r->reader, 2, argv, lens,
	                                            r->room.err,
	                                            sizeof r->room.err);
	int rc = rep && rep->type == REDIS_REPLY_INTEGER ? 0 : -1;
	long long id = rc == 0 ? rep->integer : -1, uptime;
	if (rc < 0 && rep)
		snprintf(r->room.err, sizeof r->room.err, "redis: no CLIENT ID");
	redis_link_reply_free(r->reader, rep);
	char run[REDIS_RUN_ID_MAX + 1];
	if (rc < 0 || redis_server_identity(r->reader, &uptime, run,
	                                    r->room.err,
	                                    sizeof r->room.err) < 0)
		return -1;
	snprintf(r->client, sizeof r->client, "%s:%lld", run, id);
	return 0;
}

static int open_links(struct redis_tr *r)
{
	r->room.link = redis_link_open(&r->url, REPLY_WAIT_MS, r->room.err,
	                               sizeof r->room.err);
	r->reader = r->room.link ? redis_link_open(&r->url, REPLY_WAIT_MS,
	                                           r->room.err,
	                                           sizeof r->room.err)
	                         : NULL;
	struct epoll_event ev = { .events = EPOLLIN };
	if (r->reader && reader_id(r) == 0 && epoll_ctl(r->wake_fd, EPOLL_CTL_ADD,
	                           redis_link_fd(r->reader), &ev) == 0)
		return 0;
	if (r->reader)
		snprintf(r->room.err, sizeof r->room.err, "cannot watch the "
		         "reader: %s", strerror(errno));
	close_links(r);
	return -1;
}

/* ---- the reader: XREAD as a wake-up ---- */

/* Waits for a line in the room's stream and in our own, once both are
 * read to their end: the browser takes both when its queue has room, so
 * neither waits on the other for long. */
static void wait_for_lines(struct redis_tr *r)
{
	if (r->down || r->xread_pending || r->held || r->room_behind ||
	    (r->private_open && r->priv_behind))
		return;
	char room_key[REDIS_KEY_MAX], priv_key[REDIS_KEY_MAX];
	char room_id[STREAM_ID_MAX], priv_id[STREAM_ID_MAX];
	redis_room_key(&r->room, REDIS_KEY_ROOM, room_key);
	redis_room_private_key(&r->room, r->conn, priv_key);
	stream_id_format(&r->room_pos, room_id);
	stream_id_format(&r->priv_pos, priv_id);
	char count[16];
	snprintf(count, sizeof count, "%d", XREAD_COUNT);
	const char *argv[10] = { "XREAD", "COUNT", count, "BLOCK", "0",
	                        "STREAMS", room_key };
	int argc = 7;
	if (r->private_open)
		argv[argc++] = priv_key;
	argv[argc++] = room_id;
	if (r->private_open)
		argv[argc++] = priv_id;
	size_t lens[10];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if (redis_link_send(r->reader, argc, argv, lens, r->room.err,
	                    sizeof r->room.err) < 0 ||
	    redis_link_flush(r->reader, r->room.err, sizeof r->room.err) < 0) {
		go_down(r);
		return;
	}
	r->xread_pending = true;
}

static void signal_private(struct redis_tr *r, bool waiting)
{
	uint64_t one = 1;
	if (waiting)
		(void)!write(r->private_fd, &one, sizeof one);
	else
		(void)!read(r->private_fd, &one, sizeof one);
}

/* The reader's reply came: its room lines are held to be handed on (more
 * may follow them when it brought all it could); private lines are
 * taken one by one (redis_receive). */
static void redis_notice(void *st)
{
	struct redis_tr *r = st;
	if (r->down || !r->xread_pending)
		return;
	redisReply *rep = redis_link_receive(r->reader, r->room.err,
	                                     sizeof r->room.err);
	r->xread_pending = false;
	if (!rep) {
		go_down(r);
		return;
	}
	char priv_key[REDIS_KEY_MAX];
	redis_room_private_key(&r->room, r->conn, priv_key);
	for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements;
	     i++) {
		const redisReply *s = rep->element[i];
		if (s->type != REDIS_REPLY_ARRAY || s->elements < 1 ||
		    s->element[0]->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(s->element[0]->str, priv_key) == 0) {
			r->priv_behind = true;
			signal_private(r, true);
		} else if (s->elements == 2 &&
		           s->element[1]->type == REDIS_REPLY_ARRAY) {
			r->held = rep;
			r->held_entries = s->element[1];
			r->held_next = 0;
			r->room_behind = s->element[1]->elements >= XREAD_COUNT;
		}
	}
	if (!r->held)
		redis_link_reply_free(r->reader, rep);
	if (r->held && r->hooks.woken)
		r->hooks.woken(r->hooks.ctx);
	wait_for_lines(r);
}

static int redis_room_fd(void *st)
{
	const struct redis_tr *r = st;
	return r->wake_fd;
}

/* ---- the room's lines ---- */

static int redis_follow(void *st, bool report_skips)
{
	struct redis_tr *r = st;
	r->report_skips = report_skips;
	return redis_stream_last_id(&r->room, &r->room_pos);
}

static size_t redis_append(void *st, const char *data, size_t len,
                           bool member)
{
	struct redis_tr *r = st;
	(void)member;
	if (r->down) {
		errno = ENOTCONN;
		return 0;
	}
	size_t stored = redis_room_append(&r->room, data, len);
	if (stored < len) {
		say(r, "cannot append to the room");
		go_down(r);
		errno = ENOTCONN;
	}
	return stored;
}

static bool redis_paused(void *st)
{
	(void)st;
	return false; /* no rotation here: the archiver's logs rotate */
}

struct handing {
	struct redis_tr *r;
	transport_line_fn fn;
	void *ctx;
	size_t max_bytes, handed;
	int stopped;
};

static int hand_line(void *ctx, const struct stream_id *id,
                     const char *line, size_t len)
{
	struct handing *h = ctx;
	int rc = 0;
	h->handed += len;
	if (len <= TRANSPORT_LINE_MAX)
		rc = h->fn(h->ctx, line, len);
	else if (h->r->report_skips)
		rc = h->fn(h->ctx, NULL, 0);
	/* Passed only now: while fn has the line, the reader stands before
	 * it (past_history says so of the history's last line). */
	h->r->room_pos = *id;
	if (rc != 0)
		h->stopped = 1;
	return h->stopped;
}

/* hand_line, stopping once the budget is spent (2). */
static int hand_held(void *ctx, const struct stream_id *id, const char *line,
                     size_t len)
{
	struct handing *h = ctx;
	int rc = hand_line(ctx, id, line, len);
	return rc ? rc : h->handed >= h->max_bytes ? 2 : 0;
}

static int redis_read(void *st, size_t max_bytes, transport_line_fn fn,
                      void *ctx)
{
	struct redis_tr *r = st;
	struct handing h = { r, fn, ctx, max_bytes, 0, 0 };
	if (r->evicted) {
		errno = ECONNRESET;
		return -1;
	}
	if (r->down)
		return 0; /* what is written meanwhile is read when it is back */
	if (r->held) {
		int rc = redis_stream_hand(&r->room, r->held_entries,
		                           &r->held_next, &r->room_pos,
		                           hand_held, &h);
		if (h.stopped || rc < 0)
			return -1;
		if (r->held_next < r->held_entries->elements)
			return 1; /* the budget is spent: the rest later */
		drop_held(r);
		if (!r->room_behind) {
			wait_for_lines(r);
			return 0;
		}
	}
	while (h.handed < max_bytes) {
		int n = redis_stream_range(&r->room, NULL, &r->room_pos,
		                           READ_COUNT, hand_line, &h);
		if (h.stopped)
			return -1;
		if (n < 0) {
			go_down(r);
			return 0;
		}
		if (n < READ_COUNT) {
			r->room_behind = false;
			wait_for_lines(r);
			return 0;
		}
	}
	r->room_behind = true;
	return 1;
}

static int redis_rewind(void *st, size_t n)
{
	struct redis_tr *r = st;
	struct stream_id first;
	if (n == 0)
		return 0; /* no history: from where we follow, as we are */
	if (r->held) { /* what it holds comes again, in its place */
		drop_held(r);
		r->room_behind = true;
	}
	int rc = redis_stream_nth_last_id(&r->room, n, &first);
	if (rc < 0)
		return -1;
	/* Back to just before the nth last line, never forward past a line
	 * not read yet. */
	struct stream_id before = rc == 0 ? (struct stream_id){ 0, 0 }
	                                  : stream_id_before(&first);
	if (stream_id_cmp(&before, &r->room_pos) < 0)
		r->room_pos = before;
	return 0;
}

static int redis_mark_history(void *st)
{
	struct redis_tr *r = st;
	return redis_stream_last_id(&r->room, &r->history_end);
}

static bool redis_past_history(void *st)
{
	const struct redis_tr *r = st;
	return stream_id_cmp(&r->room_pos, &r->history_end) >= 0;
}

static int redis_look_back(void *st, size_t max_bytes, transport_line_fn fn,
                           void *ctx)
{
	struct redis_tr *r = st;
	return redis_stream_look_back(&r->room, &r->room_pos, max_bytes, fn, ctx);
}

/* ---- membership ---- */

static int redis_lock(void *st)
{
	struct redis_tr *r = st;
	if (r->down) {
		errno = EIO;
		return -1;
	}
	if (redis_room_lock(&r->room, LOCK_WAIT_MS, r->lock_token) < 0) {
		if (errno == EIO) {
			go_down(r);
			errno = EIO;
		}
		return -1;
	}
	r->locked = true;
	return 0;
}

static void redis_unlock(void *st)
{
	struct redis_tr *r = st;
	if (r->locked && !r->down)
		redis_room_unlock(&r->room, r->lock_token);
	r->locked = false;
}

static bool redis_locked(void *st)
{
	const struct redis_tr *r = st;
	return r->locked;
}

static int redis_list(void *st, struct presence_list *out, bool log_quits)
{
	struct redis_tr *r = st;
	int rc = r->down ? -1
	         : log_quits ? redis_room_reap(&r->room, out)
	         : redis_room_list(&r->room, out, NULL);
	if (rc < 0) {
		if (!r->down)
			go_down(r);
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Our entry in the listing taken under the lock, in its place. */
static int list_insert(struct presence_list *l, const char *name,
                       const char *color, bool verified)
{
	struct presence_entry e = { .verified = verified };
	snprintf(e.name, sizeof e.name, "%s", name);
	snprintf(e.color, sizeof e.color, "%s", color_is_valid(color)
	                                        ? color : COLOR_DEFAULT);
	if (presence_list_push(l, &e) < 0)
		return -1;
	presence_list_sort(l);
	return 0;
}

static int redis_claim(void *st, const char *base_name, const char *color,
                       bool verified, struct presence_list *members,
                       char *name)
{
	struct redis_tr *r = st;
	unsigned long number = presence_first_number(members, base_name,
	                                             verified);
	snprintf(r->color, sizeof r->color, "%s", color);
	r->verified = verified;
	for (int i = 0; i < CLAIM_ATTEMPTS; i++, number++) {
		if (number)
			snprintf(r->name, sizeof r->name, "%s%lu", base_name, number);
		else
			snprintf(r->name, sizeof r->name, "%s", base_name);
		int rc = redis_room_add(&r->room, r->name, r->conn, color,
		                        verified);
		if (rc < 0) {
			go_down(r);
			errno = EIO;
			return -1;
		}
		if (rc == 1) {
			r->claimed = true;
			snprintf(name, PRESENCE_NAME_MAX + 1, "%s", r->name);
			return list_insert(members, r->name, color, verified);
		}
	}
	errno = EEXIST;
	return -1;
}

static int redis_recolor(void *st, const char *color)
{
	struct redis_tr *r = st;
	if (r->down || redis_room_set_color(&r->room, r->name, r->conn, color,
	                                r->verified) < 0) {
		errno = EIO;
		return -1;
	}
	snprintf(r->color, sizeof r->color, "%s", color);
	return 0;
}

static bool redis_claimed(void *st)
{
	const struct redis_tr *r = st;
	return r->claimed;
}

static void redis_release(void *st)
{
	struct redis_tr *r = st;
	if (r->claimed && !r->down &&
	    redis_room_remove(&r->room, r->name, r->conn) < 0)
		say(r, "cannot leave the room");
	r->claimed = false;
}

static int redis_verified(void *st, const char *name, size_t len)
{
	struct redis_tr *r = st;
	return r->down ? 0 : redis_room_member_verified(&r->room, name, len);
}

/* The heartbeat while up; a retry while down. */
static int redis_upkeep(void *st)
{
	struct redis_tr *r = st;
	uint64_t ticks;
	(void)!read(r->timer_fd, &ticks, sizeof ticks);
	if (r->down) {
		if (open_links(r) < 0)
			return r->timer_fd;
		r->down = false;
		set_timer(r, REDIS_HEARTBEAT_MS);
		if (r->hooks.unavailable)
			r->hooks.unavailable(r->hooks.ctx, false);
		r->room_behind = true; /* what came meanwhile */
		if (r->private_open) {
			r->priv_behind = true;
			signal_private(r, true);
		}
		if (r->hooks.woken)
			r->hooks.woken(r->hooks.ctx);
	}
	int beat = r->claimed ? redis_room_heartbeat(&r->room, r->name, r->conn,
	                                             r->color, r->verified)
	                      : 1;
	if (beat < 0)
		go_down(r);
	if (beat == 0) {
		/* Counted dead while we could not beat, and the name went to
		 * another: we are no member any more, and end. */
		fprintf(stderr, "chat_server: %s of %s was taken over while "
		        "Redis could not be reached; leaving\n", r->name,
		        r->room_name);
		r->claimed = false;
		r->evicted = true;
		if (r->hooks.woken)
			r->hooks.woken(r->hooks.ctx);
	}
	return r->timer_fd;
}

/* ---- private lines ---- */

static int redis_open_private(void *st)
{
	struct redis_tr *r = st;
	r->private_open = true;
	r->priv_pos = (struct stream_id){ 0, 0 };
	return 0;
}

static int redis_private_fd(void *st)
{
	const struct redis_tr *r = st;
	return r->private_open ? r->private_fd : -1;
}

struct taking {
	struct redis_tr *r;
	struct buf *out;
	int rc;
};

static int take_private(void *ctx, const struct stream_id *id,
                        const char *line, size_t len)
{
	struct taking *t = ctx;
	t->r->priv_pos = *id;
	t->rc = buf_append(t->out, line, len) < 0 ? -1 : 1;
	return 0;
}

static int redis_receive(void *st, struct buf *out)
{
	struct redis_tr *r = st;
	struct taking t = { r, out, 0 };
	out->len = 0;
	if (r->down || !r->private_open)
		return 0;
	char key[REDIS_KEY_MAX];
	redis_room_private_key(&r->room, r->conn, key);
	if (redis_stream_range(&r->room, key, &r->priv_pos, 1, take_private,
	                       &t) < 0) {
		go_down(r);
		return 0;
	}
	char id[STREAM_ID_MAX];
	stream_id_format(&r->priv_pos, id);
	if (t.rc == 1 && redis_room_private_taken(&r->room, r->conn, id,
	                                          out->len) < 0) {
		go_down(r);
		return 1; /* the line is ours: shown, whatever comes after */
	}
	if (t.rc == 0) {
		r->priv_behind = false;
		signal_private(r, false);
		wait_for_lines(r);
	}
	return t.rc;
}

static void redis_close_private(void *st)
{
	struct redis_tr *r = st;
	r->private_open = false;
}

static int redis_find(void *st, const char *name)
{
	struct redis_tr *r = st;
	int slot = 0;
	while (slot < CHANNELS_MAX && r->members[slot].used)
		slot++;
	if (slot == CHANNELS_MAX) {
		errno = EMFILE;
		return -1;
	}
	struct member_handle *m = &r->members[slot];
	int rc = r->down ? -1 : redis_room_member_conn(&r->room, name, m->conn);
	int alive = rc == 1 ? redis_room_member_alive(&r->room, name) : rc;
	if (rc <= 0 || alive <= 0) {
		errno = rc == 0 ? ENOENT : alive == 0 ? ESRCH : EIO;
		return -1;
	}
	snprintf(m->name, sizeof m->name, "%s", name);
	m->used = true;
	return slot;
}

static bool redis_same_member(void *st, int a, int b)
{
	const struct redis_tr *r = st;
	return a >= 0 && b >= 0 && a < CHANNELS_MAX && b < CHANNELS_MAX &&
	       strcmp(r->members[a].conn, r->members[b].conn) == 0;
}

static void redis_drop_member(void *st, int member)
{
	struct redis_tr *r = st;
	if (member >= 0 && member < CHANNELS_MAX)
		r->members[member].used = false;
}

/* A channel is a descriptor that polls writable, as the seam asks: a
 * Redis stream never makes a sender wait. */
static int redis_connect(void *st, int member)
{
	struct redis_tr *r = st;
	for (int i = 0; i < CHANNELS_MAX; i++)
		if (r->channels[i].fd < 0) {
			int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (fd < 0)
				return -1;
			r->channels[i] = (struct channel){ fd, member };
			return fd;
		}
	errno = EMFILE;
	return -1;
}

static struct channel *channel_of(struct redis_tr *r, int fd)
{
	for (int i = 0; i < CHANNELS_MAX; i++)
		if (fd >= 0 && r->channels[i].fd == fd)
			return &r->channels[i];
	return NULL;
}

static int redis_send(void *st, int channel, const char *line, size_t len)
{
	struct redis_tr *r = st;
	const struct channel *ch = channel_of(r, channel);
	if (!ch || ch->member < 0 || ch->member >= CHANNELS_MAX || r->down) {
		errno = ECONNREFUSED;
		return -1;
	}
	const struct member_handle *m = &r->members[ch->member];
	int rc = redis_room_send_private(&r->room, m->name, m->conn, line, len);
	if (rc < 0)
		go_down(r);
	if (rc == 2) {
		/* Full: the channel stops polling writable, so the sender
		 * waits its bound and gives up (the seam's EAGAIN). */
		uint64_t most = UINT64_MAX - 1;
		(void)!write(ch->fd, &most, sizeof most);
		errno = EAGAIN;
		return -1;
	}
	if (rc <= 0) {
		errno = ECONNREFUSED;
		return -1;
	}
	return 0;
}

static void redis_hang_up(void *st, int channel)
{
	struct redis_tr *r = st;
	int saved = errno;
	struct channel *ch = channel_of(r, channel);
	if (ch) {
		close(ch->fd);
		ch->fd = -1;
	}
	errno = saved;
}

static void redis_close(void *st)
{
	struct redis_tr *r = st;
	close_links(r);
	for (int i = 0; i < CHANNELS_MAX; i++)
		if (r->channels[i].fd >= 0)
			close(r->channels[i].fd);
	if (r->private_fd >= 0)
		close(r->private_fd);
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	if (r->timer_fd >= 0)
		close(r->timer_fd);
	explicit_bzero(&r->url, sizeof r->url); /* the password */
	free(r);
}

static const struct transport_ops redis_ops = {
	.lock = redis_lock,
	.unlock = redis_unlock,
	.locked = redis_locked,
	.list = redis_list,
	.claim = redis_claim,
	.recolor = redis_recolor,
	.claimed = redis_claimed,
	.release = redis_release,
	.verified = redis_verified,
	.upkeep = redis_upkeep,
	.follow = redis_follow,
	.room_fd = redis_room_fd,
	.notice = redis_notice,
	.append = redis_append,
	.paused = redis_paused,
	.read = redis_read,
	.rewind = redis_rewind,
	.mark_history = redis_mark_history,
	.past_history = redis_past_history,
	.look_back = redis_look_back,
	.open_private = redis_open_private,
	.private_fd = redis_private_fd,
	.receive = redis_receive,
	.close_private = redis_close_private,
	.find = redis_find,
	.same_member = redis_same_member,
	.drop_member = redis_drop_member,
	.connect = redis_connect,
	.send = redis_send,
	.hang_up = redis_hang_up,
	.close = redis_close,
};

/* ---- opening ---- */

static struct redis_tr *redis_new(const struct chat_config *cfg,
                                  const char *room,
                                  const struct transport_hooks *hooks)
{
	struct redis_tr *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->cfg = cfg;
	if (hooks)
		r->hooks = *hooks;
	snprintf(r->room_name, sizeof r->room_name, "%s", room);
	r->room.prefix = cfg->redis_key_prefix;
	r->room.room = r->room_name;
	r->room.client = r->client;
	for (int i = 0; i < CHANNELS_MAX; i++)
		r->channels[i].fd = -1;
	r->private_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->wake_fd = epoll_create1(EPOLL_CLOEXEC);
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC,
	                             TFD_CLOEXEC | TFD_NONBLOCK);
	return r;
}

int transport_redis_open(struct room_transport *t,
                         const struct chat_config *cfg, const char *room,
                         const struct transport_hooks *hooks,
                         const char **failed)
{
	struct redis_tr *r = redis_new(cfg, room, hooks);
	t->ops = r ? &redis_ops : NULL;
	t->st = r;
	*failed = NULL;
	if (!r)
		return -1;
	*failed = "the room is unavailable; try again later";
	if (r->private_fd < 0 || r->timer_fd < 0 || r->wake_fd < 0 ||
	    redis_room_new_id(r->conn) < 0) {
		snprintf(r->room.err, sizeof r->room.err, "%s", strerror(errno));
		say(r, "cannot set up the room");
		return -1;
	}
	if (redis_url_parse(cfg->redis_url, &r->url, r->room.err,
	                    sizeof r->room.err) < 0 || open_links(r) < 0) {
		say(r, "cannot reach the room's Redis");
		errno = EIO;
		return -1;
	}
	set_timer(r, REDIS_HEARTBEAT_MS);
	*failed = NULL;
	return 0;
}

struct redis_link *transport_redis_link(struct room_transport *t,
                                        const char **client)
{
	const struct redis_tr *r = t->ops == &redis_ops ? t->st : NULL;
	*client = r ? r->client : NULL;
	return r && !r->down ? r->room.link : NULL;
}
