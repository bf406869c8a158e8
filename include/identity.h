/* identity: who is connecting.
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

#include "color.h"
#include "config.h"

#define NAME_MAX_BYTES 64     /* longest user name, in bytes */
#define SESSION_ID_MAX 256    /* PHP allows up to 256 characters */
#define SESSION_FILE_MAX (1024 * 1024) /* larger session files are ignored */
#define ANONYMOUS_NAME "Anonymous"

struct identity {
	char name[NAME_MAX_BYTES + 1];
	char color[COLOR_MAX + 1];
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

/* Resolves the connecting user from the Cookie header (may be NULL): the
 * PHP session first, then, when it is configured, OpenSSO (sso.h).  Never
 * fails: anything unusable gives Anonymous in Gray. */
void identity_resolve(const struct chat_config *cfg, const char *cookie_header,
                      struct identity *id);

#endif
