/* dirs: opening the directories we own (rooms, users, log, sessions).
 *
 * Every file we touch is opened relative to one of these descriptors with
 * O_NOFOLLOW, so a name from a request can never reach another directory and
 * a symlink planted inside ours is never followed. */
#ifndef CHAT_DIRS_H
#define CHAT_DIRS_H

#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Opens the directory at path, creating it (and missing parents) with mode
 * when create is true.  The last component must not be a symlink (Linux
 * says ENOTDIR or ELOOP).
 * Returns a descriptor (O_DIRECTORY|O_CLOEXEC) or -1 with errno set. */
int dirs_open(const char *path, mode_t mode, bool create);

/* Opens the directory name inside dir_fd, creating it with mode if it is
 * missing; a symlink there is refused (ELOOP).  Returns the descriptor or
 * -1. */
int dirs_open_at(int dir_fd, const char *name, mode_t mode);

/* Opens name inside dir_fd as a regular file: O_NOFOLLOW (a symlink is
 * refused, ELOOP), O_NONBLOCK (a FIFO cannot hang us) and anything but a
 * regular file refused (EINVAL).  flags are O_RDONLY or O_WRONLY and the
 * like, with O_CREAT taking mode.  On success *st (may be NULL) describes
 * the file.  Returns the descriptor or -1. */
int dirs_open_file(int dir_fd, const char *name, int flags, mode_t mode,
                   struct stat *st);

/* A listing of the directory dir_fd from its start, on a descriptor of its
 * own (closedir leaves dir_fd open).  NULL on error. */
DIR *dirs_list(int dir_fd);

#endif
