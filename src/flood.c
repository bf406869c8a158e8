#include "flood.h"

#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* The bucket file holds this record as is. */
struct bucket {
	double score;
	double stamp; /* CLOCK_MONOTONIC seconds: shared by all processes */
};

static double now_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int flood_open(struct flood *f, int dir_fd, const char *addr, mode_t mode,
               int rate, int burst)
{
	f->fd = -1;
	f->rate = rate;
	f->burst = burst;
	if (rate == 0 || burst == 0)
		return 0;
	f->fd = openat(dir_fd, addr, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	               mode);
	return f->fd < 0 ? -1 : 0;
}

/* The score now: what was left, minus what leaked since.  A stamp from the
 * future (the file outlived a reboot) counts as an empty bucket. */
static double leaked(const struct bucket *b, double now, double rate)
{
	if (b->stamp > now || b->score != b->score || b->score < 0)
		return 0;
	double score = b->score - (now - b->stamp) * rate;
	return score > 0 ? score : 0;
}

enum flood_verdict flood_charge(struct flood *f, double cost)
{
	if (f->fd < 0 || flock(f->fd, LOCK_EX) < 0)
		return FLOOD_OK;
	struct bucket b = { 0, 0 };
	double now = now_seconds();
	if (pread(f->fd, &b, sizeof b, 0) != (ssize_t)sizeof b)
		b.score = b.stamp = 0;
	b.score = leaked(&b, now, f->rate) + cost;
	/* Capped, so a stopped flooder is free again within a known time. */
	if (b.score > f->burst * (FLOOD_KICK_FACTOR + 1))
		b.score = f->burst * (FLOOD_KICK_FACTOR + 1);
	b.stamp = now;
	ssize_t n = pwrite(f->fd, &b, sizeof b, 0);
	flock(f->fd, LOCK_UN);
	if (n != (ssize_t)sizeof b || b.score <= f->burst)
		return FLOOD_OK;
	return b.score > f->burst * FLOOD_KICK_FACTOR ? FLOOD_KICK : FLOOD_REFUSE;
}

void flood_close(struct flood *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
