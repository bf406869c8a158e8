#include "ice.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

/* ICE_SERVER_DNS and TURN_URLS are lists of words separated by these. */
#define SEPARATORS " ,\t"

/* The next word of *p, or 0 at the end; *p is moved past it. */
static size_t next_word(const char **p, const char **word)
{
	*p += strspn(*p, SEPARATORS);
	size_t n = strcspn(*p, SEPARATORS);
	*word = *p;
	*p += n;
	return n;
}

/* Whether p[0..n) is exactly s. */
static bool strcmp_n(const char *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

static bool has_prefix(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && strncasecmp(p, prefix, k) == 0;
}

/* The length of the host at p (n bytes left): a bracketed IPv6 address,
 * or a name or IPv4 address of letters, digits, '.' and '-' that starts
 * with neither; 0 when there is none. */
static size_t host_len(const char *p, size_t n)
{
	size_t i = 0;
	if (n > 0 && p[0] == '[') {
		for (i = 1; i < n && (isxdigit((unsigned char)p[i]) || p[i] == ':' ||
		                      p[i] == '.'); i++)
			;
		return i > 1 && i < n && p[i] == ']' ? i + 1 : 0;
	}
	while (i < n && (isalnum((unsigned char)p[i]) || p[i] == '.' || p[i] == '-'))
		i++;
	return i > 0 && p[0] != '-' && p[0] != '.' ? i : 0;
}

/* The length of ":<port>" at p, 1 to 65535; 0 when there is none, and
 * SIZE_MAX when it is there but bad. */
static size_t port_len(const char *p, size_t n)
{
	if (n == 0 || p[0] != ':')
		return 0;
	long port = 0;
	size_t i = 1;
	for (; i < n && i <= 5 && isdigit((unsigned char)p[i]); i++)
		port = port * 10 + (p[i] - '0');
	return i > 1 && port >= 1 && port <= 65535 ? i : SIZE_MAX;
}

/* turn:<host>[:<port>][?transport=udp|tcp], or turns: (RFC 7065). */
static bool turn_url_ok(const char *p, size_t n)
{
	size_t i = has_prefix(p, n, "turn:") ? 5 : has_prefix(p, n, "turns:") ? 6 : 0;
	size_t host = i ? host_len(p + i, n - i) : 0;
	if (host == 0)
		return false;
	i += host;
	size_t port = port_len(p + i, n - i);
	if (port == SIZE_MAX)
		return false;
	i += port;
	return i == n || strcmp_n(p + i, n - i, "?transport=udp") ||
	       strcmp_n(p + i, n - i, "?transport=tcp");
}

int ice_check_turn_urls(const char *urls, char *err, size_t errsz)
{
	const char *word;
	size_t n;
	for (const char *p = urls ? urls : ""; (n = next_word(&p, &word));) {
		if (turn_url_ok(word, n))
			continue;
		snprintf(err, errsz, "config key TURN_URLS: \"%.*s\" is not a "
		         "turn: or turns: URL (turn:HOST[:PORT][?transport=udp|tcp])",
		         n > 60 ? 60 : (int)n, word);
		return -1;
	}
	return 0;
}

int ice_turn_credential(const char *secret, const char *name, time_t now,
                        int ttl, char *user, size_t usersz,
                        char cred[ICE_CREDENTIAL_SIZE])
{
	int len = snprintf(user, usersz, "%lld:%s", (long long)now + ttl, name);
	if (len < 0 || (size_t)len >= usersz)
		return -1;
	unsigned char mac[CRYPTO_SHA1_LEN];
	if (crypto_hmac_sha1(secret, strlen(secret), user, (size_t)len, mac) < 0)
		return -1;
	return crypto_base64(mac, sizeof mac, cred, ICE_CREDENTIAL_SIZE);
}

/* A word of ICE_SERVER_DNS as a STUN URL: a host or host:port gets
 * "stun:" in front, a stun: or stuns: URL stays as it is (as the old pages
 * used the key).  NULL for a word that is no text (not UTF-8, control
 * characters), which is left out, or when out of memory. */
static json_t *stun_url(const char *p, size_t n)
{
	if (!text_is_utf8(p, n))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return NULL;
	if (has_prefix(p, n, "stun:") || has_prefix(p, n, "stuns:"))
		return json_stringn_nocheck(p, n);
	return n > INT_MAX ? NULL : json_sprintf("stun:%.*s", (int)n, p);
}

/* jansson's *_new functions take value whether they succeed or not
 * (NULL: nothing to take), so these never leave it to the caller. */
static bool append(json_t *list, json_t *value)
{
	return json_array_append_new(list, value) == 0;
}

static bool set(json_t *obj, const char *key, json_t *value)
{
	return json_object_set_new_nocheck(obj, key, value) == 0;
}

/* The TURN entry: {"urls":[...],"username":...,"credential":...}; *entry
 * stays NULL when there is none to give (no URL, no credential). */
static int turn_entry(const struct ice_turn *turn, const char *name,
                      time_t now, json_t **entry)
{
	*entry = NULL;
	json_t *urls = json_array();
	if (!urls)
		return -1;
	const char *word;
	size_t n;
	for (const char *p = turn->urls ? turn->urls : "";
	     (n = next_word(&p, &word));) {
		if (turn_url_ok(word, n) &&
		    !append(urls, json_stringn_nocheck(word, n))) {
			json_decref(urls);
			return -1;
		}
	}
	if (json_array_size(urls) == 0) {
		json_decref(urls);
		return 0;
	}
	size_t usersz = strlen(name) + 32;
	char *user = malloc(usersz);
	char cred[ICE_CREDENTIAL_SIZE];
	if (!user || ice_turn_credential(turn->secret ? turn->secret : "", name,
	                                 now, turn->ttl, user, usersz,
	                                 cred) < 0) {
		if (user)
			fprintf(stderr, "chat_server: no TURN credential for this "
			                "connection: libcrypto cannot be used\n");
		json_decref(urls);
		int rc = user ? 0 : -1;
		free(user);
		return rc;
	}
	json_t *e = json_object();
	bool ok = set(e, "urls", urls) && set(e, "username", json_string(user)) &&
	          set(e, "credential", json_string_nocheck(cred));
	free(user);
	if (!ok) {
		json_decref(e);
		return -1;
	}
	*entry = e;
	return 0;
}

int ice_welcome(json_t *welcome, const char *stun, const struct ice_turn *turn,
                const char *name, time_t now)
{
	json_t *list = json_array();
	if (!welcome || !list) {
		json_decref(list);
		return -1;
	}
	const char *word;
	size_t n;
	for (const char *p = stun ? stun : ""; (n = next_word(&p, &word));) {
		json_t *url = stun_url(word, n);
		if (!url)
			continue; /* no text, or out of memory: left out */
		json_t *server = json_object();
		bool ok = set(server, "urls", url);
		if (!ok)
			json_decref(server);
		if (!ok || !append(list, server)) {
			json_decref(list);
			return -1;
		}
	}
	json_t *entry = NULL;
	if (turn && (turn_entry(turn, name ? name : "", now, &entry) < 0 ||
	             (entry && !append(list, entry)))) {
		json_decref(list);
		return -1;
	}
	if (!set(welcome, "ice_servers", list))
		return -1;
	if (turn && turn->relay_only &&
	    !set(welcome, "ice_transport_policy", json_string_nocheck("relay")))
		return -1;
	return 0;
}
