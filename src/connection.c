#include "connection.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "limits_redis.h"
#include "moderate.h"

#define TRIM_AFTER_MEMBERS 64

void chat_tell(struct chat *c, enum refusal why, const char *message)
{
	/* Its own buffer: c->line may be a line being appended right now. */
	if (encode_error(&c->encoder, time(NULL), why, message, &c->told) == 0)
		output_push(&c->output, c->told.data, c->told.len);
}

/* Once the reader has passed what the room held at our join, the replayed
 * history is over: the JSON protocol says so, once (the legacy one has no
 * such line). */
static void end_history(struct chat *c)
{
	/* Asked at every line until then (the transport watches for a
	 * rotation meanwhile), never after. */
	if (c->history_done)
		return;
	bool past = transport_past_history(&c->transport);
	if (!c->following || !past)
		return;
	c->history_done = true;
	if (encode_history_end(&c->encoder, time(NULL), &c->encoded) == 0 &&
	    c->encoded.len)
		output_push(&c->output, c->encoded.data, c->encoded.len);
}

int chat_show(struct chat *c, const char *line, size_t len, bool private_line)
{
	const struct line_context ctx = {
		.now = time(NULL),
		.history = !private_line && !c->history_done,
		.private_line = private_line,
	};
	const char *data;
	size_t n;
	int rc = encode_line(&c->encoder, line, len, &ctx, &c->encoded, &data,
	                     &n);
	if (rc <= 0)
		return rc;
	rc = output_push(&c->output, data, n);
	buf_done(&c->encoded, MESSAGE_KEEP);
	return rc;
}

/* The browser learns what failed, never the details (strerror, paths):
 * they are the server log's. */
int chat_fail(struct chat *c, enum refusal r, const char *what,
              const char *why)
{
	fprintf(stderr, "chat_server: %s%s%s\n", what, why ? ": " : "",
	        why ? why : "");
	chat_tell(c, r, what);
	output_drain(&c->output, QUIT_FLUSH_MS);
	return 1;
}

/* Log lines go to the browser as they are, but for archived whispers.  A
 * line too long to read may have been a user list: the filter forgets
 * who is present until the next one. */
static int deliver(void *ctx, const char *line, size_t len)
{
	struct chat *c = ctx;
	if (!line) {
		filter_forget(&c->filter);
		return 0;
	}
	end_history(c); /* at the first line past it */
	if (!filter_pass(&c->filter, line, len))
		return 0;
	return chat_show(c, line, len, false);
}

/* How much of the log to read now.  While a rotation is paused the log is
 * about to be truncated: read all the queue can take, not just what a slow
 * browser is ready for, so the lines are not lost with the old content. */
static size_t read_budget(struct chat *c)
{
	if (output_has_room(&c->output))
		return OUTPUT_LOW_WATER;
	size_t queued = c->output.queue.len;
	if (!transport_paused(&c->transport) ||
	    queued + OUTPUT_LOW_WATER + TRANSPORT_LINE_MAX > OUTPUT_LIMIT)
		return 0;
	return OUTPUT_LIMIT - queued - TRANSPORT_LINE_MAX - 64 * 1024;
}

bool chat_catch_up(struct chat *c)
{
	size_t budget = c->log_behind ? read_budget(c) : 0;
	end_history(c);
	if (budget == 0)
		return true;
	int rc = transport_read(&c->transport, budget, deliver, c);
	if (rc < 0) {
		/* Told to the browser too: the connection ends here. */
		fprintf(stderr, "chat_server: cannot follow the log of %s: %s\n",
		        c->room, strerror(errno));
		chat_tell(c, REFUSAL_SERVER,
		          "cannot follow the room log; leaving the room");
		return false;
	}
	c->log_behind = rc == 1;
	end_history(c);
	return true;
}

/* While our append waits out a rotation, we keep reading the log and
 * writing to the browser: the log is about to be truncated. */
static void keep_following(void *ctx)
{
	struct chat *c = ctx;
	if (!c->following || c->ending)
		return; /* still joining (the welcome comes first), or leaving */
	c->log_behind = true;
	if (!chat_catch_up(c))
		c->ending = true;
	output_flush(&c->output);
}

/* The transport says the room may have lines for us. */
static void woken(void *ctx)
{
	struct chat *c = ctx;
	c->log_behind = true;
}

/* The room's server went away, or came back (transport_redis.h): the
 * browser hears of it once each way, as an error line with its code. */
static void unavailable(void *ctx, bool down)
{
	struct chat *c = ctx;
	if (down)
		chat_tell(c, REFUSAL_UNAVAILABLE, "the room is unavailable; your "
		          "messages are not delivered until it is back");
	else
		chat_tell(c, REFUSAL_AVAILABLE, "the room is available again");
	output_flush(&c->output);
}

/* Back in the room after being counted out (transport.h): the room saw
 * our quit, so it sees us join again, with a user list. */
static void rejoined(void *ctx)
{
	struct chat *c = ctx;
	if (!c->announced || c->ending)
		return;
	bool locked = transport_locked(&c->transport);
	if (!locked && chat_lock_room(c) < 0) {
		fprintf(stderr, "chat_server: %s is back in %s, but the room "
		        "could not be told: %s\n", c->name, c->room,
		        strerror(errno));
		return;
	}
	chat_append_batch(c); /* what was said before goes first */
	if (format_join(&c->line, time(NULL), c->room, c->name) < 0 ||
	    chat_append(c) < 0 || chat_append_userlist(c) < 0)
		fprintf(stderr, "chat_server: cannot tell %s that %s is back: "
		        "%s\n", c->room, c->name, strerror(errno));
	if (!locked)
		chat_unlock_room(c);
}

/* Our heartbeat (transport.h): our connection slot and flood state in
 * Redis are renewed with it, so that a silent connection still counts. */
static void beat(void *ctx)
{
	struct chat *c = ctx;
	limits_redis_renew(&c->limits, &c->transport);
}

struct transport_hooks chat_transport_hooks(struct chat *c)
{
	const struct transport_hooks h = {
		.waiting = keep_following, .woken = woken,
		.unavailable = unavailable, .rejoined = rejoined, .beat = beat,
		.ctx = c,
	};
	return h;
}

static size_t append_bytes(struct chat *c, const char *data, size_t len)
{
	return transport_append(&c->transport, data, len, c->announced);
}

int chat_append(struct chat *c)
{
	return append_bytes(c, c->line.data, c->line.len) == c->line.len ? 0 : -1;
}

int chat_append_soon(struct chat *c)
{
	if (!transport_locked(&c->transport)) {
		if (c->batch.len + c->line.len > APPEND_BATCH_MAX)
			chat_append_batch(c);
		if (buf_append(&c->batch, c->line.data, c->line.len) == 0)
			return 0;
	}
	chat_append_batch(c); /* what waits goes first */
	return chat_append(c);
}

/* What did not go in with the batch: each line on its own, so each tells
 * its sender whether it got in. */
static void append_one_by_one(struct chat *c, const char *p, const char *end)
{
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (append_bytes(c, p, n) != n)
			chat_refuse(c);
		p += n;
	}
}

void chat_append_batch(struct chat *c)
{
	if (c->batch.len == 0)
		return;
	size_t kept = append_bytes(c, c->batch.data, c->batch.len);
	append_one_by_one(c, c->batch.data + kept, c->batch.data + c->batch.len);
	buf_done(&c->batch, MESSAGE_KEEP);
}

int chat_lock_room(struct chat *c)
{
	return transport_lock(&c->transport);
}

void chat_unlock_room(struct chat *c)
{
	transport_unlock(&c->transport);
}

int chat_list_room(struct chat *c, struct presence_list *members)
{
	return transport_list(&c->transport, members, true);
}

void chat_free_listing(struct presence_list *members)
{
	bool big = members->cap > TRIM_AFTER_MEMBERS;
	transport_free_listing(members);
	/* The listing itself is pages of its own (grow.h), but what came
	 * with a big room's (the transport's reads, the user list's line)
	 * is among the largest a process allocates from its heap: hand those
	 * pages back (a small room's are not worth it). */
	if (big)
		malloc_trim(0);
}

int chat_append_members(struct chat *c, const struct presence_list *members)
{
	if (format_userlist(&c->line, time(NULL), members->v, members->n) < 0)
		return -1;
	int rc = chat_append(c);
	/* A big room's user list is the longest line we ever format: its
	 * buffer goes, rather than stay for the life of the connection. */
	buf_done(&c->line, MESSAGE_KEEP);
	return rc;
}

int chat_append_userlist(struct chat *c)
{
	struct presence_list members = { 0 };
	int rc = chat_list_room(c, &members);
	if (rc >= 0)
		rc = chat_append_members(c, &members);
	chat_free_listing(&members);
	return rc;
}

void chat_refuse(struct chat *c)
{
	if (errno == ENOTCONN) {
		chat_tell(c, REFUSAL_UNAVAILABLE, "message not sent: the room is "
		          "unavailable; try again when it is back");
		return;
	}
	fprintf(stderr, "chat_server: a line of %s in %s was not stored: %s\n",
	        c->name, c->room, strerror(errno));
	chat_tell(c, REFUSAL_NOT_STORED, "message not sent: the server could "
	             "not store it; try "
	             "again later");
}


int chat_read_inbox(struct chat *c)
{
	int rc = 0;
	while (output_has_room(&c->output) &&
	       (rc = transport_receive(&c->transport, &c->received)) == 1) {
		if (c->received.data[0] == TRANSPORT_CONTROL)
			moderate_control(c, c->received.data, c->received.len);
		else
			chat_show(c, c->received.data, c->received.len, true);
	}
	buf_done(&c->received, MESSAGE_KEEP); /* an offer is tens of KiB */
	return rc < 0 ? -1 : 0;
}
