#include "append.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* After a short write (disk full, I/O error) our bytes end at the current
 * offset.  Cut them off again, unless another writer has appended since: a
 * reader then resynchronises at the next newline. */
static int undo_partial(int fd, size_t written)
{
	off_t end = lseek(fd, 0, SEEK_CUR);
	struct stat st;
	if (end < (off_t)written || fstat(fd, &st) < 0 || st.st_size != end)
		return -1;
	return ftruncate(fd, end - (off_t)written);
}

int append_line(int dir_fd, const char *name, mode_t mode, const char *line,
                size_t len)
{
	/* O_NONBLOCK: a FIFO planted under the log's name must not hang us. */
	int fd = openat(dir_fd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	                                  O_CLOEXEC | O_NONBLOCK, mode);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	ssize_t n;
	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
	int saved = errno;
	if (n >= 0 && (size_t)n < len) {
		saved = ENOSPC;
		if (undo_partial(fd, (size_t)n) < 0)
			saved = EIO;
	}
	close(fd);
	if (n >= 0 && (size_t)n == len)
		return 0;
	errno = saved;
	return -1;
}
