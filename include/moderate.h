/* moderate: moderation in a connection's life (moderation.h is what is
 * stored and said).
 *
 * A moderator's process runs the command: it stores what lasts, writes the
 * result line to the room log (every member, legacy or JSON, sees it),
 * writes the audit log, and sends a control datagram (inbox.h) to the
 * process of each member concerned, which obeys at once: a kicked or
 * banned member is told and its connection ends (with its quit line), a
 * muted one is told and its messages are refused until the mute ends. */
#ifndef CHAT_MODERATE_H
#define CHAT_MODERATE_H

#include <stdbool.h>
#include <stddef.h>

#include "connection.h"
#include "identity.h"
#include "request.h"

/* MODERATION_DIR, made (with DIR_MODE) when create is true; -1 when it
 * is missing (or cannot be made), which is said on stderr unless it is
 * simply missing: no moderator has acted yet, and nothing is in force. */
int moderate_open_dir(struct chat *c, bool create);

/* At join, under the room lock: refuses a banned name or address, and an
 * unverified identity when the room is locked; learns the topic and a
 * mute.  Returns 0, or the exit status of chat_fail. */
int moderate_admit(struct chat *c, const struct identity *id);

/* The topic line for a legacy client, after its welcome ("T Topic: X");
 * nothing without a topic or for JSON (its welcome has it).  0 or -1. */
int moderate_show_topic(struct chat *c);

/* Runs text[0..len) when it is a moderation command; false when it is
 * some other command. */
bool moderate_command(struct chat *c, const char *text, size_t len);

/* Acts on a control datagram from our inbox (it starts with
 * INBOX_CONTROL). */
void moderate_control(struct chat *c, const char *data, size_t len);

/* True, the sender told, when a muted member sends what rq is. */
bool moderate_silenced(struct chat *c, const struct request *rq);

#endif
