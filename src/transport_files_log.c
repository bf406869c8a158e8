#include "transport_files_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirs.h"

/* The seam's promise is the follower's fact. */
enum { FILES_LINE_MAX = FOLLOW_LINE_MAX };
_Static_assert(TRANSPORT_LINE_MAX == FILES_LINE_MAX,
               "the reader skips what the follower skips");

void transport_files_log_init(struct transport_files_log *l,
                              const struct chat_config *cfg,
                              const char *room,
                              const struct transport_hooks *hooks)
{
	memset(l, 0, sizeof *l);
	l->cfg = cfg;
	if (hooks)
		l->hooks = *hooks;
	snprintf(l->name, sizeof l->name, "%s%s", room,
	         TRANSPORT_FILES_LOG_SUFFIX);
	l->rooms_fd = l->inotify_fd = -1;
	l->follower.fd = l->follower.wd = l->follower.dir_wd = -1;
}

int transport_files_log_open_dir(struct transport_files_log *l)
{
	l->rooms_fd = dirs_open(l->cfg->rooms_dir, l->cfg->dir_mode, true);
	return l->rooms_fd < 0 ? -1 : 0;
}

/* Every connection runs as the same user, and Linux limits inotify
 * instances and watches per user.  Past the limit we still deliver, by
 * polling, and say so once. */
static void use_polling(struct transport_files_log *l, const char *limit)
{
	if (l->inotify_fd >= 0)
		close(l->inotify_fd);
	l->inotify_fd = -1;
	fprintf(stderr, "chat_server: warning: inotify is unavailable (%s); "
	                "following the room log by polling every %d ms.  "
	                "Raise fs.inotify.%s (see chat_server --check).\n",
	        strerror(errno), l->cfg->poll_interval_ms, limit);
}

static int open_follower(struct transport_files_log *l, int inotify_fd,
                         bool report_skips)
{
	int rc = follower_open(&l->follower, l->rooms_fd, l->name, inotify_fd);
	l->follower.report_skips = report_skips;
	return rc;
}

int transport_files_log_follow(struct transport_files_log *l,
                               bool report_skips)
{
	l->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (l->inotify_fd < 0)
		use_polling(l, "max_user_instances");
	if (open_follower(l, l->inotify_fd, report_skips) == 0)
		return 0;
	if (l->inotify_fd < 0 || errno != ENOSPC)
		return -1;
	follower_close(&l->follower);
	use_polling(l, "max_user_watches");
	return open_follower(l, -1, report_skips);
}

/* A read returns whole events only: one that did not fit is still queued,
 * and the appends' count of directory changes must see them all. */
#define LARGEST_EVENT (sizeof(struct inotify_event) + NAME_MAX + 1)

/* inotify events mostly say "look again": the follower re-reads the file
 * itself; it only needs to know whether names may have changed. */
void transport_files_log_notice(struct transport_files_log *l)
{
	char events[4096];
	ssize_t n;
	do {
		n = read(l->inotify_fd, events, sizeof events);
		if (n > 0) {
			follower_notice(&l->follower, events, (size_t)n);
			if (l->hooks.woken)
				l->hooks.woken(l->hooks.ctx);
		}
	} while (n > (ssize_t)(sizeof events - LARGEST_EVENT));
}

/* The follower's watch on the rooms directory sees every rename, removal
 * and pause marker that our appends must know of. */
static bool log_dir_changes(void *ctx, unsigned long *count)
{
	struct transport_files_log *l = ctx;
	if (l->inotify_fd < 0)
		return false;
	transport_files_log_notice(l);
	*count = l->follower.dir_changes;
	return true;
}

static void append_waits(void *ctx)
{
	const struct transport_files_log *l = ctx;
	if (l->hooks.waiting)
		l->hooks.waiting(l->hooks.ctx);
}

size_t transport_files_log_append(struct transport_files_log *l,
                                  const char *data, size_t len, bool member)
{
	const struct append_options opt = {
		.wait = append_waits,
		.ctx = l,
		.log_existed = member,
		.seen = &l->seen,
		.changes = log_dir_changes,
	};
	return append_lines_with(l->rooms_fd, l->name, l->cfg->file_mode, data,
	                         len, &opt);
}

bool transport_files_log_paused(const struct transport_files_log *l)
{
	return append_paused(l->rooms_fd);
}

int transport_files_log_read(struct transport_files_log *l, size_t max_bytes,
                             transport_line_fn fn, void *ctx)
{
	return follower_update(&l->follower, max_bytes, fn, ctx);
}

int transport_files_log_rewind(struct transport_files_log *l, size_t n)
{
	return follower_rewind_lines(&l->follower, n);
}

/* By name: a log made by our own join is not open in the follower yet,
 * which reads it from its start once it is. */
int transport_files_log_mark_history(struct transport_files_log *l)
{
	struct stat s;
	if (fstatat(l->rooms_fd, l->name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	l->history_end = s.st_size;
	l->history_ino = s.st_ino;
	l->history_seen = 0;
	return 0;
}

/* A rotation (a new file, or the old one cut) ends the history too: what
 * the follower reads then was written after our join. */
bool transport_files_log_past_history(struct transport_files_log *l)
{
	const struct follower *f = &l->follower;
	bool rotated = f->fd >= 0 &&
	               (f->ino != l->history_ino || f->offset < l->history_seen);
	l->history_seen = f->offset;
	return f->offset >= l->history_end || rotated;
}

int transport_files_log_look_back(const struct transport_files_log *l,
                                  size_t max_bytes, transport_line_fn fn,
                                  void *ctx)
{
	return follower_look_back(&l->follower, max_bytes, fn, ctx);
}

void transport_files_log_close(struct transport_files_log *l)
{
	follower_close(&l->follower);
	if (l->inotify_fd >= 0)
		close(l->inotify_fd);
	if (l->rooms_fd >= 0)
		close(l->rooms_fd);
	l->inotify_fd = l->rooms_fd = -1;
}
