/* redis_record: a member's client record in its parts, its own reader's
 * or its relay's, with its host or without (older records, connection
 * slots); anything else is not a record, and parts are never read past
 * the text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "redis_record.h"

#define RUN "a3f0c6e1b2d4a3f0c6e1b2d4a3f0c6e1b2d4a3f0"
#define OTHER_RUN "a3f0c6e1b2d4a3f0c6e1b2d4a3f0c6e1b2d4a3f1"
#define HOST "0123456789abcdef"
#define CONN "9f8e7d6c5b4a3921"

static void assert_id(const struct redis_record *r, const char *id)
{
	assert_int_equal(r->id_len, strlen(id));
	assert_memory_equal(r->id, id, strlen(id));
}

static void test_own_reader(void **state)
{
	(void)state;
	struct redis_record r;
	assert_true(redis_record_parse(RUN ":12:" HOST, &r));
	assert_int_equal(r.run_len, strlen(RUN));
	assert_true(redis_record_of_run(&r, RUN));
	assert_false(redis_record_of_run(&r, OTHER_RUN));
	assert_false(redis_record_of_run(&r, RUN "0"));
	assert_id(&r, "12");
	assert_false(r.relayed);
	assert_string_equal(r.host, HOST);
}

static void test_through_relay(void **state)
{
	(void)state;
	struct redis_record r;
	assert_true(redis_record_parse(RUN ":7." CONN ":" HOST, &r));
	assert_id(&r, "7");
	assert_true(r.relayed);
	assert_string_equal(r.host, HOST);
	/* Its socket closed: client 0. */
	assert_true(redis_record_parse(RUN ":0:" HOST, &r));
	assert_id(&r, "0");
	assert_false(r.relayed);
	/* A connection slot: no host. */
	assert_true(redis_record_parse(RUN ":7." CONN, &r));
	assert_true(r.relayed);
	assert_null(r.host);
}

static void test_no_host(void **state)
{
	(void)state;
	struct redis_record r;
	assert_true(redis_record_parse(RUN ":12", &r)); /* an older version's */
	assert_id(&r, "12");
	assert_null(r.host);
	/* Not a host id: upper case, short, long; the record still is one. */
	assert_true(redis_record_parse(RUN ":12:0123456789abcdeF", &r));
	assert_null(r.host);
	assert_true(redis_record_parse(RUN ":12:0123", &r));
	assert_null(r.host);
	assert_true(redis_record_parse(RUN ":12:" HOST "0", &r));
	assert_null(r.host);
}

static void test_not_records(void **state)
{
	(void)state;
	const char *bad[] = { NULL, "", RUN, ":12:" HOST, RUN ":", RUN ":x",
	                      RUN "::" HOST, RUN ":12x", RUN ":-1:" HOST };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct redis_record r;
		memset(&r, 0x55, sizeof r);
		assert_false(redis_record_parse(bad[i], &r));
		assert_null(r.host);
		assert_false(r.relayed);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_reader),
		cmocka_unit_test(test_through_relay),
		cmocka_unit_test(test_no_host),
		cmocka_unit_test(test_not_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
