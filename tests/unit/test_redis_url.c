#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_url.h"

/* Parses a copy of text in a buffer of exactly its size, so that a read
 * past its end is caught (the unit tests run under AddressSanitizer). */
static int parse(const char *text, struct redis_url *url, char *why,
                 size_t whysz)
{
	size_t n = strlen(text) + 1;
	char *copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, text, n);
	why[0] = '\0';
	int rc = redis_url_parse(copy, url, why, whysz);
	free(copy);
	return rc;
}

struct good {
	const char *text;
	bool unix_socket;
	const char *host;
	int port;
	const char *path;
	const char *password;
	int db;
};

static void test_good_urls(void **state)
{
	(void)state;
	static const struct good good[] = {
		{ "redis://127.0.0.1:6379/0", false, "127.0.0.1", 6379, "", "", 0 },
		{ "redis://127.0.0.1", false, "127.0.0.1", 6379, "", "", 0 },
		{ "redis://127.0.0.1/", false, "127.0.0.1", 6379, "", "", 0 },
		{ "redis://localhost:6380", false, "localhost", 6380, "", "", 0 },
		{ "REDIS://Redis.Example.ORG:1/15", false, "Redis.Example.ORG", 1,
		  "", "", 15 },
		{ "redis://redis_1:65535/2147483647", false, "redis_1", 65535, "",
		  "", 2147483647 },
		{ "redis://h/007", false, "h", 6379, "", "", 7 },
		{ "redis://[::1]:6379/2", false, "::1", 6379, "", "", 2 },
		{ "redis://[::1]", false, "::1", 6379, "", "", 0 },
		{ "redis://[2001:db8::7]/3", false, "2001:db8::7", 6379, "", "", 3 },
		{ "redis://[::ffff:192.0.2.1]:7000", false, "::ffff:192.0.2.1",
		  7000, "", "", 0 },
		{ "redis://:secret@127.0.0.1:6379/1", false, "127.0.0.1", 6379, "",
		  "secret", 1 },
		{ "redis://:s3cr3t!$&'()*+,;=:-._~@host", false, "host", 6379, "",
		  "s3cr3t!$&'()*+,;=:-._~", 0 },
		{ "redis://:p%40ss%20w%2Fo%3Ard%25@host", false, "host", 6379, "",
		  "p@ss w/o:rd%", 0 },
		{ "redis://:%c3%A1%23%3F@[::1]:1", false, "::1", 1, "", "\xc3\xa1#?",
		  0 },
		{ "redis://:%01@h", false, "h", 6379, "", "\x01", 0 },
		{ "unix:///run/redis/redis-server.sock", true, "", 0,
		  "/run/redis/redis-server.sock", "", 0 },
		{ "UNIX:///tmp/r.sock?db=4", true, "", 0, "/tmp/r.sock", "", 4 },
		{ "unix:///tmp/r.sock?db=0", true, "", 0, "/tmp/r.sock", "", 0 },
		{ "unix://:pw@/tmp/r.sock?db=9", true, "", 0, "/tmp/r.sock", "pw",
		  9 },
		{ "unix:///tmp/with%20space/r@x:y.sock", true, "", 0,
		  "/tmp/with space/r@x:y.sock", "", 0 },
		{ "unix:///s", true, "", 0, "/s", "", 0 },
	};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		struct redis_url u;
		char why[256];
		if (parse(good[i].text, &u, why, sizeof why) != 0)
			fail_msg("%s: refused: %s", good[i].text, why);
		assert_int_equal(u.unix_socket, good[i].unix_socket);
		assert_string_equal(u.host, good[i].host);
		assert_int_equal(u.port, good[i].port);
		assert_string_equal(u.path, good[i].path);
		assert_string_equal(u.password, good[i].password);
		assert_int_equal(u.db, good[i].db);
	}
}

/* The longest socket path (sun_path less its NUL), and one byte more. */
static void test_socket_path_length(void **state)
{
	(void)state;
	char text[REDIS_URL_PATH_MAX + 32], why[256];
	struct redis_url u;
	int n = snprintf(text, sizeof text, "unix://");
	memset(text + n, 'a', REDIS_URL_PATH_MAX - 1);
	text[n] = '/';
	text[n + REDIS_URL_PATH_MAX - 1] = '\0';
	assert_int_equal(parse(text, &u, why, sizeof why), 0);
	assert_int_equal(strlen(u.path), REDIS_URL_PATH_MAX - 1);
	memcpy(text + n + REDIS_URL_PATH_MAX - 1, "a", 2);
	assert_int_equal(parse(text, &u, why, sizeof why), -1);
	assert_non_null(strstr(why, "longer than 107 bytes"));
	/* %20 counts as the one byte it decodes to. */
	memcpy(text + n + REDIS_URL_PATH_MAX - 2, "%20", 4);
	assert_int_equal(parse(text, &u, why, sizeof why), 0);
	assert_int_equal(u.path[REDIS_URL_PATH_MAX - 2], ' ');
}

/* The longest URL, and one byte more; a 253-byte host, and 254. */
static void test_lengths(void **state)
{
	(void)state;
	static char text[REDIS_URL_MAX + 16];
	char why[256];
	struct redis_url u;
	int n = snprintf(text, sizeof text, "redis://:");
	size_t pw = REDIS_URL_MAX - 1 - (size_t)n - strlen("@h");
	memset(text + n, 'p', pw);
	memcpy(text + n + pw, "@h", 3);
	assert_int_equal(strlen(text), REDIS_URL_MAX - 1);
	assert_int_equal(parse(text, &u, why, sizeof why), 0);
	assert_int_equal(strlen(u.password), pw);
	memcpy(text + n + pw, "p@h", 4);
	assert_int_equal(parse(text, &u, why, sizeof why), -1);
	assert_string_equal(why, "REDIS_URL is longer than 511 bytes");

	n = snprintf(text, sizeof text, "redis://");
	memset(text + n, 'h', 253);
	memcpy(text + n + 253, ":1", 3);
	assert_int_equal(parse(text, &u, why, sizeof why), 0);
	assert_int_equal(strlen(u.host), 253);
	memcpy(text + n + 253, "h:1", 4);
	assert_int_equal(parse(text, &u, why, sizeof why), -1);
	assert_non_null(strstr(why, "host is longer than 253 bytes"));
}

struct bad {
	const char *text;
	const char *reason; /* a part of the reason */
};

static void test_bad_urls(void **state)
{
	(void)state;
	static const struct bad bad[] = {
		{ "", "must start with redis:// or unix://" },
		{ "127.0.0.1:6379", "must start with redis://" },
		{ "http://127.0.0.1", "must start with redis://" },
		{ "redis:/127.0.0.1", "must start with redis://" },
		{ "redis:127.0.0.1", "must start with redis://" },
		{ "rediss://127.0.0.1", "TLS is not supported" },
		{ "unix:/tmp/r.sock", "three slashes" },
		{ "unix:tmp/r.sock", "three slashes" },
		{ "redis://", "has no host" },
		{ "redis:///0", "has no host" },
		{ "redis://:6379", "has no host" },
		{ "redis://:pw@", "has no host" },
		{ "redis://:pw@:6379/0", "has no host" },
		{ "redis://host:", "port must be a number from 1 to 65535" },
		{ "redis://host:0", "port must be a number from 1 to 65535" },
		{ "redis://host:65536", "port must be a number" },
		{ "redis://host:99999999999999999999", "port must be a number" },
		{ "redis://host:-1", "port must be a number" },
		{ "redis://host:+80", "port must be a number" },
		{ "redis://host:0x50", "port must be a number" },
		{ "redis://host:63 79", "a space at byte 16" },
		{ "redis://host/x", "after the host comes only /DB" },
		{ "redis://host/-1", "after the host comes only /DB" },
		{ "redis://host/2147483648", "after the host comes only /DB" },
		{ "redis://host/99999999999", "after the host comes only /DB" },
		{ "redis://host/0/", "after the host comes only /DB" },
		{ "redis://host//0", "after the host comes only /DB" },
		{ "redis://host/0?x=1", "after the host comes only /DB" },
		{ "redis://host?db=1", "has a query" },
		{ "redis://host/#frag", "has a '#'" },
		{ "redis://:pa#ss@host", "has a '#'" },
		{ "redis://::1:6379", "IPv6 address not in brackets" },
		{ "redis://::1", "IPv6 address not in brackets" },
		{ "redis://[::1", "'[' without ']'" },
		{ "redis://[]", "no IPv6 address" },
		{ "redis://[127.0.0.1]", "no IPv6 address" },
		{ "redis://[::g]", "no IPv6 address" },
		{ "redis://[fe80::1%25eth0]:6379", "zone" },
		{ "redis://[::1]x", "after ']'" },
		{ "redis://[::1]:", "port must be a number" },
		{ "redis://[::1]:0", "port must be a number" },
		{ "redis://ho%73t", "no host name has" },
		{ "redis://ho!st", "no host name has" },
		{ "redis://user:pw@host", "gives a user name" },
		{ "redis://default:pw@host", "gives a user name" },
		{ "redis://pw@host", "no ':' before the password" },
		{ "redis://@host", "no ':' before the password" },
		{ "redis://:@host", "empty password" },
		{ "redis://:p@ss@host", "'@' twice" },
		{ "redis://:p/ss@host", "'@' after a '/' or '?'" },
		{ "redis://:p?ss@host", "'@' after a '/' or '?'" },
		{ "redis://:p%4@host", "'%' without two hex digits" },
		{ "redis://:p%@host", "'%' without two hex digits" },
		{ "redis://:p%zz@host", "'%' without two hex digits" },
		{ "redis://:p%00q@host", "%00" },
		{ "redis://:p\"q@host", "must be written %XX" },
		{ "redis://:p[q@host", "must be written %XX" },
		{ "redis://:p\\q@host", "must be written %XX" },
		{ "redis://h\tost", "a control character at byte 10" },
		{ "redis://h\x7fost", "a control character" },
		{ "redis://h\xc3\xa1st", "a non-ASCII byte at byte 10" },
		{ "redis://host\n", "a control character" },
		{ " redis://host", "a space at byte 1" },
		{ "unix://", "no socket path" },
		{ "unix://host/tmp/r.sock", "has a host" },
		{ "unix://:pw@host/tmp/r.sock", "has a host" },
		{ "unix://localhost/tmp/r.sock", "has a host" },
		{ "unix://?db=1", "no socket path" },
		{ "unix:///tmp/", "ends in '/'" },
		{ "unix:///", "ends in '/'" },
		{ "unix:///tmp/r.sock?", "other than db=N" },
		{ "unix:///tmp/r.sock?db", "other than db=N" },
		{ "unix:///tmp/r.sock?db=", "db= must be a number" },
		{ "unix:///tmp/r.sock?db=x", "db= must be a number" },
		{ "unix:///tmp/r.sock?db=2147483648", "db= must be a number" },
		{ "unix:///tmp/r.sock?db=1&db=2", "db= twice" },
		{ "unix:///tmp/r.sock?db=1&", "other than db=N" },
		{ "unix:///tmp/r.sock?password=x", "other than db=N" },
		{ "unix:///tmp/r.sock?DB=1", "other than db=N" },
		{ "unix:///tmp/r%00.sock", "%00" },
		{ "unix:///tmp/r%.sock", "'%' without two hex digits" },
		{ "unix:///tmp/r[1].sock", "socket path has a character" },
		{ "unix://:@/tmp/r.sock", "empty password" },
		{ "unix://user:pw@/tmp/r.sock", "gives a user name" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct redis_url u;
		char why[256];
		if (parse(bad[i].text, &u, why, sizeof why) != -1)
			fail_msg("\"%s\" accepted", bad[i].text);
		if (!strstr(why, bad[i].reason))
			fail_msg("\"%s\": reason \"%s\" does not say \"%s\"",
			         bad[i].text, why, bad[i].reason);
		assert_true(strncmp(why, "REDIS_URL ", 10) == 0);
		assert_null(strchr(why, '\n'));
		/* Nothing is left in the structure, a password least of all. */
		const unsigned char *b = (const unsigned char *)&u;
		for (size_t k = 0; k < sizeof u; k++)
			if (b[k])
				fail_msg("\"%s\": byte %zu left as %d", bad[i].text,
				         k, b[k]);
	}
}

/* No reason quotes the password, however it is wrong. */
static void test_reasons_hide_the_password(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"redis://:Sesame42%@host",
		"redis://:Sesame42%zz@host",
		"redis://:Sesame42\"@host",
		"redis://:Sesame42@host:0",
		"redis://:Sesame42@host/x",
		"redis://:Sesame42@::1",
		"redis://Sesame42:Sesame42@host",
		"redis://:Sesame42/@host",
		"redis://:Sesame42@@host",
		"redis://:Sesame42@host?Sesame42",
		"unix://:Sesame42@host/x",
		"unix://:Sesame42@/x?Sesame42",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct redis_url u;
		char why[256];
		assert_int_equal(parse(bad[i], &u, why, sizeof why), -1);
		if (strstr(why, "Sesame"))
			fail_msg("\"%s\": the reason quotes it: %s", bad[i], why);
	}
}

/* A short reason buffer gets a cut, terminated reason. */
static void test_short_reason_buffer(void **state)
{
	(void)state;
	struct redis_url u;
	char why[8];
	assert_int_equal(parse("http://x", &u, why, sizeof why), -1);
	assert_string_equal(why, "REDIS_U");
}

static void test_describe(void **state)
{
	(void)state;
	static const struct {
		const char *text, *described;
	} cases[] = {
		{ "redis://127.0.0.1", "127.0.0.1:6379 db 0" },
		{ "redis://:secret@h:1/2", "h:1 db 2" },
		{ "redis://[::1]:6380/3", "[::1]:6380 db 3" },
		{ "unix://:secret@/run/r.sock?db=5", "unix:/run/r.sock db 5" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct redis_url u;
		char why[256], out[REDIS_URL_MAX + 32];
		assert_int_equal(parse(cases[i].text, &u, why, sizeof why), 0);
		redis_url_describe(&u, out, sizeof out);
		assert_string_equal(out, cases[i].described);
	}
	struct redis_url u;
	char why[256], out[6];
	assert_int_equal(parse("redis://[::1]", &u, why, sizeof why), 0);
	redis_url_describe(&u, out, sizeof out);
	assert_string_equal(out, "[::1]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_urls),
		cmocka_unit_test(test_socket_path_length),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_reasons_hide_the_password),
		cmocka_unit_test(test_short_reason_buffer),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
