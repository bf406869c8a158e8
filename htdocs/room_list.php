<?php
// room_list.php: the rooms with somebody in them and who, then the stable
// rooms of [room descriptions], which are listed even when empty.
declare(strict_types=1);

require __DIR__ . '/lib/boot.php';
require __DIR__ . '/lib/presence.php';

$cfg = chat_boot();
$live = chat_live_rooms($cfg);
$descriptions = $cfg['room descriptions'];

/** One room's entry: its link, its description, its members. */
function chat_room_entry(string $room, ?string $description, array $members): void
{
    echo '<li class="room">', "\n";
    echo '<a class="room-name" href="', chat_href('index.php', ['room' => $room]), '">', h($room), "</a>\n";
    if ($description !== null && $description !== '') {
        echo '<p class="description">', h($description), "</p>\n";
    }
    if ($members) {
        $count = count($members);
        echo '<p class="members"><span class="count">', $count, $count === 1 ? ' person' : ' people', ':</span> ';
        echo '<span class="names">';
        foreach ($members as $i => $m) {
            echo $i ? ', ' : '', '<span class="member" title="', h($m['color']), '">', h($m['name']),
                $m['verified'] ? ' <span class="verified" title="verified">✓</span>' : '', '</span>';
        }
        echo "</span></p>\n";
    } else {
        echo "<p class=\"members empty\">Nobody here yet.</p>\n";
    }
    echo "</li>\n";
}

chat_page_start('Chat rooms', 'room_list.php');
echo "<main>\n<h1>Chat rooms</h1>\n";
echo "<section aria-labelledby=\"live-rooms\">\n<h2 id=\"live-rooms\">Rooms in use</h2>\n";
if ($live) {
    echo "<ul class=\"rooms\" id=\"live\">\n";
    foreach ($live as $room => $members) {
        chat_room_entry((string)$room, $descriptions[$room] ?? null, $members);
    }
    echo "</ul>\n";
} else {
    echo "<p>Nobody is chatting right now.</p>\n";
}
echo "</section>\n";

$stable = array_diff_key($descriptions, $live);
if ($stable) {
    echo "<section aria-labelledby=\"stable-rooms\">\n<h2 id=\"stable-rooms\">More rooms</h2>\n";
    echo "<ul class=\"rooms\" id=\"stable\">\n";
    foreach ($stable as $room => $description) {
        chat_room_entry((string)$room, $description, []);
    }
    echo "</ul>\n</section>\n";
}
echo '<p><a class="button" href="room_create.php">Create a room</a></p>', "\n</main>\n";
chat_page_end();
