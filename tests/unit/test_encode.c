/* encode: every case of tests/unit/wire_cases/encode-*.cases (see the
 * README there) through one encoder per case, step by step. */
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
	REFUSAL_NAME(REFUSAL_CONFIG),
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
	struct welcome w = { p[0], p[1], p[2], atoi(p[3]), p[4] };
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

int main(void)
{
	struct wire_case *cases;
	size_t n = wire_cases_load(CASES_DIR, "encode", &cases);
	if (n == 0)
		return 1;
	struct CMUnitTest *tests = calloc(n, sizeof *tests);
	if (!tests)
		return 1;
	for (size_t i = 0; i < n; i++) {
		tests[i].name = cases[i].where;
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	int rc = _cmocka_run_group_tests("encode", tests, n, NULL, NULL);
	free(tests);
	wire_cases_free(cases, n);
	return rc;
}
