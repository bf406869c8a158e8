#include "signalling.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static bool is_description(json_t *obj)
{
	const char *type = json_string_value(json_object_get(obj, "type"));
	return type && (strcmp(type, "offer") == 0 || strcmp(type, "answer") == 0) &&
	       json_is_string(json_object_get(obj, "sdp"));
}

static bool is_candidate(json_t *obj)
{
	return json_is_string(json_object_get(obj, "candidate"));
}

/* A copy of obj with "type" and "sdp" first, then the other keys in their
 * order (jansson keeps insertion order). */
static json_t *type_first(json_t *obj)
{
	json_t *out = json_object();
	if (!out || json_object_set(out, "type", json_object_get(obj, "type")) ||
	    json_object_set(out, "sdp", json_object_get(obj, "sdp"))) {
		json_decref(out);
		return NULL;
	}
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value) {
		if (strcmp(key, "type") && strcmp(key, "sdp") &&
		    json_object_set(out, key, value)) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

static enum signalling_kind relay_description(json_t *obj, struct buf *out)
{
	json_t *ordered = type_first(obj);
	char *text = ordered ? json_dumps(ordered, JSON_COMPACT) : NULL;
	json_decref(ordered);
	if (!text)
		return SIGNALLING_MALFORMED;
	int rc = buf_append_str(out, text);
	free(text);
	return rc < 0 ? SIGNALLING_TOO_LARGE : SIGNALLING_DESCRIPTION;
}

bool signalling_is_attempt(const char *text, size_t len)
{
	return len > 0 && text[0] == '{';
}

enum signalling_kind signalling_check(const char *text, size_t len,
                                      struct buf *out)
{
	buf_clear(out);
	if (!signalling_is_attempt(text, len))
		return SIGNALLING_NONE;
	if (len > SIGNALLING_MAX_BYTES)
		return SIGNALLING_TOO_LARGE;
	json_error_t error;
	json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	enum signalling_kind kind = SIGNALLING_MALFORMED;
	if (json_is_object(obj) && is_description(obj))
		kind = relay_description(obj, out);
	else if (json_is_object(obj) && is_candidate(obj))
		kind = buf_append(out, text, len) < 0 ? SIGNALLING_TOO_LARGE
		                                      : SIGNALLING_CANDIDATE;
	json_decref(obj);
	return kind;
}

const char *signalling_error_text(enum signalling_kind kind)
{
	switch (kind) {
	case SIGNALLING_TOO_LARGE:
		return "signalling not sent: it is larger than 64 KiB";
	case SIGNALLING_MALFORMED:
		return "signalling not sent: expected a JSON object with type "
		       "offer or answer and an sdp string, or with a candidate "
		       "string";
	default:
		return "signalling not sent";
	}
}
