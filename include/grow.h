/* grow: room for one more element at the end of an array that doubles
 * when full, the one way the program's lists grow (presence lists, the
 * archiver's rooms and members, the reaper's rooms).
 *
 *     struct item *v = grow(list->v, &list->cap, list->n, sizeof *v);
 *     if (!v)
 *             return -1;          // list unchanged
 *     list->v = v;
 *     v[list->n++] = item;
 *
 * The capacity starts at GROW_FIRST and doubles; a size that would not
 * fit in size_t is refused as out of memory.
 *
 * An array of PAGES_WORTH_FROM bytes or more is pages of its own
 * (pages.h), given back to the kernel when it is released: a room's
 * member list is among the largest things a process builds, and it is
 * built and dropped again and again (at every join, every second in the
 * archiver); taken from the heap, it would leave a hole that the heap
 * never closes.  An array grown here is therefore released with
 * grow_free, never with free. */
#ifndef CHAT_GROW_H
#define CHAT_GROW_H

#include <stddef.h>

#define GROW_FIRST 16

/* v (cap elements of size bytes, n of them used) with room for element
 * n: v itself when there is room, else v reallocated to twice as many
 * (GROW_FIRST at first) with *cap updated.  NULL when out of memory: v
 * and *cap are then as they were, and v is still the caller's. */
void *grow(void *v, size_t *cap, size_t n, size_t size);

/* v (cap elements of size bytes, n of them used) made smaller once n
 * has fallen to a quarter of cap: the capacity halves while n fills a
 * quarter of it or less, never below GROW_FIRST, and with n 0 the array
 * is released (NULL, *cap 0).  A list that once held a crowd (a room of
 * hundreds, gone) would otherwise keep the crowd's pages for the life of
 * the process.  Returns the array, moved or not; out of memory, v as it
 * was. */
void *grow_shrink(void *v, size_t *cap, size_t n, size_t size);

/* Releases v, grown by grow to cap elements of size bytes; NULL is
 * ignored. */
void grow_free(void *v, size_t cap, size_t size);

#endif
