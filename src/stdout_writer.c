#include "stdout_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "elapsed.h"

int output_init(struct output *o, int fd, size_t limit, size_t low_water)
{
	o->fd = fd;
	o->low_water = low_water;
	buf_init(&o->queue, limit);
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

int output_push(struct output *o, const char *line, size_t len)
{
	return buf_append(&o->queue, line, len);
}

int output_flush(struct output *o)
{
	while (o->queue.len > 0) {
		ssize_t n = write(o->fd, o->queue.data, o->queue.len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		/* Steps past what went out without moving the rest: a
		 * big queue through a small pipe is not copied per write. */
		buf_consume(&o->queue, (size_t)n);
	}
	buf_shrink(&o->queue, OUTPUT_KEEP);
	return 0;
}

bool output_pending(const struct output *o)
{
	return o->queue.len > 0;
}

bool output_has_room(const struct output *o)
{
	return o->queue.len < o->low_water;
}


void output_drain(struct output *o, int timeout_ms)
{
	struct timespec start = elapsed_start();
	while (output_pending(o)) {
		long left = timeout_ms - elapsed_ms(&start);
		struct pollfd p = { .fd = o->fd, .events = POLLOUT };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0 ||
		    output_flush(o) < 0)
			return;
	}
}

void output_free(struct output *o)
{
	buf_free(&o->queue);
}
