/* follow: reading a room log that may hold anything (junk appended by
 * hand, over-long lines, no final newline) and that may grow or be
 * truncated (copytruncate) while it is followed.
 *
 * Input: a control byte, then the log.  The log's first part is the file
 * at join time: the follower rewinds over it (history) and looks back (as
 * the WHISPER_LOG=full filter does), delivering in small steps; the rest
 * is appended afterwards, or, when the control byte says so, the file is
 * first cut back (a rotation) and the rest written from the start.  Each
 * delivered line must end in '\n', come whole from the file, and stay
 * within FOLLOW_LINE_MAX. */
#include "fuzz.h"

#include <fcntl.h>

#include "follow.h"

#define LOG "room.log"

static int dir_fd = -1;
static int log_fd = -1;

struct seen {
	const uint8_t *file; /* everything ever written, for containment */
	size_t file_len;
	size_t lines;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir_fd = open(fuzz_tmp("follow"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		abort();
	log_fd = openat(dir_fd, LOG, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (log_fd < 0)
		abort();
	return 0;
}

static int on_line(void *ctx, const char *line, size_t len)
{
	struct seen *s = ctx;
	FUZZ_CHECK(len > 0 && len <= FOLLOW_LINE_MAX);
	FUZZ_CHECK(line[len - 1] == '\n');
	FUZZ_CHECK(memchr(line, '\n', len) == line + len - 1);
	FUZZ_CHECK(memmem(s->file, s->file_len, line, len) != NULL);
	s->lines++;
	return 0;
}

static void write_at(const uint8_t *p, size_t n, off_t at)
{
	if (n && pwrite(log_fd, p, n, at) != (ssize_t)n)
		abort();
}

/* Reads to the end in steps of at most step bytes.  follower_update
 * re-reads a held (incomplete) last line on every call and counts it
 * against the budget, so a budget smaller than that line makes no
 * progress; the chat's budget (at least 448 KiB, see read_budget in
 * connection.c) always exceeds FOLLOW_LINE_MAX plus one read.  When a
 * small step stalls, such a budget must get on. */
#define CHAT_MIN_BUDGET (448 * 1024)

static void drain(struct follower *f, struct seen *s, size_t step)
{
	int rc;
	for (long turns = 0;; turns++) {
		off_t before = f->offset;
		size_t lines = s->lines;
		rc = follower_update(f, step, on_line, s);
		if (rc != 1)
			break;
		if (f->offset == before && s->lines == lines) {
			rc = follower_update(f, CHAT_MIN_BUDGET, on_line, s);
			FUZZ_CHECK(rc == 0 || f->offset != before ||
			           s->lines != lines);
			if (rc != 1)
				break;
		}
		FUZZ_CHECK(turns < 1000000);
	}
	FUZZ_CHECK(rc == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t ctl = data[0];
	const uint8_t *log = data + 1;
	size_t len = size - 1;
	size_t first = len * (ctl & 0x0f) / 15;
	size_t step = (size_t)1 << ((ctl >> 4) & 0x07); /* 1 .. 128 bytes */
	bool truncate = ctl & 0x80;
	struct seen s = { log, len, 0 };

	if (ftruncate(log_fd, 0) < 0)
		abort();
	write_at(log, first, 0);

	struct follower f;
	FUZZ_CHECK(follower_open(&f, dir_fd, LOG, -1) == 0);
	FUZZ_CHECK(follower_look_back(&f, 256, on_line, &s) == 0);
	FUZZ_CHECK(follower_rewind_lines(&f, ctl % 23) == 0);
	FUZZ_CHECK(follower_look_back(&f, 4096, on_line, &s) == 0);
	drain(&f, &s, step);

	if (truncate) {
		/* copytruncate: emptied, then written from the start. */
		if (ftruncate(log_fd, 0) < 0)
			abort();
		drain(&f, &s, step);
		write_at(log + first, len - first, 0);
	} else {
		write_at(log + first, len - first, (off_t)first);
	}
	drain(&f, &s, step);
	follower_close(&f);
	return 0;
}
