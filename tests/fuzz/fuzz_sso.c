/* The OpenSSO parsers: sso_parse_attributes on an identity/attributes
 * answer (unterminated, in a buffer of its exact size), and the token
 * checks and URL building on the body's first line taken as a token. */
#include "fuzz.h"

#include "sso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_memdup(data, size);
	struct identity id;
	if (sso_parse_attributes(body, size, &id)) {
		FUZZ_CHECK(identity_name_is_clean(id.name));
		FUZZ_CHECK(strlen(id.name) <= NAME_MAX_BYTES);
		FUZZ_CHECK(color_is_valid(id.color));
	}
	free(body);

	char *f[2];
	size_t n = fuzz_fields(data, size, f, 2);
	if (sso_token_is_valid(f[0])) {
		/* Nothing in a token can end a header or a cookie. */
		FUZZ_CHECK(strpbrk(f[0], "\r\n;, \"") == NULL);
		char url[64 + 3 * SSO_TOKEN_MAX];
		const char *base = n == 2 && strlen(f[1]) < 64
		                   ? f[1] : "https://sso.example.org/attributes";
		if (sso_request_url(base, f[0], url, sizeof url)) {
			FUZZ_CHECK(strlen(url) < sizeof url);
			FUZZ_CHECK(strstr(url, "subjectid=") != NULL);
		}
		/* Too small a buffer fails, never overflows. */
		char small[24];
		(void)sso_request_url(base, f[0], small, sizeof small);
	}
	fuzz_free_fields(f, n);
	return 0;
}
