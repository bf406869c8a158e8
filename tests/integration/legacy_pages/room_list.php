<?php
// The reads of the old room_list.php, for tests/integration/upgrade_layouts.test.js.
// Usage: php room_list.php BASE_DIR [INI]
// Every name in users/ but . and .. is "<room>_<user>": split on '_', it
// prints "<room>\t<user>" per file, then "stable\t<room>\t<description>" for
// each room of the ini's [room descriptions].  A name without '_' makes PHP
// warn "Undefined array key 1", as the old page did.
$base = rtrim($argv[1], '/');
$users = scandir($base . '/users/');
if ($users === false) {
    exit(1);
}
foreach ($users as $f) {
    if ($f == '.' || $f == '..') {
        continue;
    }
    $parts = explode('_', $f);
    $room = $parts[0];
    $user = $parts[1];
    echo $room, "\t", $user, "\n";
}
if (isset($argv[2])) {
    $ini = parse_ini_file($argv[2], true);
    if ($ini === false) {
        exit(1);
    }
    foreach ($ini['room descriptions'] ?? [] as $room => $description) {
        echo "stable\t", $room, "\t", $description, "\n";
    }
}
