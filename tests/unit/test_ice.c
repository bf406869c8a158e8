#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "ice.h"

/* The known credentials below were computed once, independently of this
 * code, with OpenSSL's command line:
 *
 *   printf '%s' '1700086400:Alice' |
 *     openssl dgst -sha1 -hmac 'north-wind-7' -binary | base64
 *   UWuL3eIkmXwQxOiP9HwxN4BQwBg=
 *
 *   printf '%s' '1767225600:Želva' |     (the name in UTF-8)
 *     openssl dgst -sha1 -hmac 'north-wind-7' -binary | base64
 *   SKngWy5dy9JUa5jExU+L7awHKrs=
 *
 * and coturn accepts them: tests/web/turn.test.js has it check real ones. */
#define SECRET "north-wind-7"
#define ALICE_USER "1700086400:Alice"
#define ALICE_CRED "UWuL3eIkmXwQxOiP9HwxN4BQwBg="
#define ZELVA_USER "1767225600:\xc5\xbd" "elva"
#define ZELVA_CRED "SKngWy5dy9JUa5jExU+L7awHKrs="

/* ---- crypto.c: the libcrypto functions, on published vectors ---- */

static void test_hmac_sha1_rfc2202(void **state)
{
	(void)state;
	/* RFC 2202, test case 2. */
	static const unsigned char want[CRYPTO_SHA1_LEN] = {
		0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
		0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79,
	};
	const char data[] = "what do ya want for nothing?";
	unsigned char mac[CRYPTO_SHA1_LEN];
	assert_int_equal(crypto_hmac_sha1("Jefe", 4, data, sizeof data - 1, mac),
	                 0);
	assert_memory_equal(mac, want, sizeof want);
}

static void test_base64_rfc4648(void **state)
{
	(void)state;
	/* RFC 4648, section 10. */
	static const char *const vectors[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
		char out[16];
		const char *in = vectors[i][0];
		assert_int_equal(crypto_base64((const unsigned char *)in,
		                               strlen(in), out, sizeof out), 0);
		assert_string_equal(out, vectors[i][1]);
	}
	/* '+' and '/' of the standard alphabet, not the URL one. */
	static const unsigned char high[] = { 0xfb, 0xff, 0xbf };
	char out[5];
	assert_int_equal(crypto_base64(high, sizeof high, out, sizeof out), 0);
	assert_string_equal(out, "+/+/");
	/* No room for the terminator: refused, never cut. */
	assert_int_equal(crypto_base64(high, sizeof high, out, 4), -1);
}

static void test_random_bytes(void **state)
{
	(void)state;
	unsigned char a[32] = { 0 }, b[32] = { 0 };
	assert_int_equal(crypto_random_bytes(a, sizeof a), 0);
	assert_int_equal(crypto_random_bytes(b, sizeof b), 0);
	assert_memory_not_equal(a, b, sizeof a);
}

/* ---- the credential ---- */

static void test_credential_known_vector(void **state)
{
	(void)state;
	char user[64], cred[ICE_CREDENTIAL_SIZE];
	assert_int_equal(ice_turn_credential(SECRET, "Alice", 1700000000, 86400,
	                                     user, sizeof user, cred), 0);
	assert_string_equal(user, ALICE_USER);
	assert_string_equal(cred, ALICE_CRED);
	assert_int_equal(strlen(cred), 28); /* 20 bytes: 27 characters, one '=' */
}

static void test_credential_utf8_name(void **state)
{
	(void)state;
	char user[64], cred[ICE_CREDENTIAL_SIZE];
	assert_int_equal(ice_turn_credential(SECRET, "\xc5\xbd" "elva",
	                                     1767139200, 86400, user,
	                                     sizeof user, cred), 0);
	assert_string_equal(user, ZELVA_USER);
	assert_string_equal(cred, ZELVA_CRED);
}

static void test_credential_depends_on_everything(void **state)
{
	(void)state;
	char user[64], cred[ICE_CREDENTIAL_SIZE];
	/* Another secret, another expiry, another name: another credential. */
	assert_int_equal(ice_turn_credential("south-wind-7", "Alice", 1700000000,
	                                     86400, user, sizeof user, cred), 0);
	assert_string_equal(user, ALICE_USER);
	assert_string_not_equal(cred, ALICE_CRED);
	assert_int_equal(ice_turn_credential(SECRET, "Alice", 1700000000, 60,
	                                     user, sizeof user, cred), 0);
	assert_string_equal(user, "1700000060:Alice");
	assert_string_not_equal(cred, ALICE_CRED);
	assert_int_equal(ice_turn_credential(SECRET, "Alice1", 1700000000, 86400,
	                                     user, sizeof user, cred), 0);
	assert_string_not_equal(cred, ALICE_CRED);
}

static void test_credential_user_too_small(void **state)
{
	(void)state;
	char user[sizeof ALICE_USER], cred[ICE_CREDENTIAL_SIZE];
	assert_int_equal(ice_turn_credential(SECRET, "Alice", 1700000000, 86400,
	                                     user, sizeof user - 1, cred), -1);
	assert_int_equal(ice_turn_credential(SECRET, "Alice", 1700000000, 86400,
	                                     user, sizeof user, cred), 0);
	assert_string_equal(cred, ALICE_CRED);
}

/* ---- TURN_URLS ---- */

static void test_turn_urls_valid(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"", " , ", "turn:turn.example.org",
		"turn:turn.example.org:3478",
		"turns:turn.example.org:5349?transport=tcp",
		"turn:198.51.100.1:3478?transport=udp",
		"TURN:Turn.Example.ORG",
		"turn:[2001:db8::1]:3478 turns:[::1]",
		"turn:a.example:3478,turn:a.example:3478?transport=tcp\tturns:a.example:443",
		"turn:localhost:65535", "turn:x:1",
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		char err[256] = "";
		if (ice_check_turn_urls(ok[i], err, sizeof err) != 0)
			fail_msg("\"%s\" refused: %s", ok[i], err);
	}
	char err[8];
	assert_int_equal(ice_check_turn_urls(NULL, err, sizeof err), 0);
}

static void test_turn_urls_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"turn.example.org", "stun:turn.example.org",
		"https://turn.example.org", "turn:", "turns:", "turn::3478",
		"turn:host:0", "turn:host:65536", "turn:host:123456", "turn:host:",
		"turn:host:34x", "turn:user@host", "turn://host",
		"turn:host?transport=sctp", "turn:host?transport=udp&x=1",
		"turn:host?", "turn:[2001:db8::1", "turn:[]", "turn:[::1]x",
		"turn:-host", "turn:.host", "turn:h\xc3\xa9st", "turn:host/path",
		"turn:host turn:bad\"quote", "turn:ok.example x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char err[256] = "";
		if (ice_check_turn_urls(bad[i], err, sizeof err) != -1)
			fail_msg("\"%s\" taken", bad[i]);
		assert_non_null(strstr(err, "TURN_URLS"));
		assert_null(strchr(err, '\n'));
	}
	/* The bad word is named. */
	char err[256];
	assert_int_equal(ice_check_turn_urls("turn:a.example stun:b.example",
	                                     err, sizeof err), -1);
	assert_non_null(strstr(err, "\"stun:b.example\""));
}

/* ---- the welcome's fields ---- */

/* What ice_welcome sets in an empty object, as compact JSON. */
static char *welcome_of(const char *stun, const struct ice_turn *turn,
                        const char *name, time_t now)
{
	json_t *w = json_object();
	assert_non_null(w);
	assert_int_equal(ice_welcome(w, stun, turn, name, now), 0);
	char *text = json_dumps(w, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(text);
	json_decref(w);
	return text;
}

static void expect_welcome(const char *stun, const struct ice_turn *turn,
                           const char *name, time_t now, const char *want)
{
	char *got = welcome_of(stun, turn, name, now);
	if (strcmp(got, want) != 0)
		fail_msg("got  %s\nwant %s", got, want);
	free(got);
}

static void test_stun_only(void **state)
{
	(void)state;
	/* As ICE_SERVER_DNS always worked (encode-json-welcome.cases). */
	expect_welcome("", NULL, "Alice", 0, "{\"ice_servers\":[]}");
	expect_welcome(NULL, NULL, "Alice", 0, "{\"ice_servers\":[]}");
	expect_welcome("stun.example.org", NULL, "Alice", 0,
	               "{\"ice_servers\":[{\"urls\":\"stun:stun.example.org\"}]}");
	expect_welcome(" stun.example.org:3478, a.example.org\tstuns:b.example.org:5349 ,",
	               NULL, "Alice", 0,
	               "{\"ice_servers\":[{\"urls\":\"stun:stun.example.org:3478\"},"
	               "{\"urls\":\"stun:a.example.org\"},"
	               "{\"urls\":\"stuns:b.example.org:5349\"}]}");
	/* A word that is no text is left out, not sent repaired. */
	expect_welcome("bad\xff.example ok.example", NULL, "Alice", 0,
	               "{\"ice_servers\":[{\"urls\":\"stun:ok.example\"}]}");
}

static void test_stun_and_turn(void **state)
{
	(void)state;
	const struct ice_turn turn = {
		.urls = "turn:turn.example.org:3478?transport=udp, "
		        "turns:turn.example.org:5349",
		.secret = SECRET, .ttl = 86400,
	};
	expect_welcome("stun.example.org", &turn, "Alice", 1700000000,
	               "{\"ice_servers\":[{\"urls\":\"stun:stun.example.org\"},"
	               "{\"urls\":[\"turn:turn.example.org:3478?transport=udp\","
	               "\"turns:turn.example.org:5349\"],"
	               "\"username\":\"" ALICE_USER "\","
	               "\"credential\":\"" ALICE_CRED "\"}]}");
	/* Without STUN, one URL: still a list. */
	const struct ice_turn one = {
		.urls = "turn:198.51.100.1:3478", .secret = SECRET, .ttl = 86400,
	};
	expect_welcome("", &one, "\xc5\xbd" "elva", 1767139200,
	               "{\"ice_servers\":[{\"urls\":[\"turn:198.51.100.1:3478\"],"
	               "\"username\":\"" ZELVA_USER "\","
	               "\"credential\":\"" ZELVA_CRED "\"}]}");
}

/* The credential is made at each welcome, from its own clock. */
static void test_turn_expiry_follows_now(void **state)
{
	(void)state;
	const struct ice_turn turn = {
		.urls = "turn:t.example", .secret = SECRET, .ttl = 600,
	};
	char *a = welcome_of("", &turn, "Bob", 1000000000);
	char *b = welcome_of("", &turn, "Bob", 1000000001);
	assert_non_null(strstr(a, "\"username\":\"1000000600:Bob\""));
	assert_non_null(strstr(b, "\"username\":\"1000000601:Bob\""));
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_relay_policy(void **state)
{
	(void)state;
	struct ice_turn turn = {
		.urls = "turn:t.example", .secret = SECRET, .ttl = 86400,
		.relay_only = true,
	};
	char *text = welcome_of("", &turn, "Alice", 1700000000);
	json_t *w = json_loads(text, 0, NULL);
	assert_non_null(w);
	assert_string_equal(json_string_value(json_object_get(w, "ice_transport_policy")),
	                    "relay");
	/* after ice_servers */
	assert_true(strstr(text, "\"ice_transport_policy\"") >
	            strstr(text, "\"ice_servers\""));
	json_decref(w);
	free(text);
	turn.relay_only = false;
	text = welcome_of("", &turn, "Alice", 1700000000);
	assert_null(strstr(text, "ice_transport_policy"));
	free(text);
}

static void test_turn_without_usable_urls(void **state)
{
	(void)state;
	/* TURN_URLS is checked at config load; what still is no URL here is
	 * left out, and no entry without URLs is sent. */
	const struct ice_turn turn = {
		.urls = " , stun:x.example", .secret = SECRET, .ttl = 86400,
	};
	expect_welcome("s.example", &turn, "Alice", 1,
	               "{\"ice_servers\":[{\"urls\":\"stun:s.example\"}]}");
}

static void test_welcome_null(void **state)
{
	(void)state;
	assert_int_equal(ice_welcome(NULL, "s.example", NULL, "Alice", 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_sha1_rfc2202),
		cmocka_unit_test(test_base64_rfc4648),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_credential_known_vector),
		cmocka_unit_test(test_credential_utf8_name),
		cmocka_unit_test(test_credential_depends_on_everything),
		cmocka_unit_test(test_credential_user_too_small),
		cmocka_unit_test(test_turn_urls_valid),
		cmocka_unit_test(test_turn_urls_invalid),
		cmocka_unit_test(test_stun_only),
		cmocka_unit_test(test_stun_and_turn),
		cmocka_unit_test(test_turn_expiry_follows_now),
		cmocka_unit_test(test_relay_policy),
		cmocka_unit_test(test_turn_without_usable_urls),
		cmocka_unit_test(test_welcome_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
