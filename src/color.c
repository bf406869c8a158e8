#include "color.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The CSS Color Module Level 4 named colours, sorted for bsearch.  Keywords
 * that are not a fixed colour (transparent, currentcolor, system colours)
 * are left out on purpose. */
static const char *const color_names[] = {
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

/* strcasecmp is ASCII here: of the locale, only LC_COLLATE is ever set
 * (main.c), so a Turkish LANG cannot make "I" and "i" differ. */
static int compare_name(const void *key, const void *elem)
{
	return strcasecmp(key, *(const char *const *)elem);
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool is_hex_color(const char *s, size_t len)
{
	if (s[0] != '#' || (len != 4 && len != 7))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

bool color_is_valid(const char *s)
{
	if (!s)
		return false;
	size_t len = strnlen(s, COLOR_MAX + 1);
	if (len == 0 || len > COLOR_MAX)
		return false;
	if (s[0] == '#')
		return is_hex_color(s, len);
	return bsearch(s, color_names,
	               sizeof color_names / sizeof color_names[0],
	               sizeof color_names[0], compare_name) != NULL;
}
