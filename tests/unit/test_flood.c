#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flood.h"
#include "support/tmpdir.h"

#define ADDR "198.51.100.7"
#define RATE 10
#define BURST 50
#define SECOND UINT64_C(1000000000)
/* Any time will do, as long as the tests give it and not the clock. */
#define T0 (1000 * SECOND)


static void open_bucket(struct tmpdir *fx, struct flood *fl)
{
	assert_int_equal(flood_open(fl, fx->fd, ADDR, 0640, RATE, BURST), 0);
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
	int fd = openat(fx->fd, ADDR, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static off_t file_size(struct tmpdir *fx)
{
	struct stat st;
	assert_int_equal(fstatat(fx->fd, ADDR, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_size;
}

/* A bucket that lets exactly BURST points through and refuses the next. */
static void assert_fresh(struct flood *fl, uint64_t now)
{
	assert_int_equal(charge_n(fl, BURST, now), FLOOD_OK);
	assert_int_equal(flood_charge_at(fl, 1.0, now), FLOOD_REFUSE);
}

static void test_inactive(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0640, 0, BURST), 0);
	assert_int_equal(flood_charge_at(&fl, 1e9, T0), FLOOD_OK);
	assert_int_equal(flood_charge(&fl, 1e9), FLOOD_OK);
	flood_close(&fl);
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0640, RATE, 0), 0);
	assert_int_equal(flood_charge(&fl, 1e9), FLOOD_OK);
	flood_close(&fl);
	struct stat st;
	assert_int_equal(fstatat(fx->fd, ADDR, &st, 0), -1); /* no file */
}

static void test_creates_with_mode(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	mode_t old = umask(0);
	int rc = flood_open(&fl, fx->fd, ADDR, 0604, RATE, BURST);
	umask(old);
	assert_int_equal(rc, 0);
	struct stat st;
	assert_int_equal(fstatat(fx->fd, ADDR, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0604);
	assert_int_equal(st.st_size, 16);
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
	assert_fresh(&fl, T0);
	flood_close(&fl);
}

/* Two connections of one address: one score. */
static void test_shared_between_connections(void **state)
{
	struct tmpdir *fx = *state;
	struct flood a, b;
	open_bucket(fx, &a);
	open_bucket(fx, &b);
	assert_int_equal(charge_n(&a, 30, T0), FLOOD_OK);
	assert_int_equal(charge_n(&b, 20, T0), FLOOD_OK);
	assert_int_equal(flood_charge_at(&a, 1.0, T0), FLOOD_REFUSE);
	assert_int_equal(flood_charge_at(&b, 1.0, T0), FLOOD_REFUSE);
	flood_close(&a); /* b's mapping stays good */
	assert_int_equal(flood_charge_at(&b, 1.0, T0), FLOOD_REFUSE);
	flood_close(&b);
	/* A later connection inherits the score: 53 points, 5.3 s to leak. */
	open_bucket(fx, &a);
	assert_int_equal(flood_charge_at(&a, 1.0, T0 + SECOND / 5),
	                 FLOOD_REFUSE);
	assert_int_equal(flood_charge_at(&a, 1.0, T0 + SECOND / 2), FLOOD_OK);
	flood_close(&a);
}

#define WORKERS 4
#define CHARGES 20000

/* Processes charging at once lose no charge: exactly the burst. */
static void test_concurrent_processes(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	/* Made before: the first connections to a new file may race to reset
	 * it (flood.c), which is not what this counts. */
	open_bucket(fx, &fl);
	flood_close(&fl);
	pid_t pids[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] > 0)
			continue;
		if (flood_open(&fl, fx->fd, ADDR, 0640, 1, WORKERS * CHARGES) < 0)
			_exit(1);
		charge_n(&fl, CHARGES, T0);
		flood_close(&fl);
		_exit(0);
	}
	for (int i = 0; i < WORKERS; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0640, 1,
	                            WORKERS * CHARGES), 0);
	assert_int_equal(flood_charge_at(&fl, 0.0, T0), FLOOD_OK);
	assert_int_equal(flood_charge_at(&fl, 1.0, T0), FLOOD_REFUSE);
	flood_close(&fl);
}

static void test_short_garbage_reset(void **state)
{
	struct tmpdir *fx = *state;
	write_file(fx, "abc", 3);
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(file_size(fx), 16);
	assert_fresh(&fl, T0);
	flood_close(&fl);
}

/* The older format: a double score and a double time, 16 bytes. */
static void test_old_format_reset(void **state)
{
	struct tmpdir *fx = *state;
	double old[2] = { 1e6, 1e9 };
	write_file(fx, old, sizeof old);
	struct flood fl;
	open_bucket(fx, &fl);
	assert_fresh(&fl, T0);
	flood_close(&fl);
	/* Reset once: a second connection keeps the score. */
	open_bucket(fx, &fl);
	assert_int_equal(flood_charge_at(&fl, 0.0, T0), FLOOD_REFUSE);
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
	assert_fresh(&fl, T0);
	assert_int_equal(file_size(fx), (off_t)sizeof junk);
	flood_close(&fl);
}

/* A valid file with a time far ahead (another boot's clock) does not shut
 * the address out: its clients come back after a reboot. */
static void test_far_future_is_another_boot(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	flood_close(&fl);
	int fd = openat(fx->fd, ADDR, O_WRONLY);
	assert_true(fd >= 0);
	uint64_t far = UINT64_MAX - 1;
	assert_int_equal(pwrite(fd, &far, sizeof far, 8), (ssize_t)sizeof far);
	close(fd);
	open_bucket(fx, &fl);
	assert_fresh(&fl, T0);
	flood_close(&fl);
}

static void test_symlink_refused(void **state)
{
	struct tmpdir *fx = *state;
	assert_int_equal(symlinkat("target", fx->fd, ADDR), 0);
	struct flood fl;
	errno = 0;
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0640, RATE, BURST), -1);
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
	assert_int_equal(mkfifoat(fx->fd, ADDR, 0640), 0);
	struct flood fl;
	errno = 0;
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0640, RATE, BURST), -1);
	assert_int_equal(errno, EINVAL);
	flood_close(&fl);
}

static void test_directory_refused(void **state)
{
	struct tmpdir *fx = *state;
	assert_int_equal(mkdirat(fx->fd, ADDR, 0750), 0);
	struct flood fl;
	assert_int_equal(flood_open(&fl, fx->fd, ADDR, 0640, RATE, BURST), -1);
	flood_close(&fl);
}

/* The real clock: a fresh bucket takes a join at once. */
static void test_charge_reads_clock(void **state)
{
	struct tmpdir *fx = *state;
	struct flood fl;
	open_bucket(fx, &fl);
	assert_int_equal(flood_charge(&fl, 3.0), FLOOD_OK);
	assert_int_equal(flood_charge(&fl, 1e9), FLOOD_KICK);
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
		T(test_shared_between_connections),
		T(test_concurrent_processes),
		T(test_short_garbage_reset),
		T(test_old_format_reset),
		T(test_long_garbage_reset),
		T(test_far_future_is_another_boot),
		T(test_symlink_refused),
		T(test_fifo_refused),
		T(test_directory_refused),
		T(test_charge_reads_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
