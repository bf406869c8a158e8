#include "crypto.h"

#include <dlfcn.h>
#include <limits.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>

/* libcrypto is loaded when a function below is first called, not at start:
 * its relocations alone cost every process some 400 KiB of private memory
 * and part of a millisecond, for what most connections never use (a
 * /dice, the TURN credential of a welcome).  RTLD_NODELETE keeps it loaded
 * after the first use, so each later call is a lookup in the dynamic
 * linker's table, and we keep no state of our own.  The signatures are
 * taken from OpenSSL's headers (__typeof__), so that the compiler checks
 * every call made through a looked-up pointer. */
#define STR(x) #x
#define SONAME(major) "libcrypto.so." STR(major)
#define CRYPTO_LIBRARY SONAME(OPENSSL_VERSION_MAJOR)

/* The libcrypto function name, or NULL. */
static void *symbol(const char *name)
{
	void *lib = dlopen(CRYPTO_LIBRARY, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!lib)
		return NULL;
	void *fn = dlsym(lib, name);
	dlclose(lib); /* still loaded: RTLD_NODELETE */
	return fn;
}

/* POSIX's way to take a function from dlsym without a cast warning. */
#define LOOKUP(var, name) (*(void **)&(var) = symbol(name))

int crypto_random_bytes(unsigned char *buf, size_t n)
{
	__typeof__(RAND_bytes) *rand_bytes = NULL;
	if (n > INT_MAX || !LOOKUP(rand_bytes, "RAND_bytes"))
		return -1;
	return rand_bytes(buf, (int)n) == 1 ? 0 : -1;
}

int crypto_hmac_sha1(const void *key, size_t keylen, const void *data,
                     size_t n, unsigned char out[CRYPTO_SHA1_LEN])
{
	__typeof__(HMAC) *hmac = NULL;
	__typeof__(EVP_sha1) *sha1 = NULL;
	if (keylen > INT_MAX || !LOOKUP(hmac, "HMAC") ||
	    !LOOKUP(sha1, "EVP_sha1"))
		return -1;
	const EVP_MD *md = sha1();
	unsigned int len = 0;
	if (!md || !hmac(md, key, (int)keylen, data, n, out, &len) ||
	    len != CRYPTO_SHA1_LEN)
		return -1;
	return 0;
}

int crypto_base64(const unsigned char *in, size_t n, char *out, size_t outsz)
{
	__typeof__(EVP_EncodeBlock) *encode = NULL;
	if (n > (size_t)INT_MAX / 4 * 3 - 2 || outsz < 4 * ((n + 2) / 3) + 1 ||
	    !LOOKUP(encode, "EVP_EncodeBlock"))
		return -1;
	return encode((unsigned char *)out, in, (int)n) < 0 ? -1 : 0;
}

int crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
                       size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	__typeof__(HMAC) *hmac = NULL;
	__typeof__(EVP_sha256) *sha256 = NULL;
	if (keylen > INT_MAX || !LOOKUP(hmac, "HMAC") ||
	    !LOOKUP(sha256, "EVP_sha256"))
		return -1;
	const EVP_MD *md = sha256();
	unsigned int len = 0;
	if (!md || !hmac(md, key, (int)keylen, data, n, out, &len) ||
	    len != CRYPTO_SHA256_LEN)
		return -1;
	return 0;
}

int crypto_memcmp_const(const void *a, const void *b, size_t n)
{
	__typeof__(CRYPTO_memcmp) *cmp = NULL;
	if (!LOOKUP(cmp, "CRYPTO_memcmp"))
		return -1;
	return cmp(a, b, n) == 0 ? 0 : 1;
}
