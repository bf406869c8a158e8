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

/* The longest values accepted (terminating NUL included): a longer one is
 * refused, never silently cut.  The strings themselves are stored at their
 * own length; callers size buffers built from them with these limits. */
#define CONFIG_PATH_MAX 512
#define CONFIG_VALUE_MAX 512
/* IDENTITY_SOURCES names at most this many sources (token, php, sso). */
#define CONFIG_IDENTITY_SOURCES_MAX 3

/* REDIS_KEY_PREFIX is 1 to this many bytes. */
#define CONFIG_REDIS_KEY_PREFIX_MAX 64
#define CONFIG_REDIS_URL_DEFAULT "redis://127.0.0.1:6379/0"
#define CONFIG_REDIS_KEY_PREFIX_DEFAULT "chat:"

/* How the lines of a room reach its members' processes (TRANSPORT). */
enum config_transport {
	CONFIG_TRANSPORT_FILES, /* "files": the room logs on disk, followed
	                           with inotify; the default */
	CONFIG_TRANSPORT_REDIS, /* "redis": Redis Streams at REDIS_URL, for
	                           rooms shared by several hosts (issue 15) */
};

/* What the room log records about a whisper (WHISPER_LOG). */
enum whisper_log {
	WHISPER_LOG_NONE,   /* nothing: "none", the default */
	WHISPER_LOG_NOTICE, /* "T <from> whispers something to <target>" */
	WHISPER_LOG_FULL,   /* the whisper line itself, for archives */
};

/* Every connection is a process that keeps its config for its whole life,
 * so the strings are not kept in fixed arrays: each field points into one
 * block, sized to the values, that the config owns.  In a loaded config a
 * key left out reads as its default, "" where it has none; never NULL. */
struct chat_config {
	char *strings; /* the block the string fields point into */

	/* Legacy keys (names kept as the old program spelled them); the pages'
	 * WEBSOCKETD_SERVER_URL is accepted, not kept. */
	const char *base_dir;              /* BASE_DIR, required */
	const char *ice_server_dns;        /* ICE_SERVER_DNS: STUN for the
	                                      JSON welcome's ice_servers */
	const char *lang;                  /* LANG: collation of user lists */
	const char *auth_webservice_url;   /* AUTHENTIZATION_WEBSERVICE_URL */
	const char *auth_cookiename;       /* AUTHENTIZATION_COOKIENAME */

	/* Directories: each defaults to BASE_DIR/<name>. */
	const char *rooms_dir;    /* ROOMS_DIR */
	const char *users_dir;    /* USERS_DIR */
	const char *sessions_dir; /* SESSIONS_DIR */
	const char *log_dir;      /* LOG_DIR */
	const char *moderation_dir; /* MODERATION_DIR: bans, mutes, locks,
	                               topics (moderation.h) */
	const char *run_dir;      /* RUN_DIR: runtime state; "" = chosen by
	                             rundir.c (see there) */

	const char *session_cookie; /* SESSION_COOKIE (PHPSESSID) */
	int last_messages;    /* LAST_MESSAGES: lines replayed on join (20) */
	int poll_interval_ms; /* POLL_INTERVAL_MS: follower period without inotify (100) */
	int expected_users;   /* EXPECTED_USERS: what --check plans for (200) */
	mode_t file_mode;     /* FILE_MODE: logs, presence, auth log (0644) */
	mode_t dir_mode;      /* DIR_MODE: data directories we create (0755) */
	enum whisper_log whisper_log; /* WHISPER_LOG (none) */

	/* Limits against abuse; 0 means no limit where it says so. */
	int max_message_bytes;  /* MAX_MESSAGE_BYTES: longest message (4096) */
	int max_room_users;     /* MAX_ROOM_USERS: members of one room (0) */
	int max_connections_per_address; /* MAX_CONNECTIONS_PER_ADDRESS (0) */
	int legacy_client;      /* LEGACY_CLIENT: refuse what the old browser
	                           client would misread as a server line (yes) */
	const char *allowed_origins; /* ALLOWED_ORIGINS: empty = any */
	const char *trusted_proxies; /* TRUSTED_PROXIES: addresses
	                           whose X-Forwarded-For we believe (loopback) */
	int flood_rate;         /* FLOOD_RATE: points a connection may spend
	                           per second, about one per message (10) */
	int flood_burst;        /* FLOOD_BURST: points it may run ahead (50) */

	/* WebRTC: TURN credentials in the JSON welcome (ice.h).  TURN is on
	 * when turn_urls has a URL; without it the others are "" and 0. */
	const char *turn_urls;        /* TURN_URLS: turn:/turns: URLs, "" */
	const char *turn_secret;      /* TURN_SECRET, or what
	                                 TURN_SECRET_FILE holds */
	const char *turn_secret_file; /* the file the secret was read from:
	                                 TURN_SECRET_FILE, or the config file
	                                 itself for TURN_SECRET (--check) */
	int turn_ttl;                 /* TURN_TTL: seconds (86400) */
	int ice_relay_only;           /* ICE_TRANSPORT_POLICY = relay (all) */

	/* Identity (identity.h, token.h).  The token is on when both
	 * auth_token_cookie and auth_token_secret are set, else both are "". */
	const char *auth_token_cookie;      /* AUTH_TOKEN_COOKIE, "" */
	const char *auth_token_secret;      /* what AUTH_TOKEN_SECRET_FILE
	                                       holds, less one final newline */
	const char *auth_token_secret_file; /* AUTH_TOKEN_SECRET_FILE, "" */
	int session_max_age;  /* SESSION_MAX_AGE: seconds a PHP session file
	                         counts after its last change; 0: forever
	                         (1440, PHP's session.gc_maxlifetime) */
	int identity_sources[CONFIG_IDENTITY_SOURCES_MAX]; /* IDENTITY_SOURCES:
	                         enum identity_source values, in order */
	int n_identity_sources;
	const char *moderators; /* MODERATORS: OpenSSO uids, "" */

	/* The room transport.  The two REDIS_ keys are checked whatever
	 * TRANSPORT says, so that a bad one shows before it is used. */
	enum config_transport transport; /* TRANSPORT (files) */
	const char *redis_url;        /* REDIS_URL: one redis_url_parse
	                                 takes (CONFIG_REDIS_URL_DEFAULT) */
	const char *redis_key_prefix; /* REDIS_KEY_PREFIX: 1 to
	                                 CONFIG_REDIS_KEY_PREFIX_MAX bytes of
	                                 printable ASCII, no space ("chat:") */
};

/* Every string field, for what must treat them all alike (config.c copies
 * them into the block; the tests check them): a new one goes here too. */
#define CONFIG_STRING_FIELDS(X)                                             \
	X(base_dir) X(ice_server_dns) X(lang) X(auth_webservice_url)        \
	X(auth_cookiename)                                                  \
	X(rooms_dir) X(users_dir) X(sessions_dir) X(log_dir) X(run_dir)     \
	X(moderation_dir)     \
	X(session_cookie) X(allowed_origins) X(trusted_proxies)             \
	X(turn_urls) X(turn_secret) X(turn_secret_file)                    \
	X(auth_token_cookie) X(auth_token_secret) X(auth_token_secret_file) \
	X(moderators) X(redis_url) X(redis_key_prefix)

/* The default config file, when neither --config nor $CHAT_SERVER_CONFIG
 * names one. */
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/websocket_chat_server.ini"

/* Where the config is read from: path if given (--config), else
 * $CHAT_SERVER_CONFIG, else the compiled-in default. */
const char *config_path(const char *path);

/* Loads path into cfg, which must not hold a loaded config (config_free it
 * first).  Warnings (unknown keys) go to warn.  Returns 0, or -1 with a
 * one-line reason (no newline) in err and cfg left empty as by config_free.
 * Nothing in cfg points into the parsed file once it returns. */
int config_load(const char *path, struct chat_config *cfg, FILE *warn,
                char *err, size_t errsz);

/* Releases what config_load allocated and leaves cfg empty: every number
 * zero, every pointer NULL.  Safe after a failed load and safe twice. */
void config_free(struct chat_config *cfg);

#endif
