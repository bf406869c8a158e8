#include "append.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dirs.h"
#include "lockwait.h"

#define REOPEN_ATTEMPTS 20
#define PAUSE_POLL_MS 10

bool append_paused(int dir_fd)
{
	struct stat st;
	if (fstatat(dir_fd, APPEND_PAUSE_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return time(NULL) - st.st_mtime < APPEND_PAUSE_STALE_S;
}

/* Takes the exclusive append lock, waiting out a rotation (bounded). */
static int lock_for_append(int fd, int dir_fd,
                           const struct append_options *opt)
{
	const struct timespec step = { 0, PAUSE_POLL_MS * 1000000L };
	for (int waited = 0;; waited += PAUSE_POLL_MS) {
		if (lockwait_flock(fd, LOCK_EX, APPEND_LOCK_WAIT_MS) < 0)
			return -1;
		if (!append_paused(dir_fd) || waited >= APPEND_PAUSE_WAIT_MS)
			return 0;
		flock(fd, LOCK_UN);
		nanosleep(&step, NULL);
		if (opt->wait)
			opt->wait(opt->ctx);
	}
}

/* True when fd is still the file called name (not renamed away). */
static bool still_named(int fd, int dir_fd, const char *name)
{
	struct stat mine, now;
	return fstat(fd, &mine) == 0 &&
	       fstatat(dir_fd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	       mine.st_dev == now.st_dev && mine.st_ino == now.st_ino;
}

#define OPEN_FLAGS (O_WRONLY | O_APPEND)

/* Opens the log, creating it unless it existed before and may be coming
 * back (see append_options). */
static int open_log(int dir_fd, const char *name, mode_t mode,
                    const struct append_options *opt)
{
	const struct timespec step = { 0, PAUSE_POLL_MS * 1000000L };
	int fd = dirs_open_file(dir_fd, name, OPEN_FLAGS, 0, NULL);
	for (int waited = 0; fd < 0 && errno == ENOENT && opt->log_existed &&
	                     waited < APPEND_RECREATE_WAIT_MS;
	     waited += PAUSE_POLL_MS) {
		nanosleep(&step, NULL);
		if (opt->wait)
			opt->wait(opt->ctx);
		fd = dirs_open_file(dir_fd, name, OPEN_FLAGS, 0, NULL);
	}
	if (fd < 0 && errno == ENOENT)
		fd = dirs_open_file(dir_fd, name, OPEN_FLAGS | O_CREAT, mode, NULL);
	return fd;
}

static int open_locked(int dir_fd, const char *name, mode_t mode,
                       const struct append_options *opt)
{
	for (int i = 0; i < REOPEN_ATTEMPTS; i++) {
		int fd = open_log(dir_fd, name, mode, opt);
		if (fd < 0)
			return -1;
		if (lock_for_append(fd, dir_fd, opt) < 0) {
			int saved = errno; /* a lock that cannot be had: say why */
			close(fd);
			errno = saved;
			return -1;
		}
		if (still_named(fd, dir_fd, name))
			return fd;
		close(fd); /* renamed away while we waited: the new one */
	}
	errno = EAGAIN;
	return -1;
}

int append_line(int dir_fd, const char *name, mode_t mode, const char *line,
                size_t len)
{
	const struct append_options none = { 0 };
	return append_line_with(dir_fd, name, mode, line, len, &none);
}

/* The fast way, for a writer whose count of directory changes has not
 * moved since its last full check: the name still leads to the file that
 * check found to be the log, a regular file, and no pause began.  Returns
 * the locked fd, or -1 when the full way must be taken. */
static int open_trusted(int dir_fd, const char *name,
                        const struct append_options *opt, unsigned long *count)
{
	int fd = openat(dir_fd, name, OPEN_FLAGS | O_NOFOLLOW | O_NONBLOCK |
	                                  O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = lockwait_flock(fd, LOCK_EX, APPEND_LOCK_WAIT_MS);
	/* Read under the lock: a pause that began before it shows here. */
	if (rc == 0 && opt->changes(opt->ctx, count) &&
	    *count == opt->seen->count)
		return fd;
	close(fd);
	return -1;
}

/* The log, open and locked for one line. */
static int lock_log(int dir_fd, const char *name, mode_t mode,
                    const struct append_options *opt)
{
	struct append_seen *seen = opt->seen;
	unsigned long count = 0;
	if (seen && opt->changes && seen->valid) {
		int fd = open_trusted(dir_fd, name, opt, &count);
		if (fd >= 0)
			return fd;
	}
	/* Read before the checks: a change during them shows next time. */
	bool known = seen && opt->changes && opt->changes(opt->ctx, &count);
	int fd = open_locked(dir_fd, name, mode, opt);
	if (seen) {
		seen->valid = known && fd >= 0;
		seen->count = count;
	}
	return fd;
}

/* The length of the whole lines at the start of data[0..n). */
static size_t whole_lines(const char *data, size_t n)
{
	const char *nl = memrchr(data, '\n', n);
	return nl ? (size_t)(nl - data) + 1 : 0;
}

/* Writes data (whole lines) with the append lock held.  Returns the bytes
 * that stay in the log: len, or fewer with errno saying why.  Only whole
 * lines stay: a short write is cut back to its last complete line. */
static size_t write_locked(int fd, const char *data, size_t len)
{
	ssize_t n;
	do
		n = write(fd, data, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return 0;
	size_t done = (size_t)n;
	int saved = ENOSPC;
	if (done < len) {
		/* Writing the rest tells why it did not fit (ENOSPC, EFBIG). */
		ssize_t more = write(fd, data + done, len - done);
		saved = more < 0 ? errno : ENOSPC;
		done += more > 0 ? (size_t)more : 0;
	}
	if (done == len)
		return len;
	/* We hold the lock: the bytes at the end are ours alone to cut. */
	size_t kept = whole_lines(data, done);
	off_t cut = (off_t)(done - kept);
	struct stat st;
	if (cut > 0 && (fstat(fd, &st) < 0 || st.st_size < cut ||
	                ftruncate(fd, st.st_size - cut) < 0))
		saved = EIO;
	errno = saved;
	return kept;
}

size_t append_lines_with(int dir_fd, const char *name, mode_t mode,
                         const char *data, size_t len,
                         const struct append_options *opt)
{
	int fd = lock_log(dir_fd, name, mode, opt);
	if (fd < 0)
		return 0;
	size_t kept = write_locked(fd, data, len);
	int saved = errno;
	close(fd); /* and with it the lock */
	errno = saved;
	return kept;
}

int append_line_with(int dir_fd, const char *name, mode_t mode,
                     const char *line, size_t len,
                     const struct append_options *opt)
{
	return append_lines_with(dir_fd, name, mode, line, len, opt) == len
	       ? 0 : -1;
}

static bool is_log(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".log") == 0;
}

/* Waits for the append lock of one log, then lets it go. */
static void wait_for_appends(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	                                  O_NONBLOCK);
	if (fd < 0)
		return;
	lockwait_flock(fd, LOCK_EX, APPEND_LOCK_WAIT_MS); /* then go on anyway */
	close(fd);
}

/* A new marker, made anew.  A marker left by a rotation that died is
 * removed first, never just touched: a touch shows in the directory only
 * as IN_ATTRIB, which writers that trust their count of directory changes
 * would not see, while a removal and a creation are both changes they
 * count.  No temporary name: rooms/ is listed whole by the old history
 * page.  An append that slips in while the name is missing is waited for
 * below like any other in flight. */
static int put_marker(int dir_fd, mode_t mode)
{
	if (unlinkat(dir_fd, APPEND_PAUSE_NAME, 0) < 0 && errno != ENOENT)
		return -1;
	int fd = openat(dir_fd, APPEND_PAUSE_NAME, O_WRONLY | O_CREAT | O_EXCL |
	                                           O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd >= 0)
		close(fd);
	/* EEXIST: another pause made it just now; it is fresh all the same */
	return fd >= 0 || errno == EEXIST ? 0 : -1;
}

int append_pause(int dir_fd, mode_t mode)
{
	if (put_marker(dir_fd, mode) < 0)
		return -1;
	DIR *dir = dirs_list(dir_fd);
	if (!dir)
		return -1;
	struct dirent *d;
	while ((d = readdir(dir)))
		if (is_log(d->d_name))
			wait_for_appends(dir_fd, d->d_name);
	closedir(dir);
	const struct timespec grace = { APPEND_PAUSE_GRACE_MS / 1000,
	                                 APPEND_PAUSE_GRACE_MS % 1000 * 1000000L };
	nanosleep(&grace, NULL);
	return 0;
}

int append_resume(int dir_fd)
{
	if (unlinkat(dir_fd, APPEND_PAUSE_NAME, 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}
