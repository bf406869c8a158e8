/* warden: the one process per installation that notices dead members.
 *
 * A member killed with SIGKILL cannot log its quit or remove its presence
 * file, and in a room where nobody else joins or leaves no lister would
 * ever find it.  Polling would cost every member CPU forever; instead the
 * kernel tells: each member keeps its presence file open for writing, and
 * when its process ends, however, the kernel closes it and inotify reports
 * IN_CLOSE_WRITE on that name in users/.  One process watches: the warden,
 * `chat_server --warden`.  On such an event for a file that is still there
 * and whose lock is free, it reaps the file's room (reap.h): the quit line,
 * the file and inbox removed, a fresh user list.  It costs nothing while
 * nobody leaves.
 *
 * Nobody starts it by hand.  After its join, every member checks the
 * warden's lock, WARDEN_LOCK in the run directory; when nobody holds it,
 * the member takes it and starts a warden that inherits the held lock, so
 * two joins never start two.  The lock file holds the warden's pid, and
 * every member keeps a pidfd of it in its loop: should the warden itself
 * be killed, the members wake (once) and one of them starts the next.  The warden leaves its parent's session and
 * websocketd's reach (a storm of disconnects that kills every member must
 * not kill the one who cleans up after them), writes its rare messages to
 * LOG_DIR/WARDEN_LOG_NAME, and ends WARDEN_LINGER_MS after users/ was last
 * seen empty, or at once when users/ is removed.  Before it ends it lets
 * the lock go and looks at users/ again: a member that joined meanwhile
 * found the lock still held and started nobody, so the warden stays.
 *
 * While it runs it also collects runtime state that belongs to nobody
 * (unused room locks, inboxes, per-address files), at its start and every
 * WARDEN_COLLECT_MS, so the run directory stays bounded. */
#ifndef CHAT_WARDEN_H
#define CHAT_WARDEN_H

#include "config.h"

#define WARDEN_LOCK ".warden.lock" /* a dot: no room lock can be named so */
#define WARDEN_LOG_NAME "warden.log"
#define WARDEN_LINGER_MS 5000
#define WARDEN_COLLECT_MS (5 * 60 * 1000)
/* Runtime files unused for this long are collected: a flood bucket's
 * score is long back to zero by then, and a returning client starts
 * afresh either way. */
#define WARDEN_IDLE_S 60
/* The descriptor a started warden finds its lock on. */
#define WARDEN_LOCK_FD 3

/* For a member that has joined: starts a warden unless one runs, and
 * returns a pidfd of the one that runs (readable when it ends: call this
 * again then), or -1.  config_file is the config's absolute path, passed
 * to the warden.  Never fails the member: a problem goes to stderr. */
int warden_ensure(const char *config_file, int run_fd, int log_fd,
                  mode_t log_mode);

/* chat_server --warden: watches until nobody is left.  Returns the exit
 * status (0 also when another warden already runs). */
int warden_run(const struct chat_config *cfg);

/* chat_server --reap: reaps every room and collects what belongs to no
 * one, once.  Run as root, it acts as the owner of the users directory.
 * Returns the exit status. */
int warden_reap_once(const struct chat_config *cfg, FILE *out);

/* Removes runtime state that no live process uses (see above). */
void warden_collect(int run_fd);

#endif
