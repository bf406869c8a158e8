#include "inbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dirs.h"
#include "rundir.h"

static int inbox_name(int presence_fd, char *out)
{
	struct stat st;
	if (fstat(presence_fd, &st) < 0)
		return -1;
	snprintf(out, INBOX_NAME_MAX, "inbox-%jx-%jx", (uintmax_t)st.st_dev,
	         (uintmax_t)st.st_ino);
	return 0;
}

int inbox_open(struct inbox *ib, int run_dir_fd, int presence_fd,
               mode_t mode)
{
	struct sockaddr_un sa;
	const int on = 1;
	ib->dir_fd = run_dir_fd;
	ib->fd = -1;
	if (inbox_name(presence_fd, ib->name) < 0 ||
	    rundir_socket_address(run_dir_fd, ib->name, &sa) < 0)
		return -1;
	/* A socket file left by a process that died holding the same inode
	 * number: nobody can be bound to it any more. */
	unlinkat(run_dir_fd, ib->name, 0);
	ib->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ib->fd < 0)
		return -1;
	if (setsockopt(ib->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0 ||
	    bind(ib->fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    fchmodat(run_dir_fd, ib->name, mode | S_IRUSR | S_IWUSR, 0) < 0) {
		int saved = errno; /* not the unlink's ENOENT */
		unlinkat(run_dir_fd, ib->name, 0);
		close(ib->fd);
		ib->fd = -1;
		errno = saved;
		return -1;
	}
	return 0;
}

int inbox_connect(int run_dir_fd, int member_fd)
{
	char name[INBOX_NAME_MAX];
	struct sockaddr_un sa;
	if (inbox_name(member_fd, name) < 0 ||
	    rundir_socket_address(run_dir_fd, name, &sa) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int inbox_try_send(int fd, const char *line, size_t len)
{
	if (len > INBOX_LINE_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	ssize_t n;
	do
		n = send(fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EWOULDBLOCK)
		errno = EAGAIN;
	return -1;
}

/* Only our own user's processes may write into a conversation. */
static bool sent_by_us(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS)
			continue;
		struct ucred cred;
		memcpy(&cred, CMSG_DATA(c), sizeof cred);
		return cred.uid == geteuid();
	}
	return false;
}

static bool is_one_line(const char *p, size_t n)
{
	return n > 0 && p[n - 1] == '\n' && !memchr(p, '\n', n - 1);
}

/* The size of the next datagram, without taking it; 0 when none waits. */
static ssize_t next_size(int fd)
{
	ssize_t n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	return n == 0 ? 1 : n; /* an empty datagram is taken, then dropped */
}

/* Takes the next datagram into out, which is made just large enough: a
 * stack buffer for the largest line would stay in every process's memory
 * once touched.  Returns 1 with a line from our user, 0 when the datagram
 * was dropped, -1 on error. */
static int take_datagram(int fd, size_t size, struct buf *out)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} control;
	buf_clear(out);
	char *data = size <= INBOX_LINE_MAX ? buf_grow(out, size) : NULL;
	char sink;
	struct iovec iov = { data ? data : &sink, data ? size : 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	                      .msg_control = control.buf,
	                      .msg_controllen = sizeof control.buf };
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	bool ok = data && !(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
	          sent_by_us(&msg) && is_one_line(data, (size_t)n);
	if (!ok) {
		buf_clear(out);
		return 0;
	}
	out->len = (size_t)n;
	out->data[n] = '\0';
	return 1;
}

int inbox_receive(struct inbox *ib, struct buf *out)
{
	for (;;) {
		ssize_t size = next_size(ib->fd);
		if (size <= 0)
			return (int)size;
		int rc = take_datagram(ib->fd, (size_t)size, out);
		if (rc != 0)
			return rc;
	}
}

void inbox_remove_dead(int run_dir_fd, int member_fd)
{
	char name[INBOX_NAME_MAX];
	if (inbox_name(member_fd, name) == 0)
		unlinkat(run_dir_fd, name, 0);
}

/* Nobody is bound to name: connecting is refused.  The age check keeps a
 * socket that a new member bound under a reused name just now. */
static bool abandoned(int run_dir_fd, const char *name, long idle_s)
{
	struct sockaddr_un sa;
	struct stat st;
	if (fstatat(run_dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISSOCK(st.st_mode) || time(NULL) - st.st_mtime < idle_s ||
	    rundir_socket_address(run_dir_fd, name, &sa) < 0)
		return false;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool refused = connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
	               errno == ECONNREFUSED;
	close(fd);
	return refused;
}

int inbox_collect(int run_dir_fd, long idle_s)
{
	DIR *dir = dirs_list(run_dir_fd);
	if (!dir)
		return -1;
	int removed = 0;
	struct dirent *d;
	while ((d = readdir(dir)))
		if (strncmp(d->d_name, "inbox-", 6) == 0 &&
		    abandoned(run_dir_fd, d->d_name, idle_s) &&
		    unlinkat(run_dir_fd, d->d_name, 0) == 0)
			removed++;
	closedir(dir);
	return removed;
}

void inbox_close(struct inbox *ib)
{
	if (ib->fd < 0)
		return;
	unlinkat(ib->dir_fd, ib->name, 0);
	close(ib->fd);
	ib->fd = -1;
}
