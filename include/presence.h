/* presence: who is in a room, as files users/<room>_<name> holding the
 * colour and a newline (the PHP room list reads them too), and for a
 * member whose name the site vouches for (a token or OpenSSO: identity.h)
 * a second line, "verified".
 *
 * A verified name is reserved: while a verified member is in the room, a
 * member who is not verified never gets its name, nor its base name with
 * a number after it (a verified "Alice1" keeps "Alice" from the others);
 * they are numbered after the highest number in use instead.  A verified
 * member is numbered only like everyone, when the name is taken: a member
 * already in the room is never renamed, so a verified joiner may be
 * "Alice1" beside an unverified "Alice" who came first, shown verified
 * (docs/identity.md).
 *
 * Liveness is a kernel fact, not a cleanup duty: each process holds a flock
 * on its own presence file for as long as it lives.  A file whose lock can be
 * taken belongs to a dead process; whoever lists the room removes it (and
 * is told, to log the quit the dead member could not).  Names are claimed,
 * listed, recoloured and released under an exclusive flock on the room
 * lock, <room>.lock in the run directory, so two joins can never get the
 * same name and a lister never removes a file that is being claimed.
 *
 * users/ holds presence files and nothing else, ever, not even for a
 * moment: the old PHP room list takes every name in it for a room and a
 * member.  So a presence file is written unnamed (O_TMPFILE) and linked
 * into place whole.  The owner keeps it open for writing while it lives:
 * its close, at exit or at death, is an inotify IN_CLOSE_WRITE on the
 * file's name in users/, which the warden (warden.h) watches.
 *
 * Every function that reads or changes membership expects the caller to
 * hold the room lock: a join, a quit or a colour change is one locked
 * sequence together with the log lines it writes, so the log tells the
 * membership in the order it changed. */
#ifndef CHAT_PRESENCE_H
#define CHAT_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "color.h"
#include "identity.h"
#include "room.h"

/* A claimed name may carry a number after the cleaned base name. */
#define PRESENCE_NAME_MAX (NAME_MAX_BYTES + 20)

struct presence_entry {
	char name[PRESENCE_NAME_MAX + 1];
	char color[COLOR_MAX + 1];
	bool verified; /* the file's second line is "verified" */
};

struct presence_list {
	struct presence_entry *v;
	size_t n;
	size_t cap;
};

/* Called, room lock held, with the open file and the name of each dead
 * member that a listing removes, so that its quit can be logged and its
 * other traces (its inbox) go with it. */
typedef void (*presence_dead_fn)(void *ctx, int member_fd, const char *name);

/* This process's own claim. */
struct presence {
	int dir_fd;   /* the users directory */
	int file_fd;  /* our presence file, flocked while we live; -1 if none */
	char room[ROOM_NAME_MAX + 1];
	char name[PRESENCE_NAME_MAX + 1]; /* the final name, numbered if needed */
	bool verified; /* claimed as a verified name */
};

/* Opens the users directory (created with dir_mode if missing).  Returns the
 * descriptor or -1. */
int presence_open_dir(const char *users_dir, mode_t dir_mode);

/* Claims a name in room for base_name: base_name itself when free, else
 * base_name followed by one more than the highest number in use.  p->name
 * gets the final name.  Returns 0 or -1 (errno set). */
int presence_claim(struct presence *p, int dir_fd, mode_t file_mode,
                   const char *room, const char *base_name, const char *color);

/* presence_claim for a caller that has just listed the room under the
 * same lock (for MAX_ROOM_USERS, and for the user list it writes next):
 * members is that listing, and gets the claimed entry in its place, so the
 * room is listed once per join. */
int presence_claim_listed(struct presence *p, int dir_fd, mode_t file_mode,
                          const char *room, const char *base_name,
                          const char *color, struct presence_list *members);

/* presence_claim_listed for a verified identity when verified is true:
 * the file gets the "verified" line, and the name is reserved. */
int presence_claim_listed_as(struct presence *p, int dir_fd, mode_t file_mode,
                             const char *room, const char *base_name,
                             const char *color, bool verified,
                             struct presence_list *members);

/* 1 when the member name[0..len) of room is present with a verified name,
 * 0 when not (or not present), -1 on error.  One open and one read of its
 * presence file; no lock needed. */
int presence_member_verified(int dir_fd, const char *room, const char *name,
                             size_t len);

/* A room lock is held for a join, a quit, a colour change or one archived
 * whisper: milliseconds, or up to a rotation pause (APPEND_PAUSE_WAIT_MS)
 * when one falls in.  Waiting longer means something is stuck. */
#define PRESENCE_LOCK_WAIT_MS 10000

/* Takes the room lock, <room>.lock in lock_dir_fd (the run directory),
 * waiting at most PRESENCE_LOCK_WAIT_MS, and returns its descriptor, or -1
 * (errno ETIMEDOUT when it waited that long). */
int presence_lock_room(int lock_dir_fd, const char *room);

/* presence_lock_room, waiting at most wait_ms. */
int presence_lock_room_within(int lock_dir_fd, const char *room,
                              long wait_ms);
void presence_unlock_room(int lock_fd);

/* Removes the lock files in lock_dir_fd that nobody holds (rooms not in
 * use), each under its own exclusive lock, so a locker that opened it just
 * before sees it gone and opens the new one.  Returns how many, or -1. */
int presence_collect_locks(int lock_dir_fd);

/* The room of a presence file name ("lobby_Ann" -> "lobby"), into room
 * (ROOM_NAME_MAX + 1 bytes).  False for a name no claim makes. */
bool presence_room_of(const char *file, char *room);

/* 1 when file in dir_fd is a presence file whose owner is dead, 0 when it
 * is alive, gone or no presence file, -1 on error. */
int presence_file_is_dead(int dir_fd, const char *file);

/* Lists the live members of room in name order (strcoll), removing the files
 * of dead processes.  out is emptied first.  Returns 0 or -1. */
int presence_list(int dir_fd, const char *room, struct presence_list *out);

/* presence_list, calling on_dead(ctx, fd) for each dead member removed. */
int presence_list_reaping(int dir_fd, const char *room,
                          struct presence_list *out, presence_dead_fn on_dead,
                          void *ctx);

/* True when name could be a member's name: what a claim can produce. */
bool presence_name_is_valid(const char *name);

/* Opens the presence file of name in room when its owner is alive (no lock
 * needed).  The descriptor pins the file: while it is open the file's
 * inode, which names the member's inbox, cannot be reused by anyone.
 * Returns it, or -1 with errno ENOENT (no such member) or ESRCH (a file
 * left by a dead member, removed at the next listing). */
int presence_open_member(int dir_fd, const char *room, const char *name);

/* Replaces our colour.  Returns 0 or -1. */
int presence_set_color(struct presence *p, const char *color);

/* Removes our presence file and drops the lock.  Safe to call twice. */
void presence_release(struct presence *p);

void presence_list_free(struct presence_list *l);

/* Adds e at the end of l.  0 or -1 (no memory). */
int presence_list_push(struct presence_list *l, const struct presence_entry *e);
/* Puts l in the order of user lists (LC_COLLATE, then bytes). */
void presence_list_sort(struct presence_list *l);

/* The number to try first after base for a new member of l: 0 for base
 * itself, else one more than the highest in use (verified names reserved,
 * as above).  A transport claims base<N> from there on. */
unsigned long presence_first_number(const struct presence_list *l,
                                    const char *base, bool verified);

/* A presence file's text: the colour line, and "verified" for a verified
 * name (text: PRESENCE_TEXT_MAX + 1 bytes).  Returns its length. */
#define PRESENCE_VERIFIED_LINE "verified\n"
#define PRESENCE_TEXT_MAX (COLOR_MAX + sizeof PRESENCE_VERIFIED_LINE + 1)
int presence_text(char *text, const char *color, bool verified);

#endif
