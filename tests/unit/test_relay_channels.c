/* relay_channels: the table stays sorted and findable as channels come
 * and go; a channel is asked of Redis once, let go when its last member
 * leaves, and asked again when someone comes while it is let go; the
 * members' pointers stay where they were as the table grows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "relay_channels.h"

static struct relay_channel *join(struct relay_channels *t, const char *name,
                                  void *member, enum relay_ask *ask)
{
	return relay_channels_join(t, name, strlen(name), member, ask);
}

static void test_lifecycle(void **state)
{
	(void)state;
	struct relay_channels t = { 0 };
	int a, b;
	enum relay_ask ask;
	struct relay_channel *ch = join(&t, "chan:lobby", &a, &ask);
	assert_non_null(ch);
	assert_int_equal(ask, RELAY_ASK_SUBSCRIBE);
	assert_int_equal(ch->state, RELAY_SUBSCRIBING);
	/* A second member while Redis has not confirmed: nothing to ask. */
	assert_ptr_equal(join(&t, "chan:lobby", &b, &ask), ch);
	assert_int_equal(ask, RELAY_ASK_NOTHING);
	assert_int_equal(ch->n, 2);
	assert_int_equal(relay_channels_subscribed(&t, ch), RELAY_ASK_NOTHING);
	assert_int_equal(ch->state, RELAY_SUBSCRIBED);
	assert_int_equal(relay_channels_leave(&t, ch, &a), RELAY_ASK_NOTHING);
	assert_int_equal(relay_channels_leave(&t, ch, &b),
	                 RELAY_ASK_UNSUBSCRIBE);
	assert_int_equal(ch->state, RELAY_UNSUBSCRIBING);
	/* Wanted again before Redis confirmed the unsubscription. */
	assert_ptr_equal(join(&t, "chan:lobby", &a, &ask), ch);
	assert_int_equal(ask, RELAY_ASK_NOTHING);
	assert_int_equal(relay_channels_unsubscribed(&t, ch),
	                 RELAY_ASK_SUBSCRIBE);
	assert_int_equal(ch->state, RELAY_SUBSCRIBING);
	assert_int_equal(relay_channels_subscribed(&t, ch), RELAY_ASK_NOTHING);
	/* Let go for good: the channel is gone from the table. */
	assert_int_equal(relay_channels_leave(&t, ch, &a),
	                 RELAY_ASK_UNSUBSCRIBE);
	assert_int_equal(relay_channels_unsubscribed(&t, ch), RELAY_ASK_NOTHING);
	assert_null(relay_channels_find(&t, "chan:lobby", 10));
	assert_int_equal(t.n, 0);
	relay_channels_clear(&t);
}

/* Everyone left before Redis confirmed the subscription: the
 * confirmation asks for the unsubscription. */
static void test_left_while_subscribing(void **state)
{
	(void)state;
	struct relay_channels t = { 0 };
	int a;
	enum relay_ask ask;
	struct relay_channel *ch = join(&t, "pchan:x:1", &a, &ask);
	assert_int_equal(relay_channels_leave(&t, ch, &a), RELAY_ASK_NOTHING);
	assert_int_equal(relay_channels_subscribed(&t, ch),
	                 RELAY_ASK_UNSUBSCRIBE);
	assert_int_equal(relay_channels_unsubscribed(&t, ch), RELAY_ASK_NOTHING);
	assert_int_equal(t.n, 0);
	relay_channels_clear(&t);
}

/* Many channels, added in no order and some removed: each is found by
 * its name (not by a prefix of it), the table stays sorted, and a
 * channel does not move as others come. */
static void test_many(void **state)
{
	(void)state;
	struct relay_channels t = { 0 };
	struct relay_channel *first[500];
	int member;
	enum relay_ask ask;
	char name[32];
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof name, "c%d", (i * 7919) % 500);
		first[i] = join(&t, name, &member, &ask);
		assert_non_null(first[i]);
	}
	for (int i = 0; i < 500; i += 2) {
		relay_channels_subscribed(&t, first[i]);
		relay_channels_leave(&t, first[i], &member);
		relay_channels_unsubscribed(&t, first[i]);
	}
	assert_int_equal(t.n, 250);
	for (size_t i = 1; i < t.n; i++)
		assert_true(strcmp(t.v[i - 1].ch->name, t.v[i].ch->name) < 0);
	for (int i = 1; i < 500; i += 2) {
		snprintf(name, sizeof name, "c%d", (i * 7919) % 500);
		assert_ptr_equal(relay_channels_find(&t, name, strlen(name)),
		                 first[i]);
		assert_string_equal(first[i]->name, name);
	}
	assert_null(relay_channels_find(&t, "c1", 1));
	assert_null(relay_channels_find(&t, "c4999", 5));
	relay_channels_clear(&t);
	assert_int_equal(t.n, 0);
	assert_null(t.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_left_while_subscribing),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
