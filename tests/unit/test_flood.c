#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flood.h"
#include "support/tmpdir.h"

#define ADDR "198.51.100.7"
#define RATE 10
#define BURST 50
#define SECOND UINT64_C(1000000000)
/* Any time will do, as long as the tests give it and not the clock. */
#define T0 (1000 * SECOND)
#define BUCKET_SIZE 32 /* four 64-bit words */
#define EMPTY_AT 8     /* their offsets in the file */
#define CLOSED_UNTIL 16

static void open_bucket(struct tmpdir *fx, struct flood *fl)
{
	assert_int_equal(flood_open(fl, fx->fd, ADDR, 0600, RATE, BURST), 0);
}

/* Charges n points one at a time at now; returns the last verdict. */
static enum flood_verdict charge_n(struct flood *fl, int n, uint64_t now)
{
	enum flood_verdict v = FLOOD_OK;
	for (int i = 0; i < n; i++)
		v = flood_charge_at(fl, 1.0, now);
	return v;
}

static void write_file(struct tmpdir *fx, const void *data, size_t len)
{
	int fd = openat(fx->fd, ADDR, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void write_word(struct tmpdir *fx, uint64_t word, off_t at)
{
	int fd = openat(fx->fd, ADDR, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &word, sizeof word, at), (ssize_t)sizeof word);
	close(fd);
}

static off_t file_size(struct tmpdir *fx)
{
	struct stat st;
	assert_int_equal(fstatat(fx->fd, ADDR, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_size;
}

static bool file_exists(struct tmpdir *fx)
{
	struct stat st;
	return fstatat(fx->fd, ADDR, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A connection's bucket that lets exactly BURST points through and
 * refuses the next. */
static void assert_fresh(struct flood *fl, uint64_t now)
{
	assert_int_equal(charge_n(fl, BURST, now), FLOOD_OK);
	assert_int_equal(flood_charge_at(fl, 1.0, now), FLOOD_REFUSE);
}

/* An address's bucket, with one connection, that takes exactly a burst
 * of joins. */
static void assert_fresh_address(struct flood *fl, uint64_t now)
{
	assert_int_equal(flood_join_at(fl, BURST, now), FLOOD_OK);
	assert_int_equal(flood_join_at(fl, 0.5, now), FLOOD_REFUSE);
}

static void test_inactive(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0600, 0, BURST), 0);
	assert_int_equal(flood_charge_at(&fl, 1e9, T0), FLOOD_OK);
	assert_int_equal(flood_charge(&fl, 1e9), FLOOD_OK);
	assert_int_equal(flood_join(&fl, 1e9), FLOOD_OK);
	flood_close(&fl);
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0600, RATE, 0), 0);
	assert_int_equal(flood_charge(&fl, 1e9), FLOOD_OK);
	flood_close(&fl);
	assert_false(file_exists(fx));
	/* A struct never opened, zeroed as chat_init leaves it: inactive,
	 * and closing it closes no descriptor, whatever its fd says. */
	int probe = openat(fx->fd, ".", O_RDONLY | O_DIRECTORY);
	assert_true(probe >= 0);
	memset(&fl, 0, sizeof fl);
	fl.fd = probe;
	assert_int_equal(flood_charge(&fl, 1e9), FLOOD_OK);
	flood_close(&fl);
	assert_true(fcntl(probe, F_GETFD) >= 0);
	close(probe);
}

/* Made with the mode asked for, nothing added (callers pass 0600). */
static void test_creates_with_mode(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	mode_t old = umask(0);
	int rc = flood_open(&fl, fx->fd, ADDR, 0600, RATE, BURST);
	umask(old);
	assert_int_equal(rc, 0);
	struct stat st;
	assert_int_equal(fstatat(fx->fd, ADDR, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, BUCKET_SIZE);
	flood_close(&fl);
}

static void test_ok_under_burst(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	for (int i = 0; i < BURST; i++)
		assert_int_equal(flood_charge_at(&fl, 1.0, T0), FLOOD_OK);
	flood_close(&fl);
}

/* Refused lines still count: they bring the kick nearer. */
static void test_refuse_past_burst(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(charge_n(&fl, BURST, T0), FLOOD_OK);
	for (int i = BURST; i < BURST * FLOOD_KICK_FACTOR; i++)
		assert_int_equal(flood_charge_at(&fl, 1.0, T0), FLOOD_REFUSE);
	assert_int_equal(flood_charge_at(&fl, 1.0, T0), FLOOD_KICK);
	assert_int_equal(flood_charge_at(&fl, 1.0, T0), FLOOD_KICK);
	flood_close(&fl);
}

static void test_kick_past_factor(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(flood_charge_at(&fl, BURST * FLOOD_KICK_FACTOR, T0),
	                 FLOOD_REFUSE);
	assert_int_equal(flood_charge_at(&fl, 0.5, T0), FLOOD_KICK);
	flood_close(&fl);
	open_bucket(fx, &fl);
	assert_int_equal(flood_charge_at(&fl, 1e12, T0 + 1000 * SECOND),
	                 FLOOD_KICK);
	flood_close(&fl);
}

static void test_leaks_over_time(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(charge_n(&fl, BURST, T0), FLOOD_OK);
	assert_int_equal(flood_charge_at(&fl, 1.0, T0), FLOOD_REFUSE); /* 51 */
	/* A second leaks RATE points: 41, plus 1. */
	assert_int_equal(flood_charge_at(&fl, 1.0, T0 + SECOND), FLOOD_OK);
	/* 42 less a tenth of a second (1 point): 41, plus 9 is the burst. */
	assert_int_equal(flood_charge_at(&fl, 9.0, T0 + SECOND + SECOND / 10),
	                 FLOOD_OK);
	assert_int_equal(flood_charge_at(&fl, 0.01, T0 + SECOND + SECOND / 10),
	                 FLOOD_REFUSE);
	/* Long after: empty, the whole burst again. */
	assert_fresh(&fl, T0 + 100 * SECOND);
	flood_close(&fl);
}

/* However much a flooder sent, it is free again once the capped score
 * ((FLOOD_KICK_FACTOR + 1) x FLOOD_BURST, 15 s at RATE) has leaked. */
static void test_capped(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(charge_n(&fl, 10000, T0), FLOOD_KICK);
	/* Capped at 150; 10 s later 50 are left. */
	assert_int_equal(flood_charge_at(&fl, 0.0, T0 + 10 * SECOND), FLOOD_OK);
	assert_int_equal(flood_charge_at(&fl, 1.0, T0 + 10 * SECOND),
	                 FLOOD_REFUSE);
	assert_fresh(&fl, T0 + 16 * SECOND);
	flood_close(&fl);
}

static void test_bad_costs_free(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(flood_charge_at(&fl, -1e9, T0), FLOOD_OK);
	assert_int_equal(flood_charge_at(&fl, NAN, T0), FLOOD_OK);
	assert_int_equal(flood_join_at(&fl, -1e9, T0), FLOOD_OK);
	assert_int_equal(flood_join_at(&fl, NAN, T0), FLOOD_OK);
	assert_fresh(&fl, T0);
	flood_close(&fl);
}

/* Two connections of one address (behind one NAT): the one that floods
 * is refused, then closed; the other one talks on, not refused once. */
static void test_flood_is_the_senders(void **state)
{
	struct tmpdir *fx = *state;
	struct flood ann, bot;
	open_bucket(fx, &ann);
	open_bucket(fx, &bot);
	assert_int_equal(flood_join_at(&ann, 3.0, T0), FLOOD_OK);
	assert_int_equal(flood_join_at(&bot, 3.0, T0), FLOOD_OK);
	assert_int_equal(charge_n(&bot, BURST, T0), FLOOD_OK);
	assert_int_equal(flood_charge_at(&bot, 1.0, T0), FLOOD_REFUSE);
	assert_int_equal(charge_n(&ann, 20, T0), FLOOD_OK);
	assert_int_equal(charge_n(&bot, BURST, T0), FLOOD_KICK);
	/* Ann, in the same second and the next ones, as a fast typist. */
	for (uint64_t t = T0; t < T0 + 10 * SECOND; t += SECOND / 4)
		assert_int_equal(flood_charge_at(&ann, 1.0, t), FLOOD_OK);
	flood_close(&bot);
	/* A second script at the address is stopped just the same. */
	open_bucket(fx, &bot);
	uint64_t t1 = T0 + 20 * SECOND;
	assert_int_equal(charge_n(&bot, BURST, t1), FLOOD_OK);
	assert_int_equal(flood_charge_at(&bot, 1.0, t1), FLOOD_REFUSE);
	assert_int_equal(charge_n(&bot, BURST, t1), FLOOD_KICK);
	assert_int_equal(charge_n(&ann, 20, t1), FLOOD_OK);
	flood_close(&bot);
	flood_close(&ann);
}

/* A connection closed for flooding closes its address to joins for as
 * long as it would still be refused, had it stayed: 101 points are back
 * at the burst of 50 after 5.1 s. */
static void test_kick_closes_address_to_joins(void **state)
{
	struct tmpdir *fx = *state;
	struct flood bot, ann;
	open_bucket(fx, &ann);
	open_bucket(fx, &bot);
	assert_int_equal(charge_n(&bot, BURST * FLOOD_KICK_FACTOR + 1, T0),
	                 FLOOD_KICK);
	flood_close(&bot);
	struct flood again;
	open_bucket(fx, &again);
	assert_int_equal(flood_join_at(&again, 3.0, T0 + 5 * SECOND),
	                 FLOOD_REFUSE);
	assert_int_equal(flood_join_at(&again, 3.0, T0 + 5 * SECOND + SECOND / 5),
	                 FLOOD_OK);
	flood_close(&again);
	/* Members already in were never held back. */
	assert_int_equal(charge_n(&ann, 10, T0 + 6 * SECOND), FLOOD_OK);
	flood_close(&ann);
}

/* A refused join is not charged: a storm of them does not push the
 * address further out. */
static void test_refused_join_charges_nothing(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	for (int i = 0; i < BURST / 3; i++)
		assert_int_equal(flood_join_at(&fl, 3.0, T0), FLOOD_OK);
	for (int i = 0; i < 100; i++)
		assert_int_equal(flood_join_at(&fl, 3.0, T0), FLOOD_REFUSE);
	/* 48 points; a tenth of a second later 47, and one join fits. */
	assert_int_equal(flood_join_at(&fl, 3.0, T0 + SECOND / 10), FLOOD_OK);
	flood_close(&fl);
}

/* The address's budget is that of its live connections: a join of twice
 * the burst fits in the budget of two, not of one. */
static void test_budget_grows_with_connections(void **state)
{
	struct tmpdir *fx = *state;
	struct flood a, b;
	open_bucket(fx, &a);
	assert_int_equal(flood_join_at(&a, 2 * BURST, T0), FLOOD_REFUSE);
	open_bucket(fx, &b);
	assert_int_equal(flood_join_at(&a, 2 * BURST, T0 + SECOND), FLOOD_OK);
	assert_int_equal(flood_join_at(&b, 0.5, T0 + SECOND), FLOOD_REFUSE);
	flood_close(&b);
	flood_close(&a);
}

static int sharers_now(struct flood *fl, uint64_t now)
{
	assert_int_equal(flood_charge_at(fl, 0.0, now), FLOOD_OK);
	return fl->sharers;
}

/* The count follows the connections that live, and is taken again at
 * most once a FLOOD_RECOUNT_NS. */
static void test_counts_live_connections(void **state)
{
	struct tmpdir *fx = *state;
	struct flood a, b, c;
	open_bucket(fx, &a);
	assert_int_equal(sharers_now(&a, T0), 1);
	open_bucket(fx, &b);
	open_bucket(fx, &c);
	assert_int_equal(sharers_now(&a, T0 + SECOND / 2), 1); /* not yet */
	assert_int_equal(sharers_now(&a, T0 + SECOND), 3);
	assert_int_equal(sharers_now(&b, T0 + SECOND), 3);
	flood_close(&b);
	assert_int_equal(sharers_now(&a, T0 + 2 * SECOND), 2);
	assert_int_equal(sharers_now(&c, T0 + 2 * SECOND), 2);
	flood_close(&c);
	flood_close(&a);
}

/* A connection killed with SIGKILL runs no cleanup: it is not counted
 * once it is gone all the same. */
static void test_sigkilled_connection_not_counted(void **state)
{
	struct tmpdir *fx = *state;
	struct flood a;
	open_bucket(fx, &a);
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct flood child;
		if (flood_open(&child, fx->fd, ADDR, 0600, RATE, BURST) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char x;
	assert_int_equal(read(ready[0], &x, 1), 1);
	assert_int_equal(sharers_now(&a, T0), 2);
	kill(pid, SIGKILL);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(sharers_now(&a, T0 + SECOND), 1);
	close(ready[0]);
	close(ready[1]);
	flood_close(&a);
}

/* Every connection of fl[0..n) says RATE lines a second, each within its
 * own bucket, for the given seconds from start: FLOOD_REFUSE as soon as
 * one is refused. */
static enum flood_verdict all_talk(struct flood *fl, int n, uint64_t start,
                                   uint64_t seconds)
{
	for (uint64_t s = 0; s < seconds; s++)
		for (int i = 0; i < n; i++)
			for (int k = 0; k < RATE; k++)
				if (flood_charge_at(&fl[i], 1.0, start + s * SECOND) !=
				    FLOOD_OK)
					return FLOOD_REFUSE;
	return FLOOD_OK;
}

/* The budget stops growing at FLOOD_SHARERS_MAX connections: that many,
 * each at its own rate, never fill the address; two more do (18 at RATE
 * against a budget of 16 fill its headroom of 10 s at an eighth of a
 * second a second). */
static void test_budget_capped(void **state)
{
	struct tmpdir *fx = *state;
	enum { N = FLOOD_SHARERS_MAX + 2 };
	struct flood fl[N];
	for (int i = 0; i < N; i++)
		open_bucket(fx, &fl[i]);
	for (int i = FLOOD_SHARERS_MAX; i < N; i++)
		assert_int_equal(fl[i].slot, -1);
	assert_int_equal(all_talk(fl, FLOOD_SHARERS_MAX, T0, 200), FLOOD_OK);
	assert_int_equal(fl[0].sharers, FLOOD_SHARERS_MAX);
	assert_int_equal(all_talk(fl, N, T0 + 1000 * SECOND, 200), FLOOD_REFUSE);
	for (int i = 0; i < N; i++)
		flood_close(&fl[i]);
}

#define WORKERS 4
#define JOINS 20000

/* Processes charging the address at once lose no charge: exactly the
 * burst.  All slots are taken first, so every worker counts the cap and
 * pays FLOOD_SHARERS_MAX points a join as one. */
static void test_concurrent_processes(void **state)
{
	struct tmpdir *fx = *state;
	struct flood holders[FLOOD_SHARERS_MAX];
	for (int i = 0; i < FLOOD_SHARERS_MAX; i++)
		assert_int_equal(flood_open(&holders[i], fx->fd, ADDR, 0600, 1,
		                            WORKERS * JOINS), 0);
	pid_t pids[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] > 0)
			continue;
		struct flood fl;
		if (flood_open(&fl, fx->fd, ADDR, 0600, 1, WORKERS * JOINS) < 0)
			_exit(1);
		for (int k = 0; k < JOINS; k++)
			if (flood_join_at(&fl, FLOOD_SHARERS_MAX, T0) != FLOOD_OK)
				_exit(2);
		_exit(fl.sharers == FLOOD_SHARERS_MAX ? 0 : 3);
	}
	for (int i = 0; i < WORKERS; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(flood_join_at(&holders[0], 0.0, T0), FLOOD_OK);
	assert_int_equal(flood_join_at(&holders[0], 1.0, T0), FLOOD_REFUSE);
	for (int i = 0; i < FLOOD_SHARERS_MAX; i++)
		flood_close(&holders[i]);
}

static void test_short_garbage_reset(void **state)
{
	struct tmpdir *fx = *state;
	write_file(fx, "abc", 3);
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(file_size(fx), BUCKET_SIZE);
	assert_fresh_address(&fl, T0);
	flood_close(&fl);
}

/* The older formats: a double score and a double time, or one word of
 * time after the magic of the first layout ("chatfld1"), 16 bytes. */
static void test_old_formats_reset(void **state)
{
	struct tmpdir *fx = *state;
	double old[2] = { 1e6, 1e9 };
	write_file(fx, old, sizeof old);
	struct flood fl;
	open_bucket(fx, &fl);
	assert_fresh_address(&fl, T0);
	flood_close(&fl);
	/* Reset once: a second connection keeps the score. */
	open_bucket(fx, &fl);
	assert_int_equal(flood_join_at(&fl, 0.5, T0), FLOOD_REFUSE);
	flood_close(&fl);

	uint64_t first[2] = { 0x63686174666c6431ULL, UINT64_MAX / 2 };
	write_file(fx, first, sizeof first);
	open_bucket(fx, &fl);
	assert_int_equal(file_size(fx), BUCKET_SIZE);
	assert_fresh_address(&fl, T0);
	flood_close(&fl);
}

/* A longer file is never cut (others may have it mapped). */
static void test_long_garbage_reset(void **state)
{
	struct tmpdir *fx = *state;
	char junk[4096];
	memset(junk, 0xff, sizeof junk);
	write_file(fx, junk, sizeof junk);
	struct flood fl;
	open_bucket(fx, &fl);
	assert_fresh_address(&fl, T0);
	assert_int_equal(file_size(fx), (off_t)sizeof junk);
	flood_close(&fl);
}

/* A valid file with times far ahead (another boot's clock) does not shut
 * the address out: its clients come back after a reboot. */
static void test_far_future_is_another_boot(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	flood_close(&fl);
	write_word(fx, UINT64_MAX - 1, EMPTY_AT);
	write_word(fx, UINT64_MAX - 1, CLOSED_UNTIL);
	open_bucket(fx, &fl);
	assert_fresh_address(&fl, T0);
	flood_close(&fl);
}

static void test_symlink_refused(void **state)
{
	struct tmpdir *fx = *state;
	assert_int_equal(symlinkat("target", fx->fd, ADDR), 0);
	struct flood fl;
	errno = 0;
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0600, RATE, BURST), -1);
	assert_int_equal(errno, ELOOP);
	struct stat st;
	assert_int_equal(fstatat(fx->fd, "target", &st, 0), -1);
	/* What a failed open leaves behind is inactive and safe to close. */
	assert_int_equal(flood_charge_at(&fl, 1e9, T0), FLOOD_OK);
	flood_close(&fl);
	flood_close(&fl);
}

static void test_fifo_refused(void **state)
{
	struct tmpdir *fx = *state;
	assert_int_equal(mkfifoat(fx->fd, ADDR, 0600), 0);
	struct flood fl;
	errno = 0;
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0600, RATE, BURST), -1);
	assert_int_equal(errno, EINVAL);
	flood_close(&fl);
}

static void test_directory_refused(void **state)
{
	struct tmpdir *fx = *state;
	assert_int_equal(mkdirat(fx->fd, ADDR, 0700), 0);
	struct flood fl;
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0600, RATE, BURST), -1);
	flood_close(&fl);
}

/* The real clock: a fresh bucket takes a join and a line at once. */
static void test_charge_reads_clock(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(flood_join(&fl, 3.0), FLOOD_OK);
	assert_int_equal(flood_charge(&fl, 3.0), FLOOD_OK);
	assert_int_equal(flood_charge(&fl, 1e9), FLOOD_KICK);
	assert_int_equal(flood_join(&fl, 3.0), FLOOD_REFUSE);
	flood_close(&fl);
}

/* ---- flood_collect ---- */

static void test_collect_keeps_held(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(flood_join_at(&fl, 3.0, T0), FLOOD_OK);
	/* However long ago: someone holds it. */
	assert_int_equal(flood_collect_at(fx->fd, 0, T0 + 100000 * SECOND), 0);
	assert_true(file_exists(fx));
	/* Its holder's bucket still works. */
	assert_int_equal(flood_join_at(&fl, 3.0, T0 + 100000 * SECOND), FLOOD_OK);
	flood_close(&fl);
}

/* Free and empty for the idle time: removed; before that, kept. */
static void test_collect_removes_free_idle(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(flood_join_at(&fl, BURST, T0), FLOOD_OK); /* 5 s */
	flood_close(&fl);
	assert_int_equal(flood_collect_at(fx->fd, 60, T0 + 2 * SECOND), 0);
	assert_int_equal(flood_collect_at(fx->fd, 60, T0 + 64 * SECOND), 0);
	assert_true(file_exists(fx));
	assert_int_equal(flood_collect_at(fx->fd, 60, T0 + 65 * SECOND), 1);
	assert_false(file_exists(fx));
	/* The address starts afresh. */
	open_bucket(fx, &fl);
	assert_fresh_address(&fl, T0 + 65 * SECOND);
	flood_close(&fl);
}

/* An address closed after a kick keeps its file as long as it is closed,
 * even once its bucket has emptied. */
static void test_collect_keeps_closed_address(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(flood_charge_at(&fl, 1e9, T0), FLOOD_KICK);
	flood_close(&fl);
	/* Closed until 10 s after T0 (150 points less the burst of 50). */
	assert_int_equal(flood_collect_at(fx->fd, 0, T0 + 9 * SECOND), 0);
	assert_int_equal(flood_collect_at(fx->fd, 0, T0 + 10 * SECOND), 1);
}

/* Garbage goes by its mtime; another boot's bucket as an empty one. */
static void test_collect_garbage_and_other_boots(void **state)
{
	struct tmpdir *fx = *state;
	write_file(fx, "abc", 3);
	assert_int_equal(flood_collect_at(fx->fd, 60, T0), 0);
	struct timespec old[2] = { { 0, UTIME_OMIT }, { time(NULL) - 61, 0 } };
	assert_int_equal(utimensat(fx->fd, ADDR, old, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(flood_collect_at(fx->fd, 60, T0), 1);

	struct flood fl;
	open_bucket(fx, &fl);
	flood_close(&fl);
	write_word(fx, UINT64_MAX - 1, EMPTY_AT);
	assert_int_equal(flood_collect_at(fx->fd, 60, T0), 1);
}

/* A collector removes the file between our open and our lock: we open
 * the name again, and use the file that has it. */
static void test_open_survives_collection(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	flood_close(&fl);
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* A collector at work: the lock, then the unlink, slowly. */
		int fd = openat(fx->fd, ADDR, O_RDONLY);
		if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(ready[1], "x", 1) != 1)
			_exit(1);
		nanosleep(&(struct timespec){ 0, 30000000 }, NULL);
		_exit(unlinkat(fx->fd, ADDR, 0) == 0 ? 0 : 1);
	}
	char x;
	assert_int_equal(read(ready[0], &x, 1), 1);
	open_bucket(fx, &fl);
	struct stat held, named;
	assert_int_equal(fstat(fl.fd, &held), 0);
	assert_int_equal(fstatat(fx->fd, ADDR, &named, 0), 0);
	assert_true(held.st_nlink == 1 && held.st_ino == named.st_ino);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready[0]);
	close(ready[1]);
	flood_close(&fl);
}

/* A file locked for good is waited for a bounded time only. */
static void test_open_wait_bounded(void **state)
{
	struct tmpdir *fx = *state;
	write_file(fx, "", 0);
	int fd = openat(fx->fd, ADDR, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	struct flood fl;
	errno = 0;
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0600, RATE, BURST), -1);
	assert_int_equal(errno, ETIMEDOUT);
	close(fd);
	flood_close(&fl);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tmpdir_setup, tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_inactive),
		T(test_creates_with_mode),
		T(test_ok_under_burst),
		T(test_refuse_past_burst),
		T(test_kick_past_factor),
		T(test_leaks_over_time),
		T(test_capped),
		T(test_bad_costs_free),
		T(test_flood_is_the_senders),
		T(test_kick_closes_address_to_joins),
		T(test_refused_join_charges_nothing),
		T(test_budget_grows_with_connections),
		T(test_counts_live_connections),
		T(test_sigkilled_connection_not_counted),
		T(test_budget_capped),
		T(test_concurrent_processes),
		T(test_short_garbage_reset),
		T(test_old_formats_reset),
		T(test_long_garbage_reset),
		T(test_far_future_is_another_boot),
		T(test_symlink_refused),
		T(test_fifo_refused),
		T(test_directory_refused),
		T(test_charge_reads_clock),
		T(test_collect_keeps_held),
		T(test_collect_removes_free_idle),
		T(test_collect_keeps_closed_address),
		T(test_collect_garbage_and_other_boots),
		T(test_open_survives_collection),
		T(test_open_wait_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
