#include "redis_record.h"

#include <string.h>

#include "redis_host.h"

static const char *host_of(const char *text)
{
	size_t n = strspn(text, "0123456789abcdef");
	return n == REDIS_HOST_ID_LEN && text[n] == '\0' ? text : NULL;
}

bool redis_record_parse(const char *record, struct redis_record *out)
{
	*out = (struct redis_record){ 0 };
	const char *colon = record ? strchr(record, ':') : NULL;
	if (!colon || colon == record)
		return false;
	out->run = record;
	out->run_len = (size_t)(colon - record);
	out->id = colon + 1;
	out->id_len = strspn(out->id, "0123456789");
	if (out->id_len == 0)
		return false;
	const char *rest = out->id + out->id_len;
	out->relayed = *rest == '.';
	if (out->relayed)
		rest += 1 + strcspn(rest + 1, ":");
	if (*rest == ':')
		out->host = host_of(rest + 1);
	return *rest == '\0' || *rest == ':';
}

bool redis_record_of_run(const struct redis_record *r, const char *run_id)
{
	return strlen(run_id) == r->run_len &&
	       memcmp(r->run, run_id, r->run_len) == 0;
}
