<?php
// room_list_historical.php: every room log and rotated copy in rooms/ that
// is not empty, newest first, with its size and time.
declare(strict_types=1);

require __DIR__ . '/lib/boot.php';
require __DIR__ . '/lib/history.php';

$cfg = chat_boot();
$files = chat_history_files($cfg);

/** 1234567 -> "1.2 MB" */
function chat_size_text(int $bytes): string
{
    if ($bytes < 1000) {
        return "$bytes B";
    }
    foreach (['kB', 'MB', 'GB', 'TB'] as $unit) {
        $bytes /= 1000;
        if ($bytes < 1000 || $unit === 'TB') {
            return sprintf($bytes < 10 ? '%.1f %s' : '%.0f %s', $bytes, $unit);
        }
    }
    return '';
}

chat_page_start('History', 'room_list_historical.php');
echo "<main>\n<h1>History</h1>\n";
if (!$files) {
    echo "<p>No room has a history yet.</p>\n";
} else {
    echo "<table class=\"history\">\n<thead><tr><th scope=\"col\">Log</th><th scope=\"col\">Room</th>",
        "<th scope=\"col\">Last written</th><th scope=\"col\" class=\"num\">Size</th><th scope=\"col\"><span class=\"visually-hidden\">Download</span></th></tr></thead>\n<tbody>\n";
    foreach ($files as $f) {
        $iso = date('c', $f['mtime']);
        echo '<tr><td><a href="', chat_href('room_history.php', ['file' => $f['name']]), '">', h($f['name']), '</a></td>',
            '<td>', h(chat_history_room($f['name'])), '</td>',
            '<td><time datetime="', h($iso), '">', h(date('Y-m-d H:i T', $f['mtime'])), '</time></td>',
            '<td class="num" data-bytes="', $f['size'], '">', h(chat_size_text($f['size'])), '</td>',
            '<td><a href="', chat_href('room_history.php', ['file' => $f['name'], 'download' => '1']), '">Download</a></td>',
            "</tr>\n";
    }
    echo "</tbody>\n</table>\n";
}
echo "</main>\n";
chat_page_end();
