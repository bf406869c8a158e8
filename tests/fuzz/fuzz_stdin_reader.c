/* stdin_reader: splitting websocketd's stream into client lines without
 * ever holding more than one line plus one read.  The input (after a first
 * byte that picks the line limit) is read from a memfd, as the chat reads
 * stdin. */
#include "fuzz.h"

#include <sys/mman.h>

#include "stdin_reader.h"

static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("stdin", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max_line = size ? (size_t)data[0] * 37 % 5000 + 1 : 64;
	const uint8_t *stream = size ? data + 1 : data;
	size_t len = size ? size - 1 : 0;
	if (ftruncate(fd, 0) < 0 ||
	    (len && pwrite(fd, stream, len, 0) != (ssize_t)len) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();

	struct input in;
	input_init(&in, fd, max_line);
	size_t lines = 0, seen = 0;
	for (;;) {
		long n = input_fill(&in);
		FUZZ_CHECK(n >= 0);
		/* One line plus one read at most. */
		FUZZ_CHECK(in.pending.len <= max_line + 4096 + 1);
		char *line;
		size_t l;
		enum input_event ev;
		while ((ev = input_next(&in, &line, &l)) != INPUT_NONE) {
			if (ev == INPUT_LINE) {
				FUZZ_CHECK(l <= max_line && line[l] == '\0');
				FUZZ_CHECK(memchr(line, '\n', l) == NULL);
				/* The line is writable, as dispatch expects. */
				if (l)
					line[0] = 'x';
				lines++;
			}
			seen++;
			FUZZ_CHECK(seen <= len + 1);
		}
		if (n == 0)
			break;
	}
	size_t newlines = 0;
	for (size_t i = 0; i < len; i++)
		newlines += stream[i] == '\n';
	FUZZ_CHECK(lines <= newlines + 1);
	input_free(&in);
	return 0;
}
