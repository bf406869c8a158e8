#include "relay_channels.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

static int compare(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c ? c : (alen > blen) - (alen < blen);
}

/* Where name is, or would be inserted: *found says which. */
static size_t position(const struct relay_channels *t, const char *name,
                       size_t len, bool *found)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare(t->v[mid].ch->name, t->v[mid].ch->len, name, len);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

struct relay_channel *relay_channels_find(const struct relay_channels *t,
                                          const char *name, size_t len)
{
	bool found;
	size_t i = position(t, name, len, &found);
	return found ? t->v[i].ch : NULL;
}

static void channel_free(struct relay_channel *ch)
{
	grow_free(ch->members, ch->cap, sizeof *ch->members);
	free(ch->name);
	free(ch);
}

/* A new channel in the table at i; NULL when out of memory. */
static struct relay_channel *insert(struct relay_channels *t, size_t i,
                                    const char *name, size_t len)
{
	struct relay_channel *ch = calloc(1, sizeof *ch);
	char *copy = malloc(len + 1);
	struct relay_slot *v = ch && copy ? grow(t->v, &t->cap, t->n, sizeof *v)
	                                  : NULL;
	if (!v) {
		free(ch);
		free(copy);
		return NULL;
	}
	memcpy(copy, name, len);
	copy[len] = '\0';
	*ch = (struct relay_channel){ .name = copy, .len = len,
	                              .state = RELAY_SUBSCRIBING };
	t->v = v;
	memmove(v + i + 1, v + i, (t->n - i) * sizeof *v);
	v[i].ch = ch;
	t->n++;
	return ch;
}

static void remove_channel(struct relay_channels *t, struct relay_channel *ch)
{
	bool found;
	size_t i = position(t, ch->name, ch->len, &found);
	if (found) {
		memmove(t->v + i, t->v + i + 1, (t->n - i - 1) * sizeof *t->v);
		t->n--;
		t->v = grow_shrink(t->v, &t->cap, t->n, sizeof *t->v);
	}
	channel_free(ch);
}

struct relay_channel *relay_channels_join(struct relay_channels *t,
                                          const char *name, size_t len,
                                          void *member, enum relay_ask *ask)
{
	bool found;
	size_t i = position(t, name, len, &found);
	struct relay_channel *ch = found ? t->v[i].ch : insert(t, i, name, len);
	*ask = found ? RELAY_ASK_NOTHING : RELAY_ASK_SUBSCRIBE;
	void **m = ch ? grow(ch->members, &ch->cap, ch->n, sizeof *m) : NULL;
	if (!m) {
		if (ch && !found)
			remove_channel(t, ch);
		*ask = RELAY_ASK_NOTHING;
		return NULL;
	}
	ch->members = m;
	m[ch->n++] = member;
	return ch;
}

enum relay_ask relay_channels_leave(struct relay_channels *t,
                                    struct relay_channel *ch, void *member)
{
	(void)t;
	for (size_t i = 0; i < ch->n; i++)
		if (ch->members[i] == member) {
			ch->members[i] = ch->members[--ch->n];
			ch->members = grow_shrink(ch->members, &ch->cap, ch->n,
			                          sizeof *ch->members);
			break;
		}
	if (ch->n > 0 || ch->state != RELAY_SUBSCRIBED)
		return RELAY_ASK_NOTHING;
	ch->state = RELAY_UNSUBSCRIBING;
	return RELAY_ASK_UNSUBSCRIBE;
}

enum relay_ask relay_channels_subscribed(struct relay_channels *t,
                                         struct relay_channel *ch)
{
	ch->state = RELAY_SUBSCRIBED;
	return relay_channels_leave(t, ch, NULL);
}

enum relay_ask relay_channels_unsubscribed(struct relay_channels *t,
                                           struct relay_channel *ch)
{
	if (ch->n > 0) {
		ch->state = RELAY_SUBSCRIBING;
		return RELAY_ASK_SUBSCRIBE;
	}
	remove_channel(t, ch);
	return RELAY_ASK_NOTHING;
}

void relay_channels_clear(struct relay_channels *t)
{
	for (size_t i = 0; i < t->n; i++)
		channel_free(t->v[i].ch);
	grow_free(t->v, t->cap, sizeof *t->v);
	*t = (struct relay_channels){ 0 };
}
