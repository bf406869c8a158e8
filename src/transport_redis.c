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

#include "archive_relay.h"
#include "elapsed.h"
#include "limits_redis.h"
#include "presence.h"
#include "rundir.h"
#include "transport_redis_conn.h"

void redis_tr_say(struct redis_tr *r, const char *what)
{
	fprintf(stderr, "chat_server: %s: %s\n", what, r->room.err);
}

/* ---- Redis down, and back ---- */

/* The upkeep timer: first in first_ms, then every every_ms. */
static void arm_timer(struct redis_tr *r, int first_ms, int every_ms)
{
	const struct itimerspec its = {
		{ every_ms / 1000, (every_ms % 1000) * 1000000L },
		{ first_ms / 1000, (first_ms % 1000) * 1000000L },
	};
	if (r->timer_fd >= 0)
		timerfd_settime(r->timer_fd, 0, &its, NULL);
}

static void set_timer(struct redis_tr *r, int ms)
{
	arm_timer(r, ms, ms);
}

void redis_tr_beat_soon(struct redis_tr *r)
{
	r->beat_due = true;
	if (!r->down)
		arm_timer(r, 1, 0);
}

/* While Redis is up, the upkeep timer's next tick: the heartbeat every
 * REDIS_HEARTBEAT_MS, and between beats the writer's rest, WRITER_REST_MS
 * after its last command.  A writer woken between ticks by a command
 * (a line, a whisper) rests at most a beat later. */
static void plan_upkeep(struct redis_tr *r)
{
	long long next = REDIS_HEARTBEAT_MS - elapsed_ms(&r->beat_at);
	r->rest_planned = false;
	/* A rest refused (a reply nobody waited for is still to come) is
	 * tried again after the next beat, which reads past it. */
	if (!redis_link_resting(r->room.link)) {
		long long rest = WRITER_REST_MS -
		                 redis_link_idle_ms(r->room.link);
		if (rest > 0 && rest < next) {
			next = rest;
			r->rest_planned = true;
		}
	}
	arm_timer(r, next > 1 ? (int)next : 1, 0);
}

/* A command of the connection's own (a line, a whisper, a colour) may
 * have woken the writer: it rests WRITER_REST_MS after the last, not a
 * beat later. */
static void writer_used(struct redis_tr *r)
{
	r->errand = false;
	if (!r->down && !r->rest_planned && !redis_link_resting(r->room.link))
		plan_upkeep(r);
}

static size_t redis_append(void *st, const char *data, size_t len,
                           bool member)
{
	size_t stored = redis_tr_append(st, data, len, member);
	writer_used(st);
	return stored;
}

static int redis_send(void *st, int channel, const char *line, size_t len)
{
	int rc = redis_tr_send(st, channel, line, len);
	writer_used(st);
	return rc;
}

void redis_tr_rest_writer(struct redis_tr *r)
{
	if (r->down || redis_link_resting(r->room.link))
		return;
	bool done = r->errand && !r->room_behind && !r->priv_behind;
	if ((done || redis_link_idle_ms(r->room.link) >= WRITER_REST_MS) &&
	    redis_link_rest(r->room.link))
		r->errand = false;
}

void redis_tr_drop_queue(struct redis_tr *r)
{
	for (size_t i = r->queue_head; i < r->queue_n; i++)
		redis_link_reply_free(r->reader, r->queue[i].reply);
	r->queue_head = r->queue_n = 0;
	r->before_private = 0;
}

static void close_links(struct redis_tr *r)
{
	redis_tr_drop_queue(r);
	r->private_first = false; /* what comes back is read from the streams */
	r->errand = false;
	redis_link_close(r->reader);
	redis_link_close(r->room.link);
	r->reader = r->room.link = NULL;
}

/* A command found Redis gone: the connection is told once, and the
 * upkeep timer tries again every RETRY_MS. */
void redis_tr_down(struct redis_tr *r)
{
	if (r->down)
		return;
	redis_tr_say(r, "the room's Redis failed");
	close_links(r);
	r->down = true;
	r->locked = false;
	set_timer(r, RETRY_MS);
	if (r->hooks.unavailable)
		r->hooks.unavailable(r->hooks.ctx, true);
}

/* The reader's CLIENT ID, which Redis forgets the moment we die; through
 * the relay, the relay's, and our connection's id after it: the relay
 * tells Redis when we are gone (archive_relay.h). */
static int reader_id(struct redis_tr *r)
{
	const char *const argv[] = { "CLIENT", "ID" };
	const size_t lens[] = { 6, 2 };
	struct redisReply *rep = redis_link_command(r->reader, 2, argv, lens,
	                                            r->room.err,
	                                            sizeof r->room.err);
	int rc = rep && rep->type == REDIS_REPLY_INTEGER ? 0 : -1;
	long long id = rc == 0 ? rep->integer : -1, started;
	if (rc < 0 && rep)
		snprintf(r->room.err, sizeof r->room.err, "redis: no CLIENT ID");
	redis_link_reply_free(r->reader, rep);
	char run[REDIS_RUN_ID_MAX + 1];
	if (rc < 0 || redis_link_server_run(r->reader, run, &started,
	                                    r->room.err,
	                                    sizeof r->room.err) < 0)
		return -1;
	snprintf(r->client, sizeof r->client, "%s:%lld%s%s", run, id,
	         r->relayed ? "." : "", r->relayed ? r->conn : "");
	return 0;
}

/* The reader listens on the room's channel and on our private one, and
 * sends nothing more: Redis writes it every line as it is appended,
 * without a command to parse for it, and keeps no query buffer for it. */
static int subscribe(struct redis_tr *r)
{
	char chan[REDIS_KEY_MAX];
	redis_room_key(&r->room, REDIS_KEY_CHANNEL, chan);
	const char *const argv[] = { "SUBSCRIBE", chan, r->priv_channel };
	const size_t lens[] = { 9, strlen(chan), strlen(r->priv_channel) };
	if (redis_link_send(r->reader, 3, argv, lens, r->room.err,
	                    sizeof r->room.err) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		struct redisReply *rep = redis_link_receive(r->reader, r->room.err,
		                                            sizeof r->room.err);
		bool ok = rep && rep->type == REDIS_REPLY_ARRAY &&
		          rep->elements == 3 &&
		          rep->element[0]->type == REDIS_REPLY_STRING &&
		          strcmp(rep->element[0]->str, "subscribe") == 0;
		if (rep && !ok)
			snprintf(r->room.err, sizeof r->room.err, "redis: "
			         "SUBSCRIBE was not confirmed");
		redis_link_reply_free(r->reader, rep);
		if (!ok)
			return -1;
	}
	redis_link_shed(r->reader);
	return 0;
}

/* The relay, once: RUN_DIR/archive/relay, found as chat.c finds the run
 * directory (rundir.h); Redis answered already, so the directories may
 * be made. */
static void find_relay(struct redis_tr *r)
{
	if (r->relay_looked)
		return;
	r->relay_looked = true;
	struct rundir rd;
	int users = presence_open_dir(r->cfg->users_dir, r->cfg->dir_mode);
	int rc = users < 0 ? -1 : rundir_open(r->cfg->run_dir, users, &rd);
	if (users >= 0)
		close(users);
	r->relay_url = rc == 0 ? calloc(1, sizeof *r->relay_url) : NULL;
	if (rc == 0 && !r->relay_url)
		close(rd.fd);
	if (!r->relay_url)
		return;
	r->run_fd = rd.fd;
	r->relay_url->unix_socket = true;
	snprintf(r->relay_url->path, sizeof r->relay_url->path,
	         "/proc/self/fd/%d/archive/%s", r->run_fd, RELAY_SOCKET);
}

/* Through the relay: our slot, which it lets go when we are gone. */
static int tell_slot(struct redis_tr *r)
{
	if (!r->address[0] || r->cfg->max_connections_per_address == 0)
		return 0;
	char key[LIMITS_REDIS_KEY_MAX];
	limits_redis_conn_key(r->cfg->redis_key_prefix, r->address, key);
	const char *const argv[] = { "CLIENT", "SETNAME", key };
	const size_t lens[] = { 6, 7, strlen(key) };
	struct redisReply *rep = redis_link_command(r->reader, 3, argv, lens,
	                                            r->room.err,
	                                            sizeof r->room.err);
	int rc = rep && rep->type == REDIS_REPLY_STATUS ? 0 : -1;
	redis_link_reply_free(r->reader, rep);
	return rc;
}

/* The reader through the host's relay: 0, or -1 (none serves). */
static int open_relayed(struct redis_tr *r)
{
	char why[sizeof r->room.err];
	find_relay(r);
	r->relayed = r->relay_url != NULL;
	r->reader = r->relayed ? redis_link_open(r->relay_url, REPLY_WAIT_MS,
	                                         why, sizeof why)
	                       : NULL;
	if (r->reader && reader_id(r) == 0 && tell_slot(r) == 0 &&
	    subscribe(r) == 0)
		return 0;
	redis_link_close(r->reader);
	r->reader = NULL;
	r->relayed = false;
	return -1;
}

/* The reader: the host's relay if it serves, else a client of our own.
 * 0, or -1 with r->room.err. */
static int open_reader(struct redis_tr *r)
{
	if (open_relayed(r) == 0)
		return 0;
	r->reader = redis_link_open(&r->url, REPLY_WAIT_MS, r->room.err,
	                            sizeof r->room.err);
	return r->reader && reader_id(r) == 0 && subscribe(r) == 0 ? 0 : -1;
}

static int watch_reader(struct redis_tr *r)
{
	struct epoll_event ev = { .events = EPOLLIN };
	return epoll_ctl(r->wake_fd, EPOLL_CTL_ADD, redis_link_fd(r->reader),
	                 &ev);
}

/* The writer first, and the server's run and version on it: a server
 * we cannot use refuses the connection before the relay is looked for
 * (which may make directories), and the room's listing, which needs the
 * run, asks for it in one round trip less. */
static int open_links(struct redis_tr *r)
{
	char run[REDIS_RUN_ID_MAX + 1];
	long long started;
	r->room.link = redis_link_open(&r->url, REPLY_WAIT_MS, r->room.err,
	                               sizeof r->room.err);
	if (r->room.link &&
	    redis_link_server_run(r->room.link, run, &started, r->room.err,
	                          sizeof r->room.err) == 0 &&
	    open_reader(r) == 0) {
		if (watch_reader(r) == 0)
			return 0;
		snprintf(r->room.err, sizeof r->room.err, "cannot watch the "
		         "reader: %s", strerror(errno));
	}
	close_links(r);
	return -1;
}

/* The reader replaced: what was announced meanwhile is read from the
 * streams, and our record names the new reader at the next beat. */
static void reader_replaced(struct redis_tr *r)
{
	r->room_behind = true;
	if (r->private_open) {
		r->priv_behind = true;
		redis_tr_signal_private(r, true);
	}
}

/* The relay ended (the archiver restarted, or stopped): another reader,
 * at once and without a word to the browser, since Redis may well be
 * there.  0, or -1: Redis is down too. */
static int replace_reader(struct redis_tr *r)
{
	redis_tr_drop_queue(r);
	r->private_first = false;
	redis_link_close(r->reader); /* its socket leaves the epoll set */
	r->reader = NULL;
	if (open_reader(r) < 0 || watch_reader(r) < 0)
		return -1;
	reader_replaced(r);
	redis_tr_beat_soon(r);
	return 0;
}

/* A reader of our own, while the host's relay serves again (its archiver
 * is back): the reader moves there, before the beat that records it, so
 * that Redis keeps one client for the host's listeners, not one each.
 * The old reader goes once the new one listens. */
static void back_to_relay(struct redis_tr *r)
{
	/* A host without an archiver has no socket: nothing to try (a
	 * connection's allocations at every beat, for a refusal). */
	if (r->relayed || !r->relay_url ||
	    faccessat(r->run_fd, "archive/" RELAY_SOCKET, F_OK, 0) < 0)
		return;
	struct redis_link *own = r->reader;
	char client[sizeof r->client];
	memcpy(client, r->client, sizeof client);
	if (open_relayed(r) < 0 || watch_reader(r) < 0) {
		if (r->relayed)
			redis_link_close(r->reader);
		r->reader = own;
		r->relayed = false;
		memcpy(r->client, client, sizeof client);
		return;
	}
	redis_tr_drop_queue(r);
	r->private_first = false;
	redis_link_close(own);
	reader_replaced(r);
	if (r->hooks.woken)
		r->hooks.woken(r->hooks.ctx);
}

/* ---- the reader: what the channels announce ---- */

void redis_tr_signal_private(struct redis_tr *r, bool waiting)
{
	uint64_t one = 1;
	if (waiting)
		(void)!write(r->private_fd, &one, sizeof one);
	else
		(void)!read(r->private_fd, &one, sizeof one);
}

/* An announcement, "<id before> <id> <line>\n": the id and the line with
 * its '\n' (in the reply) into p, the id before into prev. */
static bool parse_push(const struct redisReply *payload, struct pushed *p,
                       struct stream_id *prev)
{
	const char *s = payload->str, *end = s + payload->len;
	const char *sp1 = memchr(s, ' ', payload->len);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))
	                      : NULL;
	if (!sp2 || end[-1] != '\n' ||
	    !stream_id_parse(s, (size_t)(sp1 - s), prev) ||
	    !stream_id_parse(sp1 + 1, (size_t)(sp2 - sp1 - 1), &p->id))
		return false;
	p->line = sp2 + 1;
	p->len = (size_t)(end - p->line);
	return true;
}

/* A line announced on the room's channel: queued when it follows the last
 * line we have; one we have is let go; a gap (we missed one), a queue
 * full (the browser is slow) or lines already waiting in the stream mean
 * the stream is read instead, from room_pos.  Takes rep. */
static void take_line(struct redis_tr *r, struct redisReply *rep)
{
	struct pushed p = { rep, { 0, 0 }, NULL, 0 };
	struct stream_id prev;
	const struct stream_id *last = r->queue_n > r->queue_head
	                               ? &r->queue[r->queue_n - 1].id
	                               : &r->room_pos;
	if (r->room_behind || !parse_push(rep->element[2], &p, &prev) ||
	    stream_id_cmp(&p.id, last) <= 0) {
		redis_link_reply_free(r->reader, rep);
		return;
	}
	if (stream_id_cmp(&prev, last) != 0 || r->queue_n == PUSH_QUEUE) {
		redis_link_reply_free(r->reader, rep);
		redis_tr_drop_queue(r);
		r->room_behind = true;
		return;
	}
	r->queue[r->queue_n++] = p;
}

/* One announcement: a room line, or word of a private one (which stays
 * in our private stream until taken: redis_receive).  Takes rep. */
static void take_push(struct redis_tr *r, struct redisReply *rep)
{
	bool message = rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
	               rep->element[0]->type == REDIS_REPLY_STRING &&
	               strcmp(rep->element[0]->str, "message") == 0 &&
	               rep->element[1]->type == REDIS_REPLY_STRING &&
	               rep->element[2]->type == REDIS_REPLY_STRING;
	if (message && strcmp(rep->element[1]->str, r->priv_channel) == 0) {
		redis_link_reply_free(r->reader, rep);
		if (r->private_open) {
			if (!r->private_first)
				r->before_private = r->queue_n - r->queue_head;
			r->private_first = true;
			r->priv_behind = true;
			redis_tr_signal_private(r, true);
		}
		return;
	}
	if (message)
		take_line(r, rep);
	else
		redis_link_reply_free(r->reader, rep);
}

/* The reader's socket is readable: every announcement it holds is taken
 * (those hiredis has read ahead too, which the socket no longer shows). */
static void redis_notice(void *st)
{
	struct redis_tr *r = st;
	if (r->down)
		return;
	do {
		struct redisReply *rep = redis_link_receive(r->reader,
		                                            r->room.err,
		                                            sizeof r->room.err);
		if (!rep && (!r->relayed || replace_reader(r) < 0)) {
			redis_tr_down(r);
			return;
		}
		if (!rep)
			break;
		take_push(r, rep);
	} while (redis_link_buffered(r->reader));
	if ((r->room_behind || r->queue_n > r->queue_head) && r->hooks.woken)
		r->hooks.woken(r->hooks.ctx);
}

static int redis_room_fd(void *st)
{
	const struct redis_tr *r = st;
	return r->wake_fd;
}

/* ---- membership ---- */

static int redis_lock(void *st)
{
	struct redis_tr *r = st;
	if (r->down) {
		errno = EIO;
		return -1;
	}
	if (redis_room_lock_in_turn(&r->room, LOCK_WAIT_MS, r->lock_token) < 0) {
		if (errno == EIO) {
			redis_tr_down(r);
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
			redis_tr_down(r);
		errno = EIO;
		return -1;
	}
	return log_quits ? rc : 0;
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
			redis_tr_down(r);
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
	int rc = r->down ? -1 : redis_room_set_color(&r->room, r->name, r->conn,
	                                             color, r->verified);
	writer_used(r);
	if (rc < 0) {
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
		redis_tr_say(r, "cannot leave the room");
	r->claimed = false;
}

static int redis_verified(void *st, const char *name, size_t len)
{
	struct redis_tr *r = st;
	return r->down ? 0 : redis_room_member_verified(&r->room, name, len);
}

/* Redis is back: the links are open again, and the connection told. */
static int come_back(struct redis_tr *r)
{
	if (open_links(r) < 0)
		return -1;
	r->down = false;
	if (r->hooks.unavailable)
			r->hooks.unavailable(r->hooks.ctx, false);
		r->room_behind = true; /* what came meanwhile */
		if (r->private_open) {
			r->priv_behind = true;
			redis_tr_signal_private(r, true);
		}
		if (r->hooks.woken)
			r->hooks.woken(r->hooks.ctx);
	return 0;
}

/* Our heartbeat: what it found out is acted on. */
static void beat(struct redis_tr *r)
{
	back_to_relay(r);
	r->beat_at = elapsed_start();
	r->beat_due = false;
	int beat = r->claimed ? redis_room_heartbeat(&r->room, r->name, r->conn,
	                                             r->color, r->verified)
	                      : 1;
	if (beat < 0)
		redis_tr_down(r);
	if (beat == 2 && r->hooks.rejoined)
		r->hooks.rejoined(r->hooks.ctx);
	if (beat > 0 && !r->down && r->hooks.beat)
		r->hooks.beat(r->hooks.ctx);
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
}

/* The heartbeat and the writer's rest while up; a retry while down. */
static int redis_upkeep(void *st)
{
	struct redis_tr *r = st;
	uint64_t ticks;
	(void)!read(r->timer_fd, &ticks, sizeof ticks);
	if (r->down) {
		if (come_back(r) < 0)
			return r->timer_fd;
		r->beat_due = true; /* at once: we may have been counted out */
	}
	if (r->beat_due || elapsed_ms(&r->beat_at) >= REDIS_HEARTBEAT_MS) {
		if (redis_link_resting(r->room.link))
			r->errand = true; /* woken for the beat alone */
		beat(r);
	}
	redis_tr_rest_writer(r);
	if (!r->down)
		plan_upkeep(r);
	return r->timer_fd;
}

static void redis_close(void *st)
{
	struct redis_tr *r = st;
	close_links(r);
	redis_tr_close_channels(r);
	if (r->private_fd >= 0)
		close(r->private_fd);
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	if (r->timer_fd >= 0)
		close(r->timer_fd);
	explicit_bzero(&r->url, sizeof r->url); /* the password */
	free(r->relay_url);
	if (r->run_fd >= 0)
		close(r->run_fd);
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
	.follow = redis_tr_follow,
	.room_fd = redis_room_fd,
	.notice = redis_notice,
	.append = redis_append,
	.paused = redis_tr_paused,
	.read = redis_tr_read,
	.rewind = redis_tr_rewind,
	.mark_history = redis_tr_mark_history,
	.past_history = redis_tr_past_history,
	.look_back = redis_tr_look_back,
	.open_private = redis_tr_open_private,
	.private_fd = redis_tr_private_fd,
	.receive = redis_tr_receive,
	.close_private = redis_tr_close_private,
	.find = redis_tr_find,
	.same_member = redis_tr_same_member,
	.drop_member = redis_tr_drop_member,
	.connect = redis_tr_connect,
	.send = redis_send,
	.hang_up = redis_tr_hang_up,
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
	r->run_fd = -1;
	if (hooks)
		r->hooks = *hooks;
	snprintf(r->room_name, sizeof r->room_name, "%s", room);
	r->room.prefix = cfg->redis_key_prefix;
	r->room.room = r->room_name;
	r->room.client = r->client;
	redis_host_id(cfg->users_dir, r->host);
	r->room.host = r->host;
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
                         const char *address,
                         const struct transport_hooks *hooks,
                         const char **failed)
{
	struct redis_tr *r = redis_new(cfg, room, hooks);
	if (r)
		r->address = address;
	t->ops = r ? &redis_ops : NULL;
	t->st = r;
	*failed = NULL;
	if (!r)
		return -1;
	*failed = "the room is unavailable; try again later";
	if (r->private_fd < 0 || r->timer_fd < 0 || r->wake_fd < 0 ||
	    redis_room_new_id(r->conn) < 0) {
		snprintf(r->room.err, sizeof r->room.err, "%s", strerror(errno));
		redis_tr_say(r, "cannot set up the room");
		return -1;
	}
	redis_room_private_channel(&r->room, r->conn, r->priv_channel);
	if (redis_url_parse(cfg->redis_url, &r->url, r->room.err,
	                    sizeof r->room.err) < 0 || open_links(r) < 0) {
		redis_tr_say(r, "cannot reach the room's Redis");
		errno = EIO;
		return -1;
	}
	r->beat_at = elapsed_start();
	plan_upkeep(r);
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
