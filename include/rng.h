/* rng: uniform random numbers from the system CSPRNG (OpenSSL). */
#ifndef CHAT_RNG_H
#define CHAT_RNG_H

#include <stdint.h>

/* A source of uniform integers in [0, bound), bound >= 1.  Returns 0, or -1
 * when no randomness could be had.  ctx is the source's own state. */
typedef int (*rng_uniform_fn)(void *ctx, uint32_t bound, uint32_t *out);

/* The CSPRNG source (ctx unused).  Rejection sampling: no modulo bias. */
int rng_uniform(void *ctx, uint32_t bound, uint32_t *out);

#endif
