/* loop: what a connection waits for, and which of it is ready.
 *
 * A connection sleeps on up to six descriptors (signals, stdin, stdout,
 * and the three its room transport names, transport.h: new room lines,
 * private lines, its upkeep) and wakes for one or two of them, thousands
 * of times a minute in a busy room.  poll(2) would ask every descriptor
 * again at every wakeup; epoll keeps the interest in the kernel, so a
 * wakeup costs the same whatever else is watched.  The interest changes
 * only under back-pressure (a full output queue stops reading, a partial
 * write waits for stdout), and only then is the kernel told.
 *
 * A descriptor epoll cannot watch (a regular file or /dev/null as stdin,
 * say) is always ready, as poll(2) would report it. */
#ifndef CHAT_LOOP_H
#define CHAT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

enum loop_source {
	LOOP_SIGNAL,
	LOOP_STDIN,
	LOOP_STDOUT,
	LOOP_ROOM,    /* the room may have new lines (files: inotify) */
	LOOP_PRIVATE, /* a private line waits (files: the inbox) */
	LOOP_UPKEEP,  /* the transport's upkeep wants it (files: a pidfd,
	                 the warden ended: warden.h) */
	LOOP_SOURCES
};

struct loop {
	int epoll_fd;
	int fd[LOOP_SOURCES];          /* -1: none */
	uint32_t events[LOOP_SOURCES]; /* what is asked of it now, 0: nothing */
	bool always_ready[LOOP_SOURCES]; /* epoll refused it (EPERM) */
};

/* Returns 0, or -1 with errno. */
int loop_open(struct loop *l);

/* Sets the descriptor of a source (-1: none), asking for nothing yet. */
int loop_set_fd(struct loop *l, enum loop_source s, int fd);

/* Asks for events (EPOLLIN, EPOLLOUT; 0: nothing) of a source from now on.
 * Free when nothing changes.  Returns 0, or -1 with errno. */
int loop_want(struct loop *l, enum loop_source s, uint32_t events);

/* Waits at most timeout_ms (-1: no limit) and marks the sources that are
 * ready (hang-ups and errors included).  Returns how many are ready, or -1
 * with errno (EINTR: try again). */
int loop_wait(struct loop *l, int timeout_ms, bool ready[LOOP_SOURCES]);

void loop_close(struct loop *l);

#endif
