#include "dirs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p: parents first, each with mode; an existing directory is fine. */
static int make_path(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* O_NOFOLLOW: a symlink planted where one of our directories should be
 * is refused (ELOOP); the directories above it are the admin's choice. */
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Linux says ENOTDIR for a symlink under O_NOFOLLOW|O_DIRECTORY; say what
 * it is. */
static int refused(int dir_fd, const char *path)
{
	struct stat st;
	if (errno == ENOTDIR &&
	    fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		errno = ELOOP;
	return -1;
}

int dirs_open(const char *path, mode_t mode, bool create)
{
	int fd = open(path, DIR_FLAGS);
	if (fd >= 0)
		return fd;
	if (!create || errno != ENOENT)
		return refused(AT_FDCWD, path);
	if (make_path(path, mode) < 0)
		return -1;
	fd = open(path, DIR_FLAGS);
	return fd >= 0 ? fd : refused(AT_FDCWD, path);
}

int dirs_open_at(int dir_fd, const char *name, mode_t mode)
{
	if (mkdirat(dir_fd, name, mode) < 0 && errno != EEXIST)
		return -1;
	int fd = openat(dir_fd, name, DIR_FLAGS);
	return fd >= 0 ? fd : refused(dir_fd, name);
}

int dirs_open_file(int dir_fd, const char *name, int flags, mode_t mode,
                   struct stat *st)
{
	struct stat own;
	int fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	                mode);
	if (fd < 0)
		return -1;
	if (!st)
		st = &own;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

DIR *dirs_list(int dir_fd)
{
	int fd = dup(dir_fd);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(dir); /* the dup shares its offset with dir_fd */
	return dir;
}
