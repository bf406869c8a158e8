#include "flood.h"

#include "admission.h"
#include "dirs.h"
#include "lockwait.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_SECOND 1000000000.0

/* No setting comes near: FLOOD_BURST x 3 / FLOOD_RATE is at most some
 * 10^15 ns.  The cap keeps every sum below 2^64 whatever the arguments. */
#define FLOOD_NS_MAX (UINT64_C(1) << 60)
/* A clock reading past this is nonsense; taken as this, sums stay exact. */
#define FLOOD_NOW_MAX (UINT64_MAX - 4 * FLOOD_NS_MAX)

/* Marks a file as holding this layout: a file of an older format (a
 * double score then a double time; one word of time alone) or garbage
 * never carries it. */
#define FLOOD_MAGIC 0x63686174666c6432ULL /* "chatfld2" */

/* The slots, one byte each, lie past the record: locks and the mapping
 * never meet, and a lock past the end of a file is allowed. */
#define FLOOD_SLOT_BASE 4096

/* A file can be collected between our open and our lock, again and
 * again only if something is badly wrong. */
#define FLOOD_OPEN_ATTEMPTS 8
/* Only a collector holds a bucket file exclusively, for a few system
 * calls. */
#define FLOOD_LOCK_WAIT_MS 100

/* The file holds this record as is, read and written by every connection
 * of the address at once: only lock-free atomics work across processes (a
 * locked one takes a lock private to its process). */
struct flood_bucket {
	atomic_ullong magic;
	atomic_ullong empty_at;     /* CLOCK_MONOTONIC ns when the score is 0 */
	atomic_ullong closed_until; /* no join before this, after a kick */
	atomic_ullong horizon;      /* how far ahead a word may be: further
	                               is another boot's (for flood_collect) */
};

static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
              "a bucket shared by processes needs lock-free atomics");
static_assert(sizeof(struct flood_bucket) == 32,
              "the bucket file is four 64-bit words");

/* points as time ahead of now, rounded to the nanosecond; no more than
 * max, and nothing for a negative or NaN amount. */
static uint64_t points_ns(const struct flood *f, double points, uint64_t max)
{
	double ns = points * f->ns_per_point;
	if (!(ns > 0))
		return 0;
	if (ns >= (double)max)
		return max;
	return (uint64_t)(ns + 0.5);
}

static void set_limits(struct flood *f, int rate, int burst)
{
	f->ns_per_point = NS_PER_SECOND / rate;
	f->burst_ns = points_ns(f, burst, FLOOD_NS_MAX);
	f->kick_ns = points_ns(f, (double)burst * FLOOD_KICK_FACTOR,
	                       FLOOD_NS_MAX);
	f->horizon_ns = points_ns(f, (double)burst * (FLOOD_KICK_FACTOR + 1),
	                          FLOOD_NS_MAX);
}

static uint64_t clock_ns(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_MONOTONIC, &t) < 0)
		return 0;
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* How far ahead of now a word is.  One in the past is an empty bucket.  So
 * is one beyond horizon: no connection with our settings writes past its
 * own horizon, and ours is at least as late as any of theirs (the clock
 * only goes forward), so such a time was left by an earlier boot
 * (CLOCK_MONOTONIC starts again at 0) or a larger FLOOD_BURST.  Taking it
 * for a full bucket would shut out every returning client after a
 * reboot. */
static uint64_t ahead_of(uint64_t word, uint64_t now, uint64_t horizon)
{
	if (word <= now || word - now > horizon)
		return 0;
	return word - now;
}

/* ---- opening ---- */

/* The bucket file of addr, held with a shared flock.  A collector removes
 * a file only under an exclusive lock, so a file that still has its name
 * once we hold ours stays; one that lost it was collected between our open
 * and our lock, and the name leads to a new one. */
static int open_held(int dir_fd, const char *addr, mode_t mode)
{
	for (int i = 0; i < FLOOD_OPEN_ATTEMPTS; i++) {
		struct stat st;
		int fd = dirs_open_file(dir_fd, addr, O_RDWR | O_CREAT, mode, NULL);
		if (fd < 0)
			return -1;
		if (lockwait_flock(fd, LOCK_SH, FLOOD_LOCK_WAIT_MS) < 0 || fstat(fd, &st) < 0) {
			int err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		if (st.st_nlink > 0)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

/* The file is only ever grown: other connections have it mapped, and
 * cutting it under them would kill them with SIGBUS. */
static struct flood_bucket *map_bucket(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return NULL;
	if (st.st_size < (off_t)sizeof(struct flood_bucket) &&
	    ftruncate(fd, sizeof(struct flood_bucket)) < 0)
		return NULL;
	void *p = mmap(NULL, sizeof(struct flood_bucket), PROT_READ | PROT_WRITE,
	               MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Two first connections racing here both reset the bucket: at worst a
 * charge made in between is forgotten, once in the file's life. */
static void make_valid(struct flood_bucket *b, uint64_t horizon)
{
	if (atomic_load(&b->magic) != FLOOD_MAGIC) {
		atomic_store(&b->empty_at, 0);
		atomic_store(&b->closed_until, 0);
		atomic_store(&b->magic, FLOOD_MAGIC);
	}
	atomic_store(&b->horizon, horizon);
}

/* Locks the first free slot byte; returns its number, or -1 when all are
 * held (or locks fail: then we are simply not counted). */
static int take_slot(int fd)
{
	for (int i = 0; i < FLOOD_SHARERS_MAX; i++) {
		struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
		                   .l_start = FLOOD_SLOT_BASE + i, .l_len = 1 };
		if (fcntl(fd, F_OFD_SETLK, &l) == 0)
			return i;
	}
	return -1;
}

/* Slots from..to-1 that other connections hold, or -1.  F_OFD_GETLK names
 * one conflicting lock, not necessarily the first: count it, then look on
 * either side of it.  Ours never conflicts with us, so is not counted. */
static int held_slots(int fd, int from, int to)
{
	if (from >= to)
		return 0;
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
	                   .l_start = FLOOD_SLOT_BASE + from, .l_len = to - from };
	if (fcntl(fd, F_OFD_GETLK, &l) < 0)
		return -1;
	if (l.l_type == F_UNLCK)
		return 0;
	off_t start = l.l_start - FLOOD_SLOT_BASE;
	off_t end = l.l_len == 0 ? to : start + l.l_len;
	int lo = start < from ? from : (int)start;
	int hi = end > to ? to : (int)end;
	int before = held_slots(fd, from, lo);
	int after = held_slots(fd, hi, to);
	if (before < 0 || after < 0)
		return -1;
	return before + (hi - lo) + after;
}

/* Counts the address's live connections, ourselves included (without a
 * slot of our own, every slot is someone else's: the cap). */
static void recount(struct flood *f, uint64_t now)
{
	int others = held_slots(f->fd, 0, FLOOD_SHARERS_MAX);
	f->counted_at = now;
	if (others < 0)
		return; /* the last count stands */
	f->sharers = others + 1 > FLOOD_SHARERS_MAX ? FLOOD_SHARERS_MAX
	                                             : others + 1;
}

int flood_open(struct flood *f, int dir_fd, const char *addr, mode_t mode,
               int rate, int burst)
{
	*f = (struct flood){ .shared = NULL, .fd = -1, .slot = -1 };
	if (rate <= 0 || burst <= 0)
		return 0;
	struct flood limits = { .shared = NULL };
	set_limits(&limits, rate, burst);
	int fd = open_held(dir_fd, addr, mode);
	if (fd < 0)
		return -1;
	struct flood_bucket *b = map_bucket(fd);
	if (!b) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	make_valid(b, limits.horizon_ns);
	*f = limits;
	f->shared = b;
	f->fd = fd;
	f->slot = take_slot(fd);
	f->own = 0;
	f->sharers = 1;
	/* Counted at the first charge, which then stands for a second. */
	f->counted_at = 0;
	return 0;
}

/* ---- charging ---- */

/* The connection's own bucket: every line counts, refused ones too, up
 * to the horizon. */
static uint64_t charge_own(struct flood *f, uint64_t now, uint64_t step)
{
	uint64_t ahead = ahead_of(f->own, now, f->horizon_ns);
	ahead = step >= f->horizon_ns - ahead ? f->horizon_ns : ahead + step;
	f->own = now + ahead;
	return ahead;
}

/* Adds step to a shared word if it then stays within room ahead of now;
 * false, adding nothing, if not. */
static bool charge_shared(atomic_ullong *word, uint64_t now, uint64_t step,
                          uint64_t room, uint64_t horizon)
{
	unsigned long long seen = atomic_load(word);
	uint64_t next;
	do {
		uint64_t ahead = ahead_of(seen, now, horizon);
		if (step > room || ahead > room - step)
			return false;
		next = now + ahead + step;
	} while (!atomic_compare_exchange_weak(word, &seen, next));
	return true;
}

/* Moves a shared word to at least to (ahead of now, within horizon). */
static void raise_shared(atomic_ullong *word, uint64_t to, uint64_t now,
                         uint64_t horizon)
{
	unsigned long long seen = atomic_load(word);
	while (ahead_of(seen, now, horizon) < to - now &&
	       !atomic_compare_exchange_weak(word, &seen, to))
		;
}

static enum flood_verdict verdict(const struct flood *f, uint64_t ahead)
{
	if (ahead <= f->burst_ns)
		return FLOOD_OK;
	return ahead > f->kick_ns ? FLOOD_KICK : FLOOD_REFUSE;
}

/* What a point costs the address: a share of its n connections' budget. */
static uint64_t address_step(struct flood *f, double cost, uint64_t now)
{
	if (now - f->counted_at >= FLOOD_RECOUNT_NS || f->counted_at > now)
		recount(f, now);
	return points_ns(f, cost / f->sharers, f->horizon_ns);
}

enum flood_verdict flood_join_at(struct flood *f, double cost, uint64_t now)
{
	if (!f->shared)
		return FLOOD_OK;
	now = now > FLOOD_NOW_MAX ? FLOOD_NOW_MAX : now;
	if (ahead_of(atomic_load(&f->shared->closed_until), now, f->horizon_ns))
		return FLOOD_REFUSE;
	uint64_t step = address_step(f, cost, now);
	return charge_shared(&f->shared->empty_at, now, step, f->burst_ns,
	                     f->horizon_ns) ? FLOOD_OK : FLOOD_REFUSE;
}

enum flood_verdict flood_charge_at(struct flood *f, double cost, uint64_t now)
{
	if (!f->shared)
		return FLOOD_OK;
	now = now > FLOOD_NOW_MAX ? FLOOD_NOW_MAX : now;
	uint64_t ahead = charge_own(f, now, points_ns(f, cost, f->horizon_ns));
	enum flood_verdict v = verdict(f, ahead);
	if (v == FLOOD_KICK) {
		/* Closed to joins while this connection would still be
		 * refused, had it stayed. */
		raise_shared(&f->shared->closed_until, now + ahead - f->burst_ns,
		             now, f->horizon_ns);
		return v;
	}
	if (v != FLOOD_OK)
		return v;
	uint64_t step = address_step(f, cost, now);
	return charge_shared(&f->shared->empty_at, now, step, f->kick_ns,
	                     f->horizon_ns) ? FLOOD_OK : FLOOD_REFUSE;
}

enum flood_verdict flood_join(struct flood *f, double cost)
{
	uint64_t now = f->shared ? clock_ns() : 0;
	return now ? flood_join_at(f, cost, now) : FLOOD_OK;
}

enum flood_verdict flood_charge(struct flood *f, double cost)
{
	uint64_t now = f->shared ? clock_ns() : 0;
	return now ? flood_charge_at(f, cost, now) : FLOOD_OK;
}

void flood_close(struct flood *f)
{
	if (f->shared) {
		munmap(f->shared, sizeof *f->shared);
		close(f->fd); /* drops our flock and our slot */
	}
	*f = (struct flood){ .shared = NULL, .fd = -1, .slot = -1 };
}

/* ---- collecting ---- */

/* Longer than any horizon, short enough to count in nanoseconds. */
#define IDLE_SECONDS_MAX (1L << 30)

struct idle_rule {
	uint64_t now;         /* CLOCK_MONOTONIC ns */
	uint64_t idle_ns;
	struct timespec wall; /* for files that are no bucket: mtime */
	long idle_seconds;
};

/* True when word lies idle_ns or more in the past (or is another boot's). */
static bool long_past(uint64_t word, uint64_t horizon, const struct idle_rule *r)
{
	if (word > r->now)
		return word - r->now > horizon;
	return r->now - word >= r->idle_ns;
}

/* An admission_idle_fn: a bucket is idle when it has been empty, and open
 * to joins, for the whole idle time. */
static bool bucket_idle(int fd, const struct stat *st, void *ctx)
{
	const struct idle_rule *r = ctx;
	uint64_t w[4];
	if (pread(fd, w, sizeof w, 0) != (ssize_t)sizeof w || w[0] != FLOOD_MAGIC)
		return st->st_mtim.tv_sec <= r->wall.tv_sec - r->idle_seconds;
	return long_past(w[1], w[3], r) && long_past(w[2], w[3], r);
}

int flood_collect_at(int dir_fd, long idle_seconds, uint64_t now_ns)
{
	struct idle_rule r = { .now = now_ns, .idle_seconds = idle_seconds };
	if (r.idle_seconds < 0)
		r.idle_seconds = 0;
	if (r.idle_seconds > IDLE_SECONDS_MAX)
		r.idle_seconds = IDLE_SECONDS_MAX;
	r.idle_ns = (uint64_t)r.idle_seconds * 1000000000u;
	if (clock_gettime(CLOCK_REALTIME, &r.wall) < 0)
		return -1;
	return admission_collect_idle(dir_fd, bucket_idle, &r);
}

int flood_collect(int dir_fd, long idle_seconds)
{
	uint64_t now = clock_ns();
	if (now == 0)
		return -1;
	return flood_collect_at(dir_fd, idle_seconds, now);
}
