#include "cookie.h"

#include <string.h>

struct span {
	const char *p;
	size_t len;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static struct span trim(const char *p, size_t len)
{
	while (len && is_blank(*p)) {
		p++;
		len--;
	}
	while (len && is_blank(p[len - 1]))
		len--;
	return (struct span){ p, len };
}

/* Splits one "name=value" pair.  False for a pair without '=', which
 * browsers never send and which therefore names no cookie. */
static bool split_pair(const char *p, size_t len, struct span *name,
                       struct span *value)
{
	const char *eq = memchr(p, '=', len);
	if (!eq)
		return false;
	*name = trim(p, (size_t)(eq - p));
	*value = trim(eq + 1, len - (size_t)(eq - p) - 1);
	return true;
}

static struct span unquote(struct span v)
{
	if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"')
		return (struct span){ v.p + 1, v.len - 2 };
	return v;
}

bool cookie_find(const char *header, const char *name, char *out, size_t outsz)
{
	if (!header || !name || !out || outsz == 0)
		return false;

	size_t name_len = strlen(name);
	struct span found = { NULL, 0 };
	const char *p = header;

	/* Every pair is looked at, since the last occurrence wins. */
	for (;;) {
		size_t len = strcspn(p, ";");
		struct span n, v;
		if (split_pair(p, len, &n, &v) && n.len == name_len &&
		    memcmp(n.p, name, name_len) == 0)
			found = v;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}

	if (!found.p)
		return false;
	found = unquote(found);
	if (found.len > outsz - 1)
		return false;
	memcpy(out, found.p, found.len);
	out[found.len] = '\0';
	return true;
}
