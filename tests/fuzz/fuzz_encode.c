/* encode_line: the JSON encoder on arbitrary lines, one encoder for all
 * the lines of an input (so colours learnt from one user list meet later
 * messages).  The first byte of each line chooses its context. */
#include "fuzz.h"

#include <jansson.h>
#include <time.h>

#include "buf.h"
#include "encode.h"

/* One object, "type" first, ending in its only newline. */
static void check_object(const char *data, size_t n)
{
	FUZZ_CHECK(n > 1 && data[n - 1] == '\n');
	FUZZ_CHECK(memchr(data, '\n', n - 1) == NULL);
	FUZZ_CHECK(strncmp(data, "{\"type\":\"", 9) == 0);
	json_t *obj = json_loadb(data, n - 1, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(json_is_object(obj));
	FUZZ_CHECK(json_is_string(json_object_get(obj, "time")));
	json_decref(obj);
}

static void encode_one(struct encoder *json, struct encoder *legacy,
                       const uint8_t *p, size_t len, struct buf *out)
{
	unsigned flags = len ? p[0] : 0;
	const struct line_context ctx = {
		/* A fixed day, or now near the epoch's edges. */
		.now = flags & 4 ? (time_t)(flags >> 3) * 40000
		                 : (time_t)1796468711, /* 2026-12-06 */
		.history = flags & 1,
		.private_line = flags & 2,
	};
	/* The line (with its newline) in a buffer of exactly its size. */
	size_t text = len ? len - 1 : 0, n = text + 1;
	char *line = malloc(n);
	if (!line)
		abort();
	if (text)
		memcpy(line, p + 1, text);
	line[text] = '\n';
	const char *data;
	size_t sent;
	FUZZ_CHECK(encode_line(json, line, n, &ctx, out, &data, &sent) == 1);
	check_object(data, sent);
	int rc = encode_line(legacy, line, n, &ctx, out, &data, &sent);
	FUZZ_CHECK(rc == 0 || (rc == 1 && data == line && sent == n));
	free(line);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "Europe/Prague", 1);
	tzset();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct encoder json, legacy;
	struct buf out;
	encoder_init(&json, WIRE_JSON, true);
	encoder_init(&legacy, WIRE_LEGACY, true);
	buf_init(&out, 0);
	while (size > 0) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t len = nl ? (size_t)(nl - data) : size;
		encode_one(&json, &legacy, data, len, &out);
		data += len + (nl != NULL);
		size -= len + (nl != NULL);
	}
	buf_free(&out);
	encoder_free(&legacy);
	encoder_free(&json);
	return 0;
}
