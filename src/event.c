#include "event.h"

#include <string.h>

#define CLOCK_LEN 11 /* "[HH:MM:SS] " */
#define DAY (24 * 60 * 60)

/* What is left of a line to read: the parsers below take from its front
 * and, when they fail, leave the caller's copy as it was. */
struct cursor {
	const char *p;
	const char *end;
};

static size_t left(const struct cursor *c)
{
	return (size_t)(c->end - c->p);
}

static struct event_span span(const char *p, size_t len)
{
	struct event_span s = { p, len };
	return s;
}

static struct event_span rest(const struct cursor *c)
{
	return span(c->p, left(c));
}

/* Takes the string lit off the front. */
static bool eat(struct cursor *c, const char *lit)
{
	size_t n = strlen(lit);
	if (left(c) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* Takes one or more decimal digits off the front; the value saturates at
 * UINT64_MAX, as dice.c reads its arguments. */
static bool eat_number(struct cursor *c, uint64_t *v)
{
	const char *start = c->p;
	uint64_t n = 0;
	for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++) {
		unsigned d = (unsigned)(*c->p - '0');
		n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
	}
	*v = n;
	return c->p > start;
}

static const char *find(const struct cursor *c, char ch)
{
	return memchr(c->p, ch, left(c));
}

/* Two decimal digits at p, at most max. */
static int two_digits(const char *p, int max)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	int v = (p[0] - '0') * 10 + (p[1] - '0');
	return v <= max ? v : -1;
}

/* Takes "[HH:MM:SS] " off the front: its seconds after midnight, or -1
 * (and nothing taken) when the line does not start with one. */
static int eat_clock(struct cursor *c)
{
	const char *p = c->p;
	if (left(c) < CLOCK_LEN || p[0] != '[' || p[3] != ':' || p[6] != ':' ||
	    p[9] != ']' || p[10] != ' ')
		return -1;
	int h = two_digits(p + 1, 23), m = two_digits(p + 4, 59),
	    s = two_digits(p + 7, 59);
	if (h < 0 || m < 0 || s < 0)
		return -1;
	c->p += CLOCK_LEN;
	return h * 3600 + m * 60 + s;
}

/* The values of a dice result and what may follow them: "4, 6, 2", then
 * nothing or " (stopped after N throws)". */
static bool read_values(struct cursor c, struct event_dice *d)
{
	uint64_t v;
	const char *start = c.p;
	if (left(&c) && c.p[0] >= '0' && c.p[0] <= '9') {
		do {
			if (!eat_number(&c, &v))
				return false;
		} while (eat(&c, ", "));
	}
	d->values = span(start, (size_t)(c.p - start));
	d->stopped = left(&c) > 0;
	return !d->stopped || (eat(&c, " (stopped after ") &&
	                       eat_number(&c, &v) && eat(&c, " throws)") &&
	                       left(&c) == 0);
}

/* dice.c's result: "[Max dice number is grater than N throwing only first
 * N dice. ]Throws X Y-sided dice, throws again on Z: <values>". */
static bool read_dice(struct cursor c, struct event_dice *d)
{
	uint64_t cap;
	d->capped = eat(&c, "Max dice number is grater than ");
	if (d->capped && !(eat_number(&c, &cap) &&
	                   eat(&c, " throwing only first ") &&
	                   eat_number(&c, &cap) && eat(&c, " dice. ")))
		return false;
	return eat(&c, "Throws ") && eat_number(&c, &d->count) &&
	       eat(&c, " ") && eat_number(&c, &d->sides) &&
	       eat(&c, "-sided dice, throws again on ") &&
	       eat_number(&c, &d->again) && eat(&c, ": ") && read_values(c, d);
}

/* True when text starts with lit; *c is then the rest.  text itself does
 * not move, so a failed test leaves nothing for the next to undo. */
static bool after(struct cursor text, const char *lit, struct cursor *c)
{
	*c = text;
	return eat(c, lit);
}

/* A target word up to end or a space (no space in it). */
static bool take_target(struct cursor *c, const char *end,
                        struct event_span *out)
{
	const char *space = find(c, ' ');
	if (!end)
		end = space ? space : c->end;
	if (end == c->p || (space && space < end))
		return false;
	*out = span(c->p, (size_t)(end - c->p));
	c->p = end;
	return true;
}

/* "[: <reason>]" to the end. */
static bool read_reason(struct cursor c, struct event_moderation *m)
{
	m->reason = span(c.p, 0);
	if (left(&c) == 0)
		return true;
	if (!eat(&c, ": "))
		return false;
	m->reason = rest(&c);
	return true;
}

/* "<target> for <N> minutes": c past the verb. */
static bool read_timed(struct cursor *c, struct event_moderation *m)
{
	return take_target(c, NULL, &m->target) && eat(c, " for ") &&
	       eat_number(c, &m->minutes) && eat(c, " minutes");
}

/* The sentences of moderation.c about a target, done to it; false when
 * text is none of them. */
static bool read_targeted(struct cursor text, struct event_moderation *m,
                          enum event_result *r)
{
	struct cursor c;
	bool ok;
	if (after(text, "Kicked ", &c)) {
		*r = RESULT_KICK;
		ok = take_target(&c, find(&c, ':'), &m->target) && read_reason(c, m);
	} else if (after(text, "Muted ", &c)) {
		*r = RESULT_MUTE;
		ok = read_timed(&c, m) && left(&c) == 0;
	} else if (after(text, "Banned ", &c)) {
		*r = RESULT_BAN;
		ok = read_timed(&c, m) && read_reason(c, m);
	} else if (after(text, "Unmuted ", &c) || after(text, "Unbanned ", &c)) {
		*r = text.p[2] == 'm' ? RESULT_UNMUTE : RESULT_UNBAN;
		ok = take_target(&c, NULL, &m->target) && left(&c) == 0;
	} else {
		return false;
	}
	if (!ok)
		*r = RESULT_OTHER;
	return true;
}

/* moderation.c's sentences. */
static enum event_result read_moderation(struct cursor text,
                                         struct event_moderation *m)
{
	struct cursor c;
	enum event_result r;
	if (read_targeted(text, m, &r))
		return r;
	if (after(text, "Locked the room to verified members", &c))
		return left(&c) == 0 ? RESULT_LOCK : RESULT_OTHER;
	if (after(text, "Unlocked the room", &c))
		return left(&c) == 0 ? RESULT_UNLOCK : RESULT_OTHER;
	if (after(text, "Set the topic: ", &c)) {
		m->reason = rest(&c);
		return RESULT_TOPIC;
	}
	if (after(text, "Cleared the topic", &c) && left(&c) == 0) {
		m->reason = span(c.p, 0);
		return RESULT_TOPIC;
	}
	return RESULT_OTHER;
}

/* Which of command.c's and dice.c's sentences text is. */
static void read_result(struct event *ev)
{
	const struct cursor text = { ev->text.p, ev->text.p + ev->text.len };
	struct cursor c;
	ev->result = RESULT_OTHER;
	if (read_dice(text, &ev->dice))
		ev->result = RESULT_DICE;
	else if (after(text, "Bad dice syntax, ", &c))
		ev->result = RESULT_DICE_REFUSED;
	else if (after(text, "Changed color to ", &c) && left(&c) > 0) {
		ev->result = RESULT_COLOR;
		ev->color = rest(&c);
	} else if (after(text, "Not changed color, ", &c))
		ev->result = RESULT_COLOR_REFUSED;
	else if (after(text, "unknown command ", &c))
		ev->result = RESULT_UNKNOWN;
	else
		ev->result = read_moderation(text, &ev->mod);
}

/* "<to>: <text>" (routing's shape of a private text: the first word ends
 * in ':'), as whisper or signal. */
static bool read_private(struct cursor c, struct event *ev)
{
	const char *space = find(&c, ' ');
	size_t word = space ? (size_t)(space - c.p) : left(&c);
	if (word < 2 || c.p[word - 1] != ':')
		return false;
	ev->to = span(c.p, word - 1);
	c.p += space ? word + 1 : word;
	ev->text = rest(&c);
	ev->kind = left(&c) && c.p[0] == '{' ? EVENT_SIGNAL : EVENT_WHISPER;
	return true;
}

/* "<name>> <text>": c is past "<name>> ". */
static void read_chat(struct cursor c, bool private_line, struct event *ev)
{
	if (private_line && read_private(c, ev))
		return;
	struct cursor text = c;
	if (eat(&c, " ")) {
		/* Results carry their own leading space.  A message may start
		 * with one too, but never with a result's sentence (dispatch
		 * refuses that): a sentence we do not know is a message. */
		ev->kind = EVENT_RESULT;
		ev->text = rest(&c);
		read_result(ev);
		if (ev->result != RESULT_OTHER)
			return;
	}
	ev->kind = EVENT_MESSAGE;
	ev->text = rest(&text);
}

/* A word running to the end of the line: a room or a target. */
static bool last_word(const struct cursor *c, struct event_span *out)
{
	if (left(c) == 0 || find(c, ' '))
		return false;
	*out = rest(c);
	return true;
}

/* words, then a last word: *out. */
static bool words_then(struct cursor text, const char *words,
                       struct event_span *out)
{
	struct cursor c;
	return after(text, words, &c) && last_word(&c, out);
}

/* "<name> joined the <room>", "<name> quit the <room>",
 * "<name> whispers something to <to>": c is past "<name>". */
static bool read_named(struct cursor c, struct event *ev)
{
	if (words_then(c, " joined the ", &ev->room))
		ev->kind = EVENT_JOIN;
	else if (words_then(c, " quit the ", &ev->room))
		ev->kind = EVENT_QUIT;
	else if (words_then(c, " whispers something to ", &ev->to))
		ev->kind = EVENT_NOTICE;
	else
		return false;
	return true;
}

/* What the line after its clock says. */
static void read_body(struct cursor c, bool private_line, struct event *ev)
{
	if (eat(&c, "Userlist: ")) {
		ev->kind = EVENT_USERS;
		ev->text = rest(&c);
		return;
	}
	const char *space = find(&c, ' ');
	const char *gt = find(&c, '>');
	if (gt && gt > c.p && (!space || gt < space) && gt + 1 == space) {
		ev->name = span(c.p, (size_t)(gt - c.p));
		c.p = space + 1;
		read_chat(c, private_line, ev);
		return;
	}
	if (space && space > c.p && !(gt && gt < space)) {
		ev->name = span(c.p, (size_t)(space - c.p));
		c.p = space;
		if (read_named(c, ev))
			return;
	}
	ev->name = span(NULL, 0);
}

void event_parse(const char *line, size_t len, bool private_line,
                 struct event *ev)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	struct cursor c = { line, line + len };
	memset(ev, 0, sizeof *ev);
	ev->kind = EVENT_LINE;
	ev->clock = eat_clock(&c);
	ev->text = rest(&c);
	/* Every line the server writes starts with its clock. */
	if (ev->clock >= 0)
		read_body(c, private_line, ev);
}

bool event_next_user(struct event_span *list, struct event_span *name,
                     struct event_span *color)
{
	while (list->len > 0) {
		const char *comma = memchr(list->p, ',', list->len);
		size_t n = comma ? (size_t)(comma - list->p) : list->len;
		const char *colon = memchr(list->p, ':', n);
		const char *entry = list->p;
		list->p += comma ? n + 1 : n;
		list->len -= comma ? n + 1 : n;
		if (!colon || colon == entry)
			continue;
		*name = span(entry, (size_t)(colon - entry));
		*color = span(colon + 1, n - name->len - 1);
		return true;
	}
	return false;
}

bool event_next_value(struct event_span *values, uint64_t *v)
{
	struct cursor c = { values->p, values->p + values->len };
	if (!eat_number(&c, v))
		return false;
	eat(&c, ", ");
	*values = rest(&c);
	return true;
}

/* The moment of clock on the day of now's local date shifted by days, as
 * the offset of that moment would have it (isdst 0 or 1); -1 when that
 * reading does not give back clock (no such local time). */
static time_t on_day(const struct tm *today, int days, int clock, int isdst)
{
	struct tm tm = *today;
	tm.tm_mday += days;
	tm.tm_hour = clock / 3600;
	tm.tm_min = clock / 60 % 60;
	tm.tm_sec = clock % 60;
	tm.tm_isdst = isdst;
	time_t t = mktime(&tm);
	struct tm back;
	if (t == (time_t)-1 || !localtime_r(&t, &back) ||
	    back.tm_hour * 3600 + back.tm_min * 60 + back.tm_sec != clock)
		return -1;
	return t;
}

/* The usual case, without mktime: no change of offset between the line
 * and now, so it was as many seconds ago as the clocks differ.  Checked:
 * when it gives back clock, the wall clock and real time advanced alike
 * since, so no repeated hour lies between and it is the latest. */
static time_t same_offset(const struct tm *today, int clock, time_t now)
{
	int now_clock = today->tm_hour * 3600 + today->tm_min * 60 +
	                today->tm_sec;
	int ago = now_clock - clock;
	time_t t = now - (ago < 0 ? ago + DAY : ago);
	struct tm back;
	if (!localtime_r(&t, &back) ||
	    back.tm_hour * 3600 + back.tm_min * 60 + back.tm_sec != clock)
		return -1;
	return t;
}

time_t event_when(int clock, time_t now)
{
	struct tm today;
	if (clock < 0 || clock >= DAY || !localtime_r(&now, &today))
		return now;
	time_t t = same_offset(&today, clock, now);
	if (t != -1)
		return t;
	/* Each day and each offset in force may give a candidate: an hour
	 * that repeats when clocks go back gives two, one skipped when they
	 * go forward none (then the day before has it). */
	time_t best = -1;
	for (int days = 0; days >= -2 && best < 0; days--)
		for (int isdst = 0; isdst <= 1; isdst++) {
			t = on_day(&today, days, clock, isdst);
			if (t >= 0 && t <= now && t > best)
				best = t;
		}
	return best < 0 ? now : best;
}
