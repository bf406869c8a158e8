/* rundir: where one chat keeps its runtime state: room locks, private inbox
 * sockets, the per-address flood and connection files, the warden's lock.
 *
 * None of it has to survive a reboot, none of it may show in users/ or
 * rooms/ (the PHP pages list both whole), and all of it is private to the
 * user the chat runs as.  An upgraded installation has no setting for it,
 * and its BASE_DIR may belong to root, so by default the place is found,
 * not configured: the first usable of
 *
 *   1. RUN_DIR from the config, as given (made if missing);
 *   2. /run/chat_server/<id>, when /run/chat_server is ours (systemd's
 *      RuntimeDirectory=, a tmpfiles.d entry) or we are root and make it;
 *   3. /dev/shm/chat_server-<uid>/<id>: tmpfs on every Debian system;
 *   4. /tmp/chat_server-<uid>/<id>.
 *
 * <id> is the device and inode of the users directory in hex: every process
 * of one installation arrives at the same place whatever its environment
 * (websocketd passes almost none), and two chats of one user never share
 * locks.  A level is used only when it is ours: no symlink (O_NOFOLLOW),
 * owned by our effective uid, writable by no one else; the levels we own
 * are made, or put back to, mode 0700.  A candidate that belongs to anyone
 * else (a squatter in a world-writable /dev/shm) is passed over, never
 * trusted, and the next one is tried. */
#ifndef CHAT_RUNDIR_H
#define CHAT_RUNDIR_H

#include <stdbool.h>
#include <sys/types.h>

#define RUNDIR_PATH_MAX 512
#define RUNDIR_NOTES_MAX 512

/* Modes of everything inside: the state is nobody else's business. */
#define RUN_FILE_MODE 0600
#define RUN_DIR_MODE 0700

struct rundir {
	int fd;                       /* the directory, O_DIRECTORY */
	char path[RUNDIR_PATH_MAX];   /* where it is */
	const char *why;              /* which rule chose it */
	bool tmpfs;                   /* on a tmpfs: emptied at boot, no disk */
	char notes[RUNDIR_NOTES_MAX]; /* candidates passed over, and why */
};

/* One place a run directory may be: base inside parent (which must exist),
 * then <id> inside base. */
struct rundir_place {
	const char *parent;
	const char *base;
	bool per_user;  /* base gets "-<uid>": parent is shared by all users */
	bool root_only; /* only root may make base (others use it if theirs) */
	const char *why;
};

/* Opens the run directory of the installation whose users directory is
 * users_fd, as the rules above say; configured is RUN_DIR ("" for none).
 * Returns 0, or -1 with errno set and out->notes saying what was tried. */
int rundir_open(const char *configured, int users_fd, struct rundir *out);

/* rundir_open over other places than the standard ones (for tests). */
int rundir_open_among(const struct rundir_place *places, size_t n,
                      int users_fd, struct rundir *out);

/* Opens the directory name inside the run directory, made with
 * RUN_DIR_MODE if missing.  Returns the descriptor or -1. */
int rundir_sub(int run_fd, const char *name);

/* The address of the Unix socket name in the directory dir_fd.  sun_path
 * holds about 100 bytes and RUN_DIR may be longer, so the address goes
 * through our descriptor of the directory (/proc/self/fd/N/name).  0, or
 * -1 with errno ENAMETOOLONG. */
struct sockaddr_un;
int rundir_socket_address(int dir_fd, const char *name,
                          struct sockaddr_un *sa);

#endif
