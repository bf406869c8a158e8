/* inbox: private delivery to one connection (whispers, WebRTC signalling).
 *
 * The room log wakes every member; a private line must wake only its
 * addressee.  Each connection binds a Unix datagram socket in RUN_DIR named
 * after the device and inode of its presence file.  A sender pins the
 * addressee's presence file (presence_open_member), derives the name and
 * sends one datagram: one line, delivered whole, to that connection alone.
 * Someone who joins later under the same name has another presence file and
 * so another inbox: a line in flight to one who left is dropped, and the
 * sender is told, never handed to the newcomer. */
#ifndef CHAT_INBOX_H
#define CHAT_INBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* A control datagram: moderation's orders to the addressee's own process
 * (moderate.h), never shown to its browser.  Every line a client causes to
 * be sent starts with the clock "[" of format.h, so this first byte, which
 * no formatted line has, tells them apart; and only a process of our own
 * user can write to an inbox at all (inbox_receive drops the rest), so a
 * client cannot forge one.  "\x01kick\t<moderator>\t<reason>\n" ends the
 * connection; "\x01check\n" makes it read the room's moderation file again
 * (a ban, a mute or an unmute of it). */
#define INBOX_CONTROL '\x01'

#define INBOX_LINE_MAX (80 * 1024) /* a signalling line with its prefix */
#define INBOX_NAME_MAX 64

struct inbox {
	int fd;                     /* the bound socket, -1 if none */
	int dir_fd;                 /* RUN_DIR (not owned) */
	char name[INBOX_NAME_MAX];  /* socket file name inside RUN_DIR */
};

/* Binds the inbox of the connection whose presence file is presence_fd,
 * with mode (the owner always may write: sending needs it).  Returns 0 or
 * -1. */
int inbox_open(struct inbox *ib, int run_dir_fd, int presence_fd,
               mode_t mode);

/* Opens a socket connected to the inbox of the connection whose presence
 * file is member_fd.  Returns it, or -1 with errno ENOENT or ECONNREFUSED
 * when that connection has gone. */
int inbox_connect(int run_dir_fd, int member_fd);

/* Sends one line ('\n'-terminated) on a connected socket without waiting.
 * Returns 0, or -1 with errno EAGAIN when the addressee's queue is full
 * (poll the socket for POLLOUT, and keep reading our own inbox meanwhile:
 * two members may be sending to each other), ECONNREFUSED when it has
 * gone, EMSGSIZE. */
int inbox_try_send(int fd, const char *line, size_t len);

/* Takes the next line sent to us by a process of our own user into out
 * (emptied first); anything else is dropped.  Returns 1 with a line, 0 when
 * nothing is waiting, -1 on error. */
int inbox_receive(struct inbox *ib, struct buf *out);

/* Removes the inbox of a member who died without closing it (member_fd:
 * its presence file, still open). */
void inbox_remove_dead(int run_dir_fd, int member_fd);

/* Removes the inbox sockets in run_dir_fd that no process is bound to any
 * more and that are at least idle_s seconds old (a member that died
 * between leaving and closing its inbox).  Returns how many, or -1. */
int inbox_collect(int run_dir_fd, long idle_s);

/* Unbinds and closes.  Safe to call twice. */
void inbox_close(struct inbox *ib);

#endif
