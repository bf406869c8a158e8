/* archive_presence: the members of a room in Redis, shown in users/ as the
 * file transport's members show themselves there (presence.h), for
 * `chat_server --archive` (archive.h).
 *
 * The PHP room list and "who is here" pages, `chat_server --reap` and the
 * old pages read users/<room>_<name>: a file per member, holding its colour
 * and a newline, and "verified" on a second line for a verified name,
 * flocked by a living owner.  With TRANSPORT=redis the members are every
 * host's, and their processes write no file; the archiver writes one per
 * member instead, with exactly those contents, and holds it open and
 * flocked for as long as the member is in Redis, so the pages count it
 * and a reaper takes it for alive.
 *
 * users/ holds presence files and nothing else, ever: a file is written
 * unnamed (O_TMPFILE), locked, and linked into place whole.  A colour or
 * verified change is rewritten in place, the new first line whole before
 * the old tail is cut.  A member gone from Redis has its file removed.
 *
 * A file already under a member's name whose lock nobody holds was left by
 * an archiver that was killed: it is replaced.  One whose lock is held
 * belongs to a living process (a chat process of TRANSPORT=files sharing
 * users/, a misconfiguration): it is left alone, and said once. */
#ifndef CHAT_ARCHIVE_PRESENCE_H
#define CHAT_ARCHIVE_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "presence.h"
#include "room.h"

struct archive_member {
	struct presence_entry e; /* what the file says */
	int fd;                  /* the file, flocked; -1: not ours */
};

/* The mirrored members of one room, in no particular order. */
struct archive_mirror {
	char room[ROOM_NAME_MAX + 1];
	struct archive_member *v;
	size_t n;
	size_t cap;
};

/* An empty mirror of room. */
void archive_mirror_init(struct archive_mirror *m, const char *room);

/* Makes users/ show live (the room's members now): files for the new,
 * rewritten for a changed colour or verified flag, removed for the gone. */
void archive_mirror_update(struct archive_mirror *m, int users_fd,
                           mode_t file_mode, const struct presence_list *live);

/* Removes every file of the mirror and frees it. */
void archive_mirror_clear(struct archive_mirror *m, int users_fd);

/* At start: removes the presence files in users/ whose lock nobody holds,
 * left by an archiver that was killed (with TRANSPORT=redis, no other
 * process writes users/).  Returns how many, or -1. */
int archive_mirror_sweep(int users_fd);

#endif
