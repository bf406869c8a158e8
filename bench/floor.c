/* floor: the least a websocketd program of chat_server's architecture can
 * do.  One process per connection; each stdin line is appended whole, with
 * one write on an O_APPEND descriptor, to ROOMS_DIR/<room>.log, and every
 * line appended to that log from the moment of joining is written to stdout,
 * woken by inotify.  No identity, presence, history, commands, rotation or
 * limits: the benchmark baseline (bench/run.sh), not a chat server.
 *
 *   websocketd ... floor ROOMS_DIR      (room: first segment of PATH_INFO)
 *
 * Prints "Welcome <room>" once it follows the log, so a client can time a
 * join the way it times chat_server's welcome line. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define MAX_LINE 4096

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Appends every complete line of in[0..*len) to the log, one write each. */
static int append_lines(int log_w, char *in, size_t *len)
{
	char *start = in, *end = in + *len, *nl;
	while ((nl = memchr(start, '\n', (size_t)(end - start)))) {
		if (write(log_w, start, (size_t)(nl - start) + 1) < 0)
			return -1;
		start = nl + 1;
	}
	*len = (size_t)(end - start);
	memmove(in, start, *len);
	if (*len == MAX_LINE) /* an over-long line: dropped */
		*len = 0;
	return 0;
}

/* Writes whatever complete lines the log gained since the last call. */
static int follow(int log_r, char *out, size_t *len)
{
	ssize_t n;
	while ((n = read(log_r, out + *len, MAX_LINE - *len)) > 0) {
		*len += (size_t)n;
		char *last = memrchr(out, '\n', *len);
		size_t whole = last ? (size_t)(last - out) + 1 : 0;
		if (write_all(1, out, whole) < 0)
			return -1;
		*len -= whole;
		memmove(out, out + whole, *len);
		if (*len == MAX_LINE)
			*len = 0;
	}
	return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *info = getenv("PATH_INFO");
	char room[256], path[4096];
	if (argc != 2 || !info)
		return 2;
	info += strspn(info, "/");
	size_t rl = strcspn(info, "/");
	if (rl == 0 || rl >= sizeof room || info[0] == '.')
		return 2;
	memcpy(room, info, rl);
	room[rl] = '\0';
	snprintf(path, sizeof path, "%s/%s.log", argv[1], room);

	int log_w = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	int log_r = open(path, O_RDONLY | O_CLOEXEC);
	int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (log_w < 0 || log_r < 0 || ino < 0 ||
	    inotify_add_watch(ino, path, IN_MODIFY) < 0 ||
	    lseek(log_r, 0, SEEK_END) < 0) {
		printf("floor: cannot follow %s: %s\n", path, strerror(errno));
		return 1;
	}
	char welcome[300];
	int wl = snprintf(welcome, sizeof welcome, "Welcome %s\n", room);
	if (write_all(1, welcome, (size_t)wl) < 0)
		return 1;

	static char in[MAX_LINE], out[MAX_LINE];
	size_t in_len = 0, out_len = 0;
	struct pollfd p[2] = { { 0, POLLIN, 0 }, { ino, POLLIN, 0 } };
	for (;;) {
		if (poll(p, 2, -1) < 0)
			return 1;
		if (p[1].revents) {
			char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
			while (read(ino, ev, sizeof ev) > 0)
				;
			if (follow(log_r, out, &out_len) < 0)
				return 1;
		}
		if (p[0].revents) {
			ssize_t n = read(0, in + in_len, MAX_LINE - in_len);
			if (n <= 0)
				return 0;
			in_len += (size_t)n;
			if (append_lines(log_w, in, &in_len) < 0)
				return 1;
		}
	}
}
