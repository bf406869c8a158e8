#include "parse.h"

#include "text.h"

enum request_kind parse_request(char *line, size_t *len)
{
	if (!text_is_utf8(line, *len))
		return REQUEST_BAD_UTF8;
	*len = text_strip_controls(line, *len);
	line[*len] = '\0';
	if (*len == 0)
		return REQUEST_EMPTY;
	return line[0] == '/' ? REQUEST_COMMAND : REQUEST_MESSAGE;
}
