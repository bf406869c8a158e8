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

/* Acts on one client line (without its newline); line is cleaned in place. */
void dispatch_line(struct chat *c, char *line, size_t len);

#endif
