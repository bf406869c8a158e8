#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "dirs.h"

#define LEVEL_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static const struct rundir_place standard_places[] = {
	{ "/run", "chat_server", false, true,
	  "/run/chat_server belongs to us (systemd RuntimeDirectory=, "
	  "tmpfiles.d, or made by root)" },
	{ "/dev/shm", "chat_server", true, false,
	  "RUN_DIR is unset; /dev/shm is a tmpfs every user may use" },
	{ "/tmp", "chat_server", true, false,
	  "RUN_DIR is unset and no tmpfs place was usable" },
};

static void note(struct rundir *r, const char *where, int err)
{
	size_t used = strlen(r->notes);
	snprintf(r->notes + used, sizeof r->notes - used, "%s%s: %s",
	         used ? "; " : "", where,
	         err == EPERM ? "belongs to another user" : strerror(err));
}

/* A directory of ours, descriptor fd: owned by us, and from now on 0700
 * whatever it was (we own it, so we may say). */
static int make_private(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	if (st.st_uid != geteuid()) {
		errno = EPERM;
		return -1;
	}
	if ((st.st_mode & 07777) != RUN_DIR_MODE && fchmod(fd, RUN_DIR_MODE) < 0)
		return -1;
	return 0;
}

/* Opens name inside dir_fd as a level of ours, made if missing and make. */
static int own_level(int dir_fd, const char *name, bool make)
{
	int fd = openat(dir_fd, name, LEVEL_FLAGS);
	if (fd < 0 && errno == ENOENT && make &&
	    (mkdirat(dir_fd, name, RUN_DIR_MODE) == 0 || errno == EEXIST))
		fd = openat(dir_fd, name, LEVEL_FLAGS);
	if (fd < 0)
		return errno == ENOTDIR ? (errno = ELOOP, -1) : -1;
	if (make_private(fd) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* The last level's name: the users directory's device and inode. */
static int installation_id(int users_fd, char *out, size_t outsz)
{
	struct stat st;
	if (fstat(users_fd, &st) < 0)
		return -1;
	snprintf(out, outsz, "%jx-%jx", (uintmax_t)st.st_dev,
	         (uintmax_t)st.st_ino);
	return 0;
}

static void describe(struct rundir *out, const char *why)
{
	struct statfs fs;
	out->why = why;
	out->tmpfs = fstatfs(out->fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

/* base inside the place's parent, then id inside base. */
static int open_place(const struct rundir_place *pl, const char *id,
                      struct rundir *out)
{
	char base[64];
	if (pl->per_user)
		snprintf(base, sizeof base, "%s-%lu", pl->base,
		         (unsigned long)geteuid());
	else
		snprintf(base, sizeof base, "%s", pl->base);
	snprintf(out->path, sizeof out->path, "%s/%s", pl->parent, base);
	int parent = open(pl->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0)
		return -1;
	int b = own_level(parent, base, !pl->root_only || geteuid() == 0);
	close(parent);
	if (b < 0)
		return -1;
	snprintf(out->path, sizeof out->path, "%s/%s/%s", pl->parent, base, id);
	out->fd = own_level(b, id, true);
	close(b);
	return out->fd < 0 ? -1 : 0;
}

int rundir_open_among(const struct rundir_place *places, size_t n,
                      int users_fd, struct rundir *out)
{
	char id[48];
	out->fd = -1;
	out->notes[0] = '\0';
	if (installation_id(users_fd, id, sizeof id) < 0)
		return -1;
	int err = ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (open_place(&places[i], id, out) == 0) {
			describe(out, places[i].why);
			return 0;
		}
		err = errno;
		note(out, out->path, err);
	}
	out->path[0] = '\0';
	errno = err;
	return -1;
}

static int open_configured(const char *path, struct rundir *out)
{
	snprintf(out->path, sizeof out->path, "%s", path);
	out->fd = dirs_open(path, RUN_DIR_MODE, true);
	if (out->fd < 0 || make_private(out->fd) < 0) {
		int saved = errno;
		if (out->fd >= 0)
			close(out->fd);
		out->fd = -1;
		note(out, path, saved);
		errno = saved;
		return -1;
	}
	describe(out, "RUN_DIR in the config");
	return 0;
}

int rundir_open(const char *configured, int users_fd, struct rundir *out)
{
	if (configured && *configured) {
		out->notes[0] = '\0';
		return open_configured(configured, out);
	}
	return rundir_open_among(standard_places, sizeof standard_places /
	                         sizeof *standard_places, users_fd, out);
}

int rundir_sub(int run_fd, const char *name)
{
	return dirs_open_at(run_fd, name, RUN_DIR_MODE);
}

int rundir_socket_address(int dir_fd, const char *name,
                          struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path, sizeof sa->sun_path,
	                 "/proc/self/fd/%d/%s", dir_fd, name);
	if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
