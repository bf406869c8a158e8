/* flood: how fast one client address may talk, across all its connections.
 *
 * A leaky bucket per address, kept in RUN_DIR/flood/<address> and read and
 * written under that file's flock, so every connection of an address (a
 * flooder opens many) shares one score.  The score leaks FLOOD_RATE points
 * a second; each message adds its cost (see dispatch.c: about one point,
 * more for long messages, more for joins).  Past FLOOD_BURST a message is
 * refused (and still counted); past FLOOD_KICK_FACTOR times FLOOD_BURST the
 * connection is closed.  A fast typist never gets near; a script does at
 * once, and only its own address pays. */
#ifndef CHAT_FLOOD_H
#define CHAT_FLOOD_H

#include <sys/types.h>

#define FLOOD_KICK_FACTOR 2

struct flood {
	int fd;        /* the address's bucket, -1: not limited */
	double rate;   /* points leaked per second */
	double burst;  /* score above which messages are refused */
};

enum flood_verdict {
	FLOOD_OK,
	FLOOD_REFUSE, /* over the burst: refuse this message */
	FLOOD_KICK,   /* far over it: close the connection */
};

/* Opens the bucket of addr in dir_fd.  rate or burst 0 means no limit (the
 * flood stays inactive).  Returns 0 or -1. */
int flood_open(struct flood *f, int dir_fd, const char *addr, mode_t mode,
               int rate, int burst);

/* Adds cost to the address's score.  An inactive flood always says OK, and
 * so does a bucket that cannot be read (a fault must not silence anyone). */
enum flood_verdict flood_charge(struct flood *f, double cost);

void flood_close(struct flood *f);

#endif
