#include "cookie.h"

#include <string.h>

#include "text.h"

/* See cookie.h for the rules; they are PHP's (main/php_variables.c:
 * php_default_treat_data and php_register_variable_ex), checked against
 * php-cgi 8.2. */

struct span {
	const char *p;
	size_t len;
};

/* What one pair does to the name looked for. */
enum occurrence {
	OTHER,   /* another name, or dropped */
	PLAIN,   /* name=value */
	ARRAY,   /* name[...]=value: the name becomes an array */
	DELETED, /* name[...] nested too deep: PHP deletes the name */
};

/* What isspace() skips before a name in PHP (the C locale). */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

/* A name character as PHP stores it in a variable name. */
static char mangled(char c)
{
	return c == ' ' || c == '.' || c == '[' ? '_' : c;
}

/* Whether raw[0..len), mangled, is want[0..want_len). */
static bool mangled_equals(const char *raw, size_t len, const char *want,
                           size_t want_len)
{
	if (len != want_len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (mangled(raw[i]) != want[i])
			return false;
	return true;
}

/* Whether mangling made raw[0..len) start with prefix: PHP drops such a
 * name, since browsers reserve these prefixes for cookies set under
 * stricter rules. */
static bool mangled_into_prefix(const char *raw, size_t len,
                                const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(raw, prefix, n) != 0 &&
	       mangled_equals(raw, n, prefix, n);
}

/* What the pair named raw[0..len) (leading whitespace skipped, not
 * empty) registers, compared with name. */
static enum occurrence classify(const char *raw, size_t len, const char *name,
                                size_t name_len)
{
	const char *open = memchr(raw, '[', len);
	size_t base = open ? (size_t)(open - raw) : len;
	if (base == 0)
		return OTHER;
	const char *close = open ? memchr(open + 1, ']', len - base - 1) : NULL;
	/* Without a ']' after the '[', a plain name with '[' read as '_';
	 * with one, an array under the name before the '['. */
	size_t key_len = close ? base : len;
	if (mangled_into_prefix(raw, key_len, "__Host-") ||
	    mangled_into_prefix(raw, key_len, "__Secure-") ||
	    !mangled_equals(raw, key_len, name, name_len))
		return OTHER;
	if (!close)
		return PLAIN;
	/* name[a][b]...: each '[' right after a ']' is one more level. */
	const char *end = raw + len;
	unsigned depth = 1;
	for (const char *p = close + 1; p < end && *p == '['; p = close + 1) {
		if (++depth > COOKIE_MAX_NESTING)
			return DELETED;
		close = memchr(p + 1, ']', (size_t)(end - p - 1));
		if (!close)
			break;
	}
	return ARRAY;
}

/* PHP's rawurldecode() of v into out, up to the first decoded NUL byte.
 * False when the result does not fit in outsz - 1 bytes. */
static bool decode(struct span v, char *out, size_t outsz)
{
	size_t n = 0;
	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];
		if (c == '%' && i + 2 < v.len) {
			int hi = text_hex_digit(v.p[i + 1]);
			int lo = text_hex_digit(v.p[i + 2]);
			if (hi >= 0 && lo >= 0) {
				c = (char)(hi * 16 + lo);
				i += 2;
			}
		}
		if (c == '\0')
			break;
		if (n == outsz - 1)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

/* The search for one name, pair by pair. */
struct search {
	const char *name;
	size_t name_len;
	enum { ABSENT, STRING, AN_ARRAY } state;
	struct span value; /* when STRING */
};

/* What the pair s..end (leading whitespace skipped, a name first) does. */
static void take_pair(struct search *q, const char *s, const char *end)
{
	const char *eq = memchr(s, '=', (size_t)(end - s));
	const char *name_end = eq ? eq : end;
	switch (classify(s, (size_t)(name_end - s), q->name, q->name_len)) {
	case PLAIN:
		/* The first one wins, and an array is never replaced. */
		if (q->state == ABSENT) {
			q->state = STRING;
			q->value = eq ? (struct span){ eq + 1, (size_t)(end - eq - 1) }
			              : (struct span){ end, 0 };
		}
		break;
	case ARRAY:
		q->state = AN_ARRAY;
		break;
	case DELETED:
		q->state = ABSENT;
		break;
	case OTHER:
		break;
	}
}

bool cookie_find(const char *header, const char *name, char *out, size_t outsz)
{
	if (!header || !name || !name[0] || !out || outsz == 0)
		return false;

	struct search q = { name, strlen(name), ABSENT, { NULL, 0 } };
	unsigned pairs = 0;

	/* Every pair is looked at: a later name[...] still spoils the value. */
	for (const char *p = header;; p++) {
		const char *end = p + strcspn(p, ";");
		while (p < end && is_space(*p))
			p++;
		if (p < end && *p != '=') {
			if (++pairs > COOKIE_MAX_PAIRS)
				break;
			take_pair(&q, p, end);
		}
		p = end;
		if (*p == '\0')
			break;
	}

	return q.state == STRING && decode(q.value, out, outsz);
}
