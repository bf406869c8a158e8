#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moderation.h"
#include "refusal.h"
#include "support/tmpdir.h"

#define NOW ((time_t)1800000000)

static int parse(const char *line, struct mod_command *cmd, char *err)
{
	return moderation_parse(line, strlen(line), cmd, err, 160);
}

static void test_parse_commands(void **state)
{
	(void)state;
	struct mod_command c;
	char err[160];
	assert_int_equal(parse("/kick Bob", &c, err), 1);
	assert_int_equal(c.action, MOD_KICK);
	assert_string_equal(c.target, "Bob");
	assert_string_equal(c.text, "");
	assert_int_equal(parse("/kick  Bob   spamming: a lot  ", &c, err), 1);
	assert_string_equal(c.target, "Bob");
	assert_string_equal(c.text, "spamming: a lot");
	assert_int_equal(parse("/mute Bob 10", &c, err), 1);
	assert_int_equal(c.action, MOD_MUTE);
	assert_int_equal(c.minutes, 10);
	assert_int_equal(parse("/unmute Bob", &c, err), 1);
	assert_int_equal(c.action, MOD_UNMUTE);
	assert_int_equal(parse("/ban Bob 60 go away", &c, err), 1);
	assert_int_equal(c.action, MOD_BAN);
	assert_false(c.by_address);
	assert_int_equal(c.minutes, 60);
	assert_string_equal(c.text, "go away");
	assert_int_equal(parse("/ban 203.0.113.9 5", &c, err), 1);
	assert_true(c.by_address);
	assert_string_equal(c.target, "203.0.113.9");
	assert_int_equal(parse("/ban 2001:DB8::0:1 5", &c, err), 1);
	assert_true(c.by_address);
	assert_string_equal(c.target, "2001:db8::1"); /* canonical */
	assert_int_equal(parse("/unban 2001:db8::1", &c, err), 1);
	assert_true(c.by_address);
	assert_int_equal(parse("/lock", &c, err), 1);
	assert_int_equal(c.action, MOD_LOCK);
	assert_int_equal(parse("/unlock", &c, err), 1);
	assert_int_equal(c.action, MOD_UNLOCK);
	assert_int_equal(parse("/topic  Be nice ", &c, err), 1);
	assert_int_equal(c.action, MOD_TOPIC);
	assert_string_equal(c.text, "Be nice");
	assert_int_equal(parse("/topic", &c, err), 1);
	assert_string_equal(c.text, "");
}

static void test_parse_refusals(void **state)
{
	(void)state;
	struct mod_command c;
	char err[160], big[700];
	const char *bad[] = {
		"/kick", "/kick Bo/b", "/mute Bob", "/mute Bob 0", "/mute Bob x",
		"/mute Bob 525601", "/mute Bob 10 extra", "/unmute", "/ban Bob",
		"/ban Bob -1", "/unban", "/lock now", "/unlock x",
		"/ban ../x 10", "/kick a:b",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		int rc = parse(bad[i], &c, err);
		if (rc != -1)
			fail_msg("%s: %d", bad[i], rc);
		assert_true(strncmp(err, "usage: ", 7) == 0);
	}
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "/topic ", 7);
	assert_int_equal(parse(big, &c, err), -1);
	assert_int_equal(parse("/topic a\x01b", &c, err), -1);
	assert_int_equal(parse("/topic a\tb", &c, err), 1);
	/* Not moderation: other commands, and longer words. */
	assert_int_equal(parse("/dice 2", &c, err), 0);
	assert_int_equal(parse("/kicker Bob", &c, err), 0);
	assert_int_equal(parse("/topical", &c, err), 0);
}

static void test_results(void **state)
{
	(void)state;
	struct mod_command c;
	char err[160];
	struct buf out;
	buf_init(&out, 0);
	const char *cases[][2] = {
		{ "/kick Bob spam", " Kicked Bob: spam" },
		{ "/kick Bob", " Kicked Bob" },
		{ "/mute Bob 10", " Muted Bob for 10 minutes" },
		{ "/unmute Bob", " Unmuted Bob" },
		{ "/ban Bob 60 x y", " Banned Bob for 60 minutes: x y" },
		{ "/ban ::1 1", " Banned ::1 for 1 minutes" },
		{ "/unban Bob", " Unbanned Bob" },
		{ "/lock", " Locked the room to verified members" },
		{ "/unlock", " Unlocked the room" },
		{ "/topic Hi all", " Set the topic: Hi all" },
		{ "/topic", " Cleared the topic" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		assert_int_equal(parse(cases[i][0], &c, err), 1);
		assert_int_equal(moderation_result(&c, &out), 0);
		assert_string_equal(out.data, cases[i][1]);
	}
	buf_free(&out);
}

static void apply(struct mod_state *st, const char *line, time_t now)
{
	struct mod_command c;
	char err[160];
	assert_int_equal(parse(line, &c, err), 1);
	assert_int_equal(moderation_apply(st, &c, "Alice", now), 0);
}

static void test_state_round_trip(void **state)
{
	(void)state;
	struct mod_state st, back;
	struct buf text;
	buf_init(&text, 0);
	moderation_state_init(&st);
	apply(&st, "/ban Bob 60 spam \"quoted\"", NOW);
	apply(&st, "/ban 203.0.113.9 10", NOW);
	apply(&st, "/mute Carol 5", NOW);
	apply(&st, "/lock", NOW);
	apply(&st, "/topic Be nice", NOW);
	assert_int_equal(moderation_format_state(&st, &text), 0);
	assert_int_equal(moderation_parse_state(text.data, text.len, NOW, &back), 0);
	assert_string_equal(back.topic, "Be nice");
	assert_true(back.locked);
	assert_int_equal(back.nbans, 2);
	assert_int_equal(back.nmutes, 1);
	const struct mod_entry *b = moderation_banned(&back, "Bob", "", NOW);
	assert_non_null(b);
	assert_string_equal(b->by, "Alice");
	assert_string_equal(b->text, "spam \"quoted\"");
	assert_int_equal(b->until, NOW + 3600);
	assert_non_null(moderation_banned(&back, "Zed", "203.0.113.9", NOW));
	assert_null(moderation_banned(&back, "Zed", "203.0.113.8", NOW));
	assert_null(moderation_banned(&back, "Bob", "", NOW + 3600));
	assert_non_null(moderation_muted(&back, "Carol", NOW + 299));
	assert_null(moderation_muted(&back, "Carol", NOW + 300));
	assert_null(moderation_muted(&back, "Bob", NOW));
	assert_int_equal(moderation_minutes_left(NOW + 61, NOW), 2);
	/* Undone. */
	apply(&back, "/unban Bob", NOW);
	apply(&back, "/unban 203.0.113.9", NOW);
	apply(&back, "/unmute Carol", NOW);
	apply(&back, "/unlock", NOW);
	apply(&back, "/topic", NOW);
	assert_int_equal(back.nbans, 0);
	assert_int_equal(back.nmutes, 0);
	assert_false(back.locked);
	assert_string_equal(back.topic, "");
	/* A second mute replaces the first. */
	apply(&back, "/mute Carol 5", NOW);
	apply(&back, "/mute Carol 1", NOW);
	assert_int_equal(back.nmutes, 1);
	assert_int_equal(back.mutes[0].until, NOW + 60);
	moderation_state_free(&st);
	moderation_state_free(&back);
	buf_free(&text);
}

static void test_parse_state_tolerates(void **state)
{
	(void)state;
	struct mod_state st;
	const char *text =
		"{\"topic\":5,\"locked\":\"yes\",\"bans\":[1,{\"name\":\"A\"},"
		"{\"name\":\"B\",\"until\":1},{\"name\":\"C\",\"until\":1900000000},"
		"{\"address\":\"nope\",\"until\":1900000000},"
		"{\"address\":\"::ffff:1.2.3.4\",\"until\":1900000000},"
		"{\"name\":\"D\",\"address\":\"1.2.3.4\",\"until\":1900000000}],"
		"\"mutes\":{\"x\":1}}";
	assert_int_equal(moderation_parse_state(text, strlen(text), NOW, &st), 0);
	assert_string_equal(st.topic, "");
	assert_false(st.locked);
	assert_int_equal(st.nbans, 2); /* C, and the mapped address */
	assert_int_equal(st.nmutes, 0);
	assert_non_null(moderation_banned(&st, "C", NULL, NOW));
	moderation_state_free(&st);
	assert_int_equal(moderation_parse_state("[]", 2, NOW, &st), -1);
	assert_int_equal(moderation_parse_state("{", 1, NOW, &st), -1);
	assert_int_equal(moderation_parse_state("{\"topic\":\"a\",\"topic\":\"b\"}",
	                                        25, NOW, &st), -1);
}

static void test_files(void **state)
{
	struct tmpdir *t = *state;
	struct mod_state st;
	struct mod_command c;
	char err[160], text[4096];
	assert_int_equal(moderation_load(t->fd, "lobby", NOW, &st), 0);
	assert_int_equal(st.nbans, 0);
	moderation_state_free(&st);
	assert_int_equal(parse("/ban Bob 1 bye", &c, err), 1);
	assert_int_equal(moderation_update(t->fd, "lobby", 0640, &c, "Alice",
	                                   NOW, &st), 0);
	moderation_state_free(&st);
	assert_int_equal(parse("/topic Hello", &c, err), 1);
	assert_int_equal(moderation_update(t->fd, "lobby", 0640, &c, "Alice",
	                                   NOW, &st), 0);
	assert_int_equal(st.nbans, 1);
	moderation_state_free(&st);
	assert_non_null(tmpdir_read(t->fd, "lobby.json", text, sizeof text));
	assert_non_null(strstr(text, "\"topic\":\"Hello\""));
	assert_non_null(strstr(text, "\"name\":\"Bob\""));
	struct stat sb;
	assert_int_equal(fstatat(t->fd, "lobby.json", &sb, 0), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	/* Expired at load. */
	assert_int_equal(moderation_load(t->fd, "lobby", NOW + 60, &st), 0);
	assert_int_equal(st.nbans, 0);
	assert_string_equal(st.topic, "Hello");
	moderation_state_free(&st);
	/* A damaged file is left alone. */
	int fd = openat(t->fd, "bad.json", O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage", 7), 7);
	close(fd);
	assert_int_equal(moderation_load(t->fd, "bad", NOW, &st), -1);
	assert_int_equal(moderation_update(t->fd, "bad", 0640, &c, "Alice", NOW,
	                                   &st), -1);
	moderation_state_free(&st);
	assert_non_null(tmpdir_read(t->fd, "bad.json", text, sizeof text));
	assert_string_equal(text, "garbage");
	/* Room names never leave the directory. */
	assert_int_equal(moderation_load(t->fd, "../x", NOW, &st), -1);
}

static void test_audit_line(void **state)
{
	(void)state;
	struct mod_command c;
	char err[160];
	struct buf out;
	buf_init(&out, 0);
	setenv("TZ", "UTC", 1);
	assert_int_equal(parse("/kick Bob a\\b", &c, err), 1);
	assert_int_equal(moderation_audit_line(NOW, "Alice", &c, &out), 0);
	assert_string_equal(out.data, "2027-01-15T08:00:00+00:00\tAlice\tkick\t"
	                              "Bob\ta\\x5cb\n");
	/* Controls in a reason (a stored one, say) cannot split the line. */
	snprintf(c.text, sizeof c.text, "x\ty\nz");
	assert_int_equal(moderation_audit_line(NOW, "Alice", &c, &out), 0);
	assert_non_null(strstr(out.data, "\tx\\x09y\\x0az\n"));
	assert_int_equal(parse("/ban 1.2.3.4 5 r", &c, err), 1);
	assert_int_equal(moderation_audit_line(NOW, "Alice", &c, &out), 0);
	assert_non_null(strstr(out.data, "\tban\t1.2.3.4\t5 minutes: r\n"));
	buf_free(&out);
}

static void test_refusal_codes(void **state)
{
	(void)state;
	assert_string_equal(refusal_code(REFUSAL_NOT_MODERATOR), "not_moderator");
	assert_string_equal(refusal_code(REFUSAL_MUTED), "muted");
	assert_string_equal(refusal_code(REFUSAL_REMOVED), "kicked");
	assert_string_equal(refusal_code(REFUSAL_BANNED), "banned");
	assert_string_equal(refusal_code(REFUSAL_LOCKED), "locked");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_commands),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_parse_state_tolerates),
		cmocka_unit_test_setup_teardown(test_files, tmpdir_setup,
		                                tmpdir_teardown),
		cmocka_unit_test(test_audit_line),
		cmocka_unit_test(test_refusal_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
