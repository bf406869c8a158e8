#include "buf.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
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
	char *p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

void *buf_grow(struct buf *b, size_t n)
{
	if (n > SIZE_MAX - b->len - 1 || (b->limit && b->len + n > b->limit)) {
		errno = EMSGSIZE;
		return NULL;
	}
	if (buf_reserve(b, b->len + n + 1) < 0)
		return NULL;
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
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void buf_clear(struct buf *b)
{
	b->len = 0;
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

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->limit);
}
