/* cookie_find: the Cookie header a browser (or anyone) sends.
 * Input: "<name>\n<header>"; the first byte also picks the size of the
 * output buffer, so values that do not fit are exercised. */
#include "fuzz.h"

#include "cookie.h"

/* A name that "; <name>=v" appends as a plain pair of that very name. */
static bool plain_name(const char *name)
{
	return name[0] != '\0' && strpbrk(name, " .[]=;\t\n\v\f\r") == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[2];
	size_t outsz = size ? (size_t)data[0] % 300 + 1 : 1;
	size_t n = fuzz_fields(data, size, f, 2);
	const char *name = n == 2 ? f[0] : "PHPSESSID";
	const char *header = f[n - 1];
	char *out = malloc(outsz);
	if (!out)
		abort();
	if (cookie_find(header, name, out, outsz)) {
		size_t len = strnlen(out, outsz);
		FUZZ_CHECK(len < outsz);
		/* Without %XX, the value is a piece of the header as sent. */
		if (!strchr(header, '%')) {
			FUZZ_CHECK(len == 0 || strstr(header, out) != NULL);
			FUZZ_CHECK(strchr(out, ';') == NULL);
		}
		/* The first occurrence wins: one more at the end changes
		 * nothing. */
		if (plain_name(name)) {
			size_t hlen = strlen(header), nlen = strlen(name);
			char *longer = malloc(hlen + nlen + 8);
			char *again = malloc(outsz);
			if (!longer || !again)
				abort();
			memcpy(longer, header, hlen);
			memcpy(longer + hlen, "; ", 2);
			memcpy(longer + hlen + 2, name, nlen);
			memcpy(longer + hlen + 2 + nlen, "=zz", 4);
			FUZZ_CHECK(cookie_find(longer, name, again, outsz));
			FUZZ_CHECK(strcmp(again, out) == 0);
			free(again);
			free(longer);
		}
	}
	/* The real call sites: the session cookie and the SSO token. */
	char sid[257], token[1025];
	(void)cookie_find(header, "PHPSESSID", sid, sizeof sid);
	(void)cookie_find(header, "iPlanetDirectoryPro", token, sizeof token);
	FUZZ_CHECK(!cookie_find(NULL, name, sid, sizeof sid));
	FUZZ_CHECK(!cookie_find(header, "", sid, sizeof sid));
	free(out);
	fuzz_free_fields(f, n);
	return 0;
}
