#include "encode_json.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "color.h"
#include "presence.h"
#include "text.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
/* Every object is written compact; jansson keeps insertion order, so
 * "type" and "time", set first, come first. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

/* An object being built.  Building goes on past a failed allocation and
 * fails once at the end, so the builders below need no error paths. */
struct obj {
	json_t *json;
	bool failed;
};

/* Sets key (a literal of ours) in o to value, which it takes. */
static void put(struct obj *o, const char *key, json_t *value)
{
	if (!value || !o->json ||
	    json_object_set_new_nocheck(o->json, key, value) < 0)
		o->failed = true;
	if (!o->json)
		json_decref(value);
}

static void append(struct obj *o, json_t *array, json_t *value)
{
	if (!value || !array || json_array_append_new(array, value) < 0)
		o->failed = true;
	if (!array)
		json_decref(value);
}

/* The length of the UTF-8 character at s (n bytes left), or 0 when no
 * valid character starts there (NUL included). */
static size_t char_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t want = c < 0x80 ? 1 : c < 0xc2 ? 0 : c < 0xe0 ? 2
	            : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
	if (want == 0 || want > n || !text_is_utf8(s, want))
		return 0;
	return want;
}

/* p[0..len) with U+FFFD for each byte that is not part of a character. */
static json_t *repaired(const char *p, size_t len)
{
	struct buf b;
	buf_init(&b, 0);
	int rc = buf_append(&b, "", 0);
	for (size_t i = 0; i < len && rc == 0;) {
		size_t n = char_len(p + i, len - i);
		rc = n ? buf_append(&b, p + i, n)
		       : buf_append(&b, REPLACEMENT, sizeof REPLACEMENT - 1);
		i += n ? n : 1;
	}
	json_t *s = rc == 0 ? json_stringn_nocheck(b.data, b.len) : NULL;
	buf_free(&b);
	return s;
}

/* A string of the bytes of a line.  The server checked what it wrote;
 * a log is still only a file, and older programs checked nothing. */
static json_t *bytes(const char *p, size_t len)
{
	if (!p)
		return json_string_nocheck("");
	if (text_is_utf8(p, len))
		return json_stringn_nocheck(p, len);
	return repaired(p, len);
}

static json_t *span_str(struct event_span s)
{
	return bytes(s.p, s.len);
}

static json_t *str(const char *s)
{
	return bytes(s, s ? strlen(s) : 0);
}

/* JSON integers are signed: a larger count (a /dice argument saturates at
 * UINT64_MAX) is written as the nearest double, which is all a
 * JavaScript client could read of it anyway. */
static json_t *number(uint64_t v)
{
	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	return json_real((double)v);
}

/* Writes v in width decimal digits at p; returns the end. */
static char *digits(char *p, long v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

/* ISO 8601 in local time with the offset in force then:
 * "2026-12-06T14:05:11+01:00".  By hand: it is written for every line,
 * and printf costs as much as all the rest of the time. */
static json_t *iso_time(time_t t)
{
	struct tm tm;
	char s[32], *p = s;
	long year;
	if (!localtime_r(&t, &tm) || (year = tm.tm_year + 1900L) < 0 ||
	    year > 9999)
		return NULL;
	long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
	p = digits(p, year, 4);
	*p++ = '-';
	p = digits(p, tm.tm_mon + 1, 2);
	*p++ = '-';
	p = digits(p, tm.tm_mday, 2);
	*p++ = 'T';
	p = digits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = digits(p, tm.tm_min, 2);
	*p++ = ':';
	p = digits(p, tm.tm_sec, 2);
	*p++ = tm.tm_gmtoff < 0 ? '-' : '+';
	p = digits(p, off / 3600 % 100, 2);
	*p++ = ':';
	p = digits(p, off / 60 % 60, 2);
	return json_stringn_nocheck(s, (size_t)(p - s));
}

static struct obj start(const char *type, time_t t)
{
	struct obj o = { json_object(), false };
	put(&o, "type", json_string_nocheck(type));
	put(&o, "time", iso_time(t));
	return o;
}

/* Appends json to out.  Into the room out already has, as a rule: a
 * buffer kept from line to line needs no allocation, and jansson then
 * copies each piece straight into it. */
static int dump(const json_t *json, struct buf *out)
{
	size_t at = out->len, room = 512;
	/* A guess must not trip the cap that the line itself would not. */
	if (out->limit && out->limit - at < room)
		room = out->limit - at;
	for (;;) {
		char *p = buf_grow(out, room);
		if (!p)
			return -1;
		size_t need = json_dumpb(json, p, room, DUMP_FLAGS);
		out->len = at + (need <= room ? need : 0);
		out->data[out->len] = '\0';
		if (need == 0) {
			errno = ENOMEM;
			return -1;
		}
		if (need <= room)
			return 0;
		room = need;
	}
}

/* Writes o, then raw JSON as the value of its last member raw_key when
 * raw is not NULL, as one line in the emptied out; frees o. */
static int finish_raw(struct obj *o, bool history, const char *raw_key,
                      struct event_span raw, struct buf *out)
{
	if (history)
		put(o, "history", json_true());
	buf_clear(out);
	int rc = -1;
	if (o->failed)
		errno = ENOMEM;
	else
		rc = dump(o->json, out);
	json_decref(o->json);
	if (rc == 0 && raw_key) {
		out->len--; /* the closing brace, put back after raw */
		rc = buf_append(out, ",\"", 2) < 0 ||
		     buf_append_str(out, raw_key) < 0 ||
		     buf_append(out, "\":", 2) < 0 ||
		     buf_append(out, raw.p, raw.len) < 0 ||
		     buf_append(out, "}", 1) < 0 ? -1 : 0;
	}
	return rc < 0 ? -1 : buf_append(out, "\n", 1);
}

static int finish(struct obj *o, bool history, struct buf *out)
{
	struct event_span none = { NULL, 0 };
	return finish_raw(o, history, NULL, none, out);
}

/* ---- the colours of the last user list ---- */

/* Keeps ",<list>", so that every entry starts with a comma. */
static void learn_colors(struct encoder *e, struct event_span list)
{
	buf_clear(&e->colors);
	if (buf_append(&e->colors, ",", 1) < 0 ||
	    buf_append(&e->colors, list.p, list.len) < 0)
		buf_clear(&e->colors); /* unknown, rather than stale */
}

/* ---- the frequent events, written by hand ----
 *
 * A message reaches every member: building a jansson object per line and
 * member cost twice the CPU of the legacy protocol (docs/benchmarks.md).
 * Joins, quits, user lists and messages are written straight into out,
 * byte for byte what jansson writes (compact, UTF-8 as is, '"', '\\' and
 * controls escaped); the rest keeps jansson. */

/* How jansson escapes c (a byte below 0x20, '"' or '\\') into esc;
 * returns the length. */
static size_t escape(unsigned char c, char esc[6])
{
	static const char hex[] = "0123456789ABCDEF";
	static const char named[][2] = { { '"', '"' }, { '\\', '\\' },
	                                 { '\b', 'b' }, { '\f', 'f' },
	                                 { '\n', 'n' }, { '\r', 'r' },
	                                 { '\t', 't' } };
	esc[0] = '\\';
	for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
		if (c == (unsigned char)named[i][0]) {
			esc[1] = named[i][1];
			return 2;
		}
	}
	esc[1] = 'u';
	esc[2] = '0';
	esc[3] = '0';
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 15];
	return 6;
}

/* Appends p[0..n) as a JSON string.  Bytes that are not UTF-8 go the
 * jansson way (U+FFFD for each), which is rare enough. */
static int put_string(struct buf *out, const char *p, size_t n)
{
	if (!text_is_utf8(p, n)) {
		json_t *s = bytes(p, n);
		char *text = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
		int rc = text ? buf_append_str(out, text) : -1;
		free(text);
		json_decref(s);
		return rc;
	}
	if (buf_append(out, "\"", 1) < 0)
		return -1;
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		char esc[6];
		size_t len = escape(c, esc);
		if (buf_append(out, p + from, i - from) < 0 ||
		    buf_append(out, esc, len) < 0)
			return -1;
		from = i + 1;
	}
	return buf_append(out, p + from, n - from) < 0 ||
	       buf_append(out, "\"", 1) < 0 ? -1 : 0;
}

/* ,"key": then the string */
static int put_member(struct buf *out, const char *key, const char *p,
                      size_t n)
{
	return buf_append(out, ",\"", 2) < 0 || buf_append_str(out, key) < 0 ||
	       buf_append(out, "\":", 2) < 0 ? -1 : put_string(out, p, n);
}

/* The time of a line, written once per distinct time: every member reads
 * the same lines within the same second. */
static const char *time_text(struct encoder *e, int clock, time_t now,
                             size_t *n)
{
	if (clock != e->time_clock || now != e->time_now) {
		json_t *iso = iso_time(event_when(clock, now));
		const char *v = iso ? json_string_value(iso) : NULL;
		size_t len = v ? json_string_length(iso) : 0;
		if (!v || len >= sizeof e->time_text) {
			json_decref(iso);
			return NULL;
		}
		memcpy(e->time_text, v, len);
		e->time_len = len;
		e->time_clock = clock;
		e->time_now = now;
		json_decref(iso);
	}
	*n = e->time_len;
	return e->time_text;
}

/* {"type":T,"time":...  into the emptied out */
static int open_event(struct encoder *e, const char *type, int clock,
                      time_t now, struct buf *out)
{
	size_t n;
	const char *t = time_text(e, clock, now, &n);
	buf_clear(out);
	return !t || buf_append(out, "{\"type\":\"", 9) < 0 ||
	       buf_append_str(out, type) < 0 ||
	       buf_append(out, "\"", 1) < 0 ||
	       put_member(out, "time", t, n) < 0 ? -1 : 0;
}

static int close_event(bool history, struct buf *out)
{
	return (history && buf_append_str(out, ",\"history\":true") < 0) ||
	       buf_append(out, "}\n", 2) < 0 ? -1 : 0;
}

/* The colour of name in the last user list, or COLOR_DEFAULT.  One
 * memmem for ",<name>:": a message in a room of hundreds must not walk
 * the list entry by entry. */
static struct event_span color_span(const struct encoder *e,
                                    struct event_span name)
{
	struct event_span gray = { COLOR_DEFAULT, strlen(COLOR_DEFAULT) };
	char needle[PRESENCE_NAME_MAX + 3];
	if (!e->colors.data || name.len == 0 || name.len > PRESENCE_NAME_MAX)
		return gray;
	needle[0] = ',';
	memcpy(needle + 1, name.p, name.len);
	needle[name.len + 1] = ':';
	const char *end = e->colors.data + e->colors.len;
	const char *p = memmem(e->colors.data, e->colors.len, needle,
	                       name.len + 2);
	if (!p)
		return gray;
	const char *c = p + name.len + 2;
	const char *stop = memchr(c, ',', (size_t)(end - c));
	size_t n = stop ? (size_t)(stop - c) : (size_t)(end - c);
	return n ? (struct event_span){ c, n } : gray;
}

static int put_users(struct buf *out, struct event_span list)
{
	struct event_span name, color;
	bool first = true;
	if (buf_append_str(out, ",\"users\":[") < 0)
		return -1;
	while (event_next_user(&list, &name, &color)) {
		if (!color.len)
			color = (struct event_span){ COLOR_DEFAULT,
			                             strlen(COLOR_DEFAULT) };
		if (buf_append_str(out, first ? "{\"name\":" : ",{\"name\":") < 0 ||
		    put_string(out, name.p, name.len) < 0 ||
		    put_member(out, "color", color.p, color.len) < 0 ||
		    buf_append(out, "}", 1) < 0)
			return -1;
		first = false;
	}
	return buf_append(out, "]", 1);
}

/* 1 when ev was written by hand, 0 when it is not one of those, -1. */
static int encode_frequent(struct encoder *e, const struct event *ev,
                           time_t now, bool history, struct buf *out)
{
	int rc;
	switch (ev->kind) {
	case EVENT_JOIN:
	case EVENT_QUIT:
		rc = open_event(e, ev->kind == EVENT_JOIN ? "join" : "quit",
		                ev->clock, now, out) < 0 ||
		     put_member(out, "name", ev->name.p, ev->name.len) < 0;
		break;
	case EVENT_USERS:
		rc = open_event(e, "users", ev->clock, now, out) < 0 ||
		     put_users(out, ev->text) < 0;
		break;
	case EVENT_MESSAGE: {
		struct event_span color = color_span(e, ev->name);
		rc = open_event(e, "message", ev->clock, now, out) < 0 ||
		     put_member(out, "from", ev->name.p, ev->name.len) < 0 ||
		     put_member(out, "color", color.p, color.len) < 0 ||
		     put_member(out, "text", ev->text.p ? ev->text.p : "",
		                ev->text.len) < 0;
		break;
	}
	default:
		return 0;
	}
	return rc || close_event(history, out) < 0 ? -1 : 1;
}

/* ---- events ---- */

static json_t *dice_result(struct obj *o, const struct event_dice *d)
{
	struct obj r = { json_object(), false };
	put(&r, "count", number(d->count));
	put(&r, "sides", number(d->sides));
	put(&r, "again", number(d->again));
	json_t *values = json_array();
	struct event_span rest = d->values;
	uint64_t v;
	while (event_next_value(&rest, &v))
		append(&r, values, number(v));
	put(&r, "values", values);
	if (d->capped)
		put(&r, "capped", json_true());
	if (d->stopped)
		put(&r, "stopped", json_true());
	o->failed = o->failed || r.failed;
	return r.json;
}

static const char *command_name(enum event_result r)
{
	switch (r) {
	case RESULT_DICE:
	case RESULT_DICE_REFUSED:
		return "dice";
	case RESULT_COLOR:
	case RESULT_COLOR_REFUSED:
		return "color";
	case RESULT_UNKNOWN:
		return "unknown";
	case RESULT_OTHER:
		break;
	}
	return "other";
}

static void put_result(struct obj *o, const struct event *ev)
{
	put(o, "command", json_string_nocheck(command_name(ev->result)));
	put(o, "text", span_str(ev->text));
	if (ev->result == RESULT_DICE) {
		put(o, "result", dice_result(o, &ev->dice));
		return;
	}
	struct obj r = { json_object(), false };
	if (ev->result == RESULT_COLOR)
		put(&r, "color", span_str(ev->color));
	o->failed = o->failed || r.failed;
	put(o, "result", r.json);
}

/* Signalling is passed on as the object it is, exactly as in the line,
 * when it is one: checked here, since the line may come from anywhere. */
static bool is_object(struct event_span text)
{
	json_t *json = json_loadb(text.p, text.len, JSON_REJECT_DUPLICATES,
	                          NULL);
	bool ok = json_is_object(json);
	json_decref(json);
	return ok;
}

static int encode_private(const struct event *ev, time_t t, bool history,
                          struct buf *out)
{
	if (ev->kind == EVENT_SIGNAL && is_object(ev->text)) {
		struct obj o = start("signal", t);
		put(&o, "from", span_str(ev->name));
		return finish_raw(&o, history, "data", ev->text, out);
	}
	struct obj o = start("whisper", t);
	put(&o, "from", span_str(ev->name));
	put(&o, "to", span_str(ev->to));
	put(&o, "text", span_str(ev->text));
	return finish(&o, history, out);
}

static const char *type_of(enum event_kind kind)
{
	switch (kind) {
	case EVENT_JOIN:
		return "join";
	case EVENT_QUIT:
		return "quit";
	case EVENT_USERS:
		return "users";
	case EVENT_MESSAGE:
		return "message";
	case EVENT_RESULT:
		return "command";
	case EVENT_NOTICE:
		return "notice";
	case EVENT_WHISPER:
		return "whisper";
	case EVENT_SIGNAL:
		return "signal";
	case EVENT_LINE:
		break;
	}
	return "line";
}

static int encode_event(const struct event *ev, time_t t, bool history,
                        struct buf *out)
{
	if (ev->kind == EVENT_WHISPER || ev->kind == EVENT_SIGNAL)
		return encode_private(ev, t, history, out);
	struct obj o = start(type_of(ev->kind), t);
	switch (ev->kind) {
	case EVENT_RESULT:
		put(&o, "from", span_str(ev->name));
		put_result(&o, ev);
		break;
	case EVENT_NOTICE:
		put(&o, "from", span_str(ev->name));
		put(&o, "to", span_str(ev->to));
		break;
	default:
		put(&o, "text", span_str(ev->text));
		break;
	}
	return finish(&o, history, out);
}

int json_encode_line(struct encoder *e, const char *line, size_t len,
                     const struct line_context *ctx, struct buf *out,
                     const char **data, size_t *n)
{
	struct event ev;
	event_parse(line, len, ctx->private_line, &ev);
	if (ev.kind == EVENT_USERS)
		learn_colors(e, ev.text);
	int rc = encode_frequent(e, &ev, ctx->now, ctx->history, out);
	if (rc < 0 ||
	    (rc == 0 && encode_event(&ev, event_when(ev.clock, ctx->now),
	                             ctx->history, out) < 0))
		return -1;
	*data = out->data;
	*n = out->len;
	return 1;
}

/* ---- what is not a line ---- */

static bool has_prefix(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(p, prefix, k) == 0;
}

/* ICE_SERVER_DNS names STUN servers, as the old pages used it: a host or
 * host:port gets "stun:" in front, a stun: or stuns: URL stays as it is. */
static json_t *stun_url(const char *p, size_t n)
{
	if (has_prefix(p, n, "stun:") || has_prefix(p, n, "stuns:"))
		return bytes(p, n);
	struct buf b;
	buf_init(&b, 0);
	json_t *url = buf_append_str(&b, "stun:") == 0 &&
	              buf_append(&b, p, n) == 0 ? bytes(b.data, b.len) : NULL;
	buf_free(&b);
	return url;
}

/* The browser's RTCIceServer list: one server per word of dns (words are
 * separated by spaces or commas), [] when there is none. */
static json_t *ice_servers(struct obj *o, const char *dns)
{
	json_t *list = json_array();
	for (const char *p = dns ? dns : "";;) {
		p += strspn(p, " ,\t");
		size_t n = strcspn(p, " ,\t");
		if (n == 0)
			break;
		struct obj server = { json_object(), false };
		put(&server, "urls", stun_url(p, n));
		o->failed = o->failed || server.failed;
		append(o, list, server.json);
		p += n;
	}
	return list;
}

int json_encode_welcome(time_t now, const struct welcome *w, struct buf *out)
{
	struct obj o = start("welcome", now);
	put(&o, "room", str(w->room));
	put(&o, "name", str(w->name));
	put(&o, "color", str(w->color));
	struct obj limits = { json_object(), false };
	put(&limits, "max_message_bytes", json_integer(w->max_message_bytes));
	o.failed = o.failed || limits.failed;
	put(&o, "limits", limits.json);
	put(&o, "ice_servers", ice_servers(&o, w->ice_server_dns));
	return finish(&o, false, out);
}

int json_encode_history_end(time_t now, struct buf *out)
{
	struct obj o = start("history_end", now);
	return finish(&o, false, out);
}

int json_encode_error(time_t now, enum refusal r, const char *message,
                      struct buf *out)
{
	struct obj o = start("error", now);
	put(&o, "code", json_string_nocheck(refusal_code(r)));
	put(&o, "message", str(message));
	return finish(&o, false, out);
}
