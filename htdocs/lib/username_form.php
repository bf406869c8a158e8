<?php
// The username form, served as userconfig.php and as set_username.php (the
// names of the old pages): the name and colour chat_server shows, saved in
// the PHP session as "name:color" under "username".
declare(strict_types=1);

require_once __DIR__ . '/boot.php';
require_once __DIR__ . '/session.php';
require_once __DIR__ . '/csrf.php';

/** Handles the request for the page $self (its own URL, the form's action). */
function chat_username_page(string $self): void
{
    $cfg = chat_boot();
    try {
        chat_session_start($cfg);
    } catch (ChatConfigError $e) {
        chat_config_failed($e, $cfg);
    }
    [$room] = chat_room_from_param(is_string($_REQUEST['room'] ?? null) ? $_REQUEST['room'] : '');

    if (($_SERVER['REQUEST_METHOD'] ?? 'GET') === 'POST') {
        if (!chat_csrf_ok()) {
            session_abort(); // nothing of this request reaches the session
            chat_message_page(403, 'Form expired',
                'The form was not sent from this site, or has expired. Open it again and send it from there.');
            return;
        }
        // Spaces around the words are a slip of the keyboard, not part of them.
        $name = is_string($_POST['name'] ?? null) ? trim($_POST['name'], ' ') : '';
        $color = is_string($_POST['color'] ?? null) ? trim($_POST['color'], ' ') : '';
        $errors = chat_username_errors($name, $color);
        if ($errors) {
            session_abort();
            http_response_code(400);
            chat_username_form($self, $room, $name, $color, $errors, false);
            return;
        }
        $_SESSION['username'] = "$name:$color";
        // A new id for the named session: an id planted in the browser
        // before (session fixation) no longer carries the name.
        session_regenerate_id(true);
        session_write_close();
        $query = ['saved' => '1'] + ($room !== null ? ['room' => $room] : []);
        header('Location: ' . $self . '?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986), true, 303);
        return;
    }

    $id = chat_session_identity();
    chat_csrf_token();
    session_write_close();
    chat_username_form($self, $room, $id['name'] ?? '', $id['color'] ?? '', [], isset($_GET['saved']) && $id !== null);
}

/**
 * What is wrong with a name and colour, as messages for the form (none:
 * chat_server will show them exactly as given).
 *
 * @return array<string, string> field => message
 */
function chat_username_errors(string $name, string $color): array
{
    $errors = [];
    if ($name === '') {
        $errors['name'] = 'Enter a name.';
    } elseif (!chat_is_utf8($name)) {
        $errors['name'] = 'The name is not valid UTF-8 text.';
    } elseif (strlen($name) > CHAT_NAME_MAX_BYTES) {
        $errors['name'] = 'The name is too long: at most ' . CHAT_NAME_MAX_BYTES . ' bytes (fewer letters with accents).';
    } elseif (!chat_name_is_clean($name)) {
        $errors['name'] = 'A name cannot contain spaces, control characters or any of / _ : , > < " \' \\';
    }
    if ($color === '') {
        $errors['color'] = 'Enter a colour.';
    } elseif (!chat_color_is_valid($color)) {
        $errors['color'] = 'A colour is #rgb, #rrggbb or a CSS colour name such as red or darkblue.';
    }
    return $errors;
}

/** @param array<string, string> $errors */
function chat_username_form(string $self, ?string $room, string $name, string $color, array $errors, bool $saved): void
{
    chat_page_start('Your name', 'userconfig.php');
    echo "<main>\n<h1>Your name</h1>\n";
    if ($saved) {
        echo '<p class="notice" role="status">Saved. You are <strong>', h($name), "</strong>.";
        if ($room !== null) {
            echo ' <a href="', chat_href('index.php', ['room' => $room]), '">Back to ', h($room), '</a>';
        }
        echo "</p>\n";
    }
    if ($errors) {
        echo "<div class=\"error\" role=\"alert\"><p>Nothing was saved:</p><ul>\n";
        foreach ($errors as $message) {
            echo '<li>', h($message), "</li>\n";
        }
        echo "</ul></div>\n";
    }
    echo "<p>The name and colour others see in the chat rooms. They apply from the next room you enter.</p>\n";
    echo '<form method="post" action="', h($self), '" class="stack">', "\n";
    echo '<input type="hidden" name="', CHAT_CSRF_FIELD, '" value="', h(chat_csrf_token()), '">', "\n";
    if ($room !== null) {
        echo '<input type="hidden" name="room" value="', h($room), '">', "\n";
    }
    chat_username_field('name', 'Name', $name, $errors['name'] ?? null,
        'Up to 64 bytes; no spaces or / _ : , > < " \' \\', ['maxlength' => '64', 'autocomplete' => 'nickname']);
    chat_username_field('color', 'Color', $color, $errors['color'] ?? null,
        '#rgb, #rrggbb or a colour name such as red or darkblue', ['maxlength' => '32', 'list' => 'color-names']);
    echo "<datalist id=\"color-names\">\n";
    foreach (CHAT_COLOR_NAMES as $c) {
        echo '<option value="', h($c), '">', "\n";
    }
    echo "</datalist>\n";
    echo "<p><button type=\"submit\">Save</button></p>\n</form>\n</main>\n";
    chat_page_end();
}

/** One labelled text field with its hint and error. */
function chat_username_field(string $field, string $label, string $value, ?string $error, string $hint, array $attrs): void
{
    $described = "$field-hint" . ($error !== null ? " $field-error" : '');
    echo '<p class="field">', "\n";
    echo '<label for="', $field, '">', h($label), "</label>\n";
    echo '<input type="text" id="', $field, '" name="', $field, '" value="', h($value), '" required';
    foreach ($attrs as $k => $v) {
        echo ' ', $k, '="', h($v), '"';
    }
    echo ' aria-describedby="', $described, '"', $error !== null ? ' aria-invalid="true"' : '', ">\n";
    echo '<span class="hint" id="', $field, '-hint">', h($hint), "</span>\n";
    if ($error !== null) {
        echo '<span class="error" id="', $field, '-error">', h($error), "</span>\n";
    }
    echo "</p>\n";
}
