/* tmpdir: a scratch directory per unit test fixture. */
#ifndef CHAT_TEST_TMPDIR_H
#define CHAT_TEST_TMPDIR_H

/* Removes dir and everything below it (symlinks are removed, never
 * followed). */
void tmpdir_remove(const char *dir);

#endif
