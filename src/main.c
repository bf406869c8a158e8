/* chat_server: one chat connection, started by websocketd per WebSocket.
 * See README.md; the path of a line through the modules:
 *   stdin_reader -> decode -> dispatch -> command | append -> room log
 *                                      -> route -> inbox of one member
 *   room log -> follow (inotify) -> filter -> encode -> stdout_writer
 *   inbox -> encode -> stdout_writer
 * (decode and encode speak the connection's protocol, legacy or JSON;
 * everything between them knows no protocol)
 * with config, room, identity, presence, admission and flood beside them,
 * and chat (the connection's life) holding it together. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "append.h"
#include "archive.h"
#include "chat.h"
#include "check.h"
#include "config.h"
#include "dirs.h"
#include "decode.h"
#include "encode.h"
#include "identity.h"
#include "token.h"
#include "warden.h"

/* From the Makefile, which reads it from debian/changelog. */
#ifndef CHAT_SERVER_VERSION
#define CHAT_SERVER_VERSION "unknown"
#endif

static void usage(FILE *out)
{
	fprintf(out, "usage: chat_server [--config FILE] [--check | --reap | "
	             "--archive |\n"
	             "                   --pause-appends | --resume-appends]\n"
	             "       chat_server [--config FILE] --mint-token NAME "
	             "[--color C] [--ttl S] [--role R]\n"
	             "       chat_server --version | --help\n"
	             "  Started by websocketd once per connection; reads the\n"
	             "  room from PATH_INFO and the user from HTTP_COOKIE.\n"
	             "  --config FILE  ini file (default: $CHAT_SERVER_CONFIG,\n"
	             "                 else %s)\n"
	             "  --check        report limits, directories and, with\n"
	             "                 TRANSPORT=redis, the Redis server, then\n"
	             "                 exit\n"
	             "  --reap         remove the presence of every member whose\n"
	             "                 process died, logging their quit (for\n"
	             "                 ExecStartPre= and admins), then exit\n"
	             "  --archive      TRANSPORT=redis: write every room's lines\n"
	             "                 to this host's logs, reap dead members,\n"
	             "                 show all hosts' members in users/, relay\n"
	             "                 the rooms to this host's connections\n"
	             "                 (the daemon of chat_server-archive.service)\n"
	             "  --pause-appends, --resume-appends\n"
	             "                 logrotate's prerotate and postrotate:\n"
	             "                 hold chat lines while logs are rotated\n"
	             "  --warden       watch for members who die (started by\n"
	             "                 the chat itself; not for use by hand)\n"
	             "  --mint-token NAME\n"
	             "                 print a signed identity token for NAME\n"
	             "                 (the value of AUTH_TOKEN_COOKIE), made\n"
	             "                 with AUTH_TOKEN_SECRET_FILE, then exit\n"
	             "  --color C      its colour (default: none, shown Gray)\n"
	             "  --ttl S        seconds it is valid (default 86400)\n"
	             "  --role R       a role it carries: moderator\n"
	             "  --version      print the version, then exit\n"
	             "  --help         print this, then exit\n",
	        CONFIG_DEFAULT_PATH);
}

/* A connection refused for the server's own fault, before it touched
 * anything: the details (paths) go to the server log; a browser (when we
 * serve one) learns only that the server, not the user, is at fault. */
static int server_refused(const char *err, const char *sentence,
                          bool browser)
{
	struct buf line;
	struct encoder enc;
	buf_init(&line, 0);
	encoder_init(&enc, decode_protocol(getenv("QUERY_STRING")), true);
	fprintf(stderr, "chat_server: %s\n", err);
	if (browser && encode_error(&enc, time(NULL), REFUSAL_CONFIG, sentence,
	                            &line) == 0)
		fwrite(line.data, 1, line.len, stdout);
	encoder_free(&enc);
	buf_free(&line);
	return 1;
}

static int config_failed(const char *err, bool browser)
{
	return server_refused(err, "the chat server is not configured "
	                      "correctly; its administrator will find why in "
	                      "the server log", browser);
}

/* User lists are sorted like the old program's shell globs: by the
 * collation of LANG from the config, else of the environment. */
static void set_collation(const char *lang)
{
	/* C.UTF-8 collates by code point, which for UTF-8 is byte order: the
	 * order of the "C" locale every process starts in.  Loading it anyway
	 * would cost a dozen system calls per connection. */
	static const char *const byte_order[] = { "C", "POSIX", "C.UTF-8",
	                                          "C.utf8" };
	for (size_t i = 0; i < sizeof byte_order / sizeof *byte_order; i++)
		if (strcmp(lang, byte_order[i]) == 0)
			return;
	if (!(*lang && setlocale(LC_COLLATE, lang)) && !setlocale(LC_COLLATE, ""))
		setlocale(LC_COLLATE, "C");
}

/* --reap.  With TRANSPORT=redis, users/ is the archiver's mirror of the
 * members in Redis (archive.h), who are reaped there: its files must not
 * be taken for dead members here, nor their quits logged on this host
 * alone. */
static int reap_once(const struct chat_config *cfg)
{
	if (cfg->transport == CONFIG_TRANSPORT_REDIS) {
		printf("chat_server --reap: TRANSPORT=redis: members are reaped "
		       "in Redis (by every lister and chat_server --archive); "
		       "nothing to do here\n");
		return 0;
	}
	return warden_reap_once(cfg, stdout);
}

/* logrotate's prerotate and postrotate (see append.h). */
static int rotation(const struct chat_config *cfg, bool pause)
{
	int dir = dirs_open(cfg->rooms_dir, cfg->dir_mode, false);
	int rc = dir < 0 ? -1 : pause ? append_pause(dir, cfg->file_mode)
	                              : append_resume(dir);
	if (rc < 0)
		fprintf(stderr, "chat_server: cannot %s appends in %s: %s\n",
		        pause ? "pause" : "resume", cfg->rooms_dir, strerror(errno));
	if (dir >= 0)
		close(dir);
	return rc < 0 ? 1 : 0;
}

/* Every connection is a process of its own, so memory a burst needed
 * (a long user list, a history of long lines) should go back to the
 * system, not stay in the heap for the connection's life: large blocks
 * are mapped on their own and unmapped when freed. */
static void tune_malloc(void)
{
	mallopt(M_MMAP_THRESHOLD, 8 * 1024);
	mallopt(M_TRIM_THRESHOLD, 4 * 1024);
	mallopt(M_TOP_PAD, 0);
}

/* The archiver and the warden live as long as the host.  glibc keeps, per
 * thread, up to seven freed blocks of every small size for the thread's
 * life (its tcache), wherever in the heap they lie: each pins its page,
 * and splits the free space around it so that trimming cannot hand it
 * back.  After a room of 500 came and went, the archiver's relay kept
 * about 100 KiB that way.  The cache is a tunable, read before main: such
 * a daemon starts itself again once with it off, unless the tunables
 * already say how large it is.  Not a connection: a second exec at every
 * join would cost more than the few KiB it gave back. */
#define TCACHE_TUNABLE "glibc.malloc.tcache_count="

static void without_tcache(int mode, char **argv)
{
	const char *now = getenv("GLIBC_TUNABLES");
	if ((mode != 'a' && mode != 'w') || (now && strstr(now, TCACHE_TUNABLE)))
		return;
	char was[1024], value[1024 + sizeof TCACHE_TUNABLE + 2];
	int n = snprintf(was, sizeof was, "%s", now ? now : "");
	if (n < 0 || (size_t)n >= sizeof was)
		return;
	snprintf(value, sizeof value, "%s%s" TCACHE_TUNABLE "0", was,
	         *was ? ":" : "");
	if (setenv("GLIBC_TUNABLES", value, 1) < 0)
		return;
	execv("/proc/self/exe", argv);
	/* No /proc: it runs with the cache, as it was started. */
	if (now)
		(void)setenv("GLIBC_TUNABLES", was, 1);
	else
		(void)unsetenv("GLIBC_TUNABLES");
}

/* --mint-token and its options. */
struct mint {
	const char *name;
	const char *color;
	long ttl;
	unsigned roles;
};

#define MINT_TTL_DEFAULT 86400L

/* Prints the token of m (docs/identity.md). */
static int mint_token(const struct chat_config *cfg, const struct mint *m)
{
	char token[TOKEN_MAX + 1];
	if (!cfg->auth_token_secret[0]) {
		fprintf(stderr, "chat_server: --mint-token needs AUTH_TOKEN_COOKIE "
		        "and AUTH_TOKEN_SECRET_FILE in the config\n");
		return 1;
	}
	if (strlen(m->name) > NAME_MAX_BYTES ||
	    !identity_name_is_clean(m->name)) {
		fprintf(stderr, "chat_server: --mint-token: \"%s\" is not a name "
		        "chat_server accepts (UTF-8, at most %d bytes, none of "
		        "/ _ : , < > \" ' \\ or spaces and controls)\n", m->name,
		        NAME_MAX_BYTES);
		return 2;
	}
	if (m->color && (strlen(m->color) > COLOR_MAX ||
	                 !color_is_valid(m->color))) {
		fprintf(stderr, "chat_server: --color: \"%s\" is not a colour "
		        "chat_server shows\n", m->color);
		return 2;
	}
	int n = token_mint(cfg->auth_token_secret, strlen(cfg->auth_token_secret),
	                   m->name, m->color, (long long)time(NULL) + m->ttl,
	                   m->roles, token, sizeof token);
	if (n < 0) {
		fprintf(stderr, "chat_server: --mint-token: cannot make the token "
		        "(%s)\n", errno == ERANGE ? "too long"
		        : "libcrypto is missing: install libssl3");
		return 1;
	}
	printf("%s\n", token);
	return 0;
}

/* --ttl and --role; false (and a message) for a value not valid. */
static bool mint_option(struct mint *m, int opt, const char *arg)
{
	if (opt == 't') {
		char *end;
		errno = 0;
		m->ttl = strtol(arg, &end, 10);
		if (errno || *end || end == arg || m->ttl < 1 ||
		    m->ttl > 10L * 366 * 86400) {
			fprintf(stderr, "chat_server: --ttl must be a number of "
			        "seconds from 1 to 316224000\n");
			return false;
		}
	} else if (strcmp(arg, "moderator") == 0) {
		m->roles |= ROLE_MODERATOR;
	} else {
		fprintf(stderr, "chat_server: --role: the only role is "
		        "moderator\n");
		return false;
	}
	return true;
}

/* What the process was started for, once the config is loaded. */
static int run(const struct chat_config *cfg, int mode, const char *file,
               const struct mint *m)
{
	set_collation(cfg->lang);
	if (mode == 'm')
		return mint_token(cfg, m);
	if (mode == 'k')
		return check_run(cfg, stdout);
	if (mode == 'x')
		return reap_once(cfg);
	if (mode == 'w')
		return warden_run(cfg);
	if (mode == 'a')
		return archive_run(cfg);
	if (mode == 'p' || mode == 'r')
		return rotation(cfg, mode == 'p');
	const struct chat_request req = {
		.path_info = getenv("PATH_INFO"),
		.cookie = getenv("HTTP_COOKIE"),
		.forwarded_for = getenv("HTTP_X_FORWARDED_FOR"),
		.remote_addr = getenv("REMOTE_ADDR"),
		.origin = getenv("HTTP_ORIGIN"),
		.query_string = getenv("QUERY_STRING"),
		.config_file = file,
	};
	return chat_run(cfg, &req);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "pause-appends", no_argument, NULL, 'p' },
		{ "resume-appends", no_argument, NULL, 'r' },
		{ "reap", no_argument, NULL, 'x' },
		{ "warden", no_argument, NULL, 'w' },
		{ "archive", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "mint-token", required_argument, NULL, 'm' },
		{ "color", required_argument, NULL, 'C' },
		{ "ttl", required_argument, NULL, 't' },
		{ "role", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	int opt, mode = 0;
	struct mint mint = { NULL, NULL, MINT_TTL_DEFAULT, 0 };
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'c')
			path = optarg;
		else if (opt == 'm') {
			mint.name = optarg;
			mode = opt;
		} else if (opt == 'C')
			mint.color = optarg;
		else if (opt == 't' || opt == 'R') {
			if (!mint_option(&mint, opt, optarg))
				return 2;
		}
		else if (opt > 0 && strchr("kprxwa", opt))
			mode = opt;
		else if (opt == 'V') {
			printf("chat_server %s\n", CHAT_SERVER_VERSION);
			return 0;
		} else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (mode != 'm' && (mint.color || mint.roles ||
	                    mint.ttl != MINT_TTL_DEFAULT)) {
		fprintf(stderr, "chat_server: --color, --ttl and --role go with "
		        "--mint-token\n");
		return 2;
	}
	without_tcache(mode, argv);
	tune_malloc();
	tzset();
	struct chat_config cfg;
	char err[512], file[PATH_MAX];
	/* Absolute, for the warden, which runs from "/". */
	if (!realpath(config_path(path), file))
		snprintf(file, sizeof file, "%s", config_path(path));
	int rc = config_load(file, &cfg, stderr, err, sizeof err) < 0
	         ? config_failed(err, mode == 0) : run(&cfg, mode, file, &mint);
	config_free(&cfg);
	return rc;
}
