#include "filter.h"

#include <string.h>

#define CLOCK_LEN 11 /* "[HH:MM:SS] " */
#define USERLIST "Userlist: "

void filter_init(struct filter *f, bool active)
{
	f->active = active;
	f->known = false;
	/* With the comma learn_members puts in front. */
	buf_init(&f->members, FILTER_MEMBERS_MAX + 1);
}

void filter_forget(struct filter *f)
{
	f->known = false;
	buf_clear(&f->members);
}

/* A list that cannot be kept leaves membership unknown, not stale. */
static void learn_members(struct filter *f, const char *list, size_t len)
{
	filter_forget(f);
	f->known = buf_append(&f->members, ",", 1) == 0 &&
	           buf_append(&f->members, list, len) == 0;
}

/* True when ",<name>:" occurs in the member list.  Lengths, not string
 * functions: a log line may carry any byte, NUL included. */
static bool is_member(const struct filter *f, const char *name, size_t len)
{
	const char *list = f->members.data, *end = list + f->members.len;
	for (const char *p = list; p + len + 2 <= end; p++)
		if (p[0] == ',' && memcmp(p + 1, name, len) == 0 &&
		    p[1 + len] == ':')
			return true;
	return false;
}
/* True when p[0..n) starts with the string word. */
static bool starts_with(const char *p, size_t n, const char *word)
{
	size_t w = strlen(word);
	return n >= w && memcmp(p, word, w) == 0;
}

bool filter_pass(struct filter *f, const char *line, size_t len)
{
	if (!f->active || len <= CLOCK_LEN || line[0] != '[')
		return true;
	const char *body = line + CLOCK_LEN;
	size_t n = len - CLOCK_LEN - (line[len - 1] == '\n');
	if (starts_with(body, n, USERLIST)) {
		learn_members(f, body + strlen(USERLIST), n - strlen(USERLIST));
		return true;
	}
	/* "<from>> <target>: ..." with <from> one word */
	const char *gt = memchr(body, '>', n);
	if (!gt || memchr(body, ' ', (size_t)(gt - body)))
		return true;
	size_t rest = n - (size_t)(gt - body) - 1;
	if (rest < 3 || gt[1] != ' ')
		return true;
	const char *target = gt + 2;
	const char *space = memchr(target, ' ', rest - 1);
	size_t word = space ? (size_t)(space - target) : rest - 1;
	if (word < 2 || target[word - 1] != ':')
		return true;
	/* Fail closed: not knowing who is here, hold it. */
	return f->known && !is_member(f, target, word - 1);
}

void filter_free(struct filter *f)
{
	buf_free(&f->members);
}
