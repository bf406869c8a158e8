/* event: a legacy line read back as what happened.
 *
 * The room log and the private inboxes hold the lines of format.h, and
 * only those lines: a JSON client is told what happened by reading them
 * back (encode.h).  Reading relies on what names can hold: a member's
 * name has no space, '>', ':' or ',' (identity.h), and a room name no
 * space (room.h); so the first word of a line tells its sender, and a '>'
 * before any space makes it a chat line.  A line of none of these shapes,
 * or without the clock "[HH:MM:SS] " every line starts with (from an
 * older program, or cut short), is EVENT_LINE, its text as it is.
 *
 * Nothing is copied: every span points into the line read, which must
 * outlive the event.  The line may hold any byte (a log is only a file);
 * lengths are used throughout, never terminators. */
#ifndef CHAT_EVENT_H
#define CHAT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum event_kind {
	EVENT_LINE,    /* none of these: text is the line after its clock, or
	                  all of it when it has none */
	EVENT_JOIN,    /* T <name> joined the <room> */
	EVENT_QUIT,    /* T <name> quit the <room> */
	EVENT_USERS,   /* T Userlist: a:#f00,b:Gray,   text: "a:#f00,b:Gray," */
	EVENT_MESSAGE, /* T <name>> <text> */
	EVENT_RESULT,  /* T <name>>  <text>: a command's result (two spaces) */
	EVENT_NOTICE,  /* T <name> whispers something to <to> */
	EVENT_WHISPER, /* private line: T <name>> <to>: <text> */
	EVENT_SIGNAL,  /* private line: the same, text starting with '{' (not
	                  checked to be JSON: the reader decides) */
};

/* Which sentence a command result is (command.c, dice.c). */
enum event_result {
	RESULT_OTHER,         /* a sentence we do not know */
	RESULT_DICE,          /* "Throws X Y-sided dice, throws again on Z: ..." */
	RESULT_DICE_REFUSED,  /* "Bad dice syntax, ..." */
	RESULT_COLOR,         /* "Changed color to C" */
	RESULT_COLOR_REFUSED, /* "Not changed color, missing color number" */
	RESULT_UNKNOWN,       /* "unknown command <the line>" */
	/* moderation.c's sentences: see struct event_moderation */
	RESULT_KICK,          /* "Kicked <target>[: <reason>]" */
	RESULT_MUTE,          /* "Muted <target> for <N> minutes" */
	RESULT_UNMUTE,        /* "Unmuted <target>" */
	RESULT_BAN,           /* "Banned <target> for <N> minutes[: <reason>]" */
	RESULT_UNBAN,         /* "Unbanned <target>" */
	RESULT_LOCK,          /* "Locked the room to verified members" */
	RESULT_UNLOCK,        /* "Unlocked the room" */
	RESULT_TOPIC,         /* "Set the topic: <text>", "Cleared the topic" */
};

struct event_span {
	const char *p;
	size_t len;
};

/* A moderator's result, as the sentence says. */
struct event_moderation {
	struct event_span target; /* a name, or an address (ban, unban) */
	struct event_span reason; /* kick, ban: "" without; topic: its text */
	uint64_t minutes;         /* mute, ban */
};

/* RESULT_DICE, as the sentence says. */
struct event_dice {
	uint64_t count, sides, again; /* saturated at UINT64_MAX */
	bool capped;  /* after "Max dice number is grater than ..." */
	bool stopped; /* "(stopped after N throws)" ended the list */
	struct event_span values; /* "4, 6, 2" or "": see event_next_value */
};

struct event {
	enum event_kind kind;
	int clock;              /* seconds after local midnight of the line's
	                           "[HH:MM:SS] ", or -1 when it has none */
	struct event_span name; /* the member who joined, quit, spoke or
	                           whispered */
	struct event_span room; /* join, quit */
	struct event_span to;   /* notice, whisper, signal */
	struct event_span text; /* message, whisper: the text; signal: the
	                           JSON; users: the list; result: the sentence
	                           without its leading space; line: all after
	                           the clock */
	enum event_result result;     /* EVENT_RESULT */
	struct event_span color;      /* RESULT_COLOR */
	struct event_dice dice;       /* RESULT_DICE */
	struct event_moderation mod;  /* RESULT_KICK .. RESULT_TOPIC */
};

/* Reads line[0..len) (a trailing '\n' is not part of it).  A private line
 * (from our inbox) of the shape "<name>> <to>: <text>" is a whisper or a
 * signal; the same line from the log is a message, as it is to legacy
 * clients. */
void event_parse(const char *line, size_t len, bool private_line,
                 struct event *ev);

/* The next "<name>:<colour>" entry of a user list, taken off the front of
 * *list.  Entries without ':' or without a name are skipped; the colour
 * may be empty.  False when there is none left. */
bool event_next_user(struct event_span *list, struct event_span *name,
                     struct event_span *color);

/* The next value of a dice list, taken off the front of *values (checked
 * by event_parse: decimal numbers joined by ", ").  False at the end. */
bool event_next_value(struct event_span *values, uint64_t *v);

/* The latest moment at or before now whose local time of day is clock
 * (seconds after midnight, as in struct event), across changes of the
 * UTC offset; now itself when clock is -1 or no such moment is found
 * within three days. */
time_t event_when(int clock, time_t now);

#endif
