#include "pages.h"

#include <sys/mman.h>
#include <unistd.h>

static size_t page_size(void)
{
	long n = sysconf(_SC_PAGESIZE);
	return n > 0 ? (size_t)n : 4096;
}

void *pages_alloc(size_t *size)
{
	size_t page = page_size();
	size_t n = (*size + page - 1) / page * page;
	void *p = mmap(NULL, n ? n : page, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	*size = n ? n : page;
	return p;
}

void pages_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}
