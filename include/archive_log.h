/* archive_log: one room's stream written into its log, for
 * `chat_server --archive` (archive.h).
 *
 * Each entry's line ("l") goes to rooms/<room>.log with its '\n', in stream
 * order, through append.h (one write per batch, under the log's flock,
 * holding back while logrotate's prerotate pauses appends), and after each
 * batch the record of archive_state.h goes to RUN_DIR/archive/<room>,
 * written whole under a temporary name and renamed into place, so a
 * record is always one whole record.
 *
 * Resuming (archive_log_resume) reads the record and the log:
 *
 *   - a record and the same log, longer: the lines past the recorded size
 *     that are, one by one, the entries after the recorded ID were written
 *     before a kill took the record, and those entries are skipped rather
 *     than written twice;
 *   - a record, and the stream trimmed past it (its first entry is after
 *     the recorded ID): what is there is archived, and one warning says
 *     that lines were lost (REDIS_STREAM_MAX too small, or the archiver
 *     down too long);
 *   - no record (the run directory is a tmpfs, emptied at boot) and a log
 *     with lines: the stream is searched for the log's last line, and
 *     archiving goes on after the last entry that has it; a log whose last
 *     line is not in the stream (older than the stream, or written by the
 *     file transport) gets the whole stream after it;
 *   - no record and no log: the whole stream.
 *
 * An entry whose line is not one line (archive_line_ok) is skipped with a
 * warning, never written, and counts as archived. */
#ifndef CHAT_ARCHIVE_LOG_H
#define CHAT_ARCHIVE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "archive_state.h"
#include "redis_room.h"
#include "room.h"

struct redisReply;

/* Where the logs and the records are. */
struct archive_dirs {
	int rooms_fd;     /* rooms/ */
	int state_fd;     /* RUN_DIR/archive */
	mode_t file_mode; /* FILE_MODE, for a log created */
};

struct archive_log {
	char room[ROOM_NAME_MAX + 1];
	char log_name[ROOM_NAME_MAX + 5]; /* "<room>.log" */
	struct stream_id last; /* read on from after this entry */
	size_t skip;     /* entries after last already in the log */
	bool resumed;    /* last and skip are known (archive_log_resume) */
	bool log_seen;   /* the log existed: a missing one is being rotated */
	bool failing;    /* the last append failed, and it was said */
};

/* A room not yet resumed. */
void archive_log_init(struct archive_log *l, const char *room);

/* Finds where to go on from, as said above (src/archive_resume.c); r is
 * the room's.  0, or -1
 * with r->err when Redis failed (the link may be broken). */
int archive_log_resume(struct archive_log *l, struct redis_room *r,
                       const struct archive_dirs *d);

/* Called once lines are in the log and before the record says so, when
 * they hold a user list (a change of membership ends in one): what must
 * be true on this host by the time a reader of the record sees the lines
 * (users/ showing the membership they tell). */
typedef void (*archive_written_fn)(void *ctx);

/* Archives entries, the array of [id, [field, value, ...]] that XREAD
 * or XRANGE gave for this room, calls written (if not NULL) when some
 * went in, and records how far it got.  What could not be written (the
 * disk is full) stays after l->last, to be read again. */
void archive_log_entries(struct archive_log *l, const struct archive_dirs *d,
                         const struct redisReply *entries,
                         archive_written_fn written, void *ctx);

/* The log's inode and size now, in st; false when there is none (or it
 * is no regular file). */
bool archive_log_stat(const struct archive_log *l,
                      const struct archive_dirs *d, struct stat *st);

/* Sends argv (NUL-terminated strings) on r's link.  Returns the reply,
 * or NULL with r->err for no reply or an error reply (both released). */
struct redisReply *archive_command(struct redis_room *r, int argc,
                                   const char *const argv[]);

/* Where a reply's entry keeps its ID and line: false for an entry of
 * another shape; *line is NULL when it has no field "l". */
bool archive_entry(const struct redisReply *e, struct stream_id *id,
                   const char **line, size_t *len);

#endif
