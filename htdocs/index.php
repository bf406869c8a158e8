<?php
// index.php?room=NAME: the chat of one room.  Without a room: the room list.
// The chat itself (<main id="chat">) is the client's, lib/chat_markup.php;
// chat_server reads the user's name from the session by itself.
declare(strict_types=1);

require __DIR__ . '/lib/boot.php';

$cfg = chat_boot();
$param = $_GET['room'] ?? null;
if (!is_string($param) || $param === '') {
    header('Location: room_list.php', true, 302);
    exit;
}
[$room, $why] = chat_room_from_param($param);
if ($room === null) {
    chat_message_page(400, 'No such room', $why);
    exit;
}

require __DIR__ . '/lib/chat_markup.php';

chat_page_start($room, '', ['js/main.js']);
chat_page_body($cfg, $room);
chat_page_end();
