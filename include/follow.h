/* follow: reading a log as it grows, the way `tail -F` does, but exact.
 *
 * A follower hands every complete line appended to the file to a callback,
 * once.  It survives the two ways logs are rotated while open:
 *  - copytruncate: the file shrinks in place.  A follower cannot rely on the
 *    size alone (writers may have grown it past the old offset again), so it
 *    keeps the last bytes before its offset and re-reads them; if they
 *    changed, the file was truncated and it starts again from 0.
 *  - create mode: the file is renamed and a new one appears under the name.
 *    The follower drains the old file to its end, then opens the new one.
 * The follower does not wait by itself: its owner calls follower_update when
 * inotify (or, without inotify, a timer) says something may have changed. */
#ifndef CHAT_FOLLOW_H
#define CHAT_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define FOLLOW_TAIL 32                /* bytes kept to detect truncation */
#define FOLLOW_LINE_MAX (256 * 1024)  /* longer log lines are skipped */
#define FOLLOW_NAME_MAX 256

/* Called with one complete line, '\n' included.  Return 0 to go on.  With
 * report_skips set, also called with line NULL (len 0) where a line longer
 * than FOLLOW_LINE_MAX went by unread. */
typedef int (*follow_line_fn)(void *ctx, const char *line, size_t len);

struct follower {
	int dir_fd;                 /* directory of the file (not owned) */
	char name[FOLLOW_NAME_MAX]; /* file name inside dir_fd */
	int fd;                     /* open file, -1 while it does not exist */
	dev_t dev;
	ino_t ino;
	off_t offset;               /* bytes of fd consumed */
	unsigned char tail[FOLLOW_TAIL]; /* the tail_len bytes before offset */
	size_t tail_len;
	struct buf partial;         /* an incomplete last line */
	bool skipping;              /* discarding an over-long line */
	bool report_skips;          /* tell follow_line_fn of a skipped line */
	int inotify_fd;             /* -1 without inotify */
	int wd;                     /* watch on the open file, -1 if none */
	int dir_wd;                 /* watch for the name reappearing */
	bool recheck_name;          /* an event said the name may lead to
	                               another file now */
	unsigned long dir_changes;  /* directory events seen (creations,
	                               renames, removals; a lost event counts):
	                               while it stands still, no name in the
	                               directory has changed */
};

/* Opens name inside dir_fd (which must exist) and watches it with
 * inotify_fd (-1: none).  The follower starts at the end of the file; a
 * file that does not exist yet is waited for.  Returns 0, or -1 when the
 * file cannot be read or (errno ENOSPC) inotify has no watch left. */
int follower_open(struct follower *f, int dir_fd, const char *name,
                  int inotify_fd);

/* Moves the follower back to the start of the last n complete lines of the
 * file as it is now, so that the next updates deliver them (the history a
 * joining user sees) and then whatever follows.  If more than n lines were
 * appended since the follower last stood still, it goes back to where it
 * stood instead: no line appended since is skipped.  Returns 0 or -1. */
int follower_rewind_lines(struct follower *f, size_t n);

/* Hands fn the complete lines within the max_bytes before the follower's
 * position, oldest first, without moving it: context for a reader that
 * must know what came before the history it shows.  Returns 0 or -1. */
int follower_look_back(const struct follower *f, size_t max_bytes,
                       follow_line_fn fn, void *ctx);

/* Hands the follower what its inotify descriptor reported (the bytes one
 * read(2) returned).  With inotify, the follower looks up its file's name
 * again only when an event says the file was moved, deleted or replaced:
 * one system call less for every line.  Without inotify it always looks. */
void follower_notice(struct follower *f, const char *events, size_t len);

/* Delivers what was appended since the last call, at most about max_bytes
 * of it.  Returns 1 when more is waiting (call again), 0 when caught up, -1
 * on error or when fn asked to stop. */
int follower_update(struct follower *f, size_t max_bytes, follow_line_fn fn,
                    void *ctx);

void follower_close(struct follower *f);

#endif
