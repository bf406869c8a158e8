/* ice: the WebRTC ICE servers a JSON client is told of in its welcome.
 *
 * The browser's RTCPeerConnection gets them as its iceServers: first one
 * STUN server per word of ICE_SERVER_DNS, then, with TURN_URLS set, one
 * entry for the TURN servers with a credential of its own, made for this
 * connection in coturn's "TURN REST API" form (coturn's use-auth-secret):
 *
 *   username    "<expiry>:<name>", expiry = now + TURN_TTL in Unix seconds,
 *               name the user's final name in the room
 *   credential  base64 (standard, padded) of HMAC-SHA1(secret, username)
 *
 * The TURN server, which knows the same secret, recomputes the credential
 * from the username and refuses it once the expiry has passed; nothing is
 * stored on either side.  With ICE_TRANSPORT_POLICY=relay the welcome also
 * says "ice_transport_policy":"relay", and the client then uses the TURN
 * relays only (never a direct path, which shows the peers each other's
 * addresses).  See docs/configuration.md and docs/protocol.md. */
#ifndef CHAT_ICE_H
#define CHAT_ICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "crypto.h"

/* The TURN keys of the config, for a welcome. */
struct ice_turn {
	const char *urls;   /* TURN_URLS, checked by ice_check_turn_urls */
	const char *secret; /* TURN_SECRET, or what TURN_SECRET_FILE holds */
	int ttl;            /* TURN_TTL: seconds the credential is valid */
	bool relay_only;    /* ICE_TRANSPORT_POLICY = relay */
};

/* The credential's size: the base64 of a SHA-1, and its NUL. */
#define ICE_CREDENTIAL_SIZE (4 * ((CRYPTO_SHA1_LEN + 2) / 3) + 1)

/* Checks a TURN_URLS value: words separated by spaces or commas, each
 *   turn:<host>[:<port>][?transport=udp|tcp]    (or turns:)
 * with <host> a name, an IPv4 address or a bracketed IPv6 address, and a
 * port from 1 to 65535 (RFC 7065).  Returns 0, or -1 with a one-line
 * reason naming TURN_URLS in err.  An empty value (no word) is valid. */
int ice_check_turn_urls(const char *urls, char *err, size_t errsz);

/* coturn's REST credential for name at now: the username
 * "<now + ttl>:<name>" into user (usersz bytes) and the credential into
 * cred (ICE_CREDENTIAL_SIZE bytes).  Returns 0, or -1 when user is too
 * small or libcrypto cannot be had. */
int ice_turn_credential(const char *secret, const char *name, time_t now,
                        int ttl, char *user, size_t usersz,
                        char cred[ICE_CREDENTIAL_SIZE]);

/* Sets "ice_servers" (and, for relay_only, "ice_transport_policy") in the
 * welcome object: stun is ICE_SERVER_DNS ("" or NULL: no STUN), turn the
 * TURN keys (NULL, or no URLs: no TURN), name the user's final name.
 * When no credential can be made (libcrypto missing), the TURN entry is
 * left out and a line goes to stderr.  Returns 0, or -1 when out of
 * memory (welcome NULL included). */
int ice_welcome(json_t *welcome, const char *stun, const struct ice_turn *turn,
                const char *name, time_t now);

#endif
