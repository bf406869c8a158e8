#include "connection.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "append.h"
#include "format.h"

void chat_tell(struct chat *c, const char *message)
{
	if (format_error(&c->line, time(NULL), message) == 0)
		output_push(&c->output, c->line.data, c->line.len);
}

int chat_fail(struct chat *c, const char *what, const char *why)
{
	char message[512];
	snprintf(message, sizeof message, "%s%s%s", what, why ? ": " : "",
	         why ? why : "");
	fprintf(stderr, "chat_server: %s\n", message);
	chat_tell(c, message);
	output_drain(&c->output, QUIT_FLUSH_MS);
	return 1;
}

int chat_append(struct chat *c)
{
	return append_line(c->rooms_fd, c->log_name, c->cfg->file_mode,
	                   c->line.data, c->line.len);
}

int chat_lock_room(struct chat *c)
{
	c->room_lock = presence_lock_room(c->users_fd, c->room,
	                                  c->cfg->file_mode);
	return c->room_lock;
}

void chat_unlock_room(struct chat *c)
{
	presence_unlock_room(c->room_lock);
	c->room_lock = -1;
}

int chat_append_userlist(struct chat *c)
{
	struct presence_list list = { 0 };
	int rc = presence_list(c->users_fd, c->room, &list);
	if (rc == 0)
		rc = format_userlist(&c->line, time(NULL), list.v, list.n);
	if (rc == 0)
		rc = chat_append(c);
	presence_list_free(&list);
	return rc;
}

void chat_refuse(struct chat *c)
{
	char message[256];
	snprintf(message, sizeof message, "message not sent: %s",
	         strerror(errno));
	chat_tell(c, message);
}

