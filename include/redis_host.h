/* redis_host: which hosts of a chat are alive, as their archivers say
 * (TRANSPORT=redis; docs/scale-out.md, "Death").
 *
 * Redis itself sees a connection's process die: the kernel closes its
 * sockets and Redis drops its clients (redis_alive.h).  What Redis cannot
 * see is a host that vanishes without closing them (its power, its
 * network).  For that, the host's archiver, the one process a host runs
 * beside its connections, renews the host's score in P hosts (a sorted
 * set under REDIS_KEY_PREFIX: host id -> the time, ms of the server's
 * clock, after which the host counts as gone) every ARCHIVE_BLOCK_MS to
 * now + REDIS_HOST_ALIVE_MS.  A member records its host beside its client
 * (clients:<room>), and a lister counts the members of a host whose score
 * has passed as dead.  One command a second per host stands in for a
 * heartbeat every few seconds from each member, which kept each member's
 * connection to Redis busy (and its buffers at their largest) for ever.
 *
 * A host's id is REDIS_HOST_ID_LEN hex digits of a hash of the machine's
 * name and the installation's users directory: the archiver and the
 * connections of one installation agree on it, and two installations on
 * one machine (a BASE_DIR each) differ.  A host whose archiver stops on
 * SIGTERM takes its score away, and its members are then judged by their
 * own, slower heartbeat (REDIS_ALIVE_MS); so is a host that never ran
 * one. */
#ifndef CHAT_REDIS_HOST_H
#define CHAT_REDIS_HOST_H

#include <stddef.h>

#include "redis_link.h"

#define REDIS_HOST_ID_LEN 16
/* Past this without its archiver's word, a host is gone: a host that
 * vanishes leaves every user list within it and a reaping round. */
#define REDIS_HOST_ALIVE_MS 20000

/* The id of the installation whose users directory is users_dir, on this
 * machine, into out. */
void redis_host_id(const char *users_dir, char out[REDIS_HOST_ID_LEN + 1]);

/* Renews host's score (now + REDIS_HOST_ALIVE_MS), and forgets hosts gone
 * for a day.  0, or -1 with why in err. */
int redis_host_beat(struct redis_link *link, const char *prefix,
                    const char *host, char *err, size_t errsz);

/* Takes host's score away: its members are judged by their own
 * heartbeats from now on.  0, or -1 with why in err. */
int redis_host_forget(struct redis_link *link, const char *prefix,
                      const char *host, char *err, size_t errsz);

#endif
