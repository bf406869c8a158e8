#include "archive_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "archive.h"
#include "buf.h"
#include "dirs.h"

/* archive_log_resume: where a room's archiving goes on from (see
 * archive_log.h), apart from the archiving itself. */

/* Lines counted or searched are read this many bytes at a time. */
#define READ_CHUNK (64 * 1024)
/* The stream is searched for the log's last line this many entries a
 * command. */
#define SCAN_COUNT "1000"
/* The most of a log's tail compared with the entries after the record:
 * one batch of long lines. */
#define TAIL_MAX (ARCHIVE_READ_COUNT * 16 * 1024)

static bool read_record(int state_fd, const char *room,
                        struct archive_record *rec)
{
	char text[ARCHIVE_RECORD_MAX + 1];
	int fd = dirs_open_file(state_fd, room, O_RDONLY, 0, NULL);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, text, sizeof text);
	close(fd);
	return n > 0 && archive_record_parse(text, (size_t)n, rec);
}

/* The whole lines of the log from byte from on: entries already in it. */
/* Whether entries after the recorded ID were trimmed before we read them.
 * Trimming takes the oldest entries: while the recorded one is in the
 * stream, everything after it is too.  Once the first entry is after it,
 * those in between are gone, if there were any (Redis keeps no count we
 * could tell it by: XTRIM does not move max-deleted-entry-id); the
 * archiver is then at least REDIS_STREAM_MAX entries behind, which is
 * worth a warning either way. */
static bool trimmed_past(struct redis_room *r, const char *key,
                         const struct stream_id *last)
{
	const char *first[] = { "XRANGE", key, "-", "+", "COUNT", "1" };
	redisReply *reply = archive_command(r, 6, first);
	struct stream_id id;
	const char *line;
	size_t len;
	bool lost = reply && reply->type == REDIS_REPLY_ARRAY &&
	            reply->elements == 1 &&
	            archive_entry(reply->element[0], &id, &line, &len) &&
	            stream_id_cmp(&id, last) > 0;
	redis_link_reply_free(r->link, reply); /* no stream: nothing lost */
	return lost;
}

/* The ID just after id: XRANGE's start is inclusive. */
static void next_id(const struct stream_id *id, char out[STREAM_ID_MAX])
{
	struct stream_id n = *id;
	if (++n.seq == 0)
		n.ms++;
	stream_id_format(&n, out);
}

/* The log from byte from on into out, up to its limit: enough for the
 * lines of one batch, all a kill can leave unrecorded. */
static int read_from(const struct archive_log *l, const struct archive_dirs *d,
                     off_t from, struct buf *out)
{
	int fd = dirs_open_file(d->rooms_fd, l->log_name, O_RDONLY, 0, NULL);
	char *chunk = fd < 0 ? NULL : malloc(READ_CHUNK);
	ssize_t n = chunk ? 0 : -1;
	while (chunk && (n = pread(fd, chunk, READ_CHUNK, from)) > 0 &&
	       buf_append(out, chunk, (size_t)n) == 0)
		from += n;
	free(chunk);
	if (fd >= 0)
		close(fd);
	/* Past the limit, the rest cannot be lines of ours. */
	return n < 0 ? -1 : 0;
}

/* How many entries after l->last the log already holds from byte from on:
 * those a batch wrote before a kill took its record.  Compared line by
 * line, not counted, so that a line another writer appended (an
 * administrator; chat_server --reap logging the quits of mirrored files
 * left by a killed archiver) is never taken for an entry, which would then
 * be skipped and lost.  0, or -1 with r->err. */
static int written_unrecorded(struct archive_log *l, struct redis_room *r,
                              const struct archive_dirs *d, const char *key,
                              off_t from)
{
	char start[STREAM_ID_MAX], count[16];
	struct buf tail;
	buf_init(&tail, TAIL_MAX);
	if (read_from(l, d, from, &tail) < 0) {
		snprintf(r->err, sizeof r->err, "cannot read %s: %s", l->log_name,
		         strerror(errno));
		buf_free(&tail);
		return -1;
	}
	next_id(&l->last, start);
	snprintf(count, sizeof count, "%d", ARCHIVE_READ_COUNT);
	const char *argv[] = { "XRANGE", key, start, "+", "COUNT", count };
	redisReply *reply = archive_command(r, 6, argv);
	size_t pos = 0;
	bool more = reply && reply->type == REDIS_REPLY_ARRAY;
	l->skip = 0;
	for (size_t i = 0; more && i < reply->elements; i++) {
		struct stream_id id;
		const char *line;
		size_t len;
		if (!archive_entry(reply->element[i], &id, &line, &len) || !line ||
		    !archive_line_ok(line, len))
			continue; /* never written */
		more = archive_next_line_is(tail.data, tail.len, &pos, line, len);
		l->skip += more;
	}
	int rc = reply ? 0 : -1;
	redis_link_reply_free(r->link, reply);
	buf_free(&tail);
	return rc;
}

/* The log's last whole line (without '\n') into line; false for none. */
static bool last_line(const struct archive_log *l, const struct archive_dirs *d,
                      off_t size, struct buf *line)
{
	int fd = dirs_open_file(d->rooms_fd, l->log_name, O_RDONLY, 0, NULL);
	off_t from = size > READ_CHUNK ? size - READ_CHUNK : 0;
	char *text = fd < 0 ? NULL : malloc(READ_CHUNK);
	ssize_t n = text ? pread(fd, text, READ_CHUNK, from) : -1;
	bool found = false;
	if (n > 0 && text[n - 1] == '\n') {
		size_t end = (size_t)n - 1, start = end;
		while (start > 0 && text[start - 1] != '\n')
			start--;
		found = (start > 0 || from == 0) && end > start &&
		        buf_append(line, text + start, end - start) == 0;
	}
	free(text);
	if (fd >= 0)
		close(fd);
	return found;
}

/* No record: after the last entry of the stream whose line is the log's
 * last line, or from the start when none is.  0 or -1 (Redis). */
static int resync(struct archive_log *l, struct redis_room *r,
                  const char *key, const struct buf *want)
{
	struct stream_id from = { 0, 0 }, id, found = { 0, 0 };
	bool any = false, more = true;
	while (more) {
		char start[STREAM_ID_MAX];
		next_id(&from, start);
		const char *argv[] = { "XRANGE", key, start, "+", "COUNT",
		                       SCAN_COUNT };
		redisReply *reply = archive_command(r, 6, argv);
		if (!reply)
			return -1;
		more = reply->type == REDIS_REPLY_ARRAY && reply->elements > 0;
		for (size_t i = 0; more && i < reply->elements; i++) {
			const char *line;
			size_t len;
			if (!archive_entry(reply->element[i], &id, &line, &len))
				continue;
			from = id;
			if (line && len == want->len && memcmp(line, want->data, len) == 0) {
				found = id;
				any = true;
			}
		}
		redis_link_reply_free(r->link, reply);
	}
	l->last = found;
	if (!any)
		fprintf(stderr, "chat_server --archive: %s: no record of what was "
		        "archived, and the log's last line is not in the stream: "
		        "appending the whole stream\n", l->room);
	return 0;
}

int archive_log_resume(struct archive_log *l, struct redis_room *r,
                       const struct archive_dirs *d)
{
	char key[REDIS_KEY_MAX];
	struct archive_record rec;
	struct stat st;
	redis_room_key(r, REDIS_KEY_ROOM, key);
	bool exists = archive_log_stat(l, d, &st);
	l->log_seen = exists;
	l->skip = 0;
	if (!read_record(d->state_fd, l->room, &rec)) {
		struct buf line;
		buf_init(&line, 0);
		int rc = exists && last_line(l, d, st.st_size, &line)
		         ? resync(l, r, key, &line) : 0;
		buf_free(&line);
		l->resumed = rc == 0;
		return rc;
	}
	l->last = rec.last;
	l->log_seen = true;
	if (archive_resume_plan(&rec, exists, (unsigned long long)st.st_ino,
	                        (unsigned long long)st.st_size) ==
	    ARCHIVE_RESUME_COUNT) {
		if (written_unrecorded(l, r, d, key, (off_t)rec.size) < 0)
			return -1;
	}
	if (trimmed_past(r, key, &l->last))
		fprintf(stderr, "chat_server --archive: %s: the stream no longer "
		        "holds lines that were never archived; they are lost to "
		        "this host's log (REDIS_STREAM_MAX too small, or the "
		        "archiver down too long)\n", l->room);
	l->resumed = true;
	return 0;
}

