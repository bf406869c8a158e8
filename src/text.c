#include "text.h"

/* Length of the well-formed UTF-8 sequence at s (avail bytes left), or 0.
 * The ranges are those of Unicode's table of well-formed byte sequences, so
 * overlong forms, surrogates and code points past U+10FFFF all fail. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;

	if (c >= 0x01 && c <= 0x7F)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0; /* NUL, a stray continuation byte, C0, C1 or F5..FF */

	if (c == 0xE0)
		lo = 0xA0; /* below is overlong */
	else if (c == 0xED)
		hi = 0x9F; /* above is a surrogate */
	else if (c == 0xF0)
		lo = 0x90; /* below is overlong */
	else if (c == 0xF4)
		hi = 0x8F; /* above is past U+10FFFF */

	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

bool text_is_utf8(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq_len(u + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* Bytes taken by a control character at s (0 when it is not one).  In
 * UTF-8 the C1 range U+0080..U+009F is C2 80..C2 9F. */
static size_t control_len(const unsigned char *s, size_t avail)
{
	if ((s[0] < 0x20 && s[0] != '\t') || s[0] == 0x7F)
		return 1;
	if (s[0] == 0xC2 && avail >= 2 && s[1] >= 0x80 && s[1] <= 0x9F)
		return 2;
	return 0;
}

size_t text_strip_controls(char *s, size_t len)
{
	unsigned char *u = (unsigned char *)s;
	size_t in = 0, out = 0;

	while (in < len) {
		size_t skip = control_len(u + in, len - in);
		if (skip) {
			in += skip;
			continue;
		}
		u[out++] = u[in++];
	}
	return out;
}

int text_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
