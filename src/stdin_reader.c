#include "stdin_reader.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 4096

void input_init(struct input *in, int fd, size_t max_line)
{
	in->fd = fd;
	in->max_line = max_line;
	/* One line plus one read is all that is ever held. */
	buf_init(&in->pending, max_line + READ_CHUNK + 1);
	in->taken = 0;
	in->skipping = false;
	in->eof = false;
}

long input_fill(struct input *in)
{
	buf_consume(&in->pending, in->taken);
	in->taken = 0;
	/* A long line (a WebRTC offer) must not keep its buffer for the life
	 * of the connection. */
	buf_shrink(&in->pending, READ_CHUNK * 2);
	char *room = buf_grow(&in->pending, READ_CHUNK);
	if (!room)
		return -1;
	ssize_t n;
	do
		n = read(in->fd, room, READ_CHUNK);
	while (n < 0 && errno == EINTR);
	/* Only the bytes read stay. */
	in->pending.len -= READ_CHUNK - (size_t)(n > 0 ? n : 0);
	in->pending.data[in->pending.len] = '\0';
	if (n < 0)
		return -1;
	if (n == 0)
		in->eof = true;
	return n;
}

/* Drops bytes of an over-long line up to and including its newline. */
static void skip_rest(struct input *in)
{
	char *nl = in->pending.len ? memchr(in->pending.data, '\n',
	                                    in->pending.len) : NULL;
	if (!nl) {
		buf_clear(&in->pending);
		return;
	}
	buf_consume(&in->pending, (size_t)(nl - in->pending.data) + 1);
	in->skipping = false;
}

enum input_event input_next(struct input *in, char **line, size_t *len)
{
	buf_consume(&in->pending, in->taken);
	in->taken = 0;
	if (in->skipping)
		skip_rest(in);
	if (in->skipping || in->pending.len == 0)
		return INPUT_NONE;
	char *data = in->pending.data;
	char *nl = memchr(data, '\n', in->pending.len);
	size_t n = nl ? (size_t)(nl - data) : in->pending.len;
	if (n > in->max_line) {
		in->skipping = true;
		skip_rest(in);
		return INPUT_TOO_LONG;
	}
	if (!nl && !in->eof)
		return INPUT_NONE;
	data[n] = '\0';
	in->taken = nl ? n + 1 : n;
	*line = data;
	*len = n;
	return INPUT_LINE;
}

void input_free(struct input *in)
{
	buf_free(&in->pending);
}
