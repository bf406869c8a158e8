/* filter: room log lines this connection must not show.
 *
 * Needed for one setting only: with WHISPER_LOG=full the room log also
 * archives whisper lines "T <from>> <target>: <text>".  They were already
 * delivered privately, so no follower shows them (the sender and the target
 * would see them twice, everyone else must never see them).  A line of that
 * shape is a whisper when <target> was in the room at that point of the
 * log, which the filter learns from the user list lines it passes (at
 * join it is shown the log just before the replayed history, see
 * follower_look_back).
 *
 * It fails closed: whenever it does not know the membership, every line of
 * that shape is held back.  So before the first user list, after one too
 * long to keep (FILTER_MEMBERS_MAX), and after filter_forget, until the
 * next user list it can read.  An archived whisper shown by mistake is a
 * secret told; an ordinary line held by mistake is a line missed. */
#ifndef CHAT_FILTER_H
#define CHAT_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The longest member list kept: that of any log line a follower reads
 * (FOLLOW_LINE_MAX), so only lists it skips are unknown. */
#define FILTER_MEMBERS_MAX (256 * 1024)

struct filter {
	bool active;         /* false: every line passes */
	bool known;          /* the last user list line was read and kept */
	struct buf members;  /* ",name:color,name:color," of the last list */
};

void filter_init(struct filter *f, bool active);

/* True when line (with its '\n') may be shown. */
bool filter_pass(struct filter *f, const char *line, size_t len);

/* A line of the log went by unread (the follower skips one longer than it
 * can hold): it may have been a user list, so membership is unknown until
 * the next one. */
void filter_forget(struct filter *f);

void filter_free(struct filter *f);

#endif
