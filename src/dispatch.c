#include "dispatch.h"

#include <poll.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "elapsed.h"
#include "flood.h"
#include "format.h"
#include "parse.h"
#include "rng.h"
#include "route.h"
#include "signalling.h"

#define PRIVATE_WAIT_MS 1000


/* MAX_MESSAGE_BYTES bounds what reaches the log or another person, except
 * WebRTC signalling, which has its own bound. */
static bool too_long(struct chat *c, size_t len)
{
	char message[96];
	if (len <= (size_t)c->cfg->max_message_bytes)
		return false;
	snprintf(message, sizeof message, "message not sent: it is longer than "
	         "%d bytes", c->cfg->max_message_bytes);
	chat_tell(c, message);
	return true;
}

/* The old browser client takes any line that contains these for a server
 * line (and puts user list entries into the page as HTML). */
static bool misleads_old_clients(struct chat *c, const char *text, size_t len)
{
	static const char *const server_words[] = { "Userlist: ",
	                                            "Welcome to the chat room" };
	if (!c->cfg->legacy_client)
		return false;
	for (size_t i = 0; i < 2; i++) {
		if (memmem(text, len, server_words[i], strlen(server_words[i]))) {
			chat_tell(c, "message not sent: chat clients would take it "
			             "for a line from the server");
			return true;
		}
	}
	return false;
}

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
	if (rc < 0) {
		char message[256];
		snprintf(message, sizeof message, "whisper delivered, but not "
		         "recorded in the room log: %s", strerror(errno));
		chat_tell(c, message);
	}
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
/* Hands c->line to a member's inbox, waiting at most PRIVATE_WAIT_MS while
 * its queue is full and meanwhile taking in our own inbox (it may be
 * waiting for us just the same). */
static int send_to_inbox(struct chat *c, int member_fd)
{
	int fd = inbox_connect(c->run_fd, member_fd);
	if (fd < 0)
		return -1;
	struct timespec start = elapsed_start();
	int rc;
	while ((rc = inbox_try_send(fd, c->line.data, c->line.len)) < 0 &&
	       errno == EAGAIN) {
		long left = PRIVATE_WAIT_MS - elapsed_ms(&start);
		/* As the loop does: our inbox only while the browser keeps up
		 * (else poll would wake at once, again and again), stdout while
		 * it has lines waiting. */
		struct pollfd p[3] = {
			{ fd, POLLOUT, 0 },
			{ output_has_room(&c->output) ? c->inbox.fd : -1, POLLIN, 0 },
			{ output_pending(&c->output) ? c->output.fd : -1, POLLOUT, 0 },
		};
		if (left <= 0 || poll(p, 3, (int)left) < 0 ||
		    (p[1].revents && chat_read_inbox(c) < 0))
			break;
		output_flush(&c->output);
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static void send_private(struct chat *c, const char *msg, size_t len,
                         const struct route *r)
{
	enum signalling_kind kind = signalling_check(r->text, r->text_len,
	                                             &c->relay);
	if (kind == SIGNALLING_MALFORMED || kind == SIGNALLING_TOO_LARGE) {
		chat_tell(c, signalling_error_text(kind));
		return;
	}
	if (kind == SIGNALLING_NONE && too_long(c, len))
		return;
	int rc = kind == SIGNALLING_NONE
	         ? format_message(&c->line, time(NULL), c->presence.name, msg, len)
	         : format_private(&c->line, time(NULL), c->presence.name,
	                          r->target, c->relay.data, c->relay.len);
	buf_done(&c->relay, MESSAGE_KEEP);
	if (rc < 0 || send_to_inbox(c, r->member_fd) < 0) {
		tell_undelivered(c, r->target);
		return;
	}
	if (kind != SIGNALLING_NONE)
		return;
	if (strcmp(r->target, c->presence.name) != 0)
		output_push(&c->output, c->line.data, c->line.len);
	log_whisper(c, r->target);
}

static void reap_dead(struct chat *c)
{
	bool locked = c->room_lock >= 0;
	if (!locked && chat_lock_room(c) < 0)
		return;
	if (chat_append_userlist(c) < 0)
		chat_refuse(c);
	if (!locked)
		chat_unlock_room(c);
}

/* Signalling is never published: to nobody present, it is refused. */
static bool stray_signalling(struct chat *c, const struct route *r)
{
	if (!r->target[0] || !signalling_is_attempt(r->text, r->text_len))
		return false;
	char message[PRESENCE_NAME_MAX + 64];
	snprintf(message, sizeof message, "signalling not sent: %s is not in "
	         "the room", r->target);
	chat_tell(c, message);
	return true;
}

static void send_message_locked(struct chat *c, const char *msg, size_t len)
{
	struct route r;
	enum route_kind kind = route_message(msg, len, c->users_fd, c->room, &r);
	if (kind != ROUTE_ROOM)
		chat_append_batch(c); /* what was said before goes first */
	switch (kind) {
	case ROUTE_PRIVATE:
		send_private(c, msg, len, &r);
		close(r.member_fd);
		return;
	case ROUTE_GONE:
		/* Bob died unseen (his file is still there, so the sender saw
		 * him present): dropped like a whisper to one who just left,
		 * never published; the room learns he is gone. */
		errno = ESRCH;
		tell_undelivered(c, r.target);
		reap_dead(c);
		return;
	case ROUTE_ROOM:
		break;
	}
	if (stray_signalling(c, &r) || too_long(c, len))
		return;
	if (format_message(&c->line, time(NULL), c->presence.name, msg, len) < 0 ||
	    chat_append_soon(c) < 0)
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

/* Charges the client's address; false when the line is refused. */
static bool pay(struct chat *c, double cost)
{
	switch (flood_charge(&c->flood, cost)) {
	case FLOOD_OK:
		return true;
	case FLOOD_REFUSE:
		chat_tell(c, "message not sent: too many messages from your "
		             "address; slow down");
		return false;
	case FLOOD_KICK:
		chat_tell(c, "disconnected: far too many messages from your "
		             "address");
		c->ending = true;
		return false;
	}
	return true;
}

/* About a point a message, one more per KiB.  WebRTC signalling ("Bob:
 * {...}") comes in bursts of candidates and costs a quarter. */
static double line_cost(const char *text, size_t len)
{
	const char *space = memchr(text, ' ', len);
	bool signalling = space && space > text && space[-1] == ':' &&
	                  signalling_is_attempt(space + 1,
	                                        len - (size_t)(space - text) - 1);
	return signalling ? 0.25 + (double)len / 16384
	                  : 1.0 + (double)len / 1024;
}

void dispatch_too_long(struct chat *c)
{
	if (pay(c, 5.0))
		chat_tell(c, "message not sent: it is too long");
}

void dispatch_line(struct chat *c, char *text, size_t len)
{
	if (len > 0 && !pay(c, line_cost(text, len)))
		return;
	enum request_kind kind = parse_request(text, &len);
	if (kind != REQUEST_BAD_UTF8 && misleads_old_clients(c, text, len))
		return;
	switch (kind) {
	case REQUEST_EMPTY:
		return;
	case REQUEST_BAD_UTF8:
		chat_tell(c, "message not sent: it is not valid UTF-8 text");
		return;
	case REQUEST_COMMAND:
		chat_append_batch(c); /* what was said before goes first */
		if (!too_long(c, len))
			run_command(c, text, len);
		return;
	case REQUEST_MESSAGE:
		send_message(c, text, len);
		return;
	}
}

