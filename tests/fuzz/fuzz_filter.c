/* filter_pass: room log lines as a WHISPER_LOG=full follower sees them.
 * The input is a log: each '\n'-terminated line (the last may lack it) is
 * passed in a buffer of exactly its size, in order, so user list lines
 * teach the filter who is present before whisper-shaped lines come.  A
 * second filter is made to forget membership before every line. */
#include "fuzz.h"

#include "filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter active, inactive, lost;
	filter_init(&active, true);
	filter_init(&inactive, false);
	filter_init(&lost, true);
	while (size > 0) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t len = nl ? (size_t)(nl - data) + 1 : size;
		char *line = fuzz_memdup(data, len);
		bool pass = filter_pass(&active, line, len);
		FUZZ_CHECK(filter_pass(&inactive, line, len));
		/* Fails closed: a filter that has lost track of membership
		 * shows nothing that one which knows it would hold. */
		filter_forget(&lost);
		FUZZ_CHECK(!filter_pass(&lost, line, len) || pass);
		/* A user list line always passes (clients need it). */
		if (len > 21 && memcmp(line + 11, "Userlist: ", 10) == 0 &&
		    line[0] == '[')
			FUZZ_CHECK(pass);
		/* Lines without '>' are never held back. */
		if (!memchr(line, '>', len))
			FUZZ_CHECK(pass);
		free(line);
		data += len;
		size -= len;
	}
	filter_free(&active);
	filter_free(&inactive);
	filter_free(&lost);
	return 0;
}
