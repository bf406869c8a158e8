#include "redis_url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "text.h"

/* RFC 3986's unreserved characters and sub-delims: what a password may
 * hold as it is (':' too, after the first); a path adds '@' and '/'. */
#define UNRESERVED "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
                   "0123456789-._~"
#define SUB_DELIMS "!$&'()*+,;="
static const char password_chars[] = UNRESERVED SUB_DELIMS ":";
static const char path_chars[] = UNRESERVED SUB_DELIMS ":@/";
static const char host_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "abcdefghijklmnopqrstuvwxyz0123456789-._";

/* Zeroes url (the password with it) and writes "REDIS_URL <reason>". */
__attribute__((format(printf, 4, 5)))
static int fail(struct redis_url *url, char *why, size_t whysz,
                const char *fmt, ...)
{
	explicit_bzero(url, sizeof *url);
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	snprintf(why, whysz, "REDIS_URL %s", reason);
	return -1;
}

/* Decodes src[0..n) into out (outsz bytes, NUL-terminated): %XX is that
 * byte, any other byte must be one of allowed.  Returns the decoded
 * length, or -1 with *bad at the offending byte and *reason saying what
 * is wrong with it. */
static long decode(const char *src, size_t n, const char *allowed, char *out,
                   size_t outsz, const char **bad, const char **reason)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (c == '%') {
			int hi = i + 2 < n ? text_hex_digit(src[i + 1]) : -1;
			int lo = i + 2 < n ? text_hex_digit(src[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				*bad = src + i;
				*reason = "has '%' without two hex digits after "
				          "it (write % as %25)";
				return -1;
			}
			c = (char)(hi * 16 + lo);
			if (c == '\0') {
				*bad = src + i;
				*reason = "has %00, a NUL byte";
				return -1;
			}
			i += 2;
		} else if (!strchr(allowed, c)) {
			*bad = src + i;
			*reason = "has a character that must be written %XX";
			return -1;
		}
		if (len + 1 >= outsz) {
			*bad = src + i;
			*reason = "is too long";
			return -1;
		}
		out[len++] = c;
	}
	out[len] = '\0';
	return (long)len;
}

/* A decimal number of 1 to 10 digits, s[0..n), at most max; -1 if not. */
static long number(const char *s, size_t n, long max)
{
	if (n == 0 || n > 10)
		return -1;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* [:PASSWORD@] at the start of the authority a[0..n): the password into
 * url, and in *host where the host begins. */
static int parse_userinfo(const char *text, const char *a, size_t n,
                          struct redis_url *url, const char **host,
                          char *why, size_t whysz)
{
	const char *at = memchr(a, '@', n);
	*host = a;
	if (!at)
		return 0;
	if (memchr(at + 1, '@', n - (size_t)(at + 1 - a)))
		return fail(url, why, whysz, "has '@' twice: write @ in the "
		            "password as %%40");
	if (at == a || a[0] != ':')
		return fail(url, why, whysz, "%s; write :PASSWORD@ before the "
		            "host (only a password, Redis's requirepass)",
		            memchr(a, ':', (size_t)(at - a))
		            ? "gives a user name, which is not supported"
		            : "has no ':' before the password");
	if (at == a + 1)
		return fail(url, why, whysz, "has an empty password after ':' "
		            "(leave out ':@' for none)");
	const char *bad = NULL, *reason = NULL;
	if (decode(a + 1, (size_t)(at - a - 1), password_chars, url->password,
	           sizeof url->password, &bad, &reason) < 0)
		return fail(url, why, whysz, "password %s (byte %td)", reason,
		            bad - text + 1);
	*host = at + 1;
	return 0;
}

/* [IPv6] at the start of h[0..n): the address, without brackets, into
 * url->host; in *after what follows the ']'. */
static int parse_ipv6(const char *h, size_t n, struct redis_url *url,
                      const char **after, char *why, size_t whysz)
{
	const char *rb = memchr(h, ']', n);
	if (!rb)
		return fail(url, why, whysz, "has '[' without ']'");
	size_t len = (size_t)(rb - h - 1);
	struct in6_addr a6;
	if (memchr(h, '%', len + 1))
		return fail(url, why, whysz, "has an IPv6 zone (%%25...), which "
		            "is not supported");
	if (len == 0 || len >= INET6_ADDRSTRLEN)
		return fail(url, why, whysz, "has no IPv6 address in [...]");
	memcpy(url->host, h + 1, len);
	url->host[len] = '\0';
	if (inet_pton(AF_INET6, url->host, &a6) != 1)
		return fail(url, why, whysz, "has no IPv6 address in [...]");
	*after = rb + 1;
	return 0;
}

/* A host name or IPv4 address, h[0..len), into url->host. */
static int parse_name(const char *h, size_t len, struct redis_url *url,
                      char *why, size_t whysz)
{
	if (len == 0)
		return fail(url, why, whysz, "has no host");
	if (strspn(h, host_chars) < len)
		return fail(url, why, whysz, "host has a character that no host "
		            "name has (only letters, digits, '-', '.' and '_')");
	if (len >= sizeof url->host)
		return fail(url, why, whysz, "host is longer than %zu bytes",
		            sizeof url->host - 1);
	memcpy(url->host, h, len);
	url->host[len] = '\0';
	return 0;
}

/* HOST[:PORT] of redis://, h[0..n). */
static int parse_host_port(const char *h, size_t n, struct redis_url *url,
                           char *why, size_t whysz)
{
	const char *end = h + n, *colon;
	url->port = REDIS_URL_DEFAULT_PORT;
	if (n > 0 && h[0] == '[') {
		const char *after = end;
		if (parse_ipv6(h, n, url, &after, why, whysz) < 0)
			return -1;
		if (after < end && *after != ':')
			return fail(url, why, whysz, "has something else than "
			            "':' and a port after ']'");
		colon = after < end ? after : NULL;
	} else {
		colon = memchr(h, ':', n);
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			return fail(url, why, whysz, "has an IPv6 address not in "
			            "brackets: write redis://[::1]:6379");
		if (parse_name(h, colon ? (size_t)(colon - h) : n, url, why,
		               whysz) < 0)
			return -1;
	}
	if (colon) {
		long port = number(colon + 1, (size_t)(end - colon - 1), 65535);
		if (port < 1)
			return fail(url, why, whysz, "port must be a number from 1 "
			            "to 65535");
		url->port = (int)port;
	}
	return 0;
}

/* What follows the authority of redis://: nothing, "/" or "/DB". */
static int parse_tcp_path(const char *p, struct redis_url *url, char *why,
                          size_t whysz)
{
	if (*p == '?')
		return fail(url, why, whysz, "has a query; in redis:// the "
		            "database is the path: redis://host:6379/2");
	if (*p == '\0' || strcmp(p, "/") == 0)
		return 0;
	long db = number(p + 1, strlen(p + 1), REDIS_URL_DB_MAX);
	if (db < 0)
		return fail(url, why, whysz, "has a path that is no database: "
		            "after the host comes only /DB, a number from 0 to "
		            "%d", REDIS_URL_DB_MAX);
	url->db = (int)db;
	return 0;
}

/* ?db=N of unix://: q after the '?'. */
static int parse_unix_query(const char *q, struct redis_url *url, char *why,
                            size_t whysz)
{
	bool seen = false;
	for (;;) {
		size_t n = strcspn(q, "&");
		if (n < 3 || strncmp(q, "db=", 3) != 0)
			return fail(url, why, whysz, "has a query parameter other "
			            "than db=N (the only one)");
		if (seen)
			return fail(url, why, whysz, "gives db= twice");
		long db = number(q + 3, n - 3, REDIS_URL_DB_MAX);
		if (db < 0)
			return fail(url, why, whysz, "db= must be a number from 0 "
			            "to %d", REDIS_URL_DB_MAX);
		url->db = (int)db;
		seen = true;
		if (!q[n])
			return 0;
		q += n + 1;
	}
}

/* unix://[:PASSWORD@]/PATH[?db=N]: rest after "unix://". */
static int parse_unix(const char *text, const char *rest,
                      struct redis_url *url, char *why, size_t whysz)
{
	size_t alen = strcspn(rest, "/?");
	const char *host;
	url->unix_socket = true;
	if (parse_userinfo(text, rest, alen, url, &host, why, whysz) < 0)
		return -1;
	if (host != rest + alen)
		return fail(url, why, whysz, "has a host, which unix:// has "
		            "not: write unix:///path/to/socket (three slashes)");
	const char *p = rest + alen;
	if (*p != '/')
		return fail(url, why, whysz, "has no socket path: write "
		            "unix:///path/to/socket");
	size_t plen = strcspn(p, "?");
	const char *bad = NULL, *reason = NULL;
	char path[REDIS_URL_MAX]; /* the whole URL fits */
	long len = decode(p, plen, path_chars, path, sizeof path, &bad,
	                  &reason);
	if (len < 0)
		return fail(url, why, whysz, "socket path %s (byte %td)",
		            reason, bad - text + 1);
	if ((size_t)len >= sizeof url->path)
		return fail(url, why, whysz, "socket path is longer than %zu "
		            "bytes", sizeof url->path - 1);
	if (len == 0 || path[len - 1] == '/')
		return fail(url, why, whysz, "socket path ends in '/', which "
		            "names a directory");
	memcpy(url->path, path, (size_t)len + 1);
	return p[plen] == '?' ? parse_unix_query(p + plen + 1, url, why, whysz)
	                      : 0;
}

int redis_url_parse(const char *text, struct redis_url *url, char *why,
                    size_t whysz)
{
	memset(url, 0, sizeof *url);
	size_t n = strnlen(text, REDIS_URL_MAX);
	if (n >= REDIS_URL_MAX)
		return fail(url, why, whysz, "is longer than %d bytes",
		            REDIS_URL_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c <= 0x20 || c >= 0x7f)
			return fail(url, why, whysz, "has %s at byte %zu (write "
			            "it as %%XX)", c == ' ' ? "a space"
			            : c < 0x80 ? "a control character"
			            : "a non-ASCII byte", i + 1);
	}
	if (memchr(text, '#', n))
		return fail(url, why, whysz, "has a '#' (write # in a password "
		            "as %%23)");
	if (strncasecmp(text, "unix://", 7) == 0)
		return parse_unix(text, text + 7, url, why, whysz);
	if (strncasecmp(text, "rediss://", 9) == 0)
		return fail(url, why, whysz, "is rediss://: TLS is not "
		            "supported; use redis:// on a trusted network, or "
		            "unix://");
	if (strncasecmp(text, "unix:", 5) == 0)
		return fail(url, why, whysz, "must be unix:///path/to/socket, "
		            "with three slashes");
	if (strncasecmp(text, "redis://", 8) != 0)
		return fail(url, why, whysz, "must start with redis:// or "
		            "unix://");
	const char *rest = text + 8, *host;
	size_t alen = strcspn(rest, "/?");
	if (!memchr(rest, '@', alen) && strchr(rest + alen, '@'))
		return fail(url, why, whysz, "has '@' after a '/' or '?': write "
		            "/ and ? in the password as %%2F and %%3F");
	if (parse_userinfo(text, rest, alen, url, &host, why, whysz) < 0 ||
	    parse_host_port(host, (size_t)(rest + alen - host), url, why,
	                    whysz) < 0)
		return -1;
	return parse_tcp_path(rest + alen, url, why, whysz);
}

void redis_url_describe(const struct redis_url *url, char *out,
                        size_t outsz)
{
	if (url->unix_socket)
		snprintf(out, outsz, "unix:%s db %d", url->path, url->db);
	else
		snprintf(out, outsz, strchr(url->host, ':') ? "[%s]:%d db %d"
		         : "%s:%d db %d", url->host, url->port, url->db);
}
