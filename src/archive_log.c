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

bool archive_entry(const struct redisReply *e, struct stream_id *id,
                   const char **line, size_t *len)
{
	*line = NULL;
	*len = 0;
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    !stream_id_parse(e->element[0]->str, e->element[0]->len, id))
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

/* ---- the record ---- */

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

bool archive_log_stat(const struct archive_log *l,
                      const struct archive_dirs *d, struct stat *st)
{
	return fstatat(d->rooms_fd, l->log_name, st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st->st_mode);
}

/* ---- archiving ---- */

/* What one entry of a batch leaves: the batch's length once it is in. */
struct mark {
	struct stream_id id;
	size_t end;
};

/* Writes batch[0..len) and moves l->last to the last entry fully in. */
static void commit(struct archive_log *l, const struct archive_dirs *d,
                   const struct buf *batch, const struct mark *marks,
                   size_t n_marks, archive_written_fn written, void *ctx)
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
	/* A change of membership always ends in a user list: only then can
	 * users/ have to change. */
	if (written && done > 0 && memmem(batch->data, done, "] Userlist: ", 12))
		written(ctx);
	l->last = marks[i - 1].id;
	struct stat st;
	struct archive_record rec = { .last = l->last };
	if (archive_log_stat(l, d, &st)) {
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
                     const struct stream_id *id, const char *line,
                     size_t len)
{
	char text[STREAM_ID_MAX];
	if (!line || !archive_line_ok(line, len)) {
		stream_id_format(id, text);
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
                         const struct redisReply *entries,
                         archive_written_fn written, void *ctx)
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
		struct stream_id id;
		if (!archive_entry(entries->element[i], &id, &line, &len) ||
		    stream_id_cmp(&id, &l->last) <= 0)
			continue;
		if (add_entry(l, &batch, &id, line, len) < 0)
			break; /* out of memory: the rest comes again */
		marks[n].id = id;
		marks[n++].end = batch.len;
	}
	if (!marks)
		fprintf(stderr, "chat_server --archive: %s: out of memory\n", l->room);
	else
		commit(l, d, &batch, marks, n, written, ctx);
	free(marks);
	buf_free(&batch);
}
