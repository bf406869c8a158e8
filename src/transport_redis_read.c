#include "transport_redis_conn.h"

#include <errno.h>
#include <string.h>

#include <hiredis/hiredis.h>

/* ---- the room's lines ---- */

int redis_tr_follow(void *st, bool report_skips)
{
	struct redis_tr *r = st;
	r->report_skips = report_skips;
	return redis_stream_last_id(&r->room, &r->room_pos);
}

size_t redis_tr_append(void *st, const char *data, size_t len,
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
		redis_tr_say(r, "cannot append to the room");
		redis_tr_down(r);
		errno = ENOTCONN;
	}
	return stored;
}

bool redis_tr_paused(void *st)
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
	bool spent; /* the budget is: a page of the stream is left part read */
};

/* Whether line is the quit of our own name: a lister counted us dead
 * (our host's archiver was silent too long, or Redis could not hear from
 * us), and we are not. */
static bool our_quit(const struct redis_tr *r, const char *line, size_t len)
{
	static const char mid[] = " quit the ";
	const char *p = memchr(line, ']', len);
	if (!p || (size_t)(p - line) + 2 > len || p[1] != ' ')
		return false;
	p += 2;
	size_t rest = len - (size_t)(p - line);
	if (rest > 0 && p[rest - 1] == '\n')
		rest--;
	size_t n = strlen(r->name), m = sizeof mid - 1;
	size_t k = strlen(r->room_name);
	return rest == n + m + k && memcmp(p, r->name, n) == 0 &&
	       memcmp(p + n, mid, m) == 0 &&
	       memcmp(p + n + m, r->room_name, k) == 0;
}

static int hand_line(void *ctx, const struct stream_id *id,
                     const char *line, size_t len)
{
	struct handing *h = ctx;
	int rc = 0;
	/* Our heartbeat, at once, says whether we are still in: it takes
	 * the name again when it is free (and says so in the room). */
	if (h->r->claimed && our_quit(h->r, line, len))
		redis_tr_beat_soon(h->r);
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
	/* A page of the stream holds READ_COUNT lines of any length: the
	 * rest of it waits for the next read, which takes the page again
	 * from here, so that a slow browser's queue never takes a page of
	 * long lines (a big room's user lists) at once. */
	h->spent = h->handed >= h->max_bytes;
	return h->stopped || h->spent;
}

/* The rewind asked for, done: back to just before the nth last line up
 * to the one it was asked at, never forward past a line not read yet.
 * 0 or -1. */
static int settle_rewind(struct redis_tr *r)
{
	struct stream_id first;
	if (r->rewind_n == 0)
		return 0;
	bool to_end = r->rewind_upto.ms == 0 && r->rewind_upto.seq == 0;
	int rc = redis_stream_nth_last_id(&r->room,
	                                  to_end ? NULL : &r->rewind_upto,
	                                  r->rewind_n, &first);
	if (rc < 0)
		return -1;
	r->rewind_n = 0;
	struct stream_id before = rc == 0 ? (struct stream_id){ 0, 0 }
	                                  : stream_id_before(&first);
	if (stream_id_cmp(&before, &r->room_pos) < 0)
		r->room_pos = before;
	return 0;
}

int redis_tr_read(void *st, size_t max_bytes, transport_line_fn fn,
                      void *ctx)
{
	struct redis_tr *r = st;
	struct handing h = { r, fn, ctx, max_bytes, 0, 0, false };
	if (r->evicted) {
		errno = ECONNRESET;
		return -1;
	}
	if (r->down)
		return 0; /* what is written meanwhile is read when it is back */
	if (settle_rewind(r) < 0) {
		redis_tr_down(r);
		return 0;
	}
	/* What the channel brought, in order, each line with its '\n' as
	 * the log holds it; each one let go once handed. */
	while (r->queue_head < r->queue_n && h.handed < max_bytes &&
	       !h.stopped && !(r->private_first && r->before_private == 0)) {
		struct pushed *p = &r->queue[r->queue_head];
		if (r->private_first)
			r->before_private--;
		hand_line(&h, &p->id, p->line, p->len);
		redis_link_reply_free(r->reader, p->reply);
		if (++r->queue_head == r->queue_n)
			r->queue_head = r->queue_n = 0;
	}
	if (h.stopped)
		return -1;
	if (r->queue_head < r->queue_n)
		return 1; /* the budget is spent: the rest later */
	while (r->room_behind && h.handed < max_bytes) {
		int n = redis_stream_range(&r->room, NULL, &r->room_pos,
		                           READ_COUNT, hand_line, &h);
		if (h.stopped)
			return -1;
		if (n < 0) {
			redis_tr_down(r);
			return 0;
		}
		if (n < READ_COUNT && !h.spent) {
			r->room_behind = false; /* the channel takes over */
			redis_tr_rest_writer(r);
		}
	}
	return r->room_behind ? 1 : 0;
}

int redis_tr_rewind(void *st, size_t n)
{
	struct redis_tr *r = st;
	if (n == 0)
		return 0; /* no history: from where we follow, as we are */
	/* What is queued comes again, in its place.  The lines up to our
	 * last one (the join's user list) are fixed: which of them are the
	 * last n can be asked once the room lock is free.  Under it, every
	 * round trip waits behind the members our user list just woke. */
	redis_tr_drop_queue(r);
	r->room_behind = true;
	r->rewind_n = n;
	r->rewind_upto = r->room.appended;
	return 0;
}

int redis_tr_mark_history(void *st)
{
	struct redis_tr *r = st;
	/* The join is done: the writer rests once the history and the
	 * private stream are read, unless the member speaks first. */
	r->errand = true;
	/* The history ends with our own last line, the join's user list. */
	if (r->room.appended.ms != 0 || r->room.appended.seq != 0) {
		r->history_end = r->room.appended;
		return 0;
	}
	return redis_stream_last_id(&r->room, &r->history_end);
}

bool redis_tr_past_history(void *st)
{
	const struct redis_tr *r = st;
	return stream_id_cmp(&r->room_pos, &r->history_end) >= 0;
}

int redis_tr_look_back(void *st, size_t max_bytes, transport_line_fn fn,
                           void *ctx)
{
	struct redis_tr *r = st;
	if (settle_rewind(r) < 0)
		return -1;
	return redis_stream_look_back(&r->room, &r->room_pos, max_bytes, fn, ctx);
}
