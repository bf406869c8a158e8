/* moderation: what moderators may do to a room, and what a room keeps of it.
 *
 * Commands (only for identities with ROLE_MODERATOR, identity.h):
 *   /kick NAME [reason]          /mute NAME MINUTES      /unmute NAME
 *   /ban NAME|ADDRESS MINUTES [reason]                   /unban NAME|ADDRESS
 *   /lock    /unlock             /topic [TEXT]   (no text: no topic)
 *
 * What lasts (bans, mutes, the lock, the topic) is kept in one file per
 * room, MODERATION_DIR/<room>.json, replaced whole (a temporary file, then
 * rename) under an flock of MODERATION_DIR/<room>.lock:
 *
 *   {"topic":"Be nice","locked":true,
 *    "bans":[{"name":"Bob","until":1796000000,"by":"Alice","reason":"spam"},
 *            {"address":"203.0.113.9","until":1796000000,"by":"Alice"}],
 *    "mutes":[{"name":"Carol","until":1796000000,"by":"Alice"}]}
 *
 * "until" is a Unix time; an entry whose "until" has passed is no longer in
 * force and is dropped at the next write.  Every key is optional; entries
 * of the wrong shape are ignored.  An administrator may edit the file.
 *
 * Every action is written to LOG_DIR/moderation.log, one line each:
 *   <ISO 8601 time with offset> TAB <moderator> TAB <action> TAB <target>
 *   TAB <detail>
 * where control characters (tabs and newlines included) and backslashes in
 * the fields are written as \xHH, so a hostile reason cannot make a field
 * or a line of its own. */
#ifndef CHAT_MODERATION_H
#define CHAT_MODERATION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"

#define MOD_TARGET_MAX 84      /* a member's name (presence.h) or address */
#define MOD_TEXT_MAX 512       /* a reason or a topic, in bytes */
#define MOD_MINUTES_MAX 525600 /* a year */
#define MOD_ENTRIES_MAX 1000   /* bans and mutes of one room */
#define MOD_FILE_MAX (1024 * 1024)
#define MOD_LOCK_WAIT_MS 5000
#define MODERATION_LOG_NAME "moderation.log"

enum mod_action {
	MOD_KICK,
	MOD_MUTE,
	MOD_UNMUTE,
	MOD_BAN,
	MOD_UNBAN,
	MOD_LOCK,
	MOD_UNLOCK,
	MOD_TOPIC,
};

struct mod_command {
	enum mod_action action;
	char target[MOD_TARGET_MAX + 1]; /* a name, or an address in canonical
	                                    form (by_address); "" for lock,
	                                    unlock, topic */
	bool by_address;
	long minutes;                 /* mute, ban */
	char text[MOD_TEXT_MAX + 1];  /* a reason (kick, ban) or the topic */
};

/* Reads a command line ("/kick Bob spam").  Returns 1 with *cmd filled, 0
 * when the line is no moderation command, -1 when it is one with arguments
 * refused: err then holds the sentence for the sender. */
int moderation_parse(const char *line, size_t len, struct mod_command *cmd,
                     char *err, size_t errsz);

/* The command's name ("kick"), as the audit log writes it. */
const char *moderation_action_name(enum mod_action a);

/* The result sentence for the room log, with its leading space, in out
 * (emptied first): " Kicked Bob: spam", " Muted Bob for 10 minutes",
 * " Unmuted Bob", " Banned Bob for 60 minutes: spam", " Unbanned Bob",
 * " Locked the room to verified members", " Unlocked the room",
 * " Set the topic: TEXT", " Cleared the topic".  Returns 0 or -1. */
int moderation_result(const struct mod_command *cmd, struct buf *out);

struct mod_entry {
	char target[MOD_TARGET_MAX + 1];
	bool address; /* target is an address, not a name */
	time_t until;
	char by[MOD_TARGET_MAX + 1];
	char text[MOD_TEXT_MAX + 1]; /* the reason, "" */
};

struct mod_state {
	char topic[MOD_TEXT_MAX + 1];
	bool locked;
	struct mod_entry *bans;
	size_t nbans;
	struct mod_entry *mutes;
	size_t nmutes;
};

void moderation_state_init(struct mod_state *st);
void moderation_state_free(struct mod_state *st);

/* Reads a room's file text into st (emptied first), leaving out entries
 * expired at now and those of the wrong shape.  Returns 0, or -1 when the
 * text is not a JSON object (st then empty). */
int moderation_parse_state(const char *text, size_t len, time_t now,
                           struct mod_state *st);

/* The file text of st (one line of JSON and '\n') in out.  0 or -1. */
int moderation_format_state(const struct mod_state *st, struct buf *out);

/* Applies cmd, by the moderator by, at now to st.  Kick changes nothing.
 * Returns 0, or -1 (errno ENOSPC) when MOD_ENTRIES_MAX is reached. */
int moderation_apply(struct mod_state *st, const struct mod_command *cmd,
                     const char *by, time_t now);

/* The ban in force at now for a member of that name or that address
 * (either may be "" or NULL), or NULL. */
const struct mod_entry *moderation_banned(const struct mod_state *st,
                                          const char *name,
                                          const char *address, time_t now);

/* The mute in force at now for name, or NULL. */
const struct mod_entry *moderation_muted(const struct mod_state *st,
                                         const char *name, time_t now);

/* Whole minutes left until until (at least 1 while in force). */
long moderation_minutes_left(time_t until, time_t now);

/* Opens the moderation directory, creating it (and its missing parents)
 * with dir_mode when create is true.  -1 with errno on error. */
int moderation_open_dir(const char *path, mode_t dir_mode, bool create);

/* Loads a room's state from dir_fd; a missing file, or dir_fd -1 (no
 * directory), is an empty state.
 * Returns 0, or -1 with errno (EBADMSG: the file is not what it should
 * be). */
int moderation_load(int dir_fd, const char *room, time_t now,
                    struct mod_state *st);

/* Applies cmd to the room's stored state, under the room's moderation
 * lock, and writes it back (temporary file, then rename).  *st is the
 * state after.  Returns 0, or -1 with errno (ETIMEDOUT: the lock was not
 * to be had; EBADMSG: the file is damaged and is left alone). */
int moderation_update(int dir_fd, const char *room, mode_t file_mode,
                      const struct mod_command *cmd, const char *by,
                      time_t now, struct mod_state *st);

/* The audit line of cmd (see above) in out.  Returns 0 or -1. */
int moderation_audit_line(time_t now, const char *by,
                          const struct mod_command *cmd, struct buf *out);

/* Appends the audit line to LOG_DIR/moderation.log.  0 or -1. */
int moderation_audit(int log_dir_fd, mode_t mode, time_t now, const char *by,
                     const struct mod_command *cmd);

#endif
