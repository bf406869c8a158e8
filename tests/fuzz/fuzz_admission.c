/* admission: the client's address from REMOTE_ADDR, X-Forwarded-For and
 * TRUSTED_PROXIES, and the Origin check.  Input: five lines, REMOTE_ADDR,
 * X-Forwarded-For, TRUSTED_PROXIES, ALLOWED_ORIGINS, Origin; a missing
 * line is an unset variable (NULL). */
#include "fuzz.h"

#include <arpa/inet.h>

#include "admission.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[5];
	size_t n = fuzz_fields(data, size, f, 5);
	const char *remote = f[0];
	const char *xff = n > 1 ? f[1] : NULL;
	const char *proxies = n > 2 ? f[2] : "127.0.0.1 ::1";
	const char *allowed = n > 3 ? f[3] : "";
	const char *origin = n > 4 ? f[4] : NULL;

	char *out = malloc(ADDRESS_MAX);
	if (!out)
		abort();
	if (admission_client_address(remote, xff, proxies, out)) {
		size_t len = strnlen(out, ADDRESS_MAX);
		unsigned char bin[16];
		FUZZ_CHECK(len > 0 && len < ADDRESS_MAX);
		/* Canonical: a real address, safe as a file name. */
		FUZZ_CHECK(inet_pton(AF_INET, out, bin) == 1 ||
		           inet_pton(AF_INET6, out, bin) == 1);
		FUZZ_CHECK(strchr(out, '/') == NULL && out[0] != '.');
		(void)admission_is_loopback(out);
	}
	FUZZ_CHECK(!admission_client_address(NULL, xff, proxies, out));
	if (!admission_origin_allowed(allowed, origin))
		FUZZ_CHECK(origin != NULL && allowed[0] != '\0');
	FUZZ_CHECK(admission_origin_allowed(allowed, NULL));
	FUZZ_CHECK(admission_origin_allowed("", origin ? origin : "x"));
	free(out);
	fuzz_free_fields(f, n);
	return 0;
}
