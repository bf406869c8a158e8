/* authlog: log/authentization.log, one line per connection (spelling kept):
 * "YYYY-MM-DD_HH:MM:SS <X-Forwarded-For> <name> <source>", the source that
 * decided the name (identity_source_name: token, php, sso, anonymous)
 * appended as a fourth field, so that what read the old three fields
 * still finds them in their places (docs/protocol.md). */
#ifndef CHAT_AUTHLOG_H
#define CHAT_AUTHLOG_H

#include <sys/types.h>
#include <time.h>

#define AUTHLOG_NAME "authentization.log"
#define AUTHLOG_FORWARDED_MAX 256

/* Appends the line for t.  forwarded_for may be NULL (written as empty);
 * control and non-ASCII bytes in it become '?' and it is cut at
 * AUTHLOG_FORWARDED_MAX bytes, since it is whatever a client sent.
 * source NULL writes the old three fields only. */
int authlog_append(int log_dir_fd, mode_t mode, time_t t,
                   const char *forwarded_for, const char *name,
                   const char *source);

#endif
