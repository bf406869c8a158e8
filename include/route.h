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

struct route {
	int member_fd;  /* the target's presence file, pinned (see presence.h) */
	char target[PRESENCE_NAME_MAX + 1];
	const char *text;   /* what follows "<target>: " */
	size_t text_len;
};

/* Returns 1 for a private message (r->member_fd is open: close it when
 * sent), 0 for the room (r->member_fd is -1). */
int route_message(const char *msg, size_t len, int users_fd, const char *room,
                  struct route *r);

#endif
