/* A client line as dispatch.c handles it: decode_request in the legacy
 * protocol (UTF-8 check, control characters stripped), then command_run for "/..." (/dice with a
 * deterministic source, /color on a real presence file, unknown commands),
 * or route_message for a message ("Alice: ..." reaches the one member;
 * the text after any "<name>: " goes through signalling_check).  The
 * presence lives in a temporary directory made once per run. */
#include "fuzz.h"

#include <fcntl.h>

#include "buf.h"
#include "command.h"
#include "format.h"
#include "decode.h"
#include "presence.h"
#include "route.h"
#include "signalling.h"
#include "text.h"
#include "transport.h"

#define ROOM "lobby"

static struct presence presence;
static int users_fd = -1;

/* What dispatch.c reaches through the files transport, here directly:
 * /color on our presence file, and the member lookup of routing. */
static int recolor(void *ctx, const char *color)
{
	return presence_set_color(ctx, color);
}

static int find_member(void *st, const char *name)
{
	(void)st;
	return presence_open_member(users_fd, ROOM, name);
}

static const struct transport_ops room_ops = { .find = find_member };
static struct room_transport room = { &room_ops, NULL };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char users[128];
	snprintf(users, sizeof users, "%s/users", fuzz_tmp("command"));
	users_fd = presence_open_dir(users, 0700);
	if (users_fd < 0 ||
	    presence_claim(&presence, users_fd, 0600, ROOM, "Alice", "red") < 0)
		abort();
	return 0;
}

static void check_result(enum command_outcome outcome, const struct buf *r)
{
	FUZZ_CHECK(outcome == COMMAND_RESULT ||
	           outcome == COMMAND_RESULT_USERLIST ||
	           outcome == COMMAND_REFUSED || outcome == COMMAND_FAILED);
	if (outcome == COMMAND_FAILED)
		return;
	FUZZ_CHECK(r->data != NULL && strlen(r->data) == r->len);
	/* A result goes into the log as one line. */
	FUZZ_CHECK(memchr(r->data, '\n', r->len) == NULL);
	FUZZ_CHECK(text_is_utf8(r->data, r->len));
	if (outcome == COMMAND_RESULT_USERLIST) {
		char shown[COLOR_MAX + 2];
		int fd = openat(users_fd, ROOM "_Alice", O_RDONLY);
		FUZZ_CHECK(fd >= 0);
		ssize_t n = read(fd, shown, sizeof shown - 1);
		close(fd);
		FUZZ_CHECK(n > 1 && shown[n - 1] == '\n');
		shown[n - 1] = '\0';
		FUZZ_CHECK(color_is_valid(shown));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The reader hands over a writable, NUL-terminated line. */
	char *line = fuzz_strndup(data, size);
	struct request rq;
	struct buf scratch;
	buf_init(&scratch, 0);
	decode_request(WIRE_LEGACY, line, size, &rq, &scratch);
	buf_free(&scratch);
	enum request_kind kind = rq.kind;
	size_t len = rq.len;
	if (kind == REQUEST_REFUSED) {
		FUZZ_CHECK(rq.refusal == REFUSAL_BAD_UTF8);
		FUZZ_CHECK(!text_is_utf8((const char *)data, size));
		free(line);
		return 0;
	}
	/* The legacy decoder cleans the line in place. */
	FUZZ_CHECK(kind == REQUEST_EMPTY || rq.text == line);
	FUZZ_CHECK(len <= size && line[len] == '\0');
	FUZZ_CHECK(text_is_utf8(line, len));
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK((unsigned char)line[i] >= 0x20 || line[i] == '\t');

	struct fuzz_rng rng = { fuzz_hash(data, size), -1, false };
	const struct command_env env = { recolor, &presence, fuzz_rng_uniform,
	                                 &rng };
	struct buf result, out;
	buf_init(&result, 0);
	buf_init(&out, 0);
	if (kind == REQUEST_COMMAND) {
		enum command_outcome o = command_run(line, len, &env, &result);
		check_result(o, &result);
		if (o != COMMAND_FAILED && o != COMMAND_REFUSED) {
			FUZZ_CHECK(format_result(&out, 0, presence.name,
			                         result.data, result.len) == 0);
			FUZZ_CHECK(memchr(out.data, '\n', out.len) ==
			           out.data + out.len - 1);
		}
	} else if (kind == REQUEST_TEXT) {
		struct route r;
		enum route_kind where = route_message(line, len, &room, &r);
		FUZZ_CHECK(where == ROUTE_ROOM || where == ROUTE_PRIVATE ||
		           where == ROUTE_GONE);
		FUZZ_CHECK((where == ROUTE_PRIVATE) == (r.member >= 0));
		if (r.target[0]) {
			/* "<target>: text": the text lies inside the line. */
			FUZZ_CHECK(strlen(r.target) <= PRESENCE_NAME_MAX);
			FUZZ_CHECK(r.text >= line && r.text_len <= len &&
			           r.text + r.text_len == line + len);
			(void)signalling_check(r.text, r.text_len, &out);
		}
		if (where == ROUTE_PRIVATE) {
			FUZZ_CHECK(strcmp(r.target, "Alice") == 0);
			close(r.member);
		} else {
			FUZZ_CHECK(format_message(&out, 0, presence.name, line,
			                          len) == 0);
			/* One line, whatever the client sent. */
			FUZZ_CHECK(memchr(out.data, '\n', out.len) ==
			           out.data + out.len - 1);
		}
	}
	buf_free(&result);
	buf_free(&out);
	free(line);
	return 0;
}
