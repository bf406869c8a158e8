/* redis_record: what a member's client record says (TRANSPORT=redis).
 *
 * A member records in clients:<room> the Redis client whose end Redis sees
 * when its process dies, and its host (redis_host.h):
 *
 *     <run_id>:<client id>:<host id>          its own reader
 *     <run_id>:<relay's client id>.<conn>:<host id>
 *                                              through its host's relay
 *     <run_id>:0:<host id>                     the relay saw its socket close
 *
 * run_id is the Redis server's run (a client id means nothing in another
 * run); a connection slot (limits_redis.h) holds the same without the host.
 * Records of older versions have no host.  One reading of the format for
 * every reader of it: the listers (redis_alive.h), the limits, a member's
 * look at another's name (redis_member.c). */
#ifndef CHAT_REDIS_RECORD_H
#define CHAT_REDIS_RECORD_H

#include <stdbool.h>
#include <stddef.h>

struct redis_record {
	const char *run; /* the server run, run_len bytes */
	size_t run_len;
	const char *id; /* the client id, id_len decimal digits */
	size_t id_len;
	bool relayed;     /* ".<conn>" follows the id: the id is the relay's */
	const char *host; /* REDIS_HOST_ID_LEN lowercase hex digits; NULL:
	                     none, or not a host id */
};

/* record in parts, pointing into it.  false when it is not a record
 * (NULL, no ':', no digits after it, or something else after them); out
 * is then zeroed, as far as it was not read. */
bool redis_record_parse(const char *record, struct redis_record *out);

/* Whether the parsed record was made in the server run run_id. */
bool redis_record_of_run(const struct redis_record *r, const char *run_id);

#endif
