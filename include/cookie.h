/* cookie: reading one cookie out of an HTTP Cookie header, the way PHP
 * reads it, so that chat_server and the PHP pages agree on who the user is. */
#ifndef CHAT_COOKIE_H
#define CHAT_COOKIE_H

#include <stdbool.h>
#include <stddef.h>

/* How many pairs PHP reads from a Cookie header: its max_input_vars
 * default.  A cookie after them does not exist for PHP. */
#define COOKIE_MAX_PAIRS 1000

/* How deep name[a][b]... may nest: PHP's max_input_nesting_level default. */
#define COOKIE_MAX_NESTING 64

/* Finds the cookie called name in header ("a=1; b=2") and gives its value
 * as PHP 8 (default ini) hands it to its session module, $_COOKIE[name]:
 *
 * - Pairs are separated by ';' only (',' is part of a value).  Whitespace
 *   before a name is skipped; nothing else is trimmed: "PHPSESSID =x" is
 *   another name, " x" and "x " are other values, and double quotes are
 *   part of the value.
 * - The name runs to the first '=' and the value is everything after it; a
 *   pair without '=' is a name with an empty value.  A pair whose name is
 *   empty is no cookie.
 * - Names are compared as PHP stores them: case-sensitive, not decoded,
 *   ' ' and '.' read as '_' ("PHP.SESSID" is PHP_SESSID).  A mangled name
 *   that became "__Host-..." or "__Secure-..." that way is dropped.
 * - The FIRST occurrence of a name wins: later ones are ignored, also when
 *   the first one is empty ("PHPSESSID=; PHPSESSID=b" gives "").
 * - The array syntax, name[...], makes the cookie an array for PHP, which
 *   its session module ignores: then there is no value, before or after a
 *   plain occurrence.  Nested deeper than COOKIE_MAX_NESTING, it deletes
 *   what was registered under that name instead, and a later plain
 *   occurrence counts again.
 * - The value is %XX-decoded ('+' stays '+', a '%' without two hex digits
 *   stays as it is) and ends at a decoded NUL byte, as PHP's session module
 *   reads it.
 * - Only the first COOKIE_MAX_PAIRS pairs with a name are read.
 *
 * The old program took the last occurrence; PHP takes the first, and so
 * does this function, whether for the session cookie or the SSO token.
 *
 * Returns true and the value in out (NUL-terminated) when found and it fits
 * in outsz - 1 bytes; false otherwise (a value too long for out is treated
 * as absent, and so is a name that is empty or NULL). */
bool cookie_find(const char *header, const char *name, char *out, size_t outsz);

#endif
