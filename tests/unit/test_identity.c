#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "identity.h"
#include "text.h"
#include "support/tmpdir.h"

/* ---- session_id_is_valid ---- */

static void test_session_id_valid(void **state)
{
	(void)state;
	assert_true(session_id_is_valid("a"));
	assert_true(session_id_is_valid("abc123XYZ"));
	assert_true(session_id_is_valid("0,-,9"));
	assert_true(session_id_is_valid("ku4h5q2o9m1vd8s7e3r6bqhg1c"));
}

static void test_session_id_invalid(void **state)
{
	(void)state;
	assert_false(session_id_is_valid(""));
	assert_false(session_id_is_valid("../x"));
	assert_false(session_id_is_valid("../etc/passwd"));
	assert_false(session_id_is_valid("a/b"));
	assert_false(session_id_is_valid("a b"));
	assert_false(session_id_is_valid("a.b"));
	assert_false(session_id_is_valid(".."));
	assert_false(session_id_is_valid("a_b"));
	assert_false(session_id_is_valid("a;b"));
	assert_false(session_id_is_valid("a\nb"));
	assert_false(session_id_is_valid("\xc5\xbd"));
}

static void test_session_id_length(void **state)
{
	(void)state;
	char id[SESSION_ID_MAX + 2];
	memset(id, 'a', SESSION_ID_MAX);
	id[SESSION_ID_MAX] = '\0';
	assert_int_equal(strlen(id), 256);
	assert_true(session_id_is_valid(id));
	id[SESSION_ID_MAX] = 'a';
	id[SESSION_ID_MAX + 1] = '\0';
	assert_int_equal(strlen(id), 257);
	assert_false(session_id_is_valid(id));
}

/* ---- identity_clean_name ---- */

static void expect_clean(const char *in, const char *want)
{
	char name[512];
	snprintf(name, sizeof name, "%s", in);
	if (!identity_clean_name(name))
		fail_msg("\"%s\" was refused", in);
	assert_string_equal(name, want);
}

static void expect_refused(const char *in)
{
	char name[512];
	snprintf(name, sizeof name, "%s", in);
	assert_false(identity_clean_name(name));
}

static void test_clean_keeps_good_names(void **state)
{
	(void)state;
	expect_clean("Alice", "Alice");
	expect_clean("Želva", "Želva");
	expect_clean("&lt;b&gt;", "&lt;b&gt;"); /* PHP escaped it: harmless */
	expect_clean("a-b.c!", "a-b.c!");
	expect_clean("😀", "😀");
}

static void test_clean_forbidden_bytes(void **state)
{
	(void)state;
	expect_clean("/", "-");
	expect_clean("_", "-");
	expect_clean(":", "-");
	expect_clean(",", "-");
	expect_clean(">", "-");
	expect_clean("<", "-");
	expect_clean("\"", "-");
	expect_clean("'", "-");
	expect_clean("\\", "-");
	expect_clean(" ", "-");
	expect_clean("a/b_c:d,e>f<g\"h'i\\j k", "a-b-c-d-e-f-g-h-i-j-k");
}

static void test_clean_whitespace_and_controls(void **state)
{
	(void)state;
	expect_clean("a\tb\nc\rd\ve\ff", "a-b-c-d-e-f");
	expect_clean("x\x01y\x1fz\x7f", "x-y-z-");
	expect_clean("\x1b[31mred", "-[31mred");
	expect_clean("  ", "--");
}

/* U+0085 (NEL) and the other C1 controls are control characters, U+00A0 is
 * a space: each of their bytes becomes '-'. */
static void test_clean_c1_controls(void **state)
{
	(void)state;
	expect_clean("A\xc2\x85" "B\xc2\x9b" "C", "A--B--C");
	expect_clean("\xc2\x80", "--");
	expect_clean("a\xc2\x9f", "a--");
	expect_clean("no\xc2\xa0" "break", "no--break");
	/* the next characters are letters */
	expect_clean("\xc2\xa1\xc2\xbf\xc3\x80", "\xc2\xa1\xc2\xbf\xc3\x80");
}

static void test_name_is_clean(void **state)
{
	(void)state;
	assert_true(identity_name_is_clean("Alice"));
	assert_true(identity_name_is_clean("Želva"));
	assert_true(identity_name_is_clean("&lt;b&gt;"));
	assert_true(identity_name_is_clean("a-b"));
	char longer[NAME_MAX_BYTES + 10];
	memset(longer, 'a', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	assert_true(identity_name_is_clean(longer)); /* length is not judged */
	assert_false(identity_name_is_clean(""));
	assert_false(identity_name_is_clean("a b"));
	assert_false(identity_name_is_clean("a_b"));
	assert_false(identity_name_is_clean("a/b"));
	assert_false(identity_name_is_clean("a:b"));
	assert_false(identity_name_is_clean("a,b"));
	assert_false(identity_name_is_clean("a>b"));
	assert_false(identity_name_is_clean("a<b"));
	assert_false(identity_name_is_clean("a\"b"));
	assert_false(identity_name_is_clean("a'b"));
	assert_false(identity_name_is_clean("a\\b"));
	assert_false(identity_name_is_clean("a\tb"));
	assert_false(identity_name_is_clean("a\x7f"));
	assert_false(identity_name_is_clean("a\xc2\x85"));
	assert_false(identity_name_is_clean("a\xc2\xa0"));
	assert_false(identity_name_is_clean("\xff"));
}

/* Whatever identity_clean_name returns is clean. */
static void test_cleaned_names_are_clean(void **state)
{
	(void)state;
	static const char *const in[] = {
		"Alice", "a b_c:d", "\x01\x02", "x\xc2\x85y", "Želva 😀",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa Ž",
	};
	for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
		char name[128];
		snprintf(name, sizeof name, "%s", in[i]);
		assert_true(identity_clean_name(name));
		assert_true(identity_name_is_clean(name));
	}
}

static void test_clean_refuses(void **state)
{
	(void)state;
	expect_refused("");
	expect_refused("\xff");
	expect_refused("abc\xc5");          /* truncated sequence */
	expect_refused("\xc0\xaf");         /* overlong '/' */
	expect_refused("\xed\xa0\x80");     /* surrogate */
	expect_refused("ok\x80");           /* stray continuation byte */
}

/* A name of n bytes: 'a' * prefix then tail. */
static void make_name(char *out, size_t prefix, const char *tail)
{
	memset(out, 'a', prefix);
	strcpy(out + prefix, tail);
}

static void expect_cut(size_t prefix, const char *tail, size_t want_prefix,
                       const char *want_tail)
{
	char in[200], want[200], name[200];
	make_name(in, prefix, tail);
	make_name(want, want_prefix, want_tail);
	memcpy(name, in, strlen(in) + 1);
	assert_true(identity_clean_name(name));
	assert_true(strlen(name) <= NAME_MAX_BYTES);
	assert_string_equal(name, want);
}

static void test_clean_cut_ascii(void **state)
{
	(void)state;
	expect_cut(64, "", 64, "");
	expect_cut(65, "", 64, "");
	expect_cut(150, "", 64, "");
}

static void test_clean_cut_utf8_boundary(void **state)
{
	(void)state;
	/* Ž is 2 bytes, € is 3, 😀 is 4. */
	expect_cut(62, "Ž", 62, "Ž");           /* 64 bytes: fits */
	expect_cut(63, "Ž", 63, "");            /* 65: Ž would be split */
	expect_cut(62, "Žx", 62, "Ž");
	expect_cut(61, "€", 61, "€");
	expect_cut(62, "€", 62, "");
	expect_cut(63, "€", 63, "");
	expect_cut(60, "😀", 60, "😀");
	expect_cut(61, "😀", 61, "");
	expect_cut(63, "😀", 63, "");
	expect_cut(0, "ŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽ", 0,
	           "ŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽŽ"); /* 33 -> 32 */
}

static void test_clean_then_cut(void **state)
{
	(void)state;
	char name[200];
	memset(name, ' ', 100);
	name[100] = '\0';
	assert_true(identity_clean_name(name));
	assert_int_equal(strlen(name), 64);
	assert_int_equal(strspn(name, "-"), 64);
}

/* ---- identity_from_value ---- */

static struct identity from_value_ok(const char *value)
{
	struct identity id;
	memset(&id, 'Z', sizeof id);
	if (!identity_from_value(value, strlen(value), &id))
		fail_msg("\"%s\" refused", value);
	return id;
}

/* A name longer than the name buffer is cut, and its colour is still the
 * text after the colon (found by the fuzzer: the colour was read from past
 * the value's end). */
static void test_value_long_name_keeps_color(void **state)
{
	(void)state;
	char value[400];
	size_t n = 300;
	char *copy;
	memset(value, 'a', n);
	memcpy(value + n, ":#f00", 5);
	copy = malloc(n + 5); /* exactly sized: ASan sees any read past it */
	assert_non_null(copy);
	memcpy(copy, value, n + 5);
	struct identity id;
	assert_true(identity_from_value(copy, n + 5, &id));
	free(copy);
	assert_int_equal(strlen(id.name), NAME_MAX_BYTES);
	assert_string_equal(id.color, "#f00");
}

static void test_value_name_and_color(void **state)
{
	(void)state;
	struct identity id = from_value_ok("Alice:#ff0000");
	assert_string_equal(id.name, "Alice");
	assert_string_equal(id.color, "#ff0000");
	id = from_value_ok("Želva:#abc");
	assert_string_equal(id.name, "Želva");
	assert_string_equal(id.color, "#abc");
	id = from_value_ok("Carl:DarkOrange");
	assert_string_equal(id.name, "Carl");
	assert_string_equal(id.color, "DarkOrange");
}

static void test_value_default_color(void **state)
{
	(void)state;
	struct identity id = from_value_ok("Bob");
	assert_string_equal(id.name, "Bob");
	assert_string_equal(id.color, "Gray");
	id = from_value_ok("Bob:");
	assert_string_equal(id.color, "Gray");
	id = from_value_ok("Bob:red;x");
	assert_string_equal(id.name, "Bob");
	assert_string_equal(id.color, "Gray");
	id = from_value_ok("Bob:#ff00001");
	assert_string_equal(id.color, "Gray");
	id = from_value_ok("Bob:#fff:#000");
	assert_string_equal(id.name, "Bob");
	assert_string_equal(id.color, "Gray");
	id = from_value_ok("Bob:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_string_equal(id.color, "Gray");
}

static void test_value_name_cleaned(void **state)
{
	(void)state;
	struct identity id = from_value_ok("Al ice_x:#0f0");
	assert_string_equal(id.name, "Al-ice-x");
	assert_string_equal(id.color, "#0f0");
}

static void test_value_unusable(void **state)
{
	(void)state;
	struct identity id;
	assert_false(identity_from_value(":#fff", 5, &id));
	assert_false(identity_from_value("", 0, &id));
	assert_false(identity_from_value(":", 1, &id));
	assert_false(identity_from_value("\xff:#fff", 6, &id));
	assert_false(identity_from_value("A\0B:#fff", 8, &id));
}

static void test_value_uses_len(void **state)
{
	(void)state;
	static const char v[] = "Alice:#ff0000GARBAGE";
	struct identity id;
	assert_true(identity_from_value(v, 13, &id));
	assert_string_equal(id.name, "Alice");
	assert_string_equal(id.color, "#ff0000");
	assert_true(identity_from_value(v, 3, &id));
	assert_string_equal(id.name, "Ali");
	assert_string_equal(id.color, "Gray");
}

/* ---- identity_resolve ---- */

struct fixture {
	char dir[64];
	char sessions[128];
	int fd; /* the sessions directory */
	struct chat_config cfg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_true(tmpdir_make(f->dir, sizeof f->dir, "test_identity"));
	snprintf(f->sessions, sizeof f->sessions, "%s/sessions", f->dir);
	assert_int_equal(mkdir(f->sessions, 0700), 0);
	f->fd = open(f->sessions, O_RDONLY | O_DIRECTORY);
	assert_true(f->fd >= 0);
	/* What identity_resolve reads; OpenSSO left unset (""). */
	f->cfg.base_dir = f->dir;
	f->cfg.sessions_dir = f->sessions;
	f->cfg.session_cookie = "PHPSESSID";
	f->cfg.auth_webservice_url = "";
	f->cfg.auth_cookiename = "";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->fd);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void put_file(int dir_fd, const char *name, const char *data, size_t len)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* sess_<id> holding raw (a whole serialized session). */
static void put_session_raw(struct fixture *f, const char *id, const char *raw)
{
	char name[300];
	snprintf(name, sizeof name, "sess_%s", id);
	put_file(f->fd, name, raw, strlen(raw));
}

/* sess_<id> holding username|s:N:"value"; */
static void put_session(struct fixture *f, const char *id, const char *value)
{
	char raw[512];
	snprintf(raw, sizeof raw, "username|s:%zu:\"%s\";", strlen(value), value);
	put_session_raw(f, id, raw);
}

static struct identity resolve(struct fixture *f, const char *cookie)
{
	struct identity id;
	memset(&id, 'Z', sizeof id);
	identity_resolve(&f->cfg, cookie, &id);
	return id;
}

static void expect_user(struct fixture *f, const char *cookie,
                        const char *name, const char *color)
{
	struct identity id = resolve(f, cookie);
	assert_string_equal(id.name, name);
	assert_string_equal(id.color, color);
}

static void expect_anonymous(struct fixture *f, const char *cookie)
{
	expect_user(f, cookie, "Anonymous", "Gray");
}

static void test_resolve_valid(void **state)
{
	struct fixture *f = *state;
	put_session(f, "abc123", "Alice:#ff0000");
	expect_user(f, "PHPSESSID=abc123", "Alice", "#ff0000");
	expect_user(f, "lang=cs; PHPSESSID=abc123; theme=dark", "Alice",
	            "#ff0000");
}

/* PHP takes the first of two cookies of one name: so do we, so that chat
 * and pages agree on who the user is. */
static void test_resolve_first_cookie_wins(void **state)
{
	struct fixture *f = *state;
	put_session(f, "one", "One:#111");
	put_session(f, "two", "Two:#222");
	expect_user(f, "PHPSESSID=one; PHPSESSID=two", "One", "#111");
}

static void test_resolve_no_cookie(void **state)
{
	struct fixture *f = *state;
	put_session(f, "abc123", "Alice:#ff0000");
	expect_anonymous(f, NULL);
	expect_anonymous(f, "");
	expect_anonymous(f, "other=abc123");
	expect_anonymous(f, "PHPSESSID=");
}

static void test_resolve_invalid_id(void **state)
{
	struct fixture *f = *state;
	/* sessions/sess_../evil would be reachable if the id were used. */
	assert_int_equal(mkdirat(f->fd, "sess_..", 0700), 0);
	int sub = openat(f->fd, "sess_..", O_RDONLY | O_DIRECTORY);
	assert_true(sub >= 0);
	static const char evil[] = "username|s:12:\"Mallory:#f00\";";
	put_file(sub, "evil", evil, strlen(evil));
	close(sub);
	expect_anonymous(f, "PHPSESSID=../evil");
	expect_anonymous(f, "PHPSESSID=../etc/passwd");
	expect_anonymous(f, "PHPSESSID=a.b");
}

static void test_resolve_missing_file(void **state)
{
	struct fixture *f = *state;
	expect_anonymous(f, "PHPSESSID=nosuchsession");
}

static void test_resolve_missing_sessions_dir(void **state)
{
	struct fixture *f = *state;
	char nowhere[128];
	snprintf(nowhere, sizeof nowhere, "%s/nowhere", f->dir);
	f->cfg.sessions_dir = nowhere;
	expect_anonymous(f, "PHPSESSID=abc");
}

static void test_resolve_truncated_file(void **state)
{
	struct fixture *f = *state;
	put_session_raw(f, "t1", "username|s:13:\"Alice:#f");
	expect_anonymous(f, "PHPSESSID=t1");
	put_session_raw(f, "t2", "username|s:13:");
	expect_anonymous(f, "PHPSESSID=t2");
	put_session_raw(f, "t3", "");
	expect_anonymous(f, "PHPSESSID=t3");
}

static void test_resolve_symlink_not_followed(void **state)
{
	struct fixture *f = *state;
	put_session(f, "real", "Alice:#ff0000");
	assert_int_equal(symlinkat("sess_real", f->fd, "sess_link"), 0);
	expect_user(f, "PHPSESSID=real", "Alice", "#ff0000");
	expect_anonymous(f, "PHPSESSID=link");
}

static void test_resolve_fifo_does_not_hang(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(mkfifoat(f->fd, "sess_fifo", 0600), 0);
	expect_anonymous(f, "PHPSESSID=fifo");
}

static void test_resolve_directory(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(mkdirat(f->fd, "sess_dir", 0700), 0);
	expect_anonymous(f, "PHPSESSID=dir");
}

static void test_resolve_username_not_string(void **state)
{
	struct fixture *f = *state;
	put_session_raw(f, "i", "username|i:42;");
	expect_anonymous(f, "PHPSESSID=i");
	put_session_raw(f, "a", "username|a:1:{i:0;s:5:\"Alice\";}");
	expect_anonymous(f, "PHPSESSID=a");
	put_session_raw(f, "n", "username|N;");
	expect_anonymous(f, "PHPSESSID=n");
}

static void test_resolve_no_username(void **state)
{
	struct fixture *f = *state;
	put_session_raw(f, "x", "user|s:13:\"Alice:#ff0000\";");
	expect_anonymous(f, "PHPSESSID=x");
}

static void test_resolve_other_keys_first(void **state)
{
	struct fixture *f = *state;
	put_session_raw(f, "k", "count|i:3;flags|a:2:{i:0;s:1:\"x\";s:1:\"k\";b:1;}"
	                        "note|s:10:\"a\"b;c|d:\"e\";username|s:8:\"Bob:#0f0\";");
	expect_user(f, "PHPSESSID=k", "Bob", "#0f0");
}

static void test_resolve_unusable_value(void **state)
{
	struct fixture *f = *state;
	put_session(f, "u", ":#fff");
	expect_anonymous(f, "PHPSESSID=u");
	put_session(f, "c", "Carl:red;x");
	expect_user(f, "PHPSESSID=c", "Carl", "Gray");
	put_session(f, "s", "Al ice:#abc");
	expect_user(f, "PHPSESSID=s", "Al-ice", "#abc");
}

static void test_resolve_custom_cookie(void **state)
{
	struct fixture *f = *state;
	f->cfg.session_cookie = "CHATSID";
	put_session(f, "abc", "Php:#111");
	put_session(f, "def", "Chat:#222");
	expect_user(f, "PHPSESSID=abc; CHATSID=def", "Chat", "#222");
	expect_anonymous(f, "PHPSESSID=abc");
}

/* SESSION_MAX_AGE: a file not written for longer is no session. */
static void test_resolve_expired_session(void **state)
{
	struct fixture *f = *state;
	put_session(f, "old", "Olga:#123");
	f->cfg.session_max_age = 1440;
	struct identity id = resolve(f, "PHPSESSID=old");
	assert_string_equal(id.name, "Olga");
	assert_int_equal(id.source, IDENTITY_PHP);
	assert_false(id.verified);
	assert_int_equal(id.roles, 0);
	struct timespec old[2] = { { time(NULL) - 1441, 0 },
	                           { time(NULL) - 1441, 0 } };
	assert_int_equal(utimensat(f->fd, "sess_old", old, 0), 0);
	id = resolve(f, "PHPSESSID=old");
	assert_string_equal(id.name, "Anonymous");
	assert_int_equal(id.source, IDENTITY_ANONYMOUS);
	f->cfg.session_max_age = 0; /* no limit */
	expect_user(f, "PHPSESSID=old", "Olga", "#123");
}

/* IDENTITY_SOURCES without php: the session is not looked at. */
static void test_resolve_sources(void **state)
{
	struct fixture *f = *state;
	put_session(f, "abc", "Php:#111");
	f->cfg.identity_sources[0] = IDENTITY_SSO;
	f->cfg.n_identity_sources = 1;
	expect_anonymous(f, "PHPSESSID=abc");
	f->cfg.identity_sources[1] = IDENTITY_PHP;
	f->cfg.n_identity_sources = 2;
	expect_user(f, "PHPSESSID=abc", "Php", "#111");
}

static void test_resolve_too_large_file(void **state)
{
	struct fixture *f = *state;
	size_t pad = SESSION_FILE_MAX;
	char *raw = malloc(pad + 128);
	assert_non_null(raw);
	int n = snprintf(raw, 128, "username|s:13:\"Alice:#ff0000\";pad|s:%zu:\"",
	                 pad);
	memset(raw + n, 'x', pad);
	strcpy(raw + n + pad, "\";");
	put_session_raw(f, "big", raw);
	free(raw);
	expect_anonymous(f, "PHPSESSID=big");
}

/* PHP holds an exclusive lock while a request runs; we wait briefly, then
 * read anyway. */
static void test_resolve_locked_by_php(void **state)
{
	struct fixture *f = *state;
	put_session(f, "locked", "Alice:#ff0000");
	int fd = openat(f->fd, "sess_locked", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	expect_user(f, "PHPSESSID=locked", "Alice", "#ff0000");
	clock_gettime(CLOCK_MONOTONIC, &b);
	close(fd);
	double secs = (double)(b.tv_sec - a.tv_sec) +
	              (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_true(secs < 5.0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_id_valid),
		cmocka_unit_test(test_session_id_invalid),
		cmocka_unit_test(test_session_id_length),
		cmocka_unit_test(test_clean_keeps_good_names),
		cmocka_unit_test(test_clean_forbidden_bytes),
		cmocka_unit_test(test_clean_whitespace_and_controls),
		cmocka_unit_test(test_clean_c1_controls),
		cmocka_unit_test(test_name_is_clean),
		cmocka_unit_test(test_cleaned_names_are_clean),
		cmocka_unit_test(test_clean_refuses),
		cmocka_unit_test(test_clean_cut_ascii),
		cmocka_unit_test(test_clean_cut_utf8_boundary),
		cmocka_unit_test(test_clean_then_cut),
		cmocka_unit_test(test_value_name_and_color),
		cmocka_unit_test(test_value_long_name_keeps_color),
		cmocka_unit_test(test_value_default_color),
		cmocka_unit_test(test_value_name_cleaned),
		cmocka_unit_test(test_value_unusable),
		cmocka_unit_test(test_value_uses_len),
		T(test_resolve_valid),
		T(test_resolve_first_cookie_wins),
		T(test_resolve_no_cookie),
		T(test_resolve_invalid_id),
		T(test_resolve_missing_file),
		T(test_resolve_missing_sessions_dir),
		T(test_resolve_truncated_file),
		T(test_resolve_symlink_not_followed),
		T(test_resolve_fifo_does_not_hang),
		T(test_resolve_directory),
		T(test_resolve_username_not_string),
		T(test_resolve_no_username),
		T(test_resolve_other_keys_first),
		T(test_resolve_unusable_value),
		T(test_resolve_custom_cookie),
		T(test_resolve_expired_session),
		T(test_resolve_sources),
		T(test_resolve_too_large_file),
		T(test_resolve_locked_by_php),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
