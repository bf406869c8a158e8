#include "dispatch.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "command.h"
#include "elapsed.h"
#include "event.h"
#include "flood.h"
#include "format.h"
#include "limits_redis.h"
#include "moderate.h"
#include "decode.h"
#include "request.h"
#include "rng.h"
#include "route.h"
#include "signalling.h"

/* How a chat line may be routed (request.h). */
enum routing {
	ROUTING_AUTO,    /* legacy: private when addressed to someone here;
	                    signalling when its text starts with '{' */
	ROUTING_ROOM,    /* for the room, whatever it looks like */
	ROUTING_WHISPER, /* for its addressee only, or for nobody: a whisper
	                    whatever its text */
	ROUTING_SIGNAL,  /* for its addressee only, or for nobody: WebRTC
	                    signalling */
};

/* How long a private line waits for a member whose queue is full. */
#define PRIVATE_WAIT_MS 1000

/* MAX_MESSAGE_BYTES bounds what reaches the log or another person, except
 * WebRTC signalling, which has its own bound. */
static bool too_long(struct chat *c, size_t len)
{
	char message[96];
	if (len <= (size_t)c->cfg->max_message_bytes)
		return false;
	snprintf(message, sizeof message, "message not sent: it is longer than "
	         "%d bytes", c->cfg->max_message_bytes);
	chat_tell(c, REFUSAL_TOO_LONG, message);
	return true;
}

/* The old browser client takes any line that contains these for a server
 * line (and puts user list entries into the page as HTML). */
static bool misleads_old_clients(struct chat *c, const char *text, size_t len)
{
	static const char *const server_words[] = { "Userlist: ",
	                                            "Welcome to the chat room" };
	if (!c->cfg->legacy_client)
		return false;
	for (size_t i = 0; i < 2; i++) {
		if (memmem(text, len, server_words[i], strlen(server_words[i]))) {
			chat_tell(c, REFUSAL_MISLEADING, "message not sent: chat clients would take it "
			             "for a line from the server");
			return true;
		}
	}
	return false;
}

/* The room lock, or a line telling the sender why not.  The wait for it is
 * bounded where it is taken (chat_lock_room); nothing that holds it waits
 * on another connection, so a room that stays locked is a fault. */
static bool lock_room(struct chat *c)
{
	if (chat_lock_room(c) >= 0)
		return true;
	if (errno == ETIMEDOUT || errno == EAGAIN)
		chat_tell(c, REFUSAL_BUSY, "message not sent: the room is busy; try again in a "
		             "moment");
	else
		chat_refuse(c);
	return false;
}

/* /color sets our colour in the room. */
static int recolor(void *ctx, const char *color)
{
	struct chat *c = ctx;
	return transport_recolor(&c->transport, color);
}

/* /color logs the user list with the new colour first, then its result
 * (legacy contract section 6, as amended).  The list is formatted in
 * c->line too, so the result is formatted after it is appended. */
static void run_command_locked(struct chat *c, const char *text, size_t len)
{
	const struct command_env env = { recolor, c, rng_uniform, NULL };
	enum command_outcome outcome = command_run(text, len, &env, &c->result);
	if (outcome == COMMAND_REFUSED) {
		chat_tell(c, REFUSAL_COMMAND, c->result.data);
		return;
	}
	if (outcome == COMMAND_FAILED ||
	    (outcome == COMMAND_RESULT_USERLIST && chat_append_userlist(c) < 0) ||
	    format_result(&c->line, time(NULL), c->name,
	                  c->result.data, c->result.len) < 0 ||
	    chat_append(c) < 0)
		chat_refuse(c);
}

/* /color changes membership data, so commands run under the room lock. */
static void run_command(struct chat *c, const char *text, size_t len)
{
	if (!lock_room(c))
		return;
	run_command_locked(c, text, len);
	chat_unlock_room(c);
}

/* What the room log keeps of a whisper depends on WHISPER_LOG. */
static void log_whisper(struct chat *c, const char *target)
{
	int rc = 0;
	if (c->cfg->whisper_log == WHISPER_LOG_NOTICE)
		rc = format_whisper_notice(&c->line, time(NULL), c->name,
		                           target) < 0 ? -1 : chat_append(c);
	else if (c->cfg->whisper_log == WHISPER_LOG_FULL)
		rc = chat_append(c); /* the whisper line itself */
	if (rc < 0) {
		fprintf(stderr, "chat_server: a whisper of %s in %s was not "
		        "recorded: %s\n", c->name, c->room,
		        strerror(errno));
		chat_tell(c, REFUSAL_NOT_RECORDED, "whisper delivered, but not recorded in the room log");
	}
}

static void tell_undelivered(struct chat *c, const char *target)
{
	char message[PRESENCE_NAME_MAX + 96];
	bool slow = errno == EAGAIN;
	snprintf(message, sizeof message, "%s %s", target,
	         slow ? "is not keeping up; message not delivered"
	              : "has left the room; message not delivered");
	chat_tell(c, slow ? REFUSAL_SLOW_TARGET : REFUSAL_LEFT, message);
}

/* Waits at most ms for sock (a channel to a member's inbox) to take a
 * line, meanwhile taking in our own inbox (its owner may be waiting for us
 * just the same) as the loop does: only while the browser keeps up (else
 * poll would wake at once, again and again), and stdout while it has lines
 * waiting.
 * False when the time is up (errno EAGAIN). */
static bool wait_writable(struct chat *c, int sock, long ms)
{
	struct timespec start = elapsed_start();
	for (;;) {
		long left = ms - elapsed_ms(&start);
		struct pollfd p[3] = {
			{ sock, POLLOUT, 0 },
			{ output_has_room(&c->output)
			  ? transport_private_fd(&c->transport) : -1, POLLIN, 0 },
			{ output_pending(&c->output) ? c->output.fd : -1, POLLOUT, 0 },
		};
		if (left <= 0 || poll(p, 3, (int)left) < 0 ||
		    (p[1].revents && chat_read_inbox(c) < 0)) {
			errno = EAGAIN;
			return false;
		}
		output_flush(&c->output);
		if (p[0].revents)
			return true; /* room, or an error the send will tell */
	}
}

/* Hands c->line to sock, waiting at most ms while the member's queue is
 * full.  Returns 0, or -1 with errno (EAGAIN: it is not keeping up). */
static int hand_over(struct chat *c, int sock, long ms)
{
	struct timespec start = elapsed_start();
	int rc;
	while ((rc = transport_send(&c->transport, sock, c->line.data,
	                            c->line.len)) < 0 && errno == EAGAIN)
		if (!wait_writable(c, sock, ms - elapsed_ms(&start)))
			return -1;
	return rc;
}

/* Formats the private line of r into c->line: a whisper as typed,
 * signalling re-serialised.  False, the sender told why, when it is not
 * to be sent; *whisper says which it is. */
static bool format_private_line(struct chat *c, const char *msg, size_t len,
                                const struct route *r, enum routing how,
                                bool *whisper)
{
	enum signalling_kind kind = how == ROUTING_WHISPER ? SIGNALLING_NONE
	                            : signalling_check(r->text, r->text_len,
	                                               &c->relay);
	if (how == ROUTING_SIGNAL && kind == SIGNALLING_NONE)
		kind = SIGNALLING_MALFORMED; /* an object, but no offer, answer
		                                or candidate */
	if (kind == SIGNALLING_MALFORMED || kind == SIGNALLING_TOO_LARGE) {
		chat_tell(c, kind == SIGNALLING_TOO_LARGE ? REFUSAL_SIGNAL_TOO_LARGE
		                                       : REFUSAL_BAD_SIGNAL,
		          signalling_error_text(kind));
		return false;
	}
	*whisper = kind == SIGNALLING_NONE;
	if (*whisper && too_long(c, len))
		return false;
	int rc = *whisper
	         ? format_message(&c->line, time(NULL), c->name, msg, len)
	         : format_private(&c->line, time(NULL), c->name,
	                          r->target, c->relay.data, c->relay.len);
	buf_done(&c->relay, MESSAGE_KEEP);
	if (rc < 0) {
		tell_undelivered(c, r->target);
		return false;
	}
	return true;
}

/* A whisper the target took: the sender's own copy (unless it whispered
 * to itself: its inbox brought it), and the log as WHISPER_LOG says. */
static void whisper_taken(struct chat *c, const char *target)
{
	if (strcmp(target, c->name) != 0)
		chat_show(c, c->line.data, c->line.len, true);
	log_whisper(c, target);
}

/* Signalling goes to the target alone; a whisper to the target, back to
 * the sender, and to the log as WHISPER_LOG says (never the whisper line
 * itself here: see send_archived).  No lock is held, so the target may
 * take its time, up to PRIVATE_WAIT_MS. */
static void send_private(struct chat *c, const char *msg, size_t len,
                         const struct route *r, enum routing how)
{
	bool whisper;
	if (!format_private_line(c, msg, len, r, how, &whisper))
		return;
	int sock = transport_connect(&c->transport, r->member);
	if (sock < 0 || hand_over(c, sock, PRIVATE_WAIT_MS) < 0) {
		transport_hang_up(&c->transport, sock);
		tell_undelivered(c, r->target);
		return;
	}
	transport_hang_up(&c->transport, sock);
	if (whisper)
		whisper_taken(c, r->target);
}

static void reap_dead(struct chat *c)
{
	bool locked = transport_locked(&c->transport);
	if (!locked && chat_lock_room(c) < 0)
		return;
	if (chat_append_userlist(c) < 0)
		chat_refuse(c);
	if (!locked)
		chat_unlock_room(c);
}

/* Signalling is never published: to nobody present, it is refused. */
static bool stray_signalling(struct chat *c, const struct route *r)
{
	if (!r->target[0] || !signalling_is_attempt(r->text, r->text_len))
		return false;
	char message[PRESENCE_NAME_MAX + 64];
	snprintf(message, sizeof message, "signalling not sent: %s is not in "
	         "the room", r->target);
	chat_tell(c, REFUSAL_NOT_PRESENT, message);
	return true;
}

/* An ordinary message: to the room log, with the others of its read from
 * stdin (at once when the room lock is held). */
/* A message that starts with a space and a command's result sentence
 * would read as that result in the log (JSON clients see a command). */
static bool forges_result(struct chat *c, const char *msg, size_t len)
{
	struct event ev;
	if (len == 0 || msg[0] != ' ' ||
	    format_message(&c->line, time(NULL), c->name, msg, len) < 0)
		return false;
	event_parse(c->line.data, c->line.len - 1, false, &ev);
	if (ev.kind != EVENT_RESULT)
		return false;
	chat_tell(c, REFUSAL_MISLEADING, "message not sent: it would read as "
	          "the result of a command");
	return true;
}

static void publish(struct chat *c, const char *msg, size_t len,
                    const struct route *r)
{
	if (stray_signalling(c, r) || too_long(c, len) ||
	    forges_result(c, msg, len))
		return;
	if (format_message(&c->line, time(NULL), c->name, msg, len) < 0 ||
	    chat_append_soon(c) < 0)
		chat_refuse(c);
}

/* Bob died unseen (his file is still there, so the sender saw him
 * present): dropped like a whisper to one who just left, never published;
 * the room learns he is gone. */
static void drop_for_dead(struct chat *c, const char *target)
{
	errno = ESRCH;
	tell_undelivered(c, target);
	reap_dead(c);
}

/* Whether the target is here could not be known (the room is
 * unavailable): the line goes nowhere, and the sender is told why. */
static void refuse_unrouted(struct chat *c, const struct route *r)
{
	errno = r->error;
	chat_refuse(c);
}

/* A line that had to be private goes nowhere when its target is absent:
 * a JSON client addressed it, and its text is nobody else's. */
static void tell_absent(struct chat *c, const struct route *r)
{
	char message[PRESENCE_NAME_MAX + 64];
	snprintf(message, sizeof message, "%s is not in the room; message not "
	         "delivered", r->target);
	chat_tell(c, REFUSAL_NOT_PRESENT, message);
}

/* A line for the room, or one that reached an absent name. */
static void to_room(struct chat *c, const char *msg, size_t len,
                    const struct route *r, enum routing how)
{
	if (how == ROUTING_WHISPER || how == ROUTING_SIGNAL)
		tell_absent(c, r);
	else
		publish(c, msg, len, r);
}

static void send_routed(struct chat *c, const char *msg, size_t len,
                        enum routing how)
{
	struct route r;
	enum route_kind kind = route_message(msg, len, &c->transport, &r);
	if (kind != ROUTE_ROOM)
		chat_append_batch(c); /* what was said before goes first */
	switch (kind) {
	case ROUTE_PRIVATE:
		send_private(c, msg, len, &r, how);
		transport_drop_member(&c->transport, r.member);
		return;
	case ROUTE_GONE:
		drop_for_dead(c, r.target);
		return;
	case ROUTE_FAILED:
		refuse_unrouted(c, &r);
		return;
	case ROUTE_ROOM:
		to_room(c, msg, len, &r, how);
		return;
	}
}

/* A whisper waiting for its target, with the room lock let go. */
struct pending {
	int sock;      /* a channel to the target's inbox */
	int member;    /* the target, pinned */
	bool whisper;  /* not signalling */
	char target[PRESENCE_NAME_MAX + 1];
};

/* Hands the private line of r to its target if it takes it at once, and
 * then logs it.  True when the target's queue is full: *p then holds the
 * connection to it, to wait on. */
static bool try_private_now(struct chat *c, const char *msg, size_t len,
                            const struct route *r, enum routing how,
                            struct pending *p)
{
	bool whisper;
	if (!format_private_line(c, msg, len, r, how, &whisper))
		return false;
	int sock = transport_connect(&c->transport, r->member);
	if (sock >= 0 &&
	    transport_send(&c->transport, sock, c->line.data, c->line.len) == 0) {
		transport_hang_up(&c->transport, sock);
		if (whisper)
			whisper_taken(c, r->target);
		return false;
	}
	if (sock >= 0 && errno == EAGAIN) {
		p->sock = sock;
		p->member = r->member;
		p->whisper = whisper;
		snprintf(p->target, sizeof p->target, "%s", r->target);
		return true;
	}
	transport_hang_up(&c->transport, sock);
	tell_undelivered(c, r->target);
	return false;
}

/* send_archived's first try, room lock held.  True when it must wait for
 * the target, as *p says. */
static bool archive_first(struct chat *c, const char *msg, size_t len,
                          enum routing how, struct pending *p)
{
	struct route r;
	enum route_kind kind = route_message(msg, len, &c->transport, &r);
	if (kind == ROUTE_ROOM) {
		to_room(c, msg, len, &r, how);
		return false;
	}
	chat_append_batch(c); /* what was said before goes first */
	if (kind == ROUTE_GONE) {
		drop_for_dead(c, r.target);
		return false;
	}
	if (kind == ROUTE_FAILED) {
		refuse_unrouted(c, &r);
		return false;
	}
	bool wait = try_private_now(c, msg, len, &r, how, p);
	if (!wait)
		transport_drop_member(&c->transport, r.member);
	return wait;
}

/* send_archived's second and last try, room lock held again, after the
 * target's queue had room.  Only to the same connection: one who joined
 * under the target's name meanwhile is someone else, and a whisper to one
 * who left is not published either. */
static void archive_again(struct chat *c, const char *msg, size_t len,
                          const struct pending *p)
{
	struct route r;
	enum route_kind kind = route_message(msg, len, &c->transport, &r);
	bool same = kind == ROUTE_PRIVATE &&
	            transport_same_member(&c->transport, r.member, p->member);
	if (kind == ROUTE_PRIVATE)
		transport_drop_member(&c->transport, r.member);
	if (kind == ROUTE_GONE) {
		drop_for_dead(c, p->target);
		return;
	}
	if (kind == ROUTE_FAILED) {
		refuse_unrouted(c, &r);
		return;
	}
	errno = ECONNREFUSED; /* "has left the room" */
	if (!same || transport_send(&c->transport, p->sock, c->line.data,
	                            c->line.len) < 0) {
		tell_undelivered(c, p->target);
		return;
	}
	if (p->whisper)
		whisper_taken(c, p->target);
}

/* WHISPER_LOG=full.  Followers tell a whisper from an ordinary line by the
 * membership the log shows before it (filter.h), so routing a whisper-
 * shaped line and appending it (as a message, or as the whisper's archive
 * copy) must not be split by a join or a quit: both happen under the room
 * lock.  But nothing waits under it, or one browser that stops reading
 * would stall every join, quit and whisper of the room: a whisper its
 * target cannot take at once is waited for (PRIVATE_WAIT_MS at most) with
 * the lock let go, then tried once more under it; a target still full
 * gets the sender "is not keeping up", and nothing is logged. */
static void send_archived(struct chat *c, const char *msg, size_t len,
                          enum routing how)
{
	struct pending p = { .sock = -1, .member = -1 };
	if (!lock_room(c))
		return;
	bool wait = archive_first(c, msg, len, how, &p);
	chat_unlock_room(c);
	if (!wait)
		return;
	if (!wait_writable(c, p.sock, PRIVATE_WAIT_MS)) {
		tell_undelivered(c, p.target);
	} else if (lock_room(c)) {
		archive_again(c, msg, len, &p);
		chat_unlock_room(c);
	}
	transport_hang_up(&c->transport, p.sock);
	transport_drop_member(&c->transport, p.member);
}

/* The lines a WHISPER_LOG=full follower may hide: the first word is
 * "<name>:" (filter.c), and the rest is no WebRTC signalling, which is
 * never logged, and so may be routed without the lock. */
static bool whisper_shaped(const char *msg, size_t len)
{
	const char *space = memchr(msg, ' ', len);
	size_t word = space ? (size_t)(space - msg) : len;
	if (word < 2 || msg[word - 1] != ':')
		return false;
	return !space || !signalling_is_attempt(space + 1, len - word - 1);
}

/* With WHISPER_LOG=full a line "Bob: ..." in the log is taken for an
 * archived whisper while Bob is present (filter.h): a JSON message of that
 * shape would be hidden from everybody.  Refused, so the sender knows. */
static bool hidden_as_whisper(struct chat *c, const char *msg, size_t len)
{
	struct route r;
	if (c->cfg->whisper_log != WHISPER_LOG_FULL || !whisper_shaped(msg, len))
		return false;
	enum route_kind kind = route_message(msg, len, &c->transport, &r);
	if (kind == ROUTE_ROOM || kind == ROUTE_FAILED)
		return false; /* failed: refused as the room's line it would be */
	transport_drop_member(&c->transport, r.member);
	chat_tell(c, REFUSAL_MISLEADING, "message not sent: it would be taken "
	          "for a whisper; send it as one");
	return true;
}

static void send_message(struct chat *c, const char *msg, size_t len,
                         enum routing how)
{
	if (how == ROUTING_ROOM) {
		struct route none = { .member = -1 };
		if (!hidden_as_whisper(c, msg, len))
			publish(c, msg, len, &none);
	} else if (c->cfg->whisper_log == WHISPER_LOG_FULL &&
	           (how == ROUTING_WHISPER || whisper_shaped(msg, len))) {
		send_archived(c, msg, len, how);
	} else {
		send_routed(c, msg, len, how);
	}
}

/* Charges the connection and its address (flood.h; with Redis, over every
 * host: limits_redis.h); false when the line is refused. */
static bool pay(struct chat *c, double cost)
{
	switch (c->cfg->transport == CONFIG_TRANSPORT_REDIS
	        ? limits_redis_line(&c->limits, &c->transport, cost)
	        : flood_charge(&c->flood, cost)) {
	case FLOOD_OK:
		return true;
	case FLOOD_REFUSE:
		chat_tell(c, REFUSAL_FLOOD, "message not sent: too many messages from your "
		             "address; slow down");
		return false;
	case FLOOD_KICK:
		chat_tell(c, REFUSAL_KICKED, "disconnected: far too many messages from your "
		             "address");
		c->ending = true;
		return false;
	}
	return true;
}

/* About a point a message, one more per KiB.  WebRTC signalling ("Bob:
 * {...}") comes in bursts of candidates and costs a quarter. */
static double line_cost(const struct request *rq, size_t raw_len)
{
	if (rq->kind == REQUEST_REFUSED)
		return 1.0 + (double)raw_len / 1024;
	const char *space = memchr(rq->text, ' ', rq->len);
	bool signalling = rq->kind != REQUEST_MESSAGE && space &&
	                  space > rq->text && space[-1] == ':' &&
	                  signalling_is_attempt(space + 1, rq->len -
	                                        (size_t)(space - rq->text) - 1);
	return signalling ? 0.25 + (double)raw_len / 16384
	                  : 1.0 + (double)raw_len / 1024;
}

void dispatch_too_long(struct chat *c)
{
	if (pay(c, 5.0))
		chat_tell(c, REFUSAL_TOO_LONG, "message not sent: it is too long");
}

/* What the decoder refused, in words. */
static const char *refusal_text(enum refusal r)
{
	switch (r) {
	case REFUSAL_BAD_UTF8:
		return "message not sent: it is not valid UTF-8 text";
	case REFUSAL_UNKNOWN_TYPE:
		return "request not understood: unknown type";
	case REFUSAL_NOT_PRESENT:
		return "message not delivered: nobody in the room has that name";
	default:
		return "request not understood: not a request of the protocol";
	}
}

/* Legacy lines that old browser clients would misread are refused at
 * the door, as ever.  A JSON client may say anything: its lines are kept
 * from legacy readers on the way out instead (encode.h). */
static bool guarded(struct chat *c, const struct request *rq)
{
	return c->encoder.proto == WIRE_LEGACY &&
	       misleads_old_clients(c, rq->text, rq->len);
}

void dispatch_line(struct chat *c, char *text, size_t len)
{
	struct request rq;
	decode_request(c->encoder.proto, text, len, &rq, &c->decoded);
	if (rq.kind != REQUEST_EMPTY && !pay(c, line_cost(&rq, len)))
		return;
	if (rq.kind != REQUEST_REFUSED && rq.kind != REQUEST_EMPTY &&
	    (guarded(c, &rq) || moderate_silenced(c, &rq)))
		return;
	switch (rq.kind) {
	case REQUEST_EMPTY:
		break;
	case REQUEST_REFUSED:
		chat_tell(c, rq.refusal, refusal_text(rq.refusal));
		break;
	case REQUEST_COMMAND:
		chat_append_batch(c); /* what was said before goes first */
		if (!too_long(c, rq.len) &&
		    !moderate_command(c, rq.text, rq.len))
			run_command(c, rq.text, rq.len);
		break;
	case REQUEST_TEXT:
		send_message(c, rq.text, rq.len, ROUTING_AUTO);
		break;
	case REQUEST_MESSAGE:
		send_message(c, rq.text, rq.len, ROUTING_ROOM);
		break;
	case REQUEST_PRIVATE:
		send_message(c, rq.text, rq.len, ROUTING_WHISPER);
		break;
	case REQUEST_SIGNAL:
		send_message(c, rq.text, rq.len, ROUTING_SIGNAL);
		break;
	}
	buf_done(&c->decoded, MESSAGE_KEEP);
}
