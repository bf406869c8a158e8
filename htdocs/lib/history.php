<?php
// Room logs for the history pages: which files of rooms/ are logs, and
// what a log line is (the line formats of docs/protocol.md).
declare(strict_types=1);

require_once __DIR__ . '/presence.php';

/**
 * Whether a name in rooms/ is a room log or a rotated copy of one:
 * <room>.log, <room>.log-YYYYMMDD (logrotate's dateext, any digits and
 * dashes), maybe compressed (.gz).  Hidden names (.rotating) are not.
 */
function chat_is_log_name(string $name): bool
{
    return $name !== '' && $name[0] !== '.' && !str_contains($name, '/')
        && preg_match('/\.log(-[0-9][0-9-]*)?(\.gz)?$/D', $name) === 1;
}

/**
 * The logs worth listing: non-empty regular files with a log's name,
 * newest first.
 *
 * @return list<array{name: string, size: int, mtime: int}>
 */
function chat_history_files(array $cfg): array
{
    $dir = $cfg['ROOMS_DIR'];
    $entries = @scandir($dir);
    if ($entries === false) {
        if (file_exists($dir)) {
            error_log("chat pages: cannot list $dir (ROOMS_DIR)");
        }
        return [];
    }
    $found = [];
    foreach ($entries as $name) {
        if (!chat_is_log_name($name)) {
            continue;
        }
        $st = chat_is_regular_file("$dir/$name");
        if ($st !== null && $st['size'] > 0) {
            $found[] = ['name' => $name, 'size' => (int)$st['size'], 'mtime' => (int)$st['mtime']];
        }
    }
    usort($found, fn (array $a, array $b): int => [$b['mtime'], $a['name']] <=> [$a['mtime'], $b['name']]);
    return $found;
}

/**
 * The path of the log named $file, or null.  The name must be one that
 * scandir lists in rooms/, a log's name, and a regular file: nothing the
 * visitor writes can name a path elsewhere (no /, no dot files, no symlink).
 */
function chat_history_path(array $cfg, string $file): ?string
{
    if (!chat_is_log_name($file) || str_contains($file, "\0")) {
        return null;
    }
    $dir = $cfg['ROOMS_DIR'];
    $entries = @scandir($dir);
    if ($entries === false || !in_array($file, $entries, true)) {
        return null;
    }
    return chat_is_regular_file("$dir/$file") !== null ? "$dir/$file" : null;
}

/** Opens a log for reading, uncompressing a .gz copy; false on failure. */
function chat_history_open(string $path)
{
    if (str_ends_with($path, '.gz')) {
        return @gzopen($path, 'rb');
    }
    return @fopen($path, 'rb');
}

/** The room of a log's name: lobby.log-20260101.gz -> lobby. */
function chat_history_room(string $file): string
{
    return (string)preg_replace('/\.log(-[0-9][0-9-]*)?(\.gz)?$/D', '', $file);
}

/** A name for the downloaded copy: what the file is called, uncompressed. */
function chat_history_download_name(string $file): string
{
    return (string)preg_replace('/\.gz$/D', '', $file);
}

/**
 * Reads a log as the history page shows it.  Each line becomes an event
 * array with 'type' (message, command, whisper, join, quit, other),
 * 'time' ('' when the line has none), 'from', 'to' and 'text' as the type
 * has them.  Not shown at all: user lists and WebRTC signalling.  A
 * whisper is shown as "<from> whispers something to <target>", never its
 * text, whatever WHISPER_LOG says (see docs/web.md, "The history pages").
 *
 * @param resource $fp
 * @return iterable<array{type: string, time: string, from: string, to: string, text: string}>
 */
function chat_history_events($fp, bool $gz): iterable
{
    // The members of the last user list; null until one is read.
    $members = null;
    while (($line = $gz ? gzgets($fp) : fgets($fp)) !== false) {
        $line = rtrim($line, "\n");
        $event = chat_log_line_event($line, $members);
        if ($event !== null) {
            yield $event;
        }
    }
}

/**
 * One log line as an event, or null for a line that is not shown.
 * $members: the names of the last user list (updated here), null before.
 */
function chat_log_line_event(string $line, ?array &$members): ?array
{
    $e = ['type' => 'other', 'time' => '', 'from' => '', 'to' => '', 'text' => $line];
    if (preg_match('/^\[(\d\d:\d\d:\d\d)\] (.*)$/sD', $line, $m)) {
        $e['time'] = $m[1];
        $rest = $m[2];
    } else {
        return $line === '' ? null : $e;
    }
    $e['text'] = $rest;
    if (str_starts_with($rest, 'Userlist: ') || $rest === 'Userlist:') {
        $members = chat_userlist_names(substr($rest, strlen('Userlist: ')));
        return null;
    }
    if (preg_match('/^([^ ]+) (joined|quit) the ([^ ]+)$/D', $rest, $m)) {
        return ['type' => $m[2] === 'joined' ? 'join' : 'quit', 'from' => $m[1], 'text' => $rest] + $e;
    }
    if (preg_match('/^([^ ]+) whispers something to ([^ ]+)$/D', $rest, $m)) {
        return ['type' => 'whisper', 'from' => $m[1], 'to' => $m[2]] + $e;
    }
    if (!preg_match('/^([^ >]+)> (.*)$/sD', $rest, $m)) {
        return $e;
    }
    [$from, $text] = [$m[1], $m[2]];
    if (str_starts_with($text, ' ')) {
        return ['type' => 'command', 'from' => $from, 'text' => substr($text, 1)] + $e;
    }
    // "<word>: ..." (or "<word>:") to a member is private: a whisper, or
    // signalling when its text is JSON.  Before the first user list nobody
    // can tell, and privacy wins: such lines count as private too.
    if (preg_match('/^([^ ]+):(?: (.*))?$/sD', $text, $w)
        && ($members === null || isset($members[$w[1]]))) {
        if (str_starts_with($w[2] ?? '', '{')) {
            return null;
        }
        return ['type' => 'whisper', 'from' => $from, 'to' => $w[1],
            'text' => "$from whispers something to {$w[1]}"] + $e;
    }
    return ['type' => 'message', 'from' => $from, 'text' => $text] + $e;
}

/** "a:#f00,b:Gray," -> ['a' => true, 'b' => true] */
function chat_userlist_names(string $list): array
{
    $names = [];
    foreach (explode(',', $list) as $entry) {
        $colon = strpos($entry, ':');
        $name = $colon === false ? $entry : substr($entry, 0, $colon);
        if ($name !== '') {
            $names[$name] = true;
        }
    }
    return $names;
}
