#include "route.h"

#include <errno.h>
#include <string.h>

enum route_kind route_message(const char *msg, size_t len,
                              struct room_transport *t, struct route *r)
{
	r->member = -1;
	r->target[0] = '\0';
	const char *space = memchr(msg, ' ', len);
	size_t word = space ? (size_t)(space - msg) : len;
	if (word < 2 || msg[word - 1] != ':' || word - 1 > PRESENCE_NAME_MAX)
		return ROUTE_ROOM;
	memcpy(r->target, msg, word - 1);
	r->target[word - 1] = '\0';
	r->text = space ? space + 1 : msg + len;
	r->text_len = space ? len - word - 1 : 0;
	r->member = transport_find(t, r->target);
	if (r->member >= 0)
		return ROUTE_PRIVATE;
	if (errno == ESRCH || errno == ENOENT)
		return errno == ESRCH ? ROUTE_GONE : ROUTE_ROOM;
	r->error = errno;
	return ROUTE_FAILED;
}
