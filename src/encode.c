#include "encode.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encode_json.h"
#include "format.h"

/* What the old browser client takes for lines of the server wherever
 * they occur in a line. */
static const char *const server_words[] = { "Userlist: ",
                                            "Welcome to the chat room" };

void encoder_init(struct encoder *e, enum wire_proto p, bool legacy_guard)
{
	e->proto = p;
	e->legacy_guard = legacy_guard;
	/* Bounded by the lines it is learnt from (FOLLOW_LINE_MAX). */
	buf_init(&e->colors, 0);
	memset(e->senders, 0, sizeof e->senders);
	e->next_sender = 0;
	e->misses = 0;
	e->color_slots = NULL;
	e->color_mask = 0;
	e->color_stale = true;
	e->time_clock = -2; /* no line's: nothing cached */
	e->time_now = 0;
	e->time_len = 0;
	e->verified = NULL;
	e->verified_ctx = NULL;
}

void encoder_free(struct encoder *e)
{
	buf_free(&e->colors);
	free(e->color_slots);
}

/* Whether word occurs in line: memchr for its first letter, then a
 * compare.  Every line passes here, and glibc's memmem sets up a shift
 * table at each call: for the two words it cost more than all the rest a
 * legacy member does for a line in user space (callgrind). */
static bool contains(const char *line, size_t len, const char *word)
{
	size_t n = strlen(word);
	const char *end = line + len;
	for (const char *p = line; (size_t)(end - p) >= n; p++) {
		p = memchr(p, word[0], (size_t)(end - p) - n + 1);
		if (!p)
			return false;
		if (memcmp(p, word, n) == 0)
			return true;
	}
	return false;
}

/* A line a legacy client would misread: it holds server words, and is
 * not itself the user list it would then look like. */
static bool misleading(const char *line, size_t len, bool private_line)
{
	bool words = false;
	for (size_t i = 0; i < sizeof server_words / sizeof *server_words; i++)
		words = words || contains(line, len, server_words[i]);
	if (!words)
		return false;
	struct event ev;
	event_parse(line, len, private_line, &ev);
	return ev.kind != EVENT_USERS;
}

int encode_line(struct encoder *e, const char *line, size_t len,
                const struct line_context *ctx, struct buf *out,
                const char **data, size_t *n)
{
	if (e->proto == WIRE_JSON)
		return json_encode_line(e, line, len, ctx, out, data, n);
	if (e->legacy_guard && misleading(line, len, ctx->private_line))
		return 0;
	*data = line;
	*n = len;
	return 1;
}

int encode_welcome(struct encoder *e, time_t now, const struct welcome *w,
                   struct buf *out)
{
	if (e->proto == WIRE_JSON)
		return json_encode_welcome(now, w, out);
	return format_welcome(out, now, w->room, w->name);
}

int encode_history_end(struct encoder *e, time_t now, struct buf *out)
{
	if (e->proto == WIRE_JSON)
		return json_encode_history_end(now, out);
	buf_clear(out);
	return 0;
}

int encode_error(struct encoder *e, time_t now, enum refusal r,
                 const char *message, struct buf *out)
{
	if (e->proto == WIRE_JSON)
		return json_encode_error(now, r, message, out);
	/* The one code that is good news reads as no error where there is
	 * no code to tell it by. */
	if (r == REFUSAL_AVAILABLE)
		return format_notice(out, now, message);
	return format_error(out, now, message);
}
