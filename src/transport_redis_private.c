#include "transport_redis_conn.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

/* ---- private lines ---- */

int redis_tr_open_private(void *st)
{
	struct redis_tr *r = st;
	r->private_open = true;
	r->priv_pos = (struct stream_id){ 0, 0 };
	/* A line sent before we listened was announced to nobody: look. */
	r->priv_behind = true;
	redis_tr_signal_private(r, true);
	return 0;
}

int redis_tr_private_fd(void *st)
{
	const struct redis_tr *r = st;
	return r->private_open ? r->private_fd : -1;
}

struct taking {
	struct redis_tr *r;
	struct buf *out;
	int rc;
};

static int take_private(void *ctx, const struct stream_id *id,
                        const char *line, size_t len)
{
	struct taking *t = ctx;
	t->r->priv_pos = *id;
	t->rc = buf_append(t->out, line, len) < 0 ? -1 : 1;
	return 0;
}

int redis_tr_receive(void *st, struct buf *out)
{
	struct redis_tr *r = st;
	struct taking t = { r, out, 0 };
	out->len = 0;
	if (r->down || !r->private_open)
		return 0;
	char key[REDIS_KEY_MAX];
	redis_room_private_key(&r->room, r->conn, key);
	if (redis_stream_range(&r->room, key, &r->priv_pos, 1, take_private,
	                       &t) < 0) {
		redis_tr_down(r);
		return 0;
	}
	char id[STREAM_ID_MAX];
	stream_id_format(&r->priv_pos, id);
	if (t.rc == 1 && redis_room_private_taken(&r->room, r->conn, id,
	                                          out->len) < 0) {
		redis_tr_down(r);
		return 1; /* the line is ours: shown, whatever comes after */
	}
	if (t.rc == 0) {
		r->priv_behind = false;
		r->private_first = false; /* the room's lines may follow */
		redis_tr_signal_private(r, false);
		redis_tr_rest_writer(r); /* the join's first look */
	}
	return t.rc;
}

void redis_tr_close_private(void *st)
{
	struct redis_tr *r = st;
	r->private_open = false;
	r->private_first = false;
}

int redis_tr_find(void *st, const char *name)
{
	struct redis_tr *r = st;
	int slot = 0;
	while (slot < CHANNELS_MAX && r->members[slot].used)
		slot++;
	if (slot == CHANNELS_MAX) {
		errno = EMFILE;
		return -1;
	}
	struct member_handle *m = &r->members[slot];
	int rc = r->down ? -1 : redis_room_member_conn(&r->room, name, m->conn);
	int alive = rc == 1 ? redis_room_member_alive(&r->room, name) : rc;
	if (rc < 0 || alive < 0) {
		if (!r->down)
			redis_tr_down(r);
		errno = ENOTCONN; /* the room is unavailable, not the member */
		return -1;
	}
	if (rc == 0 || alive == 0) {
		errno = rc == 0 ? ENOENT : ESRCH;
		return -1;
	}
	snprintf(m->name, sizeof m->name, "%s", name);
	m->used = true;
	return slot;
}

bool redis_tr_same_member(void *st, int a, int b)
{
	const struct redis_tr *r = st;
	return a >= 0 && b >= 0 && a < CHANNELS_MAX && b < CHANNELS_MAX &&
	       strcmp(r->members[a].conn, r->members[b].conn) == 0;
}

void redis_tr_drop_member(void *st, int member)
{
	struct redis_tr *r = st;
	if (member >= 0 && member < CHANNELS_MAX)
		r->members[member].used = false;
}

/* A channel is a descriptor that polls writable, as the seam asks: a
 * Redis stream never makes a sender wait. */
int redis_tr_connect(void *st, int member)
{
	struct redis_tr *r = st;
	for (int i = 0; i < CHANNELS_MAX; i++)
		if (r->channels[i].fd < 0) {
			int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (fd < 0)
				return -1;
			r->channels[i] = (struct channel){ fd, member };
			return fd;
		}
	errno = EMFILE;
	return -1;
}

static struct channel *channel_of(struct redis_tr *r, int fd)
{
	for (int i = 0; i < CHANNELS_MAX; i++)
		if (fd >= 0 && r->channels[i].fd == fd)
			return &r->channels[i];
	return NULL;
}

int redis_tr_send(void *st, int channel, const char *line, size_t len)
{
	struct redis_tr *r = st;
	const struct channel *ch = channel_of(r, channel);
	if (!ch || ch->member < 0 || ch->member >= CHANNELS_MAX || r->down) {
		errno = ECONNREFUSED;
		return -1;
	}
	const struct member_handle *m = &r->members[ch->member];
	int rc = redis_room_send_private(&r->room, m->name, m->conn, line, len);
	if (rc < 0)
		redis_tr_down(r);
	if (rc == 2) {
		/* Full: the channel stops polling writable, so the sender
		 * waits its bound and gives up (the seam's EAGAIN). */
		uint64_t most = UINT64_MAX - 1;
		(void)!write(ch->fd, &most, sizeof most);
		errno = EAGAIN;
		return -1;
	}
	if (rc <= 0) {
		errno = ECONNREFUSED;
		return -1;
	}
	return 0;
}

void redis_tr_hang_up(void *st, int channel)
{
	struct redis_tr *r = st;
	int saved = errno;
	struct channel *ch = channel_of(r, channel);
	if (ch) {
		close(ch->fd);
		ch->fd = -1;
	}
	errno = saved;
}

void redis_tr_close_channels(struct redis_tr *r)
{
	for (int i = 0; i < CHANNELS_MAX; i++)
		if (r->channels[i].fd >= 0)
			close(r->channels[i].fd);
}
