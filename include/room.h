/* room: the room name, taken from the request path.
 *
 * The name is the first segment of PATH_INFO with spaces and '_' turned into
 * '-' ('_' separates room and user in presence file names).  Anything that
 * could name a file outside our directories, or break a line format or a
 * page, is refused rather than repaired. */
#ifndef CHAT_ROOM_H
#define CHAT_ROOM_H

#include <stddef.h>

#define ROOM_NAME_MAX 100 /* bytes; keeps "<room>_<name>" and "<room>.log" short */

enum room_error {
	ROOM_OK = 0,
	ROOM_EMPTY,      /* no first segment */
	ROOM_TOO_LONG,   /* over ROOM_NAME_MAX bytes */
	ROOM_BAD_UTF8,   /* not UTF-8 */
	ROOM_CONTROL,    /* a control character */
	ROOM_DOT,        /* ".", ".." or a leading dot (hidden or parent) */
	ROOM_BAD_CHAR,   /* one of \ < > & " ' ` */
};

/* Writes the room name for path_info (NULL counts as empty) into out, which
 * must hold ROOM_NAME_MAX + 1 bytes.  Returns ROOM_OK or the reason. */
enum room_error room_from_path_info(const char *path_info, char *out);

/* A sentence that tells the user why a name was refused. */
const char *room_error_text(enum room_error err);

#endif
