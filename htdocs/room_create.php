<?php
// room_create.php: names a new room and opens it.  A room exists once
// somebody is in it, so "creating" it is going there; the name is checked
// here first, so that a refused name gets a clear message and not a chat
// that cannot connect.  A GET form: it changes nothing on the server.
declare(strict_types=1);

require __DIR__ . '/lib/boot.php';

$cfg = chat_boot();
$name = is_string($_GET['name'] ?? null) ? $_GET['name'] : null;
$error = null;
if ($name !== null) {
    // The address takes the first segment only; a form must not drop
    // the rest without a word.
    [$room, $error] = str_contains($name, '/')
        ? [null, 'The room name must not contain /.']
        : chat_room_from_param(trim($name, ' '));
    if ($room !== null) {
        header('Location: index.php?room=' . rawurlencode($room), true, 303);
        exit;
    }
    http_response_code(400);
}

chat_page_start('Create room', 'room_create.php');
echo "<main>\n<h1>Create a room</h1>\n";
if ($error !== null) {
    echo '<div class="error" role="alert"><p>', h($error), "</p></div>\n";
}
echo "<p>A room exists while somebody is in it; its log stays in the history.",
    " Spaces and _ in the name become -.</p>\n";
echo "<form method=\"get\" action=\"room_create.php\" class=\"stack\">\n";
echo "<p class=\"field\">\n<label for=\"name\">Room name</label>\n";
echo '<input type="text" id="name" name="name" required maxlength="100" value="', h($name ?? ''), '"',
    $error !== null ? ' aria-invalid="true"' : '', ">\n</p>\n";
echo "<p><button type=\"submit\">Open the room</button></p>\n</form>\n</main>\n";
chat_page_end();
