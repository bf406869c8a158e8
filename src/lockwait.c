#include "lockwait.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/time.h>

/* Only interrupts the wait: flock returns EINTR. */
static void interrupt_wait(int sig)
{
	(void)sig;
}

static bool time_left(void)
{
	struct itimerval t;
	return getitimer(ITIMER_REAL, &t) == 0 &&
	       (t.it_value.tv_sec || t.it_value.tv_usec);
}

int lockwait_flock(int fd, int op, long max_ms)
{
	if (flock(fd, op | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK && errno != EINTR)
		return -1;
	struct sigaction wake = { .sa_handler = interrupt_wait }, old_action;
	struct itimerval timer = { .it_value = { max_ms / 1000,
	                                         max_ms % 1000 * 1000 } };
	struct itimerval old_timer;
	sigemptyset(&wake.sa_mask); /* no SA_RESTART: the wait must end */
	if (sigaction(SIGALRM, &wake, &old_action) < 0)
		return -1;
	if (setitimer(ITIMER_REAL, &timer, &old_timer) < 0) {
		sigaction(SIGALRM, &old_action, NULL);
		return -1;
	}
	int rc;
	do
		rc = flock(fd, op);
	while (rc < 0 && errno == EINTR && time_left());
	int err = rc < 0 && errno == EINTR ? ETIMEDOUT : errno;
	setitimer(ITIMER_REAL, &old_timer, NULL);
	sigaction(SIGALRM, &old_action, NULL);
	errno = err;
	return rc;
}
