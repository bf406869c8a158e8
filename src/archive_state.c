#include "archive_state.h"

#include <stdio.h>
#include <string.h>

#include "room.h"

/* A decimal number of at most 20 digits that fits 64 bits, from *p up to a
 * byte that is no digit; *p is moved past it.  False for none or too big. */
static bool parse_number(const char **p, const char *end,
                         unsigned long long *out)
{
	const char *s = *p;
	unsigned long long v = 0;
	while (s < end && *s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s - '0');
		if (v > (~0ULL - d) / 10)
			return false;
		v = v * 10 + d;
		s++;
	}
	if (s == *p)
		return false;
	*p = s;
	*out = v;
	return true;
}

size_t archive_record_format(const struct archive_record *r,
                             char out[ARCHIVE_RECORD_MAX + 1])
{
	char id[STREAM_ID_MAX];
	stream_id_format(&r->last, id);
	int n = snprintf(out, ARCHIVE_RECORD_MAX + 1, "%s %llu %llu\n", id,
	                 r->ino, r->size);
	return n > 0 ? (size_t)n : 0;
}

bool archive_record_parse(const char *text, size_t len,
                          struct archive_record *r)
{
	const char *end = text + len;
	const char *space = memchr(text, ' ', len);
	if (!space || !stream_id_parse(text, (size_t)(space - text), &r->last))
		return false;
	const char *p = space + 1;
	return parse_number(&p, end, &r->ino) && p < end && *p++ == ' ' &&
	       parse_number(&p, end, &r->size) && p < end && *p++ == '\n' &&
	       p == end;
}

enum archive_resume archive_resume_plan(const struct archive_record *r,
                                        bool exists, unsigned long long ino,
                                        unsigned long long size)
{
	/* Only the very log we recorded, grown, can hold lines we did not
	 * record: truncated or replaced, what we wrote last went elsewhere. */
	return exists && ino == r->ino && size > r->size ? ARCHIVE_RESUME_COUNT
	                                                 : ARCHIVE_RESUME_AT_RECORD;
}

bool archive_next_line_is(const char *text, size_t len, size_t *pos,
                          const char *line, size_t line_len)
{
	size_t at = *pos;
	if (at > len || len - at < line_len + 1 ||
	    memcmp(text + at, line, line_len) != 0 || text[at + line_len] != '\n')
		return false;
	*pos = at + line_len + 1;
	return true;
}

bool archive_line_ok(const char *line, size_t len)
{
	return len > 0 && !memchr(line, '\n', len) && !memchr(line, '\0', len);
}

bool archive_room_name_ok(const char *name, size_t len)
{
	/* The room a request path "/<name>" gives is name itself exactly when
	 * the chat could have made it: nothing cleaned, nothing refused. */
	char path[ROOM_NAME_MAX + 2], room[ROOM_NAME_MAX + 1];
	if (len == 0 || len > ROOM_NAME_MAX || memchr(name, '/', len) ||
	    memchr(name, '\0', len))
		return false;
	path[0] = '/';
	memcpy(path + 1, name, len);
	path[len + 1] = '\0';
	return room_from_path_info(path, room) == ROOM_OK &&
	       strlen(room) == len && memcmp(room, name, len) == 0;
}
