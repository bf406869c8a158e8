#include "php_session.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Every read goes through this cursor, which checks against end first: the
 * data is a file a client may have influenced and is not NUL-terminated. */
struct cursor {
	const char *p;
	const char *end;
};

static size_t left(const struct cursor *c)
{
	return (size_t)(c->end - c->p);
}

static bool peek_is(const struct cursor *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

static bool expect(struct cursor *c, char ch)
{
	if (!peek_is(c, ch))
		return false;
	c->p++;
	return true;
}

static bool expect_str(struct cursor *c, const char *s)
{
	size_t n = strlen(s);
	if (left(c) < n || memcmp(c->p, s, n) != 0)
		return false;
	c->p += n;
	return true;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static size_t skip_digits(struct cursor *c)
{
	size_t n = 0;
	while (c->p < c->end && is_digit(*c->p)) {
		c->p++;
		n++;
	}
	return n;
}

/* An unsigned decimal (lengths, counts, references).  Refuses values past
 * max rather than wrapping, so a huge length can never look small. */
static bool read_uint(struct cursor *c, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = c->p;

	while (c->p < c->end && is_digit(*c->p)) {
		unsigned d = (unsigned)(*c->p - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
		c->p++;
	}
	*out = v;
	return c->p > start;
}

/* i:<n>; where n must fit PHP's 64-bit integer. */
static bool skip_int_body(struct cursor *c)
{
	uint64_t v;
	bool neg = false;

	if (peek_is(c, '-') || peek_is(c, '+'))
		neg = *c->p++ == '-';
	return read_uint(c, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &v);
}

/* d:<float>; as PHP's unserialize accepts it: [+-]digits[.digits][e[+-]digits]
 * with digits on at least one side of the point, or INF, -INF, NAN. */
static bool skip_double_body(struct cursor *c)
{
	if (expect_str(c, "NAN") || expect_str(c, "INF") ||
	    expect_str(c, "-INF"))
		return true;
	if (peek_is(c, '-') || peek_is(c, '+'))
		c->p++;
	size_t digits = skip_digits(c);
	if (expect(c, '.'))
		digits += skip_digits(c);
	if (digits == 0)
		return false;
	if (peek_is(c, 'e') || peek_is(c, 'E')) {
		c->p++;
		if (peek_is(c, '-') || peek_is(c, '+'))
			c->p++;
		if (skip_digits(c) == 0)
			return false;
	}
	return true;
}

/* <len>:"<len bytes>"  (the bytes may hold anything, quotes included, so
 * only the length says where they end). */
static bool read_quoted(struct cursor *c, const char **s, size_t *n)
{
	uint64_t len;

	if (!read_uint(c, SIZE_MAX, &len) || !expect(c, ':') || !expect(c, '"'))
		return false;
	if (len > left(c))
		return false;
	*s = c->p;
	*n = (size_t)len;
	c->p += len;
	return expect(c, '"');
}

/* s:<len>:"<bytes>";  with the cursor just after the 's'. */
static bool read_string_value(struct cursor *c, const char **s, size_t *n)
{
	return expect(c, ':') && read_quoted(c, s, n) && expect(c, ';');
}

static bool skip_value(struct cursor *c, unsigned depth);

/* Array and object keys are integers or strings, nothing else. */
static bool skip_key(struct cursor *c)
{
	const char *s;
	size_t n;

	if (expect(c, 'i'))
		return expect(c, ':') && skip_int_body(c) && expect(c, ';');
	if (expect(c, 's'))
		return read_string_value(c, &s, &n);
	return false;
}

/* <count>:{<key><value>...}  shared by arrays and objects. */
static bool skip_members(struct cursor *c, unsigned depth)
{
	uint64_t count;

	if (depth >= PHP_SESSION_MAX_DEPTH)
		return false;
	/* Each member takes at least "i:0;N;", so a count beyond what is left
	 * is a lie and is refused before any looping. */
	if (!read_uint(c, SIZE_MAX, &count) || !expect(c, ':') ||
	    !expect(c, '{') || count > left(c) / 6)
		return false;
	for (uint64_t i = 0; i < count; i++)
		if (!skip_key(c) || !skip_value(c, depth + 1))
			return false;
	return expect(c, '}');
}

/* O:<len>:"<class>":<count>:{...} after the 'O'. */
static bool skip_object(struct cursor *c, unsigned depth)
{
	const char *s;
	size_t n;

	return expect(c, ':') && read_quoted(c, &s, &n) && n > 0 &&
	       expect(c, ':') && skip_members(c, depth);
}

/* C:<len>:"<class>":<len>:{<bytes>} after the 'C': a Serializable object
 * whose payload is opaque to us. */
static bool skip_custom(struct cursor *c)
{
	const char *s;
	size_t n;
	uint64_t len;

	if (!expect(c, ':') || !read_quoted(c, &s, &n) || n == 0 ||
	    !expect(c, ':') || !read_uint(c, SIZE_MAX, &len) ||
	    !expect(c, ':') || !expect(c, '{') || len > left(c))
		return false;
	c->p += len;
	return expect(c, '}');
}

/* E:<len>:"<Enum>:<Case>"; after the 'E'. */
static bool skip_enum(struct cursor *c)
{
	const char *s;
	size_t n;

	return expect(c, ':') && read_quoted(c, &s, &n) && expect(c, ';') &&
	       memchr(s, ':', n) != NULL;
}

static bool skip_value(struct cursor *c, unsigned depth)
{
	const char *s;
	size_t n;
	uint64_t ref;

	if (c->p >= c->end)
		return false;
	switch (*c->p++) {
	case 'N':
		return expect(c, ';');
	case 'b':
		return expect(c, ':') && (expect(c, '0') || expect(c, '1')) &&
		       expect(c, ';');
	case 'i':
		return expect(c, ':') && skip_int_body(c) && expect(c, ';');
	case 'd':
		return expect(c, ':') && skip_double_body(c) && expect(c, ';');
	case 's':
		return read_string_value(c, &s, &n);
	case 'a':
		return expect(c, ':') && skip_members(c, depth);
	case 'O':
		return skip_object(c, depth);
	case 'C':
		return skip_custom(c);
	case 'E':
		return skip_enum(c);
	case 'r':
	case 'R':
		return expect(c, ':') && read_uint(c, INT64_MAX, &ref) &&
		       expect(c, ';');
	default:
		return false;
	}
}

static enum php_session_result take_value(struct cursor *c, const char **value,
                                          size_t *value_len)
{
	const char *s;
	size_t n;

	if (expect(c, 's')) {
		if (!read_string_value(c, &s, &n))
			return PHP_SESSION_MALFORMED;
		*value = s;
		*value_len = n;
		return PHP_SESSION_FOUND;
	}
	if (!skip_value(c, 0))
		return PHP_SESSION_MALFORMED;
	return PHP_SESSION_NOT_STRING;
}

enum php_session_result php_session_find_string(const char *data, size_t len,
                                                const char *key,
                                                const char **value,
                                                size_t *value_len)
{
	/* Also keeps NULL + 0, undefined in C, out of the way. */
	if (len == 0)
		return PHP_SESSION_MISSING;

	struct cursor c = { data, data + len };
	size_t key_len = strlen(key);

	while (c.p < c.end) {
		const char *bar = memchr(c.p, '|', left(&c));
		if (!bar)
			return PHP_SESSION_MALFORMED;
		/* Old PHP wrote "!name|", with no value, for an unset
		 * variable. */
		bool unset = *c.p == '!';
		bool match = !unset && (size_t)(bar - c.p) == key_len &&
			     memcmp(c.p, key, key_len) == 0;
		c.p = bar + 1;
		if (unset)
			continue;
		if (match)
			return take_value(&c, value, value_len);
		if (!skip_value(&c, 0))
			return PHP_SESSION_MALFORMED;
	}
	return PHP_SESSION_MISSING;
}
