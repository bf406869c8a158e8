/* php_session: reading one value out of a PHP session file.
 *
 * PHP's default "php" session serializer writes "key|value" pairs back to
 * back, each value in serialize() format (s:5:"Alice"; i:3; a:1:{...} ...).
 * String lengths are byte counts.  This is a real parser: it walks every
 * value type PHP writes, so a key stored after arrays or objects is found,
 * and a truncated or hostile file is reported as malformed, never read past
 * its end. */
#ifndef CHAT_PHP_SESSION_H
#define CHAT_PHP_SESSION_H

#include <stddef.h>

#define PHP_SESSION_MAX_DEPTH 32 /* nesting of arrays/objects we walk */

enum php_session_result {
	PHP_SESSION_FOUND = 0,   /* *value points into data, *value_len bytes */
	PHP_SESSION_MISSING,     /* well-formed, no such key */
	PHP_SESSION_NOT_STRING,  /* the key holds something else than a string */
	PHP_SESSION_MALFORMED,   /* the data is not a session (or is truncated)
	                            before the key was found */
};

/* Looks up key in the session data[0..len).  data need not be
 * NUL-terminated. */
enum php_session_result php_session_find_string(const char *data, size_t len,
                                                const char *key,
                                                const char **value,
                                                size_t *value_len);

#endif
