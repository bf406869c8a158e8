<?php
// The PHP session, where chat_server looks for it: files sess_<id> in the
// sessions directory, PHP's default "php" serializer, the cookie named by
// SESSION_COOKIE, and the user's name:color under the key "username"
// (docs/protocol.md, "Identity").
declare(strict_types=1);

require_once __DIR__ . '/config.php';
require_once __DIR__ . '/headers.php';

// How long a name is remembered without a visit to the username form.
const CHAT_SESSION_LIFETIME = 30 * 24 * 3600;

/**
 * Makes the sessions directory when it is missing (chat_server never does).
 * Mode 0700: the files in it are named after session ids, which are
 * secrets, and PHP writes them 0600 as the web server's user anyway, so
 * only that user, or root, can read them: chat_server must run as one of
 * the two (websocketd as www-data or as root, the two legacy layouts).
 */
function chat_sessions_dir(array $cfg): string
{
    $dir = $cfg['SESSIONS_DIR'];
    if (!is_dir($dir) && !@mkdir($dir, 0700) && !is_dir($dir)) {
        $err = error_get_last()['message'] ?? 'unknown error';
        throw new ChatConfigError("cannot make the sessions directory $dir: $err");
    }
    return $dir;
}

/** Starts the session with the settings chat_server and safety need. */
function chat_session_start(array $cfg): void
{
    session_save_path(chat_sessions_dir($cfg));
    session_name($cfg['SESSION_COOKIE']);
    $ok = session_start([
        'save_handler' => 'files',
        'serialize_handler' => 'php',   // what chat_server parses
        'use_strict_mode' => 1,         // never adopt an id the browser made up
        'use_cookies' => 1,
        'use_only_cookies' => 1,
        'use_trans_sid' => 0,
        'cookie_httponly' => 1,
        'cookie_samesite' => 'Lax',
        'cookie_secure' => chat_request_is_https() ? 1 : 0,
        'cookie_path' => '/',           // the WebSocket path must get it too
        'cookie_lifetime' => CHAT_SESSION_LIFETIME,
        'gc_maxlifetime' => CHAT_SESSION_LIFETIME,
        // Debian leaves session clean-up to a cron job that does not know
        // this directory: PHP collects old files itself, now and then.
        'gc_probability' => 1,
        'gc_divisor' => 1000,
        'lazy_write' => 1,
    ]);
    if (!$ok) {
        throw new ChatConfigError('cannot start the PHP session in ' . $cfg['SESSIONS_DIR']);
    }
}

/** The session's name:color split, or null when none is saved. */
function chat_session_identity(): ?array
{
    $value = $_SESSION['username'] ?? null;
    if (!is_string($value) || !str_contains($value, ':')) {
        return null;
    }
    [$name, $color] = explode(':', $value, 2);
    return ['name' => $name, 'color' => $color];
}
