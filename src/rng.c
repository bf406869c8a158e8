#include "rng.h"

#include <errno.h>

#include "crypto.h"

int rng_uniform(void *ctx, uint32_t bound, uint32_t *out)
{
	(void)ctx;
	if (bound == 0) {
		errno = EINVAL;
		return -1;
	}
	/* 2^32 mod bound: the draws below it are the incomplete last cycle of
	 * [0, 2^32) mod bound, and taking them would favour small values. */
	uint32_t reject_below = (uint32_t)(0u - bound) % bound;

	for (;;) {
		uint32_t r;
		if (crypto_random_bytes((unsigned char *)&r, sizeof r) < 0) {
			errno = EIO;
			return -1;
		}
		if (r >= reject_below) {
			*out = r % bound;
			return 0;
		}
	}
}
