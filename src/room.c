#include "room.h"

#include <stdbool.h>
#include <string.h>

#include "text.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* Tab is a control here too: a room name is a file name and a word in line
 * formats, where text_strip_controls' allowance for tab makes no sense. */
static bool has_control(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7F)
			return true;
		if (s[i] == 0xC2 && i + 1 < len && s[i + 1] >= 0x80 &&
		    s[i + 1] <= 0x9F)
			return true;
	}
	return false;
}

/* These break HTML attributes, the PHP pages or shell-minded tools. */
static bool has_bad_char(const char *s, size_t len)
{
	static const char bad[] = "\\<>&\"'`";

	for (size_t i = 0; i < len; i++)
		if (memchr(bad, s[i], sizeof bad - 1))
			return true;
	return false;
}

static enum room_error check_name(const char *s, size_t len)
{
	if (len == 0)
		return ROOM_EMPTY;
	if (len > ROOM_NAME_MAX)
		return ROOM_TOO_LONG;
	if (!text_is_utf8(s, len))
		return ROOM_BAD_UTF8;
	if (has_control((const unsigned char *)s, len))
		return ROOM_CONTROL;
	/* A leading dot covers "." and "..", and also hidden names such as the
	 * ".<room>.lock" files presence keeps beside the user files. */
	if (s[0] == '.')
		return ROOM_DOT;
	if (has_bad_char(s, len))
		return ROOM_BAD_CHAR;
	return ROOM_OK;
}

enum room_error room_from_path_info(const char *path_info, char *out)
{
	const char *seg = path_info ? path_info : "";
	out[0] = '\0';

	seg += strspn(seg, "/");
	size_t len = strcspn(seg, "/");
	/* Replacing single bytes keeps the length, so it can be checked on the
	 * raw segment before anything is copied into out. */
	enum room_error err = check_name(seg, len);
	if (err != ROOM_OK)
		return err;

	for (size_t i = 0; i < len; i++)
		out[i] = (seg[i] == ' ' || seg[i] == '_') ? '-' : seg[i];
	out[len] = '\0';
	return ROOM_OK;
}

const char *room_error_text(enum room_error err)
{
	switch (err) {
	case ROOM_OK:
		return "The room name is valid.";
	case ROOM_EMPTY:
		return "The room name is missing: add it to the address, "
		       "as in /lobby.";
	case ROOM_TOO_LONG:
		return "The room name is too long: it may have at most "
		       STR(ROOM_NAME_MAX) " bytes.";
	case ROOM_BAD_UTF8:
		return "The room name is not valid UTF-8 text.";
	case ROOM_CONTROL:
		return "The room name contains a control character.";
	case ROOM_DOT:
		return "The room name must not start with a dot.";
	case ROOM_BAD_CHAR:
		return "The room name must not contain any of \\ < > & \" ' `.";
	}
	return "The room name is not valid.";
}
