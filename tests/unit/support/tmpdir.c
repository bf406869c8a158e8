#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tmpdir_remove(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool tmpdir_make(char *dir, size_t size, const char *name)
{
	int n = snprintf(dir, size, "/tmp/%s.XXXXXX", name);
	return n > 0 && (size_t)n < size && mkdtemp(dir) != NULL;
}

int tmpdir_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof *t);
	if (!t)
		return -1;
	t->fd = -1;
	if (tmpdir_make(t->dir, sizeof t->dir, "chat_unit"))
		t->fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = t;
	return t->fd >= 0 ? 0 : -1;
}

int tmpdir_teardown(void **state)
{
	struct tmpdir *t = *state;
	if (t->fd >= 0)
		close(t->fd);
	if (t->dir[0])
		tmpdir_remove(t->dir);
	free(t);
	return 0;
}

char *tmpdir_read(int dir_fd, const char *name, char *out, size_t size)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, out, size - 1);
	close(fd);
	assert_true(n >= 0);
	out[n] = '\0';
	return out;
}
