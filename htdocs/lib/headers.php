<?php
// The security headers of every page.  The Content-Security-Policy allows
// no inline script or style at all: the pages have none, and an injected
// one would not run.
declare(strict_types=1);

/**
 * The origin ws[s]://host[:port] of WEBSOCKETD_SERVER_URL, for connect-src,
 * or null when it is empty or not a WebSocket URL a header can carry.
 */
function chat_ws_origin(string $url): ?string
{
    if ($url === '') {
        return null;
    }
    $p = parse_url($url);
    $scheme = strtolower($p['scheme'] ?? '');
    $host = $p['host'] ?? '';
    if (!in_array($scheme, ['ws', 'wss'], true)
        || !preg_match('/^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$/D', $host)) {
        error_log("chat pages: WEBSOCKETD_SERVER_URL is not a ws:// or wss:// URL: $url");
        return null;
    }
    return "$scheme://$host" . (isset($p['port']) ? ':' . (int)$p['port'] : '');
}

function chat_csp(array $cfg): string
{
    $connect = "'self'";
    $ws = chat_ws_origin((string)($cfg['WEBSOCKETD_SERVER_URL'] ?? ''));
    if ($ws !== null) {
        $connect .= " $ws";
    }
    // img-src: the chat shows pictures that users link from anywhere.
    return "default-src 'self'; script-src 'self'; style-src 'self'; "
        . "img-src 'self' http: https: data:; connect-src $connect; "
        . "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
}

/** Sends the headers every page gets.  $cfg may be [] (config error page). */
function chat_send_security_headers(array $cfg): void
{
    header('Content-Security-Policy: ' . chat_csp($cfg));
    header('X-Content-Type-Options: nosniff');
    header('Referrer-Policy: same-origin');
    header('X-Frame-Options: DENY');
    header_remove('X-Powered-By'); // php -S and some php.ini files add it
}

/** Whether the request came over HTTPS (directly, or said so by the proxy). */
function chat_request_is_https(): bool
{
    $https = $_SERVER['HTTPS'] ?? '';
    return $https !== '' && strtolower((string)$https) !== 'off';
}
