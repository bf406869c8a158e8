/* signalling: WebRTC offers, answers and ICE candidates sent as whispers.
 *
 * The browser sends "Bob: {json}" with every "\r\n" inside the JSON written
 * as the word "zalomeni".  Whisper text that starts with '{' is signalling:
 * it must be an object with a "type" of "offer" or "answer" and a string
 * "sdp" (a session description), or one with a string "candidate".  It is
 * never logged and reaches the addressee alone.
 *
 * The old browser client recognises a description only by the text
 * "type":"offer","sdp" (or answer), but today's browsers serialise "sdp"
 * first, so descriptions are relayed re-serialised with type first and sdp
 * second (other keys after them, compact, values unchanged).  Candidates
 * are relayed exactly as sent. */
#ifndef CHAT_SIGNALLING_H
#define CHAT_SIGNALLING_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define SIGNALLING_MAX_BYTES (64 * 1024)

enum signalling_kind {
	SIGNALLING_NONE,        /* not signalling: an ordinary whisper */
	SIGNALLING_DESCRIPTION, /* offer or answer; out holds the relay form */
	SIGNALLING_CANDIDATE,   /* ICE candidate; out holds the text as sent */
	SIGNALLING_MALFORMED,   /* starts with '{' but is not one of these */
	SIGNALLING_TOO_LARGE,   /* over SIGNALLING_MAX_BYTES */
};

/* True when whisper text[0..len) is meant as signalling (a JSON object),
 * well formed or not: what signalling_check would not call NONE. */
bool signalling_is_attempt(const char *text, size_t len);

/* Classifies whisper text[0..len) and, for signalling, writes the text to
 * relay into out (emptied first).  SIGNALLING_NONE leaves out empty. */
enum signalling_kind signalling_check(const char *text, size_t len,
                                      struct buf *out);

/* A sentence for the sender when the payload is refused. */
const char *signalling_error_text(enum signalling_kind kind);

#endif
