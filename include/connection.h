/* connection: the state of one chat connection, and the few things every
 * part of it does: tell the browser, append to the room log, lock the room.
 *
 * chat.c runs the connection's life (join, loop, quit); dispatch.c acts on
 * what the client says.  Both work on this struct; chat_run owns it.  The
 * room itself (membership, log, private lines) is reached through the
 * connection's transport alone (transport.h). */
#ifndef CHAT_CONNECTION_H
#define CHAT_CONNECTION_H

#include <stdbool.h>
#include <time.h>

#include "admission.h"
#include "buf.h"
#include "chat.h"
#include "config.h"
#include "decode.h"
#include "encode.h"
#include "filter.h"
#include "flood.h"
#include "limits_redis.h"
#include "loop.h"
#include "moderation.h"
#include "refusal.h"
#include "room.h"
#include "stdin_reader.h"
#include "stdout_writer.h"
#include "transport.h"
/* A client line may carry a WebRTC session description, which runs to tens
 * of kilobytes. */
#define INPUT_LINE_MAX (64 * 1024 + 1024)
#define OUTPUT_LIMIT (2 * 1024 * 1024)
/* A buffer holding one message at a time keeps this much between
 * messages; one that grew for a long one (a WebRTC offer, a big room's
 * user list) gives the rest back. */
#define MESSAGE_KEEP (8 * 1024)
#define OUTPUT_LOW_WATER (512 * 1024)
#define QUIT_FLUSH_MS 50

struct chat {
	const struct chat_config *cfg;
	const struct chat_request *req;
	char room[ROOM_NAME_MAX + 1];
	char name[PRESENCE_NAME_MAX + 1]; /* ours, once claimed; "" before */
	struct room_transport transport; /* the room: transport.h */
	int log_fd, run_fd;
	int slot_fd;      /* our connection slot for our address, or -1 */
	char address[ADDRESS_MAX]; /* the client's address, "" if unknown */
	struct timespec log_looked; /* when polling (no room descriptor): the
	                               last look at the log */
	int signal_fd;
	int upkeep_fd;    /* the transport's upkeep (not ours to close), -1 */
	struct loop loop; /* what the connection waits for */
	bool log_behind;  /* the room log may have lines we have not read */
	bool following;   /* joined: room log lines may go to the browser */
	bool announced;   /* our join line is in the log */
	bool ending;      /* end the connection (flooding, a lost log) */
	bool gone;        /* the browser went away (stdin EOF) */
	struct flood flood;
	struct limits_redis limits; /* TRANSPORT=redis: flood and slots */
	struct filter filter;
	struct input input;
	struct output output;
	struct buf line;   /* the line being formatted */
	struct buf told;   /* an error line for the sender (chat_tell) */
	struct buf result; /* a command's result */
	struct buf relay;  /* signalling as it is passed on */
	struct buf received; /* a line from our inbox */
	struct buf batch;  /* room messages waiting to be appended together */
	struct encoder encoder; /* what the room says, in our protocol */
	struct buf encoded; /* a line encoded for the browser */
	struct buf decoded; /* what decoding a request had to build */
	bool history_done; /* the end of the history was told */
	/* moderation (moderate.h) */
	int moderation_fd;  /* MODERATION_DIR, or -1 */
	unsigned roles;     /* the identity's ROLE_* bits */
	bool verified;      /* the identity is vouched for */
	time_t muted_until; /* 0: not muted */
	char id_name[NAME_MAX_BYTES + 1]; /* the name bans and mutes name
	                                     (ours may have a number added) */
	char topic[MOD_TEXT_MAX + 1]; /* the room's topic at our join */
};

/* Room messages that came in one read from stdin (a paste, a burst) are
 * appended with one open, lock and write; at most this much at once. */
#define APPEND_BATCH_MAX (64 * 1024)

/* Tells the sender alone why something was refused (an error line in
 * its protocol, with the refusal's code); nothing is logged. */
void chat_tell(struct chat *c, enum refusal why, const char *message);

/* Sends a line of the log or of our inbox to the browser, in its
 * protocol.  Returns 0 or -1 (the output queue is full). */
int chat_show(struct chat *c, const char *line, size_t len,
              bool private_line);

/* Tells the sender that what it sent was not taken; why (errno) goes to
 * stderr only. */
void chat_refuse(struct chat *c);

/* A problem that ends the connection before it joined: what, to the
 * browser (with the code r) and stderr; why (details such as strerror or
 * paths, may be NULL), to stderr only.  Returns 1, the exit status. */
int chat_fail(struct chat *c, enum refusal r, const char *what,
              const char *why);

/* Appends c->line to the room log.  Returns 0 or -1. */
int chat_append(struct chat *c);

/* Appends c->line to the room log with the other messages of the same
 * read from stdin, at the latest when chat_append_batch is called; right
 * away under the room lock, whose holder needs the line in the log now.
 * Returns 0 or -1. */
int chat_append_soon(struct chat *c);

/* Appends the waiting messages.  Call it before acting on anything that
 * is not a room message, and after each read from stdin.  A message that
 * cannot be appended is refused to the sender, one by one, as if each had
 * been appended alone. */
void chat_append_batch(struct chat *c);

/* Joins, quits and colour changes run whole under the room lock, together
 * with the log lines they write: the log then tells the membership in the
 * order it changed, and its last user list is always the truth. */
int chat_lock_room(struct chat *c);
void chat_unlock_room(struct chat *c);

/* What the connection's transport is opened with (transport.h): while an
 * append waits out a rotation, c keeps reading the room; when the
 * transport hears of new lines, c reads them at its next turn. */
struct transport_hooks chat_transport_hooks(struct chat *c);

/* Delivers what the room log has that we have not shown yet, as far as
 * the browser keeps up.  Returns false when the log cannot be followed. */
bool chat_catch_up(struct chat *c);

/* Moves lines waiting in our inbox to the browser, as far as there is
 * room.  Returns 0 or -1. */
int chat_read_inbox(struct chat *c);

/* Lists the room's live members, removing what the dead left and logging
 * the quit they could not (reap.h).  Needs the room lock.  Returns how
 * many quits it so logged (a user list is due then), or -1; free the
 * listing with chat_free_listing. */
int chat_list_room(struct chat *c, struct presence_list *members);
void chat_free_listing(struct presence_list *members);

/* Appends the user list line of members.  Needs the room lock. */
int chat_append_members(struct chat *c, const struct presence_list *members);

/* Lists the room and appends its user list.  Needs the room lock. */
int chat_append_userlist(struct chat *c);

#endif
