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
	size_t bytes = more * size;
	void *bigger = pages_alloc(&bytes);
	if (!bigger)
		return NULL;
	if (v)
		memcpy(bigger, v, *cap * size);
	grow_free(v, *cap, size);
	*cap = more;
	return bigger;
}
