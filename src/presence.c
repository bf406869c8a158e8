#include "presence.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirs.h"
#include "grow.h"
#include "lockwait.h"
#include "rundir.h"
#include "text.h"

#define FILE_NAME_MAX 256
#define CLAIM_ATTEMPTS 100

int presence_open_dir(const char *users_dir, mode_t dir_mode)
{
	return dirs_open(users_dir, dir_mode, true);
}

/* True when fd is still the file under name in dir_fd: a lock taken on a
 * file that a collector unlinked meanwhile locks nothing anyone else sees. */
static bool still_named(int dir_fd, const char *name, int fd)
{
	struct stat held, named;
	return fstat(fd, &held) == 0 && held.st_nlink > 0 &&
	       fstatat(dir_fd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	       held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

/* The room lock serialises every change of the room's membership.  Its
 * file lives with the runtime state, never in users/: the PHP room list
 * would show it as a room.  Files of rooms nobody uses any more are
 * removed by a collector under an exclusive lock, so a lock is good only
 * once the file is found still in place. */
int presence_lock_room(int lock_dir_fd, const char *room)
{
	return presence_lock_room_within(lock_dir_fd, room, PRESENCE_LOCK_WAIT_MS);
}

int presence_lock_room_within(int lock_dir_fd, const char *room,
                              long wait_ms)
{
	char name[FILE_NAME_MAX];
	snprintf(name, sizeof name, "%s.lock", room);
	for (int i = 0; i < CLAIM_ATTEMPTS; i++) {
		int fd = openat(lock_dir_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
		                                       O_CLOEXEC, RUN_FILE_MODE);
		if (fd < 0)
			return -1;
		if (lockwait_flock(fd, LOCK_EX, wait_ms) < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (still_named(lock_dir_fd, name, fd))
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

int presence_collect_locks(int lock_dir_fd)
{
	DIR *dir = dirs_list(lock_dir_fd);
	if (!dir)
		return -1;
	int removed = 0;
	struct dirent *d;
	while ((d = readdir(dir))) {
		size_t n = strlen(d->d_name);
		if (n <= 5 || strcmp(d->d_name + n - 5, ".lock") != 0 ||
		    d->d_name[0] == '.')
			continue;
		int fd = dirs_open_file(lock_dir_fd, d->d_name, O_RDONLY, 0, NULL);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    still_named(lock_dir_fd, d->d_name, fd) &&
		    unlinkat(lock_dir_fd, d->d_name, 0) == 0)
			removed++;
		close(fd);
	}
	closedir(dir);
	return removed;
}

void presence_unlock_room(int lock_fd)
{
	if (lock_fd >= 0)
		close(lock_fd);
}

static int member_file(char *out, const char *room, const char *name)
{
	int n = snprintf(out, FILE_NAME_MAX, "%s_%s", room, name);
	if (n < 0 || n >= FILE_NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

bool presence_name_is_valid(const char *name)
{
	return strlen(name) <= PRESENCE_NAME_MAX && identity_name_is_clean(name);
}

/* The name part of a presence file of room, or NULL when the file belongs
 * to another room or its name could not have been claimed by us. */
static const char *member_name(const char *file, const char *room)
{
	size_t rl = strlen(room);
	if (strncmp(file, room, rl) != 0 || file[rl] != '_')
		return NULL;
	const char *name = file + rl + 1;
	return presence_name_is_valid(name) ? name : NULL;
}

#define VERIFIED_LINE PRESENCE_VERIFIED_LINE

/* The lines of a presence file: the colour, and "verified" for a verified
 * name; text has PRESENCE_TEXT_MAX + 1 bytes. */
int presence_text(char *text, const char *color, bool verified)
{
	return snprintf(text, PRESENCE_TEXT_MAX + 1, "%s\n%s", color,
	                verified ? VERIFIED_LINE : "");
}

/* The first line of a presence file, when it is a colour we may show, and
 * whether its second line says the name is verified. */
static void read_member(int fd, char *color, bool *verified)
{
	char text[PRESENCE_TEXT_MAX + 1];
	ssize_t n = pread(fd, text, sizeof text - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	size_t first = strcspn(text, "\n");
	*verified = text[first] == '\n' &&
	            strcmp(text + first + 1, VERIFIED_LINE) == 0;
	text[first] = '\0';
	const char *shown = color_is_valid(text) ? text : COLOR_DEFAULT;
	memcpy(color, shown, strlen(shown) + 1); /* valid colours fit */
}

/* Why opening a presence file may fail without anything being wrong: it
 * went (its owner left), or it is no presence file (a symlink, a FIFO). */
static bool skipped(int err)
{
	return err == ENOENT || err == ELOOP || err == EINVAL;
}

struct reaper {
	presence_dead_fn fn;
	void *ctx;
};

/* Returns 1 when file belongs to a live process (colour read into e), 0 when
 * not (a dead member's file is removed, a planted one skipped), -1 when it
 * cannot be told (no descriptor left, say): a member silently missing from
 * a listing would be missing from the user list and the room's count.
 * Needs the room lock. */
static int probe_member(int dir_fd, const char *file, struct presence_entry *e,
                        const struct reaper *r)
{
	int fd = dirs_open_file(dir_fd, file, O_RDONLY, 0, NULL);
	if (fd < 0)
		return skipped(errno) ? 0 : -1;
	int live = 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		/* Nobody holds it: its owner died without cleaning up.  Its
		 * quit is logged before the file goes: killed in between, we
		 * leave the file to the next lister, who finds the quit. */
		if (r->fn)
			r->fn(r->ctx, fd, e->name);
		unlinkat(dir_fd, file, 0);
	} else if (errno == EWOULDBLOCK) {
		read_member(fd, e->color, &e->verified);
		live = 1;
	}
	close(fd);
	return live;
}

bool presence_room_of(const char *file, char *room)
{
	const char *sep = strchr(file, '_');
	size_t len = sep ? (size_t)(sep - file) : 0;
	if (len == 0 || len > ROOM_NAME_MAX || file[0] == '.')
		return false;
	memcpy(room, file, len);
	room[len] = '\0';
	return member_name(file, room) != NULL;
}

int presence_file_is_dead(int dir_fd, const char *file)
{
	int fd = dirs_open_file(dir_fd, file, O_RDONLY, 0, NULL);
	if (fd < 0)
		return skipped(errno) ? 0 : -1;
	int dead = flock(fd, LOCK_SH | LOCK_NB) == 0 ? 1
	           : errno == EWOULDBLOCK ? 0 : -1;
	close(fd);
	return dead;
}

int presence_open_member(int dir_fd, const char *room, const char *name)
{
	char file[FILE_NAME_MAX];
	if (!presence_name_is_valid(name) || member_file(file, room, name) < 0) {
		errno = ENOENT;
		return -1;
	}
	int fd = dirs_open_file(dir_fd, file, O_RDONLY, 0, NULL);
	if (fd < 0) {
		errno = ENOENT; /* missing, or not a presence file at all */
		return -1;
	}
	/* Held by its owner means alive; a free lock means a dead member. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

/* Makes room for one more entry. */
int presence_list_push(struct presence_list *l, const struct presence_entry *e)
{
	struct presence_entry *v = grow(l->v, &l->cap, l->n, sizeof *v);
	if (!v)
		return -1;
	l->v = v;
	l->v[l->n++] = *e;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct presence_entry *x = a, *y = b;
	int c = strcoll(x->name, y->name);
	return c ? c : strcmp(x->name, y->name);
}

int presence_list(int dir_fd, const char *room, struct presence_list *out)
{
	return presence_list_reaping(dir_fd, room, out, NULL, NULL);
}

int presence_list_reaping(int dir_fd, const char *room,
                          struct presence_list *out, presence_dead_fn on_dead,
                          void *ctx)
{
	const struct reaper r = { on_dead, ctx };
	out->n = 0;
	DIR *dir = dirs_list(dir_fd);
	if (!dir)
		return -1;
	int rc = 0;
	struct dirent *d;
	while (rc == 0 && (d = readdir(dir))) {
		const char *name = member_name(d->d_name, room);
		struct presence_entry e;
		if (!name)
			continue;
		snprintf(e.name, sizeof e.name, "%s", name);
		int live = probe_member(dir_fd, d->d_name, &e, &r);
		if (live < 0)
			rc = -1;
		else if (live)
			rc = presence_list_push(out, &e);
	}
	closedir(dir);
	if (rc == 0)
		presence_list_sort(out);
	return rc;
}

void presence_list_sort(struct presence_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, by_name);
}

static bool list_has(const struct presence_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return true;
	return false;
}

/* The number after base in name ("Ann12" -> 12), or 0 when name is not base
 * followed by a plain decimal number. */
static unsigned long number_after(const char *name, const char *base)
{
	size_t bl = strlen(base);
	if (strncmp(name, base, bl) != 0)
		return 0;
	const char *digits = name + bl;
	if (*digits < '1' || *digits > '9' || strlen(digits) > 9 ||
	    strspn(digits, "0123456789") != strlen(digits))
		return 0;
	return strtoul(digits, NULL, 10);
}

/* Whether a verified member holds base, or base with a number after it:
 * names an unverified member may not have (see presence.h). */
static bool reserved(const struct presence_list *l, const char *base)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].verified && (strcmp(l->v[i].name, base) == 0 ||
		                         number_after(l->v[i].name, base) > 0))
			return true;
	return false;
}

/* The first number to try for base: one more than the highest in use. */
unsigned long presence_first_number(const struct presence_list *l,
                                    const char *base, bool verified)
{
	if (!list_has(l, base) && (verified || !reserved(l, base)))
		return 0;
	unsigned long max = 0;
	for (size_t i = 0; i < l->n; i++) {
		unsigned long n = number_after(l->v[i].name, base);
		if (n > max)
			max = n;
	}
	return max + 1;
}

/* A new file holding color, not yet in the directory: O_TMPFILE, so that
 * no reader ever sees it empty or under a name that is no member's.
 * Returns it, or -1 with errno EOPNOTSUPP (and the like) where the
 * filesystem cannot make one. */
static int write_unnamed(int dir_fd, mode_t mode, const char *color,
                         bool verified)
{
	int fd = openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	char line[PRESENCE_TEXT_MAX + 1];
	int len = presence_text(line, color, verified);
	if (write(fd, line, (size_t)len) != len) {
		close(fd);
		errno = EIO;
		return -1;
	}
	return fd;
}

/* Gives the unnamed file tmp the name file.  /proc/self/fd is the way an
 * unprivileged process names an O_TMPFILE (AT_EMPTY_PATH needs a
 * capability). */
static int link_unnamed(int tmp, int dir_fd, const char *file)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", tmp);
	return linkat(AT_FDCWD, path, dir_fd, file, AT_SYMLINK_FOLLOW);
}

/* Where O_TMPFILE or /proc is missing: the file is made under its name and
 * shows empty until the colour is written, which readers take for the
 * default colour. */
static int create_named(int dir_fd, const char *file, mode_t mode)
{
	return openat(dir_fd, file, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	                                O_CLOEXEC, mode);
}

/* Our presence file under its name, opened anew for writing and locked.
 * Opened by name, not kept from O_TMPFILE: when it is closed, by our exit
 * or by the kernel at our death, inotify reports IN_CLOSE_WRITE with this
 * name, which is how a dead member is noticed (see warden.h).  The room
 * lock is held, so no lister looks before the flock is taken. */
static int open_claimed(int dir_fd, const char *file, const char *color,
                        bool verified, bool written)
{
	int fd = dirs_open_file(dir_fd, file, O_RDWR, 0, NULL);
	if (fd < 0)
		return -1;
	char line[PRESENCE_TEXT_MAX + 1];
	int len = presence_text(line, color, verified);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 ||
	    (!written && write(fd, line, (size_t)len) != len)) {
		close(fd);
		unlinkat(dir_fd, file, 0);
		return -1;
	}
	return fd;
}

/* Makes our file under the name file: linked from tmp, or created. */
static int place(int dir_fd, int tmp, const char *file, mode_t mode)
{
	if (tmp >= 0)
		return link_unnamed(tmp, dir_fd, file);
	int fd = create_named(dir_fd, file, mode);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Claims base or base<N>, the first free one; p->name gets it.  Returns
 * the open, locked presence file or -1. */
static int claim_free_name(struct presence *p, int tmp, mode_t mode,
                           const char *base, unsigned long number,
                           const char *color)
{
	char file[FILE_NAME_MAX];
	for (int i = 0; i < CLAIM_ATTEMPTS; i++, number++) {
		if (number)
			snprintf(p->name, sizeof p->name, "%s%lu", base, number);
		else
			snprintf(p->name, sizeof p->name, "%s", base);
		if (member_file(file, p->room, p->name) < 0)
			return -1;
		if (place(p->dir_fd, tmp, file, mode) == 0)
			return open_claimed(p->dir_fd, file, color, p->verified,
			                    tmp >= 0);
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* Adds our new entry to the listing (room reserved), in its place. */
static void list_insert(struct presence_list *l, const struct presence *p,
                        const char *color)
{
	struct presence_entry *e = &l->v[l->n++];
	snprintf(e->name, sizeof e->name, "%s", p->name);
	snprintf(e->color, sizeof e->color, "%s", color_is_valid(color)
	                                           ? color : COLOR_DEFAULT);
	e->verified = p->verified;
	qsort(l->v, l->n, sizeof *l->v, by_name);
}

int presence_claim_listed(struct presence *p, int dir_fd, mode_t file_mode,
                          const char *room, const char *base_name,
                          const char *color, struct presence_list *members)
{
	return presence_claim_listed_as(p, dir_fd, file_mode, room, base_name,
	                                color, false, members);
}

int presence_claim_listed_as(struct presence *p, int dir_fd, mode_t file_mode,
                             const char *room, const char *base_name,
                             const char *color, bool verified,
                             struct presence_list *members)
{
	p->dir_fd = dir_fd;
	p->file_fd = -1;
	snprintf(p->room, sizeof p->room, "%s", room);
	p->name[0] = '\0';
	p->verified = verified;
	/* Room for our own entry first: once the name is ours, nothing
	 * may fail. */
	struct presence_entry *v = grow(members->v, &members->cap, members->n,
	                                sizeof *v);
	if (!v)
		return -1;
	members->v = v;
	int tmp = write_unnamed(dir_fd, file_mode, color, verified);
	int fd = claim_free_name(p, tmp, file_mode, base_name,
	                         presence_first_number(members, base_name, verified),
	                         color);
	if (tmp >= 0)
		close(tmp);
	if (fd < 0)
		return -1;
	list_insert(members, p, color);
	p->file_fd = fd;
	return 0;
}

int presence_claim(struct presence *p, int dir_fd, mode_t file_mode,
                   const char *room, const char *base_name, const char *color)
{
	struct presence_list members = { 0 };
	int rc = presence_list(dir_fd, room, &members);
	if (rc == 0)
		rc = presence_claim_listed(p, dir_fd, file_mode, room, base_name,
		                           color, &members);
	presence_list_free(&members);
	return rc;
}

int presence_set_color(struct presence *p, const char *color)
{
	char line[PRESENCE_TEXT_MAX + 1];
	int len = strlen(color) > COLOR_MAX ? -1
	          : presence_text(line, color, p->verified);
	if (p->file_fd < 0 || len < 0 || len >= (int)sizeof line) {
		errno = EINVAL;
		return -1;
	}
	/* Rewritten in place, under the lock every lister takes, so the file
	 * stays the inode we hold locked (our liveness and our identity for
	 * private delivery); the new first line is whole before the old tail
	 * is cut, so even an unlocked reader sees a colour. */
	return pwrite(p->file_fd, line, (size_t)len, 0) == len &&
	       ftruncate(p->file_fd, len) == 0 ? 0 : -1;
}

/* True when file in the directory is still our own presence file. */
static bool still_ours(const struct presence *p, const char *file)
{
	struct stat mine, now;
	return fstat(p->file_fd, &mine) == 0 &&
	       fstatat(p->dir_fd, file, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
	       mine.st_dev == now.st_dev && mine.st_ino == now.st_ino;
}

void presence_release(struct presence *p)
{
	char file[FILE_NAME_MAX];
	if (p->file_fd < 0)
		return;
	if (member_file(file, p->room, p->name) == 0 && still_ours(p, file))
		unlinkat(p->dir_fd, file, 0);
	close(p->file_fd);
	p->file_fd = -1;
}

int presence_member_verified(int dir_fd, const char *room, const char *name,
                             size_t len)
{
	char file[FILE_NAME_MAX], who[PRESENCE_NAME_MAX + 1], color[COLOR_MAX + 1];
	if (len > PRESENCE_NAME_MAX)
		return 0;
	memcpy(who, name, len);
	who[len] = '\0';
	if (!presence_name_is_valid(who) || member_file(file, room, who) < 0)
		return 0;
	int fd = dirs_open_file(dir_fd, file, O_RDONLY, 0, NULL);
	if (fd < 0)
		return skipped(errno) ? 0 : -1;
	bool verified;
	read_member(fd, color, &verified);
	close(fd);
	return verified ? 1 : 0;
}

void presence_list_free(struct presence_list *l)
{
	grow_free(l->v, l->cap, sizeof *l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
