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
 * fit in size_t is refused as out of memory. */
#ifndef CHAT_GROW_H
#define CHAT_GROW_H

#include <stddef.h>

#define GROW_FIRST 16

/* v (cap elements of size bytes, n of them used) with room for element
 * n: v itself when there is room, else v reallocated to twice as many
 * (GROW_FIRST at first) with *cap updated.  NULL when out of memory: v
 * and *cap are then as they were, and v is still the caller's. */
void *grow(void *v, size_t *cap, size_t n, size_t size);

#endif
