<?php
// The reads of the old room_history.php?file=F, for
// tests/integration/upgrade_layouts.test.js.
// Usage: php room_history.php BASE_DIR F
// F is accepted only when it is a name in rooms/; then the file is read
// with file() and its lines are printed as read.
$dir = rtrim($argv[1], '/') . '/rooms/';
$file = $argv[2];
$names = scandir($dir);
if ($names === false || !in_array($file, $names, true)) {
    echo "no such history: ", $file, "\n";
    exit(2);
}
$lines = file($dir . $file);
if ($lines === false) {
    exit(1);
}
foreach ($lines as $line) {
    echo $line;
}
