#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/redis_server.h"

#include <hiredis/hiredis.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/tmpdir.h"

extern char **environ;

static bool connectable(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

void redis_server_kill(struct redis_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

int redis_server_start(struct redis_server *s, const char *name)
{
	memset(s, 0, sizeof *s);
	if (!tmpdir_make(s->dir, sizeof s->dir, name))
		return -1;
	snprintf(s->socket, sizeof s->socket, "%s/redis.sock", s->dir);
	char *const argv[] = { "redis-server", "--port", "0", "--unixsocket",
	                       s->socket, "--save", "", "--appendonly", "no",
	                       "--dir", s->dir, "--daemonize", "no",
	                       "--loglevel", "warning", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawnp(&s->pid, "redis-server", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "%s: no redis-server (%s): tests skipped\n", name,
		        strerror(rc));
		s->pid = 0;
		return 0;
	}
	for (int i = 0; i < 500 && !connectable(s->socket); i++) {
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;
			return -1;
		}
		usleep(10000);
	}
	if (connectable(s->socket))
		return 0;
	redis_server_kill(s);
	return -1;
}

void redis_server_stop(struct redis_server *s)
{
	redis_server_kill(s);
	if (s->dir[0])
		tmpdir_remove(s->dir);
	s->dir[0] = '\0';
}

struct redis_link *redis_server_link(struct redis_server *s, int db)
{
	if (!s->pid)
		skip();
	assert_true(db >= 0 && db < (int)(sizeof s->urls / sizeof s->urls[0]));
	struct redis_url *u = &s->urls[db];
	*u = (struct redis_url){ .unix_socket = true, .db = db };
	snprintf(u->path, sizeof u->path, "%s", s->socket);
	char err[512];
	struct redis_link *l = redis_link_open(u, 2000, err, sizeof err);
	if (!l)
		fail_msg("redis_link_open: %s", err);
	return l;
}

int redis_server_setup(void **state, const char *name)
{
	struct redis_server *s = calloc(1, sizeof *s);
	*state = s;
	return s && redis_server_start(s, name) == 0 ? 0 : -1;
}

int redis_server_teardown(void **state)
{
	struct redis_server *s = *state;
	if (s) {
		redis_server_stop(s);
		free(s);
	}
	return 0;
}

struct redisReply *redis_server_command(struct redis_link *link, int argc,
                                        ...)
{
	const char *argv[8];
	size_t lens[8];
	va_list ap;
	va_start(ap, argc);
	for (int i = 0; i < argc && i < 8; i++) {
		argv[i] = va_arg(ap, const char *);
		lens[i] = strlen(argv[i]);
	}
	va_end(ap);
	char err[256];
	redisReply *rep = redis_link_command(link, argc < 8 ? argc : 8, argv,
	                                     lens, err, sizeof err);
	if (!rep)
		fail_msg("%s: %s", argv[0], err);
	return rep;
}
