<?php
// A per-session token in every form that changes something, so that another
// site cannot post the form with the user's cookie.  (SameSite=Lax already
// keeps the cookie from cross-site POSTs in current browsers; this does not
// depend on that.)
declare(strict_types=1);

const CHAT_CSRF_FIELD = 'csrf_token';

/** The session's token, made at first use.  Needs a started session. */
function chat_csrf_token(): string
{
    if (!is_string($_SESSION['csrf_token'] ?? null) || strlen($_SESSION['csrf_token']) !== 64) {
        $_SESSION['csrf_token'] = bin2hex(random_bytes(32));
    }
    return $_SESSION['csrf_token'];
}

/** Whether the POSTed token is the session's. */
function chat_csrf_ok(): bool
{
    $sent = $_POST[CHAT_CSRF_FIELD] ?? null;
    $have = $_SESSION['csrf_token'] ?? null;
    return is_string($sent) && is_string($have) && $have !== '' && hash_equals($have, $sent);
}
