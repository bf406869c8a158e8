/* relay_channels: the channels the host's relay (archive_relay.h) holds
 * on Redis for its members, and who listens on each.
 *
 * The relay has one subscribed link to Redis for the whole host.  A
 * channel is subscribed there while some member listens on it, and
 * unsubscribed when the last one leaves.  Redis confirms both in order on
 * the link, so a channel goes through states:
 *
 *   SUBSCRIBING --confirmed--> SUBSCRIBED --last member left--> UNSUBSCRIBING
 *        ^                                                           |
 *        +---- confirmed, and wanted again meanwhile ----------------+
 *
 * and an unsubscription confirmed for a channel nobody wants any more
 * removes it.  A member hears a channel's messages only once it is
 * SUBSCRIBED: before that, Redis sends none.
 *
 * A table is kept sorted by name (bsearch on every message); the
 * channels themselves do not move, so a caller may hold one while the
 * table changes. */
#ifndef CHAT_RELAY_CHANNELS_H
#define CHAT_RELAY_CHANNELS_H

#include <stdbool.h>
#include <stddef.h>

enum relay_state {
	RELAY_SUBSCRIBING,
	RELAY_SUBSCRIBED,
	RELAY_UNSUBSCRIBING,
};

struct relay_channel {
	char *name;
	size_t len;
	enum relay_state state;
	void **members; /* the listeners, the caller's pointers */
	size_t n, cap;
};

/* The table holds each channel by pointer: channels do not move. */
struct relay_slot {
	struct relay_channel *ch;
};

struct relay_channels {
	struct relay_slot *v; /* sorted by name */
	size_t n, cap;
};

/* What the caller must ask Redis after a change. */
enum relay_ask {
	RELAY_ASK_NOTHING,
	RELAY_ASK_SUBSCRIBE,
	RELAY_ASK_UNSUBSCRIBE,
};

/* The channel of that name, or NULL. */
struct relay_channel *relay_channels_find(const struct relay_channels *t,
                                          const char *name, size_t len);
/* Adds member to the channel name (made when new).  The channel, or NULL
 * when out of memory (nothing changed); *ask is RELAY_ASK_SUBSCRIBE for a
 * new channel. */
struct relay_channel *relay_channels_join(struct relay_channels *t,
                                          const char *name, size_t len,
                                          void *member, enum relay_ask *ask);
/* Removes member from ch; RELAY_ASK_UNSUBSCRIBE when nobody listens any
 * more and the channel is subscribed (it is then UNSUBSCRIBING). */
enum relay_ask relay_channels_leave(struct relay_channels *t,
                                    struct relay_channel *ch, void *member);
/* Redis confirmed a subscription of ch: it is SUBSCRIBED, and
 * RELAY_ASK_UNSUBSCRIBE when everyone left meanwhile. */
enum relay_ask relay_channels_subscribed(struct relay_channels *t,
                                         struct relay_channel *ch);
/* Redis confirmed an unsubscription of ch: RELAY_ASK_SUBSCRIBE when
 * members came meanwhile (SUBSCRIBING again); else ch is removed and
 * freed. */
enum relay_ask relay_channels_unsubscribed(struct relay_channels *t,
                                           struct relay_channel *ch);
/* Removes and frees every channel (the link to Redis is gone). */
void relay_channels_clear(struct relay_channels *t);

#endif
