/* dispatch: what a client line asks for, and where it goes.
 *
 *   stdin line -> parse -> command (/dice, /color)     -> room log
 *                       -> route: private (whisper)    -> inbox of one member
 *                                 private (signalling) -> inbox of one member
 *                       -> message                     -> room log
 */
#ifndef CHAT_DISPATCH_H
#define CHAT_DISPATCH_H

#include <stddef.h>

#include "connection.h"

/* Acts on one client line (text, without its newline), cleaned in place.
 * Every line is charged to the connection and its address (flood.h)
 * first; a connection far over its limit is marked c->ending.  Nothing
 * waits while holding the room lock: a private line waits for a member
 * that is not reading (at most a second) with the lock let go. */
void dispatch_line(struct chat *c, char *text, size_t len);

/* A line too long to read was dropped: tell the client, charge for it. */
void dispatch_too_long(struct chat *c);

#endif
