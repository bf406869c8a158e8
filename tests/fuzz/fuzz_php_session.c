/* php_session_find_string: a session file, which the PHP pages write but a
 * hostile or broken deployment may fill with anything.  The data is handed
 * over unterminated, in a buffer of exactly its size.  A value found is
 * then split into name and colour as identity_resolve does. */
#include "fuzz.h"

#include "identity.h"
#include "php_session.h"

static void lookup(const char *copy, size_t size, const char *key)
{
	const char *value = NULL;
	size_t len = 0;
	enum php_session_result r = php_session_find_string(copy, size, key,
	                                                    &value, &len);
	FUZZ_CHECK(r == PHP_SESSION_FOUND || r == PHP_SESSION_MISSING ||
	           r == PHP_SESSION_NOT_STRING || r == PHP_SESSION_MALFORMED);
	if (r != PHP_SESSION_FOUND)
		return;
	FUZZ_CHECK(value >= copy && len <= size &&
	           (size_t)(value - copy) <= size - len);
	struct identity id;
	if (identity_from_value(value, len, &id)) {
		FUZZ_CHECK(identity_name_is_clean(id.name));
		FUZZ_CHECK(strlen(id.name) <= NAME_MAX_BYTES);
		FUZZ_CHECK(color_is_valid(id.color));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = fuzz_memdup(data, size);
	lookup(copy, size, "username");
	lookup(copy, size, "x");
	free(copy);
	return 0;
}
