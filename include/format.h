/* format: every line the server writes, byte for byte as the old program.
 *
 * T is the local time "[HH:MM:SS]".  Each function empties out, writes one
 * whole line ending in '\n' and returns 0, or -1 when it does not fit. */
#ifndef CHAT_FORMAT_H
#define CHAT_FORMAT_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

struct presence_entry;

/* "[HH:MM:SS]" for t in local time; out holds at least 11 bytes. */
void format_clock(time_t t, char out[static 11]);

/* T Welcome to the chat room <room> <name>! */
int format_welcome(struct buf *out, time_t t, const char *room, const char *name);
/* T <name> joined the <room> */
int format_join(struct buf *out, time_t t, const char *room, const char *name);
/* T <name> quit the <room> */
int format_quit(struct buf *out, time_t t, const char *room, const char *name);
/* T <name>> <text> */
int format_message(struct buf *out, time_t t, const char *name,
                   const char *text, size_t len);
/* T <from>> <target>: <text>   (a whisper or relayed signalling) */
int format_private(struct buf *out, time_t t, const char *from,
                   const char *target, const char *text, size_t len);
/* T <name>> <result>; results carry their own leading space */
int format_result(struct buf *out, time_t t, const char *name, const char *result,
                  size_t len);
/* T <from> whispers something to <target>   (WHISPER_LOG=notice) */
int format_whisper_notice(struct buf *out, time_t t, const char *from,
                          const char *target);
/* T Userlist: a:#f00,b:Gray, */
int format_userlist(struct buf *out, time_t t, const struct presence_entry *v,
                    size_t n);
/* T Error: <message>   (to the sender only, never logged) */
int format_error(struct buf *out, time_t t, const char *message);
/* T Notice: <message>   (news of the server that is no error, such as
 * the room being available again; to one browser, never logged) */
int format_notice(struct buf *out, time_t t, const char *message);

#endif
