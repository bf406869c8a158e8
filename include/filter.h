/* filter: room log lines this connection must not show.
 *
 * Needed for one setting only: with WHISPER_LOG=full the room log also
 * archives whisper lines "T <from>> <target>: <text>".  They were already
 * delivered privately, so no follower shows them (the sender and the target
 * would see them twice, everyone else must never see them).  A line of that
 * shape is a whisper when <target> was in the room at that point of the
 * log, which the filter learns from the user list lines it passes (at
 * join it is shown the log just before the replayed history, see
 * follower_look_back); until it has seen one, every such line is held
 * back. */
#ifndef CHAT_FILTER_H
#define CHAT_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct filter {
	bool active;         /* false: every line passes */
	bool known;          /* a user list line has been seen */
	struct buf members;  /* ",name:color,name:color," of the last list */
};

void filter_init(struct filter *f, bool active);

/* True when line (with its '\n') may be shown. */
bool filter_pass(struct filter *f, const char *line, size_t len);

void filter_free(struct filter *f);

#endif
