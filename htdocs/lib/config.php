<?php
// The config file that chat_server reads, read the same way: the same file,
// the same [global] keys (names in any case), the same directory defaults
// (docs/configuration.md).  Only what the pages use is checked; the rest is
// chat_server's business.
declare(strict_types=1);

require_once __DIR__ . '/paths.php';

final class ChatConfigError extends RuntimeException
{
}

// chat_server's limit on a value (CONFIG_PATH_MAX - 1): a longer one is an
// error there, so it is one here, rather than a different directory.
const CHAT_CONFIG_VALUE_MAX = 511;

/** The ini file to read: the same search as chat_server, plus the old path. */
function chat_config_path(): string
{
    // Apache's SetEnv reaches PHP in $_SERVER; an environment variable of
    // the server process (php -S, PHP-FPM's env[]) through getenv().
    foreach ([getenv('CHAT_SERVER_CONFIG'), $_SERVER['CHAT_SERVER_CONFIG'] ?? null] as $env) {
        if (is_string($env) && $env !== '') {
            return $env;
        }
    }
    foreach ([CHAT_INSTALLED_CONFIG, CHAT_OLD_CONFIG] as $path) {
        if (is_file($path)) {
            return $path;
        }
    }
    throw new ChatConfigError('no config file: CHAT_SERVER_CONFIG is not set and neither '
        . CHAT_INSTALLED_CONFIG . ' nor ' . CHAT_OLD_CONFIG . ' exists');
}

/**
 * Parses the ini file: [global] keys upper-cased, sections matched without
 * regard to case (as iniparser does), later keys winning.  Raw mode, so
 * that none, yes or a path are kept as written, as iniparser keeps them.
 *
 * @return array{0: array<string, string>, 1: array<string, string>} [global, room descriptions]
 */
function chat_config_parse(string $path): array
{
    if (!is_file($path) || !is_readable($path)) {
        throw new ChatConfigError("cannot read config file $path");
    }
    $problem = '';
    set_error_handler(function (int $no, string $msg) use (&$problem): bool {
        $problem = $msg;
        return true;
    });
    try {
        $ini = parse_ini_file($path, true, INI_SCANNER_RAW);
    } finally {
        restore_error_handler();
    }
    if (!is_array($ini)) {
        throw new ChatConfigError("config file $path is not valid: $problem");
    }
    $global = [];
    $rooms = [];
    foreach ($ini as $section => $entries) {
        if (!is_array($entries)) {
            continue; // a key before any section: chat_server ignores it too
        }
        $name = strtolower((string)$section);
        foreach ($entries as $key => $value) {
            if (!is_string($value)) {
                continue; // key[]= arrays: no key of ours is one
            }
            if ($name === 'global') {
                $global[strtoupper((string)$key)] = $value;
            } elseif ($name === 'room descriptions') {
                $rooms[(string)$key] = $value;
            }
        }
    }
    return [$global, $rooms];
}

/**
 * Loads and checks the config.  The result holds every [global] key in
 * upper case, the defaults of the keys the pages use, 'room descriptions'
 * (room => description) and 'CONFIG_FILE' (the path read).
 *
 * @return array<string, mixed>
 */
function chat_config_load(?string $path = null): array
{
    $path ??= chat_config_path();
    [$cfg, $rooms] = chat_config_parse($path);
    foreach ($cfg as $key => $value) {
        if (strlen($value) > CHAT_CONFIG_VALUE_MAX) {
            throw new ChatConfigError("config key $key is too long");
        }
    }
    $base = $cfg['BASE_DIR'] ?? '';
    if ($base === '') {
        throw new ChatConfigError('BASE_DIR is missing in [global]');
    }
    if ($base[0] !== '/') {
        throw new ChatConfigError('BASE_DIR must be an absolute path');
    }
    $dirs = ['ROOMS_DIR' => 'rooms', 'USERS_DIR' => 'users', 'SESSIONS_DIR' => 'sessions', 'LOG_DIR' => 'log'];
    foreach ($dirs as $key => $sub) {
        // chat_server joins them with one slash, whatever BASE_DIR ends in.
        $cfg[$key] ??= "$base/$sub";
        if ($cfg[$key] === '' || $cfg[$key][0] !== '/' || strlen($cfg[$key]) > CHAT_CONFIG_VALUE_MAX) {
            throw new ChatConfigError("config key $key must be an absolute path");
        }
    }
    $cfg['SESSION_COOKIE'] ??= 'PHPSESSID';
    if (!preg_match('/^[A-Za-z0-9_.-]*[A-Za-z][A-Za-z0-9_.-]*$/', $cfg['SESSION_COOKIE'])) {
        // PHP's session.name must have a letter and no cookie separators.
        throw new ChatConfigError('SESSION_COOKIE must be a cookie name PHP can use as session.name');
    }
    $whisper = strtolower($cfg['WHISPER_LOG'] ?? 'none');
    if (!in_array($whisper, ['none', 'notice', 'full'], true)) {
        throw new ChatConfigError('config key WHISPER_LOG must be none, notice or full');
    }
    $cfg['WHISPER_LOG'] = $whisper;
    foreach (['LANG', 'ICE_SERVER_DNS', 'WEBSOCKETD_SERVER_URL'] as $key) {
        $cfg[$key] ??= '';
    }
    $cfg['room descriptions'] = $rooms;
    $cfg['CONFIG_FILE'] = $path;
    return $cfg;
}
