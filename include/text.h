/* text: the rules for bytes that come from a client.
 *
 * Everything a browser sends must be valid UTF-8 and is stripped of control
 * characters before it is logged, so a line can never carry a newline, a
 * terminal escape or an invisible character into the room log. */
#ifndef CHAT_TEXT_H
#define CHAT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF).  NUL bytes are not UTF-8 text here: false. */
bool text_is_utf8(const char *s, size_t len);

/* Removes C0 controls except tab, DEL and the C1 controls (U+0080..U+009F)
 * from valid UTF-8 text in place.  Returns the new length. */
size_t text_strip_controls(char *s, size_t len);

/* The value of a hexadecimal digit (either case), or -1. */
int text_hex_digit(char c);

#endif
