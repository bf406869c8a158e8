/* command: the in-process chat commands, /dice and /color.  (The
 * moderators' commands, /kick and the rest, run before these: moderate.h.)
 *
 * Results keep the old program's sentences byte for byte (they start with a
 * space and go to the room log as "T <name>>  <result>").  Input that the
 * old program would have accepted but that is unsafe (a colour that is not
 * a CSS colour) is refused to the sender alone and changes nothing. */
#ifndef CHAT_COMMAND_H
#define CHAT_COMMAND_H

#include <stddef.h>

#include "buf.h"
#include "rng.h"

enum command_outcome {
	COMMAND_RESULT,          /* log the result */
	COMMAND_RESULT_USERLIST, /* log a fresh user list, then the result */
	COMMAND_REFUSED,         /* tell the sender result; log nothing */
	COMMAND_FAILED,          /* internal failure (errno set) */
};

/* Sets our colour in the room (transport.h's recolor).  0 or -1. */
typedef int (*command_recolor_fn)(void *ctx, const char *color);

struct command_env {
	command_recolor_fn recolor; /* for /color */
	void *recolor_ctx;
	rng_uniform_fn rng;         /* for /dice */
	void *rng_ctx;
};

/* Runs line[0..len) (it starts with '/', and line[len] is '\0', as
 * parse_request leaves it) and puts the result text in result (emptied
 * first). */
enum command_outcome command_run(const char *line, size_t len,
                                 const struct command_env *env,
                                 struct buf *result);

#endif
