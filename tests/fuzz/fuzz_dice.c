/* dice_parse and dice_command: "/dice X Y Z" arguments.  The random source
 * is deterministic (seeded from the input); the input's first byte makes it
 * fail or hand out an impossible value sometimes, and caps the output
 * buffer, so the error paths (no half result) are exercised too. */
#include "fuzz.h"

#include "buf.h"
#include "dice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode = size ? data[0] : 0;
	char *args = fuzz_strndup(size ? data + 1 : data, size ? size - 1 : 0);

	struct dice_request req;
	if (dice_parse(args, &req) == DICE_OK)
		FUZZ_CHECK(req.sides >= 1 && req.sides <= DICE_MAX_SIDES);

	struct fuzz_rng rng = { fuzz_hash(data, size),
	                        (mode & 0x70) == 0x70 ? mode % 7 : -1,
	                        (mode & 0x0f) == 0x0f };
	struct buf out;
	/* Sometimes a small cap: the result must then fail whole. */
	buf_init(&out, (mode & 0x80) ? (size_t)(mode & 0x7f) * 8 + 8 : 0);
	FUZZ_CHECK(buf_append_str(&out, "x") == 0);
	int rc = dice_command(args, fuzz_rng_uniform, &rng, &out);
	FUZZ_CHECK(out.data != NULL);
	if (rc < 0) {
		FUZZ_CHECK(out.len == 1 && strcmp(out.data, "x") == 0);
	} else {
		FUZZ_CHECK(out.len > 1 && out.data[1] == ' ');
		FUZZ_CHECK(strlen(out.data) == out.len);
		FUZZ_CHECK(memchr(out.data, '\n', out.len) == NULL);
		/* At most DICE_MAX_THROWS values of at most 7 digits. */
		FUZZ_CHECK(out.len < 300 + DICE_MAX_THROWS * 9);
	}
	buf_free(&out);
	free(args);
	return 0;
}
