#include "encode_json.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "color.h"
#include "ice.h"
#include "presence.h"
#include "text.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
/* A literal and its length, as arguments. */
#define LIT(s) (s), sizeof(s) - 1
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

/* A local time in ISO 8601 with its offset, written into s:
 * "2026-12-06T14:05:11+01:00".  Returns its length, 0 when the year has
 * no such form.  By hand: printf costs as much as all the rest of an
 * event. */
static size_t iso_tm_text(const struct tm *tm, char s[32])
{
	char *p = s;
	long year = tm->tm_year + 1900L;
	if (year < 0 || year > 9999)
		return 0;
	long off = tm->tm_gmtoff < 0 ? -tm->tm_gmtoff : tm->tm_gmtoff;
	p = digits(p, year, 4);
	*p++ = '-';
	p = digits(p, tm->tm_mon + 1, 2);
	*p++ = '-';
	p = digits(p, tm->tm_mday, 2);
	*p++ = 'T';
	p = digits(p, tm->tm_hour, 2);
	*p++ = ':';
	p = digits(p, tm->tm_min, 2);
	*p++ = ':';
	p = digits(p, tm->tm_sec, 2);
	*p++ = tm->tm_gmtoff < 0 ? '-' : '+';
	p = digits(p, off / 3600 % 100, 2);
	*p++ = ':';
	p = digits(p, off / 60 % 60, 2);
	return (size_t)(p - s);
}

/* t in local time with the offset in force then, as iso_tm_text. */
static size_t iso_time_text(time_t t, char s[32])
{
	struct tm tm;
	return localtime_r(&t, &tm) ? iso_tm_text(&tm, s) : 0;
}

/* The time of a line of the given clock (event.h), read at now.  A line
 * is most often read in the second it was written: its clock is now's,
 * and its moment now itself (what event_when finds then), so one
 * localtime_r serves.  event_when's search, for the rest, takes two more.
 * Each reads the zone's tables, which a member woken for a line finds out
 * of its caches: three cost about as much as all the rest of the event,
 * and a line rarely shares its second with the one before when lines are
 * seconds apart. */
static size_t line_time_text(int clock, time_t now, char s[32])
{
	struct tm tm;
	if (clock >= 0 && localtime_r(&now, &tm) &&
	    tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec == clock)
		return iso_tm_text(&tm, s);
	return iso_time_text(event_when(clock, now), s);
}

static json_t *iso_time(time_t t)
{
	char s[32];
	size_t n = iso_time_text(t, s);
	return n ? json_stringn_nocheck(s, n) : NULL;
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

/* ---- the colours of the last user list ----
 *
 * A message carries its sender's colour from the last user list.  In a
 * room of hundreds the list is kilobytes, and a search through it for
 * every line and member cost more than the rest of the event: in one room
 * with two senders, 1.1× to 1.2× the legacy cost per line from 50 members
 * up (docs/benchmarks.md, section 6).  So the colours of the last few
 * senders are kept until the next list, and the list is searched only for
 * a sender not among them.  Where many people talk between two lists, it
 * is searched through an index by name, built once ENCODER_SENDERS * 2
 * senders were looked up in it: building it costs a few searches, and a
 * storm of joins brings many lists and few messages. */
#define INDEX_AFTER (ENCODER_SENDERS * 2)

/* Keeps ",<list>", so that every entry starts with a comma, and forgets
 * what was found in the one before. */
static void learn_colors(struct encoder *e, struct event_span list)
{
	for (size_t i = 0; i < ENCODER_SENDERS; i++)
		e->senders[i].len = 0;
	e->misses = 0;
	e->color_stale = true;
	buf_clear(&e->colors);
	if (buf_append(&e->colors, ",", 1) < 0 ||
	    buf_append(&e->colors, list.p, list.len) < 0)
		buf_clear(&e->colors); /* unknown, rather than stale */
}

/* The colour that follows "<name>:" at p in colors, up to the next comma;
 * COLOR_DEFAULT when it is empty. */
static struct event_span color_after(const struct encoder *e, const char *p,
                                     size_t name_len)
{
	const char *end = e->colors.data + e->colors.len;
	const char *c = p + name_len + 1;
	const char *stop = memchr(c, ',', (size_t)(end - c));
	size_t n = stop ? (size_t)(stop - c) : (size_t)(end - c);
	return n ? (struct event_span){ c, n }
	         : (struct event_span){ LIT(COLOR_DEFAULT) };
}

/* The colour of name: the first entry ",<name>:" of the list, found by
 * memmem.  For the first senders of a list, and for a name with ',' or
 * ':' (from a log line of no server's), which may start inside an entry,
 * where the index cannot find it. */
static struct event_span find_color(const struct encoder *e,
                                    struct event_span name)
{
	struct event_span gray = { LIT(COLOR_DEFAULT) };
	char needle[PRESENCE_NAME_MAX + 3];
	needle[0] = ',';
	memcpy(needle + 1, name.p, name.len);
	needle[name.len + 1] = ':';
	const char *p = memmem(e->colors.data, e->colors.len, needle,
	                       name.len + 2);
	return p ? color_after(e, p + 1, name.len) : gray;
}

/* FNV-1a: names are short, and any spread will do. */
static size_t name_hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

/* The slot of name in the index: the one holding its entry, or the empty
 * one where it would go. */
static size_t slot_of(const struct encoder *e, const char *name, size_t n)
{
	const char *list = e->colors.data;
	for (size_t i = name_hash(name, n) & e->color_mask;;
	     i = (i + 1) & e->color_mask) {
		uint32_t at = e->color_slots[i];
		if (at == 0 || (e->colors.len - (at - 1) > n &&
		                memcmp(list + at - 1, name, n) == 0 &&
		                list[at - 1 + n] == ':'))
			return i;
	}
}

/* The index of colors: at least twice as many slots as entries, so that
 * probes stay short.  An entry whose name came before is left out, as
 * find_color finds the first.  -1 (out of memory): find_color serves. */
static int index_colors(struct encoder *e)
{
	size_t entries = 1;
	for (size_t i = 1; i < e->colors.len; i++)
		entries += e->colors.data[i] == ',';
	size_t slots = 8;
	while (slots < 2 * entries)
		slots *= 2;
	uint32_t *table = realloc(e->color_slots, slots * sizeof *table);
	if (!table)
		return -1;
	memset(table, 0, slots * sizeof *table);
	e->color_slots = table;
	e->color_mask = slots - 1;
	struct event_span list = { e->colors.data + 1, e->colors.len - 1 };
	struct event_span name, color;
	while (event_next_user(&list, &name, &color)) {
		size_t i = slot_of(e, name.p, name.len);
		if (table[i] == 0)
			table[i] = (uint32_t)(name.p - e->colors.data) + 1;
	}
	e->color_stale = false;
	return 0;
}

/* The colour of name in the list: through the index once it pays. */
static struct event_span look_up(struct encoder *e, struct event_span name)
{
	if (memchr(name.p, ',', name.len) || memchr(name.p, ':', name.len) ||
	    (e->color_stale &&
	     (++e->misses <= INDEX_AFTER || index_colors(e) < 0)))
		return find_color(e, name);
	uint32_t at = e->color_slots[slot_of(e, name.p, name.len)];
	return at ? color_after(e, e->colors.data + at - 1, name.len)
	          : (struct event_span){ LIT(COLOR_DEFAULT) };
}

/* The colour of name in the last user list, or COLOR_DEFAULT. */
static struct event_span color_span(struct encoder *e, struct event_span name)
{
	if (e->colors.len == 0 || name.len == 0 ||
	    name.len > PRESENCE_NAME_MAX)
		return (struct event_span){ LIT(COLOR_DEFAULT) };
	for (size_t i = 0; i < ENCODER_SENDERS; i++) {
		const struct encoder_sender *s = &e->senders[i];
		if (s->len == name.len && memcmp(s->name, name.p, name.len) == 0)
			return s->color;
	}
	struct encoder_sender *s = &e->senders[e->next_sender];
	e->next_sender = (e->next_sender + 1) % ENCODER_SENDERS;
	memcpy(s->name, name.p, name.len);
	s->len = name.len;
	s->color = look_up(e, name);
	return s->color;
}

/* ---- the frequent events, written by hand ----
 *
 * A message reaches every member, so its cost is paid lines × members
 * times.  Built as a jansson object it cost twice the legacy protocol;
 * appended piece by piece, each piece checked for room and each byte of a
 * string looked at twice, still 1.1× to 1.2× (docs/benchmarks.md,
 * section 6).  So joins, quits, user lists and messages are written
 * straight into out, a chat line in one pass into room reserved once
 * (write_hand): each string is looked at eight bytes at a time and copied
 * in runs of the bytes that need no escaping, in most chat lines all.
 *
 * Byte for byte what jansson writes of the strings bytes() makes:
 * compact, UTF-8 as is, '"', '\\' and controls escaped, and U+FFFD for
 * each byte that is not part of a UTF-8 character, NUL included.  The
 * rarer events keep jansson. */

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS (ONES * 0x80)

/* Whether a byte of x is 0: subtracting 1 from each byte borrows into
 * the high bit of the lowest zero byte (the standard bit trick). */
static bool has_zero(uint64_t x)
{
	return ((x - ONES) & ~x & HIGHS) != 0;
}

/* Whether c goes into a JSON string as it is. */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* How many bytes at the front of u[0..n) are plain: eight at a time,
 * a byte of 0x80 or more or below 0x20 showing as a high bit of
 * (x - 0x20 in each byte) | x. */
static size_t plain_prefix(const unsigned char *u, size_t n)
{
	size_t i = 0;
	for (uint64_t x; n - i >= 8; i += 8) {
		memcpy(&x, u + i, sizeof x);
		if ((((x - 0x20 * ONES) | x) & HIGHS) ||
		    has_zero(x ^ ('"' * ONES)) || has_zero(x ^ ('\\' * ONES)))
			break;
	}
	while (i < n && plain(u[i]))
		i++;
	return i;
}

/* Copies n bytes of p to w + at when w is not NULL; returns n.  The
 * writers below measure what they would write when w is NULL. */
static size_t emit(char *w, size_t at, const char *p, size_t n)
{
	if (w && n)
		memcpy(w + at, p, n);
	return n;
}

/* c (a byte below 0x20, '"' or '\\') as jansson escapes it.  Written
 * into w directly: a buffer on the stack would cost every string a stack
 * guard (-fstack-protector-strong). */
static size_t escape(char *w, size_t at, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char named[][2] = { { '"', '"' }, { '\\', '\\' },
	                                 { '\b', 'b' }, { '\f', 'f' },
	                                 { '\n', 'n' }, { '\r', 'r' },
	                                 { '\t', 't' } };
	for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
		if (c == (unsigned char)named[i][0]) {
			emit(w, at, "\\", 1);
			return 1 + emit(w, at + 1, &named[i][1], 1);
		}
	}
	emit(w, at, LIT("\\u00"));
	emit(w, at + 4, &hex[c >> 4], 1);
	return 5 + emit(w, at + 5, &hex[c & 15], 1);
}

/* The character at p (n bytes left) that is not plain, written at w + at:
 * UTF-8 as it is, U+FFFD for a byte that starts none (or NUL), the escape
 * of the rest.  *take is how many bytes of p it was. */
static size_t special(char *w, size_t at, const char *p, size_t n,
                      size_t *take)
{
	unsigned char c = (unsigned char)p[0];
	size_t k = c >= 0x80 ? char_len(p, n) : 0;
	*take = k ? k : 1;
	if (k)
		return emit(w, at, p, k);
	if (c >= 0x80 || c == 0)
		return emit(w, at, LIT(REPLACEMENT));
	return escape(w, at, c);
}

/* p[0..n) as the inside of a JSON string. */
static size_t string_body(char *w, const char *p, size_t n)
{
	size_t at = 0, i = 0;
	while (i < n) {
		size_t k = plain_prefix((const unsigned char *)p + i, n - i);
		at += emit(w, at, p + i, k);
		i += k;
		if (i < n) {
			size_t take;
			at += special(w, at, p + i, n - i, &take);
			i += take;
		}
	}
	return at;
}

/* s as a JSON string, quotes included. */
static size_t emit_string(char *w, size_t at, struct event_span s)
{
	size_t n = emit(w, at, LIT("\""));
	n += string_body(w ? w + at + n : NULL, s.p, s.len);
	return n + emit(w, at + n, LIT("\""));
}

/* [{"name":N,"color":C},...]: an entry without a colour is Gray; with
 * flags, the members whose byte is 1 get "verified":true. */
static size_t users_array(char *w, struct event_span list,
                          const unsigned char *flags)
{
	struct event_span name, color;
	size_t at = emit(w, 0, LIT("[")), i = 0;
	for (bool first = true; event_next_user(&list, &name, &color);
	     first = false, i++) {
		if (!color.len)
			color = (struct event_span){ LIT(COLOR_DEFAULT) };
		at += first ? emit(w, at, LIT("{\"name\":"))
		            : emit(w, at, LIT(",{\"name\":"));
		at += emit_string(w, at, name);
		at += emit(w, at, LIT(",\"color\":"));
		at += emit_string(w, at, color);
		if (flags && flags[i])
			at += emit(w, at, LIT(",\"verified\":true"));
		at += emit(w, at, LIT("}"));
	}
	return at + emit(w, at, LIT("]"));
}

/* What goes before a member's value, ,"key": */
struct key {
	const char *p;
	size_t n;
};

/* An event written by hand: {"type":"T","time":" (head), the time, up
 * to three string members, and for a user list its users. */
struct hand_event {
	struct key head;
	const char *time;
	size_t time_len;
	struct key keys[3];
	struct event_span values[3];
	size_t members;
	const struct event_span *users;
	const unsigned char *verified; /* a byte per user, or NULL */
	bool history;
};

static size_t draw(char *w, const struct hand_event *h)
{
	size_t at = emit(w, 0, h->head.p, h->head.n);
	at += emit(w, at, h->time, h->time_len);
	at += emit(w, at, LIT("\""));
	for (size_t i = 0; i < h->members; i++) {
		at += emit(w, at, h->keys[i].p, h->keys[i].n);
		at += emit_string(w, at, h->values[i]);
	}
	if (h->users) {
		at += emit(w, at, LIT(",\"users\":"));
		at += users_array(w ? w + at : NULL, *h->users, h->verified);
	}
	if (h->history)
		at += emit(w, at, LIT(",\"history\":true"));
	return at + emit(w, at, LIT("}\n"));
}

/* The most h can take: a byte of a string at most 6 (\u00XX).  A user
 * list has no bound worth the name: SIZE_MAX. */
static size_t draw_bound(const struct hand_event *h)
{
	size_t n = h->head.n + h->time_len + 1 + strlen(",\"history\":true}\n");
	for (size_t i = 0; i < h->members; i++)
		n += h->keys[i].n + 2 + 6 * h->values[i].len;
	return h->users ? SIZE_MAX : n;
}

/* Up to this bound an event is written in one pass, into room that
 * surely holds it: the buffer a connection keeps from line to line
 * (MESSAGE_KEEP, 8 KiB) holds that much. */
#define ONE_PASS_MAX 4000

/* Written into the emptied out: a chat line in one pass, a user list or a
 * long line measured first, then written at once. */
static int write_hand(const struct hand_event *h, struct buf *out)
{
	buf_clear(out);
	size_t bound = draw_bound(h);
	char *w = bound <= ONE_PASS_MAX ? buf_grow(out, bound) : NULL;
	if (w) {
		out->len = draw(w, h);
		out->data[out->len] = '\0';
		return 0;
	}
	buf_clear(out);
	w = buf_grow(out, draw(NULL, h));
	if (!w)
		return -1;
	draw(w, h);
	return 0;
}

/* The time of a line, written once per distinct time: every member reads
 * the same lines within the same second. */
static const char *time_text(struct encoder *e, int clock, time_t now,
                             size_t *n)
{
	if (clock != e->time_clock || now != e->time_now) {
		size_t len = line_time_text(clock, now, e->time_text);
		if (!len)
			return NULL;
		e->time_len = len;
		e->time_clock = clock;
		e->time_now = now;
	}
	*n = e->time_len;
	return e->time_text;
}

static void add_member(struct hand_event *h, struct key key,
                       struct event_span value)
{
	h->keys[h->members] = key;
	h->values[h->members++] = value;
}

#define HEAD(type) (struct key){ LIT("{\"type\":\"" type "\",\"time\":\"") }
#define KEY(name) (struct key){ LIT(",\"" name "\":") }

/* Asks e->verified about each member of list, once: the flags must be
 * the same when the line is measured and when it is written. */
static int verified_flags(struct encoder *e, struct event_span list,
                          struct buf *flags)
{
	struct event_span name, color;
	while (event_next_user(&list, &name, &color)) {
		unsigned char v = e->verified(e->verified_ctx, name.p,
		                              name.len) == 1;
		if (buf_append(flags, (const char *)&v, 1) < 0)
			return -1;
	}
	return 0;
}

/* 1 when ev was written by hand, 0 when it is not one of those, -1. */
static int encode_frequent(struct encoder *e, const struct event *ev,
                           time_t now, bool history, struct buf *out)
{
	struct hand_event h = { .history = history };
	switch (ev->kind) {
	case EVENT_JOIN:
	case EVENT_QUIT:
		h.head = ev->kind == EVENT_JOIN ? HEAD("join") : HEAD("quit");
		add_member(&h, KEY("name"), ev->name);
		break;
	case EVENT_USERS:
		h.head = HEAD("users");
		h.users = &ev->text;
		if (e->verified) {
			struct buf flags;
			buf_init(&flags, 0);
			h.time = time_text(e, ev->clock, now, &h.time_len);
			int rc = verified_flags(e, ev->text, &flags) < 0 || !h.time
			         ? -1 : 0;
			h.verified = (const unsigned char *)flags.data;
			rc = rc < 0 || write_hand(&h, out) < 0 ? -1 : 1;
			buf_free(&flags);
			return rc;
		}
		break;
	case EVENT_MESSAGE:
		h.head = HEAD("message");
		add_member(&h, KEY("from"), ev->name);
		add_member(&h, KEY("color"), color_span(e, ev->name));
		add_member(&h, KEY("text"), ev->text);
		break;
	default:
		return 0;
	}
	h.time = time_text(e, ev->clock, now, &h.time_len);
	return !h.time || write_hand(&h, out) < 0 ? -1 : 1;
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
	case RESULT_BAN:
		return "ban";
	case RESULT_UNBAN:
		return "unban";
	case RESULT_LOCK:
		return "lock";
	case RESULT_UNLOCK:
		return "unlock";
	case RESULT_KICK:
	case RESULT_MUTE:
	case RESULT_UNMUTE:
	case RESULT_TOPIC: /* events of their own: moderation_event */
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
	if (ev->result == RESULT_BAN || ev->result == RESULT_UNBAN)
		put(&r, "target", span_str(ev->mod.target));
	if (ev->result == RESULT_BAN) {
		put(&r, "minutes", number(ev->mod.minutes));
		if (ev->mod.reason.len)
			put(&r, "reason", span_str(ev->mod.reason));
	}
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

/* A moderator's kick, mute, unmute or topic: an event of its own
 * (moderation.h); 0 when ev is none of these. */
static int moderation_event(const struct event *ev, time_t t, bool history,
                            struct buf *out)
{
	if (ev->kind != EVENT_RESULT)
		return 0;
	const struct event_moderation *m = &ev->mod;
	enum event_result r = ev->result;
	if (r != RESULT_KICK && r != RESULT_MUTE && r != RESULT_UNMUTE &&
	    r != RESULT_TOPIC)
		return 0;
	struct obj o = start(r == RESULT_KICK ? "kick"
	                     : r == RESULT_TOPIC ? "topic" : "mute", t);
	put(&o, "from", span_str(ev->name));
	if (r == RESULT_TOPIC) {
		put(&o, "text", span_str(m->reason));
	} else {
		put(&o, "name", span_str(m->target));
		if (r != RESULT_KICK)
			put(&o, "minutes", number(r == RESULT_MUTE ? m->minutes : 0));
		else if (m->reason.len)
			put(&o, "reason", span_str(m->reason));
	}
	return finish(&o, history, out) < 0 ? -1 : 1;
}

static int encode_event(const struct event *ev, time_t t, bool history,
                        struct buf *out)
{
	if (ev->kind == EVENT_WHISPER || ev->kind == EVENT_SIGNAL)
		return encode_private(ev, t, history, out);
	int mod = moderation_event(ev, t, history, out);
	if (mod != 0)
		return mod < 0 ? -1 : 0;
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
	if (w->topic && w->topic[0])
		put(&o, "topic", str(w->topic));
	/* ice_servers (STUN, TURN) and ice_transport_policy: src/ice.c */
	if (ice_welcome(o.json, w->ice_server_dns, w->turn, w->name, now) < 0)
		o.failed = true;
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
