/* pages: memory for a passing buffer straight from the kernel, in whole
 * pages, given back whole when freed.
 *
 * A connection process lives long and keeps little, but now and then it
 * reads something large (a room's history, a big room's member list).
 * Taken from the C library's heap, such a buffer leaves its pages with the
 * process once freed: what is allocated after it lands above it, and the
 * heap shrinks only from its top, and only past 128 KiB.  Taken here, its
 * pages go back to the kernel at once. */
#ifndef CHAT_PAGES_H
#define CHAT_PAGES_H

#include <stddef.h>

/* From this size on, a buffer that comes and goes is worth pages of its
 * own (grow.h's arrays, redis_reply.h's blocks): below it, a page or more
 * per buffer would cost more than the heap's holes. */
#define PAGES_WORTH_FROM 2048

/* At least *size bytes, *size then being what was given (whole pages);
 * NULL with errno when the kernel refuses. */
void *pages_alloc(size_t *size);

/* Gives back what pages_alloc gave, size being the *size it set. */
void pages_free(void *p, size_t size);

#endif
