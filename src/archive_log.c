#include "archive_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "append.h"
#include "buf.h"
#include "dirs.h"
#include "rundir.h"

/* Lines counted or searched are read this many bytes at a time. */
#define READ_CHUNK (64 * 1024)
/* The stream is searched for the log's last line this many entries a
 * command. */
#define SCAN_COUNT "1000"

void archive_log_init(struct archive_log *l, const char *room)
{
	memset(l, 0, sizeof *l);
	snprintf(l->room, sizeof l->room, "%s", room);
	snprintf(l->log_name, sizeof l->log_name, "%s.log", room);
}

struct redisReply *archive_command(struct redis_room *r, int argc,
                                   const char *const argv[])
{
	size_t lens[16];
	if (argc > (int)(sizeof lens / sizeof *lens)) {
		snprintf(r->err, sizeof r->err, "too many arguments");
		return NULL;
	}
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	redisReply *reply = redis_link_command(r->link, argc, argv, lens, r->err,
	                                       sizeof r->err);
	if (reply && reply->type == REDIS_REPLY_ERROR) {
		snprintf(r->err, sizeof r->err, "%s: %.*s", argv[0],
		         (int)reply->len, reply->str);
		redis_link_reply_free(r->link, reply);
		return NULL;
	}
	return reply;
}

bool archive_entry(const struct redisReply *e, struct archive_id *id,
                   const char **line, size_t *len)
{
	*line = NULL;
	*len = 0;
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    !archive_id_parse(e->element[0]->str, e->element[0]->len, id))
		return false;
	const redisReply *fields = e->element[1];
	if (fields->type != REDIS_REPLY_ARRAY)
		return true; /* an entry deleted under us: nothing to write */
	for (size_t i = 0; i + 1 < fields->elements; i += 2) {
		const redisReply *f = fields->element[i], *v = fields->element[i + 1];
		if (f->type == REDIS_REPLY_STRING && f->len == 1 && f->str[0] == 'l' &&
		    v->type == REDIS_REPLY_STRING) {
			*line = v->str;
			*len = v->len;
		}
	}
	return true;
}

/* ---- the record ------------------------------------------------------ */

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

/* Whole, or not at all: a temporary file renamed over the record. */
static int write_record(int state_fd, const char *room,
                        const struct archive_record *rec)
{
	char text[ARCHIVE_RECORD_MAX + 1], tmp[ROOM_NAME_MAX + 8];
	size_t len = archive_record_format(rec, text);
	snprintf(tmp, sizeof tmp, ".%s.tmp", room); /* no room starts with '.' */
	int fd = openat(state_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	                               O_CLOEXEC, RUN_FILE_MODE);
	if (fd < 0)
		return -1;
	bool ok = write(fd, text, len) == (ssize_t)len;
	if (close(fd) < 0)
		ok = false;
	if (!ok || renameat(state_fd, tmp, state_fd, room) < 0) {
		int saved = errno;
		unlinkat(state_fd, tmp, 0);
		errno = ok ? saved : EIO;
		return -1;
	}
	return 0;
}

/* The log's inode and size now; false when there is none. */
static bool log_stat(const struct archive_log *l, const struct archive_dirs *d,
                     struct stat *st)
{
	return fstatat(d->rooms_fd, l->log_name, st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st->st_mode);
}

/* ---- resuming -------------------------------------------------------- */

/* The whole lines of the log from byte from on: entries already in it. */
static ssize_t count_from(const struct archive_log *l,
                          const struct archive_dirs *d, off_t from)
{
	int fd = dirs_open_file(d->rooms_fd, l->log_name, O_RDONLY, 0, NULL);
	char *chunk = fd < 0 ? NULL : malloc(READ_CHUNK);
	ssize_t lines = chunk ? 0 : -1, n = 0;
	while (chunk && (n = pread(fd, chunk, READ_CHUNK, from)) > 0) {
		lines += (ssize_t)archive_count_lines(chunk, (size_t)n);
		from += n;
	}
	if (n < 0)
		lines = -1;
	free(chunk);
	if (fd >= 0)
		close(fd);
	return lines;
}

/* Whether entries after the recorded ID were trimmed before we read them.
 * Trimming takes the oldest entries: while the recorded one is in the
 * stream, everything after it is too.  Once the first entry is after it,
 * those in between are gone, if there were any (Redis keeps no count we
 * could tell it by: XTRIM does not move max-deleted-entry-id); the
 * archiver is then at least REDIS_STREAM_MAX entries behind, which is
 * worth a warning either way. */
static bool trimmed_past(struct redis_room *r, const char *key,
                         const struct archive_id *last)
{
	const char *first[] = { "XRANGE", key, "-", "+", "COUNT", "1" };
	redisReply *reply = archive_command(r, 6, first);
	struct archive_id id;
	const char *line;
	size_t len;
	bool lost = reply && reply->type == REDIS_REPLY_ARRAY &&
	            reply->elements == 1 &&
	            archive_entry(reply->element[0], &id, &line, &len) &&
	            archive_id_cmp(&id, last) > 0;
	redis_link_reply_free(r->link, reply); /* no stream: nothing lost */
	return lost;
}

/* The ID just after id: XRANGE's start is inclusive. */
static void next_id(const struct archive_id *id, char out[ARCHIVE_ID_MAX + 1])
{
	struct archive_id n = *id;
	if (++n.seq == 0)
		n.ms++;
	archive_id_format(&n, out);
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
	struct archive_id from = { 0, 0 }, id, found = { 0, 0 };
	bool any = false, more = true;
	while (more) {
		char start[ARCHIVE_ID_MAX + 1];
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
	bool exists = log_stat(l, d, &st);
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
		ssize_t n = count_from(l, d, (off_t)rec.size);
		if (n < 0) {
			snprintf(r->err, sizeof r->err, "cannot read %s: %s",
			         l->log_name, strerror(errno));
			return -1;
		}
		l->skip = (size_t)n;
	}
	if (trimmed_past(r, key, &l->last))
		fprintf(stderr, "chat_server --archive: %s: the stream no longer "
		        "holds lines that were never archived; they are lost to "
		        "this host's log (REDIS_STREAM_MAX too small, or the "
		        "archiver down too long)\n", l->room);
	l->resumed = true;
	return 0;
}

/* ---- archiving -------------------------------------------------------- */

/* What one entry of a batch leaves: the batch's length once it is in. */
struct mark {
	struct archive_id id;
	size_t end;
};

/* Writes batch[0..len) and moves l->last to the last entry fully in. */
static void commit(struct archive_log *l, const struct archive_dirs *d,
                   const struct buf *batch, const struct mark *marks,
                   size_t n_marks)
{
	const struct append_options opt = { .log_existed = l->log_seen };
	size_t done = batch->len ? append_lines_with(d->rooms_fd, l->log_name,
	                                             d->file_mode, batch->data,
	                                             batch->len, &opt) : 0;
	if (done < batch->len && !l->failing)
		fprintf(stderr, "chat_server --archive: %s: cannot append to %s: "
		        "%s (retrying)\n", l->room, l->log_name, strerror(errno));
	l->failing = done < batch->len;
	size_t i = 0;
	while (i < n_marks && marks[i].end <= done)
		i++;
	if (i == 0)
		return;
	l->last = marks[i - 1].id;
	struct stat st;
	struct archive_record rec = { .last = l->last };
	if (log_stat(l, d, &st)) {
		l->log_seen = true;
		rec.ino = (unsigned long long)st.st_ino;
		rec.size = (unsigned long long)st.st_size;
	}
	if (write_record(d->state_fd, l->room, &rec) < 0)
		fprintf(stderr, "chat_server --archive: %s: cannot record how far "
		        "it is archived: %s\n", l->room, strerror(errno));
}

/* Adds one entry to the batch: its line, or nothing (skipped, bad). */
static int add_entry(struct archive_log *l, struct buf *batch,
                     const struct archive_id *id, const char *line,
                     size_t len)
{
	char text[ARCHIVE_ID_MAX + 1];
	if (!line || !archive_line_ok(line, len)) {
		archive_id_format(id, text);
		fprintf(stderr, "chat_server --archive: %s: entry %s skipped: %s\n",
		        l->room, text, line ? "not one line" : "no field l");
		return 0;
	}
	if (l->skip > 0) { /* in the log already, written before a kill */
		l->skip--;
		return 0;
	}
	if (buf_append(batch, line, len) < 0 || buf_append(batch, "\n", 1) < 0)
		return -1;
	return 0;
}

void archive_log_entries(struct archive_log *l, const struct archive_dirs *d,
                         const struct redisReply *entries)
{
	if (entries->type != REDIS_REPLY_ARRAY || entries->elements == 0)
		return;
	struct mark *marks = calloc(entries->elements, sizeof *marks);
	struct buf batch;
	buf_init(&batch, 0);
	size_t n = 0;
	for (size_t i = 0; marks && i < entries->elements; i++) {
		const char *line;
		size_t len;
		struct archive_id id;
		if (!archive_entry(entries->element[i], &id, &line, &len) ||
		    archive_id_cmp(&id, &l->last) <= 0)
			continue;
		if (add_entry(l, &batch, &id, line, len) < 0)
			break; /* out of memory: the rest comes again */
		marks[n].id = id;
		marks[n++].end = batch.len;
	}
	if (!marks)
		fprintf(stderr, "chat_server --archive: %s: out of memory\n", l->room);
	else
		commit(l, d, &batch, marks, n);
	free(marks);
	buf_free(&batch);
}
