#include "decode.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "presence.h"
#include "text.h"

#define JSON_PARAM "proto=json"

enum wire_proto decode_protocol(const char *query_string)
{
	const char *p = query_string;
	if (!p)
		return WIRE_LEGACY;
	/* Whole parameters only: "xproto=json" or "proto=jsonx" ask for
	 * nothing we know. */
	for (;;) {
		size_t n = strcspn(p, "&");
		if (n == strlen(JSON_PARAM) && memcmp(p, JSON_PARAM, n) == 0)
			return WIRE_JSON;
		if (p[n] == '\0')
			return WIRE_LEGACY;
		p += n + 1;
	}
}

/* A refused request keeps whatever text it has: the whole line, or what
 * was built of it, NUL-terminated either way. */
static void refuse(struct request *rq, enum refusal why)
{
	rq->kind = REQUEST_REFUSED;
	rq->refusal = why;
}

/* Legacy: the line itself, cleaned in place, as the original program's
 * readers expect it. */
static void decode_legacy(char *line, size_t len, struct request *rq)
{
	if (!text_is_utf8(line, len)) {
		refuse(rq, REFUSAL_BAD_UTF8);
		return;
	}
	len = text_strip_controls(line, len);
	line[len] = '\0';
	rq->text = line;
	rq->len = len;
	if (len == 0)
		rq->kind = REQUEST_EMPTY;
	else
		rq->kind = line[0] == '/' ? REQUEST_COMMAND : REQUEST_TEXT;
}

/* What building a request's text can run into: the scratch buffer's cap
 * means the request is too long, anything else is the server's fault. */
static enum refusal build_failure(void)
{
	return errno == EMSGSIZE ? REFUSAL_TOO_LONG : REFUSAL_SERVER;
}

/* The built text in scratch, with control characters removed exactly as
 * from a legacy line (JSON escapes such as \n or \u001b can carry them),
 * becomes the request.  Returns the length left. */
static size_t settle(struct request *rq, enum request_kind kind,
                     struct buf *scratch)
{
	size_t len = text_strip_controls(scratch->data, scratch->len);
	scratch->len = len;
	scratch->data[len] = '\0';
	rq->kind = kind;
	rq->text = scratch->data;
	rq->len = len;
	return len;
}

/* The string member key of obj, or NULL when missing or not a string.
 * jansson has checked it is UTF-8 and, without JSON_ALLOW_NUL, that it
 * holds no NUL, so its C string is all of it. */
static const char *string_field(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Puts s in the emptied scratch.  Returns 0 or -1. */
static int start_text(struct buf *scratch, const char *s)
{
	buf_clear(scratch);
	return buf_append_str(scratch, s);
}

/* A message's text, however it was read, as the request. */
static void message_text(const char *text, size_t len, struct request *rq,
                         struct buf *scratch)
{
	buf_clear(scratch);
	if (buf_append(scratch, text, len) < 0) {
		refuse(rq, build_failure());
		return;
	}
	/* Nothing left to say is not an error, as for a legacy line. */
	if (settle(rq, REQUEST_MESSAGE, scratch) == 0)
		rq->kind = REQUEST_EMPTY;
}

/* "<to>: " in the emptied scratch, when to is a name a member can have.
 * Returns why not, or REFUSAL_COUNT (no refusal) when it is there. */
static enum refusal start_private(json_t *obj, struct buf *scratch)
{
	const char *to = string_field(obj, "to");
	if (!to)
		return REFUSAL_MALFORMED;
	/* A name nobody can have cannot be present; this also keeps spaces
	 * and colons out of the address routing will split again. */
	if (!presence_name_is_valid(to))
		return REFUSAL_NOT_PRESENT;
	if (start_text(scratch, to) < 0 || buf_append(scratch, ": ", 2) < 0)
		return build_failure();
	return REFUSAL_COUNT;
}

/* Puts the string "text" of obj into scratch; false (rq refused) when it
 * is missing or does not fit. */
static bool take_text(json_t *obj, struct request *rq, struct buf *scratch)
{
	const char *text = string_field(obj, "text");
	if (!text) {
		refuse(rq, REFUSAL_MALFORMED);
		return false;
	}
	if (start_text(scratch, text) < 0) {
		refuse(rq, build_failure());
		return false;
	}
	return true;
}

static void decode_message(json_t *obj, struct request *rq,
                           struct buf *scratch)
{
	const char *text = string_field(obj, "text");
	if (!text)
		refuse(rq, REFUSAL_MALFORMED);
	else
		message_text(text, strlen(text), rq, scratch);
}

static void decode_command(json_t *obj, struct request *rq,
                           struct buf *scratch)
{
	if (!take_text(obj, rq, scratch))
		return;
	/* Checked after cleaning, as a legacy line is: "\u0001/dice" is a
	 * command, and a command with nothing in it is no request. */
	if (settle(rq, REQUEST_COMMAND, scratch) == 0 || rq->text[0] != '/')
		refuse(rq, REFUSAL_MALFORMED);
}

/* True when p[0..n) is one whole JSON object. */
static bool is_json_object(const char *p, size_t n)
{
	if (n < 2 || p[0] != '{')
		return false;
	json_t *v = json_loadb(p, n, 0, NULL);
	bool object = json_is_object(v);
	json_decref(v);
	return object;
}

static void decode_whisper(json_t *obj, struct request *rq,
                           struct buf *scratch)
{
	const char *text = string_field(obj, "text");
	if (!text) {
		refuse(rq, REFUSAL_MALFORMED);
		return;
	}
	enum refusal why = start_private(obj, scratch);
	if (why != REFUSAL_COUNT) {
		refuse(rq, why);
		return;
	}
	size_t head = scratch->len;
	if (buf_append_str(scratch, text) < 0) {
		refuse(rq, build_failure());
		return;
	}
	/* Cleaning cannot touch "<to>: " (names hold no controls), so the
	 * text is empty exactly when only the address is left: nothing to
	 * say, as for an empty message. */
	if (settle(rq, REQUEST_PRIVATE, scratch) == head) {
		rq->kind = REQUEST_EMPTY;
		rq->len = 0;
		rq->text[0] = '\0';
	} else if (is_json_object(rq->text + head, rq->len - head)) {
		/* On the way "<to>: {...}" is WebRTC signalling: a whisper
		 * that is a JSON object would reach its addressee as one. */
		refuse(rq, REFUSAL_MALFORMED);
	}
}

static void decode_signal(json_t *obj, struct request *rq,
                          struct buf *scratch)
{
	json_t *data = json_object_get(obj, "data");
	if (!json_is_object(data)) {
		refuse(rq, REFUSAL_MALFORMED);
		return;
	}
	enum refusal why = start_private(obj, scratch);
	if (why != REFUSAL_COUNT) {
		refuse(rq, why);
		return;
	}
	/* Compact and in the client's key order: the form signalling.c
	 * checks and relays, as if a legacy client had typed it. */
	char *json = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc = json ? buf_append_str(scratch, json) : -1;
	free(json);
	if (rc < 0) {
		refuse(rq, json ? build_failure() : REFUSAL_SERVER);
		return;
	}
	settle(rq, REQUEST_SIGNAL, scratch);
}

typedef void decode_fn(json_t *obj, struct request *rq,
                       struct buf *scratch);

static const struct {
	const char *type;
	decode_fn *fn;
} json_types[] = {
	{ "message", decode_message },
	{ "whisper", decode_whisper },
	{ "signal", decode_signal },
	{ "command", decode_command },
};

static void decode_object(json_t *obj, struct request *rq,
                          struct buf *scratch)
{
	const char *type = string_field(obj, "type");
	if (!type) {
		refuse(rq, REFUSAL_MALFORMED);
		return;
	}
	for (size_t i = 0; i < sizeof json_types / sizeof *json_types; i++)
		if (strcmp(type, json_types[i].type) == 0) {
			json_types[i].fn(obj, rq, scratch);
			return;
		}
	refuse(rq, REFUSAL_UNKNOWN_TYPE);
}

/* What every client sends for a chat line, {"type":"message","text":T}
 * written compact in that order, with nothing in T to unescape: *text
 * and *n are then T.  jansson takes 15 000 instructions for it (a lexer
 * byte by byte, a hash table), as much as all else the sender does, in
 * user space, for the line.  Anything else, the same request written
 * another way too, is left to jansson: what is read here is only what
 * jansson reads the same (the line is UTF-8 already; a raw control byte,
 * a quote or a backslash in T ends this path). */
static bool plain_message(const char *line, size_t len, const char **text,
                          size_t *n)
{
	static const char head[] = "{\"type\":\"message\",\"text\":\"";
	static const char tail[] = "\"}";
	const size_t h = sizeof head - 1, t = sizeof tail - 1;
	if (len < h + t || memcmp(line, head, h) != 0 ||
	    memcmp(line + len - t, tail, t) != 0)
		return false;
	for (size_t i = h; i < len - t; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == '"' || c == '\\')
			return false;
	}
	*text = line + h;
	*n = len - h - t;
	return true;
}

/* JSON: one object; members other than those of its type are ignored, so
 * a client may add its own (a request id) without being refused. */
static void decode_json(char *line, size_t len, struct request *rq,
                        struct buf *scratch)
{
	if (len == 0) {
		/* An empty WebSocket message: nothing asked, as in legacy. */
		rq->kind = REQUEST_EMPTY;
		return;
	}
	/* Checked on the raw bytes first, so the code is the legacy one for
	 * the same fault; jansson would only call it a syntax error. */
	if (!text_is_utf8(line, len)) {
		refuse(rq, REFUSAL_BAD_UTF8);
		return;
	}
	const char *text;
	size_t n;
	if (plain_message(line, len, &text, &n)) {
		message_text(text, n, rq, scratch);
		return;
	}
	json_error_t error;
	json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &error);
	if (json_is_object(obj))
		decode_object(obj, rq, scratch);
	else
		refuse(rq, REFUSAL_MALFORMED);
	json_decref(obj);
}

void decode_request(enum wire_proto p, char *line, size_t len,
                    struct request *rq, struct buf *scratch)
{
	rq->kind = REQUEST_REFUSED;
	rq->refusal = REFUSAL_MALFORMED;
	rq->text = line;
	rq->len = len;
	if (p == WIRE_JSON)
		decode_json(line, len, rq, scratch);
	else
		decode_legacy(line, len, rq);
}
