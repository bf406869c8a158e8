/* append: adding one line to a log that other processes read and write.
 *
 * The whole line goes out in a single write() on an O_APPEND descriptor, so
 * lines from any number of writers never interleave.  The file is opened for
 * every line (relative to its directory, O_NOFOLLOW) so that a log renamed by
 * logrotate is never written to after the rename. */
#ifndef CHAT_APPEND_H
#define CHAT_APPEND_H

#include <stddef.h>
#include <sys/types.h>

/* Appends line[0..len) (which ends in '\n') to name inside dir_fd, creating
 * the file with mode.  A short write is undone (the file is cut back to its
 * old end) so no partial line stays behind.  Returns 0 or -1 with errno. */
int append_line(int dir_fd, const char *name, mode_t mode, const char *line,
                size_t len);

#endif
