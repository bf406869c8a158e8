<?php
// Where the config is looked for after CHAT_SERVER_CONFIG.  `make install`
// may rewrite the first constant to its SYSCONFDIR, as it compiles the same
// path into chat_server; nothing else names these paths.
declare(strict_types=1);

// The installed default, SYSCONFDIR/websocket_chat_server.ini.
const CHAT_INSTALLED_CONFIG = '/etc/websocket_chat_server.ini';

// The config of the bash program this one replaces, for sites upgraded in
// place whose web server was never told about the new name.
const CHAT_OLD_CONFIG = '/etc/opt/websocketd_with_webrtc_chat.ini';
