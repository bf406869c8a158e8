#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "color.h"

/* Written out again here, from the CSS Color Module Level 4 list, so that a
 * name lost from (or misplaced in) the module's sorted table shows up. */
static const char *const css_names[] = {
	"aliceblue", "antiquewhite", "aqua", "aquamarine", "azure", "beige",
	"bisque", "black", "blanchedalmond", "blue", "blueviolet", "brown",
	"burlywood", "cadetblue", "chartreuse", "chocolate", "coral",
	"cornflowerblue", "cornsilk", "crimson", "cyan", "darkblue",
	"darkcyan", "darkgoldenrod", "darkgray", "darkgreen", "darkgrey",
	"darkkhaki", "darkmagenta", "darkolivegreen", "darkorange",
	"darkorchid", "darkred", "darksalmon", "darkseagreen",
	"darkslateblue", "darkslategray", "darkslategrey", "darkturquoise",
	"darkviolet", "deeppink", "deepskyblue", "dimgray", "dimgrey",
	"dodgerblue", "firebrick", "floralwhite", "forestgreen", "fuchsia",
	"gainsboro", "ghostwhite", "gold", "goldenrod", "gray", "green",
	"greenyellow", "grey", "honeydew", "hotpink", "indianred", "indigo",
	"ivory", "khaki", "lavender", "lavenderblush", "lawngreen",
	"lemonchiffon", "lightblue", "lightcoral", "lightcyan",
	"lightgoldenrodyellow", "lightgray", "lightgreen", "lightgrey",
	"lightpink", "lightsalmon", "lightseagreen", "lightskyblue",
	"lightslategray", "lightslategrey", "lightsteelblue", "lightyellow",
	"lime", "limegreen", "linen", "magenta", "maroon", "mediumaquamarine",
	"mediumblue", "mediumorchid", "mediumpurple", "mediumseagreen",
	"mediumslateblue", "mediumspringgreen", "mediumturquoise",
	"mediumvioletred", "midnightblue", "mintcream", "mistyrose",
	"moccasin", "navajowhite", "navy", "oldlace", "olive", "olivedrab",
	"orange", "orangered", "orchid", "palegoldenrod", "palegreen",
	"paleturquoise", "palevioletred", "papayawhip", "peachpuff", "peru",
	"pink", "plum", "powderblue", "purple", "rebeccapurple", "red",
	"rosybrown", "royalblue", "saddlebrown", "salmon", "sandybrown",
	"seagreen", "seashell", "sienna", "silver", "skyblue", "slateblue",
	"slategray", "slategrey", "snow", "springgreen", "steelblue", "tan",
	"teal", "thistle", "tomato", "turquoise", "violet", "wheat", "white",
	"whitesmoke", "yellow", "yellowgreen",
};

#define NNAMES (sizeof css_names / sizeof css_names[0])

static void test_all_named_colors(void **state)
{
	(void)state;
	assert_int_equal(NNAMES, 148);
	for (size_t i = 0; i < NNAMES; i++)
		if (!color_is_valid(css_names[i]))
			fail_msg("refused: %s", css_names[i]);
}

static void test_names_any_case(void **state)
{
	(void)state;
	char s[COLOR_MAX + 1];
	for (size_t i = 0; i < NNAMES; i++) {
		size_t n = strlen(css_names[i]);
		for (size_t j = 0; j <= n; j++)
			s[j] = (char)toupper((unsigned char)css_names[i][j]);
		assert_true(color_is_valid(s));
		for (size_t j = 0; j < n; j += 2)
			s[j] = css_names[i][j];
		assert_true(color_is_valid(s));
	}
	assert_true(color_is_valid(COLOR_DEFAULT));
	assert_true(color_is_valid("Gray"));
	assert_true(color_is_valid("GREY"));
	assert_true(color_is_valid("RebeccaPurple"));
	assert_true(color_is_valid("lightGoldenRodYellow"));
}

static void test_names_not_in_table(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"transparent", "currentcolor", "CurrentColor", "inherit",
		"initial", "none", "Canvas", "ButtonFace", "gra", "grayy",
		"gray2", "aliceblu", "yellowgreenx", "aaa", "zzz", "0",
		"red ", " red", "red\n", "r ed", "rgb(1,2,3)", "hsl(0,0%,0%)",
		"gr\xd0\xb0y", /* Cyrillic a */
		"red;background:url(x)", "red\"onclick=x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (color_is_valid(bad[i]))
			fail_msg("accepted: %s", bad[i]);
}

static void test_hex(void **state)
{
	(void)state;
	static const char *const good[] = {
		"#000", "#fff", "#FFF", "#aBc", "#09f", "#000000", "#ffffff",
		"#FFFFFF", "#aBc123", "#ff0000", "#0a0B0c",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!color_is_valid(good[i]))
			fail_msg("refused: %s", good[i]);
}

static void test_bad_hex(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"#", "#f", "#ff", "#ff00", "#ff000", "#ff00000", "#ff00ff00",
		"#ggg", "#12345g", "#xyz", "# abc", "#abc ", "##abc", "#-12",
		"#+12", "abc", "fff", "ff0000", "#abc;", "#abc\n",
		"#\xc3\xa9" "a",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (color_is_valid(bad[i]))
			fail_msg("accepted: %s", bad[i]);
}

static void test_empty_and_null(void **state)
{
	(void)state;
	assert_false(color_is_valid(NULL));
	assert_false(color_is_valid(""));
}

static void test_length_limit(void **state)
{
	(void)state;
	char s[COLOR_MAX + 2];

	/* Too long is refused before anything else looks at it. */
	memset(s, 'a', COLOR_MAX + 1);
	s[COLOR_MAX + 1] = '\0';
	assert_false(color_is_valid(s));

	static char huge[100000];
	memset(huge, 'f', sizeof huge - 1);
	huge[0] = '#';
	assert_false(color_is_valid(huge));
}

static void test_reads_at_most_limit(void **state)
{
	(void)state;
	/* Not NUL-terminated within COLOR_MAX + 1 bytes: the answer must come
	 * without reading further (ASan watches the heap block). */
	char *s = malloc(COLOR_MAX + 1);
	assert_non_null(s);
	memset(s, 'a', COLOR_MAX + 1);
	assert_false(color_is_valid(s));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_named_colors),
		cmocka_unit_test(test_names_any_case),
		cmocka_unit_test(test_names_not_in_table),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_bad_hex),
		cmocka_unit_test(test_empty_and_null),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_reads_at_most_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
