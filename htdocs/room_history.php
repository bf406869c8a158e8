<?php
// room_history.php?file=F: one room log, readable: user lists and WebRTC
// signalling left out, whispers shown only as who whispered to whom.
// &download=1: the log itself, as plain text.  F must be the name of a log
// listed in rooms/ (see chat_history_path): nothing else can be read.
declare(strict_types=1);

require __DIR__ . '/lib/boot.php';
require __DIR__ . '/lib/history.php';

$cfg = chat_boot();
$file = $_GET['file'] ?? null;
$path = is_string($file) ? chat_history_path($cfg, $file) : null;
if ($path === null) {
    chat_message_page(404, 'No such history', 'There is no room log of that name. The history lists them all.');
    exit;
}
$gz = str_ends_with($path, '.gz');
$fp = chat_history_open($path);
if ($fp === false) {
    error_log("chat pages: cannot read $path");
    chat_message_page(500, 'Cannot read the history', 'This log cannot be read now.');
    exit;
}

if (($_GET['download'] ?? '') === '1') {
    $name = chat_history_download_name($file);
    // A plain ASCII filename for every browser, and the exact one for
    // those that read RFC 6266's filename*.  One _ per character, or per
    // byte of a name that is no UTF-8.
    $ascii = preg_replace('/[^A-Za-z0-9._-]/u', '_', $name) ?? preg_replace('/[^A-Za-z0-9._-]/', '_', $name);
    header('Content-Type: text/plain; charset=utf-8');
    header("Content-Disposition: attachment; filename=\"$ascii\"; filename*=UTF-8''" . rawurlencode($name));
    if (!$gz) {
        $size = fstat($fp)['size'] ?? null;
        if (is_int($size)) {
            header("Content-Length: $size");
        }
        fpassthru($fp);
    } else {
        while (!gzeof($fp) && ($chunk = gzread($fp, 65536)) !== false && $chunk !== '') {
            echo $chunk;
        }
    }
    exit;
}

$room = chat_history_room($file);
chat_page_start("History of $room");
echo "<main>\n<h1>History of ", h($room), "</h1>\n";
echo '<p class="meta">', h($file), ' · <a href="', chat_href('room_history.php', ['file' => $file, 'download' => '1']),
    '">Download</a> · <a href="room_list_historical.php">All histories</a></p>', "\n";
echo "<ol class=\"log\">\n";
$shown = 0;
foreach (chat_history_events($fp, $gz) as $e) {
    $shown++;
    echo '<li class="', h($e['type']), '"', $e['from'] !== '' ? ' data-from="' . h($e['from']) . '"' : '', '>';
    if ($e['time'] !== '') {
        echo '<time>', h($e['time']), '</time> ';
    }
    if ($e['type'] === 'message' || $e['type'] === 'command') {
        echo '<span class="from">', h($e['from']), '</span> ';
    }
    echo '<span class="text">', h($e['text']), "</span></li>\n";
}
echo "</ol>\n";
if ($shown === 0) {
    echo "<p>Nothing in this log is for everyone's eyes.</p>\n";
}
echo "</main>\n";
chat_page_end();
