#include "filter.h"

#include <string.h>

#define CLOCK_LEN 11 /* "[HH:MM:SS] " */
#define USERLIST "Userlist: "

void filter_init(struct filter *f, bool active)
{
	f->active = active;
	f->known = false;
	buf_init(&f->members, 0);
}

static void learn_members(struct filter *f, const char *list, size_t len)
{
	buf_clear(&f->members);
	f->known = buf_append(&f->members, ",", 1) == 0 &&
	           buf_append(&f->members, list, len) == 0;
}

/* True when ",<name>:" occurs in the member list. */
static bool is_member(const struct filter *f, const char *name, size_t len)
{
	for (const char *p = f->members.data; (p = strchr(p, ',')); p++)
		if (strncmp(p + 1, name, len) == 0 && p[1 + len] == ':')
			return true;
	return false;
}

bool filter_pass(struct filter *f, const char *line, size_t len)
{
	if (!f->active || len < CLOCK_LEN || line[0] != '[')
		return true;
	const char *body = line + CLOCK_LEN, *end = line + len - 1;
	if (strncmp(body, USERLIST, strlen(USERLIST)) == 0) {
		const char *list = body + strlen(USERLIST);
		learn_members(f, list, (size_t)(end - list));
		return true;
	}
	/* "<from>> <target>: " */
	const char *gt = memchr(body, '>', (size_t)(end - body));
	if (!gt || gt + 2 >= end || gt[1] != ' ' || memchr(body, ' ', (size_t)(gt - body)))
		return true;
	const char *target = gt + 2;
	const char *word_end = memchr(target, ' ', (size_t)(end - target));
	if (!word_end)
		word_end = end;
	if (word_end - target < 2 || word_end[-1] != ':')
		return true;
	return f->known && !is_member(f, target, (size_t)(word_end - target - 1));
}

void filter_free(struct filter *f)
{
	buf_free(&f->members);
}
