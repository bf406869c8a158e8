/* parse: what a client line asks for.
 *
 * A line is a command when it starts with '/', otherwise a chat message.
 * Text must be UTF-8; control characters are removed before anything else
 * sees it, so nothing a client sends can split or forge a log line. */
#ifndef CHAT_PARSE_H
#define CHAT_PARSE_H

#include <stddef.h>

enum request_kind {
	REQUEST_EMPTY,     /* nothing left to say: ignored */
	REQUEST_COMMAND,   /* "/..." */
	REQUEST_MESSAGE,   /* anything else */
	REQUEST_BAD_UTF8,  /* refused */
};

/* Classifies line[0..*len) and cleans it in place (*len may shrink). */
enum request_kind parse_request(char *line, size_t *len);

#endif
