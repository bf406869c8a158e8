/* archive_reap: the archiver's second job (archive.h): logging out, every
 * second, the members of a room whose process or host died.
 *
 * Who is dead is redis_room_reap's to tell (an alive score past, the
 * grace after a Redis restart).  Every second, each room that has members
 * (one HLEN, no lock: an empty room has nobody to reap) has its lock
 * taken, for at most ARCHIVE_LOCK_WAIT_MS, and redis_room_reap removes
 * the dead and appends their quit lines, after which a fresh user list is
 * appended, as the file transport's reaper writes one.  A lock held too
 * long by someone else (a join under way) puts the reap off to the next
 * second; the members are then listed without it, for the mirror. */
#ifndef CHAT_ARCHIVE_REAP_H
#define CHAT_ARCHIVE_REAP_H

#include "presence.h"
#include "redis_room.h"

/* Reaps r's room as said above, and gives its live members in live, for
 * the mirror.  0, or -1 with r->err. */
int archive_reap_room(struct redis_room *r, struct presence_list *live);

#endif
