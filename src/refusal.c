#include "refusal.h"

/* Indexed by the enum: a code's place is its value, so a new code at the
 * end of the enum gets its name here at the end too. */
static const char *const codes[REFUSAL_COUNT] = {
	[REFUSAL_SERVER] = "server",
	[REFUSAL_TOO_LONG] = "too_long",
	[REFUSAL_BAD_UTF8] = "bad_utf8",
	[REFUSAL_MALFORMED] = "malformed",
	[REFUSAL_UNKNOWN_TYPE] = "unknown_type",
	[REFUSAL_FLOOD] = "flood",
	[REFUSAL_KICKED] = "flood_disconnect",
	[REFUSAL_NOT_PRESENT] = "unknown_target",
	[REFUSAL_LEFT] = "target_left",
	[REFUSAL_SLOW_TARGET] = "target_slow",
	[REFUSAL_MISLEADING] = "misleading",
	[REFUSAL_BAD_SIGNAL] = "bad_signal",
	[REFUSAL_SIGNAL_TOO_LARGE] = "signal_too_large",
	[REFUSAL_NOT_STORED] = "not_stored",
	[REFUSAL_NOT_RECORDED] = "not_recorded",
	[REFUSAL_BUSY] = "busy",
	[REFUSAL_COMMAND] = "command",
	[REFUSAL_ROOM_FULL] = "room_full",
	[REFUSAL_ORIGIN] = "origin",
	[REFUSAL_TOO_MANY] = "too_many_connections",
	[REFUSAL_BAD_ROOM] = "bad_room",
	[REFUSAL_CONFIG] = "config",
	[REFUSAL_NOT_MODERATOR] = "not_moderator",
	[REFUSAL_MUTED] = "muted",
	[REFUSAL_REMOVED] = "kicked",
	[REFUSAL_BANNED] = "banned",
	[REFUSAL_LOCKED] = "locked",
	[REFUSAL_UNAVAILABLE] = "unavailable",
	[REFUSAL_AVAILABLE] = "available",
};

const char *refusal_code(enum refusal r)
{
	/* An enum may hold any int: a stray value must not index past the
	 * table, nor may a code forgotten in it be NULL. */
	if ((unsigned)r >= REFUSAL_COUNT || !codes[r])
		return codes[REFUSAL_SERVER];
	return codes[r];
}
