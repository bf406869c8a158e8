/* elapsed: how long since a moment, on the monotonic clock (for the few
 * bounded waits: draining stdout at quit, a full inbox). */
#ifndef CHAT_ELAPSED_H
#define CHAT_ELAPSED_H

#include <time.h>

/* Now, for elapsed_ms. */
struct timespec elapsed_start(void);

/* Milliseconds since start. */
long elapsed_ms(const struct timespec *start);

#endif
