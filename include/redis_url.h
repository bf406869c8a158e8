/* redis_url: where the Redis server of TRANSPORT=redis is (REDIS_URL), as
 * text in, a checked structure out.
 *
 * Two forms, nothing else:
 *
 *   redis://[:PASSWORD@]HOST[:PORT][/DB]
 *   unix://[:PASSWORD@]/PATH/TO/SOCKET[?db=DB]
 *
 * The scheme is matched without regard to case.  HOST is a name, an IPv4
 * address or an IPv6 address in brackets ([::1]; no zone); PORT is 1 to
 * 65535, 6379 when left out; DB is 0 to REDIS_URL_DB_MAX, 0 when left out.
 * PASSWORD is the one of Redis's `requirepass` (AUTH with a single
 * argument; an ACL user name before the ':' is refused).  In PASSWORD and
 * PATH a byte may be written %XX (hex, either case) and is decoded; a
 * character that has a meaning in the URL must be: '@' as %40, '/' as %2F
 * in a password, '%' as %25, '#' as %23, '?' as %3F, a space as %20.
 * PASSWORD may then hold any byte but NUL.  PATH is absolute, names no
 * directory (no final '/') and fits a Unix socket address.
 *
 * Refused, with a reason: another scheme (rediss://, TLS, among them), a
 * user name, an empty password, a query on redis://, a fragment, a
 * parameter but db= on unix://, a host on unix://, an unbracketed IPv6
 * address, a port or database out of range, a space, control character
 * or non-ASCII byte anywhere, a bad %XX, %00, and a URL of REDIS_URL_MAX
 * bytes or more.  The reasons never quote the password. */
#ifndef CHAT_REDIS_URL_H
#define CHAT_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

/* The longest URL accepted is REDIS_URL_MAX - 1 bytes, so every decoded
 * part fits its field with its NUL. */
#define REDIS_URL_MAX 512
#define REDIS_URL_HOST_MAX 254 /* a DNS name is at most 253 bytes */
#define REDIS_URL_PATH_MAX 108 /* sizeof sun_path, NUL included */
#define REDIS_URL_DEFAULT_PORT 6379
#define REDIS_URL_DB_MAX 2147483647

struct redis_url {
	bool unix_socket;                /* unix:// */
	char host[REDIS_URL_HOST_MAX];   /* redis://: without brackets; "" */
	int port;                        /* redis://: 1..65535; 0 */
	char path[REDIS_URL_PATH_MAX];   /* unix://: absolute, decoded; "" */
	char password[REDIS_URL_MAX];    /* decoded; "": no AUTH */
	int db;                          /* SELECT; 0..REDIS_URL_DB_MAX */
};

/* Parses text into url.  Returns 0, or -1 with url zeroed (no password
 * left in it) and a one-line reason, without the URL, in why. */
int redis_url_parse(const char *text, struct redis_url *url, char *why,
                    size_t whysz);

/* Where url points, for messages, never with its password:
 * "127.0.0.1:6379 db 0", "[::1]:6380 db 2", "unix:/run/redis.sock db 0".
 * Cut to outsz - 1 bytes at most (REDIS_URL_MAX + 32 always suffices). */
void redis_url_describe(const struct redis_url *url, char *out,
                        size_t outsz);

#endif
