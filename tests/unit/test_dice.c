#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dice.h"

/* A scripted die: faces are given 1-based as a player would read them; past
 * the end of the script the last face repeats. */
struct script {
	const uint32_t *faces;
	size_t n;
	size_t calls;
	uint32_t want_bound; /* 0: any */
	size_t fail_at;      /* call number that fails, 0: never */
	int out_of_range;    /* hand back bound itself, which is impossible */
};

static int scripted(void *ctx, uint32_t bound, uint32_t *out)
{
	struct script *s = ctx;
	size_t i = s->calls++;

	if (s->want_bound)
		assert_int_equal(bound, s->want_bound);
	if (s->fail_at && s->calls == s->fail_at) {
		errno = EIO;
		return -1;
	}
	if (s->out_of_range) {
		*out = bound;
		return 0;
	}
	uint32_t face = s->faces[i < s->n ? i : s->n - 1];
	assert_true(face >= 1 && face <= bound);
	*out = face - 1;
	return 0;
}

static int never_called(void *ctx, uint32_t bound, uint32_t *out)
{
	(void)ctx;
	(void)bound;
	(void)out;
	fail_msg("the random source was used");
	return -1;
}

#define SCRIPT(...)                                                    \
	(struct script)                                                \
	{                                                              \
		.faces = (const uint32_t[]){ __VA_ARGS__ },            \
		.n = sizeof((const uint32_t[]){ __VA_ARGS__ }) /       \
		     sizeof(uint32_t),                                 \
	}

static void run_ok(const char *args, struct script *s, const char *want)
{
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(dice_command(args, scripted, s, &out), 0);
	assert_non_null(out.data);
	assert_string_equal(out.data, want);
	buf_free(&out);
}

static void run_error(const char *args, const char *want)
{
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(dice_command(args, never_called, NULL, &out), 0);
	assert_string_equal(out.data, want);
	buf_free(&out);
}

static enum dice_parse parse(const char *args, struct dice_request *req)
{
	memset(req, 0xAB, sizeof *req);
	return dice_parse(args, req);
}

static void test_parse_ok(void **state)
{
	(void)state;
	struct dice_request r;

	assert_int_equal(parse("2 6 6", &r), DICE_OK);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.sides, 6);
	assert_int_equal(r.again, 6);

	assert_int_equal(parse("   3    20   0   ", &r), DICE_OK);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.sides, 20);
	assert_int_equal(r.again, 0);

	assert_int_equal(parse("007 0001 010", &r), DICE_OK);
	assert_int_equal(r.count, 7);
	assert_int_equal(r.sides, 1);
	assert_int_equal(r.again, 10);

	assert_int_equal(parse("0 1000000 1", &r), DICE_OK);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.sides, DICE_MAX_SIDES);
}

static void test_parse_extra_args_ignored(void **state)
{
	(void)state;
	struct dice_request r;
	assert_int_equal(parse("1 6 6 7", &r), DICE_OK);
	assert_int_equal(parse("1 6 6 x", &r), DICE_OK);
	assert_int_equal(parse("1 6 6 -1 ; rm", &r), DICE_OK);
	assert_int_equal(r.count, 1);
}

static void test_parse_usage(void **state)
{
	(void)state;
	struct dice_request r;
	assert_int_equal(parse(NULL, &r), DICE_USAGE);
	assert_int_equal(parse("", &r), DICE_USAGE);
	assert_int_equal(parse("     ", &r), DICE_USAGE);
	assert_int_equal(parse("1", &r), DICE_USAGE);
	assert_int_equal(parse("1 6", &r), DICE_USAGE);
	assert_int_equal(parse("  1   6  ", &r), DICE_USAGE);
	/* Too few wins over not numeric. */
	assert_int_equal(parse("a b", &r), DICE_USAGE);
}

static void test_parse_not_numeric(void **state)
{
	(void)state;
	struct dice_request r;
	assert_int_equal(parse("x 6 6", &r), DICE_NOT_NUMERIC);
	assert_int_equal(parse("1 x 6", &r), DICE_NOT_NUMERIC);
	assert_int_equal(parse("1 6 x", &r), DICE_NOT_NUMERIC);
	assert_int_equal(parse("-1 6 6", &r), DICE_NOT_NUMERIC);
	assert_int_equal(parse("+1 6 6", &r), DICE_NOT_NUMERIC);
	assert_int_equal(parse("1 6 -1", &r), DICE_NOT_NUMERIC);
	assert_int_equal(parse("1.5 6 6", &r), DICE_NOT_NUMERIC);
	assert_int_equal(parse("1 6 6x", &r), DICE_NOT_NUMERIC);
	assert_int_equal(parse("0x10 6 6", &r), DICE_NOT_NUMERIC);
	/* A fullwidth digit is not a decimal digit here. */
	assert_int_equal(parse("１ 6 6", &r), DICE_NOT_NUMERIC);
	/* Not numeric wins over bad sides. */
	assert_int_equal(parse("x 0 6", &r), DICE_NOT_NUMERIC);
	assert_int_equal(parse("1 0 x", &r), DICE_NOT_NUMERIC);
}

static void test_parse_bad_sides(void **state)
{
	(void)state;
	struct dice_request r;
	assert_int_equal(parse("1 0 6", &r), DICE_BAD_SIDES);
	assert_int_equal(parse("1 000 6", &r), DICE_BAD_SIDES);
	assert_int_equal(parse("1 1000001 6", &r), DICE_BAD_SIDES);
	assert_int_equal(parse("1 4294967297 6", &r), DICE_BAD_SIDES);
	assert_int_equal(parse("1 18446744073709551617 6", &r), DICE_BAD_SIDES);
	assert_int_equal(parse("1 99999999999999999999999999999 6", &r),
	                 DICE_BAD_SIDES);
}

static void test_parse_saturates(void **state)
{
	(void)state;
	struct dice_request r;
	assert_int_equal(parse("18446744073709551615 6 18446744073709551615",
	                       &r),
	                 DICE_OK);
	assert_int_equal(r.count, UINT64_MAX);
	assert_int_equal(r.again, UINT64_MAX);
	assert_int_equal(parse("18446744073709551616 6 99999999999999999999999",
	                       &r),
	                 DICE_OK);
	assert_int_equal(r.count, UINT64_MAX);
	assert_int_equal(r.again, UINT64_MAX);
	assert_int_equal(parse("18446744073709551614 6 1", &r), DICE_OK);
	assert_int_equal(r.count, UINT64_MAX - 1);
}

static void test_error_sentences(void **state)
{
	(void)state;
	run_error("", " Bad dice syntax, usage: /dice dice_count "
	              "number_of_dice_sides target_number_for_throw_again");
	run_error(" 1 6", " Bad dice syntax, usage: /dice dice_count "
	                  "number_of_dice_sides target_number_for_throw_again");
	run_error(" 1 six 6", " Bad dice syntax, input is not numeric");
	run_error(" 1 0 6", " Bad dice syntax, number of dice sides must be "
	                    "between 1 and 1000000");
	run_error(" 1 1000001 6", " Bad dice syntax, number of dice sides must "
	                          "be between 1 and 1000000");
}

static void test_example_from_contract(void **state)
{
	(void)state;
	struct script s = SCRIPT(4, 6, 2);
	s.want_bound = 6;
	run_ok(" 2 6 6", &s, " Throws 2 6-sided dice, throws again on 6: 4, 6, 2");
	assert_int_equal(s.calls, 3);
}

static void test_no_explosion_below_two(void **state)
{
	(void)state;
	struct script s = SCRIPT(6, 6, 6);
	run_ok("3 6 1", &s, " Throws 3 6-sided dice, throws again on 1: 6, 6, 6");
	assert_int_equal(s.calls, 3);

	s = SCRIPT(6, 6, 6);
	run_ok("3 6 0", &s, " Throws 3 6-sided dice, throws again on 0: 6, 6, 6");
	assert_int_equal(s.calls, 3);
}

static void test_chained_explosions(void **state)
{
	(void)state;
	struct script s = SCRIPT(5, 6, 5, 2, 1);
	run_ok("2 6 5", &s,
	       " Throws 2 6-sided dice, throws again on 5: 5, 6, 5, 2, 1");
	assert_int_equal(s.calls, 5);

	/* Z above the sides never explodes. */
	s = SCRIPT(6, 6);
	run_ok("2 6 7", &s, " Throws 2 6-sided dice, throws again on 7: 6, 6");
}

static void test_zero_dice(void **state)
{
	(void)state;
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(dice_command("0 6 6", never_called, NULL, &out), 0);
	assert_string_equal(out.data, " Throws 0 6-sided dice, throws again on 6: ");
	buf_free(&out);
}

static void test_one_sided_and_max_sided(void **state)
{
	(void)state;
	struct script s = SCRIPT(1);
	s.want_bound = 1;
	run_ok("3 1 2", &s, " Throws 3 1-sided dice, throws again on 2: 1, 1, 1");

	s = SCRIPT(1000000, 999999);
	s.want_bound = 1000000;
	run_ok("1 1000000 1000000", &s,
	       " Throws 1 1000000-sided dice, throws again on 1000000: "
	       "1000000, 999999");
}

static void test_again_printed_as_number(void **state)
{
	(void)state;
	struct script s = SCRIPT(3);
	run_ok("1 6 0006", &s, " Throws 1 6-sided dice, throws again on 6: 3");
	s = SCRIPT(6);
	run_ok("1 6 99999999999999999999999", &s,
	       " Throws 1 6-sided dice, throws again on "
	       "18446744073709551615: 6");
	s = SCRIPT(2);
	run_ok("002 06 1", &s,
	       " Throws 2 6-sided dice, throws again on 1: 2, 2");
}

/* " Throws <count> 6-sided dice, throws again on <again>: " + faces. */
static void expect_many(const char *args, struct script *s, const char *prefix,
                        uint64_t count, const char *again, size_t values,
                        const char *suffix)
{
	struct buf want;
	char head[128];

	buf_init(&want, 0);
	snprintf(head, sizeof head,
	         "%s Throws %" PRIu64 " 6-sided dice, throws again on %s: ",
	         prefix, count, again);
	assert_int_equal(buf_append_str(&want, head), 0);
	for (size_t i = 0; i < values; i++) {
		char v[16];
		uint32_t face = s->faces[i < s->n ? i : s->n - 1];
		snprintf(v, sizeof v, "%s%" PRIu32, i ? ", " : "", face);
		assert_int_equal(buf_append_str(&want, v), 0);
	}
	assert_int_equal(buf_append_str(&want, suffix), 0);
	run_ok(args, s, want.data);
	assert_int_equal(s->calls, values);
	buf_free(&want);
}

#define CAP_NOTE " Max dice number is grater than 100 throwing only first 100 dice."

static void test_count_capped(void **state)
{
	(void)state;
	struct script s = SCRIPT(3);
	expect_many("150 6 7", &s, CAP_NOTE, 100, "7", 100, "");

	s = SCRIPT(3);
	expect_many("101 6 7", &s, CAP_NOTE, 100, "7", 100, "");

	s = SCRIPT(3);
	expect_many("100 6 7", &s, "", 100, "7", 100, "");

	s = SCRIPT(3);
	expect_many("99999999999999999999999 6 7", &s, CAP_NOTE, 100, "7", 100,
	            "");
}

static void test_throw_cap(void **state)
{
	(void)state;
	struct script s = SCRIPT(6);
	expect_many("1 6 2", &s, "", 1, "2", DICE_MAX_THROWS,
	            " (stopped after 1000 throws)");

	s = SCRIPT(6);
	expect_many("500 6 6", &s, CAP_NOTE, 100, "6", DICE_MAX_THROWS,
	            " (stopped after 1000 throws)");
}

static void test_exactly_at_throw_cap(void **state)
{
	(void)state;
	static uint32_t faces[DICE_MAX_THROWS];

	/* 900 explosions of the first die, then 100 plain values: exactly
	 * 1000 values and nothing more due, so no note. */
	for (size_t i = 0; i < DICE_MAX_THROWS; i++)
		faces[i] = i < 900 ? 6 : 1;
	struct script s = { .faces = faces, .n = DICE_MAX_THROWS };
	expect_many("100 6 6", &s, "", 100, "6", DICE_MAX_THROWS, "");

	/* The same, but the last value explodes: a throw is still due. */
	faces[DICE_MAX_THROWS - 1] = 6;
	s = (struct script){ .faces = faces, .n = DICE_MAX_THROWS };
	expect_many("100 6 6", &s, "", 100, "6", DICE_MAX_THROWS,
	            " (stopped after 1000 throws)");
}

static void test_appends_to_out(void **state)
{
	(void)state;
	struct buf out;
	struct script s = SCRIPT(2);

	buf_init(&out, 0);
	assert_int_equal(buf_append_str(&out, "before:"), 0);
	assert_int_equal(dice_command("1 6 6", scripted, &s, &out), 0);
	assert_string_equal(out.data,
	                    "before: Throws 1 6-sided dice, throws again on 6: 2");
	assert_int_equal(dice_command("x", scripted, &s, &out), 0);
	assert_string_equal(out.data,
	                    "before: Throws 1 6-sided dice, throws again on 6: 2"
	                    " Bad dice syntax, usage: /dice dice_count "
	                    "number_of_dice_sides target_number_for_throw_again");
	buf_free(&out);
}

static void test_rng_failure(void **state)
{
	(void)state;
	struct buf out;

	for (size_t at = 1; at <= 4; at++) {
		struct script s = SCRIPT(6, 6, 1, 1);
		s.fail_at = at;
		buf_init(&out, 0);
		assert_int_equal(buf_append_str(&out, "keep"), 0);
		errno = 0;
		assert_int_equal(dice_command("2 6 6", scripted, &s, &out), -1);
		assert_int_equal(errno, EIO);
		assert_int_equal(s.calls, at);
		/* Nothing of the half-made result is left behind. */
		assert_string_equal(out.data, "keep");
		buf_free(&out);
	}
}

static void test_rng_out_of_range(void **state)
{
	(void)state;
	struct buf out;
	struct script s = SCRIPT(1);
	s.out_of_range = 1;
	buf_init(&out, 0);
	assert_int_equal(dice_command("1 6 6", scripted, &s, &out), -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_out_full(void **state)
{
	(void)state;
	struct buf out;
	struct script s = SCRIPT(6);

	buf_init(&out, 60);
	errno = 0;
	assert_int_equal(dice_command("100 6 6", scripted, &s, &out), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(out.len, 0);
	assert_int_equal(dice_command("1 6", scripted, &s, &out), -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);

	/* The longest result fits easily in a few kilobytes. */
	s = SCRIPT(1000000);
	buf_init(&out, 16 * 1024);
	assert_int_equal(dice_command("1 1000000 2", scripted, &s, &out), 0);
	buf_free(&out);
}

static void test_real_rng(void **state)
{
	(void)state;
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(dice_command(" 50 6 0", rng_uniform, NULL, &out), 0);
	const char *head = " Throws 50 6-sided dice, throws again on 0: ";
	assert_memory_equal(out.data, head, strlen(head));
	const char *p = out.data + strlen(head);
	for (int i = 0; i < 50; i++) {
		assert_true(*p >= '1' && *p <= '6');
		p++;
		if (i < 49) {
			assert_memory_equal(p, ", ", 2);
			p += 2;
		}
	}
	assert_int_equal(*p, '\0');
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_extra_args_ignored),
		cmocka_unit_test(test_parse_usage),
		cmocka_unit_test(test_parse_not_numeric),
		cmocka_unit_test(test_parse_bad_sides),
		cmocka_unit_test(test_parse_saturates),
		cmocka_unit_test(test_error_sentences),
		cmocka_unit_test(test_example_from_contract),
		cmocka_unit_test(test_no_explosion_below_two),
		cmocka_unit_test(test_chained_explosions),
		cmocka_unit_test(test_zero_dice),
		cmocka_unit_test(test_one_sided_and_max_sided),
		cmocka_unit_test(test_again_printed_as_number),
		cmocka_unit_test(test_count_capped),
		cmocka_unit_test(test_throw_cap),
		cmocka_unit_test(test_exactly_at_throw_cap),
		cmocka_unit_test(test_appends_to_out),
		cmocka_unit_test(test_rng_failure),
		cmocka_unit_test(test_rng_out_of_range),
		cmocka_unit_test(test_out_full),
		cmocka_unit_test(test_real_rng),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
