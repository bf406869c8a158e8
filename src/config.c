#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <iniparser.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ice.h"
#include "identity.h"
#include "redis_url.h"

/* Every key of [global], lower case as iniparser stores them.  Keys read by
 * the PHP pages only are listed too so they are not warned about. */
static const char *const known_keys[] = {
	"base_dir", "lang", "ice_server_dns", "websocketd_server_url",
	"authentization_webservice_url", "authentization_cookiename",
	"rooms_dir", "users_dir", "sessions_dir", "log_dir", "moderation_dir",
	"session_cookie", "last_messages", "poll_interval_ms", "expected_users",
	"file_mode", "dir_mode", "run_dir", "whisper_log",
	"max_message_bytes", "max_room_users", "max_connections_per_address",
	"legacy_client", "allowed_origins", "trusted_proxies", "flood_rate",
	"flood_burst", "turn_urls", "turn_secret", "turn_secret_file",
	"turn_ttl", "ice_transport_policy",
	"auth_token_cookie", "auth_token_secret_file", "session_max_age",
	"identity_sources", "moderators",
	"transport", "redis_url", "redis_key_prefix",
};

/* Keys are named in messages as they are written in the file: in capitals
 * (iniparser hands them to us lowered). */
static void key_upper(const char *key, char *out, size_t outsz)
{
	size_t i = 0;
	for (; key[i] && i + 1 < outsz; i++)
		out[i] = (char)toupper((unsigned char)key[i]);
	out[i] = '\0';
}

const char *config_path(const char *path)
{
	if (path && *path)
		return path;
	const char *env = getenv("CHAT_SERVER_CONFIG");
	if (env && *env)
		return env;
	return CONFIG_DEFAULT_PATH;
}

static bool key_is_known(const char *key)
{
	for (size_t i = 0; i < sizeof known_keys / sizeof *known_keys; i++)
		if (strcmp(key, known_keys[i]) == 0)
			return true;
	return false;
}

static void warn_unknown_keys(const dictionary *d, FILE *warn)
{
	int n = iniparser_getsecnkeys(d, "global");
	if (n <= 0)
		return;
	const char **keys = calloc((size_t)n, sizeof *keys);
	if (!keys || !iniparser_getseckeys(d, "global", keys)) {
		free(keys);
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *key = keys[i] + strlen("global:");
		if (key_is_known(key))
			continue;
		char name[256];
		key_upper(key, name, sizeof name);
		fprintf(warn, "chat_server: warning: unknown key [global] %s "
		              "ignored\n", name);
	}
	free(keys);
}

/* The value of full ("global:key"), or def.  A section named like a key
 * ("[global:lang]") is an entry without a value: iniparser gives NULL. */
static const char *value_of(const dictionary *d, const char *full,
                            const char *def)
{
	const char *v = iniparser_getstring(d, full, def);
	return v ? v : def;
}

/* Points out at a string value, which stays in the dictionary (or is def)
 * until pack_strings copies it; a value of outsz bytes or more is an error,
 * never a silently shortened path. */
static int get_string(const dictionary *d, const char *key, const char *def,
                      const char **out, size_t outsz, char *err, size_t errsz)
{
	char full[64];
	snprintf(full, sizeof full, "global:%s", key);
	const char *v = value_of(d, full, def);
	if (strlen(v) >= outsz) {
		char name[64];
		key_upper(key, name, sizeof name);
		snprintf(err, errsz, "config key %s is too long", name);
		return -1;
	}
	*out = v;
	return 0;
}

static int get_number(const dictionary *d, const char *key, long def, long min,
                      long max, int base, long *out, char *err, size_t errsz)
{
	char full[64];
	snprintf(full, sizeof full, "global:%s", key);
	const char *v = value_of(d, full, NULL);
	if (!v || !*v) {
		*out = def;
		return 0;
	}
	char *end;
	errno = 0;
	long n = strtol(v, &end, base);
	if (errno || *end || n < min || n > max) {
		char name[64];
		key_upper(key, name, sizeof name);
		snprintf(err, errsz, "config key %s must be a number from %ld to "
		                     "%ld, not \"%.40s\"", name, min, max, v);
		return -1;
	}
	*out = n;
	return 0;
}

static int load_whisper_log(const dictionary *d, struct chat_config *c,
                            char *err, size_t errsz)
{
	static const char *const names[] = { "none", "notice", "full" };
	const char *v = value_of(d, "global:whisper_log", "none");
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (strcasecmp(v, names[i]) == 0) {
			c->whisper_log = (enum whisper_log)i;
			return 0;
		}
	}
	snprintf(err, errsz, "config key WHISPER_LOG must be none, notice or "
	                     "full, not \"%.40s\"", v);
	return -1;
}

/* A directory left out defaults to BASE_DIR/<sub>.  The default is added to
 * the dictionary, so that like every other value it outlives this frame
 * until pack_strings copies it. */
static int dir_key(dictionary *d, const char *key, const char *base,
                   const char *sub, const char **out, char *err, size_t errsz)
{
	char def[CONFIG_PATH_MAX], full[64];
	int n = snprintf(def, sizeof def, "%s/%s", base, sub);
	if (n < 0 || (size_t)n >= sizeof def) {
		snprintf(err, errsz, "BASE_DIR is too long");
		return -1;
	}
	snprintf(full, sizeof full, "global:%s", key);
	if (!value_of(d, full, NULL) && iniparser_set(d, full, def) != 0) {
		snprintf(err, errsz, "out of memory reading the config");
		return -1;
	}
	if (get_string(d, key, "", out, CONFIG_PATH_MAX, err, errsz) < 0)
		return -1;
	if ((*out)[0] != '/') {
		char name[64];
		key_upper(key, name, sizeof name);
		snprintf(err, errsz, "config key %s must be an absolute path",
		         name);
		return -1;
	}
	return 0;
}

static int load_strings(const dictionary *d, struct chat_config *c, char *err,
                        size_t errsz)
{
	if (get_string(d, "base_dir", "", &c->base_dir, CONFIG_PATH_MAX, err,
	               errsz) < 0 ||
	    get_string(d, "lang", "", &c->lang, CONFIG_VALUE_MAX, err,
	               errsz) < 0 ||
	    get_string(d, "ice_server_dns", "", &c->ice_server_dns,
	               CONFIG_VALUE_MAX, err, errsz) < 0 ||
	    get_string(d, "authentization_webservice_url", "",
	               &c->auth_webservice_url, CONFIG_VALUE_MAX, err,
	               errsz) < 0 ||
	    get_string(d, "authentization_cookiename", "", &c->auth_cookiename,
	               CONFIG_VALUE_MAX, err, errsz) < 0 ||
	    get_string(d, "session_cookie", "PHPSESSID", &c->session_cookie,
	               CONFIG_VALUE_MAX, err, errsz) < 0 ||
	    get_string(d, "allowed_origins", "", &c->allowed_origins,
	               CONFIG_VALUE_MAX, err, errsz) < 0 ||
	    get_string(d, "trusted_proxies", "127.0.0.1 ::1", &c->trusted_proxies,
	               CONFIG_VALUE_MAX, err, errsz) < 0)
		return -1;
	if (c->base_dir[0] != '/') {
		snprintf(err, errsz, c->base_dir[0]
		         ? "BASE_DIR must be an absolute path"
		         : "BASE_DIR is missing in [global]");
		return -1;
	}
	if (!c->session_cookie[0]) {
		snprintf(err, errsz, "SESSION_COOKIE must not be empty");
		return -1;
	}
	return 0;
}

static int load_dirs(dictionary *d, struct chat_config *c, char *err,
                     size_t errsz)
{
	if (dir_key(d, "rooms_dir", c->base_dir, "rooms", &c->rooms_dir, err,
	            errsz) < 0 ||
	    dir_key(d, "users_dir", c->base_dir, "users", &c->users_dir, err,
	            errsz) < 0 ||
	    dir_key(d, "sessions_dir", c->base_dir, "sessions", &c->sessions_dir,
	            err, errsz) < 0 ||
	    dir_key(d, "log_dir", c->base_dir, "log", &c->log_dir, err,
	            errsz) < 0 ||
	    dir_key(d, "moderation_dir", c->base_dir, "moderation",
	            &c->moderation_dir, err, errsz) < 0 ||
	    get_string(d, "run_dir", "", &c->run_dir, CONFIG_PATH_MAX, err,
	               errsz) < 0)
		return -1;
	if (c->run_dir[0] && c->run_dir[0] != '/') {
		snprintf(err, errsz, "config key RUN_DIR must be an absolute path");
		return -1;
	}
	return 0;
}

/* yes/no, true/false, on/off, 1/0; anything else is an error rather than
 * a silent default. */
static int get_flag(const dictionary *d, const char *key, bool def, int *out,
                    char *err, size_t errsz)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	char full[64], name[64];
	snprintf(full, sizeof full, "global:%s", key);
	const char *v = value_of(d, full, NULL);
	*out = def;
	for (size_t i = 0; v && i < sizeof yes / sizeof *yes; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			*out = 1;
		else if (strcasecmp(v, no[i]) == 0)
			*out = 0;
		else
			continue;
		return 0;
	}
	if (!v || !*v)
		return 0;
	key_upper(key, name, sizeof name);
	snprintf(err, errsz, "config key %s must be yes or no, not \"%.40s\"",
	         name, v);
	return -1;
}

static int load_numbers(const dictionary *d, struct chat_config *c, char *err,
                        size_t errsz)
{
	const struct { const char *key; long def, min, max; int *out; } ints[] = {
		{ "last_messages", 20, 0, 10000, &c->last_messages },
		{ "poll_interval_ms", 100, 10, 60000, &c->poll_interval_ms },
		{ "expected_users", 200, 1, 1000000, &c->expected_users },
		{ "max_message_bytes", 4096, 64, 65536, &c->max_message_bytes },
		{ "max_room_users", 0, 0, 1000000, &c->max_room_users },
		{ "max_connections_per_address", 0, 0, 100000,
		  &c->max_connections_per_address },
		{ "flood_rate", 10, 0, 100000, &c->flood_rate },
		{ "flood_burst", 50, 0, 1000000, &c->flood_burst },
	};
	const struct { const char *key; long def; mode_t *out; } modes[] = {
		/* What the old program's umask gave in practice: the PHP
		 * pages read these files whichever user runs websocketd. */
		{ "file_mode", 0644, &c->file_mode },
		{ "dir_mode", 0755, &c->dir_mode },
	};
	long v;
	for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
		if (get_number(d, ints[i].key, ints[i].def, ints[i].min,
		               ints[i].max, 10, &v, err, errsz) < 0)
			return -1;
		*ints[i].out = (int)v;
	}
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		if (get_number(d, modes[i].key, modes[i].def, 0, 0777, 8, &v,
		               err, errsz) < 0)
			return -1;
		*modes[i].out = (mode_t)v;
	}
	return get_flag(d, "legacy_client", true, &c->legacy_client, err, errsz);
}

/* Reads up to cap bytes of the secret file at path into buf (*len of
 * them): a regular file (O_NONBLOCK: a FIFO is refused, not waited on);
 * with private_only, not a symlink and not open to group or others.
 * Returns NULL, or why it cannot be used. */
static const char *read_secret_bytes(const char *path, bool private_only,
                                     char *buf, size_t cap, size_t *len)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	int fd = open(path, private_only ? flags | O_NOFOLLOW : flags);
	struct stat st;
	const char *why = fd < 0 || fstat(fd, &st) < 0 ? strerror(errno)
	                : !S_ISREG(st.st_mode) ? "not a regular file"
	                : private_only && (st.st_mode & 077)
	                  ? "readable or writable by others than its owner "
	                    "(chmod 600, or 400)" : NULL;
	while (!why && *len < cap) {
		ssize_t n = read(fd, buf + *len, cap - *len);
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR)
			why = strerror(errno);
		else if (n > 0)
			*len += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	return why;
}

/* TURN_SECRET_FILE: the secret on its first line (a final newline and
 * trailing blanks are not part of it), into secret (CONFIG_VALUE_MAX + 1
 * bytes, NUL-terminated). */
static int read_secret_file(const char *path, char *secret, char *err,
                            size_t errsz)
{
	const size_t cap = CONFIG_VALUE_MAX + 1; /* a byte more: too long */
	size_t len = 0;
	const char *why = read_secret_bytes(path, false, secret, cap, &len);
	if (why) {
		snprintf(err, errsz, "config key TURN_SECRET_FILE: cannot read "
		         "%s: %s", path, why);
		return -1;
	}
	while (len > 0 && len < cap && secret[len - 1] &&
	       strchr(" \t\r\n", secret[len - 1]))
		len--;
	why = len == 0 ? "is empty"
	    : len >= CONFIG_VALUE_MAX ? "is too long"
	    : memchr(secret, '\n', len) || memchr(secret, '\0', len)
	      ? "must hold the secret on one line" : NULL;
	if (why) {
		snprintf(err, errsz, "config key TURN_SECRET_FILE: %s %s", path,
		         why);
		explicit_bzero(secret, cap);
		return -1;
	}
	secret[len] = '\0';
	return 0;
}

/* WebRTC (ice.h).  TURN is on when TURN_URLS has a URL, and then needs
 * the shared secret of the TURN server, from exactly one of TURN_SECRET
 * and TURN_SECRET_FILE; without a URL those two are not looked at, and
 * ICE_TRANSPORT_POLICY=relay is an error (it would connect nobody).  The
 * secret read from a file is added to the dictionary, so that like every
 * other value it outlives this frame until pack_strings copies it. */
static int load_turn(dictionary *d, const char *path, struct chat_config *c,
                     char *err, size_t errsz)
{
	long ttl;
	c->turn_secret = c->turn_secret_file = "";
	if (get_string(d, "turn_urls", "", &c->turn_urls, CONFIG_VALUE_MAX, err,
	               errsz) < 0 ||
	    ice_check_turn_urls(c->turn_urls, err, errsz) < 0 ||
	    get_number(d, "turn_ttl", 86400, 60, 604800, 10, &ttl, err,
	               errsz) < 0)
		return -1;
	c->turn_ttl = (int)ttl;
	const char *policy = value_of(d, "global:ice_transport_policy", "");
	if (strcasecmp(policy, "relay") == 0) {
		c->ice_relay_only = 1;
	} else if (*policy && strcasecmp(policy, "all") != 0) {
		snprintf(err, errsz, "config key ICE_TRANSPORT_POLICY must be all "
		         "or relay, not \"%.40s\"", policy);
		return -1;
	}
	if (!c->turn_urls[strspn(c->turn_urls, " ,\t")]) {
		c->turn_urls = "";
		if (!c->ice_relay_only)
			return 0;
		snprintf(err, errsz, "config key ICE_TRANSPORT_POLICY=relay needs "
		         "TURN_URLS");
		return -1;
	}
	const char *secret, *file;
	if (get_string(d, "turn_secret", "", &secret, CONFIG_VALUE_MAX, err,
	               errsz) < 0 ||
	    get_string(d, "turn_secret_file", "", &file, CONFIG_PATH_MAX, err,
	               errsz) < 0)
		return -1;
	if (*secret && *file) {
		snprintf(err, errsz, "config keys TURN_SECRET and TURN_SECRET_FILE "
		         "are both set; keep one");
		return -1;
	}
	if (*secret) {
		c->turn_secret = secret;
		c->turn_secret_file = path;
		return 0;
	}
	if (file[0] != '/') {
		snprintf(err, errsz, *file ? "config key TURN_SECRET_FILE must be "
		         "an absolute path" : "config key TURN_URLS needs "
		         "TURN_SECRET or TURN_SECRET_FILE (the TURN server's "
		         "static-auth-secret)");
		return -1;
	}
	char text[CONFIG_VALUE_MAX + 1];
	if (read_secret_file(file, text, err, errsz) < 0)
		return -1;
	int rc = iniparser_set(d, "global:turn_secret", text);
	explicit_bzero(text, sizeof text);
	if (rc != 0) {
		snprintf(err, errsz, "out of memory reading the config");
		return -1;
	}
	c->turn_secret = value_of(d, "global:turn_secret", "");
	c->turn_secret_file = file;
	return 0;
}

/* The secret read (len bytes of a buffer of cap) less one final newline,
 * in *len; what is wrong with it, or NULL. */
static const char *token_secret_problem(const char *secret, size_t *len,
                                        size_t cap)
{
	if (*len > 0 && *len < cap && secret[*len - 1] == '\n')
		(*len)--;
	if (*len == 0)
		return "is empty";
	if (*len >= CONFIG_VALUE_MAX)
		return "is too long (at most 510 bytes)";
	return memchr(secret, '\0', *len) ? "holds a NUL byte" : NULL;
}

/* AUTH_TOKEN_SECRET_FILE: whoever reads it can mint any name, a
 * moderator's included, so it must be a regular file that nobody but its
 * owner may read or write (mode & 077 == 0).  The secret is its content
 * less one final newline, into secret (CONFIG_VALUE_MAX + 1 bytes). */
static int read_token_secret(const char *path, char *secret, char *err,
                             size_t errsz)
{
	const size_t cap = CONFIG_VALUE_MAX + 1; /* a byte more: too long */
	size_t len = 0;
	const char *why = read_secret_bytes(path, true, secret, cap, &len);
	if (!why)
		why = token_secret_problem(secret, &len, cap);
	if (why) {
		snprintf(err, errsz, "config key AUTH_TOKEN_SECRET_FILE: %s: %s",
		         path, why);
		explicit_bzero(secret, cap);
		return -1;
	}
	secret[len] = '\0';
	return 0;
}

/* IDENTITY_SOURCES: words among token, php and sso, separated by commas
 * or blanks, each at most once; empty: the default order. */
static int load_sources(const dictionary *d, struct chat_config *c,
                        char *err, size_t errsz)
{
	static const char *const names[] = { "token", "php", "sso" };
	static const int values[] = { IDENTITY_TOKEN, IDENTITY_PHP,
	                              IDENTITY_SSO };
	const char *v = value_of(d, "global:identity_sources", "");
	const char *p = v + strspn(v, " ,\t");
	c->n_identity_sources = 0;
	if (!*p) {
		for (size_t i = 0; i < sizeof values / sizeof *values; i++)
			c->identity_sources[c->n_identity_sources++] = values[i];
		return 0;
	}
	while (*p) {
		size_t n = strcspn(p, " ,\t"), i = 0;
		while (i < sizeof names / sizeof *names &&
		       !(strlen(names[i]) == n && strncasecmp(p, names[i], n) == 0))
			i++;
		bool twice = false;
		for (int k = 0; i < sizeof names / sizeof *names &&
		                k < c->n_identity_sources; k++)
			twice |= c->identity_sources[k] == values[i];
		if (i == sizeof names / sizeof *names || twice) {
			snprintf(err, errsz, "config key IDENTITY_SOURCES: \"%.*s\" "
			         "is %s (the words are token, php and sso, each "
			         "once)", (int)(n > 40 ? 40 : n), p,
			         twice ? "named twice" : "no source");
			return -1;
		}
		c->identity_sources[c->n_identity_sources++] = values[i];
		p += n;
		p += strspn(p, " ,\t");
	}
	return 0;
}

/* Identity: the signed token (token.h), the age of PHP sessions, the
 * order of the sources and the OpenSSO moderators.  The token needs both
 * AUTH_TOKEN_COOKIE and AUTH_TOKEN_SECRET_FILE; the secret read from the
 * file is added to the dictionary, so that like every other value it
 * outlives this frame until pack_strings copies it. */
static int load_identity(dictionary *d, struct chat_config *c, char *err,
                         size_t errsz)
{
	long age;
	const char *file;
	c->auth_token_secret = "";
	if (get_string(d, "auth_token_cookie", "", &c->auth_token_cookie,
	               CONFIG_VALUE_MAX, err, errsz) < 0 ||
	    get_string(d, "auth_token_secret_file", "", &file, CONFIG_PATH_MAX,
	               err, errsz) < 0 ||
	    get_string(d, "moderators", "", &c->moderators, CONFIG_VALUE_MAX,
	               err, errsz) < 0 ||
	    get_number(d, "session_max_age", 1440, 0, 100000000, 10, &age, err,
	               errsz) < 0 ||
	    load_sources(d, c, err, errsz) < 0)
		return -1;
	c->session_max_age = (int)age;
	c->auth_token_secret_file = file;
	if (value_of(d, "global:auth_token_secret", NULL)) {
		snprintf(err, errsz, "config key AUTH_TOKEN_SECRET: the secret is "
		         "never read from the config; put it in a file of its own "
		         "and name it with AUTH_TOKEN_SECRET_FILE");
		return -1;
	}
	if (!*c->auth_token_cookie && !*file)
		return 0;
	if (!*c->auth_token_cookie || !*file) {
		snprintf(err, errsz, "config key %s needs %s too",
		         *file ? "AUTH_TOKEN_SECRET_FILE" : "AUTH_TOKEN_COOKIE",
		         *file ? "AUTH_TOKEN_COOKIE" : "AUTH_TOKEN_SECRET_FILE");
		return -1;
	}
	if (strpbrk(c->auth_token_cookie, " \t;,=\"")) {
		snprintf(err, errsz, "config key AUTH_TOKEN_COOKIE is not a cookie "
		         "name");
		return -1;
	}
	if (file[0] != '/') {
		snprintf(err, errsz, "config key AUTH_TOKEN_SECRET_FILE must be an "
		         "absolute path");
		return -1;
	}
	char text[CONFIG_VALUE_MAX + 1];
	if (read_token_secret(file, text, err, errsz) < 0)
		return -1;
	/* Outside [global]: no key of the file, never warned about. */
	int rc = iniparser_set(d, "chat_server token:secret", text);
	explicit_bzero(text, sizeof text);
	if (rc != 0) {
		snprintf(err, errsz, "out of memory reading the config");
		return -1;
	}
	c->auth_token_secret = value_of(d, "chat_server token:secret", "");
	return 0;
}

/* TRANSPORT, and where Redis is: REDIS_URL (empty: the default) must be
 * a URL redis_url_parse takes, REDIS_KEY_PREFIX printable ASCII without
 * spaces.  The reason for a bad URL never quotes it: it may hold a
 * password. */
static int load_transport(const dictionary *d, struct chat_config *c,
                          char *err, size_t errsz)
{
	const char *v = value_of(d, "global:transport", "files");
	if (strcasecmp(v, "files") == 0) {
		c->transport = CONFIG_TRANSPORT_FILES;
	} else if (strcasecmp(v, "redis") == 0) {
		c->transport = CONFIG_TRANSPORT_REDIS;
	} else {
		snprintf(err, errsz, "config key TRANSPORT must be files or "
		         "redis, not \"%.40s\"", v);
		return -1;
	}
	if (get_string(d, "redis_url", CONFIG_REDIS_URL_DEFAULT, &c->redis_url,
	               CONFIG_VALUE_MAX, err, errsz) < 0 ||
	    get_string(d, "redis_key_prefix", CONFIG_REDIS_KEY_PREFIX_DEFAULT,
	               &c->redis_key_prefix, CONFIG_VALUE_MAX, err, errsz) < 0)
		return -1;
	if (!c->redis_url[0])
		c->redis_url = CONFIG_REDIS_URL_DEFAULT;
	struct redis_url url;
	char why[256];
	int rc = redis_url_parse(c->redis_url, &url, why, sizeof why);
	explicit_bzero(&url, sizeof url);
	if (rc < 0) {
		snprintf(err, errsz, "config key %s", why);
		return -1;
	}
	size_t n = strlen(c->redis_key_prefix), ok = 0;
	while (ok < n && c->redis_key_prefix[ok] > 0x20 &&
	       c->redis_key_prefix[ok] < 0x7f)
		ok++;
	if (n == 0 || n > CONFIG_REDIS_KEY_PREFIX_MAX || ok < n) {
		snprintf(err, errsz, "config key REDIS_KEY_PREFIX must be 1 to "
		         "%d printable ASCII characters without spaces, not "
		         "\"%.40s\"", CONFIG_REDIS_KEY_PREFIX_MAX,
		         c->redis_key_prefix);
		return -1;
	}
	return 0;
}

/* The string fields point into the dictionary (or at literal defaults),
 * which is freed once the file is read: copy them all into one block the
 * config owns, each at its own length. */
static int pack_strings(struct chat_config *c, char *err, size_t errsz)
{
#define FIELD_ADDRESS(name) &c->name,
	const char **fields[] = { CONFIG_STRING_FIELDS(FIELD_ADDRESS) };
#undef FIELD_ADDRESS
	const size_t n = sizeof fields / sizeof *fields;
	size_t size = 0;
	for (size_t i = 0; i < n; i++)
		size += strlen(*fields[i]) + 1;
	char *p = malloc(size);
	if (!p) {
		snprintf(err, errsz, "out of memory reading the config");
		return -1;
	}
	c->strings = p;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(*fields[i]) + 1;
		memcpy(p, *fields[i], len);
		*fields[i] = p;
		p += len;
	}
	return 0;
}

/* iniparser reports syntax errors through a printf-like callback; we keep
 * the first one so the caller can print a single clear line. */
static char parse_error[256];

__attribute__((format(printf, 1, 2)))
static int capture_parse_error(const char *fmt, ...)
{
	if (parse_error[0])
		return 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(parse_error, sizeof parse_error, fmt, ap);
	va_end(ap);
	parse_error[strcspn(parse_error, "\r\n")] = '\0';
	return 0;
}

static dictionary *open_ini(const char *path, char *err, size_t errsz)
{
	struct stat st;
	if (stat(path, &st) < 0 || access(path, R_OK) < 0) {
		snprintf(err, errsz, "cannot read config file %s: %s", path,
		         strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "config file %s is not a regular file", path);
		return NULL;
	}
	parse_error[0] = '\0';
	iniparser_set_error_callback(capture_parse_error);
	dictionary *d = iniparser_load(path);
	iniparser_set_error_callback(NULL);
	if (!d || parse_error[0]) {
		snprintf(err, errsz, "config file %s is not valid: %s", path,
		         parse_error[0] ? parse_error : "cannot be parsed");
		iniparser_freedict(d);
		return NULL;
	}
	return d;
}

int config_load(const char *path, struct chat_config *cfg, FILE *warn,
                char *err, size_t errsz)
{
	memset(cfg, 0, sizeof *cfg);
	dictionary *d = open_ini(path, err, errsz);
	if (!d)
		return -1;
	int rc = -1;
	if (load_strings(d, cfg, err, errsz) == 0 &&
	    load_dirs(d, cfg, err, errsz) == 0 &&
	    load_numbers(d, cfg, err, errsz) == 0 &&
	    load_whisper_log(d, cfg, err, errsz) == 0 &&
	    load_turn(d, path, cfg, err, errsz) == 0 &&
	    load_identity(d, cfg, err, errsz) == 0 &&
	    load_transport(d, cfg, err, errsz) == 0 &&
	    pack_strings(cfg, err, errsz) == 0)
		rc = 0;
	if (rc == 0)
		warn_unknown_keys(d, warn);
	iniparser_freedict(d);
	if (rc < 0)
		config_free(cfg); /* its fields may point into d */
	return rc;
}

void config_free(struct chat_config *cfg)
{
	free(cfg->strings);
	memset(cfg, 0, sizeof *cfg);
}
