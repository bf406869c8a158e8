/* buf: a growable byte buffer with a hard size cap.
 *
 * Used wherever bytes queue up: partial lines read from a file or stdin,
 * lines waiting for stdout, lines being formatted.  The cap keeps memory per
 * connection bounded whatever a peer sends. */
#ifndef CHAT_BUF_H
#define CHAT_BUF_H

#include <stddef.h>

struct buf {
	char *data;   /* NUL-terminated once anything was appended; NULL before */
	size_t len;   /* bytes in use, not counting the terminator */
	size_t cap;   /* bytes allocated */
	size_t limit; /* largest len this buffer may reach; 0 means no limit */
};

/* An empty buffer that never grows past limit bytes (0: unlimited). */
void buf_init(struct buf *b, size_t limit);

/* Appends n bytes.  Returns 0, or -1 with errno ENOMEM or EMSGSIZE (the limit
 * would be passed); on failure the buffer is unchanged. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);

/* Appends n bytes left for the caller to fill, and returns where they
 * start; NULL (errno ENOMEM or EMSGSIZE) leaves the buffer unchanged.  The
 * caller may lower len afterwards if it filled fewer. */
void *buf_grow(struct buf *b, size_t n);

/* Drops the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);

/* Empties the buffer but keeps its storage. */
void buf_clear(struct buf *b);

/* Releases the storage of an empty buffer that has grown past keep bytes,
 * so one long line does not hold memory for the life of the process. */
void buf_shrink(struct buf *b, size_t keep);

/* Releases the storage; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

#endif
