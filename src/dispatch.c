#include "dispatch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "format.h"
#include "parse.h"
#include "rng.h"
#include "route.h"
#include "signalling.h"

static void run_command_locked(struct chat *c, const char *text, size_t len)
{
	const struct command_env env = { &c->presence, rng_uniform, NULL };
	enum command_outcome outcome = command_run(text, len, &env, &c->result);
	if (outcome == COMMAND_REFUSED) {
		chat_tell(c, c->result.data);
		return;
	}
	if (outcome == COMMAND_FAILED ||
	    format_result(&c->line, time(NULL), c->presence.name,
	                  c->result.data, c->result.len) < 0 ||
	    chat_append(c) < 0) {
		chat_refuse(c);
		return;
	}
	if (outcome == COMMAND_RESULT_USERLIST && chat_append_userlist(c) < 0)
		chat_refuse(c);
}

/* /color changes membership data, so commands run under the room lock. */
static void run_command(struct chat *c, const char *text, size_t len)
{
	if (chat_lock_room(c) < 0) {
		chat_refuse(c);
		return;
	}
	run_command_locked(c, text, len);
	chat_unlock_room(c);
}

/* What the room log keeps of a whisper depends on WHISPER_LOG. */
static void log_whisper(struct chat *c, const char *target)
{
	int rc = 0;
	if (c->cfg->whisper_log == WHISPER_LOG_NOTICE)
		rc = format_whisper_notice(&c->line, time(NULL), c->presence.name,
		                           target) < 0 ? -1 : chat_append(c);
	else if (c->cfg->whisper_log == WHISPER_LOG_FULL)
		rc = chat_append(c); /* the whisper line itself */
	if (rc < 0)
		chat_refuse(c);
}

static void tell_undelivered(struct chat *c, const char *target)
{
	char message[PRESENCE_NAME_MAX + 96];
	snprintf(message, sizeof message, "%s %s", target,
	         errno == EAGAIN ? "is not keeping up; message not delivered"
	                         : "has left the room; message not delivered");
	chat_tell(c, message);
}

/* Signalling goes to the target alone; a whisper to the target, back to
 * the sender, and to the log as WHISPER_LOG says. */
static void send_private(struct chat *c, const char *msg, size_t len,
                         const struct route *r)
{
	enum signalling_kind kind = signalling_check(r->text, r->text_len,
	                                             &c->relay);
	if (kind == SIGNALLING_MALFORMED || kind == SIGNALLING_TOO_LARGE) {
		chat_tell(c, signalling_error_text(kind));
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
	if (errno == ESRCH && c->room_lock >= 0 && chat_append_userlist(c) < 0) {
		chat_refuse(c);
		return;
	}
	if (format_message(&c->line, time(NULL), c->presence.name, msg, len) < 0 ||
	    chat_append(c) < 0)
		chat_refuse(c);
}

/* With WHISPER_LOG=full, followers tell a whisper from an ordinary line by
 * the membership the log shows, so deciding and appending must not be
 * split by a join or a quit. */
static void send_message(struct chat *c, const char *msg, size_t len)
{
	bool locked = c->cfg->whisper_log == WHISPER_LOG_FULL;
	if (locked && chat_lock_room(c) < 0) {
		chat_refuse(c);
		return;
	}
	send_message_locked(c, msg, len);
	if (locked)
		chat_unlock_room(c);
}

void dispatch_line(struct chat *c, char *text, size_t len)
{
	switch (parse_request(text, &len)) {
	case REQUEST_EMPTY:
		return;
	case REQUEST_BAD_UTF8:
		chat_tell(c, "message not sent: it is not valid UTF-8 text");
		return;
	case REQUEST_COMMAND:
		run_command(c, text, len);
		return;
	case REQUEST_MESSAGE:
		send_message(c, text, len);
		return;
	}
}

