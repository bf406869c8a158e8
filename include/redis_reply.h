/* redis_reply: hiredis's replies built in blocks of their own, one reply
 * at a time, and released whole.
 *
 * hiredis's own reply objects are one malloc each: a string, an array, and
 * every element of an array.  A connection process reads hundreds of
 * them for a history or a member list, then frees them, and the C library
 * keeps the freed pieces of every size in its per-thread caches for reuse:
 * a heap that grew to the largest reply stays that size for the life of
 * the connection (about 40 KiB per member at 50 members, docs/
 * benchmarks.md).  Built here, a reply lives in a few blocks that grow by
 * doubling and go back to the C library whole, so the heap gives back
 * what one reply took.
 *
 * The objects are hiredis's redisReply, read as ever (type, integer, len,
 * str, elements, element); only their memory differs.  A link installs
 * the functions on its hiredis reader (redis_link.c); every reply read
 * then is released with redis_reply_free, never freeReplyObject. */
#ifndef CHAT_REDIS_REPLY_H
#define CHAT_REDIS_REPLY_H

#include <stddef.h>

struct redisReply;
struct redisReplyObjectFunctions;

/* The functions for a hiredis reader (redisReader.fn).  Static: the same
 * table serves every link. */
struct redisReplyObjectFunctions *redis_reply_functions(void);

/* Releases a whole reply (the top of one, as a reader handed it out) and
 * everything in it; NULL is ignored. */
void redis_reply_free(struct redisReply *reply);

/* The bytes a reply's blocks hold, for tests: at least what its objects
 * take; as the blocks double, within three times that and a first
 * block. */
size_t redis_reply_footprint(struct redisReply *reply);

/* Of those, the bytes in pages of the reply's own (pages.h), for tests:
 * every block of 2 KiB or more, given back to the kernel when the reply
 * is freed, so that a large reply leaves no hole in the heap. */
size_t redis_reply_paged(struct redisReply *reply);

#endif
