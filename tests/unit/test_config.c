#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "support/tmpdir.h"

/* Each test gets its own temporary directory. */
struct fixture {
	char dir[64];
	char path[PATH_MAX];   /* dir/chat.ini */
	char *warn_text;
	size_t warn_len;
	FILE *warn;            /* an open_memstream for warnings */
	char err[256];
	struct chat_config cfg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_true(tmpdir_make(f->dir, sizeof f->dir, "test_config"));
	snprintf(f->path, sizeof f->path, "%s/chat.ini", f->dir);
	f->warn = open_memstream(&f->warn_text, &f->warn_len);
	assert_non_null(f->warn);
	unsetenv("CHAT_SERVER_CONFIG");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	config_free(&f->cfg);
	fclose(f->warn);
	free(f->warn_text);
	tmpdir_remove(f->dir);
	free(f);
	unsetenv("CHAT_SERVER_CONFIG");
	return 0;
}

static void write_ini(struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* The warnings written so far ("" when none). */
static const char *warnings(struct fixture *f)
{
	assert_int_equal(fflush(f->warn), 0);
	return f->warn_text ? f->warn_text : "";
}

/* Loads into f->cfg, releasing what an earlier load of the test left. */
static int load(struct fixture *f)
{
	config_free(&f->cfg);
	f->err[0] = '\0';
	return config_load(f->path, &f->cfg, f->warn, f->err, sizeof f->err);
}

/* A failed load: -1 and exactly one line of reason. */
static void expect_failure(struct fixture *f, const char *needle)
{
	assert_int_equal(load(f), -1);
	assert_true(strlen(f->err) > 0);
	assert_null(strchr(f->err, '\n'));
	assert_null(strchr(f->err, '\r'));
	if (needle && !strstr(f->err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", f->err, needle);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\n");
	assert_int_equal(load(f), 0);
	const struct chat_config *c = &f->cfg;
	assert_string_equal(c->base_dir, "/srv/chat");
	assert_string_equal(c->rooms_dir, "/srv/chat/rooms");
	assert_string_equal(c->users_dir, "/srv/chat/users");
	assert_string_equal(c->sessions_dir, "/srv/chat/sessions");
	assert_string_equal(c->log_dir, "/srv/chat/log");
	assert_string_equal(c->run_dir, ""); /* found by rundir.c */
	assert_string_equal(c->session_cookie, "PHPSESSID");
	assert_int_equal(c->last_messages, 20);
	assert_int_equal(c->poll_interval_ms, 100);
	assert_int_equal(c->expected_users, 200);
	assert_int_equal(c->file_mode, 0644);
	assert_int_equal(c->dir_mode, 0755);
	assert_int_equal(c->whisper_log, WHISPER_LOG_NONE);
	assert_string_equal(c->lang, "");
	assert_string_equal(c->auth_webservice_url, "");
	assert_string_equal(c->auth_cookiename, "");
	assert_string_equal(warnings(f), "");
}

/* "[global:lang]" is a section, but iniparser files it where the key LANG
 * would be, without a value: it reads as an unset key, never a crash. */
static void test_section_named_like_a_key(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\n[global:lang]\n"
	             "[global:rooms_dir]\n[global:whisper_log]\n"
	             "[global:last_messages]\n[global:legacy_client]\n");
	assert_int_equal(load(f), 0);
	const struct chat_config *c = &f->cfg;
	assert_string_equal(c->lang, "");
	assert_string_equal(c->rooms_dir, "/srv/chat/rooms");
	assert_int_equal(c->whisper_log, WHISPER_LOG_NONE);
	assert_int_equal(c->last_messages, 20);
	assert_int_equal(c->legacy_client, 1);
}

static void test_overrides(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\n"
	             "BASE_DIR = /srv/chat\n"
	             "LANG = cs_CZ.UTF-8\n"
	             "ROOMS_DIR = /var/lib/chat/r\n"
	             "USERS_DIR = /run/chat/u\n"
	             "SESSIONS_DIR = /var/lib/php/sessions\n"
	             "LOG_DIR = /var/log/chat\n"
	             "RUN_DIR = /run/chat\n"
	             "WHISPER_LOG = notice\n"
	             "SESSION_COOKIE = CHATSID\n"
	             "LAST_MESSAGES = 5\n"
	             "POLL_INTERVAL_MS = 250\n"
	             "EXPECTED_USERS = 50\n"
	             "FILE_MODE = 0600\n"
	             "DIR_MODE = 0700\n");
	assert_int_equal(load(f), 0);
	const struct chat_config *c = &f->cfg;
	assert_string_equal(c->base_dir, "/srv/chat");
	assert_string_equal(c->lang, "cs_CZ.UTF-8");
	assert_string_equal(c->rooms_dir, "/var/lib/chat/r");
	assert_string_equal(c->users_dir, "/run/chat/u");
	assert_string_equal(c->sessions_dir, "/var/lib/php/sessions");
	assert_string_equal(c->log_dir, "/var/log/chat");
	assert_string_equal(c->run_dir, "/run/chat");
	assert_int_equal(c->whisper_log, WHISPER_LOG_NOTICE);
	assert_string_equal(c->session_cookie, "CHATSID");
	assert_int_equal(c->last_messages, 5);
	assert_int_equal(c->poll_interval_ms, 250);
	assert_int_equal(c->expected_users, 50);
	assert_int_equal(c->file_mode, 0600);
	assert_int_equal(c->dir_mode, 0700);
	assert_string_equal(warnings(f), "");
}

static void test_zero_last_messages_and_lower_case_keys(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nbase_dir = /b\nlast_messages = 0\n"
	             "file_mode = 644\n");
	assert_int_equal(load(f), 0);
	assert_string_equal(f->cfg.base_dir, "/b");
	assert_int_equal(f->cfg.last_messages, 0);
	assert_int_equal(f->cfg.file_mode, 0644); /* always octal */
}

static void test_legacy_keys(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\n"
	             "BASE_DIR = /var/www/chat\n"
	             "LANG = en_US.UTF-8\n"
	             "ICE_SERVER_DNS = stun.example.org\n"
	             "WEBSOCKETD_SERVER_URL = \"wss://example.org/chat/rooms/\"\n"
	             "AUTHENTIZATION_WEBSERVICE_URL = https://sso.example.org/id\n"
	             "AUTHENTIZATION_COOKIENAME = iPlanetDirectoryPro\n");
	assert_int_equal(load(f), 0);
	const struct chat_config *c = &f->cfg;
	assert_string_equal(c->lang, "en_US.UTF-8");
	assert_string_equal(c->auth_webservice_url, "https://sso.example.org/id");
	assert_string_equal(c->auth_cookiename, "iPlanetDirectoryPro");
	assert_string_equal(warnings(f), "");
}

static void test_room_descriptions_ignored(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\n\n"
	             "[room descriptions]\n"
	             "lobby = The lobby\n"
	             "Železná-hospoda = Hospoda u železa\n"
	             "BASE_DIR = /elsewhere\n");
	assert_int_equal(load(f), 0);
	assert_string_equal(f->cfg.base_dir, "/srv/chat");
	assert_string_equal(f->cfg.rooms_dir, "/srv/chat/rooms");
	assert_string_equal(warnings(f), "");
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	expect_failure(f, f->path);
}

static void test_directory_instead_of_file(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(mkdir(f->path, 0700), 0);
	expect_failure(f, f->path);
}

static void test_no_base_dir(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nLANG = C\n");
	expect_failure(f, "BASE_DIR");
}

static void test_base_dir_outside_global(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[other]\nBASE_DIR = /srv/chat\n");
	expect_failure(f, "BASE_DIR");
}

static void test_relative_base_dir(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = srv/chat\n");
	expect_failure(f, "BASE_DIR");
}

static void test_relative_dir_key(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\nUSERS_DIR = users\n");
	expect_failure(f, "USERS_DIR");
}

static void test_non_numeric_last_messages(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\nLAST_MESSAGES = twenty\n");
	expect_failure(f, "LAST_MESSAGES");
}

static void test_legacy_client_flag(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\nLEGACY_CLIENT = off\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->cfg.legacy_client, 0);
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\nLEGACY_CLIENT = On\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->cfg.legacy_client, 1);
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\nLEGACY_CLIENT = maybe\n");
	expect_failure(f, "LEGACY_CLIENT");
}

static void test_bad_numbers(void **state)
{
	static const char *const bad[] = {
		"LAST_MESSAGES = -1\n", "LAST_MESSAGES = 20x\n",
		"POLL_INTERVAL_MS = 0\n", "POLL_INTERVAL_MS = 99999999999999999999\n",
		"EXPECTED_USERS = 0\n", "FILE_MODE = 0999\n", "DIR_MODE = 01777\n",
	};
	struct fixture *f = *state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char text[256];
		snprintf(text, sizeof text, "[global]\nBASE_DIR = /b\n%s", bad[i]);
		write_ini(f, text);
		expect_failure(f, "must be a number");
	}
}

static void test_whisper_log_values(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /b\nWHISPER_LOG = FULL\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->cfg.whisper_log, WHISPER_LOG_FULL);
	write_ini(f, "[global]\nBASE_DIR = /b\nWHISPER_LOG = none\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->cfg.whisper_log, WHISPER_LOG_NONE);
	write_ini(f, "[global]\nBASE_DIR = /b\nWHISPER_LOG = everything\n");
	expect_failure(f, "WHISPER_LOG");
}

static void test_empty_session_cookie(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\nSESSION_COOKIE =\n");
	expect_failure(f, "SESSION_COOKIE");
}

static void test_syntax_error(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\n"
	             "this line is not a key value pair\n");
	expect_failure(f, f->path);
	assert_string_equal(warnings(f), "");
}

static void test_too_long_value(void **state)
{
	struct fixture *f = *state;
	static char text[CONFIG_PATH_MAX + 64];
	int n = snprintf(text, sizeof text, "[global]\nBASE_DIR = /");
	memset(text + n, 'a', CONFIG_PATH_MAX);
	memcpy(text + n + CONFIG_PATH_MAX, "\n", 2);
	write_ini(f, text);
	/* iniparser may refuse the long line itself; either way it fails. */
	expect_failure(f, NULL);
	assert_null(f->cfg.base_dir);
}

static void test_unknown_key_warns(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\nFOO_BAR = 1\n");
	assert_int_equal(load(f), 0);
	assert_string_equal(f->cfg.base_dir, "/srv/chat");
	const char *w = warnings(f);
	if (!strcasestr(w, "foo_bar"))
		fail_msg("no warning about FOO_BAR in \"%s\"", w);
	/* one line per unknown key */
	assert_int_equal(w[strlen(w) - 1], '\n');
	assert_ptr_equal(strchr(w, '\n'), w + strlen(w) - 1);
}

static void test_two_unknown_keys(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /b\nONE = 1\nTWO = 2\n");
	assert_int_equal(load(f), 0);
	const char *w = warnings(f);
	assert_non_null(strcasestr(w, "one"));
	assert_non_null(strcasestr(w, "two"));
	const char *nl = strchr(w, '\n');
	assert_non_null(nl);
	assert_non_null(strchr(nl + 1, '\n'));
}

static void test_path_argument_first(void **state)
{
	(void)state;
	assert_int_equal(setenv("CHAT_SERVER_CONFIG", "/env/chat.ini", 1), 0);
	assert_string_equal(config_path("/arg/chat.ini"), "/arg/chat.ini");
}

static void test_path_from_environment(void **state)
{
	(void)state;
	assert_int_equal(setenv("CHAT_SERVER_CONFIG", "/env/chat.ini", 1), 0);
	assert_string_equal(config_path(NULL), "/env/chat.ini");
	assert_string_equal(config_path(""), "/env/chat.ini");
}

static void test_path_default(void **state)
{
	(void)state;
	static const char suffix[] = "/websocket_chat_server.ini";
	assert_int_equal(unsetenv("CHAT_SERVER_CONFIG"), 0);
	const char *p = config_path(NULL);
	assert_non_null(p);
	assert_int_equal(p[0], '/');
	assert_true(strlen(p) > strlen(suffix));
	assert_string_equal(p + strlen(p) - strlen(suffix), suffix);
	assert_int_equal(setenv("CHAT_SERVER_CONFIG", "", 1), 0);
	assert_string_equal(config_path(NULL), p);
}

static void test_load_through_environment(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /from/env\n");
	assert_int_equal(setenv("CHAT_SERVER_CONFIG", f->path, 1), 0);
	assert_int_equal(config_load(config_path(NULL), &f->cfg, f->warn, f->err,
	                             sizeof f->err), 0);
	assert_string_equal(f->cfg.users_dir, "/from/env/users");
}

/* conf/websocket_chat_server.ini, found next to this source file. */
static char *read_sample(void)
{
	char path[PATH_MAX];
	const char *src = __FILE__;
	const char *cut = strstr(src, "tests/unit/");
	snprintf(path, sizeof path, "%.*sconf/websocket_chat_server.ini",
	         cut ? (int)(cut - src) : 0, src);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return NULL;
	static char text[16384];
	size_t n = fread(text, 1, sizeof text - 1, fp);
	fclose(fp);
	text[n] = '\0';
	return text;
}

/* The shipped sample loads cleanly, and its commented-out defaults are
 * the real defaults. */
static void test_sample_config(void **state)
{
	struct fixture *f = *state;
	char *text = read_sample();
	if (!text)
		skip();
	write_ini(f, text);
	assert_int_equal(load(f), 0);
	assert_string_equal(warnings(f), "");
	/* plain takes the loaded strings over; the next load must not free
	 * them. */
	struct chat_config plain = f->cfg;
	memset(&f->cfg, 0, sizeof f->cfg);
	/* uncomment ";KEY=value" lines */
	int keys = 0;
	for (char *p = text; (p = strstr(p, "\n;")); p++)
		if (p[2] >= 'A' && p[2] <= 'Z' && strcspn(p + 2, "=\n ") ==
		    strspn(p + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_")) {
			p[1] = ' ';
			keys++;
		}
	assert_true(keys >= 12);
	write_ini(f, text);
	assert_int_equal(load(f), 0);
	assert_string_equal(warnings(f), "");
	assert_string_equal(plain.rooms_dir, f->cfg.rooms_dir);
	assert_string_equal(plain.users_dir, f->cfg.users_dir);
	assert_string_equal(plain.sessions_dir, f->cfg.sessions_dir);
	assert_string_equal(plain.log_dir, f->cfg.log_dir);
	assert_string_equal(plain.run_dir, f->cfg.run_dir);
	assert_string_equal(plain.session_cookie, f->cfg.session_cookie);
	assert_int_equal(plain.last_messages, f->cfg.last_messages);
	assert_int_equal(plain.poll_interval_ms, f->cfg.poll_interval_ms);
	assert_int_equal(plain.expected_users, f->cfg.expected_users);
	assert_int_equal(plain.file_mode, f->cfg.file_mode);
	assert_int_equal(plain.dir_mode, f->cfg.dir_mode);
	assert_int_equal(plain.whisper_log, f->cfg.whisper_log);
	config_free(&plain);
}

#define COUNT_FIELD(name) +1
enum { STRING_FIELDS = 0 CONFIG_STRING_FIELDS(COUNT_FIELD) };

/* Every string field of c, for tests that must see all of them. */
static void string_fields(const struct chat_config *c,
                          const char *out[STRING_FIELDS])
{
#define FIELD_VALUE(name) c->name,
	const char *all[] = { CONFIG_STRING_FIELDS(FIELD_VALUE) };
	memcpy(out, all, sizeof all);
}

/* The parsed file is freed before config_load returns: every string must
 * be a copy inside the block the config owns, not a pointer into
 * iniparser's storage (which a later allocation could reuse). */
static void expect_strings_owned(const struct chat_config *c)
{
	const char *fields[STRING_FIELDS];
	string_fields(c, fields);
	size_t size = 0;
	for (size_t i = 0; i < STRING_FIELDS; i++) {
		assert_non_null(fields[i]);
		size += strlen(fields[i]) + 1;
	}
	assert_non_null(c->strings);
	for (size_t i = 0; i < STRING_FIELDS; i++)
		if (fields[i] < c->strings ||
		    fields[i] + strlen(fields[i]) >= c->strings + size)
			fail_msg("string field %zu is outside the config's block", i);
}

/* What every connection keeps for its whole life (280 bytes on x86-64
 * with the transport's three fields). */
static void test_config_is_small(void **state)
{
	(void)state;
	assert_true(sizeof(struct chat_config) <= 280);
}

static void test_strings_survive_the_dictionary(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\n"
	             "BASE_DIR = /srv/chat\n"
	             "LANG = cs_CZ.UTF-8\n"
	             "ICE_SERVER_DNS = stun.example.org\n"
	             "WEBSOCKETD_SERVER_URL = wss://example.org/chat/rooms/\n"
	             "AUTHENTIZATION_WEBSERVICE_URL = https://sso.example.org/id\n"
	             "AUTHENTIZATION_COOKIENAME = iPlanetDirectoryPro\n"
	             "ROOMS_DIR = /var/lib/chat/r\n"
	             "USERS_DIR = /run/chat/u\n"
	             "SESSIONS_DIR = /var/lib/php/sessions\n"
	             "LOG_DIR = /var/log/chat\n"
	             "RUN_DIR = /run/chat\n"
	             "SESSION_COOKIE = CHATSID\n"
	             "ALLOWED_ORIGINS = https://example.org\n"
	             "TRUSTED_PROXIES = 10.0.0.1\n");
	assert_int_equal(load(f), 0);
	expect_strings_owned(&f->cfg);
	/* Allocations that may reuse what the dictionary held. */
	void *junk[64];
	for (size_t i = 0; i < 64; i++) {
		junk[i] = malloc(32 + i);
		assert_non_null(junk[i]);
		memset(junk[i], '#', 32 + i);
	}
	const struct chat_config *c = &f->cfg;
	assert_string_equal(c->base_dir, "/srv/chat");
	assert_string_equal(c->lang, "cs_CZ.UTF-8");
	assert_string_equal(c->auth_webservice_url, "https://sso.example.org/id");
	assert_string_equal(c->auth_cookiename, "iPlanetDirectoryPro");
	assert_string_equal(c->rooms_dir, "/var/lib/chat/r");
	assert_string_equal(c->users_dir, "/run/chat/u");
	assert_string_equal(c->sessions_dir, "/var/lib/php/sessions");
	assert_string_equal(c->log_dir, "/var/log/chat");
	assert_string_equal(c->run_dir, "/run/chat");
	assert_string_equal(c->session_cookie, "CHATSID");
	assert_string_equal(c->allowed_origins, "https://example.org");
	assert_string_equal(c->trusted_proxies, "10.0.0.1");
	for (size_t i = 0; i < 64; i++)
		free(junk[i]);
}

/* Defaults, literal or built from BASE_DIR, are copied like the rest;
 * unset keys are "", never NULL. */
static void test_default_strings_owned(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /srv/chat\n");
	assert_int_equal(load(f), 0);
	expect_strings_owned(&f->cfg);
	assert_string_equal(f->cfg.rooms_dir, "/srv/chat/rooms");
	assert_string_equal(f->cfg.run_dir, "");
	assert_string_equal(f->cfg.session_cookie, "PHPSESSID");
	assert_string_equal(f->cfg.trusted_proxies, "127.0.0.1 ::1");
	assert_string_equal(f->cfg.allowed_origins, "");
	assert_string_equal(f->cfg.lang, "");
}

/* A failed load leaves nothing to release and nothing pointing into the
 * freed dictionary, whichever step failed; config_free stays safe. */
static void test_free_after_failed_load(void **state)
{
	static const char *const bad[] = {
		"[global]\nLANG = C\n",                          /* strings */
		"[global]\nBASE_DIR = /b\nLOG_DIR = log\n",      /* dirs */
		"[global]\nBASE_DIR = /b\nFLOOD_RATE = x\n",     /* numbers */
		"[global]\nBASE_DIR = /b\nWHISPER_LOG = all\n",  /* last step */
	};
	struct fixture *f = *state;
	expect_failure(f, f->path); /* no file */
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		write_ini(f, bad[i]);
		expect_failure(f, NULL);
		assert_null(f->cfg.strings);
		assert_null(f->cfg.base_dir);
		assert_null(f->cfg.rooms_dir);
		assert_null(f->cfg.trusted_proxies);
		config_free(&f->cfg);
		config_free(&f->cfg);
	}
}

static void test_load_again_after_free(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /first\nLANG = C\n");
	assert_int_equal(config_load(f->path, &f->cfg, f->warn, f->err,
	                             sizeof f->err), 0);
	assert_string_equal(f->cfg.users_dir, "/first/users");
	config_free(&f->cfg);
	assert_null(f->cfg.strings);
	write_ini(f, "[global]\nBASE_DIR = /second/place\n");
	assert_int_equal(config_load(f->path, &f->cfg, f->warn, f->err,
	                             sizeof f->err), 0);
	expect_strings_owned(&f->cfg);
	assert_string_equal(f->cfg.users_dir, "/second/place/users");
	assert_string_equal(f->cfg.lang, "");
	config_free(&f->cfg);
	/* and after a failed load */
	write_ini(f, "[global]\nBASE_DIR = relative\n");
	assert_int_equal(config_load(f->path, &f->cfg, f->warn, f->err,
	                             sizeof f->err), -1);
	config_free(&f->cfg);
	write_ini(f, "[global]\nBASE_DIR = /third\n");
	assert_int_equal(config_load(f->path, &f->cfg, f->warn, f->err,
	                             sizeof f->err), 0);
	assert_string_equal(f->cfg.log_dir, "/third/log");
}

/* "[global]\n<key> = <prefix><n - strlen(prefix) letters>\n" */
static void write_long(struct fixture *f, const char *key, const char *prefix,
                       size_t n)
{
	static char text[CONFIG_VALUE_MAX + 128];
	int head = snprintf(text, sizeof text, "[global]\nBASE_DIR = /b\n"
	                    "%s = %s", key, prefix);
	assert_true(head > 0 && (size_t)head + n < sizeof text);
	memset(text + head, 'a', n - strlen(prefix));
	memcpy(text + head + n - strlen(prefix), "\n", 2);
	write_ini(f, text);
}

/* The limits are what they were with fixed arrays: one byte short of the
 * limit is taken whole, the limit itself is refused with the same words. */
static void test_length_limits(void **state)
{
	struct fixture *f = *state;
	write_long(f, "LANG", "", CONFIG_VALUE_MAX - 1);
	assert_int_equal(load(f), 0);
	assert_int_equal(strlen(f->cfg.lang), CONFIG_VALUE_MAX - 1);
	write_long(f, "LANG", "", CONFIG_VALUE_MAX);
	assert_int_equal(load(f), -1);
	assert_string_equal(f->err, "config key LANG is too long");

	write_long(f, "ROOMS_DIR", "/", CONFIG_PATH_MAX - 1);
	assert_int_equal(load(f), 0);
	assert_int_equal(strlen(f->cfg.rooms_dir), CONFIG_PATH_MAX - 1);
	write_long(f, "ROOMS_DIR", "/", CONFIG_PATH_MAX);
	assert_int_equal(load(f), -1);
	assert_string_equal(f->err, "config key ROOMS_DIR is too long");

	/* BASE_DIR fits, but BASE_DIR/rooms would not. */
	static char text[CONFIG_PATH_MAX + 64];
	int n = snprintf(text, sizeof text, "[global]\nBASE_DIR = /");
	memset(text + n, 'a', CONFIG_PATH_MAX - 2);
	memcpy(text + n + CONFIG_PATH_MAX - 2, "\n", 2);
	write_ini(f, text);
	assert_int_equal(load(f), -1);
	assert_string_equal(f->err, "BASE_DIR is too long");
}

/* ---- WebRTC: TURN_URLS, TURN_SECRET(_FILE), TURN_TTL, ICE_TRANSPORT_POLICY ---- */

/* f->dir/<name> with text in it; its path into path. */
static void write_file(struct fixture *f, const char *name, const char *text,
                       char *path, size_t pathsz)
{
	snprintf(path, pathsz, "%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static void test_turn_defaults(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /b\n");
	assert_int_equal(load(f), 0);
	assert_string_equal(f->cfg.turn_urls, "");
	assert_string_equal(f->cfg.turn_secret, "");
	assert_string_equal(f->cfg.turn_secret_file, "");
	assert_int_equal(f->cfg.turn_ttl, 86400);
	assert_int_equal(f->cfg.ice_relay_only, 0);
}

static void test_turn_secret_in_the_config(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /b\n"
	             "TURN_URLS = \"turn:turn.example.org:3478, turns:turn.example.org:5349\"\n"
	             "TURN_SECRET = \"s3cr=t;x\"\n"
	             "TURN_TTL = 3600\n"
	             "ICE_TRANSPORT_POLICY = Relay\n");
	assert_int_equal(load(f), 0);
	assert_string_equal(f->cfg.turn_urls,
	                    "turn:turn.example.org:3478, turns:turn.example.org:5349");
	assert_string_equal(f->cfg.turn_secret, "s3cr=t;x");
	/* --check looks at the file the secret is in: this one. */
	assert_string_equal(f->cfg.turn_secret_file, f->path);
	assert_int_equal(f->cfg.turn_ttl, 3600);
	assert_int_equal(f->cfg.ice_relay_only, 1);
	assert_string_equal(warnings(f), "");
	expect_strings_owned(&f->cfg);
}

static void test_turn_secret_file(void **state)
{
	struct fixture *f = *state;
	char secret[PATH_MAX], text[PATH_MAX + 256];
	static const char *const forms[] = {
		"0123abcd\n", "0123abcd", "0123abcd \r\n", "0123abcd\t\n\n",
	};
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		write_file(f, "turn_secret", forms[i], secret, sizeof secret);
		snprintf(text, sizeof text, "[global]\nBASE_DIR = /b\n"
		         "TURN_URLS = turn:198.51.100.1:3478\n"
		         "TURN_SECRET_FILE = %s\nICE_TRANSPORT_POLICY = all\n",
		         secret);
		write_ini(f, text);
		assert_int_equal(load(f), 0);
		assert_string_equal(f->cfg.turn_secret, "0123abcd");
		assert_string_equal(f->cfg.turn_secret_file, secret);
		assert_int_equal(f->cfg.ice_relay_only, 0);
		expect_strings_owned(&f->cfg);
	}
	/* The longest secret taken, and one byte more. */
	char *long_secret = malloc(CONFIG_VALUE_MAX + 2);
	assert_non_null(long_secret);
	memset(long_secret, 'k', CONFIG_VALUE_MAX - 1);
	memcpy(long_secret + CONFIG_VALUE_MAX - 1, "\n", 2);
	write_file(f, "turn_secret", long_secret, secret, sizeof secret);
	assert_int_equal(load(f), 0);
	assert_int_equal(strlen(f->cfg.turn_secret), CONFIG_VALUE_MAX - 1);
	memcpy(long_secret + CONFIG_VALUE_MAX - 1, "k\n", 3);
	write_file(f, "turn_secret", long_secret, secret, sizeof secret);
	expect_failure(f, "too long");
	free(long_secret);
}

/* Without a TURN URL the secret keys are not looked at. */
static void test_turn_off_ignores_the_secret(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /b\nTURN_URLS =\n"
	             "TURN_SECRET = a\nTURN_SECRET_FILE = /nonexistent/secret\n");
	assert_int_equal(load(f), 0);
	assert_string_equal(f->cfg.turn_urls, "");
	assert_string_equal(f->cfg.turn_secret, "");
	assert_string_equal(f->cfg.turn_secret_file, "");
	assert_string_equal(warnings(f), "");
}

static void test_turn_errors(void **state)
{
	struct fixture *f = *state;
	char secret[PATH_MAX], dir[PATH_MAX], text[PATH_MAX + 256];
	/* file: what f->dir/turn_secret holds; at: then TURN_SECRET_FILE is
	 * f->dir followed by it. */
	const struct {
		const char *keys, *file, *at, *needle;
	} bad[] = {
		{ "TURN_URLS = stun:x.example\nTURN_SECRET = s\n", NULL, NULL, "TURN_URLS" },
		{ "TURN_URLS = turn:x.example:99999\nTURN_SECRET = s\n", NULL, NULL, "TURN_URLS" },
		{ "TURN_URLS = turn:x.example\n", NULL, NULL, "TURN_SECRET" },
		{ "TURN_URLS = turn:x.example\nTURN_SECRET = s\n"
		  "TURN_SECRET_FILE = /etc/x\n", NULL, NULL, "both" },
		{ "TURN_URLS = turn:x.example\nTURN_SECRET_FILE = secret\n", NULL,
		  NULL, "absolute" },
		{ "TURN_URLS = turn:x.example\n", "", "/missing", "missing" },
		{ "TURN_URLS = turn:x.example\n", "", "/turn_secret", "empty" },
		{ "TURN_URLS = turn:x.example\n", " \n\n", "/turn_secret", "empty" },
		{ "TURN_URLS = turn:x.example\n", "a\nb\n", "/turn_secret", "one line" },
		{ "TURN_URLS = turn:x.example\n", "", "/d", "not a regular file" },
		{ "TURN_URLS = turn:x.example\n", "", "/fifo", "not a regular file" },
		{ "TURN_TTL = 59\n", NULL, NULL, "TURN_TTL" },
		{ "TURN_TTL = 604801\n", NULL, NULL, "TURN_TTL" },
		{ "TURN_TTL = day\n", NULL, NULL, "TURN_TTL" },
		{ "ICE_TRANSPORT_POLICY = none\n", NULL, NULL, "ICE_TRANSPORT_POLICY" },
		{ "ICE_TRANSPORT_POLICY = relay\n", NULL, NULL, "needs TURN_URLS" },
		{ "ICE_TRANSPORT_POLICY = relay\nTURN_URLS = \" , \"\n", NULL, NULL,
		  "needs TURN_URLS" },
	};
	snprintf(dir, sizeof dir, "%s/d", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof dir, "%s/fifo", f->dir); /* never waited on */
	assert_int_equal(mkfifo(dir, 0600), 0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (bad[i].file)
			write_file(f, "turn_secret", bad[i].file, secret,
			           sizeof secret);
		int n = snprintf(text, sizeof text, "[global]\nBASE_DIR = /b\n%s",
		                 bad[i].keys);
		if (bad[i].at)
			snprintf(text + n, sizeof text - (size_t)n,
			         "TURN_SECRET_FILE = %s%s\n", f->dir, bad[i].at);
		write_ini(f, text);
		expect_failure(f, bad[i].needle);
		assert_null(f->cfg.turn_secret);
	}
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* ---- The room transport: TRANSPORT, REDIS_URL, REDIS_KEY_PREFIX ---- */

static void test_transport_defaults(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /b\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->cfg.transport, CONFIG_TRANSPORT_FILES);
	assert_string_equal(f->cfg.redis_url, "redis://127.0.0.1:6379/0");
	assert_string_equal(f->cfg.redis_key_prefix, "chat:");
	/* Present but empty: the URL's default; the prefix is refused. */
	write_ini(f, "[global]\nBASE_DIR = /b\nREDIS_URL =\n");
	assert_int_equal(load(f), 0);
	assert_string_equal(f->cfg.redis_url, CONFIG_REDIS_URL_DEFAULT);
	expect_strings_owned(&f->cfg);
}

static void test_transport_values(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /b\nTRANSPORT = Redis\n"
	             "REDIS_URL = \"unix:///run/redis/redis.sock?db=3\"\n"
	             "REDIS_KEY_PREFIX = {site-a}:chat/\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->cfg.transport, CONFIG_TRANSPORT_REDIS);
	assert_string_equal(f->cfg.redis_url, "unix:///run/redis/redis.sock?db=3");
	assert_string_equal(f->cfg.redis_key_prefix, "{site-a}:chat/");
	expect_strings_owned(&f->cfg);
	assert_string_equal(warnings(f), "");
	write_ini(f, "[global]\nBASE_DIR = /b\nTRANSPORT = files\n"
	             "REDIS_URL = \"redis://:p%40ss@[::1]:6380/15\"\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->cfg.transport, CONFIG_TRANSPORT_FILES);
	assert_string_equal(f->cfg.redis_url, "redis://:p%40ss@[::1]:6380/15");
	/* The longest prefix. */
	char text[256];
	snprintf(text, sizeof text, "[global]\nBASE_DIR = /b\n"
	         "REDIS_KEY_PREFIX = %0*d\n", CONFIG_REDIS_KEY_PREFIX_MAX, 7);
	write_ini(f, text);
	assert_int_equal(load(f), 0);
	assert_int_equal(strlen(f->cfg.redis_key_prefix),
	                 CONFIG_REDIS_KEY_PREFIX_MAX);
}

static void test_transport_errors(void **state)
{
	struct fixture *f = *state;
	const struct {
		const char *keys, *needle;
	} bad[] = {
		{ "TRANSPORT = file\n", "TRANSPORT must be files or redis" },
		{ "TRANSPORT = redis streams\n", "TRANSPORT must be files" },
		{ "TRANSPORT =\n", "TRANSPORT must be files or redis, not \"\"" },
		{ "REDIS_URL = http://127.0.0.1\n", "REDIS_URL must start with" },
		{ "REDIS_URL = redis://host:0\n", "REDIS_URL port" },
		{ "REDIS_URL = rediss://host\n", "TLS" },
		/* Checked when TRANSPORT=files too: it shows before it is used. */
		{ "TRANSPORT = files\nREDIS_URL = redis://\n", "no host" },
		{ "REDIS_KEY_PREFIX =\n", "REDIS_KEY_PREFIX must be 1 to 64" },
		{ "REDIS_KEY_PREFIX = \"a b\"\n", "REDIS_KEY_PREFIX" },
		{ "REDIS_KEY_PREFIX = \"a\tb\"\n", "REDIS_KEY_PREFIX" },
		{ "REDIS_KEY_PREFIX = ch\xc3\xa1t\n", "REDIS_KEY_PREFIX" },
		{ "REDIS_KEY_PREFIX = 12345678901234567890123456789012345678901"
		  "234567890123456789012345\n", "REDIS_KEY_PREFIX" },
	};
	char text[512];
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(text, sizeof text, "[global]\nBASE_DIR = /b\n%s",
		         bad[i].keys);
		write_ini(f, text);
		expect_failure(f, bad[i].needle);
	}
}

/* A bad REDIS_URL is reported without itself: it may hold a password. */
static void test_redis_url_error_hides_the_password(void **state)
{
	struct fixture *f = *state;
	write_ini(f, "[global]\nBASE_DIR = /b\nTRANSPORT = redis\n"
	             "REDIS_URL = \"redis://:Sesame42@host:99999/0\"\n");
	expect_failure(f, "port must be a number from 1 to 65535");
	assert_null(strstr(f->err, "Sesame42"));
	write_ini(f, "[global]\nBASE_DIR = /b\n"
	             "REDIS_URL = \"redis://:Sesame%4@host\"\n");
	expect_failure(f, "password");
	assert_null(strstr(f->err, "Sesame"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_section_named_like_a_key),
		T(test_overrides),
		T(test_zero_last_messages_and_lower_case_keys),
		T(test_legacy_keys),
		T(test_room_descriptions_ignored),
		T(test_missing_file),
		T(test_directory_instead_of_file),
		T(test_no_base_dir),
		T(test_base_dir_outside_global),
		T(test_relative_base_dir),
		T(test_relative_dir_key),
		T(test_non_numeric_last_messages),
		T(test_legacy_client_flag),
		T(test_bad_numbers),
		T(test_whisper_log_values),
		T(test_empty_session_cookie),
		T(test_syntax_error),
		T(test_too_long_value),
		T(test_unknown_key_warns),
		T(test_two_unknown_keys),
		T(test_path_argument_first),
		T(test_path_from_environment),
		T(test_path_default),
		T(test_load_through_environment),
		T(test_sample_config),
		T(test_config_is_small),
		T(test_strings_survive_the_dictionary),
		T(test_default_strings_owned),
		T(test_free_after_failed_load),
		T(test_load_again_after_free),
		T(test_length_limits),
		T(test_turn_defaults),
		T(test_turn_secret_in_the_config),
		T(test_turn_secret_file),
		T(test_turn_off_ignores_the_secret),
		T(test_turn_errors),
		T(test_transport_defaults),
		T(test_transport_values),
		T(test_transport_errors),
		T(test_redis_url_error_hides_the_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
