/* decode: every case of tests/unit/wire_cases/decode-*.cases (see the
 * README there) through decode_protocol and decode_request. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "decode.h"
#include "refusal.h"
#include "text.h"
#include "support/wire_cases.h"

#define CASES_DIR "tests/unit/wire_cases"

static const char *const kind_names[] = {
	[REQUEST_EMPTY] = "empty",     [REQUEST_TEXT] = "text",
	[REQUEST_MESSAGE] = "message", [REQUEST_PRIVATE] = "private",
	[REQUEST_SIGNAL] = "signal",   [REQUEST_COMMAND] = "command",
	[REQUEST_REFUSED] = "refused",
};

/* A typo in a case file must not make a check silently vanish. */
static void check_keys(const struct wire_case *c)
{
	static const char *const known[] = { "proto", "in", "kind", "text",
	                                     "refusal", "scratch", "query",
	                                     "protocol" };
	for (size_t i = 0; i < c->n; i++) {
		bool ok = false;
		for (size_t k = 0; k < sizeof known / sizeof *known; k++)
			ok = ok || strcmp(c->fields[i].key, known[k]) == 0;
		if (!ok)
			fail_msg("line %u: unknown key \"%s\"", c->fields[i].line,
			         c->fields[i].key);
	}
}

static const char *need(const struct wire_case *c, const char *key,
                        size_t *len)
{
	const char *v = wire_case_get(c, key, len);
	if (!v)
		fail_msg("the case has no \"%s\"", key);
	return v;
}

/* "query" absent means no QUERY_STRING at all (NULL). */
static void run_protocol(const struct wire_case *c)
{
	enum wire_proto p = decode_protocol(wire_case_get(c, "query", NULL));
	assert_string_equal(p == WIRE_JSON ? "json" : "legacy",
	                    need(c, "protocol", NULL));
}

static enum wire_proto proto_of(const struct wire_case *c)
{
	const char *p = need(c, "proto", NULL);
	if (strcmp(p, "json") == 0)
		return WIRE_JSON;
	if (strcmp(p, "legacy") != 0)
		fail_msg("proto must be legacy or json, not \"%s\"", p);
	return WIRE_LEGACY;
}

/* What every request must be, whatever the case expects of it. */
static void check_invariants(const struct request *rq)
{
	assert_non_null(rq->text);
	assert_int_equal(rq->text[rq->len], '\0');
	if (rq->kind == REQUEST_REFUSED)
		return;
	assert_true(text_is_utf8(rq->text, rq->len));
	char *copy = malloc(rq->len + 1);
	assert_non_null(copy);
	memcpy(copy, rq->text, rq->len);
	assert_int_equal(text_strip_controls(copy, rq->len), rq->len);
	free(copy);
}

static void check_outcome(const struct wire_case *c, const struct request *rq)
{
	assert_string_equal(kind_names[rq->kind], need(c, "kind", NULL));
	if (rq->kind == REQUEST_REFUSED) {
		assert_string_equal(refusal_code(rq->refusal),
		                    need(c, "refusal", NULL));
		return;
	}
	size_t len = 0;
	const char *text = wire_case_get(c, "text", &len);
	if (!text && rq->kind != REQUEST_EMPTY)
		fail_msg("the case has no \"text\"");
	assert_int_equal(rq->len, text ? len : 0);
	if (text)
		assert_memory_equal(rq->text, text, len);
}

static void run_request(const struct wire_case *c)
{
	size_t len;
	const char *in = need(c, "in", &len);
	const char *cap = wire_case_get(c, "scratch", NULL);
	/* Exactly the line and its terminator, so ASan sees a read past. */
	char *line = malloc(len + 1);
	assert_non_null(line);
	memcpy(line, in, len);
	line[len] = '\0';
	struct buf scratch;
	buf_init(&scratch, cap ? strtoul(cap, NULL, 10) : 0);
	/* What a previous request left must not show through. */
	assert_int_equal(buf_append_str(&scratch, "st"), 0);
	struct request rq;
	memset(&rq, 0x5a, sizeof rq);
	decode_request(proto_of(c), line, len, &rq, &scratch);
	assert_in_range(rq.kind, REQUEST_EMPTY, REQUEST_REFUSED);
	check_invariants(&rq);
	check_outcome(c, &rq);
	buf_free(&scratch);
	free(line);
}

static void run_case(void **state)
{
	const struct wire_case *c = *state;
	check_keys(c);
	if (wire_case_get(c, "protocol", NULL))
		run_protocol(c);
	else
		run_request(c);
}

static void test_refusal_codes(void **state)
{
	(void)state;
	/* Every code is named, distinct, and a stray value is "server". */
	for (int i = 0; i < REFUSAL_COUNT; i++) {
		const char *code = refusal_code((enum refusal)i);
		assert_non_null(code);
		assert_true(i == REFUSAL_SERVER || strcmp(code, "server") != 0);
		for (int k = 0; k < i; k++)
			assert_string_not_equal(code,
			                        refusal_code((enum refusal)k));
	}
	assert_string_equal(refusal_code(REFUSAL_COUNT), "server");
	assert_string_equal(refusal_code((enum refusal)-1), "server");
}

int main(void)
{
	struct wire_case *cases;
	size_t n = wire_cases_load(CASES_DIR, "decode", &cases);
	if (n == 0)
		return 1;
	struct CMUnitTest *tests = calloc(n + 1, sizeof *tests);
	if (!tests)
		return 1;
	tests[0] = (struct CMUnitTest)cmocka_unit_test(test_refusal_codes);
	for (size_t i = 0; i < n; i++) {
		tests[i + 1].name = cases[i].where;
		tests[i + 1].test_func = run_case;
		tests[i + 1].initial_state = &cases[i];
	}
	int rc = _cmocka_run_group_tests("decode", tests, n + 1, NULL, NULL);
	free(tests);
	wire_cases_free(cases, n);
	return rc;
}
