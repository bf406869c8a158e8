/* token: the signed identity a site can mint for its own logins
 * (AUTH_TOKEN_COOKIE, docs/identity.md).
 *
 *   v1.<payload>.<mac>
 *
 * payload is base64url without padding of a JSON object
 * {"name":N,"color":C,"exp":T,"roles":["moderator"]}; mac is base64url
 * without padding of HMAC-SHA256, under the secret, of the ASCII text
 * before the last dot ("v1.<payload>").  "color" and "roles" may be left
 * out (Gray, no role); other members are ignored, so a site may add its
 * own.  The name must be one chat_server could have made: a token whose
 * name identity_clean_name would change is refused, never rewritten.
 *
 * Pure functions of their arguments (the time included): no file is read,
 * so the tests and the fuzzer call them directly.  libcrypto computes the
 * MAC and compares it in constant time (crypto.h). */
#ifndef CHAT_TOKEN_H
#define CHAT_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "identity.h"

#define TOKEN_MAX 2048       /* longest token accepted, in bytes */
#define TOKEN_PREFIX "v1."

/* Why a token is no identity. */
enum token_result {
	TOKEN_OK,
	TOKEN_MALFORMED, /* not v1.<base64url>.<base64url>, or too long */
	TOKEN_FORGED,    /* the MAC does not match (or cannot be computed) */
	TOKEN_BAD_JSON,  /* signed, but not the object described above */
	TOKEN_BAD_NAME,  /* signed, but the name is not a clean name */
	TOKEN_BAD_COLOR, /* signed, but the colour is not one we show */
	TOKEN_EXPIRED,   /* signed and well formed, but exp <= now */
};

/* Checks token (NUL-terminated) against secret[0..secret_len) at time now.
 * On TOKEN_OK, id has the name, the colour, source IDENTITY_TOKEN,
 * verified true and the roles; otherwise id is left as it was. */
enum token_result token_verify(const char *token, const void *secret,
                               size_t secret_len, time_t now,
                               struct identity *id);

/* A short English word for r ("ok", "expired", ...), for logs. */
const char *token_result_text(enum token_result r);

/* Makes the token for name (which must be clean), color (NULL: none
 * written, the reader takes Gray), expiry exp and roles (ROLE_* bits),
 * NUL-terminated in out.  Returns its length, or -1 when an argument is
 * not valid (errno EINVAL), out is too small (ERANGE) or libcrypto is
 * missing. */
int token_mint(const void *secret, size_t secret_len, const char *name,
               const char *color, long long exp, unsigned roles, char *out,
               size_t outsz);

/* Signs any payload text json[0..n) as a token into out, as token_mint
 * does once it has written the JSON (for tests, the fuzzer and sites
 * with members of their own).  Returns the length or -1. */
int token_sign_payload(const void *secret, size_t secret_len,
                       const char *json, size_t n, char *out, size_t outsz);

/* base64url without padding (RFC 4648 section 5) of in[0..n) into out,
 * NUL-terminated; returns its length, or -1 when outsz is too small. */
int token_b64url_encode(const void *in, size_t n, char *out, size_t outsz);

/* Decodes s[0..len) (base64url, no padding, no other byte, and the unused
 * low bits of the last character zero, so each value has one spelling)
 * into out; returns the number of bytes, or -1. */
int token_b64url_decode(const char *s, size_t len, unsigned char *out,
                        size_t outsz);

#endif
