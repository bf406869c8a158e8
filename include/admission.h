/* admission: whether a connection may come in at all.
 *
 * - Origin: a browser sends the page's origin with every WebSocket.  A
 *   foreign site could otherwise open a socket to us carrying the user's
 *   cookies (cross-site WebSocket hijacking), so when ALLOWED_ORIGINS is set
 *   only those origins are let in.  A client that sends no Origin is not a
 *   browser and carries no victim's cookies: it is let in.
 * - Address: REMOTE_ADDR, or, when REMOTE_ADDR is a proxy listed in
 *   TRUSTED_PROXIES, the address that proxy put last in X-Forwarded-For
 *   (walking back through every trusted proxy in the chain).
 * - Connections per address: each connection holds a flock on one of
 *   MAX_CONNECTIONS_PER_ADDRESS slot files in RUN_DIR/conn; the kernel
 *   frees the slot when the process dies, however it dies.
 *
 * The files of RUN_DIR/conn and RUN_DIR/flood (flood.h) follow one rule,
 * so that runtime state does not grow with every address ever seen: every
 * live user of such a file holds a flock on it, and a collector removes a
 * file that no one holds (its exclusive LOCK_NB succeeds) and that has
 * been idle long enough, while holding that exclusive lock.  A user that
 * opened the file just before finds, once it holds its own lock, that the
 * file has no link left, and opens the name again. */
#ifndef CHAT_ADMISSION_H
#define CHAT_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define ADDRESS_MAX 64 /* canonical text of an IPv4 or IPv6 address */

/* True when allowed (origins separated by spaces or commas) is empty, origin
 * is NULL, or origin is one of them (scheme and host compared without
 * regard to case). */
bool admission_origin_allowed(const char *allowed, const char *origin);

/* Writes the client's address in canonical form to out (ADDRESS_MAX bytes).
 * Returns false when REMOTE_ADDR is missing or not an address. */
bool admission_client_address(const char *remote_addr,
                              const char *forwarded_for,
                              const char *trusted_proxies, char *out);

/* True for an address of this host (127.0.0.0/8, ::1): a client that
 * reaches us from here, not through the proxy. */
bool admission_is_loopback(const char *addr);

/* Takes one of max slots for addr in dir_fd, creating the slot files with
 * mode, exactly (run with umask 0), and marks it used now (its mtime).
 * Returns the slot's descriptor (keep it open while connected), or -1 with
 * errno EUSERS when all are taken. */
int admission_take_slot(int dir_fd, const char *addr, int max, mode_t mode);

/* Removes from dir_fd the slot files that no connection holds and that
 * were last taken idle_seconds ago or more.  Returns how many were
 * removed, or -1 with errno set when dir_fd cannot be listed. */
int admission_collect(int dir_fd, long idle_seconds);

/* Whether a file no process holds may go, given it open (fd) and its
 * stat.  Asked once before the exclusive lock is taken (a file in use is
 * then not held even for a moment: a connection taking a slot would take
 * it for someone's) and once more holding it. */
typedef bool (*admission_idle_fn)(int fd, const struct stat *st, void *ctx);

/* The collector of the rule above: removes the regular files of dir_fd
 * (names not starting with '.') that no process holds and that idle says
 * are idle, each under an exclusive flock and only while it still has its
 * name.  Returns how many, or -1 with errno set when dir_fd cannot be
 * listed. */
int admission_collect_idle(int dir_fd, admission_idle_fn idle, void *ctx);

#endif
