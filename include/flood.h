/* flood: how fast a client may talk, one connection and one address.
 *
 * Two leaky buckets.  A bucket's score leaks FLOOD_RATE points a second;
 * each message adds its cost (see dispatch.c: about one point, more for
 * long messages).  A fast typist never gets near the limits; a script does
 * at once.
 *
 * The connection's own bucket, in the process's memory, takes every line
 * the connection sends.  Past FLOOD_BURST a line is refused (and still
 * counted); past FLOOD_KICK_FACTOR times FLOOD_BURST the connection is
 * closed.  A flood is thus charged to the connection that sends it: one
 * script behind a NAT or a proxy is stopped, and the people who share its
 * address go on chatting.
 *
 * The address's bucket, RUN_DIR/flood/<address>, is mapped shared by every
 * connection of the address.  Its budget is that of n connections: n x
 * FLOOD_RATE points a second and n x FLOOD_BURST points, n being the
 * address's live connections, at most FLOOD_SHARERS_MAX.  It takes
 *  - each join (FLOOD_JOIN_COST in chat.c): a join that does not fit in the
 *    budget is refused, so a script that reconnects for a fresh bucket of
 *    its own, or opens connection after connection, gets the address's
 *    rate and no more;
 *  - the lines that their connection's own bucket let through, and only
 *    those: a flooder's refused lines never cost its neighbours anything.
 *    A line is refused when the address is over FLOOD_KICK_FACTOR times
 *    its budget, which its connections, each inside its own bucket, reach
 *    only when there are more of them than FLOOD_SHARERS_MAX;
 *  - a connection closed for flooding: the address takes no new connection
 *    until that connection's own score would be back at FLOOD_BURST, so
 *    reconnecting is no way around being closed.  Its other connections
 *    talk on.
 *
 * Counting the live connections of an address must survive SIGKILL: a
 * counter in the file would keep every killed process forever.  So each
 * connection holds an open-file-description write lock (fcntl
 * F_OFD_SETLK) on one byte of the file, its slot, one of FLOOD_SHARERS_MAX;
 * the kernel drops it when the process dies, however it dies, and n is
 * the number of slots held (F_OFD_GETLK).  A connection past the cap holds
 * none, and is not needed: n is capped anyway.  n is counted at join and
 * again at most once every FLOOD_RECOUNT_NS while the connection talks, so
 * that charging a line costs no system call otherwise.
 *
 * Charging is lock-free: a bucket is one 64-bit word, changed with a
 * compare-and-swap, holding its "theoretical arrival time" (GCRA): the
 * CLOCK_MONOTONIC nanosecond at which it will be empty.  A time alone is
 * the score (its distance from now, times the rate) and leaks by itself as
 * the clock runs, and CLOCK_MONOTONIC is one clock for every process on the
 * host.  The address's budget of n connections is the same time ahead of
 * now as one connection's, each point costing 1/n of the time: so n may
 * change without the word being touched.  No word runs more than
 * (FLOOD_KICK_FACTOR + 1) x FLOOD_BURST points ahead of now, so a stopped
 * flooder is free again within a known time and no sum overflows.
 *
 * Every user of a bucket file holds a shared flock on it, so flood_collect
 * can tell a file no one uses: it removes those whose times have all
 * passed long enough ago, so an address's score outlives its connections
 * for as long as it matters, and no longer.  RUN_DIR belongs on a local
 * tmpfs (NFS would mix flock and fcntl locks), which a reboot empties; a
 * bucket kept from an earlier boot (its monotonic times mean nothing now)
 * counts as empty. */
#ifndef CHAT_FLOOD_H
#define CHAT_FLOOD_H

#include <stdint.h>
#include <sys/types.h>

#define FLOOD_KICK_FACTOR 2
#define FLOOD_SHARERS_MAX 16 /* connections an address's budget grows by */
#define FLOOD_RECOUNT_NS UINT64_C(1000000000)

struct flood_bucket; /* the shared words: flood.c */

enum flood_verdict {
	FLOOD_OK,
	FLOOD_REFUSE, /* over the burst: refuse this message (or join) */
	FLOOD_KICK,   /* far over it: close the connection */
};

struct flood {
	struct flood_bucket *shared; /* the address's, mapped; NULL: not
	                                limited (then nothing else is set) */
	int fd;              /* its file: our shared flock and our slot */
	int slot;            /* the byte of the file we lock, or -1 */
	int sharers;         /* the address's live connections, last counted */
	uint64_t counted_at; /* when, CLOCK_MONOTONIC ns */
	uint64_t own;        /* this connection's bucket: when it is empty */
	double ns_per_point; /* how long a point takes to leak */
	uint64_t burst_ns;   /* FLOOD_BURST, as time ahead of now */
	uint64_t kick_ns;    /* FLOOD_KICK_FACTOR x burst_ns */
	uint64_t horizon_ns; /* the most a bucket may run ahead */
};

/* Opens the bucket of addr in dir_fd (creating it with mode, exactly:
 * run with umask 0), holds a shared flock on it and a slot in it, and
 * counts the address's connections.  Only a regular file is used, never
 * through a symlink (dirs.h); a file that is not a bucket (too short,
 * garbage, an older format) is reset to an empty one, and one removed by
 * flood_collect between our open and our lock is opened again.  rate or
 * burst 0 means no limit (the flood stays inactive and no file is
 * touched).  Returns 0, or -1 with errno set (ETIMEDOUT: the file stayed
 * locked by a collector) and the flood inactive. */
int flood_open(struct flood *f, int dir_fd, const char *addr, mode_t mode,
               int rate, int burst);

/* Charges a join of cost points to the address: FLOOD_OK, or FLOOD_REFUSE
 * (charging nothing) when it does not fit in the budget or the address is
 * closed after a flood.  An inactive flood, or a clock that cannot be
 * read, always says OK (a fault must not silence anyone). */
enum flood_verdict flood_join(struct flood *f, double cost);

/* Charges a line of cost points to the connection and, if its own bucket
 * lets it through, to the address.  Same faults as flood_join. */
enum flood_verdict flood_charge(struct flood *f, double cost);

/* flood_join and flood_charge at the given CLOCK_MONOTONIC time in
 * nanoseconds: for tests, which must not depend on how fast they run. */
enum flood_verdict flood_join_at(struct flood *f, double cost,
                                 uint64_t now_ns);
enum flood_verdict flood_charge_at(struct flood *f, double cost,
                                   uint64_t now_ns);

/* Unmaps the bucket and lets go of the file (its flock and slot); the
 * flood is inactive afterwards (closing twice, or a flood that never
 * opened one, is fine). */
void flood_close(struct flood *f);

/* Removes from dir_fd the buckets that no connection holds and that have
 * been empty (and open to joins) for idle_seconds at least; garbage that
 * is no bucket goes once its mtime is that old.  Each is removed under an
 * exclusive flock, so an opener that got it just before sees it gone and
 * opens a new one.  Returns how many were removed, or -1 with errno set
 * when dir_fd cannot be listed. */
int flood_collect(int dir_fd, long idle_seconds);

/* flood_collect at the given CLOCK_MONOTONIC time (for tests). */
int flood_collect_at(int dir_fd, long idle_seconds, uint64_t now_ns);

#endif
