/* chat: one connection from join to quit.
 *
 * Join: claim presence, append the join line, print the welcome, append the
 * user list, replay the last LAST_MESSAGES lines, then follow the room log.
 * One poll loop serves stdin, the log (inotify or, past the inotify limit, a
 * timer) and signals (signalfd).  On stdin EOF, a closed stdout, SIGINT,
 * SIGTERM or SIGHUP the quit sequence runs once: quit line, presence
 * removed, user list. */
#ifndef CHAT_CHAT_H
#define CHAT_CHAT_H

#include "config.h"

/* What websocketd tells us about the connection (CGI variables). */
struct chat_request {
	const char *path_info;     /* PATH_INFO */
	const char *cookie;        /* HTTP_COOKIE */
	const char *forwarded_for; /* HTTP_X_FORWARDED_FOR */
	const char *remote_addr;   /* REMOTE_ADDR */
	const char *origin;        /* HTTP_ORIGIN */
	const char *query_string;  /* QUERY_STRING: the protocol (decode.h) */
	const char *config_file;   /* the config's absolute path, for the
	                              warden a member may start */
};

/* Runs the connection on stdin/stdout.  Returns the exit status. */
int chat_run(const struct chat_config *cfg, const struct chat_request *req);

#endif
