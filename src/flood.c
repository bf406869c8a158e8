#include "flood.h"

#include "dirs.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_SECOND 1000000000.0

/* No setting comes near: FLOOD_BURST x 3 / FLOOD_RATE is at most some
 * 10^15 ns.  The cap keeps every sum below 2^64 whatever the arguments. */
#define FLOOD_NS_MAX (UINT64_C(1) << 60)

/* Marks a file as holding this layout: a file of the older format (a
 * double score then a double time) or garbage never carries it. */
#define FLOOD_MAGIC 0x63686174666c6431ULL /* "chatfld1" */

/* The file holds this record as is, read and written by every connection
 * of the address at once: only lock-free atomics work across processes (a
 * locked one takes a lock private to its process). */
struct flood_bucket {
	atomic_ullong magic;
	atomic_ullong empty_at; /* CLOCK_MONOTONIC ns when the score is 0 */
};

static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
              "a bucket shared by processes needs lock-free atomics");
static_assert(sizeof(struct flood_bucket) == 16,
              "the bucket file is two 64-bit words");

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

/* The file is only ever grown: other connections have it mapped, and
 * cutting it under them would kill them with SIGBUS. */
static struct flood_bucket *map_bucket(int fd, const struct stat *st)
{
	if (st->st_size < (off_t)sizeof(struct flood_bucket) &&
	    ftruncate(fd, sizeof(struct flood_bucket)) < 0)
		return NULL;
	void *p = mmap(NULL, sizeof(struct flood_bucket), PROT_READ | PROT_WRITE,
	               MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Two first connections racing here both reset the bucket: at worst a
 * charge made in between is forgotten, once in the file's life. */
static void make_valid(struct flood_bucket *b)
{
	if (atomic_load(&b->magic) == FLOOD_MAGIC)
		return;
	atomic_store(&b->empty_at, 0);
	atomic_store(&b->magic, FLOOD_MAGIC);
}

int flood_open(struct flood *f, int dir_fd, const char *addr, mode_t mode,
               int rate, int burst)
{
	struct stat st;
	*f = (struct flood){ .bucket = NULL };
	if (rate <= 0 || burst <= 0)
		return 0;
	int fd = dirs_open_file(dir_fd, addr, O_RDWR | O_CREAT, mode, &st);
	if (fd < 0)
		return -1;
	struct flood_bucket *b = map_bucket(fd, &st);
	int err = errno;
	close(fd); /* the mapping keeps the file */
	if (!b) {
		errno = err;
		return -1;
	}
	make_valid(b);
	set_limits(f, rate, burst);
	f->bucket = b;
	return 0;
}

/* The new empty_at after adding step to the bucket that was empty_at.
 * One in the past is an empty bucket.  So is one beyond limit: no
 * connection with our settings writes past its own limit, and ours is at
 * least as late as any of theirs (the clock only goes forward), so such a
 * time was left by an earlier boot (CLOCK_MONOTONIC starts again at 0) or
 * a larger FLOOD_BURST.  Taking it for a full bucket would shut out every
 * returning client after a reboot. */
static uint64_t advance(uint64_t empty_at, uint64_t now, uint64_t step,
                        uint64_t limit)
{
	uint64_t from = empty_at < now || empty_at > limit ? now : empty_at;
	return step >= limit - from ? limit : from + step;
}

static enum flood_verdict verdict(const struct flood *f, uint64_t ahead)
{
	if (ahead <= f->burst_ns)
		return FLOOD_OK;
	return ahead > f->kick_ns ? FLOOD_KICK : FLOOD_REFUSE;
}

enum flood_verdict flood_charge_at(struct flood *f, double cost,
                                   uint64_t now_ns)
{
	if (!f->bucket)
		return FLOOD_OK;
	uint64_t step = points_ns(f, cost, f->horizon_ns);
	uint64_t limit = now_ns > UINT64_MAX - f->horizon_ns
	                 ? UINT64_MAX : now_ns + f->horizon_ns;
	unsigned long long seen = atomic_load(&f->bucket->empty_at);
	uint64_t next;
	do
		next = advance(seen, now_ns, step, limit);
	while (!atomic_compare_exchange_weak(&f->bucket->empty_at, &seen, next));
	return verdict(f, next - now_ns);
}

enum flood_verdict flood_charge(struct flood *f, double cost)
{
	struct timespec t;
	if (!f->bucket || clock_gettime(CLOCK_MONOTONIC, &t) < 0)
		return FLOOD_OK;
	return flood_charge_at(f, cost, (uint64_t)t.tv_sec * 1000000000u +
	                                (uint64_t)t.tv_nsec);
}

void flood_close(struct flood *f)
{
	if (f->bucket)
		munmap(f->bucket, sizeof *f->bucket);
	f->bucket = NULL;
}
