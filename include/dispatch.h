/* dispatch: what a client line asks for, and where it goes.
 *
 *   request (decode.h) -> command (/dice, /color)     -> room log
 *                      -> route: private (whisper)    -> inbox of one member
 *                                private (signalling) -> inbox of one member
 *                      -> message                     -> room log
 *
 * A legacy line is private when its first word names a member present; a
 * JSON message never is, a JSON whisper or signal always (or refused). */
#ifndef CHAT_DISPATCH_H
#define CHAT_DISPATCH_H

#include <stddef.h>

#include "connection.h"

/* Acts on one client line (text, without its newline), decoded in the
 * connection's protocol and cleaned in place.
 * Every line is charged to the connection and its address (flood.h)
 * first; a connection far over its limit is marked c->ending.  Nothing
 * waits while holding the room lock: a private line waits for a member
 * that is not reading (at most a second) with the lock let go. */
void dispatch_line(struct chat *c, char *text, size_t len);

/* A line too long to read was dropped: tell the client, charge for it. */
void dispatch_too_long(struct chat *c);

#endif
