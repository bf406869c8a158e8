/* request: what a client asks for, whatever protocol it speaks.
 *
 * The decoders (decode.h) turn a wire line into a request; dispatch.c acts
 * on requests and knows no protocol.  A private request is given as the
 * legacy line "<to>: <payload>", the form routing, delivery and the room
 * log already speak, with how it may be routed said by the kind. */
#ifndef CHAT_REQUEST_H
#define CHAT_REQUEST_H

#include <stddef.h>

#include "refusal.h"

enum request_kind {
	REQUEST_EMPTY,    /* nothing to do */
	REQUEST_TEXT,     /* legacy chat line: private when its first word is
	                     "<name>:" of a member present, else for the room */
	REQUEST_MESSAGE,  /* for the room, whatever it looks like */
	REQUEST_PRIVATE,  /* "<to>: <text>": a whisper to that member only,
	                     whatever its text; refused when it is absent */
	REQUEST_SIGNAL,   /* "<to>: <JSON object>": WebRTC signalling to that
	                     member only; refused when it is absent */
	REQUEST_COMMAND,  /* "/..." */
	REQUEST_REFUSED,  /* refused by the decoder: see refusal */
};

struct request {
	enum request_kind kind;
	char *text;           /* the line to act on (NUL-terminated, UTF-8,
	                         control characters removed) */
	size_t len;
	enum refusal refusal; /* REQUEST_REFUSED */
};

#endif
