#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lockwait.h"
#include "support/tmpdir.h"

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int open_lock(struct tmpdir *t)
{
	int fd = openat(t->fd, "lock", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	return fd;
}

static void test_free_lock_taken_at_once(void **state)
{
	int fd = open_lock(*state);
	assert_int_equal(lockwait_flock(fd, LOCK_EX, 100), 0);
	close(fd);
}

static int alarms;
static void count_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* A lock held elsewhere: the wait ends after the bound, with ETIMEDOUT,
 * and leaves the signal's handler and the interval timer as they were. */
static void test_held_lock_times_out(void **state)
{
	int held = open_lock(*state), fd = open_lock(*state);
	assert_int_equal(flock(held, LOCK_EX), 0);
	struct sigaction mine = { .sa_handler = count_alarm }, seen;
	sigemptyset(&mine.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &mine, NULL), 0);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(lockwait_flock(fd, LOCK_SH, 150), -1);
	assert_int_equal(errno, ETIMEDOUT);
	long ms = ms_since(&t0);
	assert_true(ms >= 140 && ms < 2000);
	assert_int_equal(sigaction(SIGALRM, NULL, &seen), 0);
	assert_ptr_equal(seen.sa_handler, count_alarm);
	struct itimerval timer;
	assert_int_equal(getitimer(ITIMER_REAL, &timer), 0);
	assert_true(timer.it_value.tv_sec == 0 && timer.it_value.tv_usec == 0);
	assert_int_equal(alarms, 0);
	signal(SIGALRM, SIG_DFL);
	/* let go: taken at once */
	close(held);
	assert_int_equal(lockwait_flock(fd, LOCK_EX, 150), 0);
	close(fd);
}

/* Let go while it waits: taken then, not at the bound. */
static void test_wait_ends_when_let_go(void **state)
{
	int held = open_lock(*state), fd = open_lock(*state);
	assert_int_equal(flock(held, LOCK_EX), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(held);
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int rc = lockwait_flock(fd, LOCK_EX, 5000);
		_exit(rc == 0 && ms_since(&t0) < 4000 ? 0 : 1);
	}
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	close(held);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, tmpdir_setup, tmpdir_teardown)
		T(test_free_lock_taken_at_once),
		T(test_held_lock_times_out),
		T(test_wait_ends_when_let_go),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
