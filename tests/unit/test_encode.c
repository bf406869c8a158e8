/* encode: every case of tests/unit/wire_cases/encode-*.cases (see the
 * README there) through one encoder per case, step by step; then random
 * messages and user lists against what jansson writes of them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "encode.h"
#include "refusal.h"
#include "support/wire_cases.h"
#include "text.h"

#define CASES_DIR "tests/unit/wire_cases"
#define DEFAULT_TZ "Europe/Prague"

#define REFUSAL_NAME(r) { #r, r }
static const struct {
	const char *name;
	enum refusal value;
} refusals[] = {
	REFUSAL_NAME(REFUSAL_SERVER), REFUSAL_NAME(REFUSAL_TOO_LONG),
	REFUSAL_NAME(REFUSAL_BAD_UTF8), REFUSAL_NAME(REFUSAL_MALFORMED),
	REFUSAL_NAME(REFUSAL_UNKNOWN_TYPE), REFUSAL_NAME(REFUSAL_FLOOD),
	REFUSAL_NAME(REFUSAL_KICKED), REFUSAL_NAME(REFUSAL_NOT_PRESENT),
	REFUSAL_NAME(REFUSAL_LEFT), REFUSAL_NAME(REFUSAL_SLOW_TARGET),
	REFUSAL_NAME(REFUSAL_MISLEADING), REFUSAL_NAME(REFUSAL_BAD_SIGNAL),
	REFUSAL_NAME(REFUSAL_SIGNAL_TOO_LARGE),
	REFUSAL_NAME(REFUSAL_NOT_STORED), REFUSAL_NAME(REFUSAL_NOT_RECORDED),
	REFUSAL_NAME(REFUSAL_BUSY), REFUSAL_NAME(REFUSAL_COMMAND),
	REFUSAL_NAME(REFUSAL_ROOM_FULL), REFUSAL_NAME(REFUSAL_ORIGIN),
	REFUSAL_NAME(REFUSAL_TOO_MANY), REFUSAL_NAME(REFUSAL_BAD_ROOM),
	REFUSAL_NAME(REFUSAL_CONFIG), REFUSAL_NAME(REFUSAL_UNAVAILABLE),
	REFUSAL_NAME(REFUSAL_AVAILABLE),
};

/* One case being run. */
struct run {
	struct encoder enc;
	struct line_context ctx;
	struct buf out;
	char *line;          /* the input of the last "line" step */
	bool pending;        /* a step ran and awaits its expectation */
	int rc;
	const char *data;
	size_t n;
	unsigned step_line;  /* where the step is in the case file */
};

static bool yes(const char *v)
{
	if (strcmp(v, "yes") == 0)
		return true;
	if (strcmp(v, "no") != 0)
		fail_msg("expected yes or no, not \"%s\"", v);
	return false;
}

static void set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

/* "2026-12-06T14:05:11+01:00" (or "...Z") as seconds since the epoch. */
static time_t parse_now(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	char sign = 'Z';
	int oh = 0, om = 0;
	int n = sscanf(s, "%d-%d-%dT%d:%d:%d%c%d:%d", &tm.tm_year, &tm.tm_mon,
	               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &sign,
	               &oh, &om);
	if (!(n == 7 && sign == 'Z') && !(n == 9 && (sign == '+' || sign == '-')))
		fail_msg("now: not an ISO 8601 time with offset: \"%s\"", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t off = (time_t)(oh * 3600 + om * 60);
	return timegm(&tm) - (sign == '-' ? -off : off);
}

/* Splits "a|b|c" in place into at most max fields; returns how many. */
static size_t split(char *s, char **f, size_t max)
{
	size_t n = 0;
	f[n++] = s;
	for (char *p = s; *p && n < max; p++)
		if (*p == '|') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

static enum refusal refusal_named(const char *name)
{
	for (size_t i = 0; i < sizeof refusals / sizeof *refusals; i++)
		if (strcmp(refusals[i].name, name) == 0)
			return refusals[i].value;
	/* A number tests what a stray value does. */
	char *end;
	long v = strtol(name, &end, 10);
	if (*name && !*end)
		return (enum refusal)v;
	fail_msg("error: unknown refusal \"%s\"", name);
	return REFUSAL_SERVER;
}

static void step_line(struct run *r, const struct wire_field *f)
{
	/* Exactly the line and its newline, as the follower hands it. */
	free(r->line);
	r->line = malloc(f->len + 1);
	assert_non_null(r->line);
	memcpy(r->line, f->value, f->len);
	r->line[f->len] = '\n';
	r->rc = encode_line(&r->enc, r->line, f->len + 1, &r->ctx, &r->out,
	                    &r->data, &r->n);
	if (r->rc == 1 && r->enc.proto == WIRE_LEGACY)
		assert_ptr_equal(r->data, r->line); /* never a copy */
}

static void step_welcome(struct run *r, const struct wire_field *f)
{
	char *copy = strdup(f->value);
	assert_non_null(copy);
	char *p[5];
	if (split(copy, p, 5) != 5)
		fail_msg("welcome: room|name|color|max_message_bytes|ice");
	struct welcome w = { .room = p[0], .name = p[1], .color = p[2],
	                     .max_message_bytes = atoi(p[3]),
	                     .ice_server_dns = p[4] };
	r->rc = encode_welcome(&r->enc, r->ctx.now, &w, &r->out);
	free(copy);
}

static void step_error(struct run *r, const struct wire_field *f)
{
	char *copy = strdup(f->value);
	assert_non_null(copy);
	char *p[2];
	if (split(copy, p, 2) != 2)
		fail_msg("error: REFUSAL_NAME|message");
	r->rc = encode_error(&r->enc, r->ctx.now, refusal_named(p[0]), p[1],
	                     &r->out);
	free(copy);
}

/* What welcome, error and history_end returned, as a line step's. */
static void as_sent(struct run *r)
{
	assert_int_equal(r->rc, 0);
	r->rc = r->out.len ? 1 : 0;
	r->data = r->out.data;
	r->n = r->out.len;
}

/* A JSON line must be one object, "type" first, and nothing else. */
static void check_json(const char *data, size_t n)
{
	assert_true(n > 0 && data[n - 1] == '\n');
	assert_null(memchr(data, '\n', n - 1));
	assert_memory_equal(data, "{\"type\":\"", 9);
	json_error_t error;
	json_t *obj = json_loadb(data, n - 1, JSON_REJECT_DUPLICATES, &error);
	if (!json_is_object(obj))
		fail_msg("not a JSON object: %s", error.text);
	assert_true(json_is_string(json_object_get(obj, "time")));
	json_decref(obj);
}

static void expect(struct run *r, const struct wire_field *f)
{
	if (!r->pending)
		fail_msg("line %u: an expectation without a step", f->line);
	r->pending = false;
	if (strcmp(f->key, "silent") == 0) {
		if (r->rc != 0)
			fail_msg("line %u: sent %.*s", f->line, (int)r->n, r->data);
		return;
	}
	if (r->rc != 1)
		fail_msg("line %u: nothing sent (%d)", f->line, r->rc);
	if (r->n != f->len + 1 || memcmp(r->data, f->value, f->len) != 0 ||
	    r->data[f->len] != '\n')
		fail_msg("line %u:\n  got:  %.*s\n  want: %s", f->line,
		         (int)r->n, r->data, f->value);
	if (r->enc.proto == WIRE_JSON)
		check_json(r->data, r->n);
}

static void setting(struct run *r, const struct wire_field *f)
{
	if (strcmp(f->key, "tz") == 0)
		set_tz(f->value);
	else if (strcmp(f->key, "now") == 0)
		r->ctx.now = parse_now(f->value);
	else if (strcmp(f->key, "history") == 0)
		r->ctx.history = yes(f->value);
	else if (strcmp(f->key, "private") == 0)
		r->ctx.private_line = yes(f->value);
	else if (strcmp(f->key, "proto") && strcmp(f->key, "guard"))
		fail_msg("line %u: unknown key \"%s\"", f->line, f->key);
}

static void run_field(struct run *r, const struct wire_field *f)
{
	bool step = true;
	if (strcmp(f->key, "out") == 0 || strcmp(f->key, "silent") == 0) {
		expect(r, f);
		return;
	}
	if (strcmp(f->key, "line") == 0) {
		step_line(r, f);
	} else if (strcmp(f->key, "welcome") == 0) {
		step_welcome(r, f);
		as_sent(r);
	} else if (strcmp(f->key, "error") == 0) {
		step_error(r, f);
		as_sent(r);
	} else if (strcmp(f->key, "history_end") == 0) {
		r->rc = encode_history_end(&r->enc, r->ctx.now, &r->out);
		as_sent(r);
	} else {
		step = false;
		setting(r, f);
	}
	if (step && r->pending)
		fail_msg("line %u: the step before has no expectation",
		         f->line);
	if (step) {
		r->pending = true;
		r->step_line = f->line;
	}
}

static void run_case(void **state)
{
	const struct wire_case *c = *state;
	const char *proto = wire_case_get(c, "proto", NULL);
	const char *guard = wire_case_get(c, "guard", NULL);
	if (!proto || (strcmp(proto, "json") && strcmp(proto, "legacy")))
		fail_msg("proto must be legacy or json");
	struct run r;
	memset(&r, 0, sizeof r);
	encoder_init(&r.enc, strcmp(proto, "json") ? WIRE_LEGACY : WIRE_JSON,
	             guard && yes(guard));
	buf_init(&r.out, 0);
	set_tz(DEFAULT_TZ);
	for (size_t i = 0; i < c->n; i++)
		run_field(&r, &c->fields[i]);
	if (r.pending)
		fail_msg("line %u: a step without an expectation", r.step_line);
	free(r.line);
	buf_free(&r.out);
	encoder_free(&r.enc);
}

/* ---- the hand-written events against jansson ----
 *
 * Joins, quits, user lists and messages are written by hand, a string
 * eight bytes at a time, and a message's colour is kept for the last
 * senders and found through an index of the last user list when many
 * speak (src/encode_json.c).  Random names and texts,
 * with escapes, characters of every length and broken bytes anywhere in
 * them, must come out as jansson writes the same object, with the colour
 * of the sender's first entry in the last list. */

#define RANDOM_LINES 3000
#define NOW_TEXT "2026-12-06T14:05:11+01:00"
#define LINE_TIME "2026-12-06T14:03:31+01:00"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned below)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % below);
}

/* Appends a random piece of text: mostly printable ASCII, else a
 * character of two to four bytes, a byte jansson escapes, or bytes that
 * are no UTF-8. */
static void random_piece(struct buf *b)
{
	static const char *const pieces[] = {
		"\xc3\xa9", "\xe2\x80\xa8", "\xf0\x9f\x98\x80", "\"", "\\",
		"\t", "\r", "\b", "\f", "\x01", "\x1f", "\x7f", "\xff",
		"\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80",
	};
	unsigned r = rnd(10);
	if (r < 7) {
		char c = (char)(0x21 + rnd(0x7f - 0x21));
		assert_int_equal(buf_append(b, &c, 1), 0);
	} else if (r < 9) {
		assert_int_equal(buf_append_str(b, pieces[rnd(sizeof pieces /
		                                              sizeof *pieces)]),
		                 0);
	} else {
		assert_int_equal(buf_append(b, "", 1), 0); /* NUL */
	}
}

/* Random bytes for a name (none of the bytes that end one) or a text
 * (anything but a newline), of lengths around the words of eight. */
static void random_string(struct buf *b, bool name)
{
	static const unsigned lengths[] = { 1, 3, 7, 8, 9, 16, 17, 40, 65 };
	unsigned n = lengths[rnd(sizeof lengths / sizeof *lengths)];
	buf_clear(b);
	while (b->len < n) {
		random_piece(b);
		if (!name && rnd(8) == 0)
			assert_int_equal(buf_append(b, " ", 1), 0);
	}
	for (size_t i = 0; name && i < b->len; i++)
		if (b->data[i] && strchr(" >,:", b->data[i]))
			b->data[i] = 'x';
	if (!name && b->data[0] == ' ')
		b->data[0] = 'x'; /* a result's mark, not a message's */
}

/* p[0..n) as bytes() makes it: U+FFFD for each byte that starts no
 * UTF-8 character, found here the slow way, character by character. */
static json_t *reference_string(const char *p, size_t n)
{
	char *fixed = malloc(3 * n + 1);
	size_t len = 0;
	assert_non_null(fixed);
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		for (size_t t = 1; t <= 4 && t <= n - i && !k; t++)
			if (text_is_utf8(p + i, t))
				k = t;
		memcpy(fixed + len, k ? p + i : "\xef\xbf\xbd", k ? k : 3);
		len += k ? k : 3;
		i += k ? k : 1;
	}
	json_t *s = json_stringn(fixed, len);
	free(fixed);
	assert_non_null(s);
	return s;
}

static void set(json_t *obj, const char *key, json_t *value)
{
	assert_int_equal(json_object_set_new(obj, key, value), 0);
}

/* Encodes line and compares the event with jansson's dump of want. */
static void compare(struct encoder *e, const struct buf *line, json_t *want)
{
	const struct line_context ctx = { .now = parse_now(NOW_TEXT) };
	struct buf out;
	const char *data;
	size_t n;
	buf_init(&out, 0);
	assert_int_equal(encode_line(e, line->data, line->len, &ctx, &out,
	                             &data, &n),
	                 1);
	char *text = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(text);
	size_t len = strlen(text);
	if (n != len + 1 || memcmp(data, text, len) != 0 || data[len] != '\n')
		fail_msg("line %.*s\n  got:  %.*s\n  want: %s", (int)line->len,
		         line->data, (int)n, data, text);
	free(text);
	json_decref(want);
	buf_free(&out);
}

/* The entries of the last user list, for the colours of the messages
 * after it. */
#define MAX_LISTED 40

struct listed {
	struct buf names[MAX_LISTED];
	struct buf colors[MAX_LISTED];
	size_t n;
};

/* The colour a message of name carries: that of the first entry of name
 * in the last list, Gray when that is empty or there is none. */
static json_t *listed_color(const struct listed *l, const struct buf *name)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct buf *n = &l->names[i];
		if (n->len == name->len && memcmp(n->data, name->data, n->len) == 0)
			return l->colors[i].len
			       ? reference_string(l->colors[i].data, l->colors[i].len)
			       : json_string("Gray");
	}
	return json_string("Gray");
}

static void copy(struct buf *to, const struct buf *from)
{
	buf_clear(to);
	assert_int_equal(buf_append(to, from->data, from->len), 0);
}

/* "[14:03:31] <name>> <text>": a message, most often of a listed name. */
static void random_message(struct encoder *e, struct buf *line,
                           struct buf *name, struct buf *text,
                           const struct listed *l)
{
	if (l->n && rnd(4))
		copy(name, &l->names[rnd((unsigned)l->n)]);
	else
		random_string(name, true);
	random_string(text, false);
	buf_clear(line);
	assert_int_equal(buf_append_str(line, "[14:03:31] "), 0);
	assert_int_equal(buf_append(line, name->data, name->len), 0);
	assert_int_equal(buf_append(line, "> ", 2), 0);
	assert_int_equal(buf_append(line, text->data, text->len), 0);
	assert_int_equal(buf_append(line, "\n", 1), 0);
	json_t *want = json_object();
	set(want, "type", json_string("message"));
	set(want, "time", json_string(LINE_TIME));
	set(want, "from", reference_string(name->data, name->len));
	set(want, "color", listed_color(l, name));
	set(want, "text", reference_string(text->data, text->len));
	compare(e, line, want);
}

/* "[14:03:31] Userlist: " and up to MAX_LISTED entries of random names
 * (often one of the list before, now and then one listed before in this
 * one) and colours (an empty one is Gray). */
static void random_users(struct encoder *e, struct buf *line,
                         struct listed *l)
{
	json_t *users = json_array();
	size_t before = l->n;
	buf_clear(line);
	assert_int_equal(buf_append_str(line, "[14:03:31] Userlist: "), 0);
	l->n = rnd(4) ? rnd(6) : rnd(MAX_LISTED + 1);
	for (size_t i = 0; i < l->n; i++) {
		struct buf *name = &l->names[i], *color = &l->colors[i];
		/* Kept: still here, maybe in another colour. */
		bool kept = i < before && rnd(2);
		if (!kept && i && rnd(8) == 0)
			copy(name, &l->names[rnd((unsigned)i)]);
		else if (!kept)
			random_string(name, true);
		random_string(color, true);
		color->len = rnd(3) ? color->len : 0;
		assert_int_equal(buf_append(line, name->data, name->len), 0);
		assert_int_equal(buf_append(line, ":", 1), 0);
		assert_int_equal(buf_append(line, color->data, color->len), 0);
		assert_int_equal(buf_append(line, ",", 1), 0);
		json_t *user = json_object();
		set(user, "name", reference_string(name->data, name->len));
		set(user, "color", color->len ? reference_string(color->data,
		                                                 color->len)
		                              : json_string("Gray"));
		assert_int_equal(json_array_append_new(users, user), 0);
	}
	assert_int_equal(buf_append(line, "\n", 1), 0);
	json_t *want = json_object();
	set(want, "type", json_string("users"));
	set(want, "time", json_string(LINE_TIME));
	set(want, "users", users);
	compare(e, line, want);
}

static void test_random_against_jansson(void **state)
{
	(void)state;
	struct encoder e;
	struct buf line, a, b;
	struct listed l = { .n = 0 };
	set_tz(DEFAULT_TZ);
	encoder_init(&e, WIRE_JSON, true);
	buf_init(&line, 0);
	buf_init(&a, 0);
	buf_init(&b, 0);
	for (size_t i = 0; i < MAX_LISTED; i++) {
		buf_init(&l.names[i], 0);
		buf_init(&l.colors[i], 0);
	}
	for (unsigned i = 0; i < RANDOM_LINES; i++) {
		/* Lists rare in the second half: many senders between two,
		 * and the encoder indexes the list (INDEX_AFTER). */
		if (rnd(i < RANDOM_LINES / 2 ? 8 : 64))
			random_message(&e, &line, &a, &b, &l);
		else
			random_users(&e, &line, &l);
	}
	for (size_t i = 0; i < MAX_LISTED; i++) {
		buf_free(&l.names[i]);
		buf_free(&l.colors[i]);
	}
	buf_free(&line);
	buf_free(&a);
	buf_free(&b);
	encoder_free(&e);
}

int main(void)
{
	struct wire_case *cases;
	size_t n = wire_cases_load(CASES_DIR, "encode", &cases);
	if (n == 0)
		return 1;
	struct CMUnitTest *tests = calloc(n + 1, sizeof *tests);
	if (!tests)
		return 1;
	for (size_t i = 0; i < n; i++) {
		tests[i].name = cases[i].where;
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	tests[n].name = "random messages and user lists against jansson";
	tests[n].test_func = test_random_against_jansson;
	int rc = _cmocka_run_group_tests("encode", tests, n + 1, NULL, NULL);
	free(tests);
	wire_cases_free(cases, n);
	return rc;
}
