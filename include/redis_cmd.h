/* redis_cmd: one Redis command built argument by argument, and run on a
 * room's link (redis_room.h) with its failure told in the room's err: the
 * common ground of the modules that speak to Redis for a room. */
#ifndef CHAT_REDIS_CMD_H
#define CHAT_REDIS_CMD_H

#include <stddef.h>

#include "redis_room.h"

#define REDIS_CMD_ARGS 20

/* Zeroed, then filled; the arguments are the caller's, not copied. */
struct redis_cmd {
	int argc;
	const char *argv[REDIS_CMD_ARGS];
	size_t lens[REDIS_CMD_ARGS];
};

/* Adds s[0..len) (any bytes); past REDIS_CMD_ARGS, nothing. */
void redis_cmd_arg(struct redis_cmd *c, const char *s, size_t len);
/* Adds the C string s. */
void redis_cmd_str(struct redis_cmd *c, const char *s);
/* Adds the n C strings of v, in order. */
void redis_cmd_strs(struct redis_cmd *c, const char *const v[], size_t n);
/* Adds them as a C array written in place: REDIS_CMD_STRS(&c, "EVAL", s). */
#define REDIS_CMD_STRS(c, ...) \
	redis_cmd_strs((c), (const char *const[]){ __VA_ARGS__ }, \
	               sizeof (const char *const[]){ __VA_ARGS__ } / \
	               sizeof (const char *))

/* Sends c on r's link and returns its reply, or NULL with r->err (an
 * error reply of the server is one too). */
struct redisReply *redis_cmd_run(struct redis_room *r,
                                 const struct redis_cmd *c);
/* Runs cmds[0..n) in one round trip: replies[i] gets the reply to cmds[i].
 * 0, or -1 with r->err (an error reply of the server is one too) and every
 * reply freed and NULL; either way each command's reply has been read, so
 * the link stays in step. */
int redis_cmd_run_all(struct redis_room *r, const struct redis_cmd cmds[],
                      size_t n, struct redisReply *replies[]);
/* The reply's integer, or -1 (an error, or another reply: r->err). */
long long redis_cmd_integer(struct redis_room *r, const struct redis_cmd *c);

#endif
