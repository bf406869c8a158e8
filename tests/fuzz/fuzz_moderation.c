/* The moderation parsers: a room's stored file (MODERATION_DIR/<room>.json,
 * which an administrator may edit) and a moderator's command line.  The
 * whole input is both.  A state that parses is written and read back to
 * the same; a command that parses has a result sentence and an audit line
 * of one line each. */
#include "fuzz.h"

#include "moderation.h"

#define NOW ((time_t)1800000000)

static void check_state(const uint8_t *data, size_t size)
{
	struct mod_state st, back;
	struct buf text;
	char *copy = fuzz_memdup(data, size);
	if (moderation_parse_state(copy, size, NOW, &st) < 0) {
		FUZZ_CHECK(st.nbans == 0 && st.nmutes == 0 && !st.bans && !st.mutes);
		free(copy);
		return;
	}
	FUZZ_CHECK(st.nbans <= MOD_ENTRIES_MAX && st.nmutes <= MOD_ENTRIES_MAX);
	FUZZ_CHECK(strlen(st.topic) <= MOD_TEXT_MAX);
	for (size_t i = 0; i < st.nbans; i++)
		FUZZ_CHECK(st.bans[i].until > NOW && st.bans[i].target[0]);
	for (size_t i = 0; i < st.nmutes; i++)
		FUZZ_CHECK(st.mutes[i].until > NOW && !st.mutes[i].address);
	buf_init(&text, 0);
	FUZZ_CHECK(moderation_format_state(&st, &text) == 0);
	FUZZ_CHECK(text.len > 0 && text.data[text.len - 1] == '\n');
	FUZZ_CHECK(memchr(text.data, '\n', text.len - 1) == NULL);
	FUZZ_CHECK(moderation_parse_state(text.data, text.len, NOW, &back) == 0);
	FUZZ_CHECK(back.nbans == st.nbans && back.nmutes == st.nmutes);
	FUZZ_CHECK(back.locked == st.locked && strcmp(back.topic, st.topic) == 0);
	for (size_t i = 0; i < st.nbans; i++)
		FUZZ_CHECK(strcmp(back.bans[i].target, st.bans[i].target) == 0 &&
		           back.bans[i].until == st.bans[i].until);
	moderation_state_free(&back);
	moderation_state_free(&st);
	buf_free(&text);
	free(copy);
}

static void check_command(const uint8_t *data, size_t size)
{
	struct mod_command cmd;
	struct buf out;
	char err[160];
	char *line = fuzz_strndup(data, size);
	int rc = moderation_parse(line, strlen(line), &cmd, err, sizeof err);
	if (rc < 0)
		FUZZ_CHECK(strncmp(err, "usage: /", 8) == 0);
	if (rc == 1) {
		buf_init(&out, 0);
		FUZZ_CHECK(strlen(cmd.text) <= MOD_TEXT_MAX);
		FUZZ_CHECK(strchr(cmd.target, ' ') == NULL);
		FUZZ_CHECK(moderation_result(&cmd, &out) == 0);
		FUZZ_CHECK(out.len > 0 && out.data[0] == ' ');
		FUZZ_CHECK(memchr(out.data, '\n', out.len) == NULL);
		FUZZ_CHECK(moderation_audit_line(NOW, "Alice", &cmd, &out) == 0);
		FUZZ_CHECK(out.data[out.len - 1] == '\n');
		FUZZ_CHECK(memchr(out.data, '\n', out.len - 1) == NULL);
		buf_free(&out);
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_state(data, size);
	check_command(data, size);
	return 0;
}
