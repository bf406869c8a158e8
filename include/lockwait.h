/* lockwait: waiting for a flock, for a bounded time.
 *
 * Every lock a chat process waits for (a room lock, a log's append lock, a
 * PHP session, a flood bucket a collector holds) is held for milliseconds
 * by a process that works.  One that is stopped or stuck must not stall
 * everybody behind it for ever: each wait has a bound and ends with
 * ETIMEDOUT, which the caller turns into a clear error line.
 *
 * The waiter sleeps in the kernel, woken by an interval timer (SIGALRM,
 * which nothing else in chat_server uses), never in a loop of tries: in a
 * storm of quits a hundred members may wait for one room. */
#ifndef CHAT_LOCKWAIT_H
#define CHAT_LOCKWAIT_H

/* flock(fd, op) (LOCK_SH or LOCK_EX) waiting at most max_ms.  Returns 0,
 * or -1 with errno (ETIMEDOUT when the time ran out). */
int lockwait_flock(int fd, int op, long max_ms);

#endif
