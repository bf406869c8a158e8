#include "append.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dirs.h"

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
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR)
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

/* Opens the log locked for appending.  Returns fd, or -1. */
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
		if (lock_for_append(fd, dir_fd, opt) == 0 &&
		    still_named(fd, dir_fd, name))
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

int append_line(int dir_fd, const char *name, mode_t mode, const char *line,
                size_t len)
{
	const struct append_options none = { NULL, NULL, false };
	return append_line_with(dir_fd, name, mode, line, len, &none);
}

int append_line_with(int dir_fd, const char *name, mode_t mode,
                     const char *line, size_t len,
                     const struct append_options *opt)
{
	int fd = open_locked(dir_fd, name, mode, opt);
	if (fd < 0)
		return -1;
	off_t end = lseek(fd, 0, SEEK_END);
	ssize_t n;
	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
	int saved = errno;
	/* We hold the lock: whatever got past end is ours alone to cut. */
	if (n >= 0 && (size_t)n < len) {
		/* Writing the rest tells why it did not fit (ENOSPC, EFBIG). */
		ssize_t more = write(fd, line + n, len - (size_t)n);
		saved = more < 0 ? errno : ENOSPC;
		if (end < 0 || ftruncate(fd, end) < 0)
			saved = EIO;
	}
	close(fd);
	if (n >= 0 && (size_t)n == len)
		return 0;
	errno = saved;
	return -1;
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
	while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
	close(fd);
}

int append_pause(int dir_fd, mode_t mode)
{
	int marker = openat(dir_fd, APPEND_PAUSE_NAME, O_WRONLY | O_CREAT |
	                                   O_NOFOLLOW | O_CLOEXEC, mode);
	if (marker < 0 || futimens(marker, NULL) < 0) {
		if (marker >= 0)
			close(marker);
		return -1;
	}
	close(marker);
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
