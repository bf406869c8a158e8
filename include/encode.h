/* encode: what the room says, for one connection's protocol.
 *
 * The room log and the private inboxes hold legacy lines ("[12:00:00]
 * Alice> hi"), and the log's format never changes: history pages,
 * logrotate and legacy clients depend on it.  So a line is the event, and
 * each connection's encoder turns it into what its client reads:
 *
 * Legacy: the line itself.  With LEGACY_CLIENT on, a chat line that the
 * old browser client would take for a server line (it contains
 * "Userlist: " or "Welcome to the chat room": a JSON client may send such
 * text) is not sent at all; that is how legacy clients were protected
 * before JSON clients could write such lines.
 * JSON: the line is read back as an event and written as one object with
 * "type" and "time" (ISO 8601 with the server's UTC offset; the log keeps
 * only the time of day, so the date is the latest at or before now that
 * has that time), and "history":true for replayed lines.  A chat line
 * carries the sender's colour from the last user list the encoder saw.
 * docs/protocol.md specifies every event. */
#ifndef CHAT_ENCODE_H
#define CHAT_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "decode.h"
#include "event.h"
#include "presence.h"
#include "refusal.h"

/* JSON: a sender whose colour was looked up in the last user list. */
#define ENCODER_SENDERS 4
struct encoder_sender {
	char name[PRESENCE_NAME_MAX];
	size_t len;              /* 0: an empty place */
	struct event_span color; /* in colors, or COLOR_DEFAULT */
};

struct encoder {
	enum wire_proto proto;
	bool legacy_guard; /* LEGACY_CLIENT */
	struct buf colors; /* JSON: ",<name>:<colour>" of the last user list */
	/* JSON: the last senders' colours, until the next list */
	struct encoder_sender senders[ENCODER_SENDERS];
	unsigned next_sender; /* the place the next one takes */
	unsigned misses;      /* senders looked up in the list since it came */
	/* JSON: colors indexed by name, an open-addressing table of where each
	 * entry starts in colors, plus 1 (0: an empty slot); built once many
	 * senders were looked up in the same list (color_stale until then) */
	uint32_t *color_slots;
	size_t color_mask; /* slots - 1 */
	bool color_stale;
	/* JSON: the last line time written, for the lines of the same second */
	int time_clock;
	time_t time_now;
	char time_text[32];
	size_t time_len;
	/* JSON: 1 when the member name[0..len) of a user list has a verified
	 * name (presence_member_verified), asked once per member of each
	 * list; NULL (encoder_init): none is marked "verified". */
	int (*verified)(void *ctx, const char *name, size_t len);
	void *verified_ctx;
};

/* What a line is, besides its text. */
struct line_context {
	time_t now;        /* for the date of the line's time of day */
	bool history;      /* replayed at join */
	bool private_line; /* from our inbox: a whisper or signalling */
};

struct ice_turn;

/* What the welcome tells. */
struct welcome {
	const char *room;
	const char *name;
	const char *color;
	int max_message_bytes;
	const char *ice_server_dns; /* ICE_SERVER_DNS from the config, "" */
	const struct ice_turn *turn; /* the TURN keys (ice.h), NULL: none */
	const char *topic; /* the room's topic (moderation.h): NULL or "" for
	                      none */
};

void encoder_init(struct encoder *e, enum wire_proto p, bool legacy_guard);
void encoder_free(struct encoder *e);

/* One line of the log or of our inbox (len bytes, ending in '\n').  On 1,
 * *data and *n are what to send: the line itself, or what was built in
 * out.  Returns 0 when nothing is to be sent for it, -1 when out cannot
 * grow (errno ENOMEM). */
int encode_line(struct encoder *e, const char *line, size_t len,
                const struct line_context *ctx, struct buf *out,
                const char **data, size_t *n);

/* The first thing a connection is sent.  Each of these empties out and
 * writes one whole line into it; 0, or -1 when it does not fit. */
int encode_welcome(struct encoder *e, time_t now, const struct welcome *w,
                   struct buf *out);

/* The end of the replayed history: JSON {"type":"history_end"}; legacy has
 * none (returns 0 with out empty). */
int encode_history_end(struct encoder *e, time_t now, struct buf *out);

/* A refusal, to the sender only: legacy "T Error: <message>". */
int encode_error(struct encoder *e, time_t now, enum refusal r,
                 const char *message, struct buf *out);

#endif
