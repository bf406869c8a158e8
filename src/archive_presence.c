#include "archive_presence.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirs.h"
#include "grow.h"

#define FILE_NAME_MAX 256
#define VERIFIED_LINE "verified\n"
#define TEXT_MAX (COLOR_MAX + sizeof VERIFIED_LINE + 1)

void archive_mirror_init(struct archive_mirror *m, const char *room)
{
	memset(m, 0, sizeof *m);
	snprintf(m->room, sizeof m->room, "%s", room);
}

/* What a member of the file transport writes (presence.c): the colour
 * line, then "verified" for a verified name. */
static int text_of(const struct presence_entry *e, char text[TEXT_MAX + 1])
{
	return snprintf(text, TEXT_MAX + 1, "%s\n%s", e->color,
	                e->verified ? VERIFIED_LINE : "");
}

static bool file_of(const struct archive_mirror *m, const char *name,
                    char file[FILE_NAME_MAX])
{
	int n = snprintf(file, FILE_NAME_MAX, "%s_%s", m->room, name);
	return n > 0 && n < FILE_NAME_MAX;
}

/* True when fd is the file under name in dir_fd. */
static bool is_named(int dir_fd, const char *name, int fd)
{
	struct stat held, named;
	return fstat(fd, &held) == 0 &&
	       fstatat(dir_fd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	       held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

/* Removes file when nobody holds its lock (left by a killed archiver).
 * True when it is gone. */
static bool remove_if_dead(int users_fd, const char *file)
{
	int fd = dirs_open_file(users_fd, file, O_RDONLY, 0, NULL);
	if (fd < 0)
		return errno == ENOENT;
	bool gone = flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	            is_named(users_fd, file, fd) && unlinkat(users_fd, file, 0) == 0;
	close(fd);
	return gone;
}

/* The file of e, unnamed, written and locked, then linked as file: no
 * reader ever sees it empty, and no reaper ever finds it unlocked.
 * Returns it or -1. */
static int create_file(int users_fd, mode_t mode, const char *file,
                       const struct presence_entry *e)
{
	char text[TEXT_MAX + 1], path[64];
	int len = text_of(e, text);
	int fd = openat(users_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if (write(fd, text, (size_t)len) != len ||
	    flock(fd, LOCK_EX | LOCK_NB) < 0 ||
	    (linkat(AT_FDCWD, path, users_fd, file, AT_SYMLINK_FOLLOW) < 0 &&
	     !(errno == EEXIST && remove_if_dead(users_fd, file) &&
	       linkat(AT_FDCWD, path, users_fd, file, AT_SYMLINK_FOLLOW) == 0))) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Rewritten in place, as presence_set_color does: the new text whole
 * before the old tail is cut, so a reader always sees a colour. */
static int rewrite(struct archive_member *a, const struct presence_entry *e)
{
	char text[TEXT_MAX + 1];
	int len = text_of(e, text);
	if (pwrite(a->fd, text, (size_t)len, 0) != len ||
	    ftruncate(a->fd, len) < 0)
		return -1;
	a->e = *e;
	return 0;
}

static void drop(struct archive_mirror *m, size_t i, int users_fd)
{
	char file[FILE_NAME_MAX];
	struct archive_member *a = &m->v[i];
	if (a->fd >= 0) {
		if (file_of(m, a->e.name, file) && is_named(users_fd, file, a->fd))
			unlinkat(users_fd, file, 0);
		close(a->fd);
	}
	m->v[i] = m->v[--m->n];
}

static struct archive_member *find(struct archive_mirror *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].e.name, name) == 0)
			return &m->v[i];
	return NULL;
}

static bool listed(const struct presence_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return true;
	return false;
}

/* A member new to the mirror.  A name we cannot show (or a file a living
 * process holds) is remembered with fd -1, so it is said once. */
static void add(struct archive_mirror *m, int users_fd, mode_t mode,
                const struct presence_entry *e)
{
	char file[FILE_NAME_MAX];
	struct archive_member *v = grow(m->v, &m->cap, m->n, sizeof *v);
	if (!v)
		return; /* tried again at the next update */
	m->v = v;
	struct archive_member *a = &m->v[m->n++];
	a->e = *e;
	a->fd = -1;
	/* The colour as the member gave it, as the file transport keeps it
	 * (readers show a colour not valid as the default); but a newline in
	 * it would make a second line. */
	if (!presence_name_is_valid(e->name) || strchr(e->color, '\n') ||
	    !file_of(m, e->name, file)) {
		fprintf(stderr, "chat_server --archive: %s: member \"%s\" not shown "
		        "in users/: not a name or colour the chat makes\n", m->room,
		        e->name);
		return;
	}
	a->fd = create_file(users_fd, mode, file, e);
	if (a->fd < 0)
		fprintf(stderr, "chat_server --archive: %s: cannot show member %s "
		        "in users/: %s\n", m->room, e->name, errno == EEXIST
		        ? "a living process holds its file" : strerror(errno));
}

void archive_mirror_update(struct archive_mirror *m, int users_fd,
                           mode_t file_mode, const struct presence_list *live)
{
	for (size_t i = m->n; i-- > 0;)
		if (!listed(live, m->v[i].e.name))
			drop(m, i, users_fd);
	m->v = grow_shrink(m->v, &m->cap, m->n, sizeof *m->v);
	for (size_t i = 0; i < live->n; i++) {
		const struct presence_entry *e = &live->v[i];
		struct archive_member *a = find(m, e->name);
		if (!a)
			add(m, users_fd, file_mode, e);
		else if (a->fd >= 0 && (strcmp(a->e.color, e->color) != 0 ||
		                        a->e.verified != e->verified) &&
		         rewrite(a, e) < 0)
			fprintf(stderr, "chat_server --archive: %s: cannot rewrite the "
			        "file of %s: %s\n", m->room, e->name, strerror(errno));
	}
}

void archive_mirror_clear(struct archive_mirror *m, int users_fd)
{
	while (m->n > 0)
		drop(m, m->n - 1, users_fd);
	grow_free(m->v, m->cap, sizeof *m->v);
	m->v = NULL;
	m->cap = 0;
}

int archive_mirror_sweep(int users_fd)
{
	DIR *dir = dirs_list(users_fd);
	if (!dir)
		return -1;
	char room[ROOM_NAME_MAX + 1];
	int removed = 0;
	struct dirent *d;
	while ((d = readdir(dir)))
		if (presence_room_of(d->d_name, room) &&
		    presence_file_is_dead(users_fd, d->d_name) == 1 &&
		    remove_if_dead(users_fd, d->d_name))
			removed++;
	closedir(dir);
	return removed;
}
