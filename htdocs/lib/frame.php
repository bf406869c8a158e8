<?php
// The frame of every page: head, the site header with the menu, the footer.
// Each page prints its own <main> between chat_page_start and chat_page_end.
declare(strict_types=1);

require_once __DIR__ . '/html.php';

// The menu: page => label, in this order on every page.
const CHAT_MENU = [
    'room_list.php' => 'Chat rooms',
    'room_create.php' => 'Create room',
    'room_list_historical.php' => 'History',
    'userconfig.php' => 'Your name',
];

/**
 * Prints everything before <main>.  $current is the menu entry of the page
 * ('' for none); $scripts are module scripts of ours (relative URLs).
 */
function chat_page_start(string $title, string $current = '', array $scripts = []): void
{
    header('Content-Type: text/html; charset=utf-8');
    echo "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n";
    echo "<meta charset=\"utf-8\">\n";
    echo "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    echo '<title>', h($title), " · Chat</title>\n";
    echo "<link rel=\"stylesheet\" href=\"theme.css\">\n";
    echo "<link rel=\"icon\" href=\"img/smile.svg\" type=\"image/svg+xml\">\n";
    foreach ($scripts as $src) {
        echo '<script type="module" src="', h($src), "\"></script>\n";
    }
    echo "</head>\n<body>\n";
    echo "<header class=\"site\">\n<a class=\"brand\" href=\"room_list.php\">Chat</a>\n";
    echo "<nav aria-label=\"Menu\"><ul>\n";
    foreach (CHAT_MENU as $page => $label) {
        $here = $page === $current ? ' aria-current="page"' : '';
        echo '<li><a href="', h($page), '"', $here, '>', h($label), "</a></li>\n";
    }
    echo "</ul></nav>\n</header>\n";
}

function chat_page_end(): void
{
    echo "</body>\n</html>\n";
}

/** A whole page with one message, for errors (404, 400, 403, 500). */
function chat_message_page(int $status, string $title, string $message): void
{
    http_response_code($status);
    chat_page_start($title);
    echo "<main>\n<h1>", h($title), "</h1>\n<p>", h($message), "</p>\n";
    echo "<p><a href=\"room_list.php\">Back to the chat rooms</a></p>\n</main>\n";
    chat_page_end();
}
