/* redis_alive: which members of a room (redis_room.h) are dead, as a
 * lister sees it with the room lock held.
 *
 * A member is dead when the Redis client it recorded (its reader link,
 * as "<run_id>:<client id>:<host id>") is no longer connected to this run
 * of the server: its process died, and the kernel closed its sockets; or
 * when its host's score is past: the host's archiver stopped speaking for
 * it (the host vanished; redis_host.h), unless the member beat since
 * that word ran out (it took its name again: its host lives); or when
 * its own alive score is past: it stopped beating (a hung process, or a
 * host with no archiver that vanished).  Scores are not judged while the
 * server has been up less than REDIS_REAP_GRACE_S, nor clients recorded
 * in an earlier run: after a restart every score is old and every client
 * gone, and the living need a moment to say so. */
#ifndef CHAT_REDIS_ALIVE_H
#define CHAT_REDIS_ALIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "redis_cmd.h"
#include "redis_room.h"

struct redis_alive {
	char run_id[REDIS_RUN_ID_MAX + 1]; /* the server's run now */
	bool scoring;               /* false: no score judged (the grace) */
	long long before;           /* scores under this are past */
	struct redisReply *scores;  /* ZRANGE alive WITHSCORES */
	struct redisReply *hosts;   /* ZRANGE hosts WITHSCORES (redis_host.h) */
	struct redisReply *clients; /* HGETALL clients */
	long long *connected;       /* the recorded clients still connected,
	                               sorted */
	size_t n_connected;
	/* While the queries are built and run: their keys, and whether the
	 * server's run is asked among them. */
	char keys[3][REDIS_KEY_MAX];
	bool asks_run;
};

/* What the judgement needs from Redis comes in two round trips: these
 * queries, which a lister runs with its own (redis_cmd_run_all, one round
 * trip under the room lock where there were six), then which recorded
 * clients are still connected, asked by redis_alive_take.  Fills cmds
 * (zeroed first) and returns how many; a is zeroed first, and holds their
 * arguments until they are run. */
#define REDIS_ALIVE_QUERIES 5
size_t redis_alive_queries(struct redis_room *r, struct redis_alive *a,
                           struct redis_cmd cmds[REDIS_ALIVE_QUERIES]);
/* Takes the queries' replies, in their order (a owns them from now on,
 * whatever it returns), and asks which clients are connected.  0, or -1
 * (r->err). */
int redis_alive_take(struct redis_room *r, struct redis_alive *a,
                     struct redisReply *replies[]);
/* Whether the member name is dead. */
bool redis_alive_dead(const struct redis_alive *a, const char *name);
/* Releases a, taken or not (zeroed by redis_alive_queries). */
void redis_alive_free(struct redis_room *r, struct redis_alive *a);

#endif
