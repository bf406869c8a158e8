<?php
// The chat page's own markup: <main id="chat"> with the parts the client
// (js/main.js) finds by id and accessible name, as docs/web.md ("The chat
// page's structure") lists them.  The page frame (lib/frame.php) prints the
// head, which loads js/main.js; this prints the client's stylesheet and the
// chat.  No inline script or style: the CSP forbids both.
declare(strict_types=1);

/** $s escaped for HTML text and quoted attributes. */
function chat_markup_escape(string $s): string
{
    return htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
}

/**
 * The WebSocket URL of $room without a query: WEBSOCKETD_SERVER_URL
 * followed by the room, or '' when the key is empty, and the client then
 * derives /chat/rooms/<room> on the page's own host.
 */
function chat_ws_url(array $cfg, string $room): string
{
    $base = (string)($cfg['WEBSOCKETD_SERVER_URL'] ?? '');
    return $base === '' ? '' : $base . rawurlencode($room);
}

/** Echoes the chat of $room ($cfg: the parsed configuration). */
function chat_page_body(array $cfg, string $room): void
{
    $e = 'chat_markup_escape';
    $roomHtml = $e($room);
    $wsHtml = $e(chat_ws_url($cfg, $room));
    echo <<<HTML
<link rel="stylesheet" href="chat.css">
<main id="chat" class="chat" data-ws-url="{$wsHtml}" data-room="{$roomHtml}">
<div class="chat-head">
<h1 class="chat-room">{$roomHtml}</h1>
<p id="topic" class="chat-topic" hidden></p>
<p id="connection-state" role="status">Connecting…</p>
<div class="chat-actions">
<button type="button" id="notifications" aria-pressed="false">Enable notifications</button>
<button type="button" id="disconnect">Disconnect</button>
</div>
</div>
<noscript><p class="chat-noscript">The chat needs JavaScript; the rest of the site does not.</p></noscript>
<div class="chat-main">
<section class="chat-talk" aria-label="Chat">
<div class="chat-log">
<ol id="messages" role="log" aria-label="Messages" tabindex="0"></ol>
<button type="button" id="new-messages" hidden>New messages</button>
</div>
<ul id="typing" aria-live="polite" aria-label="Typing"></ul>
<form id="composer" class="chat-composer">
<label for="message">Message</label>
<textarea id="message" name="message" rows="2" autocomplete="off" spellcheck="true" aria-describedby="message-help"></textarea>
<button type="submit">Send</button>
<p id="message-help" class="chat-help">Enter sends, Shift+Enter starts a new line, Tab completes a name.  Start with “Name: ” to whisper.</p>
</form>
<div class="chat-insert" role="group" aria-label="Pictures and emoticons">
<button type="button" id="insert-image">Insert image</button>
<button type="button" id="insert-link">Insert link</button>
<span id="emoticons" class="chat-emoticons"></span>
</div>
</section>
<aside class="chat-side" aria-label="Room">
<h2 id="users-heading">Users</h2>
<ul id="users" aria-label="Users"></ul>
<form id="dice" class="chat-tool">
<fieldset>
<legend>Throw dice</legend>
<label for="dice-count">Dice</label>
<input type="number" id="dice-count" name="count" min="0" max="100" step="1" value="2" required>
<label for="dice-sides">Sides</label>
<input type="number" id="dice-sides" name="sides" min="1" max="1000000" step="1" value="6" required>
<label for="dice-again">Again on</label>
<input type="number" id="dice-again" name="again" min="0" max="1000000" step="1" value="0" required>
<button type="submit">Throw</button>
</fieldset>
</form>
<form id="color-form" class="chat-tool">
<label for="color">Your color</label>
<input type="color" id="color" name="color" value="#808080">
<button type="submit">Change color</button>
</form>
</aside>
</div>
<dialog id="url-dialog" aria-labelledby="url-dialog-title">
<form id="url-form" method="dialog" novalidate>
<h2 id="url-dialog-title">Insert link</h2>
<label for="url-input">Address (http or https)</label>
<input type="url" id="url-input" name="url" autocomplete="off" spellcheck="false" inputmode="url">
<p id="url-full-box" hidden>Will insert: <output id="url-full" for="url-input"></output></p>
<p id="url-warning" class="chat-warning" hidden></p>
<p id="url-problem" class="chat-warning" hidden>Only a complete http: or https: address can be inserted.</p>
<div class="chat-dialog-buttons">
<button type="submit" id="url-insert" disabled>Insert</button>
<button type="button" id="url-cancel">Cancel</button>
</div>
</form>
</dialog>
</main>

HTML;
}
