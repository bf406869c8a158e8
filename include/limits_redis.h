/* limits_redis: MAX_CONNECTIONS_PER_ADDRESS and the address's flood bucket
 * counted in Redis, over every host of TRANSPORT=redis (issue #15), with
 * the rules and the arithmetic of flood.h; with TRANSPORT=files, flood.c
 * and admission.c count on the host, and nothing here runs.
 *
 * The connection's own bucket stays in the process's memory, as in flood.c
 * (it never was a host's).  What the address's connections share is in
 * two keys under REDIS_KEY_PREFIX (P):
 *
 *   P conn:<address>   sorted set; one member per live connection of the
 *                      address, "<run_id>:<client id>" of its reader link
 *                      (redis_alive.h), scored with the time (ms, the
 *                      server's clock) it last joined or charged a line;
 *                      expires LIMITS_REDIS_CONN_TTL_MS after the last
 *                      join or line of any of them
 *   P flood:<address>  hash; "t" the bucket's theoretical arrival time
 *                      (GCRA, flood.h) and "c" the time the address is
 *                      closed to joins until, after a flood; both in
 *                      microseconds of the server's clock (TIME), so
 *                      hosts whose clocks differ share one bucket; it
 *                      expires when both times have passed
 *
 * A connection is live while its recorded client is connected to this run
 * of the server: the kernel closes a dead process's sockets, however it
 * died, and Redis drops its clients, so a quit or a SIGKILL frees the slot
 * at once.  CLIENT LIST cannot run in a script, so the process asks it
 * (CLIENT LIST ID) of the oldest LIMITS_REDIS_CHECK_MAX members at join
 * and then at most once every FLOOD_RECOUNT_NS while it talks, and hands
 * the dead to the script, which removes them before it counts.  A member
 * recorded in an earlier run of the server cannot be asked about: it
 * counts for LIMITS_REDIS_STALE_MS after its last join or line, long
 * enough for a living connection, reconnected, to record itself again at
 * its next line.
 *
 * One Lua script (EVALSHA; loaded once per process) does each step
 * atomically: drops the dead, takes or renews the connection's member
 * (refusing a new one past MAX_CONNECTIONS_PER_ADDRESS), counts n, the
 * live members capped at FLOOD_SHARERS_MAX, and charges the address's
 * bucket: cost/n points of time against a room of FLOOD_BURST (a join) or
 * FLOOD_KICK_FACTOR x FLOOD_BURST (a line), refusing what does not fit, or
 * sets the closed-after-a-flood time (a kick).  One round trip a line,
 * and none while the verdict is sure to be "let through": the address has
 * only this connection (as last counted), and its bucket had room for the
 * line at the last verdict, less what was charged since.  The charge is
 * then written and not waited for (redis_link.h, "replies nobody waits
 * for"); its verdict, read with the next reply (the line's append reads
 * it), sets the room again, and the next charge waits until it is in.  A
 * second connection of the address counts at its join, and from then on
 * every charge waits: one line at most, already on its way when it
 * joined, goes unjudged.
 *
 * A fault of Redis during a charge lets the line or the join through (a
 * fault must not silence anyone, flood.h): the link is then broken, and
 * the transport's own handling of an outage takes over.  Only a slot that
 * cannot be counted refuses the connection.
 */
#ifndef CHAT_LIMITS_REDIS_H
#define CHAT_LIMITS_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admission.h"
#include "config.h"
#include "flood.h"
#include "redis_alive.h"
#include "redis_link.h"
#include "transport.h"

#define LIMITS_REDIS_CONN_TTL_MS (3600 * 1000)
#define LIMITS_REDIS_STALE_MS (REDIS_REAP_GRACE_S * 1000)
#define LIMITS_REDIS_CHECK_MAX 128
#define LIMITS_REDIS_KEY_MAX (CONFIG_REDIS_KEY_PREFIX_MAX + ADDRESS_MAX + 8)

struct limits_redis {
	char conn_key[LIMITS_REDIS_KEY_MAX];  /* P conn:<address> */
	char flood_key[LIMITS_REDIS_KEY_MAX]; /* P flood:<address> */
	bool flooding;       /* the address's flood bucket is charged */
	char sha[41];        /* the script's SHA1 once loaded, else "" */
	uint64_t counted_at; /* last look for dead members, CLOCK_MONOTONIC
	                        ns; 0: never */
	int sharers;         /* n, as the script last counted it */
	uint64_t margin_ns;  /* room for lines the address's bucket had at the
	                        last verdict, less what was charged since
	                        without waiting (defer_line in the .c) */
	uint64_t own;        /* this connection's bucket: when it is empty */
	double ns_per_point; /* how long a point takes to leak */
	uint64_t burst_ns, kick_ns, horizon_ns;
	bool told;           /* a failure was written to stderr once */
	/* The connection's own use, through its transport (below). */
	bool set_up;         /* limits_redis_init done */
	bool slotted;        /* a slot taken */
	int max;             /* MAX_CONNECTIONS_PER_ADDRESS, for renewals */
	bool charged;        /* the join was charged: lines are */
};

/* Sets l up for address under prefix (REDIS_KEY_PREFIX); rate or burst 0
 * means no flood control.  Touches no key. */
/* The sorted set of the connection slots of address (conn:<address>). */
void limits_redis_conn_key(const char *prefix, const char *address,
                           char out[LIMITS_REDIS_KEY_MAX]);
void limits_redis_init(struct limits_redis *l, const char *prefix,
                       const char *address, int rate, int burst);

/* Takes a slot for the connection whose reader link Redis knows as client
 * ("<run_id>:<client id>"), through link: 1 taken (or already held), 0
 * the address holds max live connections already, -1 Redis failed (why
 * in err). */
int limits_redis_take_slot(struct limits_redis *l, struct redis_link *link,
                           const char *client, int max, char *err,
                           size_t errsz);

/* flood_join and flood_charge of flood.h, counted in Redis; the slot is
 * taken or renewed with them, without a max.  A NULL link (Redis down) or
 * a failure says FLOOD_OK.  The _at forms take the connection's clock
 * (CLOCK_MONOTONIC ns) and the server's time in microseconds instead of
 * TIME (for tests; -1: TIME). */
enum flood_verdict limits_redis_join(struct limits_redis *l,
                                     struct redis_link *link,
                                     const char *client, double cost);
enum flood_verdict limits_redis_charge(struct limits_redis *l,
                                       struct redis_link *link,
                                       const char *client, double cost);
enum flood_verdict limits_redis_join_at(struct limits_redis *l,
                                        struct redis_link *link,
                                        const char *client, double cost,
                                        uint64_t now_ns, long long server_us);
enum flood_verdict limits_redis_charge_at(struct limits_redis *l,
                                          struct redis_link *link,
                                          const char *client, double cost,
                                          uint64_t now_ns,
                                          long long server_us);

/* ---- the connection's, through its transport (chat.c, dispatch.c) ---- */

/* MAX_CONNECTIONS_PER_ADDRESS for the connection of t (open, Redis),
 * whose state is l (zeroed before the first call): 1 taken, 0 full, -1
 * Redis failed (said on stderr). */
int limits_redis_slot(struct limits_redis *l, struct room_transport *t,
                      const struct chat_config *cfg, const char *address);
/* The join's charge to the address (flood control on). */
enum flood_verdict limits_redis_start(struct limits_redis *l,
                                      struct room_transport *t,
                                      const struct chat_config *cfg,
                                      const char *address, double cost);
/* A line's charge (FLOOD_OK when limits_redis_start never ran). */
enum flood_verdict limits_redis_line(struct limits_redis *l,
                                     struct room_transport *t, double cost);
/* At each heartbeat of the transport: the connection's record renewed, so
 * that a silent connection keeps counting (and is counted again after a
 * restart of Redis). */
void limits_redis_renew(struct limits_redis *l, struct room_transport *t);

#endif
