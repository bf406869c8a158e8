#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	size_t more = *cap ? *cap * 2 : GROW_FIRST;
	if (more < *cap || size == 0 || more > SIZE_MAX / size)
		return NULL;
	void *bigger = realloc(v, more * size);
	if (bigger)
		*cap = more;
	return bigger;
}
