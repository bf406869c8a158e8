#include "stream_id.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

void stream_id_format(const struct stream_id *id, char *out)
{
	snprintf(out, STREAM_ID_MAX, "%llu-%llu", id->ms, id->seq);
}

static bool number(const char *p, const char *end, unsigned long long *v)
{
	if (p == end || end - p > 20)
		return false;
	unsigned long long n = 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned d = (unsigned)(*p - '0');
		if (n > (ULLONG_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*v = n;
	return true;
}

bool stream_id_parse(const char *text, size_t len, struct stream_id *id)
{
	const char *dash = memchr(text, '-', len);
	return dash && number(text, dash, &id->ms) &&
	       number(dash + 1, text + len, &id->seq);
}

int stream_id_cmp(const struct stream_id *a, const struct stream_id *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq ? 1 : 0;
}

struct stream_id stream_id_before(const struct stream_id *id)
{
	if (id->seq > 0)
		return (struct stream_id){ id->ms, id->seq - 1 };
	return (struct stream_id){ id->ms - 1, ULLONG_MAX };
}
