#include "format.h"

#include <string.h>

#include "presence.h"

void format_clock(time_t t, char out[static 11])
{
	struct tm tm;
	if (!localtime_r(&t, &tm) ||
	    strftime(out, 11, "[%H:%M:%S]", &tm) != 10)
		memcpy(out, "[00:00:00]", 11);
}

/* Starts a line with "T " in an emptied buffer. */
static int start(struct buf *out, time_t t)
{
	char clock[11];
	format_clock(t, clock);
	buf_clear(out);
	if (buf_append_str(out, clock) < 0 || buf_append(out, " ", 1) < 0)
		return -1;
	return 0;
}

/* Appends each string of a NULL-terminated list, then the newline. */
static int words(struct buf *out, const char *const *parts)
{
	for (; *parts; parts++)
		if (buf_append_str(out, *parts) < 0)
			return -1;
	return buf_append(out, "\n", 1);
}

int format_welcome(struct buf *out, time_t t, const char *room, const char *name)
{
	const char *p[] = { "Welcome to the chat room ", room, " ", name, "!",
	                    NULL };
	return start(out, t) < 0 ? -1 : words(out, p);
}

int format_join(struct buf *out, time_t t, const char *room, const char *name)
{
	const char *p[] = { name, " joined the ", room, NULL };
	return start(out, t) < 0 ? -1 : words(out, p);
}

int format_quit(struct buf *out, time_t t, const char *room, const char *name)
{
	const char *p[] = { name, " quit the ", room, NULL };
	return start(out, t) < 0 ? -1 : words(out, p);
}

int format_whisper_notice(struct buf *out, time_t t, const char *from,
                          const char *target)
{
	const char *p[] = { from, " whispers something to ", target, NULL };
	return start(out, t) < 0 ? -1 : words(out, p);
}

int format_message(struct buf *out, time_t t, const char *name,
                   const char *text, size_t len)
{
	if (start(out, t) < 0 || buf_append_str(out, name) < 0 ||
	    buf_append(out, "> ", 2) < 0 || buf_append(out, text, len) < 0)
		return -1;
	return buf_append(out, "\n", 1);
}

int format_private(struct buf *out, time_t t, const char *from,
                   const char *target, const char *text, size_t len)
{
	if (start(out, t) < 0 || buf_append_str(out, from) < 0 ||
	    buf_append(out, "> ", 2) < 0 || buf_append_str(out, target) < 0 ||
	    buf_append(out, ": ", 2) < 0 || buf_append(out, text, len) < 0)
		return -1;
	return buf_append(out, "\n", 1);
}

int format_result(struct buf *out, time_t t, const char *name,
                  const char *result, size_t len)
{
	return format_message(out, t, name, result, len);
}

int format_userlist(struct buf *out, time_t t, const struct presence_entry *v,
                    size_t n)
{
	if (start(out, t) < 0 || buf_append_str(out, "Userlist: ") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *p[] = { v[i].name, ":", v[i].color, ",", NULL };
		for (const char *const *s = p; *s; s++)
			if (buf_append_str(out, *s) < 0)
				return -1;
	}
	return buf_append(out, "\n", 1);
}

int format_error(struct buf *out, time_t t, const char *message)
{
	const char *p[] = { "Error: ", message, NULL };
	return start(out, t) < 0 ? -1 : words(out, p);
}

int format_notice(struct buf *out, time_t t, const char *message)
{
	const char *p[] = { "Notice: ", message, NULL };
	return start(out, t) < 0 ? -1 : words(out, p);
}
