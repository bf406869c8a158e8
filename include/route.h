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
#include "transport.h"

enum route_kind {
	ROUTE_ROOM,    /* an ordinary message for the room log */
	ROUTE_PRIVATE, /* for the live member r->target alone */
	ROUTE_GONE,    /* r->target died without leaving: his file is there */
	ROUTE_FAILED,  /* the room could not say who r->target is (r->error:
	                  ENOTCONN while it is unavailable): the line is
	                  refused, neither private nor the room's */
};

struct route {
	int member;     /* a handle on the target, pinning it (transport.h);
	                   only for ROUTE_PRIVATE (else -1): drop it when sent */
	char target[PRESENCE_NAME_MAX + 1]; /* "" when the first word is not
	                                       "<name>:" */
	const char *text;   /* what follows "<target>: " */
	size_t text_len;
	int error;          /* ROUTE_FAILED's errno */
};

/* Routes msg[0..len) in the room of t (which looks the target up). */
enum route_kind route_message(const char *msg, size_t len,
                              struct room_transport *t, struct route *r);

#endif
