/* reap: what a member who died can no longer do for itself.
 *
 * A member killed with SIGKILL (the OOM killer, websocketd's escalation in
 * a storm of disconnects) leaves its presence file, its inbox and no quit
 * line.  Whoever lists the room under the room lock finds the file dead
 * (presence.h) and calls reap_member, which logs the quit in the dead
 * member's place and removes its inbox; the lister then writes the user
 * list it was writing anyway.  The warden (warden.h) lists a room for no
 * other reason when it hears a member's file closed.
 *
 * Exactly one quit line per member, however it went: a member may have been
 * killed after its own quit line was appended but before its file was
 * removed.  The name was the dead member's alone from its claim until now,
 * so its quit is logged already exactly when the last "<name> joined the
 * <room>" or "<name> quit the <room>" line in the log is a quit.  The log
 * is searched back REAP_LOOK_BACK bytes for it; a name not found there
 * (the log was rotated meanwhile) gets its quit line. */
#ifndef CHAT_REAP_H
#define CHAT_REAP_H

#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"

#define REAP_LOOK_BACK (1024 * 1024)

struct reap {
	int rooms_fd;         /* the rooms directory */
	int run_fd;           /* the run directory: inboxes */
	const char *room;
	const char *log_name; /* "<room>.log" */
	mode_t file_mode;     /* for a log that must be created */
	int reaped;           /* dead members' files removed so far */
	struct buf line;      /* the quit line being written */
};

/* A presence_dead_fn: ctx is a struct reap. */
void reap_member(void *ctx, int member_fd, const char *name);

/* True when the log's last join or quit line of name is a quit. */
bool reap_quit_logged(int rooms_fd, const char *log_name, const char *room,
                      const char *name);

/* Lists room (taking its lock in run_fd), logging the quit of every dead
 * member, then a user list when the log's last one is not the room as it
 * is (a member died, or was killed between its quit line and its list).
 * Returns how many were reaped, or -1. */
int reap_room(int users_fd, int rooms_fd, int run_fd, const char *room,
              mode_t file_mode);

/* Told what reap_room returned for a room. */
typedef void (*reap_report_fn)(const char *room, int reaped);

/* reap_room for every room with a presence file in users_fd, telling
 * report (may be NULL) of each.  Returns how many members were reaped, or
 * -1 when a room could not be listed. */
int reap_all(int users_fd, int rooms_fd, int run_fd, mode_t file_mode,
             reap_report_fn report);

#endif
