#include "archive_relay.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "archive.h"
#include "buf.h"
#include "elapsed.h"
#include "redis_link.h"
#include "redis_cmd.h"
#include "redis_reply.h"
#include "redis_room.h"
#include "relay_channels.h"
#include "rundir.h"

/* A reply of the relay's link waits this long (a confirmation). */
#define RELAY_REPLY_WAIT_MS 2000
#define SAY "chat_server --archive: relay: "

struct relay_member {
	int fd;
	struct relay_member *prev, *next; /* relay.members */
	struct redis_parser *parser; /* until its SUBSCRIBE */
	char *slot_key; /* CLIENT SETNAME: its address's connection slots */
	struct relay_channel *ch[RELAY_MEMBER_CHANNELS];
	size_t n_ch;
	bool confirmed; /* its subscriptions confirmed: it hears messages */
	bool gone;      /* to be freed at the end of the loop's turn */
	bool writing;   /* EPOLLOUT asked */
	struct buf out; /* bytes the socket did not take yet */
	/* Per channel, the last message held back (RELAY_OUT_MAX). */
	struct buf owed[RELAY_MEMBER_CHANNELS];
};

struct relay {
	const struct redis_url *url;
	int epoll_fd, listen_fd, stop_fd, timer_fd, state_fd;
	ino_t socket_ino; /* the socket file we made */
	const char *prefix;      /* REDIS_KEY_PREFIX */
	struct redis_link *link; /* NULL while Redis is unreachable */
	int link_tag;            /* its epoll tag (the address) */
	long long client_id;     /* the link's CLIENT ID */
	char run_id[REDIS_RUN_ID_MAX + 1];
	/* For the word that a member is gone: replies read as they come,
	 * nobody waits for them. */
	struct redis_link *cmd_link;
	int cmd_tag;
	size_t cmd_pending;
	struct buf info;         /* INFO server as it was read */
	struct relay_channels channels;
	struct relay_member *members; /* a list, newest first */
	struct buf message; /* one message's bytes, for every listener */
	bool down, stop, accept_paused;
	long backoff_ms;
	char err[512];
};

/* ---- members: sending ---- */

static void watch_member(struct relay *r, struct relay_member *m,
                         bool writing)
{
	struct epoll_event ev = { .events = EPOLLIN | (writing ? EPOLLOUT : 0),
	                          .data.ptr = m };
	if (m->writing != writing &&
	    epoll_ctl(r->epoll_fd, EPOLL_CTL_MOD, m->fd, &ev) == 0)
		m->writing = writing;
}

static void drop_member(struct relay_member *m)
{
	m->gone = true;
}

/* Bytes to the member: written now as far as its socket takes them, the
 * rest queued behind what waits already. */
static void send_member(struct relay *r, struct relay_member *m,
                        const char *bytes, size_t n)
{
	size_t done = 0;
	while (m->out.len == 0 && done < n) {
		ssize_t w = send(m->fd, bytes + done, n - done, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN) {
			drop_member(m);
			return;
		}
		if (w < 0)
			break;
		done += (size_t)w;
	}
	if (done < n && buf_append(&m->out, bytes + done, n - done) < 0) {
		drop_member(m); /* out of memory */
		return;
	}
	watch_member(r, m, m->out.len > 0);
}

static void send_text(struct relay *r, struct relay_member *m,
                      const char *text)
{
	send_member(r, m, text, strlen(text));
}

/* The member's socket takes more: what waits goes, then what was held
 * back, the last message of each channel. */
static void member_writable(struct relay *r, struct relay_member *m)
{
	while (m->out.len > 0) {
		ssize_t w = send(m->fd, m->out.data, m->out.len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (errno != EAGAIN)
				drop_member(m);
			return;
		}
		buf_consume(&m->out, (size_t)w);
	}
	buf_shrink(&m->out, 0);
	for (size_t i = 0; i < m->n_ch && !m->gone; i++)
		if (m->owed[i].len > 0) {
			send_member(r, m, m->owed[i].data, m->owed[i].len);
			buf_free(&m->owed[i]);
		}
	watch_member(r, m, m->out.len > 0);
}

/* A message of the member's channel slot: sent, or held back while too
 * much waits (only the channel's last is kept). */
static void forward(struct relay *r, struct relay_member *m, size_t slot,
                    const struct buf *message)
{
	if (!m->confirmed || m->gone)
		return;
	if (m->owed[slot].len > 0 || m->out.len + message->len > RELAY_OUT_MAX) {
		buf_clear(&m->owed[slot]);
		if (buf_append(&m->owed[slot], message->data, message->len) < 0)
			drop_member(m);
		return;
	}
	send_member(r, m, message->data, message->len);
}

/* Its SUBSCRIBE confirmed as Redis confirms one, channel by channel, once
 * every channel is subscribed. */
static void confirm(struct relay *r, struct relay_member *m)
{
	if (m->confirmed || m->n_ch == 0)
		return;
	for (size_t i = 0; i < m->n_ch; i++)
		if (m->ch[i]->state != RELAY_SUBSCRIBED)
			return;
	char head[64];
	for (size_t i = 0; i < m->n_ch; i++) {
		snprintf(head, sizeof head, "*3\r\n$9\r\nsubscribe\r\n$%zu\r\n",
		         m->ch[i]->len);
		send_text(r, m, head);
		send_member(r, m, m->ch[i]->name, m->ch[i]->len);
		snprintf(head, sizeof head, "\r\n:%zu\r\n", i + 1);
		send_text(r, m, head);
	}
	m->confirmed = true;
}

/* ---- the link to Redis ---- */

static void link_failed(struct relay *r);

static void ask_redis(struct relay *r, enum relay_ask ask,
                      const struct relay_channel *ch)
{
	if (ask == RELAY_ASK_NOTHING || !r->link)
		return;
	const char *verb = ask == RELAY_ASK_SUBSCRIBE ? "SUBSCRIBE"
	                                              : "UNSUBSCRIBE";
	const char *const argv[] = { verb, ch->name };
	const size_t lens[] = { strlen(verb), ch->len };
	if (redis_link_send(r->link, 2, argv, lens, r->err, sizeof r->err) < 0 ||
	    redis_link_flush(r->link, r->err, sizeof r->err) < 0)
		link_failed(r);
}

/* Redis's "message" of channel ch: to every member listening there. */
static void relay_message(struct relay *r, struct relay_channel *ch,
                          const redisReply *payload)
{
	char head[96];
	buf_clear(&r->message);
	snprintf(head, sizeof head, "*3\r\n$7\r\nmessage\r\n$%zu\r\n", ch->len);
	bool ok = buf_append_str(&r->message, head) == 0 &&
	          buf_append(&r->message, ch->name, ch->len) == 0;
	snprintf(head, sizeof head, "\r\n$%zu\r\n", payload->len);
	ok = ok && buf_append_str(&r->message, head) == 0 &&
	     buf_append(&r->message, payload->str, payload->len) == 0 &&
	     buf_append(&r->message, "\r\n", 2) == 0;
	if (!ok) {
		fprintf(stderr, SAY "out of memory relaying a message of %s\n",
		        ch->name);
		return;
	}
	for (size_t i = 0; i < ch->n; i++) {
		struct relay_member *m = ch->members[i];
		for (size_t s = 0; s < m->n_ch; s++)
			if (m->ch[s] == ch)
				forward(r, m, s, &r->message);
	}
	buf_shrink(&r->message, 4096);
}

/* One push of the subscribed link: a message, or the confirmation of a
 * (un)subscription. */
static void from_redis(struct relay *r, const redisReply *rep)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_STRING)
		return;
	const char *kind = rep->element[0]->str;
	struct relay_channel *ch = relay_channels_find(&r->channels,
	                                               rep->element[1]->str,
	                                               rep->element[1]->len);
	if (!ch)
		return;
	if (strcmp(kind, "message") == 0 &&
	    rep->element[2]->type == REDIS_REPLY_STRING) {
		if (ch->state == RELAY_SUBSCRIBED)
			relay_message(r, ch, rep->element[2]);
	} else if (strcmp(kind, "subscribe") == 0) {
		enum relay_ask ask = relay_channels_subscribed(&r->channels, ch);
		for (size_t i = 0; i < ch->n; i++)
			confirm(r, ch->members[i]);
		ask_redis(r, ask, ch);
	} else if (strcmp(kind, "unsubscribe") == 0) {
		ask_redis(r, relay_channels_unsubscribed(&r->channels, ch), ch);
	}
}

static void redis_readable(struct relay *r)
{
	do {
		redisReply *rep = redis_link_receive(r->link, r->err,
		                                     sizeof r->err);
		if (!rep) {
			link_failed(r);
			return;
		}
		from_redis(r, rep);
		redis_reply_free(rep);
	} while (r->link && redis_link_buffered(r->link));
}

static void arm_retry(struct relay *r)
{
	struct itimerspec its = { .it_value = {
		r->backoff_ms / 1000, (r->backoff_ms % 1000) * 1000000L } };
	timerfd_settime(r->timer_fd, 0, &its, NULL);
	r->backoff_ms = r->backoff_ms * 2 > ARCHIVE_BACKOFF_MAX_MS
	                ? ARCHIVE_BACKOFF_MAX_MS : r->backoff_ms * 2;
}

/* Redis is gone: so are the members (they reconnect, and read what they
 * missed from the streams), and the channels; it is tried again later. */
static void link_failed(struct relay *r)
{
	if (!r->down)
		fprintf(stderr, SAY "Redis unreachable: %s; its members are "
		        "disconnected until it is back\n", r->err);
	r->down = true;
	for (struct relay_member *m = r->members; m; m = m->next) {
		drop_member(m);
		m->n_ch = 0; /* the channels go now */
	}
	relay_channels_clear(&r->channels);
	redis_link_close(r->link);
	redis_link_close(r->cmd_link);
	r->link = r->cmd_link = NULL;
	r->cmd_pending = 0;
	arm_retry(r);
}

/* Replies to the words that members are gone: read and let go. */
static void cmd_readable(struct relay *r)
{
	do {
		redisReply *rep = r->cmd_pending
		                  ? redis_link_receive(r->cmd_link, r->err,
		                                       sizeof r->err)
		                  : NULL;
		if (!rep) {
			link_failed(r); /* or a reply nobody asked for */
			return;
		}
		if (rep->type == REDIS_REPLY_ERROR)
			fprintf(stderr, SAY "a member's departure: %.*s\n",
			        (int)rep->len, rep->str);
		redis_reply_free(rep);
		r->cmd_pending--;
	} while (redis_link_buffered(r->cmd_link));
}

/* The link's CLIENT ID and the server's INFO, which members ask for. */
static int learn_server(struct relay *r)
{
	const char *const id[] = { "CLIENT", "ID" };
	const char *const info[] = { "INFO", "server" };
	const size_t id_lens[] = { 6, 2 }, info_lens[] = { 4, 6 };
	redisReply *a = redis_link_command(r->link, 2, id, id_lens, r->err,
	                                   sizeof r->err);
	redisReply *b = a ? redis_link_command(r->link, 2, info, info_lens,
	                                       r->err, sizeof r->err) : NULL;
	bool ok = a && b && a->type == REDIS_REPLY_INTEGER &&
	          b->type == REDIS_REPLY_STRING;
	if (a && b && !ok)
		snprintf(r->err, sizeof r->err, "no CLIENT ID or INFO");
	/* The run as every reader of INFO takes it (redis_link.h), and a
	 * server too old refused as the members would refuse it. */
	long long started;
	ok = ok && redis_link_learn_run(r->link, b, r->err,
	                                sizeof r->err) == 0 &&
	     redis_link_server_run(r->link, r->run_id, &started, r->err,
	                           sizeof r->err) == 0;
	if (ok) {
		r->client_id = a->integer;
		buf_clear(&r->info);
		ok = buf_append(&r->info, b->str, b->len) == 0;
	}
	redis_reply_free(a);
	redis_reply_free(b);
	return ok ? 0 : -1;
}

static void connect_redis(struct relay *r)
{
	r->err[0] = '\0';
	r->link = redis_link_open(r->url, RELAY_REPLY_WAIT_MS, r->err,
	                          sizeof r->err);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &r->link_tag };
	r->cmd_link = r->link ? redis_link_open(r->url, RELAY_REPLY_WAIT_MS,
	                                        r->err, sizeof r->err)
	                      : NULL;
	struct epoll_event cmd_ev = { .events = EPOLLIN,
	                              .data.ptr = &r->cmd_tag };
	if (!r->cmd_link || learn_server(r) < 0 ||
	    epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, redis_link_fd(r->link),
	              &ev) < 0 ||
	    epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, redis_link_fd(r->cmd_link),
	              &cmd_ev) < 0) {
		if (r->cmd_link && !r->err[0])
			snprintf(r->err, sizeof r->err, "%s", strerror(errno));
		redis_link_close(r->link);
		redis_link_close(r->cmd_link);
		r->link = r->cmd_link = NULL;
		if (!r->down)
			fprintf(stderr, SAY "Redis unreachable: %s\n", r->err);
		r->down = true;
		arm_retry(r);
		return;
	}
	if (r->down)
		fprintf(stderr, SAY "Redis reachable again\n");
	r->down = false;
	r->backoff_ms = ARCHIVE_BACKOFF_MIN_MS;
}

/* ---- members: what they ask ---- */

static bool is(const redisReply *arg, const char *word)
{
	return arg->type == REDIS_REPLY_STRING && arg->len == strlen(word) &&
	       strncasecmp(arg->str, word, arg->len) == 0;
}

static void subscribe(struct relay *r, struct relay_member *m,
                      const redisReply *cmd)
{
	size_t n = cmd->elements - 1;
	if (m->n_ch > 0 || n == 0 || n > RELAY_MEMBER_CHANNELS) {
		send_text(r, m, "-ERR relay: one SUBSCRIBE of 1 to 4 channels\r\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const redisReply *name = cmd->element[i + 1];
		enum relay_ask ask;
		struct relay_channel *ch = name->type == REDIS_REPLY_STRING
		                           ? relay_channels_join(&r->channels,
		                                                 name->str,
		                                                 name->len, m, &ask)
		                           : NULL;
		if (!ch) {
			drop_member(m);
			return;
		}
		m->ch[m->n_ch++] = ch;
		ask_redis(r, ask, ch);
		if (!r->link)
			return; /* the link failed: m is dropped with the rest */
	}
	/* It only listens from now on. */
	redis_parser_close(m->parser);
	m->parser = NULL;
	confirm(r, m);
}

/* CLIENT SETNAME <key>: the sorted set of the member's connection slots
 * (limits_redis.h), its slot to be let go when it is gone. */
static void set_slot(struct relay *r, struct relay_member *m,
                     const redisReply *key)
{
	char head[REDIS_KEY_MAX];
	snprintf(head, sizeof head, "%sconn:", r->prefix);
	if (key->len <= strlen(head) || key->len >= REDIS_KEY_MAX ||
	    strncmp(key->str, head, strlen(head)) != 0 ||
	    memchr(key->str, '\0', key->len)) {
		send_text(r, m, "-ERR relay: not a key of connection slots\r\n");
		return;
	}
	free(m->slot_key);
	m->slot_key = strdup(key->str);
	send_text(r, m, m->slot_key ? "+OK\r\n" : "-ERR out of memory\r\n");
}

static void answer(struct relay *r, struct relay_member *m,
                   const redisReply *cmd)
{
	char text[64];
	for (size_t i = 0; i < cmd->elements; i++)
		if (cmd->element[i]->type != REDIS_REPLY_STRING) {
			drop_member(m); /* not a command */
			return;
		}
	const redisReply *verb = cmd->elements ? cmd->element[0] : NULL;
	if (verb && is(verb, "SUBSCRIBE")) {
		subscribe(r, m, cmd);
	} else if (verb && is(verb, "CLIENT") && cmd->elements == 2 &&
	           is(cmd->element[1], "ID")) {
		snprintf(text, sizeof text, ":%lld\r\n", r->client_id);
		send_text(r, m, text);
	} else if (verb && is(verb, "INFO")) {
		snprintf(text, sizeof text, "$%zu\r\n", r->info.len);
		send_text(r, m, text);
		send_member(r, m, r->info.data, r->info.len);
		send_text(r, m, "\r\n");
	} else if (verb && is(verb, "PING")) {
		send_text(r, m, "+PONG\r\n");
	} else if (verb && is(verb, "SELECT")) {
		send_text(r, m, "+OK\r\n"); /* the database is the relay's */
	} else if (verb && is(verb, "CLIENT") && cmd->elements == 3 &&
	           is(cmd->element[1], "SETNAME")) {
		set_slot(r, m, cmd->element[2]);
	} else {
		send_text(r, m, "-ERR relay: only CLIENT ID, CLIENT SETNAME, "
		          "INFO, PING, SELECT and SUBSCRIBE are relayed\r\n");
	}
}

static void member_readable(struct relay *r, struct relay_member *m)
{
	char chunk[1024];
	ssize_t n = recv(m->fd, chunk, sizeof chunk, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* Closed, failed, or speaking once subscribed: it goes. */
	if (n <= 0 || !m->parser ||
	    redis_parser_feed(m->parser, chunk, (size_t)n) < 0) {
		drop_member(m);
		return;
	}
	redisReply *cmd;
	int got;
	while (!m->gone && m->parser &&
	       (got = redis_parser_next(m->parser, &cmd)) != 0) {
		if (got < 0 || cmd->type != REDIS_REPLY_ARRAY)
			drop_member(m);
		else
			answer(r, m, cmd);
		redis_reply_free(cmd);
	}
}

/* ---- members: coming and going ---- */

/* Out of descriptors: the socket stays readable, so it is not watched
 * for a second (the timer), and those waiting meanwhile listen on Redis
 * clients of their own when their wait for our answer runs out. */
static void pause_accepting(struct relay *r)
{
	if (epoll_ctl(r->epoll_fd, EPOLL_CTL_DEL, r->listen_fd, NULL) < 0)
		return;
	r->accept_paused = true;
	fprintf(stderr, SAY "out of file descriptors (%s); not taking "
	        "members for a second\n", strerror(errno));
	struct itimerspec its = { .it_value = { 1, 0 } };
	timerfd_settime(r->timer_fd, 0, &its, NULL);
}

static void accept_members(struct relay *r)
{
	for (;;) {
		int fd = accept4(r->listen_fd, NULL, NULL,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE))
			pause_accepting(r);
		if (fd < 0)
			return;
		struct relay_member *m = r->link ? calloc(1, sizeof *m) : NULL;
		if (m)
			m->parser = redis_parser_open(RELAY_REQUEST_MAX, r->err,
			                              sizeof r->err);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = m };
		if (!m || !m->parser ||
		    epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			/* Redis is down (the member reconnects later), or no
			 * memory for it. */
			if (m)
				redis_parser_close(m->parser);
			free(m);
			close(fd);
			continue;
		}
		m->fd = fd;
		buf_init(&m->out, 0);
		for (size_t i = 0; i < RELAY_MEMBER_CHANNELS; i++)
			buf_init(&m->owed[i], 0);
		m->next = r->members;
		if (m->next)
			m->next->prev = m;
		r->members = m;
	}
}

/* A subscribed member's socket closed: its process ended, or it moved.
 * Its record and connection slot say so at once (redis_room_gone_cmd),
 * so that a killed member leaves the room within a second (the next
 * listing, the archiver's at the latest), without waiting for its alive
 * score.  Its private channel, "<prefix>pchan:<room>:<conn>", names it. */
static void say_gone(struct relay *r, const struct relay_member *m)
{
	char head[REDIS_KEY_MAX];
	snprintf(head, sizeof head, "%spchan:", r->prefix);
	const struct relay_channel *priv = NULL;
	for (size_t i = 0; i < m->n_ch; i++)
		if (strncmp(m->ch[i]->name, head, strlen(head)) == 0)
			priv = m->ch[i];
	const char *colon = priv ? strrchr(priv->name, ':') : NULL;
	size_t room_len = colon ? (size_t)(colon - priv->name) - strlen(head)
	                        : 0;
	if (!r->cmd_link || !m->confirmed || !colon || room_len == 0 ||
	    room_len > ROOM_NAME_MAX || strlen(colon + 1) != REDIS_CONN_ID_LEN)
		return;
	char room[ROOM_NAME_MAX + 1], client[REDIS_RUN_ID_MAX + 48];
	char dead[REDIS_RUN_ID_MAX + 4], keys[2][REDIS_KEY_MAX];
	memcpy(room, priv->name + strlen(head), room_len);
	room[room_len] = '\0';
	snprintf(client, sizeof client, "%s:%lld.%s", r->run_id, r->client_id,
	         colon + 1);
	snprintf(dead, sizeof dead, "%s:0", r->run_id);
	struct redis_room rr = { .prefix = r->prefix, .room = room };
	struct redis_cmd c;
	redis_room_gone_cmd(&rr, colon + 1, client, dead, m->slot_key, keys, &c);
	if (redis_link_send(r->cmd_link, c.argc, c.argv, c.lens, r->err,
	                    sizeof r->err) < 0 ||
	    redis_link_flush(r->cmd_link, r->err, sizeof r->err) < 0) {
		link_failed(r);
		return;
	}
	r->cmd_pending++;
}

static void free_member(struct relay *r, struct relay_member *m)
{
	say_gone(r, m);
	for (size_t i = 0; i < m->n_ch; i++)
		ask_redis(r, relay_channels_leave(&r->channels, m->ch[i], m),
		          m->ch[i]);
	close(m->fd);
	free(m->slot_key);
	redis_parser_close(m->parser);
	buf_free(&m->out);
	for (size_t i = 0; i < RELAY_MEMBER_CHANNELS; i++)
		buf_free(&m->owed[i]);
	if (m->prev)
		m->prev->next = m->next;
	else
		r->members = m->next;
	if (m->next)
		m->next->prev = m->prev;
	free(m);
}

/* Members dropped during the loop's turn go at its end: an event of the
 * same turn may still name them. */
static void free_gone(struct relay *r)
{
	struct relay_member *next;
	for (struct relay_member *m = r->members; m; m = next) {
		next = m->next;
		if (m->gone)
			free_member(r, m);
	}
}

/* ---- the loop ---- */

static void member_event(struct relay *r, struct relay_member *m,
                         uint32_t events)
{
	if (!m->gone && (events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN))
		drop_member(m);
	if (!m->gone && (events & EPOLLOUT))
		member_writable(r, m);
	if (!m->gone && (events & EPOLLIN))
		member_readable(r, m);
}

static int watch(struct relay *r, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };
	return epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

static void dispatch(struct relay *r, const struct epoll_event *ev)
{
	void *tag = ev->data.ptr;
	if (tag == &r->stop_fd) {
		r->stop = true;
	} else if (tag == &r->timer_fd) {
		uint64_t ticks;
		if (read(r->timer_fd, &ticks, sizeof ticks) <= 0)
			return;
		if (r->accept_paused &&
		    watch(r, r->listen_fd, &r->listen_fd) == 0)
			r->accept_paused = false;
		if (!r->link)
			connect_redis(r);
	} else if (tag == &r->listen_fd) {
		accept_members(r);
	} else if (tag == &r->link_tag) {
		if (r->link)
			redis_readable(r);
	} else if (tag == &r->cmd_tag) {
		if (r->cmd_link)
			cmd_readable(r);
	} else {
		member_event(r, tag, ev->events);
	}
}

/* The socket members connect to, in place of any left by a relay that
 * died: only one archiver, and so one relay, runs per chat. */
static int listen_members(struct relay *r)
{
	struct sockaddr_un sa;
	if (rundir_socket_address(r->state_fd, RELAY_SOCKET, &sa) < 0)
		return -1;
	unlinkat(r->state_fd, RELAY_SOCKET, 0);
	r->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	                      SOCK_CLOEXEC, 0);
	if (r->listen_fd < 0 ||
	    bind(r->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(r->listen_fd, SOMAXCONN) < 0)
		return -1;
	struct stat st;
	if (fstatat(r->state_fd, RELAY_SOCKET, &st, AT_SYMLINK_NOFOLLOW) == 0)
		r->socket_ino = st.st_ino;
	return watch(r, r->listen_fd, &r->listen_fd);
}

/* Our socket file goes with us, unless a relay started since (after the
 * archiver was killed, this one ending late) made its own. */
static void unlink_socket(const struct relay *r)
{
	struct stat st;
	if (r->socket_ino &&
	    fstatat(r->state_fd, RELAY_SOCKET, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_ino == r->socket_ino)
		unlinkat(r->state_fd, RELAY_SOCKET, 0);
}

static int open_relay(struct relay *r)
{
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	                             TFD_CLOEXEC);
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (r->timer_fd < 0 || r->epoll_fd < 0 ||
	    watch(r, r->stop_fd, &r->stop_fd) < 0 ||
	    watch(r, r->timer_fd, &r->timer_fd) < 0)
		return -1;
	return listen_members(r);
}

static void close_relay(struct relay *r)
{
	for (struct relay_member *m = r->members; m; m = m->next) {
		m->n_ch = 0; /* no unsubscribing on the way out */
		drop_member(m);
	}
	free_gone(r);
	relay_channels_clear(&r->channels);
	redis_link_close(r->link);
	redis_link_close(r->cmd_link);
	unlink_socket(r);
	int fds[] = { r->listen_fd, r->timer_fd, r->epoll_fd };
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	buf_free(&r->info);
	buf_free(&r->message);
}

/* The relay's loop, until stop_fd is readable (the archiver stops it) or
 * it cannot serve: 0, or 1. */
static int run(const struct chat_config *cfg, const struct redis_url *url,
               int state_fd, int stop_fd)
{
	struct relay r = { .url = url, .prefix = cfg->redis_key_prefix,
	                   .state_fd = state_fd, .listen_fd = -1,
	                   .stop_fd = stop_fd, .timer_fd = -1, .epoll_fd = -1,
	                   .backoff_ms = ARCHIVE_BACKOFF_MIN_MS };
	buf_init(&r.info, 0);
	buf_init(&r.message, 0);
	if (open_relay(&r) < 0) {
		fprintf(stderr, SAY "cannot serve on %s: %s\n", RELAY_SOCKET,
		        strerror(errno));
		close_relay(&r);
		return 1;
	}
	connect_redis(&r);
	struct epoll_event evs[64];
	while (!r.stop) {
		int n = epoll_wait(r.epoll_fd, evs, 64, -1);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, SAY "epoll: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++)
			dispatch(&r, &evs[i]);
		free_gone(&r);
	}
	close_relay(&r);
	return r.stop ? 0 : 1;
}

/* ---- the archiver's side ---- */

static void *relay_thread(void *arg)
{
	struct archive_relay *relay = arg;
	relay->status = run(relay->cfg, relay->url, relay->state_fd,
	                    relay->stop_fd);
	atomic_store(&relay->ended, true);
	return NULL;
}

/* A socket per member of the host: as many descriptors as we may have. */
static void raise_descriptors(void)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &lim);
	}
}

int archive_relay_start(struct archive_relay *relay,
                        const struct chat_config *cfg,
                        const struct redis_url *url, int state_fd)
{
	raise_descriptors();
	relay->cfg = cfg;
	relay->url = url;
	relay->state_fd = state_fd;
	relay->status = 0;
	atomic_store(&relay->ended, false);
	relay->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	relay->started = elapsed_start();
	relay->ever = true;
	if (relay->stop_fd < 0)
		return -1;
	int rc = pthread_create(&relay->thread, NULL, relay_thread, relay);
	if (rc != 0) {
		close(relay->stop_fd);
		errno = rc;
		return -1;
	}
	relay->running = true;
	return 0;
}

static void join_relay(struct archive_relay *relay)
{
	pthread_join(relay->thread, NULL);
	close(relay->stop_fd);
	relay->running = false;
}

bool archive_relay_ended(struct archive_relay *relay)
{
	if (!relay->running || !atomic_load(&relay->ended))
		return false;
	join_relay(relay);
	fprintf(stderr, SAY "ended with status %d; starting it again\n",
	        relay->status);
	return true;
}

void archive_relay_stop(struct archive_relay *relay)
{
	if (!relay->running)
		return;
	const uint64_t one = 1;
	(void)!write(relay->stop_fd, &one, sizeof one);
	join_relay(relay);
}
