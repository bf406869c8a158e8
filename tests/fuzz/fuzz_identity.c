/* The identity parsers: session ids from a cookie, names from a session
 * value ("name:color") and their cleaning.  Input: "<session id>\n<value>".
 */
#include "fuzz.h"

#include "identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[2];
	size_t n = fuzz_fields(data, size, f, 2);

	/* A valid session id can only be a plain file name part. */
	if (session_id_is_valid(f[0])) {
		size_t len = strlen(f[0]);
		FUZZ_CHECK(len > 0 && len <= SESSION_ID_MAX);
		FUZZ_CHECK(strpbrk(f[0], "/. ") == NULL);
	}

	/* The whole input as a name to clean, in place. */
	char *name = fuzz_strndup(data, size);
	size_t before = strlen(name);
	if (identity_clean_name(name)) {
		FUZZ_CHECK(strlen(name) <= NAME_MAX_BYTES);
		FUZZ_CHECK(strlen(name) <= before);
		FUZZ_CHECK(identity_name_is_clean(name));
	}
	free(name);

	/* What follows the first newline (or everything), unterminated, as
	 * identity_resolve passes a session value: NUL bytes included. */
	const uint8_t *nl = memchr(data, '\n', size);
	const uint8_t *v = nl ? nl + 1 : data;
	size_t vlen = size - (size_t)(v - data);
	char *value = fuzz_memdup(v, vlen);
	struct identity id;
	if (identity_from_value(value, vlen, &id)) {
		FUZZ_CHECK(identity_name_is_clean(id.name));
		FUZZ_CHECK(strlen(id.name) <= NAME_MAX_BYTES);
		FUZZ_CHECK(color_is_valid(id.color));
	}
	free(value);
	fuzz_free_fields(f, n);
	return 0;
}
