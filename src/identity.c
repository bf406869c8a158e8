#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cookie.h"
#include "dirs.h"
#include "lockwait.h"
#include "php_session.h"
#include "sso.h"
#include "text.h"
#include "token.h"

bool session_id_is_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > SESSION_ID_MAX)
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyz"
	                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,-") == n;
}

/* Bytes of a character at s that cannot be in a name (a separator of
 * some line format or file name, whitespace, a control, including the C1
 * controls and no-break space, U+0080..U+00A0), or 0. */
static size_t forbidden_at(const unsigned char *s)
{
	if (s[0] < 0x20 || s[0] == 0x7f || strchr("/_:,><\"'\\ ", s[0]))
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0xa0)
		return 2;
	return 0;
}

bool identity_name_is_clean(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || !text_is_utf8(name, len))
		return false;
	for (const unsigned char *s = (const unsigned char *)name; *s; s++)
		if (forbidden_at(s))
			return false;
	return true;
}

/* Length of the longest prefix of s (len bytes, valid UTF-8) that is at most
 * max bytes and ends on a character boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

bool identity_clean_name(char *name)
{
	size_t len = strlen(name);
	if (len == 0 || !text_is_utf8(name, len))
		return false;
	for (size_t i = 0; i < len;) {
		size_t n = forbidden_at((unsigned char *)name + i);
		memset(name + i, '-', n);
		i += n ? n : 1;
	}
	name[utf8_cut(name, len, NAME_MAX_BYTES)] = '\0';
	return name[0] != '\0';
}

bool identity_from_value(const char *value, size_t len, struct identity *id)
{
	const char *colon = memchr(value, ':', len);
	size_t name_len = colon ? (size_t)(colon - value) : len;
	char name[4 * NAME_MAX_BYTES];
	if (name_len == 0 || memchr(value, 0, len))
		return false;
	/* A long name is cut like any other (identity_clean_name cuts it to
	 * NAME_MAX_BYTES), not refused. */
	name_len = utf8_cut(value, name_len, sizeof name - 1);
	memcpy(name, value, name_len);
	name[name_len] = '\0';
	if (!identity_clean_name(name))
		return false;
	memcpy(id->name, name, strlen(name) + 1); /* cleaned: it fits */

	size_t color_len = colon ? len - (size_t)(colon - value) - 1 : 0;
	snprintf(id->color, sizeof id->color, "%s", COLOR_DEFAULT);
	if (colon && color_len <= COLOR_MAX) {
		char color[COLOR_MAX + 1];
		memcpy(color, colon + 1, color_len);
		color[color_len] = '\0';
		if (color_is_valid(color))
			memcpy(id->color, color, color_len + 1);
	}
	return true;
}

/* PHP holds an exclusive flock on a session for the whole of a request that
 * opened it.  Waiting for it means we never read a half-written file, but a
 * slow page must not stall a join: after about a second we read anyway (a
 * torn file only parses as no session). */
static void lock_shared_briefly(int fd)
{
	lockwait_flock(fd, LOCK_SH, 1000);
}

bool identity_session_expired(time_t mtime, time_t now, int max_age)
{
	return max_age > 0 && now - mtime > (time_t)max_age;
}

/* Reads the whole session file, or fails: also when it was last written
 * more than max_age seconds ago (SESSION_MAX_AGE), as PHP's garbage
 * collector would have removed it by then. */
static int read_session(int dir_fd, const char *sid, int max_age,
                        struct buf *out)
{
	char name[SESSION_ID_MAX + 8];
	snprintf(name, sizeof name, "sess_%s", sid);
	struct stat st;
	int fd = dirs_open_file(dir_fd, name, O_RDONLY, 0, &st);
	if (fd < 0)
		return -1;
	int rc = -1;
	if (st.st_size <= SESSION_FILE_MAX &&
	    !identity_session_expired(st.st_mtime, time(NULL), max_age)) {
		lock_shared_briefly(fd);
		char chunk[4096];
		ssize_t n;
		while ((n = read(fd, chunk, sizeof chunk)) > 0)
			if (buf_append(out, chunk, (size_t)n) < 0)
				break;
		rc = n == 0 ? 0 : -1;
	}
	close(fd);
	return rc;
}

static bool identity_from_session(const struct chat_config *cfg,
                                  const char *sid, struct identity *id)
{
	int dir_fd = dirs_open(cfg->sessions_dir, 0, false);
	if (dir_fd < 0)
		return false;
	struct buf data;
	buf_init(&data, SESSION_FILE_MAX);
	bool ok = false;
	const char *value;
	size_t len;
	if (read_session(dir_fd, sid, cfg->session_max_age, &data) == 0 &&
	    php_session_find_string(data.data ? data.data : "", data.len,
	                            "username", &value, &len) == PHP_SESSION_FOUND)
		ok = identity_from_value(value, len, id);
	buf_free(&data);
	close(dir_fd);
	return ok;
}

static bool from_token(const struct chat_config *cfg, const char *header,
                       struct identity *id)
{
	char token[TOKEN_MAX + 1];
	if (!cfg->auth_token_cookie || !cfg->auth_token_cookie[0] ||
	    !cookie_find(header, cfg->auth_token_cookie, token, sizeof token))
		return false;
	enum token_result r = token_verify(token, cfg->auth_token_secret,
	                                   strlen(cfg->auth_token_secret),
	                                   time(NULL), id);
	/* An expired token is an ordinary event; anything else is a site
	 * minting wrongly, or someone trying. */
	if (r != TOKEN_OK && r != TOKEN_EXPIRED)
		fprintf(stderr, "chat_server: warning: %s: token refused (%s)\n",
		        cfg->auth_token_cookie, token_result_text(r));
	explicit_bzero(token, sizeof token);
	return r == TOKEN_OK;
}

static bool from_php(const struct chat_config *cfg, const char *header,
                     struct identity *id)
{
	char sid[SESSION_ID_MAX + 1];
	if (!cookie_find(header, cfg->session_cookie, sid, sizeof sid) ||
	    !session_id_is_valid(sid) || !identity_from_session(cfg, sid, id))
		return false;
	id->source = IDENTITY_PHP;
	return true;
}

const char *identity_source_name(enum identity_source s)
{
	switch (s) {
	case IDENTITY_TOKEN:
		return "token";
	case IDENTITY_PHP:
		return "php";
	case IDENTITY_SSO:
		return "sso";
	case IDENTITY_ANONYMOUS:
		break;
	}
	return "anonymous";
}

void identity_resolve(const struct chat_config *cfg, const char *cookie_header,
                      struct identity *id)
{
	/* A config built by hand, without IDENTITY_SOURCES: the default. */
	static const int default_order[] = { IDENTITY_TOKEN, IDENTITY_PHP,
	                                     IDENTITY_SSO };
	const int *order = cfg->n_identity_sources ? cfg->identity_sources
	                                           : default_order;
	int n = cfg->n_identity_sources ? cfg->n_identity_sources : 3;
	id->source = IDENTITY_ANONYMOUS;
	id->verified = false;
	id->roles = 0;
	for (int i = 0; i < n; i++) {
		bool found = false;
		switch (order[i]) {
		case IDENTITY_TOKEN:
			found = from_token(cfg, cookie_header, id);
			break;
		case IDENTITY_PHP:
			found = from_php(cfg, cookie_header, id);
			break;
		case IDENTITY_SSO:
			found = sso_is_configured(cfg) &&
			        sso_identity(cfg, cookie_header, id);
			break;
		default:
			break;
		}
		if (found)
			return;
		id->source = IDENTITY_ANONYMOUS;
		id->verified = false;
		id->roles = 0;
	}
	snprintf(id->name, sizeof id->name, "%s", ANONYMOUS_NAME);
	snprintf(id->color, sizeof id->color, "%s", COLOR_DEFAULT);
}
