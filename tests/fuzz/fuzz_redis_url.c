/* redis_url_parse: REDIS_URL as an administrator (or a typo) writes it.
 * Input: the URL itself; the first byte also picks the size of the
 * reason buffer, so that reasons that do not fit are exercised.
 *
 * Properties: a refusal leaves a reason and nothing in the structure; an
 * acceptance gives fields in their ranges, and the same URL written back
 * in a canonical form (every byte of password and path outside the
 * unreserved characters as %XX) parses to the same structure. */
#include "fuzz.h"

#include "redis_url.h"

static const char hex[] = "0123456789ABCDEF";

/* s percent-encoded onto out at *n; keep: bytes written as they are. */
static void encode(const char *s, const char *keep, char *out, size_t *n)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(keep, c)) {
			out[(*n)++] = (char)c;
		} else {
			out[(*n)++] = '%';
			out[(*n)++] = hex[c >> 4];
			out[(*n)++] = hex[c & 15];
		}
	}
}

/* The canonical URL of u; NULL when it would be too long to parse (a
 * password of many encoded bytes). */
static char *canonical(const struct redis_url *u)
{
	char *out = malloc(3 * REDIS_URL_MAX + 64);
	size_t n = 0;
	if (!out)
		abort();
	const char *scheme = u->unix_socket ? "unix://" : "redis://";
	memcpy(out, scheme, strlen(scheme));
	n += strlen(scheme);
	if (u->password[0]) {
		out[n++] = ':';
		encode(u->password, "-._~", out, &n);
		out[n++] = '@';
	}
	if (u->unix_socket) {
		encode(u->path, "-._~/", out, &n);
		n += (size_t)sprintf(out + n, "?db=%d", u->db);
	} else {
		n += (size_t)sprintf(out + n, strchr(u->host, ':') ? "[%s]:%d/%d"
		                     : "%s:%d/%d", u->host, u->port, u->db);
	}
	out[n] = '\0';
	if (n >= REDIS_URL_MAX) {
		free(out);
		return NULL;
	}
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t whysz = data[0] % 200 + 1;
	char *text = fuzz_strndup(data + 1, size - 1);
	char *why = malloc(whysz);
	if (!why)
		abort();
	struct redis_url u;
	memset(&u, 0x5a, sizeof u);
	int rc = redis_url_parse(text, &u, why, whysz);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_CHECK(strnlen(why, whysz) < whysz);
		FUZZ_CHECK(whysz == 1 || why[0] == 'R');
		FUZZ_CHECK(strchr(why, '\n') == NULL);
		const unsigned char *b = (const unsigned char *)&u;
		for (size_t i = 0; i < sizeof u; i++)
			FUZZ_CHECK(b[i] == 0);
	} else {
		FUZZ_CHECK(strlen(text) < REDIS_URL_MAX);
		FUZZ_CHECK(u.db >= 0);
		FUZZ_CHECK(strnlen(u.password, sizeof u.password) <
		           sizeof u.password);
		if (u.unix_socket) {
			size_t len = strnlen(u.path, sizeof u.path);
			FUZZ_CHECK(len > 0 && len < sizeof u.path);
			FUZZ_CHECK(u.path[0] == '/' && u.path[len - 1] != '/');
			FUZZ_CHECK(u.host[0] == '\0' && u.port == 0);
		} else {
			size_t len = strnlen(u.host, sizeof u.host);
			FUZZ_CHECK(len > 0 && len < sizeof u.host);
			FUZZ_CHECK(u.port >= 1 && u.port <= 65535);
			FUZZ_CHECK(u.path[0] == '\0');
		}
		char described[REDIS_URL_MAX + 32];
		redis_url_describe(&u, described, sizeof described);
		FUZZ_CHECK(strstr(described, " db ") != NULL);
		char *again = canonical(&u);
		if (again) {
			struct redis_url v;
			char why2[256];
			if (redis_url_parse(again, &v, why2, sizeof why2) != 0) {
				fprintf(stderr, "%s: %s\n", again, why2);
				FUZZ_CHECK(!"the canonical URL parses");
			}
			FUZZ_CHECK(v.unix_socket == u.unix_socket);
			FUZZ_CHECK(strcmp(v.host, u.host) == 0);
			FUZZ_CHECK(v.port == u.port && v.db == u.db);
			FUZZ_CHECK(strcmp(v.path, u.path) == 0);
			FUZZ_CHECK(strcmp(v.password, u.password) == 0);
			free(again);
		}
	}
	free(why);
	free(text);
	return 0;
}
