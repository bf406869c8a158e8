#include "admission.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#define LIST_SEPARATORS " ,\t"

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

int admission_take_slot(int dir_fd, const char *addr, int max, mode_t mode)
{
	for (int i = 0; i < max; i++) {
		char name[ADDRESS_MAX + 16];
		snprintf(name, sizeof name, "%s.%d", addr, i);
		int fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
		                                  O_CLOEXEC, mode);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		close(fd);
	}
	errno = EUSERS;
	return -1;
}
