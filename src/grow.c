#include "grow.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"

static bool paged(size_t cap, size_t size)
{
	return cap * size >= PAGES_WORTH_FROM;
}

void grow_free(void *v, size_t cap, size_t size)
{
	if (v && paged(cap, size))
		pages_free(v, cap * size);
	else
		free(v);
}

/* A new home for cap elements of size bytes: pages of its own when it
 * is worth it (grow_free tells them apart the same way). */
static void *allocate(size_t cap, size_t size)
{
	if (!paged(cap, size))
		return malloc(cap * size);
	size_t bytes = cap * size;
	return pages_alloc(&bytes);
}

void *grow_shrink(void *v, size_t *cap, size_t n, size_t size)
{
	if (n == 0) {
		grow_free(v, *cap, size);
		*cap = 0;
		return NULL;
	}
	size_t less = *cap;
	while (less > GROW_FIRST && n <= less / 4)
		less /= 2;
	if (less == *cap)
		return v;
	void *smaller = allocate(less, size);
	if (!smaller)
		return v;
	memcpy(smaller, v, n * size);
	grow_free(v, *cap, size);
	*cap = less;
	return smaller;
}

void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	size_t more = *cap ? *cap * 2 : GROW_FIRST;
	if (more < *cap || size == 0 || more > SIZE_MAX / size)
		return NULL;
	if (!paged(more, size)) {
		void *bigger = realloc(v, more * size);
		if (bigger)
			*cap = more;
		return bigger;
	}
	void *bigger = allocate(more, size);
	if (!bigger)
		return NULL;
	if (v)
		memcpy(bigger, v, *cap * size);
	grow_free(v, *cap, size);
	*cap = more;
	return bigger;
}
