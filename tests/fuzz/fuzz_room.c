/* room_from_path_info: PATH_INFO as websocketd passes it (URL-decoded). */
#include "fuzz.h"

#include "room.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_strndup(data, size);
	char *out = malloc(ROOM_NAME_MAX + 1);
	if (!out)
		abort();
	enum room_error err = room_from_path_info(path, out);
	FUZZ_CHECK(room_error_text(err) != NULL);
	if (err == ROOM_OK) {
		size_t len = strnlen(out, ROOM_NAME_MAX + 1);
		FUZZ_CHECK(len > 0 && len <= ROOM_NAME_MAX);
		FUZZ_CHECK(out[0] != '.');
		/* Never a path, never a presence-file separator, never
		 * something that breaks a line, a page or a shell. */
		FUZZ_CHECK(strpbrk(out, "/_ \\<>&\"'`\n\r\t") == NULL);
	}
	free(out);
	free(path);
	return 0;
}
