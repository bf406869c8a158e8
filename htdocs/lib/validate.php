<?php
// Names, colours and room names, accepted exactly as chat_server accepts
// them (docs/web.md, "the one rule"): src/identity.c
// identity_name_is_clean with NAME_MAX_BYTES, src/color.c color_is_valid,
// src/room.c room_from_path_info.  tests/web/pages.test.js checks that the
// two agree.
declare(strict_types=1);

const CHAT_NAME_MAX_BYTES = 64;     // NAME_MAX_BYTES
const CHAT_COLOR_MAX = 32;          // COLOR_MAX
const CHAT_ROOM_NAME_MAX = 100;     // ROOM_NAME_MAX
// A claimed name may carry a number after the name (PRESENCE_NAME_MAX).
const CHAT_PRESENCE_NAME_MAX = CHAT_NAME_MAX_BYTES + 20;

// CSS Color Module Level 4 named colours, as src/color.c lists them:
// keywords that are no fixed colour (transparent, currentcolor) are left out.
const CHAT_COLOR_NAMES = [
    'aliceblue', 'antiquewhite', 'aqua', 'aquamarine', 'azure', 'beige',
    'bisque', 'black', 'blanchedalmond', 'blue', 'blueviolet', 'brown',
    'burlywood', 'cadetblue', 'chartreuse', 'chocolate', 'coral',
    'cornflowerblue', 'cornsilk', 'crimson', 'cyan', 'darkblue',
    'darkcyan', 'darkgoldenrod', 'darkgray', 'darkgreen', 'darkgrey',
    'darkkhaki', 'darkmagenta', 'darkolivegreen', 'darkorange',
    'darkorchid', 'darkred', 'darksalmon', 'darkseagreen',
    'darkslateblue', 'darkslategray', 'darkslategrey', 'darkturquoise',
    'darkviolet', 'deeppink', 'deepskyblue', 'dimgray', 'dimgrey',
    'dodgerblue', 'firebrick', 'floralwhite', 'forestgreen', 'fuchsia',
    'gainsboro', 'ghostwhite', 'gold', 'goldenrod', 'gray', 'green',
    'greenyellow', 'grey', 'honeydew', 'hotpink', 'indianred', 'indigo',
    'ivory', 'khaki', 'lavender', 'lavenderblush', 'lawngreen',
    'lemonchiffon', 'lightblue', 'lightcoral', 'lightcyan',
    'lightgoldenrodyellow', 'lightgray', 'lightgreen', 'lightgrey',
    'lightpink', 'lightsalmon', 'lightseagreen', 'lightskyblue',
    'lightslategray', 'lightslategrey', 'lightsteelblue', 'lightyellow',
    'lime', 'limegreen', 'linen', 'magenta', 'maroon', 'mediumaquamarine',
    'mediumblue', 'mediumorchid', 'mediumpurple', 'mediumseagreen',
    'mediumslateblue', 'mediumspringgreen', 'mediumturquoise',
    'mediumvioletred', 'midnightblue', 'mintcream', 'mistyrose',
    'moccasin', 'navajowhite', 'navy', 'oldlace', 'olive', 'olivedrab',
    'orange', 'orangered', 'orchid', 'palegoldenrod', 'palegreen',
    'paleturquoise', 'palevioletred', 'papayawhip', 'peachpuff', 'peru',
    'pink', 'plum', 'powderblue', 'purple', 'rebeccapurple', 'red',
    'rosybrown', 'royalblue', 'saddlebrown', 'salmon', 'sandybrown',
    'seagreen', 'seashell', 'sienna', 'silver', 'skyblue', 'slateblue',
    'slategray', 'slategrey', 'snow', 'springgreen', 'steelblue', 'tan',
    'teal', 'thistle', 'tomato', 'turquoise', 'violet', 'wheat', 'white',
    'whitesmoke', 'yellow', 'yellowgreen',
];

/** Well-formed UTF-8 without NUL (src/text.c text_is_utf8). */
function chat_is_utf8(string $s): bool
{
    // PCRE's UTF-8 check refuses overlong forms, surrogates and code points
    // past U+10FFFF, as text_is_utf8 does; NUL it allows, text_is_utf8 not.
    return preg_match('//u', $s) === 1 && !str_contains($s, "\0");
}

/**
 * identity_name_is_clean: valid UTF-8 without a C0 control, space, DEL, a C1
 * control or no-break space (U+0080..U+00A0), or any of / _ : , > < " ' \
 */
function chat_name_is_clean(string $name): bool
{
    if ($name === '' || !chat_is_utf8($name)) {
        return false;
    }
    // Byte-wise, on text known to be UTF-8: C2 80..C2 A0 is U+0080..U+00A0.
    return preg_match('/[\x00-\x20\x7f\/_:,<>"\'\\\\]|\xc2[\x80-\xa0]/', $name) === 0;
}

/** What the username form accepts: a clean name of at most 64 bytes. */
function chat_name_is_valid(string $name): bool
{
    return strlen($name) <= CHAT_NAME_MAX_BYTES && chat_name_is_clean($name);
}

/** presence_name_is_valid: what a claim can produce (a number may follow). */
function chat_presence_name_is_valid(string $name): bool
{
    return strlen($name) <= CHAT_PRESENCE_NAME_MAX && chat_name_is_clean($name);
}

/** color_is_valid: #rgb, #rrggbb or a colour keyword, in any (ASCII) case. */
function chat_color_is_valid(string $color): bool
{
    $len = strlen($color);
    if ($len === 0 || $len > CHAT_COLOR_MAX) {
        return false;
    }
    if ($color[0] === '#') {
        return preg_match('/^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$/D', $color) === 1;
    }
    // strtolower is ASCII-only since PHP 8.2, as strcasecmp in the C locale.
    return in_array(strtolower($color), CHAT_COLOR_NAMES, true);
}

/**
 * The room of a request, as room_from_path_info makes it from PATH_INFO:
 * the first /-separated segment, leading slashes skipped, each space and _
 * made -.  Returns [room, null], or [null, why] for a name chat_server
 * refuses (the reasons are src/room.c's).
 *
 * @return array{0: ?string, 1: ?string}
 */
function chat_room_from_param(string $param): array
{
    $seg = ltrim($param, '/');
    $slash = strpos($seg, '/');
    if ($slash !== false) {
        $seg = substr($seg, 0, $slash);
    }
    $why = null;
    if ($seg === '') {
        $why = 'The room name is missing.';
    } elseif (strlen($seg) > CHAT_ROOM_NAME_MAX) {
        $why = 'The room name is too long: it may have at most ' . CHAT_ROOM_NAME_MAX . ' bytes.';
    } elseif (preg_match('//u', $seg) !== 1) {
        $why = 'The room name is not valid UTF-8 text.';
    } elseif (preg_match('/[\x00-\x1f\x7f]|\xc2[\x80-\x9f]/', $seg) === 1) {
        $why = 'The room name contains a control character.';
    } elseif ($seg[0] === '.') {
        $why = 'The room name must not start with a dot.';
    } elseif (strpbrk($seg, "\\<>&\"'`") !== false) {
        $why = 'The room name must not contain any of \\ < > & " \' `.';
    }
    if ($why !== null) {
        return [null, $why];
    }
    return [strtr($seg, ' _', '--'), null];
}
