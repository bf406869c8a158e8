/* grow: the capacity starts at GROW_FIRST and doubles; the elements are
 * kept; a size too large for size_t is refused with the array as it
 * was.  grow_shrink halves it once a quarter or less is used, and
 * releases it empty. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "pages.h"

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
	grow_free(v, cap, sizeof *v);
}

/* Past PAGES_WORTH_FROM bytes an array is pages of its own (page-aligned,
 * as no block of the C library's heap is), its elements kept across the
 * move from the heap and from pages to larger pages. */
static void test_large_in_pages(void **state)
{
	(void)state;
	struct item { char bytes[100]; } *v = NULL;
	size_t cap = 0, n = 0;
	for (int i = 0; i < 200; i++) {
		v = grow(v, &cap, n, sizeof *v);
		assert_non_null(v);
		bool large = cap * sizeof *v >= PAGES_WORTH_FROM;
		assert_int_equal((uintptr_t)v % 4096 == 0, large);
		memset(v[n++].bytes, i, sizeof v->bytes);
	}
	for (int i = 0; i < 200; i++)
		for (size_t j = 0; j < sizeof v->bytes; j++)
			assert_int_equal(v[i].bytes[j], (char)i);
	grow_free(v, cap, sizeof *v);
	grow_free(NULL, 0, sizeof *v);
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
	grow_free(v, cap, 1);
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
	grow_free(v, cap, 1);
}

/* A crowd of 500 gone down to 50, to 5, to none: the capacity follows
 * (pages of its own to the heap), the elements are kept, and an array
 * still more than a quarter full is left as it is. */
static void test_shrink(void **state)
{
	(void)state;
	struct item { char bytes[100]; } *v = NULL;
	size_t cap = 0, n = 0;
	for (int i = 0; i < 500; i++) {
		v = grow(v, &cap, n, sizeof *v);
		assert_non_null(v);
		memset(v[n++].bytes, i, sizeof v->bytes);
	}
	assert_int_equal(cap, 512);
	assert_ptr_equal(grow_shrink(v, &cap, 129, sizeof *v), v);
	assert_int_equal(cap, 512);
	n = 50;
	v = grow_shrink(v, &cap, n, sizeof *v);
	assert_non_null(v);
	assert_int_equal(cap, 128); /* 50 fills more than a quarter of it */
	assert_int_equal((uintptr_t)v % 4096, 0); /* still worth pages */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].bytes[99], (char)i);
	n = 5;
	v = grow_shrink(v, &cap, n, sizeof *v);
	assert_int_equal(cap, GROW_FIRST); /* never below */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].bytes[0], (char)i);
	v = grow(v, &cap, n, sizeof *v); /* grows again from there */
	assert_int_equal(cap, GROW_FIRST);
	v = grow_shrink(v, &cap, 0, sizeof *v);
	assert_null(v);
	assert_int_equal(cap, 0);
	assert_null(grow_shrink(NULL, &cap, 0, sizeof *v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_and_keeps),
		cmocka_unit_test(test_large_in_pages),
		cmocka_unit_test(test_room_left),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_shrink),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
