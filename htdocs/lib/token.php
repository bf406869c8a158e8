<?php
// Signed identity tokens for chat_server (docs/identity.md): a site with a
// login of its own vouches for a user's chat name by setting the cookie
// AUTH_TOKEN_COOKIE to a token made here, with the secret chat_server reads
// from AUTH_TOKEN_SECRET_FILE.  The name is then verified: reserved in the
// room while its holder is there, marked in the user list, and it may carry
// the moderator role.
//
// The chat's own username form does NOT mint tokens: anyone may type any
// name there, so a token for it would vouch for nothing.  Call
// chat_token_set_cookie() from your site's page that has just logged the
// user in, for the name your site knows:
//
//     require '/usr/share/chat_server/htdocs/lib/token.php';
//     $cfg = chat_config_load();
//     if (!chat_token_set_cookie($cfg, $user->chatName, '#1e90ff',
//                                $user->isAdmin ? ['moderator'] : [])) {
//         error_log('chat: cannot mint a token (see AUTH_TOKEN_SECRET_FILE)');
//     }
//
// The web server's user must be able to read the secret file, which
// chat_server refuses unless nobody but its owner may read it: run both as
// the same user (websocketd as www-data), or give the page the secret
// some other private way and call chat_token_mint() yourself.
declare(strict_types=1);

require_once __DIR__ . '/config.php';
require_once __DIR__ . '/headers.php';
require_once __DIR__ . '/validate.php';

/** base64url without padding (RFC 4648, section 5). */
function chat_token_b64url(string $bytes): string
{
    return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
}

/**
 * The token "v1.<payload>.<mac>" for name, as chat_server --mint-token
 * makes it.  $exp is a Unix time; $roles may hold 'moderator'.  Throws
 * InvalidArgumentException for a name chat_server would refuse (it never
 * rewrites a vouched name) or a colour it does not show.
 *
 * @param list<string> $roles
 */
function chat_token_mint(string $secret, string $name, ?string $color, int $exp, array $roles = []): string
{
    if (!chat_name_is_valid($name)) {
        throw new InvalidArgumentException('not a name chat_server accepts as it is');
    }
    if ($color !== null && !chat_color_is_valid($color)) {
        throw new InvalidArgumentException('not a colour chat_server shows');
    }
    if ($secret === '') {
        throw new InvalidArgumentException('empty secret');
    }
    $claims = ['name' => $name];
    if ($color !== null) {
        $claims['color'] = $color;
    }
    $claims['exp'] = $exp;
    if ($roles) {
        $claims['roles'] = array_values(array_map('strval', $roles));
    }
    $json = json_encode($claims, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    $signed = 'v1.' . chat_token_b64url($json);
    return $signed . '.' . chat_token_b64url(hash_hmac('sha256', $signed, $secret, true));
}

/**
 * The secret of AUTH_TOKEN_SECRET_FILE (its content less one final
 * newline, as chat_server reads it), or null when tokens are not set up
 * or the file cannot be read by this process.
 */
function chat_token_secret(array $cfg): ?string
{
    $file = (string)($cfg['AUTH_TOKEN_SECRET_FILE'] ?? '');
    if ($file === '' || ($cfg['AUTH_TOKEN_COOKIE'] ?? '') === '' || !is_readable($file)) {
        return null;
    }
    $secret = @file_get_contents($file, false, null, 0, CHAT_CONFIG_VALUE_MAX + 1);
    if ($secret === false) {
        return null;
    }
    if (str_ends_with($secret, "\n")) {
        $secret = substr($secret, 0, -1);
    }
    return $secret === '' ? null : $secret;
}

/**
 * Sets the AUTH_TOKEN_COOKIE cookie for name: HttpOnly, SameSite=Lax,
 * Secure under HTTPS, valid for $ttl seconds (default SESSION_MAX_AGE,
 * else 1440).  Must be called before any output.  False when tokens are
 * not set up or the secret cannot be read.
 *
 * @param list<string> $roles
 */
function chat_token_set_cookie(array $cfg, string $name, ?string $color = null, array $roles = [], ?int $ttl = null): bool
{
    $secret = chat_token_secret($cfg);
    if ($secret === null) {
        return false;
    }
    $ttl ??= (int)($cfg['SESSION_MAX_AGE'] ?? 1440) ?: 1440;
    $exp = time() + $ttl;
    return setcookie((string)$cfg['AUTH_TOKEN_COOKIE'], chat_token_mint($secret, $name, $color, $exp, $roles), [
        'expires' => $exp,
        'path' => '/',
        'secure' => chat_request_is_https(),
        'httponly' => true,
        'samesite' => 'Lax',
    ]);
}
