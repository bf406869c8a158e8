/* archive: `chat_server --archive`, the one process per host of
 * TRANSPORT=redis (docs/scale-out.md), run by chat_server-archive.service.
 *
 * The rooms live in Redis (redis_room.h); what the host's web pages read
 * lives on its disk.  The archiver carries the one to the other, for every
 * room in the rooms set, in one loop:
 *
 *   - Archive (archive_log.h): each stream's lines are appended to
 *     rooms/<room>.log in stream order, as the file transport would have
 *     appended them, so the history pages and logrotate work as on one
 *     host; a record in RUN_DIR/archive/<room> says how far, and a restart
 *     neither loses nor repeats a line.  It waits in XREAD BLOCK on every
 *     room's stream at once, so a line is in the log as soon as it is in
 *     Redis, and an idle chat costs a command a second.
 *   - Speak for the host (redis_host.h), every second: its score in
 *     P hosts, so that the host's members count as alive while it runs,
 *     and as gone REDIS_HOST_ALIVE_MS after it froze or vanished; taken
 *     away on SIGTERM.
 *   - Reap (archive_reap.h), every second per room: a member whose process
 *     was killed or whose host died is removed under the room's lock, its
 *     quit line and a fresh user list appended to the stream
 *     (redis_room_reap), so it leaves within a second of being found dead
 *     even when nobody else joins or leaves.
 *   - Mirror presence (archive_presence.h): users/ shows every host's
 *     members, as files the PHP pages and `chat_server --reap` read.
 *   - Relay (archive_relay.h): a thread beside the loop holds one
 *     subscribed Redis client for the host and hands the rooms'
 *     announcements to the members connected to it; started again when
 *     it ends.
 *
 * Redis unreachable: the connection is retried with a backoff of up to
 * ARCHIVE_BACKOFF_MAX_MS, with one line on stderr when the outage begins
 * and one when it ends; the logs and users/ stay as they were meanwhile.
 * SIGTERM or SIGINT: the mirrored files are removed and it exits 0.  One
 * archiver runs per chat: a second one, finding RUN_DIR/archive/.lock
 * held, says so and exits 1. */
#ifndef CHAT_ARCHIVE_H
#define CHAT_ARCHIVE_H

#include "config.h"

/* How long XREAD waits for a line, and so how often the rest is done. */
#define ARCHIVE_BLOCK_MS 1000
/* How long lines wait, once read, before they are written: Redis hands
 * them to the members in the same turn as to the archiver, and the
 * archive's work is then off the path of that delivery; a busy chat's
 * lines come in fewer, larger batches. */
#define ARCHIVE_GATHER_MS 5
/* Entries read per XREAD (per room). */
#define ARCHIVE_READ_COUNT 1000
/* The link's timeout: a reply, XREAD's included, comes within this. */
#define ARCHIVE_LINK_TIMEOUT_MS (ARCHIVE_BLOCK_MS + 4000)
/* How long a reap waits for a room's lock before trying next second. */
#define ARCHIVE_LOCK_WAIT_MS 200
#define ARCHIVE_BACKOFF_MIN_MS 100
#define ARCHIVE_BACKOFF_MAX_MS 2000

/* Runs until SIGTERM or SIGINT.  Returns the exit status: 0 after a
 * signal, 1 when it cannot start (TRANSPORT is not redis, REDIS_URL is
 * not valid, a directory cannot be opened, another archiver runs). */
int archive_run(const struct chat_config *cfg);

#endif
