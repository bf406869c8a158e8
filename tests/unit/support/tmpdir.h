/* tmpdir: a scratch directory per unit test fixture. */
#ifndef CHAT_TEST_TMPDIR_H
#define CHAT_TEST_TMPDIR_H

#include <stdbool.h>
#include <stddef.h>

/* Makes a new directory /tmp/<name>.XXXXXX and writes its path to dir
 * (size bytes).  Returns false on failure. */
bool tmpdir_make(char *dir, size_t size, const char *name);

/* Removes dir and everything below it (symlinks are removed, never
 * followed). */
void tmpdir_remove(const char *dir);

/* Reads the whole file name in dir_fd into out (size bytes, NUL added):
 * a cmocka failure when it cannot be opened or read.  Returns out. */
char *tmpdir_read(int dir_fd, const char *name, char *out, size_t size);

/* The whole fixture of suites that need nothing but a directory: a
 * scratch directory, open. */
struct tmpdir {
	char dir[64];
	int fd;
};

/* cmocka setup and teardown of a struct tmpdir in *state.  Setup returns
 * -1 (the tests of the group fail) when the directory cannot be made. */
int tmpdir_setup(void **state);
int tmpdir_teardown(void **state);

#endif
