#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>

#include "rng.h"

static void test_bound_zero(void **state)
{
	(void)state;
	uint32_t v = 12345;
	errno = 0;
	assert_int_equal(rng_uniform(NULL, 0, &v), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_bound_one(void **state)
{
	(void)state;
	for (int i = 0; i < 200; i++) {
		uint32_t v = 99;
		assert_int_equal(rng_uniform(NULL, 1, &v), 0);
		assert_int_equal(v, 0);
	}
}

static void test_always_below_bound(void **state)
{
	(void)state;
	static const uint32_t bounds[] = {
		2, 3, 6, 7, 10, 100, 1000, 65536, 1000000,
		0x80000000u, 0x80000001u, 0xFFFFFFFEu, UINT32_MAX,
	};
	for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++)
		for (int i = 0; i < 2000; i++) {
			uint32_t v;
			assert_int_equal(rng_uniform(NULL, bounds[b], &v), 0);
			assert_true(v < bounds[b]);
		}
}

static void test_ctx_is_ignored(void **state)
{
	(void)state;
	int dummy = 0;
	uint32_t v;
	assert_int_equal(rng_uniform(&dummy, 6, &v), 0);
	assert_true(v < 6);
	assert_int_equal(dummy, 0);
}

static void test_fits_the_type(void **state)
{
	(void)state;
	rng_uniform_fn fn = rng_uniform;
	uint32_t v;
	assert_int_equal(fn(NULL, 20, &v), 0);
	assert_true(v < 20);
}

static void test_rough_distribution(void **state)
{
	(void)state;
	unsigned count[6] = { 0 };
	const unsigned draws = 6000;

	for (unsigned i = 0; i < draws; i++) {
		uint32_t v;
		assert_int_equal(rng_uniform(NULL, 6, &v), 0);
		count[v]++;
	}
	/* Expected 1000 each (sd about 29); 10%..23% of the draws is over 13 sd
	 * either way, so this cannot flake. */
	for (int k = 0; k < 6; k++)
		assert_in_range(count[k], draws / 10, draws * 23 / 100);
}

static void test_large_bound_uses_both_halves(void **state)
{
	(void)state;
	/* With bound 2^31 + 1 almost half of all raw draws are rejected; what
	 * remains must still cover the whole range. */
	const uint32_t bound = 0x80000001u;
	unsigned high = 0;
	for (int i = 0; i < 2000; i++) {
		uint32_t v;
		assert_int_equal(rng_uniform(NULL, bound, &v), 0);
		high += v >= bound / 2;
	}
	assert_in_range(high, 700, 1300);
}

static void test_values_vary(void **state)
{
	(void)state;
	uint32_t first, v;
	bool differs = false;
	assert_int_equal(rng_uniform(NULL, UINT32_MAX, &first), 0);
	for (int i = 0; i < 64 && !differs; i++) {
		assert_int_equal(rng_uniform(NULL, UINT32_MAX, &v), 0);
		differs = v != first;
	}
	assert_true(differs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_zero),
		cmocka_unit_test(test_bound_one),
		cmocka_unit_test(test_always_below_bound),
		cmocka_unit_test(test_ctx_is_ignored),
		cmocka_unit_test(test_fits_the_type),
		cmocka_unit_test(test_rough_distribution),
		cmocka_unit_test(test_large_bound_uses_both_halves),
		cmocka_unit_test(test_values_vary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
