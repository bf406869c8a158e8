#include "loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

int loop_open(struct loop *l)
{
	memset(l, 0, sizeof *l);
	for (int s = 0; s < LOOP_SOURCES; s++)
		l->fd[s] = -1;
	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return l->epoll_fd < 0 ? -1 : 0;
}

int loop_set_fd(struct loop *l, enum loop_source s, int fd)
{
	if (loop_want(l, s, 0) < 0)
		return -1;
	l->fd[s] = fd;
	l->always_ready[s] = false;
	return 0;
}

/* The one epoll_ctl call that takes the interest from old to now. */
static int tell_kernel(struct loop *l, enum loop_source s, uint32_t old,
                       uint32_t now)
{
	struct epoll_event ev = { .events = now, .data.u32 = (uint32_t)s };
	int op = !old ? EPOLL_CTL_ADD : !now ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
	return epoll_ctl(l->epoll_fd, op, l->fd[s], &ev);
}

int loop_want(struct loop *l, enum loop_source s, uint32_t events)
{
	uint32_t old = l->events[s];
	if (l->fd[s] < 0 || old == events)
		return 0;
	if (!l->always_ready[s] && tell_kernel(l, s, old, events) < 0) {
		if (errno != EPERM)
			return -1;
		l->always_ready[s] = true; /* a regular file: poll says ready */
	}
	l->events[s] = events;
	return 0;
}

/* Sources that are ready without asking the kernel. */
static int mark_always_ready(const struct loop *l, bool ready[LOOP_SOURCES])
{
	int n = 0;
	for (int s = 0; s < LOOP_SOURCES; s++) {
		ready[s] = l->always_ready[s] && l->events[s];
		n += ready[s];
	}
	return n;
}

int loop_wait(struct loop *l, int timeout_ms, bool ready[LOOP_SOURCES])
{
	struct epoll_event ev[LOOP_SOURCES];
	int n = mark_always_ready(l, ready);
	int got = epoll_wait(l->epoll_fd, ev, LOOP_SOURCES, n ? 0 : timeout_ms);
	if (got < 0)
		return -1;
	for (int i = 0; i < got; i++) {
		uint32_t s = ev[i].data.u32;
		if (s < LOOP_SOURCES && !ready[s]) {
			ready[s] = true;
			n++;
		}
	}
	return n;
}

void loop_close(struct loop *l)
{
	if (l->epoll_fd >= 0)
		close(l->epoll_fd);
	l->epoll_fd = -1;
}
