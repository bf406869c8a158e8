#include "follow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "append.h"
#include "dirs.h"
#include "lockwait.h"

#define CHUNK 4096
#define FILE_EVENTS (IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)
/* Every way a name in the directory can change, so that a writer of the
 * file can trust its open descriptor while none of them happened. */
#define DIR_EVENTS (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | \
                    IN_ONLYDIR)

/* inotify watches paths; /proc/self/fd/N names exactly the inode we hold. */
static int watch_fd(int inotify_fd, int fd, uint32_t mask)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return inotify_add_watch(inotify_fd, path, mask);
}

static void forget_position(struct follower *f)
{
	f->offset = 0;
	f->tail_len = 0;
	buf_clear(&f->partial);
	f->skipping = false;
}

/* Opens the file under its name, positioned at its start.  A missing file
 * is not an error: fd stays -1 until it appears. */
static int open_current(struct follower *f)
{
	struct stat st;
	f->fd = dirs_open_file(f->dir_fd, f->name, O_RDONLY, 0, &st);
	forget_position(f);
	if (f->fd < 0)
		return errno == ENOENT ? 0 : -1;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	if (f->inotify_fd >= 0) {
		f->wd = watch_fd(f->inotify_fd, f->fd, FILE_EVENTS);
		if (f->wd < 0)
			return -1;
	}
	return 0;
}

static void close_current(struct follower *f)
{
	if (f->wd >= 0)
		inotify_rm_watch(f->inotify_fd, f->wd);
	f->wd = -1;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Remembers the bytes just before offset, to recognise the file after a
 * truncation: from buf (file bytes [start, start + n)) when they are in
 * it, else read again. */
static int keep_tail(struct follower *f, const char *buf, off_t start,
                     size_t n)
{
	size_t k = f->offset < FOLLOW_TAIL ? (size_t)f->offset : FOLLOW_TAIL;
	off_t from = f->offset - (off_t)k;
	if (from >= start && f->offset <= start + (off_t)n)
		memcpy(f->tail, buf + (from - start), k);
	else if (pread(f->fd, f->tail, k, from) != (ssize_t)k)
		return -1;
	f->tail_len = k;
	return 0;
}

/* Puts the follower at offset end without delivering anything. */
static int seek_end(struct follower *f, off_t end)
{
	char buf[FOLLOW_TAIL];
	off_t start = end > FOLLOW_TAIL ? end - FOLLOW_TAIL : 0;
	ssize_t n = pread(f->fd, buf, (size_t)(end - start), start);
	if (n != end - start)
		return -1;
	f->offset = end;
	return keep_tail(f, buf, start, (size_t)n);
}

int follower_open(struct follower *f, int dir_fd, const char *name,
                  int inotify_fd)
{
	memset(f, 0, sizeof *f);
	f->dir_fd = dir_fd;
	f->fd = -1;
	f->wd = -1;
	f->dir_wd = -1;
	f->inotify_fd = inotify_fd;
	f->recheck_name = true;
	buf_init(&f->partial, FOLLOW_LINE_MAX);
	if (strlen(name) >= sizeof f->name) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(f->name, name, strlen(name) + 1);
	if (inotify_fd >= 0) {
		f->dir_wd = watch_fd(inotify_fd, dir_fd, DIR_EVENTS);
		if (f->dir_wd < 0)
			return -1;
	}
	if (open_current(f) < 0)
		return -1;
	struct stat st;
	if (f->fd >= 0 && (fstat(f->fd, &st) < 0 || seek_end(f, st.st_size) < 0))
		return -1;
	return 0;
}

#define BACK_BLOCK 4096

/* The offset just after the last '\n' at or before end, or 0. */
static off_t line_start_before(int fd, off_t end, size_t newlines_to_pass)
{
	char buf[BACK_BLOCK];
	size_t seen = 0;
	while (end > 0) {
		off_t start = end > BACK_BLOCK ? end - BACK_BLOCK : 0;
		ssize_t n = pread(fd, buf, (size_t)(end - start), start);
		if (n != end - start)
			return -1;
		for (ssize_t i = n - 1; i >= 0; i--)
			if (buf[i] == '\n' && ++seen == newlines_to_pass)
				return start + i + 1;
		end = start;
	}
	return 0;
}

int follower_rewind_lines(struct follower *f, size_t n)
{
	struct stat st;
	if (f->fd < 0)
		return 0;
	if (fstat(f->fd, &st) < 0)
		return -1;
	/* n complete lines back means passing n + 1 newlines: the first ends
	 * the last complete line (a partial one after it has none). */
	off_t start = line_start_before(f->fd, st.st_size, n + 1);
	if (start < 0)
		return -1;
	/* Never past the line we stood in: what others appended while we
	 * joined is delivered too, however many lines it was.  The kept tail
	 * tells whether we stood at a line's start without reading again. */
	off_t stood = start;
	if (f->offset <= st.st_size)
		stood = f->tail_len == 0 || f->tail[f->tail_len - 1] == '\n'
		        ? f->offset : line_start_before(f->fd, f->offset, 1);
	if (stood < 0)
		return -1;
	if (stood < start)
		start = stood;
	buf_clear(&f->partial);
	f->skipping = false;
	return seek_end(f, start);
}

/* Ends a line: what is held plus seg[0..n), which ends in '\n'.  The
 * follower's offset only ever moves to the end of a complete line. */
static int emit(struct follower *f, const char *seg, size_t n,
                follow_line_fn fn, void *ctx)
{
	size_t whole = f->partial.len + n;
	int rc = 0;
	if (f->skipping) {
		f->skipping = false; /* the end of an over-long line */
		if (f->report_skips)
			rc = fn(ctx, NULL, 0);
	} else if (f->partial.len == 0)
		rc = fn(ctx, seg, n);
	else if (buf_append(&f->partial, seg, n) == 0)
		rc = fn(ctx, f->partial.data, f->partial.len);
	f->offset += (off_t)whole;
	buf_clear(&f->partial);
	return rc;
}

/* Holds the start of a line whose end is not read yet.  A line longer than
 * FOLLOW_LINE_MAX is skipped instead: passed over as it is read. */
static void hold(struct follower *f, const char *p, size_t n)
{
	if (!f->skipping && buf_append(&f->partial, p, n) == 0)
		return;
	f->offset += (off_t)(f->partial.len + n);
	buf_clear(&f->partial);
	f->skipping = true;
}

/* Splits bytes read after what is held into lines. */
static int split(struct follower *f, const char *p, size_t n,
                 follow_line_fn fn, void *ctx)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		if (!nl) {
			hold(f, p, n);
			return 0;
		}
		size_t len = (size_t)(nl - p) + 1;
		if (emit(f, p, len, fn, ctx) != 0)
			return -1;
		p += len;
		n -= len;
	}
	return 0;
}

/* Reads the next chunk: after the held part of a line, or, with nothing
 * held, from the remembered tail before offset, which must be unchanged.
 * Returns the bytes of new data at *data, 0 at the end, -1 on error;
 * *truncated when the tail changed. */
static ssize_t read_chunk(struct follower *f, char *buf, off_t *start,
                          const char **data, bool *truncated)
{
	size_t check = f->partial.len == 0 ? f->tail_len : 0;
	*start = check ? f->offset - (off_t)check
	               : f->offset + (off_t)f->partial.len;
	ssize_t n = pread(f->fd, buf, CHUNK, *start);
	if (n < 0)
		return -1;
	*truncated = (size_t)n < check || memcmp(buf, f->tail, check) != 0;
	*data = buf + check;
	return *truncated ? 0 : n - (ssize_t)check;
}

/* Delivers from the open file.  Returns 1 when more is waiting, 0 at the
 * end, -1 on error.  A line still incomplete at the end is read again
 * next time, from the file: if its writer cut it back (disk full) it is
 * gone, never half delivered, and a truncation is never mistaken. */
static int drain(struct follower *f, size_t max_bytes, follow_line_fn fn,
                 void *ctx)
{
	char buf[CHUNK];
	size_t done = 0;
	buf_clear(&f->partial);
	for (;;) {
		off_t start = 0, before = f->offset;
		const char *data = buf;
		bool truncated;
		/* No fstat: a file shorter than our offset fails the tail
		 * check too (it returns fewer bytes than the tail). */
		ssize_t n = read_chunk(f, buf, &start, &data, &truncated);
		if (n < 0)
			return -1;
		if (truncated) {
			forget_position(f);
			continue;
		}
		size_t got = (size_t)(data - buf) + (size_t)n;
		if (split(f, data, (size_t)n, fn, ctx) < 0)
			return -1;
		if (f->offset != before && keep_tail(f, buf, start, got) < 0)
			return -1;
		done += (size_t)n;
		/* A short read was the end of the file: no read to learn it. */
		if (got < CHUNK) {
			buf_done(&f->partial, CHUNK);
			return 0;
		}
		if (done >= max_bytes) {
			buf_clear(&f->partial);
			return 1;
		}
	}
}

/* True when the name now leads to another file than ours (or to none). */
static bool replaced(const struct follower *f)
{
	struct stat st;
	if (fstatat(f->dir_fd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT;
	return st.st_dev != f->dev || st.st_ino != f->ino;
}

/* True when an event may mean that our name now leads to another file.
 * name is the event's NUL-padded name of len bytes. */
static bool name_event(const struct follower *f, uint32_t mask, int wd,
                       const char *name, size_t len)
{
	if (mask & IN_Q_OVERFLOW)
		return true;
	if (wd == f->wd)
		return mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB | IN_IGNORED);
	size_t ours = strlen(f->name);
	return wd == f->dir_wd && strnlen(name, len) == ours &&
	       memcmp(name, f->name, ours) == 0;
}

void follower_notice(struct follower *f, const char *events, size_t len)
{
	struct inotify_event ev;
	for (size_t at = 0; at + sizeof ev <= len; at += sizeof ev + ev.len) {
		memcpy(&ev, events + at, sizeof ev); /* events may be unaligned */
		if (ev.len > len - at - sizeof ev)
			break;
		f->recheck_name |= name_event(f, ev.mask, ev.wd,
		                              events + at + sizeof ev, ev.len);
		if (ev.wd == f->dir_wd || (ev.mask & IN_Q_OVERFLOW))
			f->dir_changes++;
	}
}

int follower_update(struct follower *f, size_t max_bytes, follow_line_fn fn,
                    void *ctx)
{
	if (f->fd < 0 && open_current(f) < 0)
		return -1;
	if (f->fd < 0)
		return 0;
	/* Looked at before draining, and once every append in flight is done
	 * (writers hold the log's flock while they write, then find the name
	 * gone and write to the new file): nothing written to the old file is
	 * missed when we leave it. */
	bool moved = (f->inotify_fd < 0 || f->recheck_name) && replaced(f);
	f->recheck_name = false;
	if (moved) {
		if (lockwait_flock(f->fd, LOCK_SH, APPEND_LOCK_WAIT_MS) == 0)
			flock(f->fd, LOCK_UN);
	}
	int rc = drain(f, max_bytes, fn, ctx);
	if (rc != 0 || !moved)
		return rc;
	close_current(f);
	if (open_current(f) < 0)
		return -1;
	return f->fd < 0 ? 0 : 1;
}

int follower_look_back(const struct follower *f, size_t max_bytes,
                       follow_line_fn fn, void *ctx)
{
	if (f->fd < 0 || f->offset == 0)
		return 0;
	off_t start = f->offset > (off_t)max_bytes ? f->offset - (off_t)max_bytes : 0;
	/* Start after a newline, so only whole lines are handed over. */
	if (start > 0 && (start = line_start_before(f->fd, start, 1)) < 0)
		return -1;
	char buf[CHUNK];
	struct follower copy = { .report_skips = f->report_skips };
	buf_init(&copy.partial, FOLLOW_LINE_MAX);
	int rc = 0;
	for (off_t at = start; rc == 0 && at < f->offset;) {
		size_t want = (size_t)(f->offset - at) < sizeof buf
		              ? (size_t)(f->offset - at) : sizeof buf;
		ssize_t n = pread(f->fd, buf, want, at);
		if (n <= 0)
			rc = -1;
		else
			rc = split(&copy, buf, (size_t)n, fn, ctx);
		at += n > 0 ? n : 0;
	}
	buf_free(&copy.partial);
	return rc;
}

/* The directory watch stays: another follower in the same directory shares
 * it (inotify gives one watch per inode), and closing the inotify
 * descriptor ends it anyway. */
void follower_close(struct follower *f)
{
	close_current(f);
	buf_free(&f->partial);
}
