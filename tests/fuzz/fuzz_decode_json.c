/* decode_request: a JSON connection's line (and, the same bytes, a legacy
 * one), handed over NUL-terminated in a buffer of exactly its size. */
#include "fuzz.h"

#include "buf.h"
#include "decode.h"
#include "presence.h"
#include "text.h"

/* What dispatch may rely on for any request the decoder lets through. */
static void check_text(const struct request *rq)
{
	FUZZ_CHECK(rq->text != NULL);
	FUZZ_CHECK(rq->text[rq->len] == '\0');
	if (rq->kind == REQUEST_REFUSED) {
		FUZZ_CHECK((unsigned)rq->refusal < REFUSAL_COUNT);
		return;
	}
	/* UTF-8 (so no NUL inside) and nothing left to strip. */
	FUZZ_CHECK(text_is_utf8(rq->text, rq->len));
	char *copy = fuzz_memdup((const uint8_t *)rq->text, rq->len);
	FUZZ_CHECK(text_strip_controls(copy, rq->len) == rq->len);
	free(copy);
}

static void check_json(const struct request *rq)
{
	switch (rq->kind) {
	case REQUEST_EMPTY:
		FUZZ_CHECK(rq->len == 0);
		break;
	case REQUEST_COMMAND:
		FUZZ_CHECK(rq->len > 0 && rq->text[0] == '/');
		break;
	case REQUEST_PRIVATE:
	case REQUEST_SIGNAL: {
		/* "<to>: ..." with a name a member can have; a signal's
		 * payload is an object. */
		if (rq->kind == REQUEST_SIGNAL)
			FUZZ_CHECK(strstr(rq->text, ": {") != NULL);
		const char *sep = strstr(rq->text, ": ");
		FUZZ_CHECK(sep != NULL);
		char *to = fuzz_strndup((const uint8_t *)rq->text,
		                        (size_t)(sep - rq->text));
		FUZZ_CHECK(presence_name_is_valid(to));
		free(to);
		break;
	}
	case REQUEST_MESSAGE:
		FUZZ_CHECK(rq->len > 0);
		break;
	case REQUEST_REFUSED:
		break;
	case REQUEST_TEXT:
	default:
		FUZZ_CHECK(!"not a JSON request kind");
	}
}

static void check_legacy(const struct request *rq, const char *line)
{
	FUZZ_CHECK(rq->kind == REQUEST_EMPTY || rq->kind == REQUEST_TEXT ||
	           rq->kind == REQUEST_COMMAND || rq->kind == REQUEST_REFUSED);
	/* In place, never a copy. */
	FUZZ_CHECK(rq->text == line);
	FUZZ_CHECK(rq->kind != REQUEST_COMMAND || rq->text[0] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf scratch;
	struct request rq;
	/* A cap a little under what some inputs build: the too-long path. */
	buf_init(&scratch, 4096);
	FUZZ_CHECK(buf_append_str(&scratch, "stale") == 0);

	char *line = fuzz_strndup(data, size);
	decode_request(WIRE_JSON, line, size, &rq, &scratch);
	check_text(&rq);
	check_json(&rq);
	free(line);

	line = fuzz_strndup(data, size);
	decode_request(WIRE_LEGACY, line, size, &rq, &scratch);
	check_text(&rq);
	check_legacy(&rq, line);
	free(line);

	buf_free(&scratch);
	return 0;
}
