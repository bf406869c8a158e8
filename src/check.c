#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirs.h"
#include "redis_link.h"
#include "redis_url.h"
#include "rundir.h"

/* Each connection is one chat_server process with one inotify instance and
 * at most four watches, and websocketd keeps three pipes plus a socket. */
#define WATCHES_PER_USER 4
#define WEBSOCKETD_FDS_PER_USER 4
#define SYSCTL_HINT "see conf/sysctl.d/60-chat_server.conf"

/* A number the kernel shows in /proc, or -1. */
static long read_number(const char *path)
{
	char text[32];
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	bool got = fgets(text, sizeof text, f) != NULL;
	fclose(f);
	char *end;
	errno = 0;
	long n = got ? strtol(text, &end, 10) : -1;
	return got && !errno && end != text && n >= 0 ? n : -1;
}

/* inotify instances among the open files of one process. */
static long inotify_fds_of(int proc_fd, const char *pid)
{
	char path[300], target[64];
	snprintf(path, sizeof path, "%s/fd", pid);
	int fd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *fds = fd < 0 ? NULL : fdopendir(fd);
	if (!fds) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	long count = 0;
	struct dirent *f;
	while ((f = readdir(fds))) {
		ssize_t n = readlinkat(dirfd(fds), f->d_name, target,
		                       sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		count += strcmp(target, "anon_inode:inotify") == 0;
	}
	closedir(fds);
	return count;
}

/* inotify instances held by the processes we can see (all of ours). */
static long inotify_instances_in_use(void)
{
	DIR *proc = opendir("/proc");
	if (!proc)
		return -1;
	long count = 0;
	struct dirent *p;
	while ((p = readdir(proc)))
		if (p->d_name[0] >= '0' && p->d_name[0] <= '9')
			count += inotify_fds_of(dirfd(proc), p->d_name);
	closedir(proc);
	return count;
}

static bool report(FILE *out, bool ok, const char *what, long have, long need,
                   const char *fix)
{
	fprintf(out, "%-7s %s: %ld (needed for the expected users: %ld)%s%s\n",
	        ok ? "ok" : "PROBLEM", what, have, need, ok ? "" : "; ",
	        ok ? "" : fix);
	return ok;
}

static bool check_inotify(const struct chat_config *cfg, FILE *out)
{
	long users = cfg->expected_users;
	long inst = read_number("/proc/sys/fs/inotify/max_user_instances");
	long watches = read_number("/proc/sys/fs/inotify/max_user_watches");
	long used = inotify_instances_in_use();
	bool ok = report(out, inst >= users + used, "fs.inotify.max_user_instances",
	                 inst, users + used, "past it, rooms are followed by "
	                 "polling (slower); raise it, " SYSCTL_HINT);
	fprintf(out, "        inotify instances in use by this user now: %ld\n",
	        used);
	ok &= report(out, watches >= users * WATCHES_PER_USER,
	             "fs.inotify.max_user_watches", watches,
	             users * WATCHES_PER_USER, "raise it, " SYSCTL_HINT);
	return ok;
}

static bool check_rlimits(const struct chat_config *cfg, FILE *out)
{
	long users = cfg->expected_users;
	struct rlimit nofile, nproc;
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0 ||
	    getrlimit(RLIMIT_NPROC, &nproc) < 0)
		return false;
	long fds = nofile.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)nofile.rlim_cur;
	long procs = nproc.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)nproc.rlim_cur;
	bool ok = report(out, fds >= users * WEBSOCKETD_FDS_PER_USER + 64,
	                 "open files (ulimit -n, for websocketd)", fds,
	                 users * WEBSOCKETD_FDS_PER_USER + 64,
	                 "raise LimitNOFILE= in the websocketd unit");
	ok &= report(out, procs >= users + 16, "processes (ulimit -u)", procs,
	             users + 16, "raise LimitNPROC= in the websocketd unit");
	long file_max = read_number("/proc/sys/fs/file-max");
	ok &= report(out, file_max < 0 || file_max >= users * 8,
	             "open files, whole system (fs.file-max)", file_max,
	             users * 8, "raise fs.file-max");
	return ok;
}

static bool check_dir(FILE *out, const char *what, const char *path, int need)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		bool creatable = errno == ENOENT && need != R_OK;
		fprintf(out, "%-7s %s %s: %s%s\n", creatable ? "ok" : "PROBLEM",
		        what, path, strerror(errno),
		        creatable ? " (created at the first connection)" : "");
		return creatable;
	}
	bool ok = S_ISDIR(st.st_mode) && access(path, need | X_OK) == 0;
	fprintf(out, "%-7s %s %s: mode %04o, owner uid %ld, %s\n",
	        ok ? "ok" : "PROBLEM", what, path, (unsigned)(st.st_mode & 07777),
	        (long)st.st_uid, !S_ISDIR(st.st_mode) ? "not a directory"
	        : ok ? "usable" : need == R_OK ? "not readable by us"
	        : "not writable by us");
	return ok;
}

/* Where the runtime state goes and why (rundir.h).  It is found from the
 * users directory, so it can be told only once that exists. */
static bool check_run_dir(const struct chat_config *cfg, FILE *out)
{
	int users = dirs_open(cfg->users_dir, cfg->dir_mode, false);
	if (users < 0) {
		fprintf(out, "ok      run directory: %s%s\n", cfg->run_dir[0]
		        ? cfg->run_dir : "chosen at the first connection",
		        cfg->run_dir[0] ? " (RUN_DIR in the config)"
		        : " (it depends on the users directory, not made yet)");
		return true;
	}
	struct rundir rd;
	int rc = rundir_open(cfg->run_dir, users, &rd);
	close(users);
	if (rc < 0) {
		fprintf(out, "PROBLEM run directory: none usable (%s); set RUN_DIR "
		        "to a directory of this user's\n", rd.notes);
		return false;
	}
	close(rd.fd);
	fprintf(out, "ok      run directory %s: mode 0700, owner uid %ld, %s; "
	        "chosen because %s%s%s\n", rd.path, (long)geteuid(),
	        rd.tmpfs ? "tmpfs" : "not tmpfs (works, but costs disk writes)",
	        rd.why, rd.notes[0] ? "; passed over: " : "", rd.notes);
	return true;
}

/* The PHP pages run as the web server's user, which owns the sessions
 * directory: files made with FILE_MODE must be readable by it. */
static void check_modes(const struct chat_config *cfg, FILE *out)
{
	struct stat st;
	if (stat(cfg->sessions_dir, &st) < 0 || st.st_uid == geteuid())
		return;
	bool by_group = st.st_gid == getegid() && (cfg->file_mode & 0040);
	if ((cfg->file_mode & 0004) || by_group)
		return;
	fprintf(out, "warning FILE_MODE %04o: the web pages run as uid %ld (the "
	        "owner of %s), which cannot read the room logs and presence "
	        "files this user makes; use 0644 (the default) unless the pages "
	        "run as this user\n", (unsigned)cfg->file_mode, (long)st.st_uid,
	        cfg->sessions_dir);
}

/* TURN (ice.h): whoever reads the shared secret can make credentials for
 * the TURN server, so the file it is in should be readable by the chat's
 * user (and root) only. */
static void check_turn(const struct chat_config *cfg, FILE *out)
{
	if (!cfg->turn_urls[0])
		return;
	struct stat st;
	const char *file = cfg->turn_secret_file;
	if (stat(file, &st) < 0) {
		fprintf(out, "warning TURN secret %s: %s\n", file, strerror(errno));
		return;
	}
	fprintf(out, "ok      TURN: %s, credentials valid for %d s%s, secret "
	        "from %s (mode %04o, owner uid %ld)\n", cfg->turn_urls,
	        cfg->turn_ttl, cfg->ice_relay_only ? ", relay only" : "", file,
	        (unsigned)(st.st_mode & 07777), (long)st.st_uid);
	if (st.st_mode & 0004)
		fprintf(out, "warning TURN secret: %s is readable by every local "
		        "user, who could make credentials for your TURN server; "
		        "keep the secret in a file of its own (TURN_SECRET_FILE) "
		        "with mode 0640, owner root, group of the chat's user\n",
		        file);
	if (strlen(cfg->turn_secret) < 16)
		fprintf(out, "warning TURN secret: shorter than 16 characters; "
		        "make a long random one (openssl rand -hex 32) and give "
		        "it to the TURN server too\n");
}

/* Identity (identity.h): the sources in their order and, with tokens,
 * where the secret comes from (config_load has refused a file others
 * may read). */
static void check_identity(const struct chat_config *cfg, FILE *out)
{
	static const char *const names[] = { "anonymous", "token", "php",
	                                     "sso" };
	fprintf(out, "ok      identity sources:");
	for (int i = 0; i < cfg->n_identity_sources; i++)
		fprintf(out, "%s %s", i ? "," : "",
		        names[cfg->identity_sources[i] & 3]);
	if (cfg->session_max_age)
		fprintf(out, "; PHP sessions count for %d s after their last "
		        "change\n", cfg->session_max_age);
	else
		fprintf(out, "; PHP sessions never expire (SESSION_MAX_AGE=0)\n");
	struct stat st;
	if (cfg->auth_token_secret[0] &&
	    stat(cfg->auth_token_secret_file, &st) == 0)
		fprintf(out, "ok      signed tokens in cookie %s, secret from %s "
		        "(mode %04o, owner uid %ld)\n", cfg->auth_token_cookie,
		        cfg->auth_token_secret_file,
		        (unsigned)(st.st_mode & 07777), (long)st.st_uid);
}

/* How long the Redis server may take to accept and to answer each
 * command, as OpenSSO may take 2 s. */
#define REDIS_CHECK_TIMEOUT_MS 2000

/* TRANSPORT=redis: the server of REDIS_URL, reached as a connection will
 * reach it (redis_link.h): its version and the round trip of a PING. */
static bool check_redis(const struct chat_config *cfg, FILE *out)
{
	if (cfg->transport != CONFIG_TRANSPORT_REDIS)
		return true;
	struct redis_url url;
	char err[512], where[REDIS_URL_MAX + 32], version[64];
	if (redis_url_parse(cfg->redis_url, &url, err, sizeof err) < 0) {
		fprintf(out, "PROBLEM TRANSPORT=redis: %s\n", err);
		return false; /* config_load has refused it already */
	}
	redis_url_describe(&url, where, sizeof where);
	/* A server that closes the connection while we write to it must
	 * fail the check, not end it. */
	signal(SIGPIPE, SIG_IGN);
	struct redis_link *link = redis_link_open(&url, REDIS_CHECK_TIMEOUT_MS,
	                                          err, sizeof err);
	explicit_bzero(&url, sizeof url);
	long long rtt = -1;
	bool ok = link && redis_link_server_version(link, version,
	                                            sizeof version, err,
	                                            sizeof err) == 0 &&
	          (rtt = redis_link_ping(link, err, sizeof err)) >= 0;
	redis_link_close(link);
	if (!ok) {
		fprintf(out, "PROBLEM TRANSPORT=redis: %s\n", err);
		return false;
	}
	fprintf(out, "ok      TRANSPORT=redis: Redis %s at %s, PING round trip "
	        "%lld us, keys prefixed %s\n", version, where, rtt,
	        cfg->redis_key_prefix);
	return true;
}

int check_run(const struct chat_config *cfg, FILE *out)
{
	fprintf(out, "chat_server --check: limits for %d expected users "
	             "(EXPECTED_USERS), running as uid %ld\n",
	        cfg->expected_users, (long)getuid());
	bool ok = check_inotify(cfg, out);
	ok &= check_rlimits(cfg, out);
	ok &= check_dir(out, "rooms directory", cfg->rooms_dir, W_OK);
	ok &= check_dir(out, "users directory", cfg->users_dir, W_OK);
	ok &= check_dir(out, "log directory", cfg->log_dir, W_OK);
	ok &= check_dir(out, "sessions directory", cfg->sessions_dir, R_OK);
	ok &= check_run_dir(cfg, out);
	ok &= check_redis(cfg, out);
	check_modes(cfg, out);
	check_turn(cfg, out);
	check_identity(cfg, out);
	fprintf(out, "%s\n", ok ? "all checks passed" : "some checks failed");
	return ok ? 0 : 1;
}
