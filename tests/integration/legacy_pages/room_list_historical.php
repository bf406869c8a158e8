<?php
// The reads of the old room_list_historical.php, for
// tests/integration/upgrade_layouts.test.js.
// Usage: php room_list_historical.php BASE_DIR
// Every regular file of rooms/ with a size above 0 is a history file:
// "<name>\t<size>\t<mtime>" per file, newest first.
$dir = rtrim($argv[1], '/') . '/rooms/';
$names = scandir($dir);
if ($names === false) {
    exit(1);
}
$found = [];
foreach ($names as $f) {
    if (is_file($dir . $f) && filesize($dir . $f) > 0) {
        $found[$f] = filemtime($dir . $f);
    }
}
arsort($found);
foreach ($found as $f => $mtime) {
    echo $f, "\t", filesize($dir . $f), "\t", date('Y-m-d H:i:s', $mtime), "\n";
}
