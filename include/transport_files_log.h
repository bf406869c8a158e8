/* transport_files_log: the room's lines in the files transport
 * (transport_files.h): rooms/<room>.log, appended under its flock with the
 * rotation pause kept (append.h) and followed like `tail -F` (follow.h),
 * woken by inotify or, past the inotify limits, by polling.
 *
 * One inotify descriptor serves both directions: the follower's watches
 * wake the reader, and the same watch on the rooms directory tells the
 * appends when no name there changed, so a line skips its rechecks
 * (append.h, struct append_seen).  Used by transport_files.c alone. */
#ifndef CHAT_TRANSPORT_FILES_LOG_H
#define CHAT_TRANSPORT_FILES_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "append.h"
#include "config.h"
#include "follow.h"
#include "room.h"
#include "transport.h"

#define TRANSPORT_FILES_LOG_SUFFIX ".log"

struct transport_files_log {
	const struct chat_config *cfg;
	struct transport_hooks hooks;
	int rooms_fd;          /* the rooms directory, or -1 (owned) */
	char name[ROOM_NAME_MAX + sizeof TRANSPORT_FILES_LOG_SUFFIX];
	int inotify_fd;        /* -1: following by polling */
	struct append_seen seen; /* our appends' last check of the log */
	struct follower follower;
	off_t history_end;     /* the log's size at our join */
	ino_t history_ino;     /* ... of this log file */
	off_t history_seen;    /* the follower's offset when last looked at */
};

/* Nothing open yet; hooks may be NULL. */
void transport_files_log_init(struct transport_files_log *l,
                              const struct chat_config *cfg,
                              const char *room,
                              const struct transport_hooks *hooks);

/* Opens the rooms directory (made with DIR_MODE if missing).  0 or -1. */
int transport_files_log_open_dir(struct transport_files_log *l);

/* The operations of transport.h of the same names. */
int transport_files_log_follow(struct transport_files_log *l,
                               bool report_skips);
void transport_files_log_notice(struct transport_files_log *l);
size_t transport_files_log_append(struct transport_files_log *l,
                                  const char *data, size_t len, bool member);
bool transport_files_log_paused(const struct transport_files_log *l);
int transport_files_log_read(struct transport_files_log *l, size_t max_bytes,
                             transport_line_fn fn, void *ctx);
int transport_files_log_rewind(struct transport_files_log *l, size_t n);
int transport_files_log_mark_history(struct transport_files_log *l);
bool transport_files_log_past_history(struct transport_files_log *l);
int transport_files_log_look_back(const struct transport_files_log *l,
                                  size_t max_bytes, transport_line_fn fn,
                                  void *ctx);

/* Closes what is open.  Safe twice. */
void transport_files_log_close(struct transport_files_log *l);

#endif
