/* config: the ini file that tells every chat process where things live.
 *
 * All keys live in [global], old and new, so old config files stay valid and
 * the PHP pages can keep using parse_ini_file.  [room descriptions] holds
 * "room=description" lines for the PHP room list and is not read here.
 * Unknown keys in [global] are warned about on stderr, never fatal. */
#ifndef CHAT_CONFIG_H
#define CHAT_CONFIG_H

#include <stdio.h>
#include <sys/types.h>

#define CONFIG_PATH_MAX 512
#define CONFIG_VALUE_MAX 512

/* What the room log records about a whisper (WHISPER_LOG). */
enum whisper_log {
	WHISPER_LOG_NONE,   /* nothing: "none", the default */
	WHISPER_LOG_NOTICE, /* "T <from> whispers something to <target>" */
	WHISPER_LOG_FULL,   /* the whisper line itself, for archives */
};

struct chat_config {
	/* Legacy keys (names kept as the old program spelled them). */
	char base_dir[CONFIG_PATH_MAX];         /* BASE_DIR, required */
	char lang[CONFIG_VALUE_MAX];            /* LANG: collation of user lists */
	char ice_server_dns[CONFIG_VALUE_MAX];  /* ICE_SERVER_DNS, for the pages */
	char websocketd_server_url[CONFIG_VALUE_MAX]; /* WEBSOCKETD_SERVER_URL */
	char auth_webservice_url[CONFIG_VALUE_MAX];   /* AUTHENTIZATION_WEBSERVICE_URL */
	char auth_cookiename[CONFIG_VALUE_MAX];       /* AUTHENTIZATION_COOKIENAME */

	/* Directories: each defaults to BASE_DIR/<name>. */
	char rooms_dir[CONFIG_PATH_MAX];    /* ROOMS_DIR */
	char users_dir[CONFIG_PATH_MAX];    /* USERS_DIR */
	char sessions_dir[CONFIG_PATH_MAX]; /* SESSIONS_DIR */
	char log_dir[CONFIG_PATH_MAX];      /* LOG_DIR */
	char run_dir[CONFIG_PATH_MAX];      /* RUN_DIR: inbox sockets */

	char session_cookie[CONFIG_VALUE_MAX]; /* SESSION_COOKIE (PHPSESSID) */
	int last_messages;    /* LAST_MESSAGES: lines replayed on join (20) */
	int poll_interval_ms; /* POLL_INTERVAL_MS: follower period without inotify (100) */
	int expected_users;   /* EXPECTED_USERS: what --check plans for (200) */
	mode_t file_mode;     /* FILE_MODE: logs and presence files (0640) */
	mode_t dir_mode;      /* DIR_MODE: directories we create (0750) */
	enum whisper_log whisper_log; /* WHISPER_LOG (none) */

	/* Limits against abuse; 0 means no limit where it says so. */
	int max_message_bytes;  /* MAX_MESSAGE_BYTES: longest message (4096) */
	int max_room_users;     /* MAX_ROOM_USERS: members of one room (0) */
	int max_connections_per_address; /* MAX_CONNECTIONS_PER_ADDRESS (0) */
	int legacy_client;      /* LEGACY_CLIENT: refuse what the old browser
	                           client would misread as a server line (yes) */
	char allowed_origins[CONFIG_VALUE_MAX]; /* ALLOWED_ORIGINS: empty = any */
	char trusted_proxies[CONFIG_VALUE_MAX]; /* TRUSTED_PROXIES: addresses
	                           whose X-Forwarded-For we believe (loopback) */
	int flood_rate;         /* FLOOD_RATE: points an address may spend per
	                           second, about one per message (10) */
	int flood_burst;        /* FLOOD_BURST: points it may run ahead (50) */
};

/* Where the config is read from: path if given (--config), else
 * $CHAT_SERVER_CONFIG, else the compiled-in default. */
const char *config_path(const char *path);

/* Loads path into cfg.  Warnings (unknown keys) go to warn.  Returns 0, or -1
 * with a one-line reason (no newline) in err. */
int config_load(const char *path, struct chat_config *cfg, FILE *warn,
                char *err, size_t errsz);

#endif
