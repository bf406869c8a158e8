/* color_is_valid: what /color and the session's ":color" may set. */
#include "fuzz.h"

#include "color.h"

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size);
	if (color_is_valid(s)) {
		size_t len = strlen(s);
		FUZZ_CHECK(len > 0 && len <= COLOR_MAX);
		if (s[0] == '#') {
			FUZZ_CHECK(len == 4 || len == 7);
			for (size_t i = 1; i < len; i++)
				FUZZ_CHECK(is_hex(s[i]));
		} else {
			/* A keyword: ASCII letters only, safe in HTML and CSS. */
			for (size_t i = 0; i < len; i++)
				FUZZ_CHECK((s[i] >= 'a' && s[i] <= 'z') ||
				           (s[i] >= 'A' && s[i] <= 'Z'));
		}
	}
	FUZZ_CHECK(!color_is_valid(NULL));
	free(s);
	return 0;
}
