/* signalling_check: the JSON after "Bob: " in a whisper (WebRTC offers,
 * answers, ICE candidates), handed over unterminated. */
#include "fuzz.h"

#include <jansson.h>

#include "buf.h"
#include "signalling.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_memdup(data, size);
	struct buf out;
	buf_init(&out, 0);
	FUZZ_CHECK(buf_append_str(&out, "stale") == 0);
	enum signalling_kind kind = signalling_check(text, size, &out);
	switch (kind) {
	case SIGNALLING_NONE:
		FUZZ_CHECK(size == 0 || data[0] != '{');
		FUZZ_CHECK(out.len == 0);
		break;
	case SIGNALLING_CANDIDATE:
		/* Relayed exactly as sent. */
		FUZZ_CHECK(out.len == size && memcmp(out.data, data, size) == 0);
		break;
	case SIGNALLING_DESCRIPTION: {
		/* Re-serialised with type first, then sdp: what the old
		 * client looks for. */
		FUZZ_CHECK(strncmp(out.data, "{\"type\":\"offer\",\"sdp\":", 22) == 0 ||
		           strncmp(out.data, "{\"type\":\"answer\",\"sdp\":", 23) == 0);
		FUZZ_CHECK(memchr(out.data, '\n', out.len) == NULL);
		json_t *again = json_loadb(out.data, out.len, 0, NULL);
		FUZZ_CHECK(json_is_object(again));
		json_decref(again);
		break;
	}
	case SIGNALLING_MALFORMED:
	case SIGNALLING_TOO_LARGE:
		FUZZ_CHECK(size > 0 && data[0] == '{');
		FUZZ_CHECK(signalling_error_text(kind) != NULL);
		break;
	default:
		FUZZ_CHECK(!"unknown kind");
	}
	buf_free(&out);
	free(text);
	return 0;
}
