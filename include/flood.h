/* flood: how fast one client address may talk, across all its connections.
 *
 * A leaky bucket per address, kept in RUN_DIR/flood/<address> and mapped
 * shared by every connection of that address (a flooder opens many), so
 * they all see one score.  The score leaks FLOOD_RATE points a second;
 * each message adds its cost (see dispatch.c: about one point, more for
 * long messages, more for joins).  Past FLOOD_BURST a message is refused
 * (and still counted); past FLOOD_KICK_FACTOR times FLOOD_BURST the
 * connection is closed.  A fast typist never gets near; a script does at
 * once, and only its own address pays.
 *
 * Every line a client sends is charged, so charging must cost no system
 * call: the bucket is one 64-bit word in the mapping, changed with a
 * compare-and-swap, never under a lock.  The word is the bucket's
 * "theoretical arrival time" (GCRA): the CLOCK_MONOTONIC nanosecond at
 * which it will be empty.  A score needs a value and a time, which no
 * single word holds; a time alone is the score (its distance from now,
 * times the rate) and leaks by itself as the clock runs, and
 * CLOCK_MONOTONIC is one clock for every process on the host.  It is kept
 * at most (FLOOD_KICK_FACTOR + 1) x FLOOD_BURST points ahead of now, so a
 * stopped flooder is free again within a known time and no sum overflows.
 *
 * Nothing frees a bucket: the file outlives its connections, which is what
 * lets a new connection inherit its address's score, and there is one per
 * address ever seen.  RUN_DIR belongs on tmpfs, which a reboot empties; a
 * bucket kept from an earlier boot (its monotonic time is meaningless now)
 * counts as empty. */
#ifndef CHAT_FLOOD_H
#define CHAT_FLOOD_H

#include <stdint.h>
#include <sys/types.h>

#define FLOOD_KICK_FACTOR 2

struct flood_bucket; /* the shared word: flood.c */

struct flood {
	struct flood_bucket *bucket; /* mapped; NULL: not limited */
	double ns_per_point;         /* how long a point takes to leak */
	uint64_t burst_ns;           /* FLOOD_BURST, as time ahead of now */
	uint64_t kick_ns;            /* FLOOD_KICK_FACTOR x burst_ns */
	uint64_t horizon_ns;         /* the most the bucket may run ahead */
};

enum flood_verdict {
	FLOOD_OK,
	FLOOD_REFUSE, /* over the burst: refuse this message */
	FLOOD_KICK,   /* far over it: close the connection */
};

/* Opens the bucket of addr in dir_fd, creating it with mode, and maps it.
 * Only a regular file is used, never through a symlink (dirs.h).  A file
 * that is not a bucket (too short, garbage, the older format) is reset to
 * an empty one.  rate or burst 0 means no limit (the flood stays inactive
 * and no file is touched).  Returns 0, or -1 with errno set and the flood
 * inactive. */
int flood_open(struct flood *f, int dir_fd, const char *addr, mode_t mode,
               int rate, int burst);

/* Adds cost to the address's score.  An inactive flood always says OK,
 * and so does a clock that cannot be read (a fault must not silence
 * anyone). */
enum flood_verdict flood_charge(struct flood *f, double cost);

/* flood_charge at the given CLOCK_MONOTONIC time in nanoseconds: for
 * tests, which must not depend on how fast they run. */
enum flood_verdict flood_charge_at(struct flood *f, double cost,
                                   uint64_t now_ns);

/* Unmaps the bucket; the flood is inactive afterwards (closing twice, or
 * a flood that never opened one, is fine). */
void flood_close(struct flood *f);

#endif
