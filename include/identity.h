/* identity: who is connecting (docs/identity.md).
 *
 * The session id comes from a cookie (SESSION_COOKIE, PHPSESSID by default),
 * the PHP session file sessions/sess_<id> holds username|s:N:"name:color";.
 * Without a valid session (and without OpenSSO) the user is Anonymous in
 * Gray.  The id is checked
 * before it is used as a file name, and the name is cleaned so it can be a
 * file name part and a word in every line format. */
#ifndef CHAT_IDENTITY_H
#define CHAT_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "color.h"
#include "config.h"

#define NAME_MAX_BYTES 64     /* longest user name, in bytes */
#define SESSION_ID_MAX 256    /* PHP allows up to 256 characters */
#define SESSION_FILE_MAX (1024 * 1024) /* larger session files are ignored */
#define ANONYMOUS_NAME "Anonymous"

/* Where an identity came from (IDENTITY_SOURCES orders the first three). */
enum identity_source {
	IDENTITY_ANONYMOUS, /* nothing usable: Anonymous in Gray */
	IDENTITY_TOKEN,     /* a signed token the site minted (AUTH_TOKEN_*) */
	IDENTITY_PHP,       /* the PHP session the pages wrote */
	IDENTITY_SSO,       /* an OpenSSO login */
};

#define ROLE_MODERATOR 1u /* may /kick, /mute, /ban, /lock, /topic */

struct identity {
	char name[NAME_MAX_BYTES + 1];
	char color[COLOR_MAX + 1];
	enum identity_source source;
	bool verified;  /* the site vouches for the name: a token or OpenSSO */
	unsigned roles; /* ROLE_* bits */
};

/* True when id is 1..SESSION_ID_MAX characters of [A-Za-z0-9,-]. */
bool session_id_is_valid(const char *id);

/* Cleans a name in place: bytes that cannot appear in a name ('/', '_', ':',
 * ',', '>', '<', '"', '\'', '\\', space, controls, C1 controls, no-break
 * space) become '-', and a
 * name longer than NAME_MAX_BYTES is cut at a character boundary.  Returns
 * false when nothing usable is left (empty, or not UTF-8). */
bool identity_clean_name(char *name);

/* True when name is UTF-8 with none of the bytes identity_clean_name
 * replaces (a name as a claim can produce it, whatever its length). */
bool identity_name_is_clean(const char *name);

/* Splits a session's "name:color" value into id.  A missing or invalid
 * colour becomes COLOR_DEFAULT; an unusable name makes the whole value
 * unusable (returns false). */
bool identity_from_value(const char *value, size_t len, struct identity *id);

/* Resolves the connecting user from the Cookie header (may be NULL): each
 * source of IDENTITY_SOURCES in its order (token, php, sso by default)
 * until one gives a name: a signed token (AUTH_TOKEN_COOKIE, token.h),
 * the PHP session (not when its file is older than SESSION_MAX_AGE), an
 * OpenSSO login (sso.h).  A source that is not configured, or whose
 * cookie is missing, expired, malformed or forged, gives nothing and the
 * next is tried.  Never fails: nothing usable gives Anonymous in Gray,
 * source IDENTITY_ANONYMOUS.  Sets source, verified (token and OpenSSO)
 * and roles. */
void identity_resolve(const struct chat_config *cfg, const char *cookie_header,
                      struct identity *id);

/* True when a session file last changed at mtime counts as gone at now
 * (max_age 0: never). */
bool identity_session_expired(time_t mtime, time_t now, int max_age);

/* "token", "php", "sso" or "anonymous": the auth log's fourth field. */
const char *identity_source_name(enum identity_source s);

#endif
