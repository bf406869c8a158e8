#include "elapsed.h"

struct timespec elapsed_start(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now;
}

long elapsed_ms(const struct timespec *start)
{
	struct timespec now = elapsed_start();
	return (now.tv_sec - start->tv_sec) * 1000 +
	       (now.tv_nsec - start->tv_nsec) / 1000000;
}
