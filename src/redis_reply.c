#include "redis_reply.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "pages.h"

/* One block of a reply.  The first block's data begins with the reply's
 * top object, so that the top finds its blocks; it alone keeps tail, the
 * block being filled. */
struct reply_block {
	struct reply_block *next;
	struct reply_block *tail;
	size_t used, size;
	max_align_t data[];
};

/* Enough for a status, an integer or a short string in one block. */
#define FIRST_BLOCK 256
static size_t aligned(size_t n)
{
	const size_t a = alignof(max_align_t);
	return (n + a - 1) / a * a;
}

/* A block's bytes, its header included.  From PAGES_WORTH_FROM on, a
 * block is pages of its own (pages.h): a history or a member list read
 * at a join would otherwise hold the heap at its size for the life of
 * the connection. */
static size_t block_bytes(const struct reply_block *b)
{
	return sizeof *b + b->size;
}

static struct reply_block *block_new(size_t size)
{
	size_t bytes = sizeof(struct reply_block) + size;
	struct reply_block *b = bytes >= PAGES_WORTH_FROM
	                        ? pages_alloc(&bytes) : malloc(bytes);
	if (b) {
		b->next = NULL;
		b->tail = b;
		b->used = 0;
		b->size = bytes - sizeof *b; /* all of its pages */
	}
	return b;
}

static void block_free(struct reply_block *b)
{
	if (block_bytes(b) >= PAGES_WORTH_FROM)
		pages_free(b, block_bytes(b));
	else
		free(b);
}

static struct reply_block *first_block(redisReply *top)
{
	return (struct reply_block *)(void *)((char *)top -
	                                      offsetof(struct reply_block, data));
}

/* The top of the reply a task with a parent belongs to. */
static redisReply *top_of(const redisReadTask *task)
{
	while (task->parent)
		task = task->parent;
	return task->obj;
}

/* The size of a block for n bytes: from, doubled as often as n needs.
 * Blocks of a few sizes only, whatever the replies' sizes: a freed block
 * of every size a room's lines have had would stay in the C library's
 * per-thread cache (a room's user lists grow by a name a join). */
static size_t block_size(size_t from, size_t n)
{
	size_t size = from;
	while (size < n && size <= SIZE_MAX / 2)
		size *= 2;
	return size < n ? n : size;
}

/* n bytes from the reply's blocks, a new one at least doubling the last
 * when it is full; NULL when out of memory. */
static void *take(struct reply_block *first, size_t n)
{
	n = aligned(n);
	struct reply_block *b = first->tail;
	if (b->size - b->used < n) {
		size_t size = block_size(b->size * 2, n);
		struct reply_block *grown = block_new(size);
		if (!grown)
			return NULL;
		b->next = grown;
		first->tail = grown;
		b = grown;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

/* A zeroed object of the given type with extra bytes after it, placed in
 * its parent array, or the top of a new reply. */
static redisReply *object(const redisReadTask *task, int type, size_t extra)
{
	size_t need = aligned(sizeof(redisReply)) + extra;
	redisReply *r;
	if (!task->parent) {
		size_t size = block_size(FIRST_BLOCK, need);
		struct reply_block *b = block_new(size);
		if (!b)
			return NULL;
		r = (redisReply *)(void *)b->data;
		b->used = aligned(need);
	} else {
		r = take(first_block(top_of(task)), need);
		if (!r)
			return NULL;
	}
	memset(r, 0, sizeof *r);
	r->type = type;
	if (task->parent) {
		redisReply *parent = task->parent->obj;
		parent->element[task->idx] = r;
	}
	return r;
}

static void *create_string(const redisReadTask *task, char *str, size_t len)
{
	redisReply *r = object(task, task->type, len + 1);
	if (!r)
		return NULL;
	r->str = (char *)r + aligned(sizeof(redisReply));
	memcpy(r->str, str, len);
	r->str[len] = '\0';
	r->len = len;
	return r;
}

static void *create_array(const redisReadTask *task, int elements)
{
	size_t n = elements > 0 ? (size_t)elements : 0;
	redisReply *r = object(task, REDIS_REPLY_ARRAY, 0);
	if (!r)
		return NULL;
	r->elements = n;
	if (n) {
		redisReply *top = task->parent ? top_of(task) : r;
		/* Pointers, each set as its element is read. */
		size_t bytes = n * sizeof(redisReply *);
		r->element = take(first_block(top), bytes);
		if (!r->element)
			return NULL;
		memset(r->element, 0, bytes);
	}
	return r;
}

static void *create_integer(const redisReadTask *task, long long value)
{
	redisReply *r = object(task, REDIS_REPLY_INTEGER, 0);
	if (r)
		r->integer = value;
	return r;
}

static void *create_nil(const redisReadTask *task)
{
	return object(task, REDIS_REPLY_NIL, 0);
}

static void free_object(void *top)
{
	redis_reply_free(top);
}

struct redisReplyObjectFunctions *redis_reply_functions(void)
{
	static redisReplyObjectFunctions functions = {
		.createString = create_string,
		.createArray = create_array,
		.createInteger = create_integer,
		.createNil = create_nil,
		.freeObject = free_object,
	};
	return &functions;
}

void redis_reply_free(struct redisReply *reply)
{
	if (!reply)
		return;
	struct reply_block *b = first_block(reply);
	while (b) {
		struct reply_block *next = b->next;
		block_free(b);
		b = next;
	}
}

/* The sum over a reply's blocks of their data's size, or of the bytes of
 * those that are pages. */
static size_t blocks_total(struct redisReply *reply, bool pages)
{
	size_t n = 0;
	if (!reply)
		return 0;
	for (const struct reply_block *b = first_block(reply); b; b = b->next) {
		size_t bytes = block_bytes(b);
		if (!pages)
			n += b->size;
		else if (bytes >= PAGES_WORTH_FROM)
			n += bytes;
	}
	return n;
}

size_t redis_reply_footprint(struct redisReply *reply)
{
	return blocks_total(reply, false);
}

size_t redis_reply_paged(struct redisReply *reply)
{
	return blocks_total(reply, true);
}
