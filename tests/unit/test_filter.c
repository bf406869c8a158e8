#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "filter.h"

static bool pass(struct filter *f, const char *line)
{
	return filter_pass(f, line, strlen(line));
}

#define PASSES(f, line) assert_true(pass((f), (line)))
#define HELD(f, line) assert_false(pass((f), (line)))

static void test_inactive_passes_everything(void **state)
{
	(void)state;
	struct filter f;
	filter_init(&f, false);
	PASSES(&f, "[12:00:00] Alice> Bob: hi\n");
	PASSES(&f, "[12:00:00] Userlist: Bob:Gray,Carol:#f00,\n");
	PASSES(&f, "[12:00:00] Alice> Bob: hi\n");
	PASSES(&f, "[12:00:00] Alice> Carol: {\"candidate\":\"x\"}\n");
	PASSES(&f, "[12:00:00] Alice> hi\n");
	filter_free(&f);
}

/* History replay may start after the last user list: every line shaped like
 * a whisper is held until membership is known. */
static void test_before_a_user_list_whispers_are_held(void **state)
{
	(void)state;
	struct filter f;
	filter_init(&f, true);
	HELD(&f, "[12:00:00] Alice> Bob: hi\n");
	HELD(&f, "[12:00:00] Bob> Alice: hush\n");
	HELD(&f, "[12:00:00] Alice> Zed: hi\n");
	HELD(&f, "[12:00:00] Alice> Bob:\n");
	PASSES(&f, "[12:00:00] Alice> hi\n");
	PASSES(&f, "[12:00:00] Alice> hi there: you\n");
	PASSES(&f, "[12:00:00] Alice> Bob:hi\n");
	PASSES(&f, "[12:00:00] Alice>  Throws 1 6-sided dice, throws again on 7: 3\n");
	PASSES(&f, "[12:00:00] Alice joined the lobby\n");
	PASSES(&f, "[12:00:00] Alice quit the lobby\n");
	PASSES(&f, "[12:00:00] Alice whispers something to Bob\n");
	PASSES(&f, "[12:00:00] Welcome to the chat room lobby Alice!\n");
	filter_free(&f);
}

static void test_after_a_user_list(void **state)
{
	(void)state;
	struct filter f;
	filter_init(&f, true);
	PASSES(&f, "[12:00:00] Userlist: Bob:Gray,Carol:#f00,\n");
	HELD(&f, "[12:00:01] Alice> Bob: hi\n");
	HELD(&f, "[12:00:01] Alice> Carol: hi\n");
	HELD(&f, "[12:00:01] Alice> Bob:\n");
	HELD(&f, "[12:00:01] Alice> Bob: {\"candidate\":\"x\"}\n");
	PASSES(&f, "[12:00:01] Alice> Zed: hi\n");
	PASSES(&f, "[12:00:01] Alice> Bo: hi\n");     /* a prefix of Bob */
	PASSES(&f, "[12:00:01] Alice> Bobby: hi\n");  /* Bob is a prefix */
	PASSES(&f, "[12:00:01] Alice> Gray: hi\n");   /* a colour, not a name */
	PASSES(&f, "[12:00:01] Alice> hi\n");
	PASSES(&f, "[12:00:01] Alice> Bob:no-space\n");
	PASSES(&f, "[12:00:01] Alice> hi Bob: there\n");
	PASSES(&f, "[12:00:01] Alice>  unknown command /x Bob: y\n");
	PASSES(&f, "[12:00:01] Bob joined the lobby\n");
	filter_free(&f);
}

static void test_user_lists_update_membership(void **state)
{
	(void)state;
	struct filter f;
	filter_init(&f, true);
	PASSES(&f, "[12:00:00] Userlist: Bob:Gray,Carol:#f00,\n");
	HELD(&f, "[12:00:01] Alice> Bob: hi\n");
	/* Bob left. */
	PASSES(&f, "[12:00:02] Userlist: Alice:#0f0,Carol:#f00,\n");
	PASSES(&f, "[12:00:03] Alice> Bob: hi\n");
	HELD(&f, "[12:00:03] Bob> Alice: hi\n");
	HELD(&f, "[12:00:03] Carol> Carol: hi\n");
	/* Bobby came; Bob is still not a member. */
	PASSES(&f, "[12:00:04] Userlist: Alice:#0f0,Bobby:Gray,Carol:#f00,\n");
	PASSES(&f, "[12:00:05] Alice> Bob: hi\n");
	HELD(&f, "[12:00:05] Alice> Bobby: hi\n");
	/* Everybody left. */
	PASSES(&f, "[12:00:06] Userlist: \n");
	PASSES(&f, "[12:00:07] Alice> Bobby: hi\n");
	PASSES(&f, "[12:00:07] Alice> Carol: hi\n");
	filter_free(&f);
}

/* Names the PHP form escapes (&lt; and the like) are names like others. */
static void test_escaped_and_non_ascii_names(void **state)
{
	(void)state;
	struct filter f;
	filter_init(&f, true);
	PASSES(&f, "[12:00:00] Userlist: &lt;b&gt;:Gray,Železná:#abc,\n");
	HELD(&f, "[12:00:01] Alice> &lt;b&gt;: hi\n");
	HELD(&f, "[12:00:01] Alice> Železná: ahoj\n");
	PASSES(&f, "[12:00:01] Alice> Železn: ahoj\n");
	filter_free(&f);
}

/* The length given is what counts, not a terminator. */
static void test_uses_len(void **state)
{
	(void)state;
	struct filter f;
	filter_init(&f, true);
	const char *list = "[12:00:00] Userlist: Bob:Gray,\nZed:Gray,";
	size_t first = strchr(list, '\n') - list + 1;
	assert_true(filter_pass(&f, list, first));
	const char *w = "[12:00:01] Alice> Bob: x\n[12:00:01] Alice> Zed: y\n";
	size_t one = strchr(w, '\n') - w + 1;
	assert_false(filter_pass(&f, w, one));
	PASSES(&f, "[12:00:01] Alice> Zed: y\n");
	filter_free(&f);
}

/* Fail closed: once the filter no longer knows who is present (a line
 * went by unread, say a user list too long for the follower), every line
 * of whisper shape is held, members or not, until the next user list. */
static void test_forget_fails_closed(void **state)
{
	(void)state;
	struct filter f;
	filter_init(&f, true);
	PASSES(&f, "[12:00:00] Userlist: Bob:Gray,\n");
	PASSES(&f, "[12:00:01] Alice> Zed: hi\n");
	filter_forget(&f);
	HELD(&f, "[12:00:02] Alice> Bob: hi\n");
	HELD(&f, "[12:00:02] Alice> Zed: hi\n");
	PASSES(&f, "[12:00:02] Alice> hi\n");
	PASSES(&f, "[12:00:02] Zed joined the lobby\n");
	PASSES(&f, "[12:00:03] Userlist: Bob:Gray,\n");
	PASSES(&f, "[12:00:04] Alice> Zed: hi\n");
	HELD(&f, "[12:00:04] Alice> Bob: hi\n");
	filter_free(&f);
}

/* A user list longer than the filter keeps leaves membership unknown, not
 * as the list before it said. */
static void test_list_too_long_fails_closed(void **state)
{
	(void)state;
	struct filter f;
	filter_init(&f, true);
	PASSES(&f, "[12:00:00] Userlist: Bob:Gray,\n");
	const char *head = "[12:00:01] Userlist: Zed:Gray,";
	size_t n = strlen(head) + FILTER_MEMBERS_MAX + 1;
	char *list = malloc(n + 1);
	assert_non_null(list);
	memcpy(list, head, strlen(head));
	memset(list + strlen(head), 'x', n - strlen(head) - 1);
	list[n - 1] = '\n';
	list[n] = '\0';
	assert_true(filter_pass(&f, list, n)); /* clients need it */
	free(list);
	HELD(&f, "[12:00:02] Alice> Zed: hi\n");
	HELD(&f, "[12:00:02] Alice> Yan: hi\n");
	HELD(&f, "[12:00:02] Alice> Bob: hi\n");
	PASSES(&f, "[12:00:02] Alice> hi\n");
	/* The longest list it keeps is kept. */
	size_t most = strlen("[12:00:03] Userlist: ") + FILTER_MEMBERS_MAX + 1;
	list = malloc(most + 1);
	assert_non_null(list);
	memset(list, 'y', most);
	memcpy(list, "[12:00:03] Userlist: Zed:Gray,", 30);
	list[most - 2] = ',';
	list[most - 1] = '\n';
	list[most] = '\0';
	assert_true(filter_pass(&f, list, most));
	free(list);
	HELD(&f, "[12:00:04] Alice> Zed: hi\n");
	PASSES(&f, "[12:00:04] Alice> Yan: hi\n");
	filter_free(&f);
}

/* A copy of the n bytes of s that ends right before an unmapped page: a
 * read past the line faults instead of passing unnoticed. */
struct guarded {
	char *map;
	size_t size;
	char *line;
};

static struct guarded guard(const char *s, size_t n)
{
	struct guarded g;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	g.size = 2 * page;
	g.map = mmap(NULL, g.size, PROT_READ | PROT_WRITE,
	             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g.map != MAP_FAILED);
	assert_int_equal(mprotect(g.map + page, page, PROT_NONE), 0);
	g.line = g.map + page - n;
	memcpy(g.line, s, n);
	return g;
}

static bool pass_guarded(struct filter *f, const char *s)
{
	struct guarded g = guard(s, strlen(s));
	bool ok = filter_pass(f, g.line, strlen(s));
	munmap(g.map, g.size);
	return ok;
}

/* A NUL inside the target word of a log line (found by the fuzzer: the
 * member list was compared as strings, past its end). */
static void test_nul_in_target(void **state)
{
	(void)state;
	static const char line[] = "[12:00:01] Alice> xx\0yy: hi\n";
	struct filter f;
	filter_init(&f, true);
	assert_true(pass_guarded(&f, "[12:00:00] Userlist: xx:Gray,\n"));
	struct guarded g = guard(line, sizeof line - 1);
	assert_true(filter_pass(&f, g.line, sizeof line - 1));
	munmap(g.map, g.size);
	filter_free(&f);
}

/* Room log lines are only read up to their '\n', whatever their shape. */
static void test_reads_only_the_line(void **state)
{
	(void)state;
	struct filter f;
	filter_init(&f, true);
	assert_true(pass_guarded(&f, "[\n"));
	assert_true(pass_guarded(&f, "[12:00:00\n"));
	assert_true(pass_guarded(&f, "[12:00:00] \n"));
	assert_true(pass_guarded(&f, "[12:00:00] A>\n"));
	assert_true(pass_guarded(&f, "[12:00:00] A> \n"));
	assert_true(pass_guarded(&f, "[12:00:00] Userlist: Bob:Gray,\n"));
	assert_false(pass_guarded(&f, "[12:00:00] A> Bob:\n"));
	assert_true(pass_guarded(&f, "[12:00:00] A> B:\n"));
	/* 11 bytes: the clock and a newline, no space after it. */
	assert_true(pass_guarded(&f, "[12:00:00]\n"));
	filter_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inactive_passes_everything),
		cmocka_unit_test(test_before_a_user_list_whispers_are_held),
		cmocka_unit_test(test_after_a_user_list),
		cmocka_unit_test(test_user_lists_update_membership),
		cmocka_unit_test(test_escaped_and_non_ascii_names),
		cmocka_unit_test(test_uses_len),
		cmocka_unit_test(test_reads_only_the_line),
		cmocka_unit_test(test_nul_in_target),
		cmocka_unit_test(test_forget_fails_closed),
		cmocka_unit_test(test_list_too_long_fails_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
