#include "dice.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DICE_ARGS 3

#define STR_(x) #x
#define STR(x) STR_(x)

struct token {
	const char *p;
	size_t len;
};

/* Splits off up to max space-separated words; returns how many there were
 * (counting stops at max, later words do not matter). */
static size_t split_args(const char *s, struct token *tok, size_t max)
{
	size_t n = 0;

	while (n < max) {
		s += strspn(s, " ");
		if (*s == '\0')
			break;
		tok[n].p = s;
		tok[n].len = strcspn(s, " ");
		s += tok[n].len;
		n++;
	}
	return n;
}

/* All decimal digits; the value saturates at UINT64_MAX rather than
 * wrapping, so "99999999999999999999" stays "too many". */
static bool parse_number(struct token t, uint64_t *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < t.len; i++) {
		if (t.p[i] < '0' || t.p[i] > '9')
			return false;
		unsigned d = (unsigned)(t.p[i] - '0');
		v = (v > (UINT64_MAX - d) / 10) ? UINT64_MAX : v * 10 + d;
	}
	*out = v;
	return true;
}

enum dice_parse dice_parse(const char *args, struct dice_request *req)
{
	struct token tok[DICE_ARGS];
	uint64_t v[DICE_ARGS];

	if (!args || split_args(args, tok, DICE_ARGS) < DICE_ARGS)
		return DICE_USAGE;
	for (size_t i = 0; i < DICE_ARGS; i++)
		if (!parse_number(tok[i], &v[i]))
			return DICE_NOT_NUMERIC;
	if (v[1] < 1 || v[1] > DICE_MAX_SIDES)
		return DICE_BAD_SIDES;
	req->count = v[0];
	req->sides = (uint32_t)v[1];
	req->again = v[2];
	return DICE_OK;
}

static const char *error_sentence(enum dice_parse err)
{
	switch (err) {
	case DICE_USAGE:
		return " Bad dice syntax, usage: /dice dice_count "
		       "number_of_dice_sides target_number_for_throw_again";
	case DICE_NOT_NUMERIC:
		return " Bad dice syntax, input is not numeric";
	case DICE_BAD_SIDES:
		return " Bad dice syntax, number of dice sides must be "
		       "between 1 and " STR(DICE_MAX_SIDES);
	case DICE_OK:
		break;
	}
	return NULL;
}

static int append_header(struct buf *out, const struct dice_request *req,
                         uint64_t count)
{
	char line[128];

	if (req->count > count &&
	    buf_append_str(out, " Max dice number is grater than "
	                        STR(DICE_MAX_COUNT) " throwing only first "
	                        STR(DICE_MAX_COUNT) " dice.") < 0)
		return -1;
	int n = snprintf(line, sizeof line,
	                 " Throws %" PRIu64 " %" PRIu32
	                 "-sided dice, throws again on %" PRIu64 ": ",
	                 count, req->sides, req->again);
	if (n < 0 || (size_t)n >= sizeof line) {
		errno = EOVERFLOW;
		return -1;
	}
	return buf_append(out, line, (size_t)n);
}

/* Throws one die and appends its value; the first value gets no ", ". */
static int throw_one(const struct dice_request *req, rng_uniform_fn rng,
                     void *rng_ctx, size_t thrown, struct buf *out,
                     uint32_t *value)
{
	uint32_t v;
	char text[32];

	if (rng(rng_ctx, req->sides, &v) < 0)
		return -1;
	if (v >= req->sides) {
		/* A broken source must not print impossible dice. */
		errno = ERANGE;
		return -1;
	}
	*value = v + 1;
	int n = snprintf(text, sizeof text, "%s%" PRIu32, thrown ? ", " : "",
	                 *value);
	if (n < 0 || (size_t)n >= sizeof text) {
		errno = EOVERFLOW;
		return -1;
	}
	return buf_append(out, text, (size_t)n);
}

static bool explodes(const struct dice_request *req, uint32_t value)
{
	return req->again > 1 && value >= req->again;
}

/* Returns 0 or -1.  *stopped tells whether the DICE_MAX_THROWS cap cut the
 * list short: it is only set when a throw was still due. */
static int throw_all(const struct dice_request *req, uint64_t count,
                     rng_uniform_fn rng, void *rng_ctx, struct buf *out,
                     bool *stopped)
{
	size_t thrown = 0;

	*stopped = false;
	for (uint64_t i = 0; i < count; i++) {
		bool again = true;
		while (again) {
			uint32_t v;
			if (thrown == DICE_MAX_THROWS) {
				*stopped = true;
				return 0;
			}
			if (throw_one(req, rng, rng_ctx, thrown, out, &v) < 0)
				return -1;
			thrown++;
			again = explodes(req, v);
		}
	}
	return 0;
}

static int roll(const struct dice_request *req, rng_uniform_fn rng,
                void *rng_ctx, struct buf *out)
{
	uint64_t count = req->count;
	if (count > DICE_MAX_COUNT)
		count = DICE_MAX_COUNT;
	bool stopped;

	if (append_header(out, req, count) < 0 ||
	    throw_all(req, count, rng, rng_ctx, out, &stopped) < 0)
		return -1;
	if (stopped)
		return buf_append_str(out, " (stopped after "
		                           STR(DICE_MAX_THROWS) " throws)");
	return 0;
}

int dice_command(const char *args, rng_uniform_fn rng, void *rng_ctx,
                 struct buf *out)
{
	struct dice_request req;
	size_t mark = out->len;
	enum dice_parse err = dice_parse(args, &req);
	int rc;

	if (err != DICE_OK)
		rc = buf_append_str(out, error_sentence(err));
	else
		rc = roll(&req, rng, rng_ctx, out);
	if (rc < 0 && out->len > mark) {
		/* No half result: out keeps what it had before the call. */
		int saved = errno;
		out->len = mark;
		out->data[mark] = '\0';
		errno = saved;
	}
	return rc;
}
