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

int dirs_open(const char *path, mode_t mode, bool create)
{
	int fd = open(path, DIR_FLAGS);
	if (fd >= 0 || !create || errno != ENOENT)
		return fd;
	if (make_path(path, mode) < 0)
		return -1;
	return open(path, DIR_FLAGS);
}
