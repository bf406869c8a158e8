#include "warden.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admission.h"
#include "dirs.h"
#include "flood.h"
#include "elapsed.h"
#include "inbox.h"
#include "presence.h"
#include "reap.h"
#include "rundir.h"

/* Without inotify (the per-user instance limit is reached) the warden
 * looks at every room this often instead. */
#define WARDEN_POLL_MS 2000
#define PENDING_MAX 64
/* A warden that ends just as we look, or has not yet said its pid, is
 * followed by another try, after 2, 4, ... 256 ms. */
#define ENSURE_TRIES 9

struct warden {
	const struct chat_config *cfg;
	int users_fd, rooms_fd, run_fd, lock_fd, inotify_fd;
	struct timespec collected;   /* the last collection */
	struct timespec empty_since; /* users/ seen empty since, if empty */
	bool empty;
	char pending[PENDING_MAX][ROOM_NAME_MAX + 1]; /* rooms to reap */
	size_t n_pending;
	bool reap_everything;        /* events were lost, or too many rooms */
};

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	if (!localtime_r(&now, &tm) ||
	    !strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm))
		stamp[0] = '\0';
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s chat_server warden[%ld]: ", stamp, (long)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- starting one ---------------------------------------------------- */

/* In the grandchild: stdio away from websocketd and the browser, the lock
 * on WARDEN_LOCK_FD, signals as a new program expects them, then exec. */
static void become_warden(const char *config_file, int lock_fd, int log_fd,
                          mode_t log_mode)
{
	int lock = fcntl(lock_fd, F_DUPFD_CLOEXEC, 10);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int log = openat(log_fd, WARDEN_LOG_NAME, O_WRONLY | O_APPEND | O_CREAT |
	                                          O_NOFOLLOW | O_CLOEXEC, log_mode);
	if (lock < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(log >= 0 ? log : null, 2) < 0 || dup2(lock, WARDEN_LOCK_FD) < 0)
		_exit(1);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir("/") < 0)
		_exit(1);
	execl("/proc/self/exe", "chat_server", "--config", config_file,
	      "--warden", (char *)NULL);
	_exit(127);
}

/* The warden's pid, in its lock file, for members to watch it by. */
static int write_pid(int lock_fd, pid_t pid)
{
	char text[32];
	int len = snprintf(text, sizeof text, "%ld\n", (long)pid);
	return pwrite(lock_fd, text, (size_t)len, 0) == len &&
	       ftruncate(lock_fd, len) == 0 ? 0 : -1;
}

/* Forks twice: the warden is nobody's child and in a session of its own,
 * out of reach of the signals websocketd sends its member.  The middle
 * process writes the warden's pid before it ends, so that the member
 * finds it there as soon as start returns. */
static int start(const char *config_file, int lock_fd, int log_fd,
                 mode_t log_mode)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setsid() < 0)
			_exit(1);
		pid_t warden = fork();
		if (warden != 0)
			_exit(warden < 0 || write_pid(lock_fd, warden) < 0 ? 1 : 0);
		become_warden(config_file, lock_fd, log_fd, log_mode);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static pid_t read_pid(int lock_fd)
{
	char text[32];
	ssize_t n = pread(lock_fd, text, sizeof text - 1, 0);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	char *end;
	long pid = strtol(text, &end, 10);
	return pid > 0 && pid <= INT_MAX && *end == '\n' ? (pid_t)pid : -1;
}

/* A pidfd of the warden that holds the lock lock_fd, or -1.  Checked
 * after it is opened: the lock still held and the file still naming the
 * same pid mean the pid was not a dead warden's, reused. */
static int watch_holder(int lock_fd)
{
	pid_t pid = read_pid(lock_fd);
	int fd = pid < 0 ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -1;
	if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK &&
	    read_pid(lock_fd) == pid)
		return fd;
	close(fd);
	return -1;
}

static int open_lock(int run_fd)
{
	return openat(run_fd, WARDEN_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW |
	                                   O_CLOEXEC, RUN_FILE_MODE);
}

/* One try: start a warden if none holds the lock, then watch the one
 * that does.  Returns the pidfd, or -1 (errno EAGAIN: try again).  A lock
 * is an open file's: the started warden shares the descriptor it was
 * taken on, so the check that someone holds it needs a file of its own. */
static int ensure_once(const char *config_file, int run_fd, int log_fd,
                       mode_t log_mode)
{
	int lock = open_lock(run_fd);
	if (lock < 0)
		return -1;
	if (flock(lock, LOCK_EX | LOCK_NB) == 0) {
		int rc = start(config_file, lock, log_fd, log_mode);
		close(lock); /* the warden holds it now, or nobody */
		lock = rc < 0 ? -1 : open_lock(run_fd);
		if (lock < 0)
			return -1;
	}
	int fd = watch_holder(lock);
	close(lock);
	if (fd < 0)
		errno = EAGAIN;
	return fd;
}

int warden_ensure(const char *config_file, int run_fd, int log_fd,
                  mode_t log_mode)
{
	int fd = -1;
	for (int i = 0; fd < 0 && i < ENSURE_TRIES; i++) {
		if (i > 0) { /* a warden being started has not said its pid */
			struct timespec pause = { 0, 1000000L << i };
			nanosleep(&pause, NULL);
		}
		fd = ensure_once(config_file, run_fd, log_fd, log_mode);
		if (fd < 0 && errno != EAGAIN)
			break;
	}
	if (fd < 0)
		fprintf(stderr, "chat_server: cannot start or find the warden: "
		        "%s\n", strerror(errno));
	return fd;
}

/* ---- the lock ---------------------------------------------------------- */

static bool is_our_lock(int fd, int run_fd)
{
	struct stat held, named;
	return fstat(fd, &held) == 0 &&
	       fstatat(run_fd, WARDEN_LOCK, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	       held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

/* The lock handed down by the member that started us, else our own try.
 * Returns the descriptor, or -1 when another warden holds it. */
static int take_lock(int run_fd)
{
	if (is_our_lock(WARDEN_LOCK_FD, run_fd) &&
	    flock(WARDEN_LOCK_FD, LOCK_EX | LOCK_NB) == 0) {
		fcntl(WARDEN_LOCK_FD, F_SETFD, FD_CLOEXEC);
		return WARDEN_LOCK_FD;
	}
	int fd = open_lock(run_fd);
	if (fd >= 0 && (flock(fd, LOCK_EX | LOCK_NB) < 0 ||
	                write_pid(fd, getpid()) < 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* ---- collecting -------------------------------------------------------- */

/* The per-address files of sub (flood/ or conn/), if it exists. */
static int collect_sub(int run_fd, const char *sub,
                       int (*collect)(int dir_fd, long idle_seconds))
{
	int dir = openat(run_fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	                              O_CLOEXEC);
	if (dir < 0)
		return errno == ENOENT ? 0 : -1;
	int rc = collect(dir, WARDEN_IDLE_S);
	close(dir);
	return rc;
}

static void collected(int rc, const char *what)
{
	if (rc < 0)
		say("cannot collect unused %s: %s", what, strerror(errno));
}

void warden_collect(int run_fd)
{
	collected(presence_collect_locks(run_fd), "room locks");
	collected(inbox_collect(run_fd, WARDEN_IDLE_S), "inboxes");
	collected(collect_sub(run_fd, "flood", flood_collect), "flood buckets");
	collected(collect_sub(run_fd, "conn", admission_collect),
	          "connection slots");
}

/* ---- watching ---------------------------------------------------------- */

static bool users_empty(int users_fd)
{
	DIR *dir = dirs_list(users_fd);
	if (!dir)
		return false;
	char room[ROOM_NAME_MAX + 1];
	struct dirent *d;
	bool empty = true;
	while (empty && (d = readdir(dir)))
		empty = !presence_room_of(d->d_name, room);
	closedir(dir);
	return empty;
}

static void add_pending(struct warden *w, const char *room)
{
	for (size_t i = 0; i < w->n_pending; i++)
		if (strcmp(w->pending[i], room) == 0)
			return;
	if (w->n_pending == PENDING_MAX) {
		w->reap_everything = true;
		return;
	}
	snprintf(w->pending[w->n_pending++], ROOM_NAME_MAX + 1, "%s", room);
}

static void report(const char *room, int reaped)
{
	if (reaped < 0)
		say("cannot reap %s: %s", room, strerror(errno));
	else if (reaped > 0)
		say("%s: %d member%s whose process had died removed, quit "
		    "logged", room, reaped, reaped == 1 ? "" : "s");
}

static void reap_pending(struct warden *w)
{
	mode_t mode = w->cfg->file_mode;
	if (w->reap_everything)
		reap_all(w->users_fd, w->rooms_fd, w->run_fd, mode, report);
	else
		for (size_t i = 0; i < w->n_pending; i++)
			report(w->pending[i], reap_room(w->users_fd, w->rooms_fd,
			                                w->run_fd, w->pending[i],
			                                mode));
	w->n_pending = 0;
	w->reap_everything = false;
}

/* One event.  Returns false when users/ itself went away. */
static bool notice(struct warden *w, const struct inotify_event *e)
{
	char room[ROOM_NAME_MAX + 1];
	if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT))
		return false;
	if (e->mask & IN_Q_OVERFLOW)
		w->reap_everything = true;
	else if (e->len && presence_room_of(e->name, room))
		add_pending(w, room); /* a member left or died: look */
	return true;
}

/* Reads what inotify has.  Returns false when users/ went away. */
static bool read_events(struct warden *w)
{
	char events[16 * 1024]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	while ((n = read(w->inotify_fd, events, sizeof events)) > 0) {
		for (char *p = events; p < events + n;) {
			const struct inotify_event *e = (const void *)p;
			if (!notice(w, e))
				return false;
			p += sizeof *e + e->len;
		}
	}
	return true;
}

static void look(struct warden *w)
{
	bool empty = users_empty(w->users_fd);
	if (empty && !w->empty)
		w->empty_since = elapsed_start();
	w->empty = empty;
}

static int next_timeout(const struct warden *w)
{
	long left = WARDEN_COLLECT_MS - elapsed_ms(&w->collected);
	if (w->empty) {
		long linger = WARDEN_LINGER_MS - elapsed_ms(&w->empty_since);
		left = linger < left ? linger : left;
	}
	if (w->inotify_fd < 0 && left > WARDEN_POLL_MS)
		left = WARDEN_POLL_MS;
	return left > 0 ? (int)left : 0;
}

/* Lets the lock go when nobody is left, unless somebody joined meanwhile.
 * Returns true when the warden should end. */
static bool leave(struct warden *w)
{
	close(w->lock_fd);
	w->lock_fd = -1;
	if (users_empty(w->users_fd))
		return true;
	w->lock_fd = take_lock(w->run_fd);
	return w->lock_fd < 0; /* another one took over */
}

static int watch_users(struct warden *w)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", w->users_fd);
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->inotify_fd >= 0 &&
	    inotify_add_watch(w->inotify_fd, path, IN_CLOSE_WRITE |
	                      IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) >= 0)
		return 0;
	say("inotify is unavailable (%s); looking at every room every %d ms "
	    "instead (see chat_server --check)", strerror(errno),
	    WARDEN_POLL_MS);
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	w->inotify_fd = -1;
	return -1;
}

/* One turn.  Returns false when the warden should end. */
static bool turn(struct warden *w)
{
	struct pollfd p = { w->inotify_fd, POLLIN, 0 };
	int n = poll(&p, 1, next_timeout(w));
	if (n < 0)
		return errno == EINTR;
	if (n > 0 && !read_events(w))
		return false;
	if (w->inotify_fd < 0)
		w->reap_everything = true;
	if (w->n_pending || w->reap_everything)
		reap_pending(w);
	if (elapsed_ms(&w->collected) >= WARDEN_COLLECT_MS) {
		warden_collect(w->run_fd);
		w->collected = elapsed_start();
	}
	look(w);
	return !(w->empty && elapsed_ms(&w->empty_since) >= WARDEN_LINGER_MS &&
	         leave(w));
}

static int open_dirs(struct warden *w)
{
	const struct chat_config *cfg = w->cfg;
	struct rundir rd;
	/* Made by the members: a warden makes nothing (an installation
	 * being removed must not grow again under the remover's feet). */
	if (cfg->run_dir[0] && access(cfg->run_dir, F_OK) < 0)
		return -1;
	w->users_fd = dirs_open(cfg->users_dir, cfg->dir_mode, false);
	w->rooms_fd = w->users_fd < 0 ? -1
	              : dirs_open(cfg->rooms_dir, cfg->dir_mode, false);
	w->run_fd = w->rooms_fd < 0 || rundir_open(cfg->run_dir, w->users_fd,
	                                           &rd) < 0 ? -1 : rd.fd;
	return w->run_fd < 0 ? -1 : 0;
}

static void close_all(struct warden *w)
{
	int fds[] = { w->users_fd, w->rooms_fd, w->run_fd, w->lock_fd,
	              w->inotify_fd };
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int warden_run(const struct chat_config *cfg)
{
	struct warden w = { .cfg = cfg, .users_fd = -1, .rooms_fd = -1,
	                    .run_fd = -1, .lock_fd = -1, .inotify_fd = -1 };
	umask(0);
	signal(SIGPIPE, SIG_IGN);
	if (open_dirs(&w) < 0) {
		say("cannot open the chat's directories: %s", strerror(errno));
		close_all(&w);
		return 1;
	}
	w.lock_fd = take_lock(w.run_fd);
	if (w.lock_fd < 0) {
		close_all(&w); /* another warden watches */
		return 0;
	}
	watch_users(&w); /* before the first look: nothing slips between */
	reap_all(w.users_fd, w.rooms_fd, w.run_fd, cfg->file_mode, report);
	warden_collect(w.run_fd);
	w.collected = elapsed_start();
	look(&w);
	while (turn(&w))
		;
	close_all(&w);
	return 0;
}

/* ---- once -------------------------------------------------------------- */

/* Root acts as the users directory's owner: files it makes in the run
 * directory (a room lock) must stay usable by the chat's own user, and that
 * user's run directory is the one to reap in. */
static int act_as_owner(const char *users_dir)
{
	struct stat st;
	if (geteuid() != 0 || stat(users_dir, &st) < 0 || st.st_uid == 0)
		return 0;
	const struct passwd *pw = getpwuid(st.st_uid);
	gid_t gid = pw ? pw->pw_gid : st.st_gid;
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(st.st_uid) < 0)
		return -1;
	return 0;
}

int warden_reap_once(const struct chat_config *cfg, FILE *out)
{
	struct warden w = { .cfg = cfg, .users_fd = -1, .rooms_fd = -1,
	                    .run_fd = -1, .lock_fd = -1, .inotify_fd = -1 };
	umask(0);
	if (act_as_owner(cfg->users_dir) < 0) {
		fprintf(stderr, "chat_server: cannot act as the owner of %s: %s\n",
		        cfg->users_dir, strerror(errno));
		return 1;
	}
	if (open_dirs(&w) < 0) {
		int err = errno;
		close_all(&w);
		if (err == ENOENT && access(cfg->users_dir, F_OK) < 0) {
			fprintf(out, "chat_server --reap: no users directory yet; "
			        "nothing to do\n");
			return 0;
		}
		fprintf(stderr, "chat_server: cannot open the chat's directories: "
		        "%s\n", strerror(err));
		return 1;
	}
	int reaped = reap_all(w.users_fd, w.rooms_fd, w.run_fd, cfg->file_mode,
	                      NULL);
	warden_collect(w.run_fd);
	close_all(&w);
	if (reaped < 0) {
		fprintf(stderr, "chat_server: cannot reap: %s\n", strerror(errno));
		return 1;
	}
	fprintf(out, "chat_server --reap: %d dead member%s removed\n", reaped,
	        reaped == 1 ? "" : "s");
	return 0;
}
