/* color: which colours a user may choose.
 *
 * A colour ends up in the browser's HTML and CSS, so only real CSS colours
 * pass: #rgb, #rrggbb or a CSS colour keyword (case-insensitive). */
#ifndef CHAT_COLOR_H
#define CHAT_COLOR_H

#include <stdbool.h>

#define COLOR_MAX 32 /* longest accepted colour, in bytes */
#define COLOR_DEFAULT "Gray"

bool color_is_valid(const char *s);

#endif
