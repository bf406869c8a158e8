#include "buf.h"

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->base = NULL;
	b->cap = 0;
	b->limit = limit;
}

/* Bytes consumed in front of data and not yet reclaimed. */
static size_t buf_head(const struct buf *b)
{
	return b->data ? (size_t)(b->data - b->base) : 0;
}

static int buf_reserve(struct buf *b, size_t need)
{
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			errno = ENOMEM;
			return -1;
		}
		cap *= 2;
	}
	size_t head = buf_head(b);
	char *p = realloc(b->base, cap);
	if (!p)
		return -1;
	b->base = p;
	b->data = p + head;
	b->cap = cap;
	return 0;
}

/* Whether the held bytes should move to the front before n more go in
 * (buf.h, at buf_grow, says when that pays). */
static bool buf_should_compact(const struct buf *b, size_t n)
{
	size_t head = buf_head(b);
	if (head == 0)
		return false;
	if (b->len <= head)
		return true;
	/* head + len + n + 1 > cap, written so that it cannot wrap. */
	return n >= b->cap - head - b->len;
}

/* Moves the held bytes, and the byte after them, to the front. */
static void buf_compact(struct buf *b)
{
	memmove(b->base, b->data, b->len + 1);
	b->data = b->base;
}

void *buf_grow(struct buf *b, size_t n)
{
	if (n > SIZE_MAX - b->len - 1 || (b->limit && b->len + n > b->limit)) {
		errno = EMSGSIZE;
		return NULL;
	}
	bool compact = buf_should_compact(b, n);
	/* Reserve first: a failed allocation leaves the buffer as it was. */
	size_t head = compact ? 0 : buf_head(b);
	if (buf_reserve(b, head + b->len + n + 1) < 0)
		return NULL;
	if (compact)
		buf_compact(b);
	char *p = b->data + b->len;
	b->len += n;
	b->data[b->len] = '\0';
	return p;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	char *to = buf_grow(b, n);
	if (!to)
		return -1;
	if (n)
		memcpy(to, p, n);
	return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_clear(b);
		return;
	}
	b->data += n;
	b->len -= n;
	b->data[b->len] = '\0';
}

void buf_clear(struct buf *b)
{
	b->len = 0;
	b->data = b->base;
	if (b->data)
		b->data[0] = '\0';
}

void buf_shrink(struct buf *b, size_t keep)
{
	if (b->len > 0 || b->cap <= keep)
		return;
	buf_free(b);
	/* Freed in the middle of the heap, the pages would stay ours. */
	malloc_trim(0);
}

void buf_done(struct buf *b, size_t keep)
{
	buf_clear(b);
	buf_shrink(b, keep);
}

void buf_free(struct buf *b)
{
	free(b->base);
	buf_init(b, b->limit);
}
