/* refusal: why the server says no, as a stable code.
 *
 * Every error line the server sends carries one of these.  The legacy
 * protocol shows only the sentence ("T Error: <sentence>"); the JSON
 * protocol sends {"type":"error","code":<code>,"message":<sentence>}, and
 * clients act on the code, never on the sentence, which may be reworded.
 * A code is never renamed or reused: add new ones at the end. */
#ifndef CHAT_REFUSAL_H
#define CHAT_REFUSAL_H

enum refusal {
	REFUSAL_SERVER,           /* "server": the server could not do it */
	REFUSAL_TOO_LONG,         /* "too_long": over MAX_MESSAGE_BYTES */
	REFUSAL_BAD_UTF8,         /* "bad_utf8": not valid UTF-8 */
	REFUSAL_MALFORMED,        /* "malformed": not a request of the protocol */
	REFUSAL_UNKNOWN_TYPE,     /* "unknown_type": a JSON type we do not know */
	REFUSAL_FLOOD,            /* "flood": too many messages; slow down */
	REFUSAL_KICKED,           /* "flood_disconnect": closed for flooding */
	REFUSAL_NOT_PRESENT,      /* "unknown_target": nobody of that name here */
	REFUSAL_LEFT,             /* "target_left": it left before delivery */
	REFUSAL_SLOW_TARGET,      /* "target_slow": its browser is not reading */
	REFUSAL_MISLEADING,       /* "misleading": old clients would misread it */
	REFUSAL_BAD_SIGNAL,       /* "bad_signal": malformed WebRTC signalling */
	REFUSAL_SIGNAL_TOO_LARGE, /* "signal_too_large": over 64 KiB */
	REFUSAL_NOT_STORED,       /* "not_stored": the log could not take it */
	REFUSAL_NOT_RECORDED,     /* "not_recorded": delivered, not archived */
	REFUSAL_BUSY,             /* "busy": the room lock was not to be had */
	REFUSAL_COMMAND,          /* "command": a command's arguments refused */
	REFUSAL_ROOM_FULL,        /* "room_full": MAX_ROOM_USERS reached */
	REFUSAL_ORIGIN,           /* "origin": the page's origin is not allowed */
	REFUSAL_TOO_MANY,         /* "too_many_connections": per address */
	REFUSAL_BAD_ROOM,         /* "bad_room": the room name is refused */
	REFUSAL_CONFIG,           /* "config": the server is misconfigured */
	REFUSAL_NOT_MODERATOR,    /* "not_moderator": a moderator's command */
	REFUSAL_MUTED,            /* "muted": a moderator muted the sender */
	REFUSAL_REMOVED,          /* "kicked": a moderator kicked the member */
	REFUSAL_BANNED,           /* "banned": the name or address is banned */
	REFUSAL_LOCKED,           /* "locked": the room admits only verified
	                             identities */
	REFUSAL_UNAVAILABLE,      /* "unavailable": the room's server (Redis)
	                             cannot be reached; nothing is delivered */
	REFUSAL_AVAILABLE,        /* "available": it is back (not an error:
	                             what was refused may be sent again) */
	REFUSAL_COUNT
};

/* The code's stable name ("too_long"); "server" for a value out of range. */
const char *refusal_code(enum refusal r);

#endif
