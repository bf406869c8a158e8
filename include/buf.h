/* buf: a growable byte buffer with a hard size cap.
 *
 * Used wherever bytes queue up: partial lines read from a file or stdin,
 * lines waiting for stdout, lines being formatted.  The cap keeps memory per
 * connection bounded whatever a peer sends.
 *
 * A queue is drained from the front a little at a time (a partial write,
 * one line taken), so consuming does not move the rest: data advances
 * inside the allocation, and the bytes in front of it are reclaimed only
 * when that pays (see buf_grow).  Draining n bytes therefore costs O(n)
 * in all, not O(n) per partial write. */
#ifndef CHAT_BUF_H
#define CHAT_BUF_H

#include <stddef.h>

struct buf {
	char *data;   /* the bytes held, NUL-terminated once anything was
	                 appended; NULL before */
	size_t len;   /* bytes held, not counting the terminator */
	char *base;   /* the allocation; data - base bytes in front of data
	                 were consumed and not yet reclaimed */
	size_t cap;   /* bytes allocated at base */
	size_t limit; /* largest len this buffer may reach; 0 means no limit */
};

/* An empty buffer that never grows past limit bytes (0: unlimited). */
void buf_init(struct buf *b, size_t limit);

/* Appends n bytes.  Returns 0, or -1 with errno ENOMEM or EMSGSIZE (the limit
 * would be passed); on failure the buffer is unchanged.  On success data
 * may have moved. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);

/* Appends n bytes left for the caller to fill, and returns where they
 * start; NULL (errno ENOMEM or EMSGSIZE) leaves the buffer unchanged.  The
 * caller may lower len afterwards if it filled fewer.
 *
 * This is where consumed bytes are reclaimed: the held bytes move to the
 * front of the allocation when at least as many were consumed in front of
 * them, so moving costs no more than the consuming did; or when n more
 * would not fit behind them, so the allocation grows only when the held
 * bytes need it.  The allocation is thus no larger than if consumed bytes
 * were removed at once, but more of it may be written (and so resident):
 * consumed bytes wait in front until either happens. */
void *buf_grow(struct buf *b, size_t n);

/* Drops the first n bytes (n <= len) without moving the others; dropping
 * them all empties the buffer as buf_clear does. */
void buf_consume(struct buf *b, size_t n);

/* Empties the buffer but keeps its storage. */
void buf_clear(struct buf *b);

/* Releases the storage of an empty buffer that has grown past keep bytes,
 * so one long line does not hold memory for the life of the process. */
void buf_shrink(struct buf *b, size_t keep);

/* Empties a buffer that held one message and is done with it, releasing
 * its storage when that message made it grow past keep bytes. */
void buf_done(struct buf *b, size_t keep);

/* Releases the storage; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

#endif
