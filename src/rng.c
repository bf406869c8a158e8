#include "rng.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include <openssl/opensslv.h>

/* libcrypto is loaded at the first throw of a die, not at start: its
 * relocations alone cost every process some 400 KiB of private memory and
 * part of a millisecond, for a command most connections never use.
 * RTLD_NODELETE keeps it loaded after the first use, so each later call is
 * a lookup in the dynamic linker's table, and we keep no state of our own. */
#define STR(x) #x
#define SONAME(major) "libcrypto.so." STR(major)
#define CRYPTO_LIBRARY SONAME(OPENSSL_VERSION_MAJOR)

static int random_bytes(unsigned char *buf, int n)
{
	void *lib = dlopen(CRYPTO_LIBRARY, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	int (*rand_bytes)(unsigned char *, int) = NULL;
	int rc = -1;
	/* POSIX's way to take a function from dlsym without a cast warning. */
	if (lib && (*(void **)&rand_bytes = dlsym(lib, "RAND_bytes")) &&
	    rand_bytes(buf, n) == 1)
		rc = 0;
	if (lib)
		dlclose(lib);
	return rc;
}

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
		if (random_bytes((unsigned char *)&r, sizeof r) < 0) {
			errno = EIO;
			return -1;
		}
		if (r >= reject_below) {
			*out = r % bound;
			return 0;
		}
	}
}
