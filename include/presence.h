/* presence: who is in a room, as files users/<room>_<name> holding the
 * colour and a newline (the PHP room list reads them too).
 *
 * Liveness is a kernel fact, not a cleanup duty: each process holds a flock
 * on its own presence file for as long as it lives.  A file whose lock can be
 * taken belongs to a dead process; whoever lists the room removes it.  Names
 * are claimed, listed, recoloured and released under an exclusive flock on
 * users/.<room>.lock, so two joins can never get the same name and a lister
 * never removes a file that is being claimed.  A presence file is written
 * under a temporary name and linked into place, so no reader ever sees it
 * empty.
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
};

struct presence_list {
	struct presence_entry *v;
	size_t n;
	size_t cap;
};

/* Called with the open file of each dead member that a listing removes,
 * so its owner's other traces (its inbox) can go with it. */
typedef void (*presence_dead_fn)(void *ctx, int member_fd);

/* This process's own claim. */
struct presence {
	int dir_fd;   /* the users directory */
	int file_fd;  /* our presence file, flocked while we live; -1 if none */
	char room[ROOM_NAME_MAX + 1];
	char name[PRESENCE_NAME_MAX + 1]; /* the final name, numbered if needed */
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

/* Takes the room lock (blocking) and returns its descriptor, or -1. */
int presence_lock_room(int dir_fd, const char *room, mode_t mode);
void presence_unlock_room(int lock_fd);

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

#endif
