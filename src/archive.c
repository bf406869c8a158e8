#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "archive_log.h"
#include "archive_presence.h"
#include "archive_relay.h"
#include "archive_reap.h"
#include "archive_rooms.h"
#include "dirs.h"
#include "elapsed.h"
#include "presence.h"
#include "redis_host.h"
#include "redis_link.h"
#include "redis_url.h"
#include "rundir.h"

#define LOCK_NAME ".lock"

struct archiver {
	const struct chat_config *cfg;
	struct redis_url url;
	char where[REDIS_URL_MAX + 32]; /* redis_url_describe */
	struct redis_link *link;        /* NULL while Redis is unreachable */
	struct archive_dirs dirs;
	int users_fd, run_fd, lock_fd, signal_fd;
	struct archive_rooms rooms;
	struct timespec housekept; /* the last reap and mirror */
	char host[REDIS_HOST_ID_LEN + 1]; /* the host we speak for */
	bool down;                 /* an outage, already said */
	long backoff_ms;
	bool stop;                 /* SIGTERM or SIGINT came */
	struct archive_relay relay; /* archive_relay.h */
};

/* ---- signals and waiting ---- */

/* SIGTERM and SIGINT come through a descriptor, read between commands: a
 * handler could not remove the mirrored files safely. */
static int open_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Waits up to ms for a signal; a->stop tells whether one came. */
static void wait_signal(struct archiver *a, int ms)
{
	struct pollfd p = { a->signal_fd, POLLIN, 0 };
	struct signalfd_siginfo info;
	if (poll(&p, 1, ms) > 0 && read(a->signal_fd, &info, sizeof info) > 0)
		a->stop = true;
}

/* ---- the link ---- */

static void outage(struct archiver *a, const char *err)
{
	redis_link_close(a->link);
	a->link = NULL;
	if (!a->down)
		fprintf(stderr, "chat_server --archive: Redis unreachable: %s; "
		        "retrying every %d ms at most\n", err,
		        ARCHIVE_BACKOFF_MAX_MS);
	a->down = true;
}

static int connect_link(struct archiver *a)
{
	char err[512];
	a->link = redis_link_open(&a->url, ARCHIVE_LINK_TIMEOUT_MS, err,
	                          sizeof err);
	if (!a->link) {
		outage(a, err);
		wait_signal(a, (int)a->backoff_ms);
		a->backoff_ms = a->backoff_ms * 2 > ARCHIVE_BACKOFF_MAX_MS
		                ? ARCHIVE_BACKOFF_MAX_MS : a->backoff_ms * 2;
		return -1;
	}
	if (a->down)
		fprintf(stderr, "chat_server --archive: Redis at %s reachable "
		        "again\n", a->where);
	a->down = false;
	a->backoff_ms = ARCHIVE_BACKOFF_MIN_MS;
	/* Redis may have restarted, or trimmed a stream meanwhile: each room
	 * starts again from its record. */
	for (size_t i = 0; i < a->rooms.n; i++)
		a->rooms.v[i].log.resumed = false;
	return 0;
}

/* A command failed: an outage when the link is broken (-1), else a
 * problem of one room, said, and the rest goes on (0). */
static int failed(struct archiver *a, const char *room, const char *err)
{
	char why[512];
	if (redis_link_ping(a->link, why, sizeof why) < 0) {
		outage(a, err);
		return -1;
	}
	fprintf(stderr, "chat_server --archive: %s: %s\n", room, err);
	return 0;
}

static struct redis_room room_of(const struct archiver *a,
                                 const struct archive_room *rm)
{
	struct redis_room r = { .link = a->link,
	                        .prefix = a->cfg->redis_key_prefix,
	                        .room = rm->log.room };
	r.err[0] = '\0';
	return r;
}

/* Lines of a room went into its log: users/ shows the members they
 * tell of before the record says the lines are in (a join, a quit or a
 * colour is a line), so a reader of the record finds both. */
struct mirroring {
	struct archiver *a;
	struct archive_room *rm;
};

static void mirror_now(void *ctx)
{
	struct mirroring *m = ctx;
	struct redis_room r = room_of(m->a, m->rm);
	struct presence_list live = { 0 };
	if (redis_room_list_as_given(&r, &live) == 0)
		archive_mirror_update(&m->rm->mirror, m->a->users_fd,
		                      m->a->cfg->file_mode, &live);
	presence_list_free(&live);
}

/* ---- reaping and mirroring ---- */

static int housekeep_room(struct archiver *a, struct archive_room *rm)
{
	struct redis_room r = room_of(a, rm);
	struct presence_list live = { 0 };
	int rc = archive_reap_room(&r, &live);
	struct mirroring m = { a, rm };
	if (rc == 0)
		mirror_now(&m);
	presence_list_free(&live);
	return rc == 0 ? 0 : failed(a, rm->log.room, r.err);
}

/* The host's word first: a round of slow rooms must not let it lapse. */
static int housekeep(struct archiver *a)
{
	char err[512];
	if (redis_host_beat(a->link, a->cfg->redis_key_prefix, a->host, err,
	                    sizeof err) < 0 && failed(a, "hosts", err) < 0)
		return -1;
	for (size_t i = 0; i < a->rooms.n; i++)
		if (housekeep_room(a, &a->rooms.v[i]) < 0)
			return -1;
	a->housekept = elapsed_start();
	/* What a round's listings and replies left free in the heap goes back
	 * to the kernel: the archiver lives as long as the host. */
	malloc_trim(0);
	return 0;
}

/* ---- one round ---- */

static int resume_rooms(struct archiver *a)
{
	for (size_t i = 0; i < a->rooms.n; i++) {
		struct archive_room *rm = &a->rooms.v[i];
		struct redis_room r = room_of(a, rm);
		if (!rm->log.resumed &&
		    archive_log_resume(&rm->log, &r, &a->dirs) < 0 &&
		    failed(a, rm->log.room, r.err) < 0)
			return -1;
	}
	return 0;
}

/* Waits in XREAD for new lines in any room, until the next housekeeping. */
static int read_lines(struct archiver *a)
{
	long left = ARCHIVE_BLOCK_MS - elapsed_ms(&a->housekept);
	int block = left < 1 ? 1 : left > ARCHIVE_BLOCK_MS ? ARCHIVE_BLOCK_MS
	                                                     : (int)left;
	char err[512];
	redisReply *reply = NULL;
	int rc = archive_rooms_xread(&a->rooms, a->link, block, &reply, err,
	                             sizeof err);
	if (rc < 0)
		return failed(a, "XREAD", err);
	if (reply && reply->type == REDIS_REPLY_ARRAY)
		wait_signal(a, ARCHIVE_GATHER_MS);
	for (size_t i = 0; reply && reply->type == REDIS_REPLY_ARRAY &&
	                   i < reply->elements; i++) {
		const redisReply *s = reply->element[i];
		struct archive_room *rm = s->type == REDIS_REPLY_ARRAY &&
		                          s->elements == 2
		                          ? archive_rooms_by_key(&a->rooms,
		                                                 s->element[0]->str)
		                          : NULL;
		struct mirroring m = { a, rm };
		if (rm)
			archive_log_entries(&rm->log, &a->dirs, s->element[1],
			                    mirror_now, &m);
	}
	redis_link_reply_free(a->link, reply);
	return 0;
}

static void round_trip(struct archiver *a)
{
	char err[512];
	/* The rooms set is read again on news of a new room, and with the
	 * housekeeping: not at every line of a busy chat. */
	bool due = elapsed_ms(&a->housekept) >= ARCHIVE_BLOCK_MS;
	if ((due || !a->rooms.known) &&
	    archive_rooms_refresh(&a->rooms, a->link, a->cfg->redis_key_prefix,
	                          a->users_fd, err, sizeof err) < 0 &&
	    failed(a, "SMEMBERS", err) < 0)
		return;
	if (resume_rooms(a) < 0)
		return;
	if (due && housekeep(a) < 0)
		return;
	if (read_lines(a) < 0)
		return;
	wait_signal(a, 0);
}

/* ---- start and end ---- */

/* Only one archiver writes a chat's logs: two would write every line
 * twice. */
static int take_lock(struct archiver *a)
{
	a->lock_fd = openat(a->dirs.state_fd, LOCK_NAME, O_RDWR | O_CREAT |
	                    O_NOFOLLOW | O_CLOEXEC, RUN_FILE_MODE);
	if (a->lock_fd >= 0 && flock(a->lock_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	fprintf(stderr, "chat_server --archive: %s\n", errno == EWOULDBLOCK
	        ? "another chat_server --archive runs for this chat"
	        : strerror(errno));
	return -1;
}

static int open_dirs(struct archiver *a)
{
	const struct chat_config *cfg = a->cfg;
	struct rundir rd;
	a->users_fd = presence_open_dir(cfg->users_dir, cfg->dir_mode);
	a->dirs.rooms_fd = dirs_open(cfg->rooms_dir, cfg->dir_mode, true);
	if (a->users_fd < 0 || a->dirs.rooms_fd < 0) {
		fprintf(stderr, "chat_server --archive: cannot open %s: %s\n",
		        a->users_fd < 0 ? cfg->users_dir : cfg->rooms_dir,
		        strerror(errno));
		return -1;
	}
	if (rundir_open(cfg->run_dir, a->users_fd, &rd) < 0) {
		fprintf(stderr, "chat_server --archive: no run directory: %s (%s)\n",
		        strerror(errno), rd.notes);
		return -1;
	}
	a->run_fd = rd.fd;
	a->dirs.state_fd = rundir_sub(a->run_fd, "archive");
	if (a->dirs.state_fd < 0) {
		fprintf(stderr, "chat_server --archive: cannot open %s/archive: "
		        "%s\n", rd.path, strerror(errno));
		return -1;
	}
	return take_lock(a);
}

static int start(struct archiver *a)
{
	char why[256];
	if (a->cfg->transport != CONFIG_TRANSPORT_REDIS) {
		fprintf(stderr, "chat_server --archive: TRANSPORT is files; the "
		        "archiver is for TRANSPORT=redis only "
		        "(docs/scale-out.md)\n");
		return -1;
	}
	if (redis_url_parse(a->cfg->redis_url, &a->url, why, sizeof why) < 0) {
		fprintf(stderr, "chat_server --archive: REDIS_URL: %s\n", why);
		return -1;
	}
	redis_url_describe(&a->url, a->where, sizeof a->where);
	redis_host_id(a->cfg->users_dir, a->host);
	/* A write to a server that closed the connection must fail, not kill
	 * us (redis_link.h). */
	signal(SIGPIPE, SIG_IGN);
	a->signal_fd = open_signals();
	if (a->signal_fd < 0) {
		fprintf(stderr, "chat_server --archive: cannot watch signals: %s\n",
		        strerror(errno));
		return -1;
	}
	if (open_dirs(a) < 0)
		return -1;
	if (archive_mirror_sweep(a->users_fd) < 0)
		fprintf(stderr, "chat_server --archive: cannot look through %s: "
		        "%s\n", a->cfg->users_dir, strerror(errno));
	return 0;
}

/* The relay runs while the archiver does: started again when it ended,
 * a second at most after its last start (one that cannot serve must not
 * be started again in a loop). */
static void keep_relay(struct archiver *a)
{
	if ((a->relay.running && !archive_relay_ended(&a->relay)) ||
	    (a->relay.ever && elapsed_ms(&a->relay.started) < 1000))
		return;
	if (archive_relay_start(&a->relay, a->cfg, &a->url,
	                        a->dirs.state_fd) < 0)
		fprintf(stderr, "chat_server --archive: cannot start the relay: "
		        "%s\n", strerror(errno));
}

static void finish(struct archiver *a)
{
	char err[512];
	archive_relay_stop(&a->relay);
	/* Stopped on purpose: the host's members are left to their own
	 * heartbeats, rather than counted gone once our word lapses. */
	if (a->link && a->stop &&
	    redis_host_forget(a->link, a->cfg->redis_key_prefix, a->host, err,
	                      sizeof err) < 0)
		fprintf(stderr, "chat_server --archive: %s\n", err);
	archive_rooms_free(&a->rooms, a->users_fd);
	redis_link_close(a->link);
	int fds[] = { a->users_fd, a->dirs.rooms_fd, a->dirs.state_fd, a->run_fd,
	              a->lock_fd, a->signal_fd };
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int archive_run(const struct chat_config *cfg)
{
	struct archiver a = { .cfg = cfg, .users_fd = -1, .run_fd = -1,
	                      .lock_fd = -1, .signal_fd = -1,
	                      .dirs = { .rooms_fd = -1, .state_fd = -1,
	                                .file_mode = cfg->file_mode },
	                      .backoff_ms = ARCHIVE_BACKOFF_MIN_MS };
	int rc = start(&a);
	while (rc == 0 && !a.stop) {
		keep_relay(&a);
		if (a.link || connect_link(&a) == 0)
			round_trip(&a);
	}
	finish(&a);
	return rc < 0 ? 1 : 0;
}
