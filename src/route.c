#include "route.h"

#include <string.h>

int route_message(const char *msg, size_t len, int users_fd, const char *room,
                  struct route *r)
{
	r->member_fd = -1;
	const char *space = memchr(msg, ' ', len);
	size_t word = space ? (size_t)(space - msg) : len;
	if (word < 2 || msg[word - 1] != ':' || word - 1 > PRESENCE_NAME_MAX)
		return 0;
	memcpy(r->target, msg, word - 1);
	r->target[word - 1] = '\0';
	r->member_fd = presence_open_member(users_fd, room, r->target);
	if (r->member_fd < 0)
		return 0;
	r->text = space ? space + 1 : msg + len;
	r->text_len = space ? len - word - 1 : 0;
	return 1;
}
