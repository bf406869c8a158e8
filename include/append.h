/* append: adding one line to a log that other processes read and write.
 *
 * The whole line goes out in a single write() on an O_APPEND descriptor,
 * under an exclusive flock on the log, so lines from any number of writers
 * never interleave, a short write (disk full) can be cut back exactly, and
 * a follower can wait for in-flight appends before it leaves a renamed log.
 * The file is opened relative to its directory (O_NOFOLLOW) and checked,
 * once locked, to still be the file under its name, so nothing is written
 * to a log that logrotate has renamed away; a writer that watches the
 * directory skips the checks while nothing changed (struct append_seen).
 *
 * Rotation by copytruncate loses lines appended between logrotate's copy
 * and its truncate.  To close that window, logrotate's prerotate script runs
 * `chat_server --pause-appends`, which creates APPEND_PAUSE_NAME in the
 * rooms directory, waits until every in-flight append is done, then gives
 * followers APPEND_PAUSE_GRACE_MS to read what is in the logs before
 * logrotate copies and truncates them (the marker wakes them); writers
 * that see the marker wait (at most APPEND_PAUSE_WAIT_MS) until postrotate's
 * `chat_server --resume-appends` removes it.  A marker older than
 * APPEND_PAUSE_STALE_S is ignored, so a rotation that died halfway cannot
 * stall the chat. */
#ifndef CHAT_APPEND_H
#define CHAT_APPEND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define APPEND_PAUSE_NAME ".rotating"
#define APPEND_PAUSE_WAIT_MS 5000
#define APPEND_PAUSE_STALE_S 60
#define APPEND_PAUSE_GRACE_MS 300
/* An append holds its log's lock for one write; a holder that keeps it
 * this long is stuck, and the line is refused (ETIMEDOUT). */
#define APPEND_LOCK_WAIT_MS 5000

/* Appends line[0..len) (which ends in '\n') to name inside dir_fd, creating
 * the file with mode.  A short write is undone so no partial line stays
 * behind.  Returns 0 or -1 with errno. */
int append_line(int dir_fd, const char *name, mode_t mode, const char *line,
                size_t len);

/* Called about every 10 ms while an append waits out a rotation, so the
 * writer can keep reading the log it is about to see truncated. */
typedef void (*append_wait_fn)(void *ctx);

/* Reports, with the append lock held, how many changes of names in the
 * log's directory the caller has seen so far (an inotify watch on the
 * directory: creations, renames, removals).  Returns false when the caller
 * cannot know (no inotify); then every line is checked. */
typedef bool (*append_changes_fn)(void *ctx, unsigned long *count);

/* What a writer that watches the log's directory remembers between lines.
 * A line normally costs a path lookup and three checks once the log is
 * open and locked: is it a regular file, is a rotation pausing appends, is
 * it still the file under the name?  All three can only change through a
 * name in the directory: logrotate renames or removes the log,
 * --pause-appends creates its marker.  So while the writer's count of
 * directory changes stands where it stood at the last full check, a line
 * costs the open, the lock, the write and the close.  The log is not kept
 * open between lines: a descriptor open for writing would stop an admin
 * from remounting the filesystem read-only. */
struct append_seen {
	bool valid;          /* a full check succeeded at count */
	unsigned long count; /* the caller's change count at that check */
};

struct append_options {
	append_wait_fn wait; /* called while waiting; may be NULL */
	void *ctx;           /* for wait and changes */
	/* The log existed before (we are a member of its room).  Then a
	 * missing log means logrotate (create mode) is between its rename
	 * and its create: wait for that, at most APPEND_RECREATE_WAIT_MS,
	 * instead of creating the file under its feet (logrotate would move
	 * ours aside, and the lines in it out of everyone's sight). */
	bool log_existed;
	struct append_seen *seen;  /* NULL, or kept by the caller across lines */
	append_changes_fn changes; /* with seen; NULL: check every line */
};

#define APPEND_RECREATE_WAIT_MS 100

/* append_line with options. */
int append_line_with(int dir_fd, const char *name, mode_t mode,
                     const char *line, size_t len,
                     const struct append_options *opt);

/* Appends several whole lines (data[0..len) ends in '\n') with one write.
 * Returns how many bytes went in: len, or fewer with errno saying why the
 * rest did not.  What went in is always whole lines: a short write keeps
 * the lines it completed, which followers may already have delivered, and
 * cuts back only the line it broke. */
size_t append_lines_with(int dir_fd, const char *name, mode_t mode,
                         const char *data, size_t len,
                         const struct append_options *opt);

/* --pause-appends: creates the marker in dir_fd, then waits until no
 * append to any "*.log" there is in flight.  Returns 0 or -1. */
int append_pause(int dir_fd, mode_t mode);

/* True while a rotation asks writers to wait (a fresh marker exists). */
bool append_paused(int dir_fd);

/* --resume-appends: removes the marker.  Returns 0 or -1. */
int append_resume(int dir_fd);

#endif
