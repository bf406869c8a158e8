/* transport: what a connection needs from its room, whatever carries it.
 *
 * A room is a membership (who is present, with a colour, some names
 * verified), an ordered log of lines every member reads, and private lines
 * from one member to another.  The rest of the program (chat.c, dispatch.c,
 * route.c, moderate.c, the formats and the wire protocols) asks this
 * interface for those and never learns how they are kept: the one
 * implementation today is the files transport (transport_files.h: rooms/
 * logs followed with inotify, presence files in users/, a room lock and
 * datagram inboxes in the run directory); rooms shared across hosts
 * (issue #15) are to be a second one, behind the same operations.
 *
 * The contract every implementation keeps, because the program relies on
 * it:
 *  - Membership changes (claim, recolour, release) and the log lines that
 *    tell them run under the room lock, so the log tells the membership in
 *    the order it changed and its last user list is the truth.  A listing
 *    is taken under it too.
 *  - The log is one order for all members: a line appended is read by
 *    every member that follows the room, once, whole, in that order; the
 *    reader is told where a line too long to read went by (report_skips).
 *  - An append either stores whole lines or says (errno) why not; a batch
 *    stores a prefix of whole lines.
 *  - A private line goes to one live member's connection alone, whole, or
 *    the sender is told it did not (the member left, or is not keeping up).
 *    A member handle pins that connection: one who joins later under the
 *    same name is someone else.
 *
 * Descriptors: the loop (loop.h) sleeps on the descriptors the transport
 * names (room_fd, private_fd, upkeep), so a transport wakes the connection
 * through the kernel like everything else.  A transport without a room
 * descriptor is looked at every POLL_INTERVAL_MS instead.
 *
 * The ops take the implementation's state; the transport_* functions below
 * call them, so a call site reads as what it asks for. */
#ifndef CHAT_TRANSPORT_H
#define CHAT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "presence.h"

/* Longer log lines are skipped by the reader (and reported). */
#define TRANSPORT_LINE_MAX (256 * 1024)

/* A private line starting with this byte is an order to the addressee's
 * own process (moderation: moderate.h), never shown to its browser.  No
 * formatted line starts with it (they start with the clock's '['), and a
 * transport delivers it only from the chat itself, so a client cannot
 * forge one. */
#define TRANSPORT_CONTROL '\x01'

/* Called with one complete line, '\n' included; line NULL (len 0) where a
 * line too long to read went by (with report_skips).  Return 0 to go on. */
typedef int (*transport_line_fn)(void *ctx, const char *line, size_t len);

/* What the connection wants to hear of while the transport works for it. */
struct transport_hooks {
	/* An append waits (about every 10 ms) for the room to take lines
	 * again (a log rotation): the connection keeps reading meanwhile,
	 * since unread lines may be about to go. */
	void (*waiting)(void *ctx);
	/* The room may have new lines: read them (transport_read). */
	void (*woken)(void *ctx);
	/* The room became unavailable (down) or is available again: a
	 * transport that depends on a server tells the connection, which
	 * tells its browser.  May be NULL. */
	void (*unavailable)(void *ctx, bool down);
	/* Our membership had been taken from us (reaped as dead while the
	 * room's server could not hear from us, or lost with its data) and
	 * is ours again: the connection tells the room, as a join, since
	 * the others saw us quit.  May be NULL. */
	void (*rejoined)(void *ctx);
	/* The transport renewed our presence on its server (a heartbeat):
	 * what the connection keeps there beside it is renewed with it (the
	 * limits counted over all hosts, limits_redis.h).  May be NULL. */
	void (*beat)(void *ctx);
	void *ctx;
};

struct transport_ops {
	/* ---- membership ---- */

	/* The room lock: taken with a bounded wait (-1, errno ETIMEDOUT or
	 * EAGAIN when the room is busy; a room that stays locked is a
	 * fault).  locked: whether we hold it now. */
	int (*lock)(void *st);
	void (*unlock)(void *st);
	bool (*locked)(void *st);

	/* The live members in name order (out emptied first), room lock
	 * held.  The dead are removed from the room; with log_quits the quit
	 * they could not log is logged in their place (reap.h).  Returns
	 * how many quits were so logged (a user list is then due), or -1. */
	int (*list)(void *st, struct presence_list *out, bool log_quits);

	/* Claims a name for base_name (numbered when taken; a verified name is
	 * reserved: presence.h), with members the listing just taken under
	 * the same lock, which gets the new entry.  name (PRESENCE_NAME_MAX +
	 * 1 bytes) gets the final name.  0 or -1. */
	int (*claim)(void *st, const char *base_name, const char *color,
	             bool verified, struct presence_list *members, char *name);
	int (*recolor)(void *st, const char *color);   /* 0 or -1 */
	bool (*claimed)(void *st);                     /* a claim stands */
	void (*release)(void *st);                     /* safe twice */

	/* 1 when the member name[0..len) is present with a verified name, 0
	 * when not, -1 on error.  No lock needed. */
	int (*verified)(void *st, const char *name, size_t len);

	/* After the join, and whenever the descriptor it returned is ready:
	 * starts what the room needs running beside its members (the files
	 * transport: the warden, warden.h).  Returns a descriptor to watch, or
	 * -1.  Never fails the member. */
	int (*upkeep)(void *st);

	/* ---- the room's lines ---- */

	/* Starts reading the room at its end, with report_skips as above.
	 * 0 or -1. */
	int (*follow)(void *st, bool report_skips);

	/* Readable when the room may have new lines; -1: none (poll). */
	int (*room_fd)(void *st);

	/* room_fd is readable: takes in what it says (hooks.woken is called
	 * when there may be lines to read). */
	void (*notice)(void *st);

	/* Appends whole lines data[0..len) in one go; member: we are a member
	 * (our join line is in the log).  Returns the bytes stored: len, or a
	 * prefix of whole lines with errno saying why not the rest. */
	size_t (*append)(void *st, const char *data, size_t len, bool member);

	/* True while the room asks writers to wait (a rotation): lines not
	 * read soon may be lost, so read all the output queue can take. */
	bool (*paused)(void *st);

	/* Hands fn what was appended since the last call, about max_bytes at
	 * most.  1: more is waiting, 0: caught up, -1: error, or fn said
	 * stop. */
	int (*read)(void *st, size_t max_bytes, transport_line_fn fn,
	            void *ctx);

	/* Moves the reader back to the last n lines (the history a joining
	 * member is shown), never past a line it has not read.  0 or -1. */
	int (*rewind)(void *st, size_t n);

	/* Marks where the room stands now (after our join and user list): the
	 * lines before it are history.  0 or -1. */
	int (*mark_history)(void *st);

	/* True once the reader has passed the mark (or the log it marked was
	 * replaced: what is read then is new). */
	bool (*past_history)(void *st);

	/* Hands fn the whole lines within max_bytes before the reader's
	 * position, oldest first, without moving it.  0 or -1. */
	int (*look_back)(void *st, size_t max_bytes, transport_line_fn fn,
	                 void *ctx);

	/* ---- private lines ---- */

	/* Opens our own inbox, once claimed.  0 or -1. */
	int (*open_private)(void *st);
	/* Readable when a private line waits for us; -1 when none is open. */
	int (*private_fd)(void *st);
	/* The next private line into out (emptied first).  1 with a line, 0
	 * when none waits, -1 on error. */
	int (*receive)(void *st, struct buf *out);
	void (*close_private)(void *st);               /* safe twice */

	/* A handle on the live member name: it pins that connection.  -1
	 * with errno ENOENT (nobody of that name), ESRCH (a member who died
	 * without leaving: the next listing reaps it), or another when the
	 * room could not be asked (ENOTCONN: it is unavailable). */
	int (*find)(void *st, const char *name);
	bool (*same_member)(void *st, int a, int b);
	void (*drop_member)(void *st, int member);     /* -1: nothing */

	/* A channel to the member's inbox: a descriptor that polls writable
	 * (POLLOUT) when the member can take a line.  -1 with errno ENOENT or
	 * ECONNREFUSED when it is gone. */
	int (*connect)(void *st, int member);
	/* One line ('\n'-terminated) without waiting: 0, or -1 with errno
	 * EAGAIN (the member's queue is full: poll the channel, and keep
	 * reading our own inbox meanwhile), ECONNREFUSED, EMSGSIZE. */
	int (*send)(void *st, int channel, const char *line, size_t len);
	void (*hang_up)(void *st, int channel);  /* -1: nothing; errno kept */

	/* Releases everything (a standing claim is dropped without its lines:
	 * release it first, under the lock).  Safe on a failed open. */
	void (*close)(void *st);
};

struct room_transport {
	const struct transport_ops *ops; /* NULL: not open */
	void *st;
};

static inline bool transport_is_open(const struct room_transport *t)
{
	return t->ops != NULL;
}

/* ---- one call each, as the ops above say ---- */

static inline int transport_lock(struct room_transport *t)
{ return t->ops->lock(t->st); }
static inline void transport_unlock(struct room_transport *t)
{ t->ops->unlock(t->st); }
static inline bool transport_locked(const struct room_transport *t)
{ return t->ops->locked(t->st); }
static inline int transport_list(struct room_transport *t,
                                 struct presence_list *out, bool log_quits)
{ return t->ops->list(t->st, out, log_quits); }
static inline int transport_claim(struct room_transport *t,
                                  const char *base_name, const char *color,
                                  bool verified,
                                  struct presence_list *members, char *name)
{ return t->ops->claim(t->st, base_name, color, verified, members, name); }
static inline int transport_recolor(struct room_transport *t,
                                    const char *color)
{ return t->ops->recolor(t->st, color); }
static inline bool transport_claimed(const struct room_transport *t)
{ return t->ops->claimed(t->st); }
static inline void transport_release(struct room_transport *t)
{ t->ops->release(t->st); }
static inline int transport_verified(struct room_transport *t,
                                     const char *name, size_t len)
{ return t->ops->verified(t->st, name, len); }
static inline int transport_upkeep(struct room_transport *t)
{ return t->ops->upkeep(t->st); }

static inline int transport_follow(struct room_transport *t,
                                   bool report_skips)
{ return t->ops->follow(t->st, report_skips); }
static inline int transport_room_fd(const struct room_transport *t)
{ return t->ops->room_fd(t->st); }
static inline void transport_notice(struct room_transport *t)
{ t->ops->notice(t->st); }
static inline size_t transport_append(struct room_transport *t,
                                      const char *data, size_t len,
                                      bool member)
{ return t->ops->append(t->st, data, len, member); }
static inline bool transport_paused(struct room_transport *t)
{ return t->ops->paused(t->st); }
static inline int transport_read(struct room_transport *t, size_t max_bytes,
                                 transport_line_fn fn, void *ctx)
{ return t->ops->read(t->st, max_bytes, fn, ctx); }
static inline int transport_rewind(struct room_transport *t, size_t n)
{ return t->ops->rewind(t->st, n); }
static inline int transport_mark_history(struct room_transport *t)
{ return t->ops->mark_history(t->st); }
static inline bool transport_past_history(struct room_transport *t)
{ return t->ops->past_history(t->st); }
static inline int transport_look_back(struct room_transport *t,
                                      size_t max_bytes,
                                      transport_line_fn fn, void *ctx)
{ return t->ops->look_back(t->st, max_bytes, fn, ctx); }

static inline int transport_open_private(struct room_transport *t)
{ return t->ops->open_private(t->st); }
static inline int transport_private_fd(const struct room_transport *t)
{ return t->ops->private_fd(t->st); }
static inline int transport_receive(struct room_transport *t,
                                    struct buf *out)
{ return t->ops->receive(t->st, out); }
static inline void transport_close_private(struct room_transport *t)
{ t->ops->close_private(t->st); }
static inline int transport_find(struct room_transport *t, const char *name)
{ return t->ops->find(t->st, name); }
static inline bool transport_same_member(struct room_transport *t, int a,
                                         int b)
{ return t->ops->same_member(t->st, a, b); }
static inline void transport_drop_member(struct room_transport *t,
                                         int member)
{ t->ops->drop_member(t->st, member); }
static inline int transport_connect(struct room_transport *t, int member)
{ return t->ops->connect(t->st, member); }
static inline int transport_send(struct room_transport *t, int channel,
                                 const char *line, size_t len)
{ return t->ops->send(t->st, channel, line, len); }
static inline void transport_hang_up(struct room_transport *t, int channel)
{ t->ops->hang_up(t->st, channel); }

/* A listing is plain data, the same in every transport (presence.h's
 * type): freed alike. */
static inline void transport_free_listing(struct presence_list *l)
{ presence_list_free(l); }

/* Closes t (if open); it is not open afterwards. */
static inline void transport_close(struct room_transport *t)
{
	if (t->ops)
		t->ops->close(t->st);
	t->ops = NULL;
	t->st = NULL;
}

#endif
