/* transport_files: a room kept in files on this host (transport.h).
 *
 * The parts are modules of their own, each with its contract:
 *  - membership: presence files users/<room>_<name>, alive while their
 *    owner holds a flock on them, changed under the room lock <room>.lock
 *    in the run directory (presence.h); the dead are reaped by whoever
 *    lists the room (reap.h), and by the warden (warden.h), which this
 *    transport starts as its upkeep;
 *  - the log: rooms/<room>.log, appended under a flock with the rotation
 *    pause kept (append.h), and followed like `tail -F`, woken by inotify
 *    or, past the inotify limits, by polling (follow.h); the two meet in
 *    transport_files_log.h;
 *  - private lines: one Unix datagram inbox per member in the run
 *    directory, named after its presence file (inbox.h).
 *
 * Opening takes two steps because the run directory's place follows from
 * the users directory (rundir.h), and the caller opens its own directories
 * in between, in the order it always has. */
#ifndef CHAT_TRANSPORT_FILES_H
#define CHAT_TRANSPORT_FILES_H

#include "config.h"
#include "rundir.h"
#include "transport.h"

/* Opens the rooms and users directories (made with DIR_MODE if missing)
 * for room.  Returns 0, or -1 with errno and *failed saying what could not
 * be opened (for the browser and stderr); t is open either way, unless
 * *failed is NULL (no memory), and must be closed with transport_close. */
int transport_files_open(struct room_transport *t,
                         const struct chat_config *cfg, const char *room,
                         const struct transport_hooks *hooks,
                         const char **failed);

/* Opens the installation's run directory (rundir.h) into rd and uses it
 * for room locks and inboxes.  The caller owns rd->fd (it keeps its own
 * runtime files there too) and closes it after t.  0 or -1 (rd->notes). */
int transport_files_run_dir(struct room_transport *t, struct rundir *rd);

/* What the warden is started with: the log directory (the caller's, kept
 * open until after t is closed) and the config's absolute path. */
void transport_files_warden(struct room_transport *t, int log_fd,
                            const char *config_file);

#endif
