/* A redis-server of a test group's own: on a Unix socket in a temporary
 * directory (no TCP port, nothing saved), killed at the group's end.
 * Without redis-server installed, start says so and leaves pid 0: the
 * group's tests then skip (.ci/install-deps test installs it). */
#ifndef TEST_SUPPORT_REDIS_SERVER_H
#define TEST_SUPPORT_REDIS_SERVER_H

#include <sys/types.h>

#include "redis_link.h"
#include "redis_url.h"

struct redis_server {
	char dir[64];
	char socket[REDIS_URL_PATH_MAX];
	pid_t pid; /* 0: no redis-server */
	/* The URL of each database, for its links (which keep it). */
	struct redis_url urls[16];
};

/* Starts one for the group named name.  0, or -1 when it would not run. */
int redis_server_start(struct redis_server *s, const char *name);
/* Kills it (SIGKILL), keeping its directory. */
void redis_server_kill(struct redis_server *s);
/* Kills it and removes its directory. */
void redis_server_stop(struct redis_server *s);
/* A cmocka group's setup and teardown around one server in *state:
 * setup wraps redis_server_start (a group's own start passes its name),
 * teardown stops it and frees it. */
int redis_server_setup(void **state, const char *name);
int redis_server_teardown(void **state);

/* A link to database db, or a failed test (skipped without a server). */
struct redis_link *redis_server_link(struct redis_server *s, int db);

/* A command of argc C strings (8 at most) on link, whose reply the caller
 * frees; a failed test when no reply came. */
struct redisReply *redis_server_command(struct redis_link *link, int argc,
                                        ...);

#endif
