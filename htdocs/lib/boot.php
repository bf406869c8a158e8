<?php
// What every page does first: load the shared code, read the config and
// send the security headers.  A config that cannot be used ends the
// request with a 500 page that shows no path (the reason, which may hold
// paths, goes to the web server's error log), as chat_server shows
// browsers a generic line and keeps the reason for stderr.
declare(strict_types=1);

require_once __DIR__ . '/config.php';
require_once __DIR__ . '/headers.php';
require_once __DIR__ . '/html.php';
require_once __DIR__ . '/frame.php';
require_once __DIR__ . '/validate.php';

/** The config, or the error page and exit. */
function chat_boot(): array
{
    try {
        $cfg = chat_config_load();
    } catch (ChatConfigError $e) {
        chat_config_failed($e, []);
    }
    chat_send_security_headers($cfg);
    chat_use_system_timezone();
    return $cfg;
}

/**
 * Shows times in the system's time zone, as chat_server writes them in the
 * logs, unless php.ini names one: PHP itself would take UTC.
 */
function chat_use_system_timezone(): void
{
    if ((string)ini_get('date.timezone') !== '') {
        return;
    }
    $tz = (string)getenv('TZ');
    if ($tz === '' && is_link('/etc/localtime')
        && preg_match('#zoneinfo/(.+)$#', (string)readlink('/etc/localtime'), $m)) {
        $tz = $m[1];
    }
    if ($tz === '' && is_readable('/etc/timezone')) {
        $tz = trim((string)file_get_contents('/etc/timezone'));
    }
    if ($tz !== '' && in_array($tz, timezone_identifiers_list(), true)) {
        date_default_timezone_set($tz);
    }
}

/** Logs why, shows the generic error page and ends the request. */
function chat_config_failed(Throwable $e, array $cfg): never
{
    error_log('chat pages: ' . $e->getMessage());
    if (!headers_sent()) {
        chat_send_security_headers($cfg);
    }
    chat_message_page(500, 'Not configured',
        'The chat is not configured correctly; its administrator will find why in the server log.');
    exit;
}
