/* archive_state: what `chat_server --archive` (archive.h) remembers of one
 * room between runs, and the arithmetic of resuming, apart from any I/O so
 * that it can be tested alone.
 *
 * After every batch of lines it appends to rooms/<room>.log, the archiver
 * records in RUN_DIR/archive/<room> one line:
 *
 *   <last id> <inode> <size>\n
 *
 * the ID of the last stream entry the batch covered ("<ms>-<seq>", as Redis
 * writes it), and the log's inode and size once the batch was in.  Killed
 * between a write and its record, it finds on restart the same log longer
 * than recorded: the lines past the recorded size are the entries after
 * the recorded ID, one line each, so counting them says how many entries
 * to skip.  A log shorter than recorded was truncated by logrotate's
 * copytruncate (the lines went to the rotated copy), and a log of another
 * inode was renamed away: either way, the entries after the recorded ID
 * are not in it, and none is skipped.  (The lines past the recorded size
 * are compared with the entries, not merely counted: a line that another
 * writer appended is never taken for an entry.) */
#ifndef CHAT_ARCHIVE_STATE_H
#define CHAT_ARCHIVE_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "stream_id.h"

/* A record: an ID, two numbers and the separators. */
#define ARCHIVE_RECORD_MAX (STREAM_ID_MAX + 2 * 21 + 1)

struct archive_record {
	struct stream_id last;  /* the last entry the log has */
	unsigned long long ino;  /* the log's inode then */
	unsigned long long size; /* its size then, in bytes */
};

/* Writes the record line (with its '\n') into out (ARCHIVE_RECORD_MAX + 1
 * bytes).  Returns its length. */
size_t archive_record_format(const struct archive_record *r,
                             char out[ARCHIVE_RECORD_MAX + 1]);

/* Parses a record file's text[0..len): exactly one record line.  False for
 * anything else (a record that cannot be read is no record). */
bool archive_record_parse(const char *text, size_t len,
                          struct archive_record *r);

/* How a restart finds the entries already in the log. */
enum archive_resume {
	ARCHIVE_RESUME_AT_RECORD, /* none past the recorded ID are in it */
	ARCHIVE_RESUME_COUNT,     /* the lines from r->size on may be entries
	                             after the recorded ID: compare them */
};

/* The plan for a log that exists (exists) with inode ino and size size. */
enum archive_resume archive_resume_plan(const struct archive_record *r,
                                        bool exists, unsigned long long ino,
                                        unsigned long long size);

/* Whether the log text[0..len) holds at *pos the whole line line[0..
 * line_len) and its '\n'; if so, *pos is moved past it.  A line the
 * archiver was cut off in the middle of (no '\n') is no entry's. */
bool archive_next_line_is(const char *text, size_t len, size_t *pos,
                          const char *line, size_t line_len);

/* Whether an entry's line[0..len) may go into a log as one line: not
 * empty, no '\n' (it would be two lines, and every count above would be
 * off by one) and no NUL (no line the chat writes has one). */
bool archive_line_ok(const char *line, size_t len);

/* Whether name[0..len), a member of the rooms set, is a room name the chat
 * makes (room.h): only such a name may become a file name. */
bool archive_room_name_ok(const char *name, size_t len);

#endif
