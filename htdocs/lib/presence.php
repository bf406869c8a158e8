<?php
// Who is in which room: the presence files users/<room>_<name> of
// chat_server (docs/protocol.md, "Presence").  A file counts only while
// its process lives: a live member holds an exclusive flock on its file, so
// a shared lock that can be taken means the member is dead, and the file
// is skipped (the warden removes it; the pages only read).
declare(strict_types=1);

require_once __DIR__ . '/validate.php';

/** Whether a directory entry is a regular file, not following symlinks. */
function chat_is_regular_file(string $path): ?array
{
    $st = @lstat($path);
    if ($st === false || ($st['mode'] & 0170000) !== 0100000) {
        return null;
    }
    return $st;
}

/**
 * The colour of a live member's file, or null when the file is no live
 * member's (dead, gone, replaced since it was listed, unreadable).
 */
function chat_live_member_color(string $path, array $st): ?string
{
    $m = chat_live_member($path, $st);
    return $m === null ? null : $m['color'];
}

/**
 * A live member's colour (the first line of its file) and whether its
 * name is verified (a second line "verified": a token or OpenSSO vouched
 * for it, docs/identity.md), or null as for chat_live_member_color.
 *
 * @return array{color: string, verified: bool}|null
 */
function chat_live_member(string $path, array $st): ?array
{
    $fp = @fopen($path, 'rb');
    if ($fp === false) {
        return null;
    }
    try {
        $now = fstat($fp);
        if ($now === false || $now['ino'] !== $st['ino'] || $now['dev'] !== $st['dev']) {
            return null; // swapped for something else since lstat
        }
        $wouldBlock = 0;
        if (flock($fp, LOCK_SH | LOCK_NB, $wouldBlock)) {
            return null; // nobody holds it: its process is dead
        }
        if (!$wouldBlock) {
            return null; // cannot be told: not shown as present
        }
        $line = (string)fgets($fp, CHAT_COLOR_MAX + 2);
        $color = rtrim($line, "\n");
        $verified = str_ends_with($line, "\n") && fgets($fp, 16) === "verified\n";
        return ['color' => chat_color_is_valid($color) ? $color : 'Gray', 'verified' => $verified];
    } finally {
        fclose($fp); // drops our lock, if we took one
    }
}

/**
 * The live rooms: room => list of ['name' => ..., 'color' => ...,
 * 'verified' => ...], rooms
 * and names in a stable, case-insensitive order.  Entries that no claim
 * of chat_server can make (no _, a hidden name, a name it refuses, not a
 * regular file) are skipped, whatever else put them there.
 *
 * @return array<string, list<array{name: string, color: string, verified: bool}>>
 */
function chat_live_rooms(array $cfg): array
{
    $dir = $cfg['USERS_DIR'];
    $entries = @scandir($dir);
    if ($entries === false) {
        if (file_exists($dir)) {
            // Not "nobody is here" in silence: the permissions are wrong.
            error_log("chat pages: cannot list $dir (USERS_DIR)");
        }
        return []; // no users/ yet: nobody has joined
    }
    $rooms = [];
    foreach ($entries as $file) {
        $sep = strpos($file, '_');
        if ($sep === false || $sep === 0) {
            continue;
        }
        [$room, $err] = chat_room_from_param(substr($file, 0, $sep));
        $name = substr($file, $sep + 1);
        if ($err !== null || $room !== substr($file, 0, $sep) || !chat_presence_name_is_valid($name)) {
            continue;
        }
        $st = chat_is_regular_file("$dir/$file");
        if ($st === null) {
            continue;
        }
        $m = chat_live_member("$dir/$file", $st);
        if ($m !== null) {
            $rooms[$room][] = ['name' => $name, 'color' => $m['color'], 'verified' => $m['verified']];
        }
    }
    uksort($rooms, 'strnatcasecmp');
    foreach ($rooms as &$members) {
        usort($members, fn (array $a, array $b): int => strnatcasecmp($a['name'], $b['name']));
    }
    unset($members);
    return $rooms;
}
