/* crypto: what chat_server takes from libcrypto (OpenSSL), which it loads
 * when first needed, not at start (see src/crypto.c for why).  Each
 * function returns 0, or -1 when libcrypto cannot be loaded or fails. */
#ifndef CHAT_CRYPTO_H
#define CHAT_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA1_LEN 20

/* n bytes from the system CSPRNG (RAND_bytes). */
int crypto_random_bytes(unsigned char *buf, size_t n);

/* HMAC-SHA1 of data[0..n) under key[0..keylen): CRYPTO_SHA1_LEN bytes. */
int crypto_hmac_sha1(const void *key, size_t keylen, const void *data,
                     size_t n, unsigned char out[CRYPTO_SHA1_LEN]);

/* Standard base64 (RFC 4648, with '=' padding) of in[0..n), NUL-terminated
 * in out, which needs 4 * ((n + 2) / 3) + 1 bytes (-1 when outsz is
 * smaller). */
int crypto_base64(const unsigned char *in, size_t n, char *out, size_t outsz);

#define CRYPTO_SHA256_LEN 32

/* HMAC-SHA256 of data[0..n) under key[0..keylen): CRYPTO_SHA256_LEN
 * bytes. */
int crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
                       size_t n, unsigned char out[CRYPTO_SHA256_LEN]);

/* 0 when a[0..n) and b[0..n) are equal, 1 when not, in a time that does
 * not depend on where they differ (CRYPTO_memcmp); -1 when libcrypto
 * cannot be loaded. */
int crypto_memcmp_const(const void *a, const void *b, size_t n);

#endif
