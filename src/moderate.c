#include "moderate.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "moderation_redis.h"
#include "transport_redis.h"
#include "signalling.h"

#define CONTROL_WAIT_MS 1000

/* ---- at join ---- */

int moderate_open_dir(struct chat *c, bool create)
{
	int fd = moderation_open_dir(c->cfg->moderation_dir, c->cfg->dir_mode,
	                             create);
	if (fd < 0 && (create || errno != ENOENT))
		fprintf(stderr, "chat_server: cannot open the moderation "
		        "directory %s: %s\n", c->cfg->moderation_dir,
		        strerror(errno));
	return fd;
}

/* Our descriptor of MODERATION_DIR, opened now if a moderator made it
 * since we joined; -1 while there is none. */
static int moderation_dir(struct chat *c)
{
	if (c->moderation_fd < 0)
		c->moderation_fd = moderate_open_dir(c, false);
	return c->moderation_fd;
}

/* The room's state from where the transport keeps it: the file with
 * TRANSPORT=files, Redis (every host's) with TRANSPORT=redis. */
static int load(struct chat *c, time_t now, struct mod_state *st)
{
	if (c->cfg->transport != CONFIG_TRANSPORT_REDIS)
		return moderation_load(moderation_dir(c), c->room, now, st);
	const char *client;
	return moderation_redis_load(transport_redis_link(&c->transport,
	                                                  &client),
	                             c->cfg->redis_key_prefix, c->room, now, st);
}

static int update(struct chat *c, const struct mod_command *cmd, time_t now,
                  struct mod_state *st)
{
	const char *client;
	if (c->cfg->transport == CONFIG_TRANSPORT_REDIS)
		return moderation_redis_update(transport_redis_link(&c->transport,
		                                                    &client),
		                               c->cfg->redis_key_prefix, c->room,
		                               cmd, c->name, now, st);
	if (c->moderation_fd < 0)
		c->moderation_fd = moderate_open_dir(c, true);
	if (c->moderation_fd < 0)
		return -1;
	return moderation_update(c->moderation_fd, c->room, c->cfg->file_mode,
	                         cmd, c->name, now, st);
}

int moderate_admit(struct chat *c, const struct identity *id)
{
	struct mod_state st;
	char message[MOD_TEXT_MAX + 160];
	time_t now = time(NULL);
	c->roles = id->roles;
	c->verified = id->verified;
	snprintf(c->id_name, sizeof c->id_name, "%s", id->name);
	if (load(c, now, &st) < 0) {
		/* A damaged file must not close the room: it is told (the
		 * moderators' next change is refused, so nothing is lost), and
		 * the room goes on as if it held nothing. */
		fprintf(stderr, "chat_server: cannot read the moderation file "
		        "of %s: %s\n", c->room, strerror(errno));
		return 0;
	}
	const struct mod_entry *ban = moderation_banned(&st, id->name,
	                                                c->address, now);
	int rc = 0;
	if (ban) {
		snprintf(message, sizeof message, "you are banned from this room "
		         "for %ld more minutes%s%s",
		         moderation_minutes_left(ban->until, now),
		         ban->text[0] ? ": " : "", ban->text);
		rc = chat_fail(c, REFUSAL_BANNED, message, NULL);
	} else if (st.locked && !id->verified) {
		rc = chat_fail(c, REFUSAL_LOCKED, "the room is locked: only "
		               "verified members may join", NULL);
	} else {
		const struct mod_entry *mute = moderation_muted(&st, id->name, now);
		c->muted_until = mute ? mute->until : 0;
		snprintf(c->topic, sizeof c->topic, "%s", st.topic);
	}
	moderation_state_free(&st);
	return rc;
}

int moderate_show_topic(struct chat *c)
{
	char clock[11];
	if (!c->topic[0] || c->encoder.proto != WIRE_LEGACY)
		return 0;
	format_clock(time(NULL), clock);
	buf_clear(&c->line);
	if (buf_append_str(&c->line, clock) < 0 ||
	    buf_append_str(&c->line, " Topic: ") < 0 ||
	    buf_append_str(&c->line, c->topic) < 0 ||
	    buf_append(&c->line, "\n", 1) < 0)
		return -1;
	return output_push(&c->output, c->line.data, c->line.len);
}

/* ---- control datagrams ---- */

/* Sends line to the process of the member (a transport handle), waiting
 * up to CONTROL_WAIT_MS while its queue is full. */
static int send_control(struct chat *c, int member, const char *line,
                        size_t len)
{
	struct room_transport *t = &c->transport;
	int sock = transport_connect(t, member);
	if (sock < 0)
		return -1;
	int rc = transport_send(t, sock, line, len);
	if (rc < 0 && errno == EAGAIN) {
		struct pollfd p = { sock, POLLOUT, 0 };
		if (poll(&p, 1, CONTROL_WAIT_MS) > 0)
			rc = transport_send(t, sock, line, len);
	}
	transport_hang_up(t, sock);
	return rc;
}

/* "\x01check\n" to every member of the room but us. */
static void check_everybody(struct chat *c)
{
	static const char line[] = { TRANSPORT_CONTROL, 'c', 'h', 'e', 'c', 'k',
	                             '\n' };
	struct presence_list members = { 0 };
	/* Listed under the room lock, after the file was written: one who
	 * joins meanwhile was admitted (moderate_admit) under the lock too,
	 * so it is either listed here or read the file with the order in.
	 * A dead member found meanwhile has its quit logged, and the room
	 * a user list without it, as any listing that reaps does. */
	int reaped = chat_lock_room(c) >= 0 ? chat_list_room(c, &members) : -1;
	bool listed = reaped >= 0;
	int saved = errno;
	if (reaped > 0 && chat_append_members(c, &members) < 0)
		fprintf(stderr, "chat_server: cannot log the user list of %s: "
		        "%s\n", c->room, strerror(errno));
	if (transport_locked(&c->transport))
		chat_unlock_room(c);
	if (!listed) {
		fprintf(stderr, "chat_server: cannot list %s: %s\n", c->room,
		        strerror(saved));
		transport_free_listing(&members);
		return;
	}
	for (size_t i = 0; i < members.n; i++) {
		if (strcmp(members.v[i].name, c->name) == 0)
			continue;
		int member = transport_find(&c->transport, members.v[i].name);
		if (member < 0)
			continue;
		send_control(c, member, line, sizeof line);
		transport_drop_member(&c->transport, member);
	}
	transport_free_listing(&members);
}

static void leave(struct chat *c, enum refusal why, const char *message)
{
	chat_tell(c, why, message);
	c->ending = true;
}

static void obey_kick(struct chat *c, const char *args)
{
	char message[MOD_TEXT_MAX + MOD_TARGET_MAX + 64];
	const char *tab = strchr(args, '\t');
	int by_len = tab ? (int)(tab - args) : (int)strlen(args);
	const char *reason = tab ? tab + 1 : "";
	snprintf(message, sizeof message, "you were kicked out of the room by "
	         "%.*s%s%s", by_len, args, reason[0] ? ": " : "", reason);
	leave(c, REFUSAL_REMOVED, message);
}

/* Reads the room's moderation file again: a ban of us ends the connection,
 * a mute of us starts (and is told), an unmute ends it. */
static void obey_check(struct chat *c)
{
	struct mod_state st;
	char message[MOD_TEXT_MAX + MOD_TARGET_MAX + 96];
	time_t now = time(NULL);
	if (load(c, now, &st) < 0) {
		fprintf(stderr, "chat_server: cannot read the moderation file "
		        "of %s: %s\n", c->room, strerror(errno));
		return;
	}
	const struct mod_entry *ban = moderation_banned(&st, c->id_name,
	                                                c->address, now);
	const struct mod_entry *mute = moderation_muted(&st, c->id_name, now);
	if (ban) {
		snprintf(message, sizeof message, "you were banned from the room "
		         "by %s for %ld minutes%s%s", ban->by,
		         moderation_minutes_left(ban->until, now),
		         ban->text[0] ? ": " : "", ban->text);
		leave(c, REFUSAL_BANNED, message);
	} else if (mute && mute->until != c->muted_until) {
		snprintf(message, sizeof message, "you were muted by %s for %ld "
		         "minutes: your messages are not sent until then",
		         mute->by, moderation_minutes_left(mute->until, now));
		chat_tell(c, REFUSAL_MUTED, message);
	}
	c->muted_until = mute ? mute->until : 0;
	moderation_state_free(&st);
}

void moderate_control(struct chat *c, const char *data, size_t len)
{
	char args[MOD_TEXT_MAX + MOD_TARGET_MAX + 8];
	/* data: TRANSPORT_CONTROL, a word, maybe '\t' and arguments, '\n'. */
	if (len < 2 || data[len - 1] != '\n')
		return;
	size_t n = len - 2;
	if (n >= 5 && memcmp(data + 1, "check", 5) == 0) {
		obey_check(c);
	} else if (n >= 5 && memcmp(data + 1, "kick\t", 5) == 0 &&
	           n - 5 < sizeof args) {
		memcpy(args, data + 6, n - 5);
		args[n - 5] = '\0';
		obey_kick(c, args);
	}
}

/* ---- a muted member ---- */

/* Legacy "Bob: {...}": WebRTC signalling, which a muted member may still
 * send (a call is not the room). */
static bool is_signalling(const struct request *rq)
{
	if (rq->kind == REQUEST_SIGNAL)
		return true;
	if (rq->kind != REQUEST_TEXT)
		return false;
	const char *space = memchr(rq->text, ' ', rq->len);
	return space && space > rq->text && space[-1] == ':' &&
	       signalling_is_attempt(space + 1,
	                             rq->len - (size_t)(space - rq->text) - 1);
}

bool moderate_silenced(struct chat *c, const struct request *rq)
{
	char message[128];
	time_t now = time(NULL);
	if (!c->muted_until || rq->kind == REQUEST_EMPTY ||
	    rq->kind == REQUEST_REFUSED || is_signalling(rq))
		return false;
	if (now >= c->muted_until) {
		c->muted_until = 0;
		return false;
	}
	snprintf(message, sizeof message, "message not sent: you are muted "
	         "for %ld more minutes",
	         moderation_minutes_left(c->muted_until, now));
	chat_tell(c, REFUSAL_MUTED, message);
	return true;
}

/* ---- a moderator's command ---- */

static void tell_absent(struct chat *c, const char *target)
{
	char message[MOD_TARGET_MAX + 64];
	snprintf(message, sizeof message, "%s is not in the room", target);
	chat_tell(c, REFUSAL_NOT_PRESENT, message);
}

/* /kick: to its target's process, which must be here. */
static bool kick(struct chat *c, const struct mod_command *cmd)
{
	char line[MOD_TEXT_MAX + MOD_TARGET_MAX + 16];
	int member = transport_find(&c->transport, cmd->target);
	if (member < 0) {
		tell_absent(c, cmd->target);
		return false;
	}
	int n = snprintf(line, sizeof line, "%ckick\t%s\t%s\n", TRANSPORT_CONTROL,
	                 c->name, cmd->text);
	int rc = n > 0 && (size_t)n < sizeof line
	         ? send_control(c, member, line, (size_t)n) : -1;
	transport_drop_member(&c->transport, member);
	if (rc < 0) {
		tell_absent(c, cmd->target);
		return false;
	}
	return true;
}

/* What lasts: to the room's moderation file. */
static bool store(struct chat *c, const struct mod_command *cmd, time_t now)
{
	struct mod_state st;
	moderation_state_init(&st);
	int rc = update(c, cmd, now, &st);
	int saved = errno;
	moderation_state_free(&st);
	errno = saved;
	if (rc == 0)
		return true;
	fprintf(stderr, "chat_server: cannot store the moderation of %s: %s\n",
	        c->room, strerror(errno));
	if (errno == ETIMEDOUT)
		chat_tell(c, REFUSAL_BUSY, "not done: the room's moderation file "
		          "is busy; try again in a moment");
	else
		chat_tell(c, REFUSAL_SERVER, errno == ENOSPC
		          ? "not done: the room has too many bans or mutes"
		          : "not done: the room's moderation file cannot be "
		            "written");
	return false;
}

/* Bans and mutes are of a name as the identity gave it (a member shown
 * as "Bob1" is a second "Bob") or of an address: every member checks. */
static void tell_targets(struct chat *c, const struct mod_command *cmd)
{
	if (cmd->action == MOD_BAN || cmd->action == MOD_MUTE ||
	    cmd->action == MOD_UNMUTE)
		check_everybody(c);
}

static void run(struct chat *c, const struct mod_command *cmd)
{
	time_t now = time(NULL);
	if (cmd->action == MOD_KICK ? !kick(c, cmd) : !store(c, cmd, now))
		return;
	/* Before the result line: whoever reads that line in the log has
	 * had the order in its inbox first. */
	tell_targets(c, cmd);
	if (moderation_result(cmd, &c->result) < 0 ||
	    format_result(&c->line, now, c->name, c->result.data,
	                  c->result.len) < 0 ||
	    chat_append(c) < 0)
		chat_refuse(c);
	if (moderation_audit(c->log_fd, c->cfg->file_mode, now,
	                     c->name, cmd) < 0)
		fprintf(stderr, "chat_server: cannot write the moderation log: "
		        "%s\n", strerror(errno));
}

bool moderate_command(struct chat *c, const char *text, size_t len)
{
	struct mod_command cmd;
	char err[160];
	int rc = moderation_parse(text, len, &cmd, err, sizeof err);
	if (rc == 0)
		return false;
	if (!(c->roles & ROLE_MODERATOR)) {
		size_t word = strcspn(text, " ");
		snprintf(err, sizeof err, "not done: only moderators may use %.*s",
		         (int)(word < 20 ? word : 20), text);
		chat_tell(c, REFUSAL_NOT_MODERATOR, err);
	} else if (rc < 0) {
		chat_tell(c, REFUSAL_COMMAND, err);
	} else {
		run(c, &cmd);
	}
	return true;
}
