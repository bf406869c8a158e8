#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "command.h"
#include "presence.h"
#include "support/tmpdir.h"

/* A scripted random source: hands out values[] in order. */
struct fake_rng {
	const uint32_t *values;
	size_t n, next;
	uint32_t last_bound;
	bool fail;
};

static int fake_uniform(void *ctx, uint32_t bound, uint32_t *out)
{
	struct fake_rng *r = ctx;
	r->last_bound = bound;
	if (r->fail || r->next == r->n) {
		errno = EIO;
		return -1;
	}
	*out = r->values[r->next++];
	return 0;
}

/* /color through presence, as the files transport does it. */
static int recolor(void *ctx, const char *color)
{
	return presence_set_color(ctx, color);
}

struct fixture {
	char dir[64];
	int users_fd;
	struct presence p;
	struct fake_rng rng;
	struct command_env env;
	struct buf result;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_true(tmpdir_make(f->dir, sizeof f->dir, "test_command"));
	char users[128];
	snprintf(users, sizeof users, "%s/users", f->dir);
	f->users_fd = presence_open_dir(users, 0750);
	assert_true(f->users_fd >= 0);
	assert_int_equal(presence_claim(&f->p, f->users_fd, 0640, "lobby",
	                                "Alice", "red"), 0);
	assert_string_equal(f->p.name, "Alice");
	f->env.recolor = recolor;
	f->env.recolor_ctx = &f->p;
	f->env.rng = fake_uniform;
	f->env.rng_ctx = &f->rng;
	buf_init(&f->result, 4096);
	assert_int_equal(buf_append_str(&f->result, "stale"), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	presence_release(&f->p);
	close(f->users_fd);
	buf_free(&f->result);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void script(struct fixture *f, const uint32_t *values, size_t n)
{
	f->rng.values = values;
	f->rng.n = n;
	f->rng.next = 0;
}

static enum command_outcome run(struct fixture *f, const char *line)
{
	return command_run(line, strlen(line), &f->env, &f->result);
}

static const char *result(const struct fixture *f)
{
	return f->result.len ? f->result.data : "";
}

/* The whole content of Alice's presence file. */
static void expect_presence_file(struct fixture *f, const char *want)
{
	char text[64];
	assert_string_equal(tmpdir_read(f->users_fd, "lobby_Alice", text,
	                                sizeof text), want);
}

static void expect_listed_color(struct fixture *f, const char *color)
{
	struct presence_list l = { 0 };
	assert_int_equal(presence_list(f->users_fd, "lobby", &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].name, "Alice");
	assert_string_equal(l.v[0].color, color);
	presence_list_free(&l);
}

static void test_dice_routed(void **state)
{
	struct fixture *f = *state;
	static const uint32_t v[] = { 3, 0, 5 };
	script(f, v, 3);
	assert_int_equal(run(f, "/dice 3 6 0"), COMMAND_RESULT);
	assert_string_equal(result(f),
	                    " Throws 3 6-sided dice, throws again on 0: 4, 1, 6");
	assert_int_equal(f->rng.next, 3);
	assert_int_equal(f->rng.last_bound, 6);
}

static void test_dice_explodes(void **state)
{
	struct fixture *f = *state;
	static const uint32_t v[] = { 5, 2, 1 };
	script(f, v, 3);
	assert_int_equal(run(f, "/dice 2 6 6"), COMMAND_RESULT);
	assert_string_equal(result(f),
	                    " Throws 2 6-sided dice, throws again on 6: 6, 3, 2");
}

static void test_dice_usage(void **state)
{
	struct fixture *f = *state;
	script(f, NULL, 0);
	assert_int_equal(run(f, "/dice"), COMMAND_RESULT);
	assert_string_equal(result(f), " Bad dice syntax, usage: /dice dice_count "
	                               "number_of_dice_sides "
	                               "target_number_for_throw_again");
	assert_int_equal(run(f, "/dice a b c"), COMMAND_RESULT);
	assert_string_equal(result(f), " Bad dice syntax, input is not numeric");
	assert_int_equal(f->rng.next, 0);
}

static void test_dice_rng_failure(void **state)
{
	struct fixture *f = *state;
	f->rng.fail = true;
	assert_int_equal(run(f, "/dice 1 6 0"), COMMAND_FAILED);
}

static void test_dicex_unknown(void **state)
{
	struct fixture *f = *state;
	script(f, NULL, 0);
	assert_int_equal(run(f, "/dicex 1 6 6"), COMMAND_RESULT);
	assert_string_equal(result(f), " unknown command /dicex 1 6 6");
	assert_int_equal(f->rng.next, 0);
}

static void test_color_missing(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "/color"), COMMAND_RESULT);
	assert_string_equal(result(f), " Not changed color, missing color number");
	assert_int_equal(run(f, "/color   "), COMMAND_RESULT);
	assert_string_equal(result(f), " Not changed color, missing color number");
	expect_presence_file(f, "red\n");
}

static void test_color_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"/color red;background:url(x)", "/color <script>", "/color #12",
		"/color #ggg", "/color rgb(1,2,3)", "/color url(x)",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(run(f, bad[i]), COMMAND_REFUSED);
		assert_non_null(strstr(result(f), "Not changed color"));
		assert_null(strstr(result(f), "Changed color to"));
	}
	expect_presence_file(f, "red\n");
	expect_listed_color(f, "red");
}

static void test_color_changed(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "/color #0f0"), COMMAND_RESULT_USERLIST);
	assert_string_equal(result(f), " Changed color to #0f0");
	expect_presence_file(f, "#0f0\n");
	expect_listed_color(f, "#0f0");
}

static void test_color_name_and_extra_words(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "/color   DarkOrange and more"),
	                 COMMAND_RESULT_USERLIST);
	assert_string_equal(result(f), " Changed color to DarkOrange");
	expect_presence_file(f, "DarkOrange\n");
}

static void test_colorx_unknown(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "/colour #0f0"), COMMAND_RESULT);
	assert_string_equal(result(f), " unknown command /colour #0f0");
	assert_int_equal(run(f, "/color#0f0"), COMMAND_RESULT);
	assert_string_equal(result(f), " unknown command /color#0f0");
	expect_presence_file(f, "red\n");
}

static void test_unknown_command(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "/foo bar"), COMMAND_RESULT);
	assert_string_equal(result(f), " unknown command /foo bar");
	assert_int_equal(run(f, "/"), COMMAND_RESULT);
	assert_string_equal(result(f), " unknown command /");
	assert_int_equal(run(f, "/Dice 1 6 6"), COMMAND_RESULT);
	assert_string_equal(result(f), " unknown command /Dice 1 6 6");
}

static void test_unknown_command_uses_len(void **state)
{
	struct fixture *f = *state;
	static const char line[] = "/foo bar and then some";
	assert_int_equal(command_run(line, 8, &f->env, &f->result),
	                 COMMAND_RESULT);
	assert_string_equal(result(f), " unknown command /foo bar");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dice_routed),
		T(test_dice_explodes),
		T(test_dice_usage),
		T(test_dice_rng_failure),
		T(test_dicex_unknown),
		T(test_color_missing),
		T(test_color_refused),
		T(test_color_changed),
		T(test_color_name_and_extra_words),
		T(test_colorx_unknown),
		T(test_unknown_command),
		T(test_unknown_command_uses_len),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
