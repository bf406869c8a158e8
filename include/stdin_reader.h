/* stdin_reader: client messages, one per line, from websocketd.
 *
 * Lines are split without ever holding more than max_line bytes of one
 * line: a longer line is reported once as too long and the rest of it is
 * thrown away up to its newline. */
#ifndef CHAT_STDIN_READER_H
#define CHAT_STDIN_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum input_event {
	INPUT_LINE,      /* a complete line (without its '\n') */
	INPUT_TOO_LONG,  /* a line over max_line bytes was dropped */
	INPUT_NONE,      /* nothing complete buffered; read more */
};

struct input {
	int fd;
	size_t max_line;
	struct buf pending; /* bytes read, not yet split into lines */
	size_t taken;       /* bytes of the line last returned, freed on the
	                       next call */
	bool skipping;      /* inside an over-long line */
	bool eof;
};

void input_init(struct input *in, int fd, size_t max_line);

/* Reads once from fd.  Returns bytes read, 0 at end of input, -1 on error. */
long input_fill(struct input *in);

/* Takes the next event out of the buffer.  For INPUT_LINE, *line and *len
 * describe the line, valid until the next call (the text is writable).  At
 * end of input a last line without '\n' is still a line. */
enum input_event input_next(struct input *in, char **line, size_t *len);

void input_free(struct input *in);

#endif
