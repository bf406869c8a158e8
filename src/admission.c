#include "admission.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dirs.h"

#define LIST_SEPARATORS " ,\t"
/* A slot file collected between our open and our lock, again and again,
 * only if something is badly wrong. */
#define SLOT_OPEN_ATTEMPTS 4
#define SLOT_RETRY_NS 2000000

/* True when item is one of the words of list, compared with cmp. */
static bool list_has(const char *list, const char *item,
                     int (*cmp)(const char *, const char *, size_t))
{
	size_t len = strlen(item);
	for (const char *p = list; *(p += strspn(p, LIST_SEPARATORS));) {
		size_t n = strcspn(p, LIST_SEPARATORS);
		if (n == len && cmp(p, item, n) == 0)
			return true;
		p += n;
	}
	return false;
}

bool admission_origin_allowed(const char *allowed, const char *origin)
{
	if (!origin || allowed[strspn(allowed, LIST_SEPARATORS)] == '\0')
		return true;
	return list_has(allowed, origin, strncasecmp);
}

/* Canonical text of an address, or false. */
static bool canonical(const char *text, size_t n, char *out)
{
	char tmp[ADDRESS_MAX];
	unsigned char bin[16];
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, text, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, bin) == 1)
		return inet_ntop(AF_INET, bin, out, ADDRESS_MAX) != NULL;
	if (inet_pton(AF_INET6, tmp, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, ADDRESS_MAX) != NULL;
	return false;
}

/* A trusted proxy's list is compared by canonical address. */
static bool trusted(const char *proxies, const char *addr)
{
	for (const char *p = proxies; *(p += strspn(p, LIST_SEPARATORS));) {
		size_t n = strcspn(p, LIST_SEPARATORS);
		char canon[ADDRESS_MAX];
		if (canonical(p, n, canon) && strcmp(canon, addr) == 0)
			return true;
		p += n;
	}
	return false;
}

bool admission_client_address(const char *remote_addr,
                              const char *forwarded_for,
                              const char *trusted_proxies, char *out)
{
	if (!remote_addr || !canonical(remote_addr, strlen(remote_addr), out))
		return false;
	size_t end = forwarded_for ? strlen(forwarded_for) : 0;
	/* From the right: each hop was added by the proxy after it. */
	while (end > 0 && trusted(trusted_proxies, out)) {
		size_t start = end;
		while (start > 0 && forwarded_for[start - 1] != ',')
			start--;
		const char *hop = forwarded_for + start;
		size_t n = end - start;
		size_t lead = strspn(hop, " \t");
		lead = lead > n ? n : lead;
		while (n > lead && (hop[n - 1] == ' ' || hop[n - 1] == '\t'))
			n--;
		char next[ADDRESS_MAX];
		if (!canonical(hop + lead, n - lead, next))
			break;
		memcpy(out, next, strlen(next) + 1);
		end = start > 0 ? start - 1 : 0;
	}
	return true;
}

bool admission_is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	       strncmp(addr, "::ffff:127.", 11) == 0;
}

/* Takes the slot file name: 1 with its descriptor in *out, 0 when someone
 * holds it, -1 on error. */
static int try_slot(int dir_fd, const char *name, mode_t mode, int *out)
{
	for (int i = 0; i < SLOT_OPEN_ATTEMPTS; i++) {
		struct stat st;
		int fd = dirs_open_file(dir_fd, name, O_RDWR | O_CREAT, mode, NULL);
		if (fd < 0)
			return -1;
		bool locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
		if (fstat(fd, &st) < 0) {
			close(fd);
			return -1;
		}
		if (st.st_nlink > 0 && locked) {
			/* The collector's idle clock: failing costs a slot
			 * file that may go a little early, nothing more. */
			(void)futimens(fd, NULL);
			*out = fd;
			return 1;
		}
		close(fd);
		if (st.st_nlink > 0)
			return 0;
		/* Collected between our open and our lock: the name is free. */
	}
	return 0;
}

int admission_take_slot(int dir_fd, const char *addr, int max, mode_t mode)
{
	/* A collector holds a free slot's file for a moment before it goes:
	 * one more look, a little later, before telling a client that its
	 * address has no slot left. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass > 0)
			nanosleep(&(struct timespec){ 0, SLOT_RETRY_NS }, NULL);
		for (int i = 0; i < max; i++) {
			char name[ADDRESS_MAX + 16];
			int fd;
			snprintf(name, sizeof name, "%s.%d", addr, i);
			int rc = try_slot(dir_fd, name, mode, &fd);
			if (rc != 0)
				return rc < 0 ? -1 : fd;
		}
	}
	errno = EUSERS;
	return -1;
}

/* True while fd is the file dir_fd calls name. */
static bool still_named(int dir_fd, const char *name, int fd)
{
	struct stat held, named;
	return fstat(fd, &held) == 0 && held.st_nlink > 0 &&
	       fstatat(dir_fd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	       held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

/* Removes name when it is idle, no one holds it, and it is still the file
 * we opened: two collectors at once must not remove a file made anew. */
static bool remove_if_idle(int dir_fd, const char *name,
                           admission_idle_fn idle, void *ctx)
{
	struct stat st;
	int fd = dirs_open_file(dir_fd, name, O_RDONLY, 0, &st);
	if (fd < 0)
		return false;
	bool gone = idle(fd, &st, ctx) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	            fstat(fd, &st) == 0 && idle(fd, &st, ctx) &&
	            still_named(dir_fd, name, fd) &&
	            unlinkat(dir_fd, name, 0) == 0;
	close(fd); /* and with it the lock: an opener waiting finds no link */
	return gone;
}

int admission_collect_idle(int dir_fd, admission_idle_fn idle, void *ctx)
{
	DIR *dir = dirs_list(dir_fd);
	if (!dir)
		return -1;
	int removed = 0;
	const struct dirent *d;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.' &&
		    remove_if_idle(dir_fd, d->d_name, idle, ctx))
			removed++;
	closedir(dir);
	return removed;
}

/* An admission_idle_fn: a slot file is idle when it was last taken (its
 * mtime) at least the given seconds before the given time. */
static bool slot_idle(int fd, const struct stat *st, void *ctx)
{
	(void)fd;
	const time_t *before = ctx;
	return st->st_mtim.tv_sec <= *before;
}

int admission_collect(int dir_fd, long idle_seconds)
{
	time_t before = time(NULL);
	if (before == (time_t)-1)
		return -1;
	before -= idle_seconds > 0 ? idle_seconds : 0;
	return admission_collect_idle(dir_fd, slot_idle, &before);
}
