#include "chat.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "append.h"
#include "authlog.h"
#include "command.h"
#include "dirs.h"
#include "filter.h"
#include "follow.h"
#include "format.h"
#include "identity.h"
#include "inbox.h"
#include "parse.h"
#include "presence.h"
#include "room.h"
#include "route.h"
#include "signalling.h"
#include "stdin_reader.h"
#include "stdout_writer.h"

/* A client line may carry a WebRTC session description, which runs to tens
 * of kilobytes. */
#define INPUT_LINE_MAX (64 * 1024 + 1024)
#define OUTPUT_LIMIT (2 * 1024 * 1024)
#define OUTPUT_LOW_WATER (512 * 1024)
#define QUIT_FLUSH_MS 50
#define LOG_SUFFIX ".log"

struct chat {
	const struct chat_config *cfg;
	const struct chat_request *req;
	char room[ROOM_NAME_MAX + 1];
	char log_name[ROOM_NAME_MAX + sizeof LOG_SUFFIX];
	int rooms_fd, users_fd, log_fd, run_fd;
	int room_lock;    /* held during a membership change, else -1 */
	int inotify_fd;   /* -1: following by polling */
	int signal_fd;
	bool log_behind;  /* the room log may have lines we have not read */
	struct presence presence;
	struct follower follower;
	struct filter filter;
	struct inbox inbox;
	struct input input;
	struct output output;
	struct buf line;   /* the line being formatted */
	struct buf result; /* a command's result */
	struct buf relay;  /* signalling as it is passed on, or a received line */
};

/* Tells the sender alone; nothing is logged. */
static void tell(struct chat *c, const char *message)
{
	if (format_error(&c->line, time(NULL), message) == 0)
		output_push(&c->output, c->line.data, c->line.len);
}

/* A problem that ends the connection before it joined: one line to the
 * browser, one to stderr. */
static int fail(struct chat *c, const char *what, const char *why)
{
	char message[512];
	snprintf(message, sizeof message, "%s%s%s", what, why ? ": " : "",
	         why ? why : "");
	fprintf(stderr, "chat_server: %s\n", message);
	tell(c, message);
	output_drain(&c->output, QUIT_FLUSH_MS);
	return 1;
}

static int append_to_room(struct chat *c)
{
	return append_line(c->rooms_fd, c->log_name, c->cfg->file_mode,
	                   c->line.data, c->line.len);
}

/* Joins, quits and colour changes run whole under the room lock, together
 * with the log lines they write: the log then tells the membership in the
 * order it changed, and its last user list is always the truth. */
static int lock_room(struct chat *c)
{
	c->room_lock = presence_lock_room(c->users_fd, c->room,
	                                  c->cfg->file_mode);
	return c->room_lock;
}

static void unlock_room(struct chat *c)
{
	presence_unlock_room(c->room_lock);
	c->room_lock = -1;
}

/* Needs the room lock. */
static int append_userlist(struct chat *c)
{
	struct presence_list list = { 0 };
	int rc = presence_list(c->users_fd, c->room, &list);
	if (rc == 0)
		rc = format_userlist(&c->line, time(NULL), list.v, list.n);
	if (rc == 0)
		rc = append_to_room(c);
	presence_list_free(&list);
	return rc;
}

/* Log lines go to the browser as they are, but for archived whispers. */
static int deliver(void *ctx, const char *line, size_t len)
{
	struct chat *c = ctx;
	if (!filter_pass(&c->filter, line, len))
		return 0;
	return output_push(&c->output, line, len);
}

static int open_dirs(struct chat *c)
{
	const struct chat_config *cfg = c->cfg;
	c->rooms_fd = dirs_open(cfg->rooms_dir, cfg->dir_mode, true);
	if (c->rooms_fd < 0)
		return fail(c, "cannot open the rooms directory", strerror(errno));
	c->users_fd = presence_open_dir(cfg->users_dir, cfg->dir_mode);
	if (c->users_fd < 0)
		return fail(c, "cannot open the users directory", strerror(errno));
	c->log_fd = dirs_open(cfg->log_dir, cfg->dir_mode, true);
	if (c->log_fd < 0)
		return fail(c, "cannot open the log directory", strerror(errno));
	c->run_fd = dirs_open(cfg->run_dir, cfg->dir_mode, true);
	if (c->run_fd < 0)
		return fail(c, "cannot open the run directory", strerror(errno));
	return 0;
}

/* Signals become readable events, so the quit sequence runs in the loop and
 * never inside a handler. */
static int start_signals(struct chat *c)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	/* Past RLIMIT_FSIZE a write must fail (and be told), not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return fail(c, "cannot block signals", strerror(errno));
	c->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (c->signal_fd < 0)
		return fail(c, "cannot create a signalfd", strerror(errno));
	return 0;
}

/* Every connection runs as the same user, and Linux limits inotify
 * instances and watches per user.  Past the limit we still deliver, by
 * polling, and say so once. */
static void use_polling(struct chat *c, const char *limit)
{
	if (c->inotify_fd >= 0)
		close(c->inotify_fd);
	c->inotify_fd = -1;
	fprintf(stderr, "chat_server: warning: inotify is unavailable (%s); "
	                "following the room log by polling every %d ms.  "
	                "Raise fs.inotify.%s (see chat_server --check).\n",
	        strerror(errno), c->cfg->poll_interval_ms, limit);
}

static int start_follower(struct chat *c)
{
	c->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (c->inotify_fd < 0)
		use_polling(c, "max_user_instances");
	if (follower_open(&c->follower, c->rooms_fd, c->log_name,
	                  c->inotify_fd) == 0)
		return 0;
	if (c->inotify_fd < 0 || errno != ENOSPC)
		return fail(c, "cannot read the room log", strerror(errno));
	follower_close(&c->follower);
	use_polling(c, "max_user_watches");
	if (follower_open(&c->follower, c->rooms_fd, c->log_name, -1) == 0)
		return 0;
	return fail(c, "cannot read the room log", strerror(errno));
}

static int join_locked(struct chat *c, const struct identity *id)
{
	time_t now = time(NULL);
	if (presence_claim(&c->presence, c->users_fd, c->cfg->file_mode,
	                   c->room, id->name, id->color) < 0)
		return fail(c, "cannot enter the room", strerror(errno));
	const char *name = c->presence.name;
	if (inbox_open(&c->inbox, c->run_fd, c->presence.file_fd) < 0)
		return fail(c, "cannot open the private inbox", strerror(errno));
	if (authlog_append(c->log_fd, c->cfg->file_mode, now,
	                   c->req->forwarded_for, name) < 0)
		fprintf(stderr, "chat_server: cannot write the auth log: %s\n",
		        strerror(errno));
	if (format_join(&c->line, now, c->room, name) < 0 ||
	    append_to_room(c) < 0)
		return fail(c, "cannot write to the room log", strerror(errno));
	if (format_welcome(&c->line, now, c->room, name) < 0 ||
	    output_push(&c->output, c->line.data, c->line.len) < 0 ||
	    append_userlist(c) < 0)
		return fail(c, "cannot write to the room log", strerror(errno));
	c->log_behind = true;
	return follower_rewind_lines(&c->follower,
	                             (size_t)c->cfg->last_messages) < 0
	       ? fail(c, "cannot read the room log", strerror(errno)) : 0;
}

static int join(struct chat *c, const struct identity *id)
{
	if (lock_room(c) < 0)
		return fail(c, "cannot lock the room", strerror(errno));
	int rc = join_locked(c, id);
	unlock_room(c);
	return rc;
}

/* Runs once, whatever ended the connection. */
static void quit(struct chat *c)
{
	const char *name = c->presence.name;
	if (lock_room(c) < 0)
		fprintf(stderr, "chat_server: cannot lock the room: %s\n",
		        strerror(errno));
	if (format_quit(&c->line, time(NULL), c->room, name) < 0 ||
	    append_to_room(c) < 0)
		fprintf(stderr, "chat_server: cannot log the quit of %s: %s\n",
		        name, strerror(errno));
	presence_release(&c->presence);
	inbox_close(&c->inbox);
	if (append_userlist(c) < 0)
		fprintf(stderr, "chat_server: cannot log the user list: %s\n",
		        strerror(errno));
	unlock_room(c);
	output_drain(&c->output, QUIT_FLUSH_MS);
}

static void refuse_append(struct chat *c)
{
	char message[256];
	snprintf(message, sizeof message, "message not sent: %s",
	         strerror(errno));
	tell(c, message);
}

static void run_command_locked(struct chat *c, const char *text, size_t len)
{
	const struct command_env env = { &c->presence, rng_uniform, NULL };
	enum command_outcome outcome = command_run(text, len, &env, &c->result);
	if (outcome == COMMAND_REFUSED) {
		tell(c, c->result.data);
		return;
	}
	if (outcome == COMMAND_FAILED ||
	    format_result(&c->line, time(NULL), c->presence.name,
	                  c->result.data, c->result.len) < 0 ||
	    append_to_room(c) < 0) {
		refuse_append(c);
		return;
	}
	if (outcome == COMMAND_RESULT_USERLIST && append_userlist(c) < 0)
		refuse_append(c);
}

/* /color changes membership data, so commands run under the room lock. */
static void run_command(struct chat *c, const char *text, size_t len)
{
	if (lock_room(c) < 0) {
		refuse_append(c);
		return;
	}
	run_command_locked(c, text, len);
	unlock_room(c);
}

/* What the room log keeps of a whisper depends on WHISPER_LOG. */
static void log_whisper(struct chat *c, const char *target)
{
	int rc = 0;
	if (c->cfg->whisper_log == WHISPER_LOG_NOTICE)
		rc = format_whisper_notice(&c->line, time(NULL), c->presence.name,
		                           target) < 0 ? -1 : append_to_room(c);
	else if (c->cfg->whisper_log == WHISPER_LOG_FULL)
		rc = append_to_room(c); /* the whisper line itself */
	if (rc < 0)
		refuse_append(c);
}

static void tell_undelivered(struct chat *c, const char *target)
{
	char message[PRESENCE_NAME_MAX + 96];
	snprintf(message, sizeof message, "%s %s", target,
	         errno == EAGAIN ? "is not keeping up; message not delivered"
	                         : "has left the room; message not delivered");
	tell(c, message);
}

/* Signalling goes to the target alone; a whisper to the target, back to
 * the sender, and to the log as WHISPER_LOG says. */
static void send_private(struct chat *c, const char *msg, size_t len,
                         const struct route *r)
{
	enum signalling_kind kind = signalling_check(r->text, r->text_len,
	                                             &c->relay);
	if (kind == SIGNALLING_MALFORMED || kind == SIGNALLING_TOO_LARGE) {
		tell(c, signalling_error_text(kind));
		return;
	}
	int rc = kind == SIGNALLING_NONE
	         ? format_message(&c->line, time(NULL), c->presence.name, msg, len)
	         : format_private(&c->line, time(NULL), c->presence.name,
	                          r->target, c->relay.data, c->relay.len);
	if (rc < 0 || inbox_send(c->run_fd, r->member_fd, c->line.data,
	                         c->line.len) < 0) {
		tell_undelivered(c, r->target);
		return;
	}
	if (kind != SIGNALLING_NONE)
		return;
	if (strcmp(r->target, c->presence.name) != 0)
		output_push(&c->output, c->line.data, c->line.len);
	log_whisper(c, r->target);
}

static void send_message_locked(struct chat *c, const char *msg, size_t len)
{
	struct route r;
	if (route_message(msg, len, c->users_fd, c->room, &r) == 1) {
		send_private(c, msg, len, &r);
		close(r.member_fd);
		return;
	}
	/* "Bob: ..." to a Bob who died unseen: the next user list drops him
	 * first, so no follower takes this ordinary line for a whisper. */
	if (errno == ESRCH && c->room_lock >= 0 && append_userlist(c) < 0) {
		refuse_append(c);
		return;
	}
	if (format_message(&c->line, time(NULL), c->presence.name, msg, len) < 0 ||
	    append_to_room(c) < 0)
		refuse_append(c);
}

/* With WHISPER_LOG=full, followers tell a whisper from an ordinary line by
 * the membership the log shows, so deciding and appending must not be
 * split by a join or a quit. */
static void send_message(struct chat *c, const char *msg, size_t len)
{
	bool locked = c->cfg->whisper_log == WHISPER_LOG_FULL;
	if (locked && lock_room(c) < 0) {
		refuse_append(c);
		return;
	}
	send_message_locked(c, msg, len);
	if (locked)
		unlock_room(c);
}

static void handle_line(struct chat *c, char *text, size_t len)
{
	switch (parse_request(text, &len)) {
	case REQUEST_EMPTY:
		return;
	case REQUEST_BAD_UTF8:
		tell(c, "message not sent: it is not valid UTF-8 text");
		return;
	case REQUEST_COMMAND:
		run_command(c, text, len);
		return;
	case REQUEST_MESSAGE:
		send_message(c, text, len);
		return;
	}
}

/* Returns false at end of input. */
static bool read_stdin(struct chat *c)
{
	long n = input_fill(&c->input);
	char *text;
	size_t len;
	enum input_event ev;
	while ((ev = input_next(&c->input, &text, &len)) != INPUT_NONE) {
		if (ev == INPUT_TOO_LONG)
			tell(c, "message not sent: it is too long");
		else
			handle_line(c, text, len);
	}
	return n > 0;
}

/* inotify events only say "look again": the follower re-reads the file's
 * state itself, so the events are read and dropped. */
static void drain_inotify(struct chat *c)
{
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	while (read(c->inotify_fd, events, sizeof events) > 0)
		;
	c->log_behind = true;
}

static bool read_inbox(struct chat *c)
{
	int rc;
	while (output_has_room(&c->output) &&
	       (rc = inbox_receive(&c->inbox, &c->relay)) == 1)
		output_push(&c->output, c->relay.data, c->relay.len);
	return rc >= 0;
}

static bool catch_up(struct chat *c)
{
	if (!c->log_behind || !output_has_room(&c->output))
		return true;
	int rc = follower_update(&c->follower, OUTPUT_LOW_WATER, deliver, c);
	if (rc < 0) {
		fprintf(stderr, "chat_server: cannot follow the room log: %s\n",
		        strerror(errno));
		return false;
	}
	c->log_behind = rc == 1;
	return true;
}

enum { P_SIGNAL, P_STDIN, P_STDOUT, P_INOTIFY, P_INBOX, P_COUNT };

static int poll_timeout(const struct chat *c)
{
	if (c->log_behind && output_has_room(&c->output))
		return 0;
	return c->inotify_fd < 0 ? c->cfg->poll_interval_ms : -1;
}

/* One turn of the loop.  Returns false when the connection is over. */
static bool turn(struct chat *c)
{
	struct pollfd p[P_COUNT] = {
		[P_SIGNAL] = { c->signal_fd, POLLIN, 0 },
		[P_STDIN] = { output_has_room(&c->output) ? 0 : -1, POLLIN, 0 },
		[P_STDOUT] = { output_pending(&c->output) ? 1 : -1, POLLOUT, 0 },
		[P_INOTIFY] = { c->inotify_fd, POLLIN, 0 },
		[P_INBOX] = { output_has_room(&c->output) ? c->inbox.fd : -1,
		              POLLIN, 0 },
	};
	int n = poll(p, P_COUNT, poll_timeout(c));
	if (n < 0)
		return errno == EINTR;
	if (p[P_SIGNAL].revents)
		return false;
	if (n == 0 && c->inotify_fd < 0)
		c->log_behind = true;
	if (p[P_INOTIFY].revents)
		drain_inotify(c);
	if (p[P_STDOUT].revents && output_flush(&c->output) < 0)
		return false;
	if (p[P_STDIN].revents && !read_stdin(c))
		return false;
	if (p[P_INBOX].revents && !read_inbox(c))
		return false;
	if (!catch_up(c))
		return false;
	return output_flush(&c->output) == 0;
}

static void chat_free(struct chat *c)
{
	if (c->presence.file_fd >= 0 && lock_room(c) >= 0) {
		presence_release(&c->presence);
		unlock_room(c);
	}
	inbox_close(&c->inbox);
	follower_close(&c->follower);
	filter_free(&c->filter);
	input_free(&c->input);
	output_free(&c->output);
	buf_free(&c->line);
	buf_free(&c->result);
	buf_free(&c->relay);
	int fds[] = { c->rooms_fd, c->users_fd, c->log_fd, c->run_fd,
	              c->inotify_fd, c->signal_fd };
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void chat_init(struct chat *c, const struct chat_config *cfg,
                      const struct chat_request *req)
{
	memset(c, 0, sizeof *c);
	c->cfg = cfg;
	c->req = req;
	c->rooms_fd = c->users_fd = c->log_fd = c->run_fd = c->room_lock = -1;
	c->inbox.fd = -1;
	filter_init(&c->filter, cfg->whisper_log == WHISPER_LOG_FULL);
	c->inotify_fd = c->signal_fd = -1;
	c->presence.file_fd = -1;
	c->follower.fd = c->follower.wd = c->follower.dir_wd = -1;
	input_init(&c->input, 0, INPUT_LINE_MAX);
	buf_init(&c->line, 0);
	buf_init(&c->result, 0);
	buf_init(&c->relay, 0);
}

static int start(struct chat *c)
{
	enum room_error err = room_from_path_info(c->req->path_info, c->room);
	if (err != ROOM_OK)
		return fail(c, room_error_text(err), NULL);
	snprintf(c->log_name, sizeof c->log_name, "%s%s", c->room, LOG_SUFFIX);
	struct identity id;
	identity_resolve(c->cfg, c->req->cookie, &id);
	if (open_dirs(c) || start_signals(c) || start_follower(c) || join(c, &id))
		return 1;
	return 0;
}

int chat_run(const struct chat_config *cfg, const struct chat_request *req)
{
	/* FILE_MODE and DIR_MODE are the modes we create with, exactly. */
	umask(0);
	struct chat c;
	chat_init(&c, cfg, req);
	int status = 1;
	if (output_init(&c.output, 1, OUTPUT_LIMIT, OUTPUT_LOW_WATER) < 0)
		fprintf(stderr, "chat_server: cannot set up stdout: %s\n",
		        strerror(errno));
	else if (start(&c) == 0) {
		while (turn(&c))
			;
		quit(&c);
		status = 0;
	}
	chat_free(&c);
	return status;
}
