/* archive_relay: the host's relay of the rooms' announcements, a thread
 * that `chat_server --archive` (archive.h) runs beside its own loop
 * (docs/scale-out.md, "The relay").  A thread, not a process: it shares
 * the archiver's pages, so that a host pays a few KiB for it, not a
 * process's few hundred; it shares nothing else with the archiver's loop
 * but the configuration and the run directory's descriptor, both read
 * only.
 *
 * Redis 7.0 gives every client a 16 KiB reply buffer and, while it is
 * written to, a 16 KiB query buffer: a member subscribed on a client of
 * its own cost Redis more than a fifth of what its whole process costs.
 * The relay holds one subscribed client for the whole host and hands
 * each message to the members that listen on its channel, the same bytes
 * Redis would have sent them.
 *
 * A member speaks to it as to Redis, on the Unix socket
 * RUN_DIR/archive/relay: CLIENT ID (the relay's own client in Redis),
 * INFO (the server's INFO server, as read when the relay connected), PING,
 * then SUBSCRIBE of up to RELAY_MEMBER_CHANNELS channels, confirmed once
 * Redis confirmed them all; from then on it only listens, and anything it
 * sends ends it.  Other commands get an error reply.
 *
 * A member that does not read is not waited for: past RELAY_OUT_MAX bytes
 * waiting for it, a channel's messages are held back, and only the last
 * of them is sent once it has read what waits.  A member can tell (the
 * announcements of a room carry the id of the line before, and a private
 * one is only a sign that its private stream holds something), and reads
 * what it missed from the streams.
 *
 * Redis unreachable: every member is disconnected (a member reconnects
 * as after any outage), newcomers too, and the link is tried again with a
 * backoff of up to ARCHIVE_BACKOFF_MAX_MS.  Out of descriptors, it takes
 * no member for a second.  Stopped, it removes its socket. */
#ifndef CHAT_ARCHIVE_RELAY_H
#define CHAT_ARCHIVE_RELAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "redis_url.h"

/* The socket's name in RUN_DIR/archive. */
#define RELAY_SOCKET "relay"
/* Channels one member listens on (a room's and its own, and room to
 * spare). */
#define RELAY_MEMBER_CHANNELS 4
/* Bytes waiting for one member past which its messages are held back. */
#define RELAY_OUT_MAX (256 * 1024)
/* The most a member may send before its SUBSCRIBE is read whole. */
#define RELAY_REQUEST_MAX 4096

/* The relay as the archiver runs it: its thread, how to stop it, and
 * when it started.  Zeroed before the first start. */
struct archive_relay {
	pthread_t thread;
	bool running;            /* started, not joined yet */
	atomic_bool ended;       /* the thread returned */
	int status;              /* what it returned: 0, or 1 (it could not
	                            serve) */
	int stop_fd;             /* an eventfd: written to stop it */
	const struct chat_config *cfg;
	const struct redis_url *url;
	int state_fd;
	struct timespec started; /* elapsed.h; once ever is true */
	bool ever;
};

/* Starts the relay's thread, serving on RELAY_SOCKET in the directory
 * state_fd with the config's key prefix and url (both kept as they are
 * while it runs), after raising the soft limit of descriptors to the hard
 * one.  0, or -1 with errno. */
int archive_relay_start(struct archive_relay *relay,
                        const struct chat_config *cfg,
                        const struct redis_url *url, int state_fd);
/* Whether the relay ended by itself (joined, said on stderr): the caller
 * starts it again. */
bool archive_relay_ended(struct archive_relay *relay);
/* Stops it and waits for it. */
void archive_relay_stop(struct archive_relay *relay);

#endif
