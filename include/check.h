/* check: `chat_server --check`, a self-test for sysadmins.
 *
 * Reports the limits that bound how many people can be connected at once
 * (inotify instances and watches, open files, processes) against
 * EXPECTED_USERS, whether the directories exist with usable
 * permissions, and with TRANSPORT=redis whether the Redis server of
 * REDIS_URL answers (redis_link.h): its version and the round trip of a
 * PING. */
#ifndef CHAT_CHECK_H
#define CHAT_CHECK_H

#include <stdio.h>

#include "config.h"

/* Prints the report to out.  Returns 0 when nothing is wrong, 1 otherwise. */
int check_run(const struct chat_config *cfg, FILE *out);

#endif
