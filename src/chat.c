#include "chat.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "authlog.h"
#include "connection.h"
#include "dirs.h"
#include "dispatch.h"
#include "elapsed.h"
#include "format.h"
#include "ice.h"
#include "identity.h"
#include "limits_redis.h"
#include "loop.h"
#include "moderate.h"
#include "rundir.h"
#include "sso.h"
#include "transport_files.h"
#include "transport_redis.h"

#define FILTER_LOOK_BACK (256 * 1024)
#define FLOOD_JOIN_COST 3.0

/* The room's own directories (the transport's), then ours, in the order
 * they were always opened: a failure leaves behind what it always did. */
static int open_files(struct chat *c, const struct transport_hooks *hooks)
{
	const char *failed;
	if (transport_files_open(&c->transport, c->cfg, c->room, hooks,
	                         &failed) < 0)
		return chat_fail(c, REFUSAL_SERVER, failed ? failed
		                 : "cannot open the rooms directory", strerror(errno));
	return 0;
}

/* The room in Redis: an unreachable Redis refuses the connection before
 * it touches a file. */
static int open_redis(struct chat *c, const struct transport_hooks *hooks)
{
	const char *failed;
	if (transport_redis_open(&c->transport, c->cfg, c->room, c->address,
	                         hooks, &failed) == 0)
		return 0;
	return chat_fail(c, failed ? REFUSAL_UNAVAILABLE : REFUSAL_SERVER,
	                 failed ? failed : "out of memory", NULL);
}

/* The run directory's place follows from the users directory (rundir.h),
 * which with Redis is the archiver's mirror of the members. */
static int open_run_dir(struct chat *c, struct rundir *rd)
{
	if (c->cfg->transport == CONFIG_TRANSPORT_FILES)
		return transport_files_run_dir(&c->transport, rd);
	int users = presence_open_dir(c->cfg->users_dir, c->cfg->dir_mode);
	int rc = users < 0 ? -1 : rundir_open(c->cfg->run_dir, users, rd);
	if (users < 0)
		snprintf(rd->notes, sizeof rd->notes, "cannot open %s: %s",
		         c->cfg->users_dir, strerror(errno));
	else
		close(users);
	return rc;
}

static int open_dirs(struct chat *c)
{
	const struct chat_config *cfg = c->cfg;
	const struct transport_hooks hooks = chat_transport_hooks(c);
	if (cfg->transport == CONFIG_TRANSPORT_FILES ? open_files(c, &hooks)
	                                             : open_redis(c, &hooks))
		return 1;
	c->log_fd = dirs_open(cfg->log_dir, cfg->dir_mode, true);
	if (c->log_fd < 0)
		return chat_fail(c, REFUSAL_SERVER, "cannot open the log directory", strerror(errno));
	/* Made by the first moderator's action that lasts (moderate.c): an
	 * installation upgraded in place may not let us make it here. */
	c->moderation_fd = moderate_open_dir(c, false);
	struct rundir rd;
	if (open_run_dir(c, &rd) < 0)
		return chat_fail(c, REFUSAL_SERVER, "cannot open the run directory", rd.notes);
	c->run_fd = rd.fd;
	if (cfg->transport == CONFIG_TRANSPORT_FILES)
		transport_files_warden(&c->transport, c->log_fd,
		                       c->req->config_file);
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
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return chat_fail(c, REFUSAL_SERVER, "cannot block signals", strerror(errno));
	c->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (c->signal_fd < 0)
		return chat_fail(c, REFUSAL_SERVER, "cannot create a signalfd", strerror(errno));
	return 0;
}

/* The whisper filter must hear of a line too long to read. */
static int start_follower(struct chat *c)
{
	if (transport_follow(&c->transport, c->filter.active) == 0)
		return 0;
	return chat_fail(c, REFUSAL_SERVER, "cannot read the room log", strerror(errno));
}

/* The filter learns who was present before the history it will show. */
static int learn(void *ctx, const char *line, size_t len)
{
	struct chat *c = ctx;
	if (!line)
		filter_forget(&c->filter);
	else
		filter_pass(&c->filter, line, len);
	return 0;
}

/* The welcome is what the browser waits for: it goes out at once, before
 * the user list and the history are written and read. */
static int welcome(struct chat *c, time_t now, const char *color)
{
	const struct ice_turn turn = {
		.urls = c->cfg->turn_urls,
		.secret = c->cfg->turn_secret,
		.ttl = c->cfg->turn_ttl,
		.relay_only = c->cfg->ice_relay_only,
	};
	const struct welcome w = {
		.room = c->room,
		.name = c->name,
		.color = color,
		.max_message_bytes = c->cfg->max_message_bytes,
		.ice_server_dns = c->cfg->ice_server_dns,
		.turn = c->cfg->turn_urls[0] ? &turn : NULL,
		.topic = c->topic,
	};
	if (encode_welcome(&c->encoder, now, &w, &c->line) < 0 ||
	    output_push(&c->output, c->line.data, c->line.len) < 0 ||
	    moderate_show_topic(c) < 0)
		return -1;
	output_flush(&c->output); /* a gone browser shows in the loop */
	return 0;
}

/* members: the room as listed under the room lock; the user list we write
 * is that listing with us in it. */
static int join_listed(struct chat *c, const struct identity *id,
                       struct presence_list *members)
{
	time_t now = time(NULL);
	/* MAX_ROOM_USERS: counted under the room lock, so a full room stays
	 * full. */
	if (c->cfg->max_room_users && members->n >= (size_t)c->cfg->max_room_users)
		return chat_fail(c, REFUSAL_ROOM_FULL, "the room is full; try again later", NULL);
	if (transport_claim(&c->transport, id->name, id->color, id->verified,
	                    members, c->name) < 0)
		return chat_fail(c, REFUSAL_SERVER, "cannot enter the room", strerror(errno));
	const char *name = c->name;
	if (transport_open_private(&c->transport) < 0)
		return chat_fail(c, REFUSAL_SERVER, "cannot open the private inbox", strerror(errno));
	if (format_join(&c->line, now, c->room, name) < 0 ||
	    chat_append(c) < 0)
		return chat_fail(c, REFUSAL_SERVER, "cannot write to the room log", strerror(errno));
	c->announced = true;
	if (welcome(c, now, color_is_valid(id->color) ? id->color
	                                              : COLOR_DEFAULT) < 0)
		return chat_fail(c, REFUSAL_SERVER, "cannot send the welcome", strerror(errno));
	if (authlog_append(c->log_fd, c->cfg->file_mode, now,
	                   c->req->forwarded_for, name,
	                   identity_source_name(id->source)) < 0)
		fprintf(stderr, "chat_server: cannot write the auth log: %s\n",
		        strerror(errno));
	if (chat_append_members(c, members) < 0)
		return chat_fail(c, REFUSAL_SERVER, "cannot write to the room log", strerror(errno));
	c->log_behind = true;
	/* What the log holds now, ending with our own join and user list,
	 * is the history the browser is replayed; what comes after is live. */
	if (transport_rewind(&c->transport, (size_t)c->cfg->last_messages) < 0 ||
	    transport_mark_history(&c->transport) < 0 ||
	    (c->filter.active && transport_look_back(&c->transport,
	                                             FILTER_LOOK_BACK,
	                                             learn, c) < 0))
		return chat_fail(c, REFUSAL_SERVER, "cannot read the room log", strerror(errno));
	c->following = true;
	return 0;
}

static int join_locked(struct chat *c, const struct identity *id)
{
	struct presence_list members = { 0 };
	/* Bans and the lock under the room lock: a ban's check of those
	 * present (moderate.h) cannot miss one who joins meanwhile. */
	if (moderate_admit(c, id))
		return 1;
	int rc = chat_list_room(c, &members) < 0
	         ? chat_fail(c, REFUSAL_SERVER, "cannot list the room", strerror(errno))
	         : join_listed(c, id, &members);
	chat_free_listing(&members);
	return rc;
}

static int join(struct chat *c, const struct identity *id)
{
	if (chat_lock_room(c) < 0) {
		bool busy = errno == ETIMEDOUT || errno == EAGAIN;
		return chat_fail(c, busy ? REFUSAL_BUSY : REFUSAL_SERVER,
		                 busy ? "the room is busy; try again in a moment"
		                      : "cannot lock the room", strerror(errno));
	}
	int rc = join_locked(c, id);
	chat_unlock_room(c);
	return rc;
}

/* Runs once, whatever ended the connection. */
static void quit(struct chat *c)
{
	const char *name = c->name;
	/* In a storm of disconnects every cycle counts before websocketd's
	 * SIGKILL: a leaving member reads no more of the room. */
	c->following = false;
	if (chat_lock_room(c) < 0)
		fprintf(stderr, "chat_server: cannot lock the room: %s\n",
		        strerror(errno));
	if (format_quit(&c->line, time(NULL), c->room, name) < 0 ||
	    chat_append(c) < 0)
		fprintf(stderr, "chat_server: cannot log the quit of %s: %s\n",
		        name, strerror(errno));
	transport_release(&c->transport);
	transport_close_private(&c->transport);
	if (chat_append_userlist(c) < 0)
		fprintf(stderr, "chat_server: cannot log the user list: %s\n",
		        strerror(errno));
	chat_unlock_room(c);
	if (!c->gone)
		output_drain(&c->output, QUIT_FLUSH_MS);
}

/* Returns false at end of input. */
static bool read_stdin(struct chat *c)
{
	long n = input_fill(&c->input);
	char *text;
	size_t len;
	enum input_event ev;
	while (!c->ending &&
	       (ev = input_next(&c->input, &text, &len)) != INPUT_NONE) {
		if (ev == INPUT_TOO_LONG)
			dispatch_too_long(c);
		else
			dispatch_line(c, text, len);
	}
	chat_append_batch(c);
	c->gone = n == 0;
	return n > 0;
}

/* Without inotify the log is looked at every POLL_INTERVAL_MS, counted
 * from the last look, however often stdin or the inbox wake us. */
static void poll_log(struct chat *c)
{
	if (transport_room_fd(&c->transport) >= 0 ||
	    elapsed_ms(&c->log_looked) < c->cfg->poll_interval_ms)
		return;
	c->log_behind = true;
	c->log_looked = elapsed_start();
}

static int wait_timeout(const struct chat *c)
{
	if (c->log_behind && output_has_room(&c->output))
		return 0;
	if (transport_room_fd(&c->transport) >= 0)
		return -1;
	long left = c->cfg->poll_interval_ms - elapsed_ms(&c->log_looked);
	return left > 0 ? (int)left : 0;
}

/* What we can take in depends on the room left in the output queue. */
static int want(struct chat *c)
{
	struct loop *l = &c->loop;
	uint32_t in = output_has_room(&c->output) ? EPOLLIN : 0;
	uint32_t out = output_pending(&c->output) ? EPOLLOUT : 0;
	return loop_want(l, LOOP_STDIN, in) || loop_want(l, LOOP_STDOUT, out) ||
	       loop_want(l, LOOP_PRIVATE, in) ? -1 : 0;
}

/* What the transport runs beside the members ended (the files
 * transport's warden, killed most likely): it starts the next, which we
 * watch instead. */
static void upkeep(struct chat *c)
{
	struct loop *l = &c->loop;
	loop_set_fd(l, LOOP_UPKEEP, -1);
	c->upkeep_fd = transport_upkeep(&c->transport);
	if (loop_set_fd(l, LOOP_UPKEEP, c->upkeep_fd) < 0 ||
	    loop_want(l, LOOP_UPKEEP, EPOLLIN) < 0)
		fprintf(stderr, "chat_server: cannot watch the warden: %s\n",
		        strerror(errno));
}

/* One turn of the loop.  Returns false when the connection is over. */
static bool turn(struct chat *c)
{
	bool ready[LOOP_SOURCES];
	if (want(c) < 0) {
		fprintf(stderr, "chat_server: cannot wait for input: %s\n",
		        strerror(errno));
		return false;
	}
	int n = loop_wait(&c->loop, wait_timeout(c), ready);
	if (n < 0)
		return errno == EINTR;
	if (ready[LOOP_SIGNAL])
		return false;
	if (ready[LOOP_UPKEEP])
		upkeep(c);
	poll_log(c);
	if (ready[LOOP_ROOM])
		transport_notice(&c->transport);
	if (ready[LOOP_STDOUT] && output_flush(&c->output) < 0)
		return false;
	if (ready[LOOP_STDIN] && (!read_stdin(c) || c->ending))
		return false;
	if (ready[LOOP_PRIVATE] && chat_read_inbox(c) < 0)
		return false;
	if (c->ending || !chat_catch_up(c))
		return false;
	return output_flush(&c->output) == 0;
}

/* The descriptors the loop waits on, once they all exist. */
static int start_loop(struct chat *c)
{
	struct loop *l = &c->loop;
	if (loop_open(l) < 0 || loop_set_fd(l, LOOP_SIGNAL, c->signal_fd) < 0 ||
	    loop_set_fd(l, LOOP_STDIN, 0) < 0 || loop_set_fd(l, LOOP_STDOUT, 1) < 0 ||
	    loop_set_fd(l, LOOP_ROOM, transport_room_fd(&c->transport)) < 0 ||
	    loop_set_fd(l, LOOP_PRIVATE, transport_private_fd(&c->transport)) < 0 ||
	    loop_set_fd(l, LOOP_UPKEEP, c->upkeep_fd) < 0 ||
	    loop_want(l, LOOP_UPKEEP, EPOLLIN) < 0 ||
	    loop_want(l, LOOP_SIGNAL, EPOLLIN) < 0 ||
	    loop_want(l, LOOP_ROOM, EPOLLIN) < 0) {
		fprintf(stderr, "chat_server: cannot set up waiting: %s\n",
		        strerror(errno));
		return -1;
	}
	return 0;
}

static void chat_free(struct chat *c)
{
	if (transport_is_open(&c->transport) &&
	    transport_claimed(&c->transport) && chat_lock_room(c) >= 0) {
		transport_release(&c->transport);
		chat_unlock_room(c);
	}
	transport_close(&c->transport);
	loop_close(&c->loop);
	filter_free(&c->filter);
	flood_close(&c->flood);
	input_free(&c->input);
	output_free(&c->output);
	buf_free(&c->line);
	buf_free(&c->result);
	buf_free(&c->relay);
	buf_free(&c->told);
	buf_free(&c->received);
	buf_free(&c->batch);
	buf_free(&c->encoded);
	buf_free(&c->decoded);
	encoder_free(&c->encoder);
	int fds[] = { c->log_fd, c->run_fd, c->moderation_fd, c->signal_fd,
	              c->slot_fd };
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Whether a member of a user list has a verified name, for the JSON
 * "users" event (encode.h). */
static int member_verified(void *ctx, const char *name, size_t len)
{
	struct chat *c = ctx;
	return !transport_is_open(&c->transport) ? 0
	       : transport_verified(&c->transport, name, len);
}

static void chat_init(struct chat *c, const struct chat_config *cfg,
                      const struct chat_request *req)
{
	memset(c, 0, sizeof *c);
	c->cfg = cfg;
	c->req = req;
	c->log_fd = c->run_fd = -1;
	c->slot_fd = -1;
	c->moderation_fd = -1;
	filter_init(&c->filter, cfg->whisper_log == WHISPER_LOG_FULL);
	c->signal_fd = c->upkeep_fd = -1;
	c->loop.epoll_fd = -1;
	c->log_looked = elapsed_start();
	input_init(&c->input, 0, INPUT_LINE_MAX);
	buf_init(&c->line, 0);
	buf_init(&c->result, 0);
	buf_init(&c->relay, 0);
	buf_init(&c->told, 0);
	buf_init(&c->received, 0);
	buf_init(&c->batch, 0);
	buf_init(&c->encoded, 0);
	buf_init(&c->decoded, 0);
	encoder_init(&c->encoder, decode_protocol(req->query_string),
	             cfg->legacy_client);
	/* Verified names exist only where a token or OpenSSO can vouch for
	 * one: elsewhere user lists cost no look at the presence files. */
	if (cfg->auth_token_secret[0] || sso_is_configured(cfg)) {
		c->encoder.verified = member_verified;
		c->encoder.verified_ctx = c;
	}
}

/* One connection slot per connection of an address, when they are
 * counted; a client whose address is unknown is not. */
static int take_slot(struct chat *c)
{
	int max = c->cfg->max_connections_per_address;
	if (max == 0 || !c->address[0])
		return 0;
	if (c->cfg->transport == CONFIG_TRANSPORT_REDIS) {
		/* Counted over every host, in Redis (limits_redis.h). */
		int rc = limits_redis_slot(&c->limits, &c->transport, c->cfg,
		                           c->address);
		if (rc > 0)
			return 0;
		return rc == 0 ? chat_fail(c, REFUSAL_TOO_MANY,
		                           "too many connections from your "
		                           "address; close one and try again", NULL)
		               : chat_fail(c, REFUSAL_UNAVAILABLE,
		                           "the room is unavailable; try again "
		                           "later", NULL);
	}
	int dir = rundir_sub(c->run_fd, "conn");
	c->slot_fd = dir < 0 ? -1 : admission_take_slot(dir, c->address, max,
	                                                RUN_FILE_MODE);
	if (dir >= 0)
		close(dir);
	if (c->slot_fd >= 0)
		return 0;
	bool full = errno == EUSERS;
	return chat_fail(c, full ? REFUSAL_TOO_MANY : REFUSAL_SERVER,
	                 full ? "too many connections from your address; close "
	                        "one and try again"
	                      : "cannot count your connections", NULL);
}

/* Clients on this host are not flood-limited: they did not come through
 * the proxy (with the default TRUSTED_PROXIES, a browser's address comes
 * from X-Forwarded-For), so they are the admin's own tools. */
static int start_flood(struct chat *c)
{
	static const char flooded[] = "too many messages or connections from "
	                              "your address; wait a little and try again";
	if (!c->address[0] || admission_is_loopback(c->address))
		return 0;
	/* With Redis, counted over every host (limits_redis.h); a fault
	 * there lets the join through. */
	if (c->cfg->transport == CONFIG_TRANSPORT_REDIS)
		return limits_redis_start(&c->limits, &c->transport, c->cfg,
		                          c->address, FLOOD_JOIN_COST) == FLOOD_OK
		       ? 0 : chat_fail(c, REFUSAL_FLOOD, flooded, NULL);
	int dir = rundir_sub(c->run_fd, "flood");
	int rc = dir < 0 ? -1 : flood_open(&c->flood, dir, c->address,
	                                   RUN_FILE_MODE, c->cfg->flood_rate,
	                                   c->cfg->flood_burst);
	if (dir >= 0)
		close(dir);
	if (rc < 0)
		return chat_fail(c, REFUSAL_SERVER, "cannot open the flood counter", strerror(errno));
	/* A join costs the address, not the connection: a script that
	 * reconnects for a fresh bucket of its own pays where it cannot
	 * escape. */
	if (flood_join(&c->flood, FLOOD_JOIN_COST) != FLOOD_OK)
		return chat_fail(c, REFUSAL_FLOOD, flooded, NULL);
	return 0;
}

/* Everything that can refuse a connection before it touches a file. */
static int admit(struct chat *c)
{
	enum room_error err = room_from_path_info(c->req->path_info, c->room);
	if (err != ROOM_OK)
		return chat_fail(c, REFUSAL_BAD_ROOM, room_error_text(err), NULL);
	if (!admission_origin_allowed(c->cfg->allowed_origins, c->req->origin))
		return chat_fail(c, REFUSAL_ORIGIN, "connections from this page's origin are not "
		                 "allowed", NULL);
	if (!admission_client_address(c->req->remote_addr, c->req->forwarded_for,
	                              c->cfg->trusted_proxies, c->address))
		c->address[0] = '\0';
	return 0;
}

/* The identity is looked up only for a connection that passed every
 * limit: it may cost a request to the OpenSSO service. */
static int start(struct chat *c)
{
	struct identity id = { .source = IDENTITY_ANONYMOUS };
	if (admit(c) || open_dirs(c) || take_slot(c) || start_flood(c))
		return 1;
	identity_resolve(c->cfg, c->req->cookie, &id);
	if (start_signals(c) || start_follower(c) || join(c, &id))
		return 1;
	/* After the claim: a warden ending now sees us in users/ and stays. */
	c->upkeep_fd = transport_upkeep(&c->transport);
	return 0;
}

int chat_run(const struct chat_config *cfg, const struct chat_request *req)
{
	/* FILE_MODE and DIR_MODE are the modes we create with, exactly. */
	umask(0);
	/* A write must fail and be told, never kill us: to a browser or an
	 * OpenSSO server that went away (SIGPIPE), past RLIMIT_FSIZE
	 * (SIGXFSZ).  Set first: the identity lookup may already write. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	struct chat c;
	chat_init(&c, cfg, req);
	int status = 1;
	if (output_init(&c.output, 1, OUTPUT_LIMIT, OUTPUT_LOW_WATER) < 0)
		fprintf(stderr, "chat_server: cannot set up stdout: %s\n",
		        strerror(errno));
	else if (start(&c) == 0) {
		malloc_trim(0);
		status = start_loop(&c) == 0 ? 0 : 1;
		while (status == 0 && turn(&c))
			;
		quit(&c);
	} else if (c.announced) {
		quit(&c); /* the room saw us join: it must see us leave */
	}
	chat_free(&c);
	return status;
}
