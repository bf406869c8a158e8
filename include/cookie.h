/* cookie: reading one cookie out of an HTTP Cookie header. */
#ifndef CHAT_COOKIE_H
#define CHAT_COOKIE_H

#include <stdbool.h>
#include <stddef.h>

/* Finds the cookie called name in header ("a=1; b=2").  When the name occurs
 * more than once the last one wins, as the old program did.  Surrounding
 * double quotes of the value are removed.  Returns true and the value in out
 * (NUL-terminated) when found and it fits in outsz - 1 bytes; false
 * otherwise (a value too long for out is treated as absent). */
bool cookie_find(const char *header, const char *name, char *out, size_t outsz);

#endif
