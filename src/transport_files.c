#include "transport_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inbox.h"
#include "presence.h"
#include "reap.h"
#include "transport_files_log.h"
#include "warden.h"

/* The seam's promise is the inbox's fact. */
enum { FILES_CONTROL = INBOX_CONTROL };
_Static_assert(TRANSPORT_CONTROL == FILES_CONTROL,
               "a control line is an inbox control datagram");

/* A room in files: the state of one connection's transport. */
struct files {
	const struct chat_config *cfg;
	char room[ROOM_NAME_MAX + 1];
	int users_fd;
	int run_fd, log_fd;      /* the caller's */
	const char *config_file; /* for the warden */
	int room_lock;           /* held during a membership change, else -1 */
	int warden_fd;           /* pidfd of the warden, or -1 */
	struct presence presence;
	struct transport_files_log log; /* the room's lines */
	struct inbox inbox;      /* our private lines */
};

/* ---- membership ---- */

static int files_lock(void *st)
{
	struct files *f = st;
	f->room_lock = presence_lock_room(f->run_fd, f->room);
	return f->room_lock;
}

static void files_unlock(void *st)
{
	struct files *f = st;
	presence_unlock_room(f->room_lock);
	f->room_lock = -1;
}

static bool files_locked(void *st)
{
	const struct files *f = st;
	return f->room_lock >= 0;
}

static int files_list(void *st, struct presence_list *out, bool log_quits)
{
	struct files *f = st;
	if (!log_quits)
		return presence_list(f->users_fd, f->room, out);
	struct reap r = { .rooms_fd = f->log.rooms_fd, .run_fd = f->run_fd,
	                  .room = f->room, .log_name = f->log.name,
	                  .file_mode = f->cfg->file_mode };
	buf_init(&r.line, 0);
	int rc = presence_list_reaping(f->users_fd, f->room, out, reap_member,
	                               &r);
	buf_free(&r.line);
	return rc < 0 ? -1 : r.reaped;
}

static int files_claim(void *st, const char *base_name, const char *color,
                       bool verified, struct presence_list *members,
                       char *name)
{
	struct files *f = st;
	if (presence_claim_listed_as(&f->presence, f->users_fd,
	                             f->cfg->file_mode, f->room, base_name,
	                             color, verified, members) < 0)
		return -1;
	snprintf(name, PRESENCE_NAME_MAX + 1, "%s", f->presence.name);
	return 0;
}

static int files_recolor(void *st, const char *color)
{
	struct files *f = st;
	return presence_set_color(&f->presence, color);
}

static bool files_claimed(void *st)
{
	const struct files *f = st;
	return f->presence.file_fd >= 0;
}

static void files_release(void *st)
{
	struct files *f = st;
	presence_release(&f->presence);
}

static int files_verified(void *st, const char *name, size_t len)
{
	const struct files *f = st;
	return f->users_fd < 0 ? 0
	       : presence_member_verified(f->users_fd, f->room, name, len);
}

/* The warden ended (killed, most likely: it ends by itself only when
 * nobody is left), or none was started yet: start the next. */
static int files_upkeep(void *st)
{
	struct files *f = st;
	if (f->warden_fd >= 0)
		close(f->warden_fd);
	f->warden_fd = warden_ensure(f->config_file, f->run_fd, f->log_fd,
	                             f->cfg->file_mode);
	return f->warden_fd;
}

/* ---- the room's lines ---- */

static int files_follow(void *st, bool report_skips)
{
	struct files *f = st;
	return transport_files_log_follow(&f->log, report_skips);
}

static int files_room_fd(void *st)
{
	const struct files *f = st;
	return f->log.inotify_fd;
}

static void files_notice(void *st)
{
	struct files *f = st;
	transport_files_log_notice(&f->log);
}

static size_t files_append(void *st, const char *data, size_t len,
                           bool member)
{
	struct files *f = st;
	return transport_files_log_append(&f->log, data, len, member);
}

static bool files_paused(void *st)
{
	const struct files *f = st;
	return transport_files_log_paused(&f->log);
}

static int files_read(void *st, size_t max_bytes, transport_line_fn fn,
                      void *ctx)
{
	struct files *f = st;
	return transport_files_log_read(&f->log, max_bytes, fn, ctx);
}

static int files_rewind(void *st, size_t n)
{
	struct files *f = st;
	return transport_files_log_rewind(&f->log, n);
}

static int files_mark_history(void *st)
{
	struct files *f = st;
	return transport_files_log_mark_history(&f->log);
}

static bool files_past_history(void *st)
{
	struct files *f = st;
	return transport_files_log_past_history(&f->log);
}

static int files_look_back(void *st, size_t max_bytes, transport_line_fn fn,
                           void *ctx)
{
	const struct files *f = st;
	return transport_files_log_look_back(&f->log, max_bytes, fn, ctx);
}

/* ---- private lines ---- */

static int files_open_private(void *st)
{
	struct files *f = st;
	return inbox_open(&f->inbox, f->run_fd, f->presence.file_fd,
	                  RUN_FILE_MODE);
}

static int files_private_fd(void *st)
{
	const struct files *f = st;
	return f->inbox.fd;
}

static int files_receive(void *st, struct buf *out)
{
	struct files *f = st;
	return inbox_receive(&f->inbox, out);
}

static void files_close_private(void *st)
{
	struct files *f = st;
	inbox_close(&f->inbox);
}

/* The handle is the member's presence file: while it is open, the file's
 * inode, which names the member's inbox, is nobody else's. */
static int files_find(void *st, const char *name)
{
	const struct files *f = st;
	return presence_open_member(f->users_fd, f->room, name);
}

static bool files_same_member(void *st, int a, int b)
{
	(void)st;
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void files_drop_member(void *st, int member)
{
	(void)st;
	if (member >= 0)
		close(member);
}

static int files_connect(void *st, int member)
{
	const struct files *f = st;
	return inbox_connect(f->run_fd, member);
}

static int files_send(void *st, int channel, const char *line, size_t len)
{
	(void)st;
	return inbox_try_send(channel, line, len);
}

static void files_hang_up(void *st, int channel)
{
	(void)st;
	int saved = errno;
	if (channel >= 0)
		close(channel);
	errno = saved;
}

static void files_close(void *st)
{
	struct files *f = st;
	inbox_close(&f->inbox);
	transport_files_log_close(&f->log);
	int fds[] = { f->users_fd, f->warden_fd, f->presence.file_fd };
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(f);
}

static const struct transport_ops files_ops = {
	.lock = files_lock,
	.unlock = files_unlock,
	.locked = files_locked,
	.list = files_list,
	.claim = files_claim,
	.recolor = files_recolor,
	.claimed = files_claimed,
	.release = files_release,
	.verified = files_verified,
	.upkeep = files_upkeep,
	.follow = files_follow,
	.room_fd = files_room_fd,
	.notice = files_notice,
	.append = files_append,
	.paused = files_paused,
	.read = files_read,
	.rewind = files_rewind,
	.mark_history = files_mark_history,
	.past_history = files_past_history,
	.look_back = files_look_back,
	.open_private = files_open_private,
	.private_fd = files_private_fd,
	.receive = files_receive,
	.close_private = files_close_private,
	.find = files_find,
	.same_member = files_same_member,
	.drop_member = files_drop_member,
	.connect = files_connect,
	.send = files_send,
	.hang_up = files_hang_up,
	.close = files_close,
};

/* ---- opening ---- */

static struct files *files_new(const struct chat_config *cfg,
                               const char *room,
                               const struct transport_hooks *hooks)
{
	struct files *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->cfg = cfg;
	snprintf(f->room, sizeof f->room, "%s", room);
	f->users_fd = f->run_fd = f->log_fd = -1;
	f->room_lock = f->warden_fd = -1;
	f->presence.file_fd = -1;
	transport_files_log_init(&f->log, cfg, room, hooks);
	f->inbox.fd = -1;
	return f;
}

int transport_files_open(struct room_transport *t,
                         const struct chat_config *cfg, const char *room,
                         const struct transport_hooks *hooks,
                         const char **failed)
{
	struct files *f = files_new(cfg, room, hooks);
	t->ops = f ? &files_ops : NULL;
	t->st = f;
	*failed = NULL;
	if (!f)
		return -1;
	if (transport_files_log_open_dir(&f->log) < 0) {
		*failed = "cannot open the rooms directory";
		return -1;
	}
	f->users_fd = presence_open_dir(cfg->users_dir, cfg->dir_mode);
	if (f->users_fd < 0) {
		*failed = "cannot open the users directory";
		return -1;
	}
	return 0;
}

int transport_files_run_dir(struct room_transport *t, struct rundir *rd)
{
	struct files *f = t->st;
	if (rundir_open(f->cfg->run_dir, f->users_fd, rd) < 0)
		return -1;
	f->run_fd = rd->fd;
	return 0;
}

void transport_files_warden(struct room_transport *t, int log_fd,
                            const char *config_file)
{
	struct files *f = t->st;
	f->log_fd = log_fd;
	f->config_file = config_file;
}
