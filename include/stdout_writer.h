/* stdout_writer: lines to the browser, without ever blocking the loop.
 *
 * stdout is a pipe to websocketd; a slow browser fills it.  Lines wait in a
 * bounded queue and the loop stops reading the room log while the queue is
 * full, so the log itself is the buffer and memory stays bounded. */
#ifndef CHAT_STDOUT_WRITER_H
#define CHAT_STDOUT_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Once empty, a queue that grew past this gives its memory back: one
 * burst (a big room's user lists) must not stay resident for the life of
 * the connection. */
#define OUTPUT_KEEP (4 * 1024)

struct output {
	int fd;
	struct buf queue; /* bytes not yet written, in order */
	size_t low_water; /* read more of the log only below this many bytes */
};

/* Makes fd non-blocking and sets up a queue of at most limit bytes not yet
 * written; low_water counts the same bytes. */
int output_init(struct output *o, int fd, size_t limit, size_t low_water);

/* Queues one whole line.  Returns 0, or -1 (EMSGSIZE: queue full). */
int output_push(struct output *o, const char *line, size_t len);

/* Writes as much as the pipe takes.  Returns 0, or -1 when the reader is
 * gone (EPIPE) or on another error. */
int output_flush(struct output *o);

bool output_pending(const struct output *o);

/* True when the queue is short enough to accept more log lines. */
bool output_has_room(const struct output *o);

/* Flushes what is queued, waiting at most timeout_ms in all. */
void output_drain(struct output *o, int timeout_ms);

void output_free(struct output *o);

#endif
