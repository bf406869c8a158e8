#include "token.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "color.h"
#include "crypto.h"

#define MAC_CHARS 43 /* base64url of CRYPTO_SHA256_LEN bytes, unpadded */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz0123456789-_";

int token_b64url_encode(const void *in, size_t n, char *out, size_t outsz)
{
	const unsigned char *p = in;
	size_t need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
	if (outsz <= need)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = n - i;
		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		out[o++] = B64URL[v >> 18 & 63];
		out[o++] = B64URL[v >> 12 & 63];
		if (left > 1)
			out[o++] = B64URL[v >> 6 & 63];
		if (left > 2)
			out[o++] = B64URL[v & 63];
	}
	out[o] = '\0';
	return (int)o;
}

/* The value of a base64url character, or -1. */
static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

int token_b64url_decode(const char *s, size_t len, unsigned char *out,
                        size_t outsz)
{
	if (len % 4 == 1 || len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > outsz)
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* What is left over must be zero bits: one spelling per value. */
	if (bits && (acc & ((1u << bits) - 1)))
		return -1;
	return (int)o;
}

static int mac_of(const void *secret, size_t secret_len, const char *text,
                  size_t n, unsigned char mac[CRYPTO_SHA256_LEN])
{
	return crypto_hmac_sha256(secret, secret_len, text, n, mac);
}

int token_sign_payload(const void *secret, size_t secret_len,
                       const char *json, size_t n, char *out, size_t outsz)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	size_t pre = strlen(TOKEN_PREFIX);
	if (outsz <= pre) {
		errno = ERANGE;
		return -1;
	}
	memcpy(out, TOKEN_PREFIX, pre);
	int p = token_b64url_encode(json, n, out + pre, outsz - pre);
	if (p < 0) {
		errno = ERANGE;
		return -1;
	}
	size_t at = pre + (size_t)p;
	if (mac_of(secret, secret_len, out, at, mac) < 0)
		return -1;
	if (at + 1 >= outsz) {
		errno = ERANGE;
		return -1;
	}
	out[at++] = '.';
	int m = token_b64url_encode(mac, sizeof mac, out + at, outsz - at);
	if (m < 0) {
		errno = ERANGE;
		return -1;
	}
	return (int)(at + (size_t)m);
}

int token_mint(const void *secret, size_t secret_len, const char *name,
               const char *color, long long exp, unsigned roles, char *out,
               size_t outsz)
{
	if (!name || strlen(name) > NAME_MAX_BYTES ||
	    !identity_name_is_clean(name) ||
	    (color && (strlen(color) > COLOR_MAX || !color_is_valid(color)))) {
		errno = EINVAL;
		return -1;
	}
	json_t *o = json_object(), *r = NULL;
	bool ok = o && json_object_set_new(o, "name", json_string(name)) == 0 &&
	          (!color ||
	           json_object_set_new(o, "color", json_string(color)) == 0) &&
	          json_object_set_new(o, "exp", json_integer(exp)) == 0;
	if (ok && (roles & ROLE_MODERATOR)) {
		r = json_array();
		ok = r && json_array_append_new(r, json_string("moderator")) == 0 &&
		     json_object_set_new(o, "roles", r) == 0;
	}
	char *text = ok ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)
	                : NULL;
	json_decref(o);
	if (!text) {
		errno = ENOMEM;
		return -1;
	}
	int n = token_sign_payload(secret, secret_len, text, strlen(text), out,
	                           outsz);
	free(text);
	return n;
}

/* The roles of a token: an array of strings, "moderator" the one known
 * (others are ignored: a site may have more).  False for anything else. */
static bool read_roles(const json_t *roles, unsigned *bits)
{
	size_t i;
	json_t *role;
	*bits = 0;
	if (!roles)
		return true;
	if (!json_is_array(roles))
		return false;
	json_array_foreach(roles, i, role) {
		if (!json_is_string(role))
			return false;
		if (strcmp(json_string_value(role), "moderator") == 0)
			*bits |= ROLE_MODERATOR;
	}
	return true;
}

/* The members of the verified object o into id. */
static enum token_result read_members(const json_t *o, time_t now,
                                      struct identity *id)
{
	const json_t *name = json_object_get(o, "name");
	const json_t *color = json_object_get(o, "color");
	const json_t *exp = json_object_get(o, "exp");
	unsigned bits;
	if (!json_is_object(o) || !json_is_string(name) ||
	    !json_is_integer(exp) || (color && !json_is_string(color)) ||
	    !read_roles(json_object_get(o, "roles"), &bits))
		return TOKEN_BAD_JSON;
	const char *nm = json_string_value(name);
	const char *cl = color ? json_string_value(color) : COLOR_DEFAULT;
	/* Refused, not cleaned: the site vouches for this very name. */
	if (json_string_length(name) > NAME_MAX_BYTES ||
	    strlen(nm) != json_string_length(name) ||
	    !identity_name_is_clean(nm))
		return TOKEN_BAD_NAME;
	if (strlen(cl) > COLOR_MAX || !color_is_valid(cl))
		return TOKEN_BAD_COLOR;
	if (json_integer_value(exp) <= (json_int_t)now)
		return TOKEN_EXPIRED;
	snprintf(id->name, sizeof id->name, "%s", nm);
	snprintf(id->color, sizeof id->color, "%s", cl);
	id->source = IDENTITY_TOKEN;
	id->verified = true;
	id->roles = bits;
	return TOKEN_OK;
}

/* A verified payload (JSON, duplicate members refused) into id. */
static enum token_result read_payload(const unsigned char *json, size_t n,
                                      time_t now, struct identity *id)
{
	json_error_t error;
	json_t *o = json_loadb((const char *)json, n, JSON_REJECT_DUPLICATES,
	                       &error);
	enum token_result r = read_members(o, now, id);
	json_decref(o);
	return r;
}

enum token_result token_verify(const char *token, const void *secret,
                               size_t secret_len, time_t now,
                               struct identity *id)
{
	size_t pre = strlen(TOKEN_PREFIX);
	size_t len = token ? strnlen(token, TOKEN_MAX + 1) : 0;
	if (len > TOKEN_MAX || len <= pre ||
	    strncmp(token, TOKEN_PREFIX, pre) != 0)
		return TOKEN_MALFORMED;
	const char *dot = strrchr(token, '.');
	size_t signed_len = (size_t)(dot - token);
	size_t payload_len = signed_len - pre;
	if (signed_len <= pre || len - signed_len - 1 != MAC_CHARS ||
	    memchr(token + pre, '.', payload_len))
		return TOKEN_MALFORMED;
	unsigned char mac[CRYPTO_SHA256_LEN + 2], want[CRYPTO_SHA256_LEN];
	unsigned char payload[TOKEN_MAX];
	if (token_b64url_decode(dot + 1, MAC_CHARS, mac, sizeof mac) !=
	        CRYPTO_SHA256_LEN)
		return TOKEN_MALFORMED;
	int n = token_b64url_decode(token + pre, payload_len, payload,
	                            sizeof payload);
	if (n <= 0)
		return TOKEN_MALFORMED;
	if (mac_of(secret, secret_len, token, signed_len, want) < 0 ||
	    crypto_memcmp_const(mac, want, sizeof want) != 0)
		return TOKEN_FORGED;
	return read_payload(payload, (size_t)n, now, id);
}

const char *token_result_text(enum token_result r)
{
	switch (r) {
	case TOKEN_OK:
		return "ok";
	case TOKEN_MALFORMED:
		return "malformed";
	case TOKEN_FORGED:
		return "forged";
	case TOKEN_BAD_JSON:
		return "not the JSON of a token";
	case TOKEN_BAD_NAME:
		return "name not valid";
	case TOKEN_BAD_COLOR:
		return "colour not valid";
	case TOKEN_EXPIRED:
		return "expired";
	}
	return "?";
}
