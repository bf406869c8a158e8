/* route: where a chat message goes.
 *
 * A message whose first word is "<target>:" (then a space or the end),
 * where target is a live member of the room, is private: a whisper, or WebRTC
 * signalling when its text is a JSON object.  Anything else, including a
 * "<target>:" that names nobody present, goes to the room log as before. */
#ifndef CHAT_ROUTE_H
#define CHAT_ROUTE_H

#include <stddef.h>

#include "presence.h"

enum route_kind {
	ROUTE_ROOM,    /* an ordinary message for the room log */
	ROUTE_PRIVATE, /* for the live member r->target alone */
	ROUTE_GONE,    /* r->target died without leaving: his file is there */
};

struct route {
	int member_fd;  /* the target's presence file, pinned (see presence.h);
	                   open only for ROUTE_PRIVATE: close it when sent */
	char target[PRESENCE_NAME_MAX + 1]; /* "" when the first word is not
	                                       "<name>:" */
	const char *text;   /* what follows "<target>: " */
	size_t text_len;
};

enum route_kind route_message(const char *msg, size_t len, int users_fd,
                              const char *room, struct route *r);

#endif
