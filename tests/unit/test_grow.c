/* grow: the capacity starts at GROW_FIRST and doubles; the elements are
 * kept; a size too large for size_t is refused with the array as it
 * was. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "grow.h"

static void test_doubles_and_keeps(void **state)
{
	(void)state;
	int *v = NULL;
	size_t cap = 0, n = 0;
	size_t caps[8];
	int grew = 0;
	for (int i = 0; i < 100; i++) {
		size_t before = cap;
		v = grow(v, &cap, n, sizeof *v);
		assert_non_null(v);
		if (cap != before && grew < 8)
			caps[grew++] = cap;
		v[n++] = i * 3;
	}
	assert_int_equal(grew, 4);
	for (int i = 0; i < grew; i++)
		assert_int_equal(caps[i], (size_t)GROW_FIRST << i);
	for (int i = 0; i < 100; i++)
		assert_int_equal(v[i], i * 3);
	free(v);
}

/* Room left: the same array, untouched capacity. */
static void test_room_left(void **state)
{
	(void)state;
	size_t cap = 0;
	char *v = grow(NULL, &cap, 0, 1);
	assert_non_null(v);
	assert_int_equal(cap, GROW_FIRST);
	assert_ptr_equal(grow(v, &cap, GROW_FIRST - 1, 1), v);
	assert_int_equal(cap, GROW_FIRST);
	free(v);
}

/* Sizes past size_t are no allocation, and change nothing. */
static void test_overflow(void **state)
{
	(void)state;
	size_t cap = 0;
	assert_null(grow(NULL, &cap, 0, SIZE_MAX / 8));
	assert_int_equal(cap, 0);
	char *v = grow(NULL, &cap, 0, 1);
	assert_non_null(v);
	size_t big = SIZE_MAX / 2 + 1;
	size_t huge = big;
	assert_null(grow(v, &huge, big, 1)); /* doubling would wrap */
	assert_int_equal(huge, big);
	assert_null(grow(v, &cap, cap, 0));
	assert_int_equal(cap, GROW_FIRST);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_and_keeps),
		cmocka_unit_test(test_room_left),
		cmocka_unit_test(test_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
